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

This module knows nothing of scikit-learn: plain arrays in, numbers out.
"""

import numpy as np
import scipy.sparse as sp

from ._loops import LOOP_KERNELS


def softplus(z):
    """log(1 + exp(z)) without overflow, for any finite z."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _binary_loss_dz(z, y):
    """Per-example loss and dz = a - y for the sigmoid model, from logits z.

    exp(-|z|) is computed once and serves both: it never overflows, and it gives
    the sigmoid on both sides of 0 without cancellation.
    """
    e = np.exp(-np.abs(z))
    loss = np.maximum(z, 0) + np.log1p(e) - y * z
    a = np.where(z >= 0, 1, e) / (1 + e)
    return loss, a - y


def _multinomial_loss_dz(z, y):
    """Per-example loss and dz = softmax(z) - onehot(y), from logits z (m, K)."""
    z = z - z.max(axis=1, keepdims=True)  # shift: exp never overflows
    ez = np.exp(z)
    norm = ez.sum(axis=1)
    rows = np.arange(z.shape[0])
    loss = np.log(norm) - z[rows, y]
    dz = ez / norm[:, None]
    dz[rows, y] -= 1
    return loss, dz


def forward(X, coef, fit_intercept):
    """Logits z = X W^T + b, shape (m, K)."""
    n_features = X.shape[1]
    z = X @ coef[:, :n_features].T
    if sp.issparse(z):  # a sparse X times a dense W is dense already
        z = z.toarray()
    if fit_intercept:
        z += coef[:, n_features]
    return np.asarray(z)


def loss_grad(X, y, sw, coef, fit_intercept):
    """J (without penalty) and its gradient with respect to ``coef``.

    One forward pass (z, a, J) and one backward pass (dz, dW, db), with no loop
    over examples or features.
    """
    z = forward(X, coef, fit_intercept)
    if coef.shape[0] == 1:
        loss, dz = _binary_loss_dz(z[:, 0], y)
        dz = dz[:, None]
    else:
        loss, dz = _multinomial_loss_dz(z, y)
    dz *= sw[:, None]
    grad = np.empty_like(coef)
    n_features = X.shape[1]
    # (X^T dz)^T rather than dz^T X: the form scipy.sparse computes without a copy.
    grad[:, :n_features] = (X.T @ dz).T
    if fit_intercept:
        grad[:, n_features] = dz.sum(axis=0)
    return float(np.dot(sw, loss)), grad


class LogisticObjective:
    """J(coef) for fixed data: the data term from a kernel, plus the L2 term.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (m, n_features)
    y : ndarray of shape (m,)
        0/1 labels (binary, in X's dtype) or class indices (multinomial).
    sample_weight : ndarray of shape (m,)
        Non-negative weights s_i (sample weight times class weight), not normalized.
    n_outputs : int
        K: 1 for the binary model, the number of classes otherwise.
    fit_intercept : bool
    l2 : float
        Strength of the (1/2)||W||^2 term, already divided by S.
    loop_mode : {None, "examples", "full"}
        None: the vectorized ``loss_grad``, given the weights divided by S.
        Otherwise the lecture's loops (``_loops.py``), given the raw weights:
        they accumulate and divide by S at the end, as the lecture divides by m.
    """

    def __init__(self, X, y, sample_weight, n_outputs, fit_intercept, l2, loop_mode=None):
        self.X, self.y = X, y
        self.n_outputs = n_outputs
        self.fit_intercept = fit_intercept
        self.l2 = l2
        self.n_features = X.shape[1]
        if loop_mode is None:
            self.kernel, self.sw = loss_grad, sample_weight / sample_weight.sum()
        else:
            self.kernel, self.sw = LOOP_KERNELS[loop_mode], sample_weight

    @property
    def coef_shape(self):
        return (self.n_outputs, self.n_features + int(self.fit_intercept))

    def loss_grad(self, coef):
        J, grad = self.kernel(self.X, self.y, self.sw, coef, self.fit_intercept)
        if self.l2:
            W = coef[:, : self.n_features]
            J += 0.5 * self.l2 * float(np.vdot(W, W))
            grad[:, : self.n_features] += self.l2 * W
        return J, grad


class Standardization:
    """The change of coordinates theta = A v to centred, unit-variance features.

    With ``u = (x - mean) / scale`` and the model ``u . v + c``, the same
    predictions are made by ``w = v / scale`` and ``b = c - w . mean``. The
    objective is unchanged; only the coordinates the solver moves in change, which
    makes gradient steps independent of the units of the features. Without an
    intercept there is nothing to absorb the centring, so ``mean`` must be 0.
    """

    def __init__(self, mean, scale, fit_intercept):
        self.mean, self.scale = mean, scale
        self.fit_intercept = fit_intercept
        self.n_features = len(scale)

    def to_raw(self, v):
        theta = np.empty_like(v)
        d = self.n_features
        theta[:, :d] = v[:, :d] / self.scale
        if self.fit_intercept:
            theta[:, d] = v[:, d] - theta[:, :d] @ self.mean
        return theta

    def from_raw(self, theta):
        v = np.empty_like(theta)
        d = self.n_features
        v[:, :d] = theta[:, :d] * self.scale
        if self.fit_intercept:
            v[:, d] = theta[:, d] + theta[:, :d] @ self.mean
        return v

    def grad_from_raw(self, g):
        """dJ/dv from dJ/dtheta: the transpose of the map A applied to g."""
        gv = np.empty_like(g)
        d = self.n_features
        gv[:, :d] = g[:, :d] / self.scale
        if self.fit_intercept:
            gv[:, :d] -= np.outer(g[:, d], self.mean / self.scale)
            gv[:, d] = g[:, d]
        return gv

    def grad_to_raw(self, gv):
        """dJ/dtheta from dJ/dv: the inverse of ``grad_from_raw``."""
        g = np.empty_like(gv)
        d = self.n_features
        g[:, :d] = gv[:, :d] * self.scale
        if self.fit_intercept:
            g[:, :d] += np.outer(gv[:, d], self.mean)
            g[:, d] = gv[:, d]
        return g


def weighted_mean_std(X, sw, block_rows=4096):
    """Column means and standard deviations under weights ``sw`` (summing to 1).

    Dense X is read once, in blocks of rows, without the temporary copy that
    ``X - mean`` would make; per-block statistics are merged with Chan's formula,
    which stays accurate when the mean dwarfs the spread.
    """
    if sp.issparse(X):
        from sklearn.utils.sparsefuncs import mean_variance_axis

        mean, var = mean_variance_axis(sp.csr_matrix(X), axis=0, weights=sw)
        return mean.astype(X.dtype), np.sqrt(var).astype(X.dtype)
    n_features = X.shape[1]
    mean = np.zeros(n_features)
    m2 = np.zeros(n_features)
    total = 0.0
    for start in range(0, X.shape[0], block_rows):
        xb = X[start : start + block_rows]
        wb = sw[start : start + block_rows].astype(np.float64)
        wsum = wb.sum()
        if wsum == 0:
            continue
        mb = wb @ xb / wsum
        m2b = wb @ np.square(xb - mb)
        delta = mb - mean
        new_total = total + wsum
        mean += delta * (wsum / new_total)
        m2 += m2b + np.square(delta) * (total * wsum / new_total)
        total = new_total
    return mean.astype(X.dtype), np.sqrt(m2 / total).astype(X.dtype)
