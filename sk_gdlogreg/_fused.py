"""Fused data term of the logistic objective: J and its gradient in one streamed pass over X.

    loss_grad(X, y, sw, coef, fit_intercept, n_threads=None) -> (J, grad)

J = sum_i sw_i * L_i with L_i the binary (K == 1, sigmoid) or multinomial (K > 1, softmax)
log-loss of row i, and grad = dJ/dcoef, shaped and typed like coef (K, n_features + fit_intercept),
intercept last. No penalty term here.

Why it is written this way
--------------------------
The textbook iteration ``z = X @ w + b; a = expit(z); dw = X.T @ (a - y)`` reads X from memory
twice. Here the rows are processed in blocks small enough to stay in cache: the block's ``z``, its
element-wise part and its contribution ``dz @ X_block`` to the gradient are computed while the
block is still cached, so X crosses the memory bus once per call.

Everything is plain NumPy: each block costs a fixed ~20 ufunc/BLAS calls of Python overhead, so the
block must be large enough to amortise them yet small enough that the second product re-reads it
from cache; ``_BLOCK_BYTES`` was chosen by measurement (see bench_iter.py). The element-wise
functions are chosen for cost: one ``exp(-|z|)`` serves both the softplus and the sigmoid, with no
overflow for any finite z, and each buffer is preallocated and written with ``out=``.

X may be C- or F-ordered; neither is copied. Blocks of an F-ordered X are strided views, which
np.matmul hands to BLAS as they are (np.dot would copy them). On the machine measured, F-ordered
X was in fact ~1.4x faster: OpenBLAS's gemv kernels stream long columns better than the
100-element rows of a C-ordered X.

Blocks are shared out between threads; NumPy's BLAS calls and ufunc loops release the GIL, and
BLAS is held to one thread meanwhile so the two levels of parallelism do not oversubscribe the
cores. Each block stores its own partial J and gradient, summed in block order at the end, so
the result does not depend on the number of threads.
"""
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

# Bytes of X per block. Measured on the 2-core AMD EPYC VM (512 KiB L2 per core, 32 MiB shared
# L3, ~16 GB/s single-core streaming read) with X of 200,000 x 100: the per-iteration time is
# flat from ~1 to ~4 MiB and worse on both sides: smaller blocks pay the ~20 calls x ~1 us of
# per-block Python overhead more often (512 KiB: +10-30%), larger ones no longer find the block
# in cache for the second product (8 MiB: +10-25%).
_BLOCK_BYTES = 2 * 2**20
# Floor on rows per block so that very wide X still amortises the per-block call overhead.
_MIN_BLOCK_ROWS = 64
# Ceiling on rows per block so that the per-block element-wise buffers stay cache-resident
# when X is very narrow.
_MAX_BLOCK_ROWS = 16384
# A thread is only worth its hand-off cost (~50-100 us) when it gets a couple of blocks.
_MIN_BLOCKS_PER_THREAD = 2
# The default number of threads, at most. Python threads take turns at the GIL between
# the ~20 NumPy calls of each block; measured on a 16-core machine (1,000,000 x 100,
# benchmarks/ in the README), a pass took 43 ms (float32) with 2 threads, 62 with 4,
# 80 with 8 and 86 with 16: past 2 threads the hand-offs cost more than they give.
_MAX_DEFAULT_THREADS = 2
# Scalars as read-only 0-d arrays of each dtype: NumPy then skips the Python-scalar conversion
# and type resolution (~0.3 us per ufunc call), and building them once saves ~1 us each per
# call: small problems are made of such microseconds.
_CONSTANTS = {}
for _t in (np.float32, np.float64):
    _CONSTANTS[np.dtype(_t).char] = tuple(np.full((), c, dtype=_t) for c in (1, 0, -2))
    for _c in _CONSTANTS[np.dtype(_t).char]:
        _c.flags.writeable = False
del _t, _c


def loss_grad(X, y, sw, coef, fit_intercept, n_threads=None):
    """Data term J = sum_i sw_i L_i and its gradient with respect to ``coef``.

    Parameters
    ----------
    X : ndarray of shape (m, d), float32 or float64, C- or F-ordered or a row/column slice of
        such an array (never copied), or a scipy.sparse matrix (CSR or CSC; other formats are
        converted on every call).
    y : ndarray of shape (m,). Binary (K == 1): labels exactly 0 or 1, in X.dtype (anything
        else is converted on every call; the accurate formulation below relies on y being 0/1,
        not a soft label). Multinomial (K > 1): integer class indices 0..K-1, ideally np.intp.
    sw : ndarray of shape (m,), sample weights (the caller normalises them), in X.dtype.
    coef : ndarray of shape (K, d + fit_intercept), intercept last.
    fit_intercept : bool
    n_threads : int or None
        Threads over rows. None: as many as the environment allows (OpenMP / cgroup / affinity
        limits as scikit-learn sees them, capped by the BLAS thread setting, so that
        ``threadpoolctl.threadpool_limits(1)`` or ``OMP_NUM_THREADS=1`` make it serial), and at
        most ``_MAX_DEFAULT_THREADS`` (more were measured slower).

    Returns
    -------
    J : float
    grad : ndarray like coef (same shape and dtype, which is X's dtype)
    """
    if sp.issparse(X):
        return _loss_grad_sparse(X, y, sw, coef, fit_intercept)

    dtype = X.dtype
    if dtype.char not in "fd":
        raise ValueError(f"X must be float32 or float64, got {dtype}")
    m, d = X.shape
    coef = np.asarray(coef, dtype=dtype)
    K = coef.shape[0]
    y, sw = _prepare_targets(y, sw, K, dtype)
    kernel = _binary_blocks if K == 1 else _multinomial_blocks

    rows = min(_MAX_BLOCK_ROWS, max(_MIN_BLOCK_ROWS, _BLOCK_BYTES // (max(d, 1) * dtype.itemsize)))
    n_blocks = -(-m // rows)
    p = coef.shape[1]
    grad = np.empty((K, p), dtype=dtype)
    # Threads take the next block from a shared counter (itertools.count's __next__ is atomic
    # under the GIL) rather than a fixed slice: on a shared machine a descheduled thread then
    # delays the pass by one block, not by half of it.
    blocks = itertools.count()

    if n_blocks == 1:
        # Small problem: one block in the calling thread, written straight into grad, and
        # neither a thread pool nor a threadpoolctl call: at e.g. 569 x 30 they would cost
        # more than the work itself.
        J_out = np.empty(1)
        Gb = grad[None, :, d] if fit_intercept else np.empty((1, K), dtype=dtype)
        kernel(X, y, sw, coef, fit_intercept, rows, blocks, 1, J_out, grad[None, :, :d], Gb)
        return float(J_out[0]), grad

    # Every block writes its own partial results; they are summed in block order at the end,
    # so J and grad are bit-for-bit the same whatever the number of threads and however the
    # blocks were shared out between them.
    J_blocks = np.empty(n_blocks)
    Gw_blocks = np.empty((n_blocks, K, d), dtype=dtype)
    Gb_blocks = np.empty((n_blocks, K), dtype=dtype)
    args = (X, y, sw, coef, fit_intercept, rows, blocks, n_blocks, J_blocks, Gw_blocks, Gb_blocks)
    blas_threads = max([lib["num_threads"] or 1 for lib in _blas_controller().info()], default=1)
    n_threads = _resolve_n_threads(n_threads, blas_threads)
    n_threads = max(1, min(n_threads, n_blocks // _MIN_BLOCKS_PER_THREAD))
    if blas_threads > 1:
        # BLAS must run single-threaded inside our threads; also with n_threads == 1, since
        # OpenBLAS threads some block-sized products, which would make the result's last bits
        # depend on the thread count (no faster, measured).
        # The setting is process-wide and threadpoolctl (>= 3.8) only lets the thread that
        # changed it change it back, so the change and its undoing happen in this thread, and
        # one call at a time: two overlapping calls could otherwise restore each other's
        # "original" of 1 and leave BLAS single-threaded for good.
        with _BLAS_LIMIT_LOCK, _blas_controller().limit(limits=1):
            _run(kernel, args, n_threads)
    else:
        _run(kernel, args, n_threads)

    # Partial sums are combined in float64: free at this size, and it keeps float32
    # gradients accurate on large m.
    grad[:, :d] = Gw_blocks.sum(axis=0, dtype=np.float64)
    if fit_intercept:
        grad[:, d] = Gb_blocks.sum(axis=0, dtype=np.float64)
    return float(J_blocks.sum()), grad


def _run(kernel, args, n_threads):
    # The calling thread works too: one hand-off fewer, and progress is guaranteed even when
    # the shared pool is busy with another caller's blocks.
    futures = [_executor().submit(kernel, *args) for _ in range(n_threads - 1)]
    kernel(*args)
    for f in futures:
        f.result()


# ----------------------------------------------------------------------------------------
# Kernels. Each one repeatedly takes the next block index i from `blocks` until it reaches
# n_blocks, processes rows [i*rows, (i+1)*rows) and stores that block's J, weight gradient
# and intercept gradient in J_out[i], Gw_out[i], Gb_out[i].
# ----------------------------------------------------------------------------------------

def _binary_blocks(X, y, sw, coef, fit_intercept, rows, blocks, n_blocks, J_out, Gw_out, Gb_out):
    dtype = X.dtype
    m, d = X.shape
    w = coef[0, :d]
    b = coef[0, d, ...] if fit_intercept else None
    one, zero, minus_two = _CONSTANTS[dtype.char]
    # float32 log1p has no SIMD loop in NumPy (3-4x slower than log); for float32 we
    # rebuild it from log(1 + e) with the exact rounding error of 1 + e (see below).
    fast_log1p = dtype.char == "f"

    z, q, e, u, v, t = (np.empty(min(rows, m), dtype) for _ in range(6))
    for i in blocks:
        if i >= n_blocks:
            break
        s = i * rows
        n = min(rows, m - s)
        if n != len(z):
            # Only the last block is short, and the counter is increasing, so it is the
            # last one this thread sees: the buffers can shrink for good.
            z, q, e, u, v, t = z[:n], q[:n], e[:n], u[:n], v[:n], t[:n]
        Xb = X[s:s + n]
        swb = sw[s:s + n]

        # np.matmul, not np.dot: np.dot copies a block of an F-ordered X before calling BLAS
        # (its leading dimension is m, not n); matmul passes the strided view straight on.
        np.matmul(Xb, w, out=z)
        if b is not None:
            z += b
        # With q = 1 - 2y = +-1 (y in {0, 1}):  L = softplus(z) - y z = softplus(q z)  and
        # sigmoid(z) - y = q sigmoid(q z). Working on q z keeps every term a sum of
        # non-negative parts, so J and dz stay accurate *relative* to their size even when
        # the data are separated and all losses are ~1e-15 (softplus(z) - y*z would cancel).
        np.multiply(y[s:s + n], minus_two, out=q)
        q += one
        z *= q                                   # z <- q z ; only |z| and q z are needed
        # e = exp(-|z|) lies in (0, 1] for every finite z: no overflow, and it feeds both
        # softplus(z) = max(z, 0) + log1p(e) and the sigmoid below.
        np.abs(z, out=e)
        np.negative(e, out=e)
        np.exp(e, out=e)
        np.add(e, one, out=u)                    # u = 1 + e
        if fast_log1p:
            # 1 + e rounds to u; c = e - (u - 1) is that rounding error, exactly (Fast2Sum),
            # so log1p(e) = log(u + c) = log(u) + c/u to within O(c^2).
            np.subtract(u, one, out=t)
            np.subtract(e, t, out=t)
            t /= u
            np.log(u, out=v)
            v += t
        else:
            np.log1p(e, out=v)
        np.maximum(z, zero, out=t)
        v += t
        J_out[i] = np.dot(swb, v)                # J_block = sw . softplus(q z)
        # sigmoid(x) = 1/(1+e) for x >= 0 and e/(1+e) for x < 0, i.e. (1/(1+e)) * f with
        # f = max(e, [x > 0]) (at x = 0, e = 1 anyway): relative accuracy on both tails, no
        # branches, no where=. [x > 0] = sign(max(x, 0)), cheaper than a bool-to-float compare.
        np.divide(one, u, out=u)
        np.sign(t, out=t)
        np.maximum(t, e, out=t)
        u *= t                                   # u = sigmoid(q z)
        q *= swb
        u *= q                                   # u = dz = sw * (sigmoid(z) - y)
        # BLAS gemv; like the ufuncs above it runs without the GIL.
        np.matmul(u, Xb, out=Gw_out[i, 0])
        Gb_out[i, 0] = np.add.reduce(u)


def _multinomial_blocks(X, y, sw, coef, fit_intercept, rows, blocks, n_blocks, J_out, Gw_out,
                        Gb_out):
    dtype = X.dtype
    K = coef.shape[0]
    m, d = X.shape
    W = coef[:, :d]
    b = coef[:, d:] if fit_intercept else None       # (K, 1), broadcasts over rows

    # Class-major (K, n) layout: the reductions over classes become K-1 vectorised
    # element-wise operations over rows instead of many tiny length-K reductions.
    r0 = min(rows, m)
    Zbuf, Pbuf = np.empty(K * r0, dtype), np.empty(K * r0, dtype)
    zmax, s, lse, zy = (np.empty(r0, dtype) for _ in range(4))
    idx = np.empty(r0, np.intp)
    ar = np.arange(r0, dtype=np.intp)
    for i in blocks:
        if i >= n_blocks:
            break
        st = i * rows
        n = min(rows, m - st)
        Zf, Pf = Zbuf[:K * n], Pbuf[:K * n]            # flat views for the label gather/scatter
        Z, P = Zf.reshape(K, n), Pf.reshape(K, n)
        if n != len(zmax):                             # last block (see _binary_blocks)
            zmax, s, lse, zy, idx, ar = zmax[:n], s[:n], lse[:n], zy[:n], idx[:n], ar[:n]
        Xb = X[st:st + n]
        swb = sw[st:st + n]

        np.matmul(W, Xb.T, out=Z)
        if b is not None:
            Z += b
        # Stable log-softmax: subtract the row max, so exp never overflows and its sum >= 1.
        np.max(Z, axis=0, out=zmax)
        Z -= zmax
        np.exp(Z, out=P)
        np.sum(P, axis=0, out=s)
        np.log(s, out=lse)
        # Position of (y_i, i) in the flat (K, n) buffers.
        np.multiply(y[st:st + n], n, out=idx)
        idx += ar
        np.take(Zf, idx, out=zy)
        lse -= zy                                    # L_i = log sum exp(z_i) - z_i[y_i]
        J_out[i] = np.dot(swb, lse)
        np.divide(swb, s, out=s)
        P *= s                                       # P = sw * softmax
        # minus sw * onehot(y); idx is unique. Unlike the binary kernel this p_y - 1 (and
        # log(s) - z_y above) is accurate in absolute, not relative, terms when p_y -> 1, as in
        # scikit-learn's multinomial loss: a cancellation-free form would cost a second pass
        # over the K x n buffers.
        Pf[idx] -= swb
        np.matmul(P, Xb, out=Gw_out[i])
        np.sum(P, axis=1, out=Gb_out[i])


def _loss_grad_sparse(X, y, sw, coef, fit_intercept):
    """Sparse X: two sparse-dense products, X never densified.

    CSR and CSC are used as they are (both multiply efficiently either way round); any other
    format, or a non-float dtype, is converted on every call, so callers should convert once.
    """
    if X.format not in ("csr", "csc"):
        X = X.tocsr()
    if X.dtype.char not in "fd":
        X = X.astype(np.float64)
    dtype = X.dtype
    m, d = X.shape
    coef = np.asarray(coef, dtype=dtype)
    K = coef.shape[0]
    y, sw = _prepare_targets(y, sw, K, dtype)
    Z = X @ coef[:, :d].T                            # (m, K), dense
    if fit_intercept:
        Z += coef[:, d]
    if K == 1:
        # Same formulation as _binary_blocks, on whole vectors.
        q = 1 - 2 * y
        z = Z[:, 0] * q
        e = np.exp(-np.abs(z))
        J = float(np.dot(sw, np.maximum(z, 0) + np.log1p(e)))
        a = np.maximum(e, np.sign(np.maximum(z, 0))) / (1 + e)
        dZ = (sw * q * a)[:, None]
    else:
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        S = P.sum(axis=1)
        rows = np.arange(m)
        J = float(np.dot(sw, np.log(S) - Z[rows, y]))
        P *= (sw / S)[:, None]
        P[rows, y] -= sw
        dZ = P
    grad = np.empty_like(coef)
    grad[:, :d] = (X.T @ dZ).T                      # X.T is a free transpose (CSR <-> CSC)
    if fit_intercept:
        grad[:, d] = dZ.sum(axis=0)
    return J, grad


# ----------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------

def _prepare_targets(y, sw, K, dtype):
    y = np.asarray(y)
    if K == 1:
        y = y.astype(dtype, copy=False)
    else:
        # intp so the flat-index arithmetic needs no cast; a no-op for int64 labels.
        y = y.astype(np.intp, copy=False)
    sw = np.asarray(sw).astype(dtype, copy=False)
    return y, sw


_executor_lock = threading.Lock()
_executor_obj = None
_controller = None
_BLAS_LIMIT_LOCK = threading.Lock()


def _executor():
    # One pool per process, created on first use: starting threads on every call would cost
    # more than a small problem's whole pass. Tasks never wait on other tasks, so concurrent
    # callers sharing the pool cannot deadlock; if more tasks are queued than there are
    # workers, the late ones find the block counter exhausted and return at once.
    global _executor_obj
    with _executor_lock:
        if _executor_obj is None:
            _executor_obj = ThreadPoolExecutor(
                max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="sk_gdlogreg"
            )
        return _executor_obj


def _blas_controller():
    # threadpoolctl.threadpool_limits() rescans the loaded libraries on every call (~0.4 ms
    # here); a controller created once and re-used costs ~10 us per limit.
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def _resolve_n_threads(n_threads, blas_threads):
    if n_threads is not None:
        if n_threads < 0:  # joblib / scikit-learn convention: -1 = all cores
            n_threads = max(1, (os.cpu_count() or 1) + 1 + n_threads)
        return max(1, int(n_threads))
    try:
        # Honours OMP_NUM_THREADS, threadpoolctl's OpenMP limits, CPU affinity and cgroup
        # CPU quotas, exactly as scikit-learn's own OpenMP code does.
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        n = _openmp_effective_n_threads()
    except ImportError:  # pragma: no cover
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # Also honour a BLAS-only limit (OPENBLAS_NUM_THREADS=1, threadpool_limits(1, "blas")).
    return max(1, min(n or 1, blas_threads, _MAX_DEFAULT_THREADS))
