"""The curvature matrix of whitened coordinates, the same for every container.


Whitened gradient descent (``_coordinates.Whitening``) needs the Hessian of the
data term for one row of coefficients::

    H = [X 1]^T diag(omega) [X 1],   omega_i = sw_i a_i (1 - a_i)

For the softmax (``blocks``), either one matrix shared by every class, omega_i
the mean over the classes of sw_i p_ik (1 - p_ik) (the diagonal blocks of the
Hessian averaged: "shared"), or one per class k, omega_ik = sw_i p_ik (1 - p_ik)
(the diagonal blocks themselves: "class"; see CLASS_FLOOR), or the whole Hessian
of the K (d + 1) coefficients, its blocks coupling the classes ("joint",
``_joint_block``). Each omega is at least
``floor / 4`` times sw_i. It is estimated on a sample of
rows, every ``stride``-th row from the first, reweighted to stand for all of
them: the same rows whether X is a NumPy array, a sparse matrix, a Dask array
or a GPU tensor, so that every container takes the same path.

H is kept as ``(Hn, c, weight)``: ``H = diag(c) Hn diag(c) / weight``, with c
the largest absolute value of each column of ``[X 1]`` in the rows seen, so
that Hn is computed on columns scaled to at most 1 and stays in range whatever
the units of X (1e160 or 1e-300); or, on NumPy rows in units whose products
float64 holds (the usual case), c = 1 and X as it is (``_unscaled_grams``).
Blocks of rows give such triples, and ``merge_curvatures`` adds them after
rescaling to a common c, each column's the largest of the blocks where it is not 0
(the ratios are at most 1: nothing overflows). The in-memory data term adds the
blocks of its sample; the Dask one adds the chunks' triples on the client. On dense NumPy rows
(``curvature_of_sample``) a renewal on separated data, most of whose examples
sit at the floor, takes the floor times the sample's weighted Gram matrix, kept
for the fit, and adds only the rows above it (``FloorSplit``): the same matrix.
"""

import math

import numpy as np
import scipy.sparse as sp

from ._objective import log_softmax, logits, sigmoid
from ._sklearn import max_precision_float_dtype

# A class's curvature at an example is at least this fraction of the mean over
# the classes there: a class far from most examples would otherwise have a
# nearly singular block, and its coefficients steps too long. Measured
# (iterations to F within 1e-6; fraction 0 / 0.1 / 1, the last being close to
# the shared matrix): 10 classes 50,000 x 60 11 / 11 / 16, digits 51 / 51 / 56,
# wine 36 / 29 / 26, iris 35 / 31 / 31; the shared matrix 18, 94, 24, 31.
CLASS_FLOOR = 0.1

# Rows of the sample per block: no float64 copy of the sample is ever whole, at
# most about GRAM_BYTES of one (2,048 rows of 100 features, 256 of 2,000).
GRAM_ROWS, GRAM_BYTES = 2048, 4 * 2**20
# A sparse block is multiplied as a dense one when its rows hold so many stored
# values that BLAS is the faster of the two. Per useful multiply-add, SciPy's
# sparse product measured 42 times slower than BLAS on dense rows and 160 to
# 1,900 times on sparse ones (2,048 rows, 100 to 2,000 columns, one thread of a
# 2-core VM); at 1/200 the rule picks the faster product in each of those cases,
# and the whitening's cost rule (_coordinates.whitening_pays) counts with it too.
SPARSE_PRODUCT_SPEED = 1 / 200


def accumulator(xp, device):
    """The float the matrix is summed in: float64 where the device has it."""
    if xp is np:
        return np.float64
    return max_precision_float_dtype(xp, device)


def curvature_block(
    Xb, swb, coef, fit_intercept, floor, xp=np, device="cpu", blocks="shared", curvature=None
):
    """``(Hn, c, weight)`` of one block of rows (NumPy, SciPy sparse or any namespace).

    ``Hn`` is one matrix; for the softmax with ``blocks="class"`` a stack of K,
    one per class (see ``CLASS_FLOOR``), with ``blocks="joint"`` K x K blocks
    (``_joint_block``). ``curvature``: the rows' ``_example_curvature`` where the
    caller has it (not for ``"joint"``), else computed from ``coef``.
    """
    acc = accumulator(xp, device)
    n_features = Xb.shape[1]
    if coef.shape[0] > 1 and blocks == "joint":
        with np.errstate(over="ignore", invalid="ignore"):
            p = xp.exp(log_softmax(_logits(Xb, coef, fit_intercept, xp), xp))
        return _joint_block(Xb, swb, p, fit_intercept, floor, xp, device, acc)
    if curvature is None:
        curvature = _sample_curvature(Xb, coef, fit_intercept, blocks, xp)
    sw = xp.astype(swb, acc)
    curvature = xp.clip(xp.astype(curvature, acc), min=floor * 0.25)
    # one column of weights per matrix: omega_i of example i in each
    omegas = sw[:, None] * (curvature[:, None] if curvature.ndim == 1 else curvature)
    if type(Xb) is np.ndarray:
        Hn = _unscaled_grams(Xb, sw, omegas, fit_intercept)
        if Hn is not None:  # the usual case: no scaling of the columns was needed
            Hn = Hn[0] if curvature.ndim == 1 else np.stack(Hn)
            return Hn, np.ones(Hn.shape[-1]), float(np.sum(sw))
    if sp.issparse(Xb):
        Xb = sp.csr_array(Xb)
        per_row = np.diff(Xb.indptr).astype(np.float64)  # the product costs sum(per_row^2)
        if per_row @ per_row / SPARSE_PRODUCT_SPEED >= Xb.shape[0] * n_features**2:
            Xb = Xb.toarray()  # a block of the sample, never X
    if sp.issparse(Xb):
        c = np.abs(Xb).max(axis=0).toarray().ravel().astype(np.float64)
        c = np.where(c > 0, c, 1.0)
        Xn = Xb.astype(np.float64) @ sp.diags_array(1 / c)
    else:
        Xn, c = _scaled_columns(Xb, xp, acc)
    last = omegas.shape[1] - 1
    Hn = [_weighted_gram(Xn, omegas[:, k], fit_intercept, xp, k == last) for k in range(last + 1)]
    Hn = Hn[0] if curvature.ndim == 1 else xp.stack(Hn)
    if fit_intercept:
        c = xp.concat(
            [xp.asarray(c, dtype=acc, device=device), xp.ones(1, dtype=acc, device=device)]
        )
    return Hn, xp.asarray(c, dtype=acc, device=device), float(xp.sum(sw))


def _example_curvature(z, blocks, xp):
    """Each example's curvature from its logits z (before the floor): a (1 - a) for
    two classes; for the softmax the mean over the classes of p_k (1 - p_k)
    (``blocks="shared"``) or each class's, raised to CLASS_FLOOR times that mean
    (``"class"``). NaN (from infinite logits) counts as 0."""
    if z.shape[1] == 1:
        a = sigmoid(z[:, 0], xp)
        curvature = a * (1 - a)
    else:
        p = xp.exp(log_softmax(z, xp))
        each = p * (1 - p)
        mean = xp.mean(each, axis=1)
        curvature = xp.maximum(each, CLASS_FLOOR * mean[:, None]) if blocks == "class" else mean
    return xp.where(xp.isnan(curvature), xp.zeros_like(curvature), curvature)


def curvature_shape(coef_shape, blocks):
    """The shape of ``Hn`` for coefficients of ``coef_shape`` (K or 1, d + 1)."""
    K, p = coef_shape
    if K == 1 or blocks == "shared":
        return (p, p)
    return (K, p, p) if blocks == "class" else (K, K, p, p)


def _scaled_columns(Xb, xp, acc):
    """(Xn, c): dense Xb's columns divided by their largest |x| c (1 where 0), in
    ``acc``; a new array: X itself is never written."""
    Xa = xp.astype(Xb, acc, copy=False)  # float64 NumPy X: X itself, not a copy
    c = xp.maximum(xp.max(Xa, axis=0), -xp.min(Xa, axis=0))  # max |x|, without |X|
    c = xp.where(c > 0, c, xp.ones_like(c))
    return Xa / c, c


# The diagonal of an unscaled weighted Gram matrix must lie in this range for
# ``_unscaled_grams`` to keep it: no sum of squares has then overflowed, and the
# products that underflowed (each below 1e-308; even a block of 1e8 rows of them)
# are below 1e-100 of the diagonals they add to (entry (i, j): of their geometric mean).
GRAM_RANGE = (1e-200, 1e200)


def _unscaled_grams(Xb, sw, omegas, fit_intercept):
    """``[Xb 1]^T diag(omega) [Xb 1]`` for each column of ``omegas``, on NumPy X as it is
    (``c`` = 1), or None where X's units need its columns scaled (``_scaled_columns``).

    Each is ``_weighted_gram`` of the sample's strided rows themselves: one product
    ``Xs^T Xs`` of ``Xs = diag(sqrt(omega)) Xb`` (BLAS's syrk), Xs made in one
    pass into a new float64 array: measured (50,000 x 100, its 16,667 sampled
    rows, one thread) 11-13 ms a matrix against 15-22 ms for the sample's copy,
    the columns' max and min, the division by them and the product (syrk alone:
    5 ms). None unless every diagonal entry of X's columns is in GRAM_RANGE or is
    an exact 0 (no weighted row has a non-zero value in that column): the scaled
    path then keeps huge and tiny units exact.
    """
    lo, hi = GRAM_RANGE
    n_features = Xb.shape[1]
    grams = []
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for omega in omegas.T:
            G = _weighted_gram(Xb, omega, fit_intercept, np, overwrite=False)
            diag = np.diagonal(G)[:n_features]
            if not (np.all(np.isfinite(G)) and np.all((diag == 0) | ((diag >= lo) & (diag <= hi)))):
                return None
            zero = np.flatnonzero(diag == 0)
            if zero.size and np.any((Xb[:, zero] != 0) & (sw[:, None] > 0)):
                return None  # some weighted value's products underflowed to 0
            grams.append(G)
    return grams


def _joint_block(Xb, swb, p, fit_intercept, floor, xp, device, acc):
    """``(Hn, c, weight)`` of the whole softmax Hessian: Hn of shape (K, K, d+1, d+1),
    block (k, j) ``[X 1]^T diag(sw (p_k delta_kj - p_k p_j)) [X 1]``, each example's
    K x K matrix ``diag(p) - p p^T`` raised by ``floor / 4`` on the directions that
    change the probabilities (``I - 1 1^T / K``: the shift of every class by the same
    amount stays in its null space)."""
    K = p.shape[1]
    sw = xp.astype(swb, acc)
    p = xp.astype(xp.where(xp.isnan(p), xp.zeros_like(p), p), acc)
    Xn, c = _scaled_columns(Xb.toarray() if sp.issparse(Xb) else Xb, xp, acc)
    c = xp.asarray(c, dtype=acc, device=device)
    if fit_intercept:
        ones = xp.ones((Xn.shape[0], 1), dtype=acc, device=device)
        Xn = xp.concat([Xn, ones], axis=1)
        c = xp.concat([c, xp.ones(1, dtype=acc, device=device)])
    f = floor * 0.25
    grid = [[None] * K for _ in range(K)]
    for k in range(K):
        for j in range(k, K):  # the blocks (k, j) and (j, k): one product
            a = p[:, k] * (float(k == j) - p[:, j]) + f * (float(k == j) - 1 / K)
            grid[k][j] = grid[j][k] = (Xn * (sw * a)[:, None]).T @ Xn
    Hn = xp.stack([xp.stack(row) for row in grid])
    return Hn, c, float(xp.sum(sw))


def _weighted_gram(Xn, omega, fit_intercept, xp, overwrite):
    """``[Xn 1]^T diag(omega) [Xn 1]`` (without the column of ones if no intercept).

    Dense: ``Xs^T Xs`` with ``Xs = diag(sqrt(omega)) Xn``, the product of an
    array with its own transpose, which BLAS computes as one triangle (syrk;
    measured 4x faster than a product of two arrays). ``overwrite``: Xn (the
    caller's scaled copy of X) may become Xs.
    """
    n_features = Xn.shape[1]
    if sp.issparse(Xn):
        Hn = np.zeros((n_features + fit_intercept,) * 2)
        Hn[:n_features, :n_features] = (Xn.T @ (sp.diags_array(omega) @ Xn)).toarray()
        if fit_intercept:
            v = Xn.T @ omega
            Hn[:n_features, n_features] = Hn[n_features, :n_features] = v
            Hn[n_features, n_features] = omega.sum()
        return Hn
    root = xp.sqrt(omega)
    if overwrite:
        Xn *= root[:, None]
        Xs = Xn
    else:
        Xs = Xn * root[:, None]
    Hn = Xs.T @ Xs
    if not fit_intercept:
        return Hn
    v = Xs.T @ root  # the column of ones, without a copy of Xs that holds it
    corner = xp.reshape(xp.sum(omega), (1, 1))
    return xp.concat(
        [xp.concat([Hn, v[:, None]], axis=1), xp.concat([v[None, :], corner], axis=1)], axis=0
    )


def merge_curvatures(parts, xp=np):
    """The ``(Hn, c, weight)`` of the rows of all ``parts``, rescaled to a common c.

    The common c of a column is the largest c of the parts where that column is not 0
    (its diagonal there non-zero): a part that holds only zeros in it, whose c is 1 by
    convention, says nothing of its size. Taken into the maximum, that 1 put a column
    of 1e-300 in units where its squares underflowed to 0, and the L1 metric of such
    data was not positive definite.
    """
    parts = [part for part in parts if part is not None]
    if len(parts) == 1 and bool(xp.all(parts[0][1] == 1)):
        # one part in its own units (a small table's sample): itself (a column of zeros
        # has no non-zero entry in its row of an unscaled Gram matrix, so the rescaling
        # below would give the same numbers; measured, it cost an eighth of a renewal on
        # breast cancer)
        return parts[0]
    live = [_nonzero_columns(Hn_k, xp) for Hn_k, _, _ in parts]
    c = None
    for (_, c_k, _), on in zip(parts, live):
        size = xp.where(on, c_k, xp.zeros_like(c_k))
        c = size if c is None else xp.maximum(c, size)
    c = xp.where(c > 0, c, xp.ones_like(c))
    Hn = 0
    for (Hn_k, c_k, _), on in zip(parts, live):
        r = xp.where(on, c_k / c, xp.zeros_like(c))  # at most 1
        # in common units already (unscaled blocks, c = 1), nothing to rescale
        Hn = Hn + (Hn_k if bool(xp.all(r == 1)) else r[:, None] * Hn_k * r[None, :])
    return Hn, c, math.fsum(w for _, _, w in parts)


def _nonzero_columns(Hn, xp):
    """Whether each column of ``[X 1]`` has a non-zero diagonal entry in Hn (one matrix,
    a stack of K or K x K blocks: in any of them)."""
    p = Hn.shape[-1]
    diagonal = xp.abs(xp.linalg.diagonal(Hn))  # of the last two axes, without a p x p eye
    return xp.reshape(xp.max(xp.reshape(diagonal, (-1, p)), axis=0), (p,)) > 0


def _gram_rows(n_features):
    """Rows per block of a Gram matrix (GRAM_ROWS, fewer for wide rows: GRAM_BYTES)."""
    return max(64, min(GRAM_ROWS, GRAM_BYTES // (8 * (n_features + 1))))


def curvature_of_rows(Xs, sws, coef, fit_intercept, floor, xp=np, device="cpu", blocks="shared"):
    """``(Hn, c, weight)`` of the rows Xs (the sample), in blocks of GRAM_ROWS rows."""
    m = Xs.shape[0]
    rows = _gram_rows(Xs.shape[1])
    return merge_curvatures(
        [
            curvature_block(Xs[i : min(i + rows, m), :], sws[i : min(i + rows, m)], coef,
                  fit_intercept, floor, xp, device, blocks)
            for i in range(0, m, rows)
        ],
        xp,
    )  # fmt: skip


# Late in a fit on separated data most examples are classified with confidence:
# their curvature sits at the floor f, and the same f [X 1]^T diag(sw) [X 1] comes
# back at every renewal. Where at least FLOOR_SHARE of the sample's rows sit at
# the floor, ``FloorSplit`` adds to f times the sample's weighted Gram (the "base",
# computed once a fit) only the rows above the floor:
#     H = f Base + sum over the rows above f of sw_i (c_i - f) [x_i 1]^T [x_i 1],
# the same matrix (every term non-negative: nothing cancels). Measured (50,000 x
# 100, class_sep=3, C=100, its 16,667 sampled rows): 85-89% of them at the floor
# from the third of six renewals on. Where every row has the same curvature c, as
# at the coefficients a fit starts from, H is c Base: the first renewal of a binary
# fit computes the base at the cost of any renewal.
FLOOR_SHARE = 0.5


def _level(c, sw):
    """The one curvature of every row that weighs something, or None (rows differ, or
    none weighs anything)."""
    weighted = c[sw > 0]
    return float(weighted[0]) if weighted.size and np.all(weighted == weighted[0]) else None


class FloorSplit:
    """The floor split of a fit's renewals on dense NumPy rows (see FLOOR_SHARE): it
    keeps the sample's weighted Gram, computed when a renewal first needs it."""

    def __init__(self):
        self.key, self.base = None, None

    def __call__(self, Xs, sws, curvature, fit_intercept, floor, key):
        """``(Hn, c, weight)`` of the rows Xs, their ``_example_curvature`` (one per row)
        given, or None where the split does not apply (fewer than FLOOR_SHARE of the
        rows at the floor and not all of one curvature, or units whose products need
        scaling: ``_unscaled_grams``). ``key`` names the sample (its stride): the base
        is kept for that sample."""
        f = floor * 0.25
        sw = sws.astype(np.float64, copy=False)
        c = curvature.astype(np.float64, copy=False)
        level = _level(c, sw)
        above = np.flatnonzero((c > f) & (sw > 0))
        if level is None and above.size > (1 - FLOOR_SHARE) * c.shape[0]:
            return None
        if self.key != key:
            self.key, self.base = key, self._weighted(Xs, sw, sw, fit_intercept)
        if self.base is None:
            return None
        if level is not None:
            Hn = max(level, f) * self.base
            return Hn, np.ones(Hn.shape[-1]), float(np.sum(sw))
        rest = self._weighted(Xs, sw, sw[above] * (c[above] - f), fit_intercept, above)
        if rest is None:
            return None
        Hn = f * self.base + rest
        return Hn, np.ones(Hn.shape[-1]), float(np.sum(sw))

    @staticmethod
    def may_apply(curvature, sws, floor):
        """Whether a sample whose first rows have this curvature may take the split: those
        rows all of one curvature, or at least half FLOOR_SHARE of them at the floor."""
        c = curvature.astype(np.float64, copy=False)
        at_floor = np.count_nonzero(c <= floor * 0.25)
        return _level(c, sws) is not None or at_floor >= FLOOR_SHARE / 2 * c.shape[0]

    @staticmethod
    def _weighted(Xs, sw, omega, fit_intercept, rows=None):
        """The unscaled weighted Gram of Xs[rows] (all rows if None; weights omega), in
        blocks; 0 if no rows, None if some block's units need scaling."""
        total, size = 0, _gram_rows(Xs.shape[1])
        count = Xs.shape[0] if rows is None else rows.shape[0]
        for i in range(0, count, size):
            part = slice(i, i + size) if rows is None else rows[i : i + size]
            G = _unscaled_grams(Xs[part], sw[part], omega[i : i + size, None], fit_intercept)
            if G is None:
                return None
            total = total + G[0]
        return total


def curvature_of_sample(Xs, sws, coef, fit_intercept, floor, blocks, split, key):
    """``curvature_of_rows`` of dense NumPy rows, for two classes or the softmax's shared
    matrix, with the floor split (``FloorSplit`` ``split``) where it applies.

    The first block of rows tells which way to go. Where it is neither of one
    curvature nor a quarter or more at the floor, the blocks go as before, each
    block's curvature and matrix computed while it is in the cache; else the
    examples' curvature over the whole sample decides, and a renewal the split does
    not take then reads the sample's blocks twice (measured at 50,000 x 100: a
    renewal 1 ms slower when the whole sample decided every time). A sample of one
    block (a small table: breast cancer's 569 rows) goes to ``curvature_of_rows``,
    the split having little to save there (measured: the same time, within 3%).
    """
    m, rows = Xs.shape[0], _gram_rows(Xs.shape[1])
    if m <= rows:
        return curvature_of_rows(Xs, sws, coef, fit_intercept, floor, blocks=blocks)
    first = _sample_curvature(Xs[:rows], coef, fit_intercept, blocks)
    curvature = None
    if split.may_apply(first, sws[:rows], floor):
        curvature = np.concat([first, _sample_curvature(Xs[rows:], coef, fit_intercept, blocks)])
        found = split(Xs, sws, curvature, fit_intercept, floor, key)
        if found is not None:
            return found

    def known(i):  # block i's curvature where computed already (else the block's own)
        return first if i == 0 else None if curvature is None else curvature[i : i + rows]

    return merge_curvatures(
        [
            curvature_block(Xs[i : i + rows], sws[i : i + rows], coef, fit_intercept, floor,
                            blocks=blocks, curvature=known(i))
            for i in range(0, m, rows)
        ]
    )  # fmt: skip


def _sample_curvature(Xs, coef, fit_intercept, blocks, xp=np):
    """``_example_curvature`` of the rows Xs at ``coef``."""
    with np.errstate(over="ignore", invalid="ignore"):  # huge logits: a is 0 or 1
        return _example_curvature(_logits(Xs, coef, fit_intercept, xp), blocks, xp)


def _logits(Xs, coef, fit_intercept, xp):
    """The logits of the rows Xs, coef in X's dtype: no float64 copy of X."""
    return logits(Xs, xp.astype(coef, Xs.dtype), fit_intercept)
