"""Memory: the peak a fit allocates beyond X, relative to the size of X.

Run from the repository root (a few minutes on 2 cores):

    python benchmarks/bench_memory.py            # --quick: smaller problems, a smoke test

Cases, each fitted at default settings by GDLogisticRegression and, measured
the same way, by scikit-learn's LogisticRegression (lbfgs) as the reference:

- dense float64 and float32, 200,000 x 100, correlated features (a common
  factor): the first 5 iterations do not converge, so the default fit whitens
  its coordinates (the number of Whitening matrices built is printed);
- sparse CSR 100,000 x 20,000 with 3M stored values, and 200,000 x 20,000 at
  the same density (6M).

The size of X is what holds its values: ``X.nbytes`` for a dense array, and
``data + indices + indptr`` for a sparse matrix. tracemalloc is started once X
and y exist, so its peak is what the fit allocates beyond them: NumPy and SciPy
allocate their arrays through the traced allocator (what BLAS allocates
internally is not seen; at one thread that is small). For GDLogisticRegression
a callback restarts the peak when the first iteration begins, which splits the
set-up (validation, column statistics) from the iterations.

Threads: everything runs under ``threadpool_limits(1)`` (BLAS and OpenMP at
one thread; the package's passes then run on one thread too).

Writes benchmarks/results/bench_memory.{txt,json}.
"""

import argparse
import json
import os
import platform
import time
import tracemalloc
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from sk_gdlogreg import GDLogisticRegression, _coordinates

RESULTS = Path(__file__).parent / "results"
LINES, DATA = [], {"cases": []}


def log(line=""):
    print(line, flush=True)
    LINES.append(line)


class PeakFromFirstIteration:
    """A callback that restarts tracemalloc's peak when the first iteration begins."""

    def setup(self, estimator, context):
        self.setup_peak = None

    def on_fit_task_begin(self, estimator, context):
        if context.task_name == "iteration" and self.setup_peak is None:
            self.setup_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()

    def on_fit_task_end(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass


def size_of(X):
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def dense_problem(m, d, dtype, rng):
    """Features sharing a common factor (condition number ~ d): diagonal
    coordinates converge slowly, so the default fit whitens."""
    X = rng.standard_normal((m, d)) + rng.standard_normal((m, 1))
    w = rng.standard_normal(d) / np.sqrt(d)
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w)))).astype(int)
    return X.astype(dtype), y


def sparse_problem(m, n, nnz, rng):
    X = sp.random_array(
        (m, n), density=nnz / (m * n), format="csr", rng=rng, data_sampler=rng.standard_normal
    )
    X = sp.csr_matrix(X)  # the matrix interface, as most users have it
    w = rng.standard_normal(n)
    z = X @ w
    y = (rng.random(m) < 1 / (1 + np.exp(-z))).astype(int)
    return X, y


def measure(name, X, y):
    x_bytes = size_of(X)
    row = dict(case=name, shape=list(X.shape), dtype=X.dtype.name, X_MB=x_bytes / 1e6)
    if sp.issparse(X):
        row["nnz"] = int(X.nnz)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # GDLogisticRegression, the Whitening matrices it builds counted
        probe = PeakFromFirstIteration()
        clf = GDLogisticRegression().set_callbacks(probe)
        wrapped = mock.patch.object(_coordinates, "Whitening", wraps=_coordinates.Whitening)
        with wrapped as whitening:
            tracemalloc.start()
            start = time.perf_counter()
            clf.fit(X, y)
            seconds = time.perf_counter() - start
            _, iterations_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        peak = max(probe.setup_peak, iterations_peak)
        row["gd"] = dict(
            n_iter=int(clf.n_iter_),
            whitenings=whitening.call_count,
            seconds=seconds,
            peak_MB=peak / 1e6,
            peak_over_X=peak / x_bytes,
            setup_peak_MB=probe.setup_peak / 1e6,
            setup_over_X=probe.setup_peak / x_bytes,
            iterations_peak_MB=iterations_peak / 1e6,
            iterations_over_X=iterations_peak / x_bytes,
        )
        ref = LogisticRegression()
        tracemalloc.start()
        start = time.perf_counter()
        ref.fit(X, y)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        row["lbfgs"] = dict(
            n_iter=int(ref.n_iter_[0]),
            seconds=seconds,
            peak_MB=peak / 1e6,
            peak_over_X=peak / x_bytes,
        )
    DATA["cases"].append(row)
    g, r = row["gd"], row["lbfgs"]
    log(f"{name}: X = {row['X_MB']:.1f} MB")
    log(
        f"   GDLogisticRegression  peak {g['peak_MB']:7.1f} MB = {g['peak_over_X']:.3f} x X"
        f"   (set-up {g['setup_peak_MB']:.1f} MB = {g['setup_over_X']:.3f} x X; iterations "
        f"{g['iterations_peak_MB']:.1f} MB = {g['iterations_over_X']:.3f} x X)"
        f"   {g['n_iter']} iterations, {g['whitenings']} whitening(s), {g['seconds']:.2f} s"
    )
    log(
        f"   LogisticRegression    peak {r['peak_MB']:7.1f} MB = {r['peak_over_X']:.3f} x X"
        f"   {r['n_iter']} iterations, {r['seconds']:.2f} s"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems, for a smoke test")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    rng = np.random.default_rng(0)
    machine = dict(
        platform=platform.platform(),
        processor=platform.processor(),
        cpu_count=os.cpu_count(),
        python=platform.python_version(),
        numpy=np.__version__,
        scipy=scipy.__version__,
        sklearn=sklearn.__version__,
        threads=1,
    )
    DATA["machine"] = machine
    log(f"{machine['processor'] or platform.machine()}, os.cpu_count() = {os.cpu_count()}")
    log(f"NumPy {np.__version__}, SciPy {machine['scipy']}, scikit-learn {sklearn.__version__}")
    log("threadpool_limits(1): BLAS, OpenMP and the package's passes on one thread")
    log(f"load average at start: {os.getloadavg()}")
    log()
    with threadpool_limits(1):
        m, d = 200_000 // scale, 100
        for dtype in (np.float64, np.float32):
            X, y = dense_problem(m, d, dtype, rng)
            measure(f"dense {np.dtype(dtype).name} {m:,} x {d}, correlated", X, y)
            del X, y
        for m, n, nnz in [(100_000, 20_000, 3_000_000), (200_000, 20_000, 6_000_000)]:
            m, nnz = m // scale, nnz // scale
            X, y = sparse_problem(m, n, nnz, rng)
            measure(f"sparse CSR {m:,} x {n:,}, {X.nnz:,} stored", X, y)
            del X, y
    log()
    log(f"load average at end: {os.getloadavg()}")
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "bench_memory.txt").write_text("\n".join(LINES) + "\n")
        (RESULTS / "bench_memory.json").write_text(json.dumps(DATA, indent=1))
        log(f"wrote {RESULTS / 'bench_memory.txt'} and .json")


if __name__ == "__main__":
    main()
