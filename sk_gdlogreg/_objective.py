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
any block of rows: the in-memory objective below calls it on the whole data or
on cache-sized blocks of rows in threads (``_blocks.py``), the Dask backend on
each chunk. The lecture's explicit loops (``lecture.py``) compute the same
numbers, and the tests hold the two against each other.

This module knows nothing of estimators or labels: arrays in, numbers out.
"""

import numpy as np
import scipy.sparse as sp

from . import _blocks

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
    """``a @ b``; by ``np.dot`` for NumPy arrays, the same numbers.

    ``np.matmul`` keeps the GIL while it computes a small output (``dz^T X`` of
    a binary model: one row), so the threads of a pass (``_blocks.py``) would
    wait for each other there; ``np.dot`` releases it.
    """
    if type(a) is np.ndarray and type(b) is np.ndarray:
        return np.dot(a, b)
    return a @ b  # SciPy sparse, or another Array API namespace


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
        log_a = log_softmax(z, xp)
        loss = -xp.sum(Y * log_a, axis=1)
        dz = xp.exp(log_a) - Y
    J = float(xp.sum(sw * loss))
    # backward pass
    dz = dz * sw[:, None]
    dW = _product(dz.T, X)
    if not fit_intercept:
        return J, dW
    return J, xp.concat([dW, xp.sum(dz, axis=0)[:, None]], axis=1)


_GRAM_ROWS = 2048  # rows of the sample per block of the curvature matrix's product


def _curvature_weights(X, sw, coef, fit_intercept, floor):
    """omega_i of ``curvature_gram`` for the rows of X: sw_i times the log-loss's
    curvature at row i, at least ``floor / 4`` times sw_i."""
    with np.errstate(over="ignore", invalid="ignore"):  # huge logits: a is exactly 0 or 1
        z = logits(X, coef, fit_intercept)
        if coef.shape[0] == 1:
            a = sigmoid(z[:, 0])
            curvature = a * (1 - a)
        else:
            p = np.exp(log_softmax(z))
            curvature = np.mean(p * (1 - p), axis=1)
    return sw * np.maximum(np.nan_to_num(curvature), floor * 0.25)


def curvature_gram(X, sw, coef, fit_intercept, max_rows, floor=0.0):
    """The Hessian of the data term at ``coef`` for one row of coefficients, as (Hn, c).

    ``H = [X 1]^T diag(omega) [X 1] = diag(c) Hn diag(c)``, with c the largest
    absolute value of each column of ``[X 1]``: Hn is computed on columns scaled
    to at most 1, so it stays in range whatever the units of X. omega_i is
    sw_i a_i (1 - a_i) for the sigmoid; for the softmax, the mean over the
    classes of sw_i p_ik (1 - p_ik), one matrix shared by every class (the
    diagonal blocks of the Hessian, averaged); both at least ``floor / 4``
    times sw_i. At most ``max_rows`` evenly spaced rows are used, reweighted to
    stand for all of them. NumPy, dense X.
    """
    m, n_features = X.shape
    stride = max(1, -(-m // max_rows))
    Xs, sws = X[::stride], sw[::stride] * (np.sum(sw) / np.sum(sw[::stride]))
    coef = coef.astype(Xs.dtype)  # no float64 copy of float32 X
    # In blocks of rows, so that no copy of the sample is ever whole: Xs is a
    # strided view of X, which a product copies contiguous first (16 MB for
    # 20,000 x 100 float64). The column scales first, then the sum of the
    # blocks' products.
    blocks = [slice(i, i + _GRAM_ROWS) for i in range(0, Xs.shape[0], _GRAM_ROWS)]
    c = np.zeros(n_features + int(fit_intercept))
    c[n_features:] = 1.0  # the intercept's column of ones
    for rows in blocks:
        c[:n_features] = np.maximum(c[:n_features], np.max(np.abs(Xs[rows]), axis=0))
    c = np.where(c > 0, c, 1.0)
    Hn = np.zeros((c.shape[0], c.shape[0]))
    for rows in blocks:
        omega = _curvature_weights(Xs[rows], sws[rows], coef, fit_intercept, floor)
        Xn = Xs[rows] / c[:n_features]  # a new float64 array: X itself is never written
        if fit_intercept:
            Xn = np.hstack([Xn, np.ones((Xn.shape[0], 1))])
        Hn += (Xn * omega[:, None]).T @ Xn
    return Hn, c


class Objective:
    """J(coef) = a data term + (l2 / 2) ||W||^2, the intercept never penalized.

    ``data`` computes the data term: ``data.loss_grad(coef) -> (J, grad)`` and
    the attributes ``n_outputs``, ``n_features``, ``fit_intercept``, ``dtype``,
    ``xp`` and ``device``. The backends provide it: ``InMemoryData`` below,
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

    def curvature(self, coef, max_rows, floor=0.0):
        """The Hessian (estimate) of J for one row of coefficients as (Hn, c), or None.

        Available for dense NumPy data (``data.dense_rows()``): see
        ``curvature_gram``; the L2 term adds ``l2`` on the feature diagonal of H.
        """
        rows = self.data.dense_rows()
        if rows is None:
            return None
        X, sw = rows
        Hn, c = curvature_gram(
            X, sw, np.asarray(coef, np.float64), self.fit_intercept, max_rows, floor
        )
        idx = np.arange(self.n_features)
        with np.errstate(over="ignore"):  # l2 / c^2: c^2 may underflow, the ratio overflow
            ridge = (self.l2**0.5 / c[idx]) ** 2
        Hn[idx, idx] += np.minimum(ridge, np.finfo(np.float64).max)
        return Hn, c


class Data:
    """What every data term knows about its data: sizes, dtype, namespace, device."""

    def __init__(self, X, n_classes, fit_intercept, xp):
        self.n_outputs = 1 if n_classes == 2 else n_classes
        self.n_features = X.shape[1]
        self.fit_intercept = fit_intercept
        self.dtype = X.dtype
        self.xp = xp
        self.device = "cpu" if xp is np else X.device

    def dense_rows(self):
        """(X, normalized weights) where X is a dense NumPy array in memory, else None:
        what the curvature matrix of whitened coordinates needs."""
        return None


class InMemoryData(Data):
    """The data term on in-memory data, vectorized.

    Parameters
    ----------
    X : array of shape (m, n_features)
        NumPy array, SciPy sparse matrix, or an array of any Array API namespace.
    y : array of shape (m,)
        Class indices 0 .. n_classes-1, in X's namespace and device.
    sample_weight : array of shape (m,)
        Non-negative weights s_i (sample weight times class weight), not normalized.
    n_classes : int
    fit_intercept : bool
    xp : namespace, default=numpy
    n_threads : int, default=None
        Threads over blocks of rows (dense NumPy X only); None: as many as the
        environment allows (``_blocks.default_n_threads``).
    """

    def __init__(self, X, y, sample_weight, n_classes, fit_intercept, xp=np, n_threads=None):
        super().__init__(X, n_classes, fit_intercept, xp)
        self.X = X
        self.Y = targets(y, n_classes, X.dtype, xp)
        self.sw = sample_weight / xp.sum(sample_weight)
        self.blocked = xp is np and not sp.issparse(X)
        if n_threads is None:
            many = self.blocked and _blocks.n_blocks(X) > 1
            n_threads = _blocks.default_n_threads() if many else 1
        self.n_threads = n_threads

    def dense_rows(self):
        """(X, normalized weights) when X is a dense NumPy array, else None."""
        return (self.X, self.sw) if self.blocked else None

    def loss_grad(self, coef):
        if self.blocked:
            return _blocks.over_rows(
                data_term, self.X, self.Y, self.sw, coef, self.fit_intercept, self.n_threads
            )
        return data_term(self.X, self.Y, self.sw, coef, self.fit_intercept, self.xp)
