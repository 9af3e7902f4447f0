"""The curvature matrix of whitened coordinates, the same for every container.

Whitened gradient descent (``_coordinates.Whitening``) needs the Hessian of the
data term for one row of coefficients::

    H = [X 1]^T diag(omega) [X 1],   omega_i = sw_i a_i (1 - a_i)

(for the softmax, the mean over the classes of sw_i p_ik (1 - p_ik): one matrix
shared by every class, the diagonal blocks of the Hessian averaged), each
omega_i at least ``floor / 4`` times sw_i. It is estimated on a sample of
rows, every ``stride``-th row from the first, reweighted to stand for all of
them: the same rows whether X is a NumPy array, a sparse matrix, a Dask array
or a GPU tensor, so that every container takes the same path.

H is kept as ``(Hn, c, weight)``: ``H = diag(c) Hn diag(c) / weight``, with c
the largest absolute value of each column of ``[X 1]`` in the rows seen, so
that Hn is computed on columns scaled to at most 1 and stays in range whatever
the units of X (1e160 or 1e-300). Blocks of rows give such triples, and
``merge`` adds them after rescaling to a common c (the ratios are at most 1:
nothing overflows). The in-memory data term adds the blocks of its sample; the
Dask one adds the chunks' triples on the client.
"""

import math

import numpy as np
import scipy.sparse as sp

from ._objective import log_softmax, logits, sigmoid

# Rows of the sample per block: no float64 copy of the sample is ever whole, at
# most about GRAM_BYTES of one (2,048 rows of 100 features, 256 of 2,000).
GRAM_ROWS, GRAM_BYTES = 2048, 4 * 2**20
# A sparse block is multiplied as a dense one when its rows hold so many stored
# values that BLAS is the faster of the two. Per useful multiply-add, SciPy's
# sparse product measured 42 times slower than BLAS on dense rows and 160 to
# 1,900 times on sparse ones (2,048 rows, 100 to 2,000 columns, one thread of a
# 2-core VM); at 1/50 the rule picks the faster product in each of those cases.
SPARSE_PRODUCT_SPEED = 1 / 50


def sample_stride(n_samples, max_rows):
    """Every how many rows the sample takes one, for at most ``max_rows`` rows."""
    return max(1, -(-n_samples // max_rows))


def accumulator(xp, device):
    """The float the matrix is summed in: float64 where the device has it."""
    if xp is np:
        return np.float64
    from ._sklearn import max_precision_float_dtype

    return max_precision_float_dtype(xp, device)


def block(Xb, swb, coef, fit_intercept, floor, xp=np, device="cpu"):
    """``(Hn, c, weight)`` of one block of rows (NumPy, SciPy sparse or any namespace)."""
    acc = accumulator(xp, device)
    n_features = Xb.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):  # huge logits: a is exactly 0 or 1
        z = logits(Xb, xp.astype(coef, Xb.dtype), fit_intercept)  # no float64 copy of X
        if coef.shape[0] == 1:
            a = sigmoid(z[:, 0], xp)
            curvature = a * (1 - a)
        else:
            p = xp.exp(log_softmax(z, xp))
            curvature = xp.mean(p * (1 - p), axis=1)
    curvature = xp.where(xp.isnan(curvature), xp.zeros_like(curvature), curvature)
    sw = xp.astype(swb, acc)
    omega = sw * xp.clip(xp.astype(curvature, acc), min=floor * 0.25)
    if sp.issparse(Xb):
        Xb = sp.csr_array(Xb)
        per_row = np.diff(Xb.indptr).astype(np.float64)  # the product costs sum(per_row^2)
        if per_row @ per_row / SPARSE_PRODUCT_SPEED >= Xb.shape[0] * n_features**2:
            Xb = Xb.toarray()  # a block of the sample, never X
    if sp.issparse(Xb):
        c = np.abs(Xb).max(axis=0).toarray().ravel().astype(np.float64)
        c = np.where(c > 0, c, 1.0)
        Xn = Xb.astype(np.float64) @ sp.diags_array(1 / c)
        Hn = np.zeros((n_features + fit_intercept,) * 2)
        Hn[:n_features, :n_features] = (Xn.T @ (sp.diags_array(omega) @ Xn)).toarray()
        if fit_intercept:
            v = Xn.T @ omega
            Hn[:n_features, n_features] = Hn[n_features, :n_features] = v
            Hn[n_features, n_features] = omega.sum()
    else:
        c = xp.max(xp.abs(xp.astype(Xb, acc)), axis=0)
        c = xp.where(c > 0, c, xp.ones_like(c))
        Xn = xp.astype(Xb, acc) / c  # a new array: X itself is never written
        if fit_intercept:
            Xn = xp.concat([Xn, xp.ones((Xn.shape[0], 1), dtype=acc, device=device)], axis=1)
        Hn = (Xn * omega[:, None]).T @ Xn
    if fit_intercept:
        c = xp.concat(
            [xp.asarray(c, dtype=acc, device=device), xp.ones(1, dtype=acc, device=device)]
        )
    return Hn, xp.asarray(c, dtype=acc, device=device), float(xp.sum(sw))


def merge(parts, xp=np):
    """The ``(Hn, c, weight)`` of the rows of all ``parts``, rescaled to a common c."""
    parts = [part for part in parts if part is not None]
    c = parts[0][1]
    for _, c_k, _ in parts[1:]:
        c = xp.maximum(c, c_k)
    Hn = 0
    for Hn_k, c_k, _ in parts:
        r = c_k / c  # at most 1
        Hn = Hn + r[:, None] * Hn_k * r[None, :]
    return Hn, c, math.fsum(w for _, _, w in parts)


def of_rows(Xs, sws, coef, fit_intercept, floor, xp=np, device="cpu"):
    """``(Hn, c, weight)`` of the rows Xs (the sample), in blocks of GRAM_ROWS rows."""
    m = Xs.shape[0]
    rows = max(64, min(GRAM_ROWS, GRAM_BYTES // (8 * (Xs.shape[1] + 1))))
    return merge(
        [
            block(Xs[i : min(i + rows, m), :], sws[i : min(i + rows, m)], coef,
                  fit_intercept, floor, xp, device)
            for i in range(0, m, rows)
        ],
        xp,
    )  # fmt: skip
