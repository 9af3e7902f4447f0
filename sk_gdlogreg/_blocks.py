"""The data term of NumPy data over blocks of rows, shared among threads.

J and its gradient are sums over the rows, so they can be computed block by
block and added up. Two things make that worth doing on dense NumPy X:

- **One read of X per pass.** ``z = X @ w`` and ``dW = dz^T X`` both read X;
  done on a block small enough to stay in the CPU cache, the second product
  finds the block there, so X crosses the memory bus once per iteration instead
  of twice.
- **Threads.** NumPy releases the GIL in its BLAS calls and element-wise loops,
  so blocks can be shared among threads: the element-wise part (exp, log1p),
  which BLAS does not thread, then runs on every core too.

Every block stores its own J and gradient, and they are added in block order at
the end, so the result does not depend on the number of threads or on which
thread took which block. Threads are started for the pass and joined before it
returns: no thread outlives a call, so a fit works the same in a process started
by ``fork`` after a fit in its parent, and concurrent fits share nothing.

The number of threads follows the settings scikit-learn's own parallel code
follows: ``OMP_NUM_THREADS``, ``threadpoolctl.threadpool_limits``, the CPU
affinity and cgroup quotas, and a BLAS-only limit (``OPENBLAS_NUM_THREADS``,
``threadpool_limits(1, user_api="blas")``), at most ``MAX_THREADS``.

BLAS runs on one thread while a fit runs (``one_blas_thread``): the fit's
parallelism is its own threads over blocks, as scikit-learn's KMeans runs its
OpenMP threads with BLAS held to one. Measured (``benchmarks/bench_threads.py``):
on small and multinomial problems a 2-thread OpenBLAS made whole fits several
times slower, its threads waiting on each other for products of a few hundred
entries.

The pin also makes a fit's numbers the same wherever it runs: OpenBLAS splits a
long sum (``v @ X``, and some matrix products) among its threads, so its last
bits depend on the thread count. Every fit on NumPy data therefore computes on
one BLAS thread, in the main thread or in any other, alone or beside other fits.
OpenBLAS's thread pool is process-wide, and threadpoolctl (3.8) lets only the
first thread that set a limit change it, silently ignoring the others; the pin
takes that control for the moment it sets or restores the limits
(``_blas_limits``) and gives it back.
"""

import contextlib
import functools
import itertools
import threading

import numpy as np

# Bytes of X per block. Measured on a 2-core VM (512 KiB L2 per core, 32 MiB
# L3) with X of 200,000 x 100: flat from ~1 to ~4 MiB; smaller blocks pay the
# per-block Python overhead more often, larger ones leave the cache.
BLOCK_BYTES = 2 * 2**20
MIN_BLOCK_ROWS, MAX_BLOCK_ROWS = 64, 16384
# Wide rows: at least WIDE_ROWS rows a block, up to WIDE_BYTES. A block's own cost
# (a dozen NumPy calls, some 30 us) weighs on blocks of few rows, and on this VM
# the second product reads a block from the L3 cache barely faster than from
# memory. Measured (the pass, 2 MiB blocks against these, one thread / two):
# 5,000 x 1,000 (262 -> 512 rows) 0.90x / 0.81x the time, 10,000 x 700 0.93x /
# 0.91x, 2,500 x 2,000 0.86x / 0.77x, 2,000 x 4,000 (65 -> 262 rows) 0.86x / 0.82x.
WIDE_ROWS, WIDE_BYTES = 512, 8 * 2**20
# A thread is worth its start (~0.1 ms) when it gets a couple of blocks.
MIN_BLOCKS_PER_THREAD = 2
# At most this many threads by default: measured on a 16-core machine, the pass
# was fastest with 2 threads (Python threads take turns at the GIL between the
# NumPy calls of each block).
MAX_THREADS = 2


def block_rows(X):
    """Rows per block for X: about BLOCK_BYTES of it, or WIDE_ROWS rows of wide X."""
    row_bytes = max(X.shape[1], 1) * X.dtype.itemsize
    rows = max(BLOCK_BYTES // row_bytes, min(WIDE_ROWS, WIDE_BYTES // row_bytes))
    return min(MAX_BLOCK_ROWS, max(MIN_BLOCK_ROWS, rows))


def n_blocks(X):
    return -(-X.shape[0] // block_rows(X))


def over_rows(fn, X, Y, sw, coef, fit_intercept, n_threads=1):
    """``fn(X, Y, sw, coef, fit_intercept)`` summed over blocks of rows.

    ``fn`` returns (J, grad) for the rows it is given, J a float and grad shaped
    like ``coef``. Partial gradients are added in float64, which keeps float32
    gradients accurate on large m, and returned in coef's dtype.
    """
    rows, count = block_rows(X), n_blocks(X)
    if count == 1:
        return fn(X, Y, sw, coef, fit_intercept)
    parts = [None] * count
    blocks = itertools.count()  # next() is atomic under the GIL
    errors = []

    def work():
        try:
            for i in blocks:
                if i >= count or errors:
                    return
                s = slice(i * rows, (i + 1) * rows)
                parts[i] = fn(X[s], Y[s], sw[s], coef, fit_intercept)
        except BaseException as error:  # re-raised in the calling thread
            errors.append(error)

    n_threads = max(1, min(n_threads, count // MIN_BLOCKS_PER_THREAD))
    threads = [threading.Thread(target=work, daemon=True) for _ in range(n_threads - 1)]
    for t in threads:
        t.start()
    work()  # the calling thread takes blocks too
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    J = sum(J for J, _ in parts)
    grad = np.sum([g for _, g in parts], axis=0, dtype=np.float64)
    return float(J), grad.astype(coef.dtype, copy=False)


def over_ranges(work, count, n_threads=1):
    """``work(first, last)`` on the blocks 0 .. count - 1, in contiguous ranges, one
    per thread (the calling thread takes the first); every thread joined before it
    returns. For work that releases the GIL and writes each block's result in its own
    place (the compiled loops): which thread ran a block changes nothing.
    """
    n_threads = max(1, min(n_threads, count // MIN_BLOCKS_PER_THREAD))
    if n_threads == 1:  # a small table's pass is a few microseconds: nothing but the call
        work(0, count)
        return
    bounds = [count * t // n_threads for t in range(n_threads + 1)]
    errors = []

    def run(first, last):
        try:
            work(first, last)
        except BaseException as error:  # re-raised in the calling thread
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=bounds[t : t + 2], daemon=True)
        for t in range(1, n_threads)
    ]
    for t in threads:
        t.start()
    run(bounds[0], bounds[1])
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def default_n_threads():
    """Threads for a pass, from the environment's limits, at most MAX_THREADS."""
    from ._sklearn import openmp_effective_n_threads

    n = openmp_effective_n_threads()  # OMP_NUM_THREADS, threadpoolctl, affinity, cgroups
    with _pin_lock:  # while fits run, BLAS's limits before they pinned it
        blas = _blas_threads() if _pin["users"] == 0 else _pin["before"]
    return max(1, min([n, MAX_THREADS, *blas]))


@functools.cache
def _controller():
    """The process's thread pools, found once (a search takes milliseconds), as
    scikit-learn keeps its own."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _blas_threads():
    return [lib["num_threads"] for lib in _controller().info() if lib["user_api"] == "blas"]


# BLAS limits are process-wide: fits running at once in several threads share
# one pin, set by the first to start and lifted by the last to end, so that
# none of them restores the limits while another still runs.
_pin_lock = threading.Lock()
_pin = {"users": 0, "limiter": None, "before": []}


@contextlib.contextmanager
def one_blas_thread(active=True):
    """BLAS limited to one thread inside (every BLAS library of the process).

    Concurrent and nested uses share one limit; the limits from before the
    first are restored when the last ends. ``active=False``: nothing is limited.
    """
    if not active:
        yield
        return
    with _pin_lock:
        if _pin["users"] == 0:
            _pin["before"] = _blas_threads()
            with _blas_limits():
                _pin["limiter"] = _controller().limit(limits=1, user_api="blas")
        _pin["users"] += 1
    try:
        yield
    finally:
        with _pin_lock:
            _pin["users"] -= 1
            if _pin["users"] == 0:
                with _blas_limits():
                    _pin["limiter"].restore_original_limits()
                _pin["limiter"] = None


@contextlib.contextmanager
def _blas_limits():
    """Inside, this thread can set OpenBLAS's limits, whichever thread set them before.

    threadpoolctl's OpenBLAS controller lets one thread at a time set limits (the
    pool is process-wide) and, without a word, does nothing for the others. Here
    the calling thread takes that control, and no thread holds it after: the next
    ``threadpool_limits`` of any thread (a user's, ending its block) takes it again.
    Older threadpoolctl versions let every thread set limits, and need nothing.
    """
    from threadpoolctl import OpenBLASController

    clear = getattr(OpenBLASController, "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)
    try:
        yield
    finally:
        if clear is not None:
            clear(force=True)
