"""Weighted column statistics of X: means and standard deviations, for every container.

The standardized coordinates of a fit (``_coordinates.solver_coordinates``) need
the mean and the spread of each column of X under the sample weights. Dense
arrays of any namespace and Dask's chunks alike are read one block of rows at a
time into ``Stats``: the weight W of the rows, and the mean and the sum of
squared deviations M2 of each column *divided by its largest absolute value c
in the block*, so that no square overflows or underflows whatever the units
(1e200 or 1e-300). ``merge_stats`` adds blocks with Chan et al.'s formula
(accurate when the mean dwarfs the spread) after rescaling them to a common c:
the ratios are at most 1, nothing overflows. Sparse matrices are read by their
stored values instead, a chunk at a time, never copied.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from . import _kernel


class Stats(NamedTuple):
    W: float  # the weight of the rows
    mean: object  # per column, of the column divided by c
    M2: object  # per column: the sum of w (x / c - mean)^2
    c: object  # per column: the largest |x| in the rows (1 where 0)


def block_stats(Xb, w, xp=np):
    """The ``Stats`` of the rows Xb under weights w (None if they weigh nothing).

    NumPy works in float64 (float32 X of 1e38 squares beyond float32), other
    namespaces in X's dtype (some devices have no float64).
    """
    acc = np.float64 if xp is np else Xb.dtype
    w = xp.astype(w, acc)
    W = float(xp.sum(w))
    if not W > 0:
        return None
    xb = xp.astype(Xb, acc, copy=True)  # one copy of the block: X is never written
    positive = w > 0
    if not bool(xp.all(positive)):
        # rows that weigh nothing count as zeros (X is finite: 0 * x is 0): a huge value
        # there must not set c, the others' squares underflowing in its units
        xb *= xp.astype(xp.reshape(positive, (-1, 1)), acc)
    c = xp.maximum(xp.max(xb, axis=0), -xp.min(xb, axis=0))  # max |x|, without |X|
    c = xp.where(c > 0, c, xp.ones_like(c))
    xb /= c
    mean = w @ xb / W
    xb -= mean
    return Stats(W, mean, w @ (xb * xb), c)


def merge_stats(parts, xp=np):
    """The ``Stats`` of the rows of all ``parts`` (Nones skipped), on a common c."""
    parts = [p for p in parts if p is not None]
    c = parts[0].c
    for p in parts[1:]:
        c = xp.maximum(c, p.c)
    W, mean, M2 = 0.0, 0.0, 0.0
    for p in parts:
        r = p.c / c  # at most 1
        total = W + p.W
        delta = p.mean * r - mean
        mean = mean + delta * (p.W / total)
        M2 = M2 + p.M2 * (r * r) + delta * delta * (W * p.W / total)
        W = total
    return Stats(W, mean, M2, c)


def mean_std(stats, xp=np):
    """Column means and standard deviations, in X's units, from ``Stats``."""
    return stats.mean * stats.c, xp.sqrt(stats.M2 / stats.W) * stats.c


# Rows per block of the statistics: BLOCK_ROWS, or on dense NumPy X (the shifted
# blocks of ``_shifted_mean_std``) a buffer of about SHIFTED_BLOCK_BYTES, which
# stays in the cache for the block's four operations. Measured (one thread, against
# 1,024 rows): 5,000 x 1,000 0.80x the time, 2,500 x 2,000 0.54x, 1,000 x 5,000
# 0.34x, 200,000 x 20 0.89x, 50,000 x 100 1.01x.
BLOCK_ROWS, SHIFTED_BLOCK_BYTES = 1024, 2**20


def weighted_mean_std(X, sw, xp=np, block_rows=None):
    """Column means and standard deviations under non-negative weights ``sw``.

    Dense NumPy X is read once, in blocks of rows, by ``_shifted_mean_std``
    where float64 holds its squares (the usual case); other dense X (and
    columns that leave that range) in blocks scaled by their largest |x|
    (``block_stats``), without the temporary copy that ``X - mean`` would
    make.

    Sparse X (CSR or CSC) is read as it is by scikit-learn's compiled
    ``mean_variance_axis`` where its values are float64 in a range whose squares
    cannot overflow or underflow (the usual case: 0.2 s for 25 million values);
    otherwise by its stored values, a chunk at a time, on columns scaled by their
    size (``_sparse_mean_var``, about 5 times slower): no copy of its values
    either way. NumPy computes
    and returns float64; other namespaces X's dtype.
    """
    if xp is np and not sp.issparse(X):
        rows = block_rows or max(1, SHIFTED_BLOCK_BYTES // (8 * max(X.shape[1], 1)))
        shifted = _shifted_mean_std(X, sw, rows)
        if shifted is not None:
            return shifted
    if not sp.issparse(X):
        return _scaled_mean_std(X, sw, xp, block_rows or BLOCK_ROWS)
    if X.format not in ("csr", "csc") or not X.has_canonical_format:
        # each stored value must be a whole entry: duplicates summed (a copy, for
        # such matrices only; X @ w, the fit's product, sums them too)
        X = sp.csr_matrix(X, copy=True)
        X.sum_duplicates()
    if X.dtype == np.float64 and _in_safe_range(X.data):
        # the usual case: scikit-learn's compiled statistics, on X itself
        from sklearn.utils.sparsefuncs import mean_variance_axis

        mean, var = mean_variance_axis(X, axis=0, weights=np.asarray(sw, np.float64))
        return mean, np.sqrt(np.maximum(var, 0))  # var may round below 0
    c = np.zeros(X.shape[1])
    for values, _, cols in _stored_values(X):
        np.maximum.at(c, cols, np.abs(values))
    c = np.where(c > 0, c, 1.0)
    mean, var = _sparse_mean_var(X, sw, c)
    return mean * c, np.sqrt(np.maximum(var, 0)) * c  # var may round below 0


def _scaled_mean_std(X, sw, xp, block_rows):
    """Dense X's statistics from blocks of rows scaled by their largest |x| (``block_stats``)."""
    m = X.shape[0]
    starts = range(0, m, block_rows)  # the Array API leaves overlong slices undefined
    parts = [block_stats(X[i : min(i + block_rows, m), :], sw[i : min(i + block_rows, m)], xp)
             for i in starts]  # fmt: skip
    return mean_std(merge_stats(parts, xp), xp)


# A column whose spread is below this (float64's squares of it would lose digits to
# underflow) takes the scaled blocks; so does one whose squares overflowed.
TINY_SPREAD = 1e-140


def _shifted_mean_std(X, sw, block_rows):
    """Column means and standard deviations of dense NumPy X, in float64, in one read.

    Each block of rows is shifted by s, the weighted mean of the first block (or
    the first row of positive weight if that block weighs nothing), and
    gives the weighted sums of x - s and of (x - s)^2 while it is in the cache;
    then mean = s + S1 / W and var = (S2 - S1^2 / W) / W. s lies within the
    column's values, so |mean - s| is at most the spread times sqrt(W / w_min)
    and the subtraction cancels no digit that matters (the shifted, corrected
    formula). Where s is within 1e-12 of the first weighted row's value, that
    value is s: a constant column then has S1 = S2 = 0 exactly.
    Measured, one thread: 50,000 x 100 in 7-9 ms against 17-24 ms for the scaled
    blocks (about 4 times ``np.dot(x, x)`` over X's memory against 9). Where the
    compiled loops take X (``_kernel.applies``), they compute S1 and S2 instead,
    a row at a time in one read (the same sums in another order, each value
    weighed before it is squared): 400,000 x 100 1.2 reads of X against 2.7 for
    the blocks, 569 x 30 5 us against 78.
    Columns whose sums left
    float64's range, or whose spread is below TINY_SPREAD (constant columns
    aside), are recomputed by the scaled blocks; None if the rows weigh nothing.
    """
    m, n = X.shape
    w = np.asarray(sw, dtype=np.float64)
    W = float(np.sum(w))
    if not W > 0:
        return None
    rows = max(1, min(block_rows, m))
    first, w0 = X[:rows], w[:rows]
    W0 = float(np.sum(w0))
    if W0 > 0:
        shift = w0 @ first / W0
        # a constant column's mean may round off its value: the value itself, then
        row = np.asarray(first[int(np.argmax(w0 > 0))], dtype=np.float64)
        shift = np.where(np.abs(row - shift) <= 1e-12 * np.abs(shift), row, shift)
    else:  # the first block weighs nothing: the first row that weighs something
        shift = np.asarray(X[int(np.argmax(w > 0))], dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        if _kernel.applies(X):  # the same sums, compiled: one read of X, no buffer
            S1, S2 = _kernel.shifted_sums(X, w, shift)
        else:
            S1, S2 = np.zeros(n), np.zeros(n)
            buf = np.empty((rows, n), order="F" if _f_ordered(X) else "C")  # X's own layout
            for i in range(0, m, rows):
                b, wb = buf[: min(rows, m - i)], w[i : i + rows]
                np.subtract(X[i : i + rows], shift, out=b)
                S1 += wb @ b
                np.multiply(b, b, out=b)
                S2 += wb @ b
        mean = shift + S1 / W
        var = np.maximum((S2 - S1 * S1 / W) / W, 0.0)  # var may round below 0
        std = np.sqrt(var)
    # a spread of exactly 0 about a shift of normal size is a constant column (x - s
    # would be at least float64's spacing there, and its square no underflow)
    constant = (S2 == 0) & (np.abs(shift) >= 1e-130)
    redo = ~(np.isfinite(mean) & np.isfinite(std) & ((std >= TINY_SPREAD) | constant))
    if redo.any():
        cols = np.flatnonzero(redo)
        rows = max(block_rows, BLOCK_ROWS)  # of a few columns: BLOCK_ROWS at least
        mean[cols], std[cols] = _scaled_mean_std(X[:, cols], sw, np, rows)
    return mean, std


def _f_ordered(X):
    """Whether X is in Fortran (column) order only, as a one-dtype DataFrame's values are:
    a block of its rows is copied into an F-ordered buffer column by column (measured,
    50,000 x 100: 8 ms for the statistics against 11 ms into a C-ordered one)."""
    return X.flags.f_contiguous and not X.flags.c_contiguous


# Stored values in [1e-100, 1e100] square and add up in float64 without leaving
# its range: no scaling by the columns' sizes is needed.
SAFE_RANGE = (1e-100, 1e100)


def _in_safe_range(values):
    """Whether every non-zero |value| is in SAFE_RANGE (read a chunk at a time)."""
    lo, hi = SAFE_RANGE
    for start in range(0, values.shape[0], SPARSE_CHUNK):
        size = np.abs(values[start : start + SPARSE_CHUNK])
        if not (size.max() <= hi and np.where(size > 0, size, 1.0).min() >= lo):
            return False
    return True


# Stored values of a sparse matrix per chunk of its column statistics. A chunk
# makes a few float64 and index arrays of its length (about 50 bytes a value:
# 3 MB) and one entry per line (row of CSR) it spans, so the statistics never
# hold anything the size of X's values.
SPARSE_CHUNK = 2**16


def _stored_values(X):
    """(values, rows, cols) of a CSR or CSC matrix's stored values, a chunk at a time.

    ``values`` in float64 (float32 values of 1e38 square beyond float32's range).
    ``indices`` holds one index of each stored value (the column in CSR, the
    row in CSC); the other, the line it is stored in, is repeated from
    ``indptr`` for the lines the chunk spans.
    """
    indptr, chunk = X.indptr, SPARSE_CHUNK
    end = int(indptr[-1])
    for start in range(0, end, chunk):
        stop = min(start + chunk, end)
        # the lines holding values start .. stop-1, and how many of those each holds
        first = int(np.searchsorted(indptr, start, side="right")) - 1
        last = int(np.searchsorted(indptr, stop, side="left"))
        counts = np.diff(np.clip(indptr[first : last + 1], start, stop))
        line = np.repeat(np.arange(first, last), counts)
        other = X.indices[start:stop]
        values = X.data[start:stop].astype(np.float64)
        yield (values, line, other) if X.format == "csr" else (values, other, line)


def _sparse_mean_var(X, sw, c):
    """Weighted column means and variances of sparse X / c, the implicit zeros included.

    Two passes over the stored values, a chunk at a time: the means, then the
    squared deviations from them (accurate when the mean dwarfs the spread,
    where sum(w x^2) - mean^2 would cancel). A row without a stored value in
    a column adds its weight times (0 - mean)^2; its weight is the total less
    the stored rows', taken only where some row is not stored, since that
    difference is a rounding error for a full column and mean^2 may dwarf the
    variance. The deviations' sum, 0 in exact arithmetic, corrects the mean's
    rounding error (the corrected two-pass algorithm, as scikit-learn's).
    """
    m, n = X.shape
    sw = np.asarray(sw, dtype=np.float64)
    total = float(np.sum(sw))
    weighted_sum, stored_weight = np.zeros(n), np.zeros(n)
    stored = np.zeros(n, dtype=np.int64)
    for values, rows, cols in _stored_values(X):
        w = sw[rows]
        weighted_sum += np.bincount(cols, w * (values / c[cols]), minlength=n)
        stored_weight += np.bincount(cols, w, minlength=n)
        stored += np.bincount(cols, minlength=n)
    mean = weighted_sum / total
    deviations, squares = np.zeros(n), np.zeros(n)
    for values, rows, cols in _stored_values(X):
        w = sw[rows]
        d = values / c[cols] - mean[cols]
        deviations += np.bincount(cols, w * d, minlength=n)
        squares += np.bincount(cols, w * d * d, minlength=n)
    zero_weight = np.where(stored < m, total - stored_weight, 0.0)
    deviations -= zero_weight * mean
    squares += zero_weight * mean**2
    return mean, (squares - deviations**2 / total) / total
