"""Threads: a pass at 1 and 2 threads with np.dot or np.matmul; fits with BLAS pinned or not.

Run from the repository root (about a minute on 2 cores):

    python benchmarks/bench_threads.py

Two measurements, each a ratio of two variants timed alternately in this one
run (the machine is shared and noisy; medians of the repeats):

1. One pass (J and gradient, ``_blocks.over_rows``) over 200,000 x 100 float64,
   binary and 10 classes, at 1 and 2 threads of row blocks, with the package's
   product (``np.dot``, which releases the GIL) and with ``np.matmul`` (which
   keeps it while it computes a small output). BLAS at one thread.
2. Whole default fits (``tol=1e-6``) at the machine's default threads, in the
   main thread, BLAS pinned to one thread during the fit (the package's
   behaviour) against BLAS left at its default threads.

Writes benchmarks/results/bench_threads.{txt,json}.
"""

import contextlib
import json
import os
import platform
import statistics
import time
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from sk_gdlogreg import GDLogisticRegression, _blocks, _objective

RESULTS = Path(__file__).parent / "results"
LINES, DATA = [], {}


def log(line=""):
    print(line, flush=True)
    LINES.append(line)


def matmul(a, b):
    return a @ b


def pass_section(repeats=15):
    log("1. One pass over 200,000 x 100 float64 (ms, median); BLAS at 1 thread")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200_000, 100))
    sw = np.full(X.shape[0], 1 / X.shape[0])
    rows = []
    for K in (1, 10):
        n_classes = 2 if K == 1 else K
        Y = _objective.targets(rng.integers(0, n_classes, X.shape[0]), n_classes, X.dtype)
        coef = rng.standard_normal((K, 101)) * 0.1
        times = {(n, name): [] for n in (1, 2) for name in ("np.dot", "matmul")}
        for _ in range(repeats):  # alternately, so that load hits every variant alike
            for (n_threads, name), ts in times.items():
                product = np.dot if name == "np.dot" else matmul
                with mock.patch.object(_objective, "_product", product):
                    start = time.perf_counter()
                    _blocks.over_rows(_objective.data_term, X, Y, sw, coef, True, n_threads)
                    ts.append(1e3 * (time.perf_counter() - start))
        med = {key: statistics.median(ts) for key, ts in times.items()}
        for n_threads in (1, 2):
            dot, mm = med[(n_threads, "np.dot")], med[(n_threads, "matmul")]
            log(
                f"   K={K:<2} {n_threads} thread(s): np.dot {dot:6.1f}  matmul {mm:6.1f}  "
                f"matmul/np.dot {mm / dot:4.2f}"
            )
            rows.append({"K": K, "threads": n_threads, "dot_ms": dot, "matmul_ms": mm})
        log(
            f"   K={K:<2} 2 threads over 1: np.dot {med[(1, 'np.dot')] / med[(2, 'np.dot')]:4.2f}x"
            f"  matmul {med[(1, 'matmul')] / med[(2, 'matmul')]:4.2f}x"
        )
    DATA["pass"] = rows


def fit_problems():
    def make(m, d, **kw):
        X, y = make_classification(m, d, n_informative=30, random_state=0, **kw)
        return StandardScaler().fit_transform(X), y

    return {
        "breast cancer raw (569 x 30)": load_breast_cancer(return_X_y=True),
        "digits raw (1797 x 64, 10 classes)": load_digits(return_X_y=True),
        "5,000 x 60, 10 classes": make(5_000, 60, n_classes=10, n_clusters_per_class=1),
        "50,000 x 60, 20 classes": make(50_000, 60, n_classes=20, n_clusters_per_class=1),
        "200,000 x 100, binary": make(200_000, 100),
    }


@contextlib.contextmanager
def unpinned(active=True):
    """The package's fit with BLAS left at its threads."""
    yield


def fit_section(repeats=3):
    log()
    log(f"2. Default fits (tol=1e-6), default threads ({_blocks.default_n_threads()} row threads)")
    rows = []
    for name, (X, y) in fit_problems().items():
        times = {"pinned": [], "unpinned": []}
        for _ in range(repeats):
            for variant, ts in times.items():
                patch = mock.patch.object(
                    _blocks,
                    "one_blas_thread",
                    _blocks.one_blas_thread if variant == "pinned" else unpinned,
                )
                with patch, warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    start = time.perf_counter()
                    clf = GDLogisticRegression(tol=1e-6).fit(X, y)
                    ts.append(time.perf_counter() - start)
        pinned, free = (statistics.median(times[k]) for k in ("pinned", "unpinned"))
        log(
            f"   {name:36s} pinned {pinned:7.3f} s  unpinned {free:7.3f} s  "
            f"unpinned/pinned {free / pinned:5.2f}  ({clf.n_iter_} iterations)"
        )
        rows.append({"problem": name, "pinned_s": pinned, "unpinned_s": free})
    DATA["fit"] = rows


def main():
    blas = [
        (lib["internal_api"], lib.get("version"), lib["num_threads"]) for lib in threadpool_info()
    ]
    log(f"{platform.processor() or platform.machine()}, os.cpu_count() = {os.cpu_count()}")
    log(f"threadpool libraries (api, version, threads): {blas}")
    log(f"load average at start: {os.getloadavg()}")
    log()
    with threadpool_limits(1, user_api="blas"):
        pass_section()
    fit_section()
    log()
    log(f"load average at end: {os.getloadavg()}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_threads.txt").write_text("\n".join(LINES) + "\n")
    (RESULTS / "bench_threads.json").write_text(json.dumps(DATA, indent=1))


if __name__ == "__main__":
    main()
