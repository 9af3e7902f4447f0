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
which lets the compiler use vector instructions; everything else is IEEE
arithmetic (a * b + c may be fused), with no assumption that values are finite,
so an overflow gives inf or NaN as the NumPy pass does. exp and log1p are
polynomials (``_softplus_sigmoid``) computed on a chunk of rows at once, within
a few units in the last place of libm's, which computes one number per call.
Sums are in float64 whatever X's dtype. Compiled on first use and cached on
disk (``cache=True``): about a second, once per machine.

Measured at one thread (2-core VM, ``np.dot(x, x)`` over X's memory as the
unit): 1.7 times one read of X at 400,000 x 100 and 50,000 x 100, where the
NumPy pass takes 3.0 to 3.3; on 569 x 30, 2.6 times faster than the NumPy
pass, whose dozen calls per pass cost more than the arithmetic. With libm's exp
and log1p, one row at a time, the pass was 1.2 times slower. A softmax version
was no faster than the NumPy pass, whose K dot products per row are one BLAS
matrix product: K classes stay there.
"""

import math

import numpy as np
from numba import njit

_FAST = dict(nogil=True, cache=True, fastmath={"reassoc", "contract"})
_EXACT = dict(nogil=True, cache=True)
# The element-wise loops: NumPy's error model (a division by zero gives inf or NaN,
# no Python exception to check for) lets the compiler run them on vectors of rows,
# and ``contract`` lets it fuse a * b + c into one rounding.
_VECTOR = dict(nogil=True, cache=True, fastmath={"contract"}, error_model="numpy")

# Rows whose logits are computed before their exp and log1p: a chunk of rows
# (16 x 100 float64 is 13 KB) is still in the CPU's first-level cache when the
# backward pass reads it again.
CHUNK_ROWS = 16

# exp(x) = 2^k exp(r), k = round(x / ln 2), |r| <= ln(2) / 2 (Cody and Waite's
# reduction; ln 2 in two parts, so that k * LN2_HI is exact).
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10
# x + 1.5 * 2^52 rounds x to an integer, which the float's lowest bits then hold.
_ROUND = 6755399441055744.0
# Horner's coefficients, highest power first: exp(r) ~ sum r^j / j!, j <= 13;
# log1p(e) = 2 s sum s^(2j) / (2j + 1), j <= 18.
_EXP_TAYLOR = np.array([1.0 / math.factorial(j) for j in range(13, -1, -1)])
_ATANH_SERIES = np.array([1.0 / j for j in range(37, 0, -2)])


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


@njit(**_VECTOR)
def _softplus_sigmoid(t, a, half_k):
    """In place, for every i: ``t[i] := softplus(t[i])``, ``a[i] := sigmoid(t[i])``.

    The same formulas as ``_objective.softplus`` and ``sigmoid``, from
    e = exp(-|t|) in (0, 1], with exp and log1p as polynomials the compiler
    runs on several rows at once (libm's are one call per number):

    - exp(x), x <= 0: 2^k times the Taylor polynomial of exp(r) of degree 13
      (its error below 1e-17 for |r| <= 0.35); 2^k is built from its bits, as
      two factors 2^(k/2) so that each is a normal float down to the
      underflow of exp;
    - log1p(e) = 2 atanh(s), s = e / (2 + e) <= 1/3: the series
      2 s (1 + s^2/3 + s^4/5 + ... + s^36/37) (the next term is below 1e-19).

    Within a few units in the last place of the NumPy formulas (tested: 4 for
    softplus, 3 for the sigmoid). NaN stays NaN. ``half_k`` is a scratch array
    of 2 len(t) int64.
    """
    n = t.shape[0]
    scale = half_k.view(np.float64)
    for i in range(n):
        x = -abs(t[i])
        x = x if not x < -1080.0 else -1080.0  # exp is 0 below; NaN passes
        k = (x * _LOG2E + _ROUND) - _ROUND  # round(x / ln 2)
        k1 = k * 0.5 + _ROUND  # round(k / 2), in the low bits
        scale[i] = k1
        scale[n + i] = (k - (k1 - _ROUND)) + _ROUND  # k - round(k / 2)
        r = (x - k * _LN2_HI) - k * _LN2_LO
        p = 0.0
        for j in range(_EXP_TAYLOR.shape[0]):
            p = p * r + _EXP_TAYLOR[j]
        a[i] = p
    for i in range(2 * n):  # the integers k/2 into 2^(k/2): exponent bits
        half_k[i] = (half_k[i] << 52) + (1023 << 52)
    for i in range(n):
        e = a[i] * scale[i] * scale[n + i]
        s = e / (2.0 + e)
        s2 = s * s
        p = 0.0
        for j in range(_ATANH_SERIES.shape[0]):
            p = p * s2 + _ATANH_SERIES[j]
        ti = t[i]
        t[i] = (ti if ti > 0.0 else 0.0) + 2.0 * s * p
        inv = 1.0 / (1.0 + e)
        a[i] = inv if ti >= 0.0 else e * inv


@njit(**_EXACT)
def _binary(X, y, sw, w, b, grad):
    """J and dW (into grad, float64) of the sigmoid model; returns (J, db).

    Chunks of CHUNK_ROWS rows: their logits (q z, q = 1 - 2y), then the
    losses and sigmoids of the chunk at once, then their share of the gradient.
    """
    J = 0.0
    db = 0.0
    t, a = np.empty(CHUNK_ROWS), np.empty(CHUNK_ROWS)
    half_k = np.empty(2 * CHUNK_ROWS, dtype=np.int64)
    for start in range(0, X.shape[0], CHUNK_ROWS):
        n = min(CHUNK_ROWS, X.shape[0] - start)
        for i in range(n):
            t[i] = (1.0 - 2.0 * y[start + i]) * (_dot(X[start + i], w) + b)
        _softplus_sigmoid(t[:n], a[:n], half_k[: 2 * n])
        for i in range(n):
            r = start + i
            J += sw[r] * t[i]
            dz = sw[r] * (1.0 - 2.0 * y[r]) * a[i]
            _add_scaled(grad, dz, X[r])
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
