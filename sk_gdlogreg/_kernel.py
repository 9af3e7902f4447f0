"""The data term compiled by numba: J and its gradient in one read of X.

An optional speed-up (``pip install sk_gdlogreg[fast]``): where numba is
installed, dense NumPy X (C order, float32 or float64) is passed over by these
loops instead of ``_objective.data_term``, which stays the reference and the
path of every other input. They compute the same numbers, one row at a time:

    z_i = x_i . w + b                  the forward pass of example i
    L_i = softplus(q_i z_i),  q_i = 1 - 2 y_i   (binary; softmax for K classes)
    dz_i = sw_i (a_i - y_i),  dW += dz_i x_i,  db += dz_i   (the backward pass)

so each row of X is read once, while it is in the CPU's cache, and there is
no temporary the size of X's rows (z, a, dz are numbers, not arrays). The
NumPy pass reads each block of rows twice (``X @ w``, then ``dz @ X``) and
makes a dozen small arrays per block. The functions release the GIL: the
threads of ``_blocks.over_rows`` run them on blocks of rows at the same time.

Only the two dot products of a row may be summed in any order (``reassoc``),
which lets the compiler use vector instructions; everything else is exact
IEEE arithmetic, with no assumption that values are finite, so an overflow
gives inf or NaN as the NumPy pass does. Sums are in float64 whatever X's
dtype. Compiled on first use and cached on disk (``cache=True``): about a
second, once per machine.
"""

import math

import numpy as np
from numba import njit

_FAST = dict(nogil=True, cache=True, fastmath={"reassoc", "contract"})
_EXACT = dict(nogil=True, cache=True)


@njit(**_FAST)
def _dot(x, w):
    acc = 0.0
    for j in range(x.shape[0]):
        acc += x[j] * w[j]
    return acc


@njit(**_FAST)
def _add_scaled(g, a, x):
    for j in range(x.shape[0]):
        g[j] += a * x[j]


@njit(**_EXACT)
def _binary(X, y, sw, w, b, grad):
    """J and dW (into grad, float64) of the sigmoid model; returns (J, db)."""
    J = 0.0
    db = 0.0
    for i in range(X.shape[0]):
        q = 1.0 - 2.0 * y[i]
        qz = q * (_dot(X[i], w) + b)
        e = math.exp(-abs(qz))  # in (0, 1]: never overflows
        J += sw[i] * ((qz if qz > 0.0 else 0.0) + math.log1p(e))
        dz = sw[i] * q * (1.0 / (1.0 + e) if qz >= 0.0 else e / (1.0 + e))
        _add_scaled(grad, dz, X[i])
        db += dz
    return J, db


@njit(**_EXACT)
def _multinomial(X, y, sw, W, b, grad, db):
    """J, dW (into grad) and db (into db) of the softmax model; returns J."""
    K = W.shape[0]
    z = np.empty(K)
    J = 0.0
    for i in range(X.shape[0]):
        top = -np.inf
        for k in range(K):
            z[k] = _dot(X[i], W[k]) + b[k]
            top = max(top, z[k])
        total = 0.0
        for k in range(K):
            z[k] = z[k] - top  # shifted: exp never overflows
            total += math.exp(z[k])
        log_total = math.log(total)
        J += sw[i] * (log_total - z[y[i]])  # -log a_i[y_i]
        for k in range(K):
            dz = sw[i] * (math.exp(z[k] - log_total) - (1.0 if k == y[i] else 0.0))
            _add_scaled(grad[k], dz, X[i])
            db[k] += dz
    return J


def data_term(X, y, sw, coef, fit_intercept):
    """``_objective.data_term``'s J and gradient, with class indices ``y`` for ``Y``."""
    n_features = X.shape[1]
    W = np.ascontiguousarray(coef[:, :n_features], dtype=np.float64)
    b = coef[:, n_features] if fit_intercept else np.zeros(coef.shape[0])
    b = np.asarray(b, dtype=np.float64)
    grad = np.zeros((coef.shape[0], n_features + int(fit_intercept)))
    dW = np.zeros((coef.shape[0], n_features))
    if coef.shape[0] == 1:
        J, db = _binary(X, y, sw, W[0], float(b[0]), dW[0])
        db = np.array([db])
    else:
        db = np.zeros(coef.shape[0])
        J = _multinomial(X, y, sw, W, b, dW, db)
    grad[:, :n_features] = dW
    if fit_intercept:
        grad[:, n_features] = db
    return float(J), grad.astype(coef.dtype, copy=False)
