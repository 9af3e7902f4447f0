"""The data term of the binary model, compiled: J and its gradient in one read of X.

``_ckernel.c``, a C extension that ``pip install .`` builds (setuptools; where
no C compiler is found the package installs without it, ``AVAILABLE`` is
False, and every fit takes the NumPy pass). Where it is built, dense NumPy X
in C order (float32 or float64) with two classes is passed over by its loops
instead of ``_objective.binary_data_term``, which stays the reference and the
path of every other input. They compute the same numbers, one row at a time:

    z_i = x_i . w + b                  the forward pass of example i
    L_i = softplus(q_i z_i),  q_i = 1 - 2 y_i
    dz_i = sw_i (a_i - y_i),  dW += dz_i x_i,  db += dz_i   (the backward pass)

so each row of X is read once, while it is in the CPU's cache, and there is
no temporary the size of X's rows (z, a, dz are numbers, not arrays). The
NumPy pass reads each block of rows twice (``X @ w``, then ``dz @ X``) and
makes a dozen small arrays per block. The loops release the GIL: threads run
them on blocks of rows at the same time (``data_term``).

exp and log1p are polynomials (``softplus_sigmoid``) computed on a chunk of
16 rows at once, within a few units in the last place of libm's, which
computes one number per call; a dot product keeps 16 partial sums in four
vectors, and the backward pass adds four rows into the gradient at a time
(each number still added row after row). Sums are in float64 whatever X's
dtype. Nothing assumes that values are finite: an overflow gives inf or NaN
as the NumPy pass does. The loops use GCC's and Clang's vector extensions;
another compiler fails the build, and the NumPy pass runs.

Measured at one thread (2-core VM, ``np.dot(x, x)`` over X's memory as the
unit): 1.35 to 1.45 times one read of X at 400,000 x 100 and 50,000 x 100,
1.2 to 1.35 at 5,000 x 1,000, where the NumPy pass takes about 3; on 569 x 30, 13
to 14 microseconds a call against the NumPy pass's 42, whose dozen calls per pass
cost more than the arithmetic. Compiled one row at a time
(the polynomials' branches kept, which GCC does unless told that nothing
traps), the pass took 1.9 reads; with libm's exp and log1p, slower still.
A softmax version was no faster than the NumPy pass, whose K dot products
per row are one BLAS matrix product: K classes stay there.

The same extension sums the column statistics of such X (``shifted_sums``,
for ``_stats._shifted_mean_std``) in one read, a row at a time.
"""

import numpy as np

from . import _blocks

try:
    from . import _ckernel
except ImportError:  # not built: the NumPy pass everywhere
    _ckernel = None

AVAILABLE = _ckernel is not None


def applies(X):
    """Whether the loops take X: dense NumPy, float32 or float64 in native byte order,
    C order, aligned (an array received over a network may not be), and the extension
    built."""
    return (
        AVAILABLE
        and type(X) is np.ndarray
        and X.dtype in (np.float32, np.float64)
        and X.flags.c_contiguous
        and X.flags.aligned
        and X.dtype.isnative
    )


def shifted_sums(X, w, shift):
    """``(w @ (X - shift), w @ (X - shift)**2)`` in float64, in one read of X (``applies``)."""
    S1, S2 = np.zeros(X.shape[1]), np.zeros(X.shape[1])
    w = np.ascontiguousarray(w, dtype=np.float64)
    _ckernel.shifted_sums(X, w, np.ascontiguousarray(shift, dtype=np.float64), S1, S2)
    return S1, S2


def softplus_sigmoid(t):
    """``(softplus(t), sigmoid(t))`` of a float64 array, by the loops of the pass."""
    out, a = np.array(t, dtype=np.float64), np.empty(np.shape(t))
    _ckernel.softplus_sigmoid(out, a)
    return out, a


def data_term(X, q, sw, coef, fit_intercept, n_threads=1):
    """``_objective.binary_data_term``'s J and gradient (``q = 1 - 2 Y``, float64).

    In ``_blocks.block_rows(X)`` rows at a time, as the NumPy pass takes them,
    the blocks shared among ``n_threads`` threads in contiguous ranges
    (``_blocks.over_ranges``) and added up in block order: the same numbers
    whatever the number of threads. One call to the loops per thread, however
    many blocks: at 400,000 x 100 (153 blocks) a call per block cost 10% more.
    """
    m, n_features = X.shape
    w = np.ascontiguousarray(coef[0, :n_features], dtype=np.float64)
    b = float(coef[0, n_features]) if fit_intercept else 0.0
    rows = _blocks.block_rows(X)
    count = -(-m // rows)
    J, db, G = np.empty(count), np.empty(count), np.empty((count, n_features))
    _blocks.over_ranges(
        lambda first, last: _ckernel.binary(X, q, sw, w, b, rows, first, last, J, db, G),
        count,
        n_threads,
    )
    grad = np.empty((1, n_features + int(fit_intercept)), dtype=coef.dtype)
    if count == 1:
        grad[0, :n_features], J, db = G[0], J[0], db[0]
    else:
        grad[0, :n_features], J, db = np.sum(G, axis=0), np.sum(J), np.sum(db)
    if fit_intercept:
        grad[0, n_features] = db
    return float(J), grad
