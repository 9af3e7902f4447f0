"""An honest conditioning benchmark: time to the optimum, threads fixed and stated.

For each problem (easy, more separable, correlated, raw feature scales, wide,
sparse text-like, 20 classes, C=0.01 and C=100, L1, bundled datasets raw and
standardized) and each solver: the time until J is within 1e-6 (relative) of
the lowest J found, that of a tight scikit-learn fit (newton-cholesky or lbfgs,
saga for L1; tol=1e-10) or of any timed run's final iterate. J is computed by
the one function ``objective`` from its definition,

    J = (1/m) sum_i log-loss_i + (1 - l1_ratio)/(2 C m) ||W||^2 + l1_ratio/(C m) ||W||_1,

scikit-learn's objective over C*m, what GDLogisticRegression's loss_curve_ records.

- GDLogisticRegression (default, solver="gd", and preconditioner="diagonal" and
  "whitening" if the estimator has that parameter; tol=1e-10): the time, from
  before fit, to the first iteration whose loss_curve_ value reaches the target,
  from a callback recording time.perf_counter() at each iteration.
- LogisticRegression lbfgs, newton-cholesky, saga (no per-iteration hook): fits
  with max_iter = 1, 2, 4, ... (tol=1e-12), each timed; the first fit within the
  target gives the time and n_iter_.

Each solver is capped (60 s full, 5 s --quick), then "not reached (gap)". Every
problem runs under threadpool_limits(1) (BLAS, OpenMP and the package's row
blocks, all solvers) and with the default threads, both counts printed; and one
GDLogisticRegression() fit at its defaults (tol=1e-4, max_iter=1000) tells
whether it warns. On a shared machine the default-threads timings suffer when
other work holds the cores: the load average is printed with the tables.

    python benchmarks/bench_conditioning.py --quick   # 5-7 min on 2 busy cores
    python benchmarks/bench_conditioning.py           # full: about 1-1.5 h (estimated)
    python benchmarks/bench_conditioning.py --only easy,wide --threads 1
    python benchmarks/bench_conditioning.py --threads 1 --cap 20 --sparse 200000x50000

Writes benchmarks/results/bench_conditioning.{json,txt,png}: the data, a copy of
the printed tables, and time relative to lbfgs per problem (1 thread). A --quick or
--only run writes nothing unless given --out <folder>: a partial run must not
replace the full results.
"""

import argparse
import contextlib
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler, normalize
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from threadpoolctl import threadpool_info, threadpool_limits

from sk_gdlogreg import GDLogisticRegression
from sk_gdlogreg._blocks import default_n_threads

RESULTS = Path(__file__).parent / "results"
REL_TOL = 1e-6
GD_MAX_ITER = 5000
MAX_DOUBLING = 2**16
HAS_PRECONDITIONER = "preconditioner" in GDLogisticRegression().get_params()
LINES = []


def log(line=""):
    """Print a line and keep it for the .txt copy of the output."""
    print(line, flush=True)
    LINES.append(line)


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def standardized(X_y):
    return StandardScaler().fit_transform(X_y[0]), X_y[1]


def classification(m, d, **kw):
    return make_classification(m, d, random_state=0, **kw)


def correlated(m, d, cond=1e3, seed=0):
    """X = Z A with cond(A) = cond; labels from a random linear model plus logistic noise."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((d, d)))
    V, _ = np.linalg.qr(rng.standard_normal((d, d)))
    A = U @ np.diag(np.logspace(0, -np.log10(cond), d)) @ V.T
    X = rng.standard_normal((m, d)) @ A
    z = X @ rng.standard_normal(d)
    z = 3 * (z - z.mean()) / z.std()
    return standardized((X, (z + rng.logistic(size=m) > 0).astype(int)))


def raw_scales(m, d):
    X, y = standardized(classification(m, d, n_informative=30, class_sep=1.0, flip_y=0.05))
    return X * np.logspace(-3, 3, d), y


def sparse_text(m, n, nnz_per_row=50, seed=0):
    """A tf-idf-like CSR matrix: Zipf-like column popularity, rows of unit norm."""
    rng = np.random.default_rng(seed)
    popularity = 1 / np.arange(10, n + 10) ** 1.1
    cols = rng.choice(n, size=m * nnz_per_row, p=popularity / popularity.sum())
    rows = np.repeat(np.arange(m), nnz_per_row)
    X = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(m, n))  # term counts
    X.sum_duplicates()
    df = np.bincount(X.indices, minlength=n)
    X.data = (1 + np.log(X.data)) * np.log((1 + m) / (1 + df[X.indices]))
    X = normalize(X)
    w = rng.standard_normal(n) * (rng.random(n) < 0.1)
    z = X @ w
    z = 4 * (z - z.mean()) / z.std()
    return X, (z + rng.logistic(size=m) > 0).astype(int)


def problems(quick, sparse_shape=None):
    """name -> (builder of (X, y), C, l1_ratio); data built only when run."""
    if sparse_shape is None:
        sparse_shape = (50_000, 10_000) if quick else (500_000, 100_000)
    m = 5_000 if quick else 50_000
    wide = (4_000, 400) if quick else (20_000, 2_000)

    def easy():
        return standardized(classification(m, 100, n_informative=30, class_sep=1.0, flip_y=0.05))

    def bundled(loader, scale):
        return lambda: (standardized if scale else tuple)(loader(return_X_y=True))

    return {
        "easy": (easy, 1.0, 0.0),
        "separable": (
            lambda: standardized(
                classification(m, 100, n_informative=30, class_sep=3.0, flip_y=0.0)
            ),
            1.0,
            0.0,
        ),
        "correlated": (lambda: correlated(m, 100), 1.0, 0.0),
        "raw_scales": (lambda: raw_scales(m, 100), 1.0, 0.0),
        "wide": (lambda: standardized(classification(*wide, n_informative=50)), 1.0, 0.0),
        "sparse": (lambda: sparse_text(*sparse_shape), 1.0, 0.0),
        "20_classes": (
            lambda: standardized(
                classification(m, 60, n_informative=30, n_classes=20, n_clusters_per_class=1)
            ),
            1.0,
            0.0,
        ),
        "easy_C0.01": (easy, 0.01, 0.0),
        "easy_C100": (easy, 100.0, 0.0),
        "easy_l1": (easy, 0.1, 1.0),
        "breast_cancer_raw": (bundled(load_breast_cancer, False), 1.0, 0.0),
        "breast_cancer_std": (bundled(load_breast_cancer, True), 1.0, 0.0),
        "digits_raw": (bundled(load_digits, False), 1.0, 0.0),
        "digits_std": (bundled(load_digits, True), 1.0, 0.0),
    }


def objective(X, y_idx, coef, intercept, C, l1_ratio):
    """J from its definition, in float64 (sparse X: sparse products)."""
    coef = np.asarray(coef, dtype=np.float64)
    Z = np.asarray(X @ coef.T, dtype=np.float64) + np.asarray(intercept, dtype=np.float64)
    m = X.shape[0]
    if coef.shape[0] == 1:  # binary: one score per row, y in {0, 1}
        z = Z[:, 0]
        loss = np.logaddexp(0, z) - y_idx * z
    else:
        loss = logsumexp(Z, axis=1) - Z[np.arange(m), y_idx]
    return (
        loss.mean()
        + (1 - l1_ratio) / (2 * C * m) * np.sum(coef**2)
        + l1_ratio / (C * m) * np.sum(np.abs(coef))
    )


def reference(X, y, y_idx, C, l1_ratio):
    """A tight fit: saga for L1, newton-cholesky on small dense Hessians, else lbfgs."""
    n_classes = len(np.unique(y_idx))
    if l1_ratio > 0:
        solver = "saga"
    elif sp.issparse(X) or (X.shape[1] + 1) * (n_classes if n_classes > 2 else 1) > 1000:
        solver = "lbfgs"
    else:
        solver = "newton-cholesky"
    clf = LogisticRegression(solver=solver, C=C, l1_ratio=l1_ratio, tol=1e-10, max_iter=10_000)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    seconds = time.perf_counter() - t
    return objective(X, y_idx, clf.coef_, clf.intercept_, C, l1_ratio), solver, seconds


class Timestamps:
    """A scikit-learn callback recording when each iteration ends; stops the fit at a deadline."""

    def __init__(self):
        self.deadline = np.inf

    def setup(self, estimator, context):
        self.times = []

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "iteration":
            self.times.append(time.perf_counter())
            return self.times[-1] > self.deadline
        return False

    def teardown(self, estimator, context):
        pass


def run_gd(X, y, y_idx, C, l1_ratio, params, cap):
    """One GDLogisticRegression fit to tol=1e-10: its loss curve and per-iteration times."""
    stamps = Timestamps()
    clf = GDLogisticRegression(C=C, l1_ratio=l1_ratio, tol=1e-10, max_iter=GD_MAX_ITER, **params)
    clf.set_callbacks(stamps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        stamps.deadline = t0 + cap
        clf.fit(X, y)
        wall = time.perf_counter() - t0
    curve = [float(v) for v in clf.loss_curve_]
    J = objective(X, y_idx, clf.coef_, clf.intercept_, C, l1_ratio)
    return dict(
        kind="gd",
        times=[s - t0 for s in stamps.times],
        curve=curve,
        J_final=J,
        wall=wall,
        curve_vs_J=abs(min(curve) - J) / J,
    )


def run_sklearn(X, y, y_idx, C, l1_ratio, solver, cap, target):
    """LogisticRegression fits with max_iter doubling until J <= target() or the cap."""
    fits, max_iter, start = [], 1, time.perf_counter()
    while True:
        clf = LogisticRegression(
            solver=solver, C=C, l1_ratio=l1_ratio, tol=1e-12, max_iter=max_iter
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t = time.perf_counter()
            clf.fit(X, y)
            seconds = time.perf_counter() - t
        n_iter = int(np.max(clf.n_iter_))
        J = objective(X, y_idx, clf.coef_, clf.intercept_, C, l1_ratio)
        fits.append(dict(seconds=seconds, n_iter=n_iter, J=J))
        if J <= target() or n_iter < max_iter or 2 * seconds > cap or max_iter >= MAX_DOUBLING:
            break  # reached, stopped by its own tol, or the next fit would pass the cap
        max_iter *= 2
    return dict(
        kind="sklearn",
        fits=fits,
        J_final=min(f["J"] for f in fits),
        wall=time.perf_counter() - start,
        stopped_by_tol=n_iter < max_iter,
    )


def solvers(X, l1_ratio):
    """(label, kind, parameters) of the solvers timed on a problem."""
    gd = [("GD default", "gd", {}), ("GD solver=gd", "gd", dict(solver="gd"))]
    if HAS_PRECONDITIONER and l1_ratio == 0:
        gd += [(f"GD precond={p}", "gd", dict(preconditioner=p)) for p in ("diagonal", "whitening")]
    sk = (
        ["saga"]
        if l1_ratio > 0
        else ["lbfgs", "saga"]
        if sp.issparse(X)
        else ["lbfgs", "newton-cholesky", "saga"]
    )
    return gd + [(f"sklearn {s}", "sklearn", s) for s in sk]


def default_fit(X, y, y_idx, C, l1_ratio):
    """GDLogisticRegression at tol=1e-4, max_iter=1000: does it warn?"""
    clf = GDLogisticRegression(C=C, l1_ratio=l1_ratio)
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(X, y)
    seconds = time.perf_counter() - t
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    J = objective(X, y_idx, clf.coef_, clf.intercept_, C, l1_ratio)
    return dict(warns=warned, n_iter=int(clf.n_iter_), seconds=seconds, J=J)


def summarize(record, J_best):
    """seconds, iterations, reached and gap of one run against the final reference."""
    target = J_best * (1 + REL_TOL)
    if record["kind"] == "gd":  # per iteration: J, seconds, iterations run
        points = [(J, t, k + 1) for k, (J, t) in enumerate(zip(record["curve"], record["times"]))]
        note = ""
    else:  # per fit
        points = [(f["J"], f["seconds"], f["n_iter"]) for f in record["fits"]]
        note = "stopped by its tol" if record["stopped_by_tol"] else ""
    hit = [p for p in points if p[0] <= target]
    J, seconds, iterations = hit[0] if hit else points[-1]
    gap = (J if hit else min(p[0] for p in points)) / J_best - 1
    return dict(
        seconds=seconds, iterations=iterations, reached=bool(hit), gap=gap, note="" if hit else note
    )


def thread_settings(choice):
    settings = {"1": lambda: threadpool_limits(1), "default": contextlib.nullcontext}
    return {k: v for k, v in settings.items() if choice in (k, "both")}


def effective_threads():
    blas = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    return dict(blas=blas, openmp=_openmp_effective_n_threads(), sk_gdlogreg=default_n_threads())


def run_problem(name, build, C, l1_ratio, settings, cap):
    t = time.perf_counter()
    X, y = build()
    y_idx = np.unique(y, return_inverse=True)[1]
    with threadpool_limits(1):  # the reference is not timed: spared oversubscription
        J_ref, ref_solver, ref_seconds = reference(X, y, y_idx, C, l1_ratio)
    progress(f"{name}: {X.shape}, data + reference ({ref_solver}) {time.perf_counter() - t:.1f} s")
    J_best = [J_ref]
    runs = {}
    for setting, limits in settings.items():
        with limits():
            threads = effective_threads()
            for label, kind, params in solvers(X, l1_ratio):
                t = time.perf_counter()
                try:
                    if kind == "gd":
                        rec = run_gd(X, y, y_idx, C, l1_ratio, params, cap)
                    else:
                        rec = run_sklearn(
                            X, y, y_idx, C, l1_ratio, params, cap, lambda: J_best[0] * (1 + REL_TOL)
                        )
                    J_best[0] = min(J_best[0], rec["J_final"])
                except Exception as exc:  # e.g. a preconditioner that refuses sparse X
                    rec = dict(kind="error", error=f"{type(exc).__name__}: {exc}"[:80])
                runs[setting, label] = dict(rec, threads=threads)
                progress(f"  [{setting}] {label}: {time.perf_counter() - t:.1f} s")
    dflt = default_fit(X, y, y_idx, C, l1_ratio)
    rows = []
    for (setting, label), rec in runs.items():
        row = dict(
            problem=name,
            setting=setting,
            solver=label,
            threads=rec["threads"],
            wall=rec.get("wall"),
        )
        if rec["kind"] == "error":
            row.update(error=rec["error"])
        else:
            row.update(summarize(rec, J_best[0]))
            if rec["kind"] == "gd" and row["reached"]:
                row["curve_vs_J"] = rec["curve_vs_J"]
        if label == "GD default":
            row["default_fit"] = dict(dflt, gap=dflt["J"] / J_best[0] - 1)
        rows.append(row)
    add_ratios(rows)
    return dict(
        problem=name,
        shape=list(X.shape),
        sparse=sp.issparse(X),
        C=C,
        l1_ratio=l1_ratio,
        J_best=J_best[0],
        reference=dict(solver=ref_solver, J=J_ref, seconds=ref_seconds),
        rows=rows,
    )


def add_ratios(rows):
    """Time relative to lbfgs (saga where lbfgs is not run) in the same thread setting."""
    for row in rows:
        base = [
            r
            for r in rows
            if r["setting"] == row["setting"]
            and "error" not in r
            and r["solver"] in ("sklearn lbfgs", "sklearn saga")
        ]
        base = sorted(base, key=lambda r: r["solver"] != "sklearn lbfgs")
        if base and "error" not in row:
            row["baseline"] = base[0]["solver"]
            row["ratio"] = row["seconds"] / base[0]["seconds"]
            row["ratio_exact"] = row["reached"] and base[0]["reached"]


def print_tables(results, settings):
    for setting in settings:
        any_row = next(r for p in results for r in p["rows"] if r["setting"] == setting)
        th = any_row["threads"]
        title = "1 thread" if setting == "1" else f"default ({os.cpu_count()} threads)"
        log(
            f"\n{title}: effective BLAS {th['blas']}, OpenMP {th['openmp']}, "
            f"sk_gdlogreg row blocks {th['sk_gdlogreg']}"
        )
        log(
            f"{'problem':18} {'solver':24} {'seconds':>8} {'iters':>6} {'vs lbfgs':>9}  "
            f"{'reached (gap)':28} default fit (tol=1e-4)"
        )
        for p in results:
            for r in (r for r in p["rows"] if r["setting"] == setting):
                if "error" in r:
                    log(f"{p['problem']:18} {r['solver']:24} error: {r['error']}")
                    continue
                mark = "x" if r["ratio_exact"] else "*" if r["reached"] else "x"
                ratio = ("" if r["reached"] else ">") + f"{r['ratio']:.3g}{mark}"
                reached = "yes" if r["reached"] else f"not reached (gap {r['gap']:.1e})"
                if r["note"]:
                    reached += f", {r['note']}"
                dflt = r.get("default_fit")
                dflt = (
                    ""
                    if dflt is None
                    else (
                        f"{'ConvergenceWarning' if dflt['warns'] else 'no warning'}, "
                        f"{dflt['n_iter']} it, gap {dflt['gap']:.0e}"
                    )
                )
                log(
                    f"{p['problem']:18} {r['solver']:24} {r['seconds']:8.3f} "
                    f"{r['iterations']:6d} {ratio:>9}  {reached:28} {dflt}"
                )
        log(
            "(vs lbfgs: time over lbfgs's in this setting, saga's for easy_l1; '>' the solver"
            " did not reach the target within the cap; '*' lbfgs did not)"
        )


def figure(results, path, setting):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(r["solver"] for p in results for r in p["rows"]))
    colors = dict(zip(labels, plt.cm.tab10.colors))
    fig, ax = plt.subplots(figsize=(max(8, 1.2 * len(results)), 5))
    width = 0.8 / len(labels)
    for i, p in enumerate(results):
        rows = [r for r in p["rows"] if r["setting"] == setting and "ratio" in r]
        for r in rows:
            x = i + (labels.index(r["solver"]) - len(labels) / 2 + 0.5) * width
            ax.bar(
                x,
                r["ratio"],
                width,
                color=colors[r["solver"]],
                hatch=None if r["reached"] else "//",
                alpha=1 if r["reached"] else 0.5,
                edgecolor="k" if not r["reached"] else None,
                linewidth=0.5,
            )
            if not r["reached"]:
                ax.plot(x, r["ratio"], "kx", ms=5)
    ax.set_yscale("log")
    ax.axhline(1, color="k", lw=1, ls="--")
    ax.set_xticks(range(len(results)), [p["problem"] for p in results], rotation=30, ha="right")
    ax.set_ylabel("time to J within 1e-6 / lbfgs's (saga's for L1)")
    title = "1 thread" if setting == "1" else "default threads"
    ax.set_title(f"Time to the optimum relative to lbfgs ({title}); hatched, x: not reached")
    ax.legend(
        handles=[plt.Rectangle((0, 0), 1, 1, color=colors[s]) for s in labels],
        labels=labels,
        fontsize=8,
        ncol=2,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems, a 5 s cap")
    parser.add_argument("--only", help="comma-separated problems, of: " + ", ".join(problems(True)))
    parser.add_argument("--threads", choices=("1", "default", "both"), default="both")
    parser.add_argument(
        "--out",
        type=Path,
        help="folder for the results (default: benchmarks/results for a full run; a --quick"
        " or --only run writes nothing without it, so as not to replace the full results)",
    )
    parser.add_argument("--cap", type=float, help="seconds per solver (default 60, quick 5)")
    parser.add_argument("--sparse", help="rows x columns of the sparse problem, e.g. 200000x50000")
    args = parser.parse_args()
    cap = args.cap or (5.0 if args.quick else 60.0)
    sparse_shape = tuple(int(n) for n in args.sparse.split("x")) if args.sparse else None
    todo = problems(args.quick, sparse_shape)
    if args.only:
        names = args.only.split(",")
        unknown = set(names) - set(todo)
        if unknown:
            parser.error(f"unknown problems {sorted(unknown)}; choose from {list(todo)}")
        todo = {n: todo[n] for n in names}
    settings = thread_settings(args.threads)
    start, load_start = time.perf_counter(), os.getloadavg()
    results = [
        run_problem(name, build, C, l1, settings, cap) for name, (build, C, l1) in todo.items()
    ]
    log(
        f"Time to J within {REL_TOL:g} (relative) of the best J found, "
        f"{'quick' if args.quick else 'full'} run, cap {cap:g} s per solver, "
        f"os.cpu_count() = {os.cpu_count()}, preconditioner parameter: {HAS_PRECONDITIONER}"
    )
    for p in results:
        ref = p["reference"]
        log(
            f"  {p['problem']:18} {str(tuple(p['shape'])):>16} C={p['C']:g} "
            f"l1_ratio={p['l1_ratio']:g}  J* = {p['J_best']:.10g} (reference {ref['solver']}"
            f" {ref['J'] / p['J_best'] - 1:+.1e}, {ref['seconds']:.2f} s)"
        )
    print_tables(results, settings)
    check = max((r.get("curve_vs_J", 0) for p in results for r in p["rows"]), default=0)
    log(
        f"\nGD runs that reached the target: loss_curve_'s minimum against this script's J"
        f" of the final coef_, largest relative difference {check:.1e}"
    )
    log(
        f"Load average (1, 5, 15 min) at start {load_start}, at end {os.getloadavg()}: "
        "threads beyond the free cores make BLAS and the row blocks wait on each other"
    )
    total = time.perf_counter() - start
    log(f"Total run time {total:.0f} s")
    out = args.out if args.out is not None or args.quick or args.only else RESULTS
    if out is None:
        print("\n--quick or --only without --out: nothing written")
        return
    machine = dict(
        platform=platform.platform(),
        processor=platform.processor(),
        python=platform.python_version(),
        numpy=np.__version__,
        cpu_count=os.cpu_count(),
    )
    out.mkdir(parents=True, exist_ok=True)
    stem = out / "bench_conditioning"
    stem.with_suffix(".json").write_text(
        json.dumps(
            dict(
                machine=machine,
                load_average_start=load_start,
                load_average_end=os.getloadavg(),
                quick=args.quick,
                cap_s=cap,
                rel_tol=REL_TOL,
                seconds=total,
                has_preconditioner=HAS_PRECONDITIONER,
                problems=results,
            ),
            indent=1,
        )
    )
    figure(results, stem.with_suffix(".png"), "1" if "1" in settings else "default")
    stem.with_suffix(".txt").write_text("\n".join(LINES) + "\n")
    print(f"\nwrote {stem}.json, .txt and .png")


if __name__ == "__main__":
    main()
