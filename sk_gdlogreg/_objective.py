"""The lecture's cost J and its gradient, vectorized.

Notation (the lecture's, extended to weights, several classes and a penalty):

    z = X W^T + b               forward pass, one row of logits per example
    a = sigma(z) or softmax(z)  predicted probabilities
    L_i = -log a_i[y_i]         the log-loss of example i
    J = sum_i sw_i L_i + l2/2 ||W||^2
    dz = sw * (a - Y)           backward pass (Y: 0/1 labels or one-hot rows)
    dW = dz^T X,  db = sum_i dz_i

``sw`` are the sample weights divided by their sum S, so that with unit weights
``J = (1/m) sum_i L_i`` exactly as in the lecture, and ``dW``, ``db`` are the
lecture's averaged accumulators. The L1 part of the penalty is not smooth and is
handled by a proximal step (``_penalty.py``), not here.

Coefficient layout, as in scikit-learn's ``LinearModelLoss``: ``coef`` has shape
``(K, n_features + fit_intercept)`` with the intercept in the last column. ``K = 1``
is the binary model (sigmoid, ``y`` in {0, 1}); ``K > 1`` the multinomial one
(softmax, ``y`` holds class indices).

This module knows nothing of estimators or labels: arrays in, numbers out.
"""

import numpy as np
import scipy.sparse as sp

from ._fused import loss_grad
from ._loops import LOOP_KERNELS

# Stable element-wise functions, for any Array API namespace ``xp``. They use
# max(z, 0) = (z + |z|) / 2 and exp(-|z|), which never overflows: no warning and
# no NaN for any finite z. The predict methods use them too.


def softplus(z, xp=np):
    """log(1 + exp(z))."""
    return (z + xp.abs(z)) / 2 + xp.log1p(xp.exp(-xp.abs(z)))


def sigmoid(z, xp=np):
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e))


def log_softmax(z, xp=np):
    z = z - xp.max(z, axis=1, keepdims=True)  # shift: exp never overflows
    return z - xp.log(xp.sum(xp.exp(z), axis=1, keepdims=True))


def _binary_loss_dz(z, y, xp=np):
    """Per-example loss and dz = a - y for the sigmoid model, from logits z.

    exp(-|z|) is computed once and serves both the loss and the sigmoid.
    """
    e = xp.exp(-xp.abs(z))
    loss = (z + xp.abs(z)) / 2 + xp.log1p(e) - y * z
    a = xp.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return loss, a - y


def loss_grad_xp(X, Y, sw, coef, fit_intercept, xp):
    """J (without penalty) and its gradient, for arrays of any Array API namespace.

    The vectorized lecture, as written: one forward pass (z, a, J) and one
    backward pass (dz, dW = dz^T X, db), with no loop over examples or features.
    NumPy arrays get ``loss_grad`` from ``_fused.py`` instead, the same
    computation streamed through X once, in cache-sized blocks of rows.

    ``Y`` is 0/1 (binary) or one-hot rows (multinomial): fancy indexing is not
    part of the standard. Everything stays on X's device; J comes back as a
    Python float, the one number per call that crosses to the host.
    """
    n_features = X.shape[1]
    z = X @ coef[:, :n_features].T
    if fit_intercept:
        z = z + coef[:, n_features]
    if coef.shape[0] == 1:
        loss, dz = _binary_loss_dz(z[:, 0], Y, xp)
        dz = dz[:, None]
    else:
        logp = log_softmax(z, xp)
        loss = -xp.sum(Y * logp, axis=1)
        dz = xp.exp(logp) - Y
    dz = dz * sw[:, None]
    grad = dz.T @ X
    if fit_intercept:
        grad = xp.concat([grad, xp.sum(dz, axis=0)[:, None]], axis=1)
    return float(xp.sum(sw * loss)), grad


class LogisticObjective:
    """J(coef) for fixed data: the data term from a kernel, plus the L2 term.

    Parameters
    ----------
    X : array of shape (m, n_features)
        NumPy array or SciPy sparse matrix, or an array of any Array API namespace.
    y : array of shape (m,)
        Class indices 0 .. n_classes - 1 (integers), in X's namespace and device.
    sample_weight : array of shape (m,)
        Non-negative weights s_i (sample weight times class weight), not normalized.
    n_classes : int
        2 gives the binary (sigmoid) model with one weight vector, more the
        multinomial (softmax) one with a weight vector per class.
    fit_intercept : bool
    l2 : float
        Strength of the (1/2)||W||^2 term, already divided by S.
    loop_mode : {None, "examples", "full"}
        None: a vectorized kernel, given the weights divided by S. Otherwise the
        lecture's loops (``_loops.py``, NumPy arrays only), given the raw weights:
        they accumulate and divide by S at the end, as the lecture divides by m.
    xp : namespace, default=numpy
    """

    def __init__(
        self, X, y, sample_weight, n_classes, fit_intercept, l2, loop_mode=None, xp=np
    ):
        self.n_outputs = 1 if n_classes == 2 else n_classes
        self.fit_intercept = fit_intercept
        self.l2 = l2
        self.n_features = X.shape[1]
        self.dtype = X.dtype
        self.xp = xp
        self.device = "cpu" if xp is np else X.device
        if self.n_outputs == 1:
            y = xp.astype(y == 1, X.dtype)  # the positive class is class 1
        elif xp is not np:
            y = xp.astype(y[:, None] == xp.arange(n_classes, device=y.device), X.dtype)
        if loop_mode is not None:  # NumPy only: the loops are code to read
            self.kernel, self.sw = LOOP_KERNELS[loop_mode], sample_weight
        else:
            self.kernel, self.sw = loss_grad, sample_weight / xp.sum(sample_weight)
        self.X, self.y = X, y

    @property
    def coef_shape(self):
        return (self.n_outputs, self.n_features + int(self.fit_intercept))

    def loss_grad(self, coef):
        if self.xp is np:
            J, grad = self.kernel(self.X, self.y, self.sw, coef, self.fit_intercept)
        else:
            J, grad = loss_grad_xp(self.X, self.y, self.sw, coef, self.fit_intercept, self.xp)
        if self.l2:
            W = coef[:, : self.n_features]
            J += 0.5 * self.l2 * float(self.xp.sum(W * W))
            grad[:, : self.n_features] += self.l2 * W
        return J, grad


class Standardization:
    """The change of coordinates theta = A v to centred, rescaled features.

    With ``u = (x - mean) / scale`` and the model ``u . v + c``, the same
    predictions are made by ``w = v / scale`` and ``b = c - w . mean``. The
    objective is unchanged; only the coordinates the solver moves in change, which
    makes gradient steps independent of the units of the features. Without an
    intercept there is nothing to absorb the centring, so ``mean`` must be 0.
    ``mean`` and ``scale`` are arrays of shape (n_features,) in the namespace of
    the coefficients.
    """

    def __init__(self, mean, scale, fit_intercept, xp=np):
        self.mean, self.scale = mean, scale
        self.fit_intercept = fit_intercept
        self.n_features = scale.shape[0]
        self.xp = xp

    def to_raw(self, v):
        theta = self.xp.empty_like(v)
        d = self.n_features
        theta[:, :d] = v[:, :d] / self.scale
        if self.fit_intercept:
            theta[:, d] = v[:, d] - theta[:, :d] @ self.mean
        return theta

    def from_raw(self, theta):
        v = self.xp.empty_like(theta)
        d = self.n_features
        v[:, :d] = theta[:, :d] * self.scale
        if self.fit_intercept:
            v[:, d] = theta[:, d] + theta[:, :d] @ self.mean
        return v

    def grad_from_raw(self, g):
        """dJ/dv from dJ/dtheta: the transpose of the map A applied to g."""
        gv = self.xp.empty_like(g)
        d = self.n_features
        gv[:, :d] = g[:, :d] / self.scale
        if self.fit_intercept:
            gv[:, :d] -= g[:, d:] * (self.mean / self.scale)
            gv[:, d] = g[:, d]
        return gv

    def grad_to_raw(self, gv):
        """dJ/dtheta from dJ/dv: the inverse of ``grad_from_raw``."""
        g = self.xp.empty_like(gv)
        d = self.n_features
        g[:, :d] = gv[:, :d] * self.scale
        if self.fit_intercept:
            g[:, :d] += gv[:, d:] * self.mean
            g[:, d] = gv[:, d]
        return g


def weighted_mean_std(X, sw, xp=np, block_rows=1024):
    """Column means and standard deviations under non-negative weights ``sw``.

    Dense X is read once, in blocks of rows, without the temporary copy that
    ``X - mean`` would make; per-block statistics are merged with Chan's formula,
    which stays accurate when the mean dwarfs the spread. NumPy accumulates in
    float64; other namespaces in X's dtype (some devices have no float64).
    """
    if sp.issparse(X):
        from sklearn.utils.sparsefuncs import mean_variance_axis

        mean, var = mean_variance_axis(sp.csr_matrix(X), axis=0, weights=sw)
        return mean.astype(X.dtype), np.sqrt(var).astype(X.dtype)
    acc = np.float64 if xp is np else X.dtype
    n_features = X.shape[1]
    mean = xp.zeros(n_features, dtype=acc, device=X.device)
    m2 = xp.zeros(n_features, dtype=acc, device=X.device)
    total = 0.0
    m = X.shape[0]
    for start in range(0, m, block_rows):
        stop = min(start + block_rows, m)  # the Array API leaves overlong slices undefined
        xb = X[start:stop, :]
        wb = xp.astype(sw[start:stop], acc)
        wsum = float(xp.sum(wb))
        if wsum == 0:
            continue
        mb = wb @ xb / wsum
        m2b = wb @ ((xb - mb) ** 2)
        delta = mb - mean
        new_total = total + wsum
        mean += delta * (wsum / new_total)
        m2 += m2b + delta**2 * (total * wsum / new_total)
        total = new_total
    return xp.astype(mean, X.dtype), xp.astype(xp.sqrt(m2 / total), X.dtype)
