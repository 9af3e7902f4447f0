"""The cost J and its gradient, defined once for every kind of input.

The lecture's vectorized iteration, extended to sample weights, several classes
and an L2 penalty::

    z  = X W^T + b                 forward pass: one row of logits per example
    a  = sigma(z) or softmax(z)    the predicted probabilities
    L_i = -log a_i[y_i]            the log-loss of example i
    J  = sum_i sw_i L_i + (l2 / 2) ||W||^2
    dz = sw * (a - Y)              backward pass (Y: 0/1 labels, or one-hot rows)
    dW = dz^T X,   db = sum_i dz_i

``sw`` are the sample weights divided by their sum S, so with unit weights
``J = (1/m) sum_i L_i`` exactly as in the lecture, and dW, db are the lecture's
averaged accumulators. The L1 part of the penalty is not smooth: a proximal step
handles it (``_penalty.py``).

Coefficient layout, as in scikit-learn's ``LinearModelLoss``: ``coef`` has shape
``(K, n_features + fit_intercept)``, intercept in the last column. ``K = 1`` is the
binary model (sigmoid; the positive class is class 1), ``K > 1`` the multinomial
one (softmax).

``data_term`` is the one function that computes J and its gradient. It takes
arrays of any Array API namespace ``xp`` (NumPy, SciPy sparse, PyTorch, ...) and
any block of rows: the in-memory data term (``_backends.InMemoryData``) calls it
on the whole data or on cache-sized blocks of rows in threads (``_blocks.py``),
the Dask backend on each chunk. The lecture's explicit loops (``lecture.py``) compute the same
numbers, and the tests hold the two against each other. Two faster passes
compute the same numbers where they apply, with ``data_term`` as their
reference: ``softmax_data_term`` (more than two classes on NumPy or SciPy
data, the element-wise part by scikit-learn's compiled loss),
``binary_data_term`` (two classes on dense NumPy X: the same operations with
fewer arrays) and the compiled loops of ``_kernel.py`` (two classes, dense X in
C order, where the C extension is built).

This module knows nothing of estimators or labels: arrays in, numbers out.
"""

import abc
import functools

import numpy as np
import scipy.sparse as sp

from ._sklearn import HalfMultinomialLoss

# Stable element-wise functions, for any namespace ``xp``. They use
# max(z, 0) = (z + |z|) / 2 and e = exp(-|z|) in (0, 1], which never overflows:
# no warning and no NaN for any finite z. ``e`` may be passed in when the
# caller already has it (one exp serves both the loss and the sigmoid).


def _exp_minus_abs(z, xp):
    return xp.exp(-xp.abs(z))


def softplus(z, xp=np, e=None):
    """log(1 + exp(z))."""
    e = _exp_minus_abs(z, xp) if e is None else e
    return (z + xp.abs(z)) / 2 + xp.log1p(e)


def sigmoid(z, xp=np, e=None):
    """1 / (1 + exp(-z)), accurate on both tails."""
    e = _exp_minus_abs(z, xp) if e is None else e
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e))


def log_softmax(z, xp=np):
    """log(softmax(z)) along the rows of z."""
    z = z - xp.max(z, axis=1, keepdims=True)  # shift: exp never overflows
    return z - xp.log(xp.sum(xp.exp(z), axis=1, keepdims=True))


def targets(y, n_classes, dtype, xp=np):
    """The labels as the objective uses them, from class indices 0 .. n_classes-1.

    Binary: 0/1 in X's dtype (y of class 1 is the positive class). Multinomial:
    one-hot rows, since fancy indexing is not part of the Array API standard.
    """
    if n_classes == 2:
        return xp.astype(y == 1, dtype)
    return xp.astype(y[:, None] == xp.arange(n_classes, device=y.device), dtype)


def _product(a, b):
    """``a @ b``; by ``np.dot`` for NumPy arrays stored whole in C or F order.

    ``np.matmul`` keeps the GIL while it computes a small output (``dz^T X`` of
    a binary model: one row), so the threads of a pass (``_blocks.py``) would
    wait for each other there; ``np.dot`` releases it. But ``np.dot`` copies an
    array that is neither, such as a block of rows of X in F order (a pandas
    DataFrame's values) or the strided rows of the whitening's sample, and the
    copy is a transposition: measured on the blocks of a 50,000 x 100 F-ordered
    X, 6.8 ms a product against 1.4 ms by ``np.matmul``, which reads them as
    they are. (A small operand, such as the coefficients' columns, is copied.)
    """
    if type(a) is np.ndarray and type(b) is np.ndarray:
        if _copied_cheaply(a) and _copied_cheaply(b):
            return np.dot(a, b)
        return np.matmul(a, b)
    return a @ b  # SciPy sparse, or another Array API namespace


def _copied_cheaply(a):
    """Whether ``np.dot`` takes NumPy array ``a`` at no real cost: stored whole in C or
    F order (no copy), or small."""
    return a.flags.c_contiguous or a.flags.f_contiguous or a.size <= 2**16


def logits(X, coef, fit_intercept):
    """The forward pass: ``z = X W^T + b``, one row of K logits per example."""
    n_features = X.shape[1]
    z = _product(X, coef[:, :n_features].T)
    if fit_intercept:
        z = z + coef[:, n_features]
    return z


def data_term(X, Y, sw, coef, fit_intercept, xp=np):
    """J = sum_i sw_i L_i (no penalty) and its gradient with respect to ``coef``.

    ``Y`` as made by ``targets``; ``sw`` the sample weights divided by their sum.
    Returns J as a Python float (the one number that crosses to the host) and
    the gradient, shaped like ``coef``, on X's device.
    """
    z = logits(X, coef, fit_intercept)  # forward pass
    if coef.shape[0] == 1:
        # With q = 1 - 2y = +-1: L = softplus(q z) and a - y = q sigmoid(q z).
        # Every term is then a sum of non-negative parts, accurate relative to
        # its size even when all losses are ~1e-15 (softplus(z) - y z cancels).
        q = 1 - 2 * Y
        qz = q * z[:, 0]
        e = _exp_minus_abs(qz, xp)
        loss = softplus(qz, xp, e)
        dz = (q * sigmoid(qz, xp, e))[:, None]
    else:
        # L = log(sum_k exp(z_k)) - z_y, with one exp per logit (shifted: no overflow)
        top = xp.max(z, axis=1, keepdims=True)
        e = xp.exp(z - top)
        total = xp.sum(e, axis=1, keepdims=True)
        loss = (xp.log(total) + top)[:, 0] - xp.sum(Y * z, axis=1)
        dz = e / total - Y
    J = float(xp.sum(sw * loss))
    # backward pass
    dz = dz * sw[:, None]
    dW = _product(dz.T, X)
    if not fit_intercept:
        return J, dW
    return J, xp.concat([dW, xp.sum(dz, axis=0)[:, None]], axis=1)


def sample_stride(n_samples, max_rows):
    """Every how many rows the sample takes one, for at most ``max_rows`` rows."""
    return max(1, -(-n_samples // max_rows))


class Objective:
    """J(coef) = a data term + (l2 / 2) ||W||^2, the intercept never penalized.

    ``data`` computes the data term: ``data.loss_grad(coef) -> (J, grad)`` and
    the attributes ``n_outputs``, ``n_features``, ``fit_intercept``, ``dtype``,
    ``xp`` and ``device``. The backends provide it: ``InMemoryData`` and
    ``LoopData`` (the lecture's loops) in ``_backends.py``, the Dask one in
    ``_dask.py``.
    """

    def __init__(self, data, l2):
        self.data, self.l2 = data, l2
        self.n_outputs, self.n_features = data.n_outputs, data.n_features
        self.fit_intercept = data.fit_intercept
        self.dtype, self.xp, self.device = data.dtype, data.xp, data.device

    @property
    def coef_shape(self):
        return (self.n_outputs, self.n_features + int(self.fit_intercept))

    def loss_grad(self, coef):
        J, grad = self.data.loss_grad(coef)
        if self.l2:
            W = coef[:, : self.n_features]
            J += 0.5 * self.l2 * float(self.xp.sum(W * W))
            grad[:, : self.n_features] += self.l2 * W
        return J, grad

    def curvature(self, coef, max_rows, floor=0.0, blocks="shared"):
        """The Hessian (estimate) of J for one row of coefficients, as (Hn, c), or None.

        ``H = diag(c) Hn diag(c)``: the data term's on a sample of at most
        ``max_rows`` evenly spaced rows (``curvature_of_rows``), plus ``l2`` on the
        feature diagonal; for the softmax with ``blocks="class"``, a stack of one
        such matrix per class (the diagonal blocks of its Hessian), with
        ``blocks="joint"`` all its K x K blocks (the L2 term on the diagonal ones).
        None when the sampled rows all weigh 0.
        """
        stride = sample_stride(self.data.n_samples, max_rows)
        Hn, c, weight = self.data.curvature(coef, stride, floor, blocks)
        if not weight > 0:
            return None
        xp = self.xp
        Hn = Hn / weight  # the sample stands for all the rows, whose weights sum to 1
        n = self.n_features
        # A column of values so small that l2 / c^2 would overflow (a constant 1e-200,
        # say): in units of sqrt(l2) instead, where the L2 term is 1 and the data's part,
        # under c^2 / l2 of it, underflows harmlessly. Clipped at the float maximum, the
        # L2 term was understated (1e88-fold for a constant 1e-200, C=1, 3,000 rows):
        # the whitened steps stalled 7e-3 above the optimum.
        least = self.l2**0.5 * 1e3 / float(xp.finfo(c.dtype).max) ** 0.5
        if bool(xp.any(c < least)):  # (the intercept's c is 1)
            r = xp.where(c < least, c / self.l2**0.5, xp.ones_like(c))  # the old c over the new
            Hn = Hn * r[:, None] * r[None, :]  # (on the last two axes of a stack too)
            c = c / r
        ridge = xp.zeros_like(c)
        ridge[:n] = (self.l2**0.5 / c[:n]) ** 2
        eye = xp.eye(c.shape[0], dtype=c.dtype, device=self.device)
        if Hn.ndim == 4:  # the whole softmax Hessian: the L2 term on its diagonal blocks
            classes = xp.eye(Hn.shape[0], dtype=c.dtype, device=self.device)
            return Hn + classes[:, :, None, None] * (eye * ridge[None, :]), c
        return Hn + eye * ridge[None, :], c


class DataTerm(abc.ABC):
    """The protocol of a data term: what every container (in-memory, the lecture's loops,
    Dask) provides, so that every container takes the same path.

    Attributes: ``n_samples``, ``n_stored`` (the values a pass reads), ``n_outputs``
    (1 for two classes, K for K > 2),
    ``n_features``, ``fit_intercept``, ``dtype``, ``xp`` and ``device`` (of the
    coefficients and gradients). The column statistics of X (weighted means and
    standard deviations) come with it in the backend's ``FitData``.
    """

    def __init__(self, X, n_classes, fit_intercept, xp):
        self.n_samples = X.shape[0]
        # the values a pass reads: the non-zeros of a sparse matrix, every entry else
        self.n_stored = X.nnz if sp.issparse(X) else X.shape[0] * X.shape[1]
        self.n_outputs = 1 if n_classes == 2 else n_classes
        self.n_features = X.shape[1]
        self.fit_intercept = fit_intercept
        self.dtype = X.dtype
        self.xp = xp
        self.device = "cpu" if xp is np else X.device

    @abc.abstractmethod
    def loss_grad(self, coef):
        """``(J, grad)``: J (a Python float, no penalty) and its gradient, shaped like coef."""

    @abc.abstractmethod
    def curvature(self, coef, stride, floor, blocks="shared"):
        """``(Hn, c, weight)`` of the rows 0, stride, 2 stride, ... (see ``curvature_block``)."""


def compiled_data_term(X, xp=np, n_classes=2):
    """``_kernel.data_term`` (the C extension) where it applies to X, else None.

    Two classes, dense NumPy X in C order, float32 or float64, aligned (an array
    received over a network may not be), with the extension built
    (``_kernel.AVAILABLE``).
    """
    from . import _kernel

    return _kernel.data_term if n_classes == 2 and xp is np and _kernel.applies(X) else None


def binary_data_term(X, q, sw, coef, fit_intercept):
    """``data_term``'s J and gradient for two classes on dense NumPy X, with
    ``q = 1 - 2 Y`` (+1 or -1 per row, in X's dtype) for the labels.

    The same operations in the same order, so the same numbers to the last bit,
    with q computed once per fit instead of once per pass and the element-wise
    steps written into a few arrays instead of a dozen new ones. Measured per
    call, one thread: 569 x 30 37 us against 55 (a small table's pass is mostly
    the cost of NumPy calls), 50,000 x 100 in blocks 0.92 times the time.
    """
    n_features = X.shape[1]
    z = _product(X, coef[0, :n_features])  # forward pass
    if fit_intercept:
        z += coef[0, n_features]
    qz = np.multiply(q, z, out=z)
    loss = np.abs(qz)
    e = np.negative(loss)
    np.exp(e, out=e)
    loss += qz  # softplus(qz) = max(qz, 0) + log1p(e), max(qz, 0) = (qz + |qz|) / 2
    loss /= 2
    loss += np.log1p(e)
    J = float(np.sum(np.multiply(sw, loss, out=loss)))
    denominator = np.add(1, e, out=loss)
    numerator = np.maximum(e, qz >= 0, out=e)  # 1 where qz >= 0 (e <= 1 there), else e
    dz = np.divide(numerator, denominator, out=e)  # sigmoid(qz)
    dz *= q
    dz *= sw  # backward pass
    grad = np.empty((1, n_features + int(fit_intercept)), dtype=coef.dtype)
    grad[0, :n_features] = _product(dz, X)
    if fit_intercept:
        grad[0, n_features] = np.sum(dz)
    return J, grad


def binary_applies(X, xp, n_classes):
    """Whether ``binary_data_term`` computes the data term of X."""
    return n_classes == 2 and xp is np and type(X) is np.ndarray


@functools.cache
def _softmax_loss(n_classes):
    return HalfMultinomialLoss(n_classes=n_classes)


def softmax_data_term(X, y, sw, coef, fit_intercept):
    """``data_term``'s J and gradient for K > 2 classes on NumPy (or SciPy sparse) X.

    ``y`` holds the class indices and ``sw`` the normalized weights, both in the
    logits' dtype. The loss and ``dz`` come from scikit-learn's compiled
    multinomial loss: one loop over the logits, where the NumPy expressions of
    ``data_term`` make about ten passes over them, the same formulas (the
    log-sum-exp shifted by the largest logit). Measured per call, one thread:
    120 x 4 with 3 classes 0.012 ms against 0.052, 40,000 x 60 with 10 classes
    13 ms against 26 (the two products included).
    """
    z = logits(X, coef, fit_intercept)  # forward pass
    loss, dz = np.empty(z.shape[0], dtype=z.dtype), np.empty_like(z)
    _softmax_loss(z.shape[1]).loss_gradient(y, z, sw, loss_out=loss, gradient_out=dz)
    dW = _product(dz.T, X)  # backward pass
    if not fit_intercept:
        return float(np.sum(loss)), dW
    return float(np.sum(loss)), np.concatenate([dW, np.sum(dz, axis=0)[:, None]], axis=1)


def softmax_applies(X, xp, n_classes):
    """Whether ``softmax_data_term`` computes the data term of X."""
    return (
        HalfMultinomialLoss is not None
        and n_classes > 2
        and xp is np
        and X.dtype in (np.float32, np.float64)
    )
