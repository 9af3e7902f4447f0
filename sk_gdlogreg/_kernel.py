"""The data term compiled by numba: J and its gradient in one read of X.

An optional speed-up (``pip install sk_gdlogreg[fast]``): where numba is
installed, the binary model on dense NumPy X (C order, float32 or float64) is
passed over by these loops instead of ``_objective.data_term``, which stays
the reference and the path of every other input. They compute the same
numbers, one row at a time:

    z_i = x_i . w + b                  the forward pass of example i
    L_i = softplus(q_i z_i),  q_i = 1 - 2 y_i
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

Measured at one thread (2-core VM): 1.4 times faster than the NumPy pass on
50,000 x 100, 2.6 times on 569 x 30, where a dozen NumPy calls per pass cost
more than the arithmetic. A softmax version was no faster than the NumPy pass,
whose K dot products per row are one BLAS matrix product: K classes stay there.
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


def data_term(X, y, sw, coef, fit_intercept):
    """``_objective.data_term``'s J and gradient of the binary model, with class indices
    ``y`` (0 or 1) for ``Y``."""
    n_features = X.shape[1]
    w = np.ascontiguousarray(coef[0, :n_features], dtype=np.float64)
    b = float(coef[0, n_features]) if fit_intercept else 0.0
    grad = np.zeros((1, n_features + int(fit_intercept)))
    dW = np.zeros(n_features)
    J, db = _binary(X, y, sw, w, b, dW)
    grad[0, :n_features] = dW
    if fit_intercept:
        grad[0, n_features] = db
    return float(J), grad.astype(coef.dtype, copy=False)


# Rows per block of the column statistics: a block of 100 float64 columns (128 KB)
# stays in the CPU's cache for the block's three readings.
STATS_BLOCK_BYTES = 2**17


@njit(**_EXACT)
def _column_stats(X, sw, rows):
    """``_stats.weighted_mean_std``'s statistics in one read of X from memory.

    Each block of ``rows`` rows is read three times while it is in the cache:
    its largest |x| per column rounded up to a power of 2 (c_b), the weighted
    mean of x / c_b, the weighted sum of squared deviations from it (the
    two-pass formula, exact where the mean dwarfs the spread). The blocks are
    merged as they come by Chan et al.'s formula, on the larger c of the two
    (the ratios are at most 1: nothing overflows or underflows whatever X's
    units). Returns (W, mean, M2, c) as ``_stats.Stats``.
    """
    m, p = X.shape
    W = 0.0
    mean, M2, c = np.zeros(p), np.zeros(p), np.zeros(p)
    cb, inv, mb, m2b = np.empty(p), np.empty(p), np.empty(p), np.empty(p)
    for start in range(0, m, rows):
        stop = min(start + rows, m)
        Wb = 0.0
        for i in range(start, stop):
            Wb += sw[i]
        if not Wb > 0.0:
            continue
        cb[:] = 0.0
        for i in range(start, stop):
            for j in range(p):
                a = abs(X[i, j])
                cb[j] = a if a > cb[j] else cb[j]
        for j in range(p):
            # the power of 2 above max |x|: x / c = x * inv exactly, and at most 1
            e = min(max(math.frexp(cb[j])[1], -1020), 1023) if cb[j] > 0.0 else 0
            cb[j], inv[j] = math.ldexp(1.0, e), math.ldexp(1.0, -e)
        mb[:] = 0.0
        for i in range(start, stop):
            wi = sw[i]
            for j in range(p):
                mb[j] += wi * (X[i, j] * inv[j])
        for j in range(p):
            mb[j] /= Wb
        m2b[:] = 0.0
        for i in range(start, stop):
            wi = sw[i]
            for j in range(p):
                d = X[i, j] * inv[j] - mb[j]
                m2b[j] += wi * d * d
        total = W + Wb
        for j in range(p):
            cn = c[j] if c[j] > cb[j] else cb[j]
            r_old, r_new = c[j] / cn, cb[j] / cn
            delta = mb[j] * r_new - mean[j] * r_old
            mean[j] = mean[j] * r_old + delta * (Wb / total)
            M2[j] = (
                M2[j] * (r_old * r_old)
                + m2b[j] * (r_new * r_new)
                + delta * delta * (W * Wb / total)
            )
            c[j] = cn
        W = total
    return W, mean, M2, c


def column_stats(X, sw):
    """``_stats.Stats`` of dense C-ordered NumPy X (float32 or float64) under weights sw."""
    rows = max(16, STATS_BLOCK_BYTES // (max(X.shape[1], 1) * X.dtype.itemsize))
    W, mean, M2, c = _column_stats(X, np.asarray(sw, dtype=np.float64), rows)
    return W, mean, M2, np.where(c > 0, c, 1.0)
