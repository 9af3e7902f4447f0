"""Everyday speed (issue 17): per-iteration cost, small tables, time to the optimum.

The comparison a new user makes first: standardized, small or mid-sized data,
often more than two classes, against LogisticRegression's default (lbfgs).
Three sections, each selectable with --only:

1. per_iteration: the time of one iteration, from fits with max_iter = 5 and 25
   (tol=0; the difference over the difference of n_iter_; best of several, the
   methods taking turns; for GD also the median interval of a per-iteration
   clock, a cross-check) of GDLogisticRegression() (default),
   GDLogisticRegression(learning_rate=1.0) (constant step) and
   LogisticRegression(tol=0) (lbfgs: iterations and function evaluations,
   n_iter_ and scipy's nfev), on standardized
   make_classification(m, 100, n_informative=30) for m = 50,000 and 400,000,
   float64; against one read of X (np.dot(x, x) over X's memory), the textbook
   NumPy step (z = X@w + b; a = expit(z); dw = X.T@(a - y)/m; db = mean(a - y))
   and the package's data term alone (InMemoryData.loss_grad). On standardized
   breast cancer: the constant-step fit against the lecture's plain NumPy
   gradient_descent, per iteration (max_iter = 20 and 220).
2. small_data: cross_val_score(cv=5) of GDLogisticRegression() and
   LogisticRegression() at their defaults, in a pipeline after StandardScaler
   and on the raw features, on breast cancer, wine, iris and digits: best of 9,
   the two sides taking turns (so that both meet the machine's load alike),
   the ConvergenceWarnings of one run (of 5 fits), the mean log-loss on the
   folds (scoring="neg_log_loss"), and the mean gap F - F* of each side's
   training objective on the folds to its optimum (F* from a tight
   newton-cholesky fit): test log-loss also moves with how early a fit stops,
   the gap says which side solved the problem better.
3. time_to_optimum: the issue's four problems (easy 50,000 x 100; more
   separable at C=100; wide 5,000 x 1,000; 10 classes 50,000 x 60; all
   standardized): the time until F, computed from its definition by
   bench_conditioning.objective, is within 1e-6 (relative) of the lowest F found,
   for the default (one fit at tol=1e-10, per-iteration clock), lbfgs and
   newton-cholesky (fits with max_iter doubling, as bench_conditioning, then
   bisection for the least max_iter that reaches the target), glum
   (GeneralizedLinearRegressor(family="binomial", alpha=1/(C m)): its objective
   is deviance/(2m) + alpha ||w||^2/2, the mean log-loss + ||w||^2/(2 C m)) and
   cyanure (LogisticRegression(lambda_1=1/(C m)): (1/m) sum loss + lambda_1
   ||w||^2/2, intercept unregularized), both binary only, their max_iter
   found in the same way; the tables print each one's gap after a tight fit, which
   checks the scaling. Each solver is capped (30 s, 5 s --quick). Three rounds
   (one --quick), every solver once a round, each keeping its fastest.

Everything runs under threadpool_limits(1) (BLAS, OpenMP, the package's row
blocks; cyanure's n_threads=1) unless --threads says otherwise; the effective
counts are printed. The machine is shared: compare ratios within one run.

    python benchmarks/bench_everyday.py                 # all, 1 thread: 3-4 min, 2 busy cores
    python benchmarks/bench_everyday.py --quick         # smoke test, smaller data, writes nothing
    python benchmarks/bench_everyday.py --only small_data,per_iteration
    python benchmarks/bench_everyday.py --threads both --cap 60

Writes benchmarks/results/bench_everyday.{txt,json} (not with --quick): a copy of
the printed tables and the data.
"""

import argparse
import contextlib
import itertools
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.special import expit
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

sys.path.insert(0, str(Path(__file__).parent))
from bench_conditioning import (  # noqa: E402
    LINES,
    REL_TOL,
    Timestamps,
    classification,
    effective_threads,
    log,
    objective,
    problems,
    progress,
    reference,
    run_gd,
    standardized,
    summarize,
    thread_settings,
)
from bench_gd import best_time  # noqa: E402

from sk_gdlogreg import GDLogisticRegression, lecture  # noqa: E402
from sk_gdlogreg._backends import InMemoryData  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SECTIONS = ("per_iteration", "small_data", "time_to_optimum")
MAX_DOUBLING = 2**12

try:
    from glum import GeneralizedLinearRegressor
except ImportError as exc:  # optional peers: left out, and said so
    GeneralizedLinearRegressor, GLUM_MISSING = None, str(exc)
else:
    GLUM_MISSING = None
try:
    from cyanure.estimators import LogisticRegression as CyanureLogisticRegression
except ImportError as exc:
    CyanureLogisticRegression, CYANURE_MISSING = None, str(exc)
else:
    CYANURE_MISSING = None


def quiet(fn):
    """Run fn with ConvergenceWarnings (fits stopped at max_iter on purpose) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn()


def thread_pools():
    """Every thread pool threadpoolctl sees (BLAS and OpenMP libraries, glum's included)."""
    return [
        f"{lib['user_api']}:{lib['internal_api']}={lib['num_threads']}"
        f" ({Path(lib['filepath']).name})"
        for lib in threadpool_info()
    ]


# 1. Per-iteration cost ------------------------------------------------------


@contextlib.contextmanager
def counting_nfev(store):
    """Record scipy's nfev of each L-BFGS run LogisticRegression makes (untimed fits only)."""
    import sklearn.linear_model._logistic as logistic

    original = logistic.optimize

    class Counting:
        def __getattr__(self, name):
            return getattr(original, name)

        def minimize(self, *args, **kwargs):
            result = original.minimize(*args, **kwargs)
            store.append(int(result.nfev))
            return result

    logistic.optimize = Counting()
    try:
        yield
    finally:
        logistic.optimize = original


class LectureSteps:
    """``lecture.gradient_descent`` with learning rate 1 for k steps, as an estimator's fit."""

    def __init__(self, k):
        self.n_iter_ = k

    def fit(self, X, y):
        lecture.gradient_descent(X, y, learning_rate=1.0, n_iter=self.n_iter_)
        return self


def per_iteration_of_fits(methods, y, ks, repeat):
    """Seconds per iteration of each method, from fits of max_iter = ks[0], ks[1].

    ``methods`` maps a name to ``(make, X, count_nfev)``, ``make(k)`` an unfitted
    estimator; ``count_nfev`` True for lbfgs (its function evaluations are counted),
    False for this package's fits (the median interval of their per-iteration
    clock is kept too, a cross-check), None for neither. The methods take turns,
    a fit of each k each, ``repeat`` rounds, and each keeps its best time per k:
    a burst of load on this shared machine then falls on every side alike
    instead of on the one timed during it.
    """
    best = {name: [np.inf] * len(ks) for name in methods}
    n_iter = {}
    for _ in range(repeat):
        for name, (make, X, _) in methods.items():
            for i, k in enumerate(ks):
                est = make(k)
                t = time.perf_counter()
                quiet(lambda: est.fit(X, y))
                best[name][i] = min(best[name][i], time.perf_counter() - t)
                n_iter.setdefault(name, [0] * len(ks))[i] = int(np.max(est.n_iter_))
    rows = {}
    for name, (make, X, count_nfev) in methods.items():
        seconds, its = best[name], n_iter[name]
        row = dict(
            fit_seconds=seconds,
            n_iter=its,
            per_iter_s=(seconds[1] - seconds[0]) / max(its[1] - its[0], 1),
        )
        if count_nfev:
            nfev = []
            for k in ks:
                store = []
                with counting_nfev(store):
                    quiet(lambda: make(k).fit(X, y))
                nfev.append(sum(store))
            row.update(nfev=nfev, per_nfev_s=(seconds[1] - seconds[0]) / max(nfev[1] - nfev[0], 1))
        elif count_nfev is not None:  # cross-check: the median interval of the iteration clock
            intervals = []
            for _ in range(repeat):
                stamps = Timestamps()
                quiet(lambda: make(ks[1]).set_callbacks(stamps).fit(X, y))
                intervals.append(np.median(np.diff(stamps.times)))
            row["median_interval_s"] = float(min(intervals))
        rows[name] = row
    return rows


def textbook_step(X, y, w, b):
    """The textbook NumPy step (no loss value): X is read twice."""
    m = X.shape[0]
    z = X @ w + b
    a = expit(z)
    dz = a - y
    return X.T @ dz / m, dz.mean()


def one_read(X):
    x = X.ravel()  # a view: X is C-contiguous
    return np.dot(x, x)


def data_term_call(X, y):
    m, d = X.shape
    data = InMemoryData(X, y, np.ones(m), 2, True)
    coef = np.random.default_rng(0).standard_normal((1, d + 1)) * 0.1
    return lambda: data.loss_grad(coef)


def per_iteration(sizes, repeat):
    ks = (5, 25)
    rows = []
    for m in sizes:
        t0 = time.perf_counter()
        repeat_m = repeat if m < 200_000 else max(2, repeat - 2)  # fits of seconds each
        X, y = standardized(classification(m, 100, n_informative=30))
        w = np.random.default_rng(0).standard_normal(100) * 0.1
        r = best_time(lambda: one_read(X), 3 * repeat_m)
        textbook = best_time(lambda: textbook_step(X, y, w, 0.1), repeat_m)
        data_term = best_time(data_term_call(X, y), repeat_m)
        methods = {
            "GD default": (lambda k: GDLogisticRegression(max_iter=k, tol=0), X, False),
            "GD learning_rate=1.0": (
                lambda k: GDLogisticRegression(learning_rate=1.0, max_iter=k, tol=0),
                X,
                False,
            ),
            "lbfgs": (lambda k: LogisticRegression(max_iter=k, tol=0), X, True),
        }
        if m < 200_000:  # X in F order, as a pandas DataFrame's values come: both sides
            F = np.asfortranarray(X)
            methods["GD default, F order"] = (
                lambda k: GDLogisticRegression(max_iter=k, tol=0),
                F,
                False,
            )
            methods["lbfgs, F order"] = (lambda k: LogisticRegression(max_iter=k, tol=0), F, True)
        fits = per_iteration_of_fits(methods, y, ks, repeat_m)
        rows.append(
            dict(
                data=f"make_classification {m} x 100",
                shape=[m, 100],
                ks=list(ks),
                read_s=r,
                read_GBps=X.nbytes / r / 1e9,
                textbook_s=textbook,
                data_term_s=data_term,
                fits=fits,
                repeat=repeat_m,
            )
        )
        progress(f"per_iteration {m} x 100: {time.perf_counter() - t0:.1f} s")
    # standardized breast cancer: the constant-step fit against the lecture's NumPy step
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ks_small = (20, 220)
    small_repeat = 5 * repeat
    fits = per_iteration_of_fits(
        {
            "GD default": (lambda k: GDLogisticRegression(max_iter=k, tol=0), X, False),
            "GD learning_rate=1.0": (
                lambda k: GDLogisticRegression(learning_rate=1.0, max_iter=k, tol=0),
                X,
                False,
            ),
            "lecture": (LectureSteps, X, None),
        },
        y,
        ks_small,
        small_repeat,
    )
    lecture_fit = fits.pop("lecture")
    rows.append(
        dict(
            data="breast cancer, standardized",
            shape=list(X.shape),
            ks=list(ks_small),
            read_s=best_time(lambda: one_read(X), 3 * small_repeat),
            textbook_s=best_time(
                lambda: textbook_step(X, y, np.zeros(X.shape[1]), 0.0), small_repeat
            ),
            data_term_s=best_time(data_term_call(X, y), small_repeat),
            lecture_per_iter_s=lecture_fit["per_iter_s"],
            lecture_fit_seconds=lecture_fit["fit_seconds"],
            fits=fits,
        )
    )
    print_per_iteration(rows, repeat)
    return rows


def print_per_iteration(rows, repeat):
    log(
        f"\n1. Per iteration (fits with max_iter = k1, k2, tol=0: time difference over the"
        f" difference of n_iter_; best of {repeat}, 400,000 rows {max(2, repeat - 2)},"
        f" breast cancer {5 * repeat}, the methods taking turns), float64; 'vs lbfgs' of"
        f" an F-order row: against lbfgs on the same F-ordered X"
    )
    log(
        f"{'data':30} {'method':22} {'n_iter (k1, k2)':>16} {'ms/iter':>9} {'vs lbfgs':>9}"
        f" {'vs read':>8} {'vs textbook':>12} {'median interval ms':>19}"
    )
    for row in rows:
        lbfgs = row["fits"].get("lbfgs")
        for name, fit in row["fits"].items():
            per = fit["per_iter_s"]
            same_order = row["fits"].get("lbfgs, F order") if "F order" in name else lbfgs
            vs = f"{per / same_order['per_iter_s']:8.2f}x" if same_order else f"{'':9}"
            log(
                f"{row['data']:30} {name:22} {str(tuple(fit['n_iter'])):>16} {per * 1e3:9.3f}"
                f" {vs} {per / row['read_s']:7.2f}x {per / row['textbook_s']:11.2f}x"
                + (f" {fit['median_interval_s'] * 1e3:19.3f}" if "median_interval_s" in fit else "")
            )
            if "nfev" in fit:
                log(
                    f"{'':30} {'  (lbfgs nfev)':22} {str(tuple(fit['nfev'])):>16}"
                    f" {fit['per_nfev_s'] * 1e3:9.3f}  ms per function evaluation"
                )
        for name, seconds in (
            ("one read of X", row["read_s"]),
            ("textbook NumPy step", row["textbook_s"]),
            ("data.loss_grad (alone)", row["data_term_s"]),
            ("lecture.gradient_descent", row.get("lecture_per_iter_s")),
        ):
            if seconds is None:
                continue
            vs = f"{seconds / lbfgs['per_iter_s']:8.2f}x" if lbfgs else f"{'':9}"
            log(
                f"{row['data']:30} {name:22} {'':>16} {seconds * 1e3:9.3f} {vs}"
                f" {seconds / row['read_s']:7.2f}x {seconds / row['textbook_s']:11.2f}x"
            )
        if "read_GBps" in row:
            log(f"{'':30} (one read of X: {row['read_GBps']:.1f} GB/s)")
    bc = rows[-1]
    const = bc["fits"]["GD learning_rate=1.0"]["per_iter_s"]
    log(
        f"breast cancer: constant-step fit per iteration / lecture.gradient_descent's ="
        f" {const / bc['lecture_per_iter_s']:.2f}x (target <= 1.3x)"
    )
    for row in rows[:-1]:
        f = row["fits"]
        log(
            f"{row['data']}: ours/lbfgs per iteration, default"
            f" {f['GD default']['per_iter_s'] / f['lbfgs']['per_iter_s']:.2f}x, constant step"
            f" {f['GD learning_rate=1.0']['per_iter_s'] / f['lbfgs']['per_iter_s']:.2f}x"
            f" (target <= 0.8x at 50,000); ours/read, default"
            f" {f['GD default']['per_iter_s'] / row['read_s']:.2f}x, constant step"
            f" {f['GD learning_rate=1.0']['per_iter_s'] / row['read_s']:.2f}x"
            f" (target <= 1.5x at 400,000)"
        )
        if "GD default, F order" in f:
            ratio = f["GD default, F order"]["per_iter_s"] / f["lbfgs, F order"]["per_iter_s"]
            log(
                f"{row['data']}, F order (a DataFrame's values): ours/lbfgs per iteration,"
                f" default {ratio:.2f}x"
            )


# 2. Small data, many fits ---------------------------------------------------


def objective_gaps(X, y, scaling):
    """Mean over cross_val_score's 5 folds of F(fit) - F* on the training rows, for
    the default fits of both sides: how close each stops to the optimum of the
    objective both minimize (F* from bench_conditioning.reference, a tight fit)."""
    from sklearn.model_selection import StratifiedKFold

    gaps = dict(ours=[], lbfgs=[])
    classes = np.unique(y)
    for train, _ in StratifiedKFold(5).split(X, y):
        Xt, yt = X[train], y[train]
        if scaling == "standardized":
            Xt = StandardScaler().fit_transform(Xt)
        y_idx = np.searchsorted(classes, yt)
        best = reference(Xt, yt, y_idx, 1.0, 0.0)[0]
        for label, make in (("ours", GDLogisticRegression), ("lbfgs", LogisticRegression)):
            clf = quiet(lambda: make().fit(Xt, yt))
            gaps[label].append(objective(Xt, y_idx, clf.coef_, clf.intercept_, 1.0, 0.0) - best)
    return {label: float(np.mean(g)) for label, g in gaps.items()}


def small_data(repeat):
    datasets = {
        "breast_cancer": load_breast_cancer,
        "wine": load_wine,
        "iris": load_iris,
        "digits": load_digits,
    }
    rows = []
    for name, loader in datasets.items():
        X, y = loader(return_X_y=True)
        for scaling in ("standardized", "raw"):
            row = dict(dataset=name, shape=list(X.shape), scaling=scaling)
            models = {
                label: make_pipeline(StandardScaler(), make()) if scaling == "standardized"
                else make()
                for label, make in (("ours", GDLogisticRegression), ("lbfgs", LogisticRegression))
            }  # fmt: skip
            times = {label: [] for label in models}
            warned = {}
            # the two sides take turns, so that both meet the machine's load alike
            for _ in range(repeat):
                for label, model in models.items():
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always", ConvergenceWarning)
                        t = time.perf_counter()
                        cross_val_score(model, X, y, cv=5)
                        times[label].append(time.perf_counter() - t)
                    if label not in warned:
                        warned[label] = sum(
                            issubclass(w.category, ConvergenceWarning) for w in caught
                        )
            for label, model in models.items():
                logloss = -quiet(
                    lambda: cross_val_score(model, X, y, cv=5, scoring="neg_log_loss")
                ).mean()
                row[label] = dict(
                    seconds=min(times[label]), warnings=warned[label], log_loss=logloss
                )
            gaps = objective_gaps(X, y, scaling)
            for label in ("ours", "lbfgs"):
                row[label]["objective_gap"] = gaps[label]
            row["ratio"] = row["ours"]["seconds"] / row["lbfgs"]["seconds"]
            row["log_loss_diff"] = row["ours"]["log_loss"] - row["lbfgs"]["log_loss"]
            rows.append(row)
        progress(f"small_data {name}: done")
    log(
        f"\n2. cross_val_score(cv=5), defaults on both sides, best of {repeat};"
        " warnings: ConvergenceWarnings in one run (5 fits); log-loss: mean over the test"
        " folds; F - F*: mean over the folds of the training objective's gap to its optimum"
    )
    log(
        f"{'dataset':14} {'scaling':13} {'ours s':>8} {'lbfgs s':>8} {'ratio':>7}"
        f" {'warn ours':>9} {'warn lbfgs':>10} {'logloss ours':>13} {'logloss lbfgs':>14}"
        f" {'diff':>9} {'F-F* ours':>10} {'F-F* lbfgs':>10}"
    )
    for r in rows:
        o, lb = r["ours"], r["lbfgs"]
        log(
            f"{r['dataset']:14} {r['scaling']:13} {o['seconds']:8.4f} {lb['seconds']:8.4f}"
            f" {r['ratio']:6.2f}x {o['warnings']:9d} {lb['warnings']:10d} {o['log_loss']:13.5f}"
            f" {lb['log_loss']:14.5f} {r['log_loss_diff']:+9.1e}"
            f" {o['objective_gap']:10.1e} {lb['objective_gap']:10.1e}"
        )
    log(
        "(ratio: ours over lbfgs, target <= 1.0x on every row; diff: ours - lbfgs, <= 0: no"
        " worse; F - F*: the smaller, the nearer the optimum both sides minimize)"
    )
    return rows


# 3. Time to the optimum -----------------------------------------------------


def run_doubling(fit_at, cap, target):
    """fit_at(max_iter) -> (coef, intercept, n_iter, seconds), max_iter doubling as in
    bench_conditioning.run_sklearn, until J <= target(), its own tol stops it, or the cap;
    then bisection between the last two max_iter for the least that reaches the target
    (doubling alone would time up to twice the iterations needed)."""
    fits, max_iter, start = [], 1, time.perf_counter()

    def fit(k):
        coef, intercept, n_iter, seconds = quiet(lambda: fit_at(k))
        fits.append(dict(seconds=seconds, n_iter=n_iter, J=fit_at.objective(coef, intercept)))
        return fits[-1]

    while True:
        last = fit(max_iter)
        if last["J"] <= target() or last["n_iter"] < max_iter:
            break
        if 2 * last["seconds"] > cap or max_iter >= MAX_DOUBLING:
            break
        max_iter *= 2
    stopped_by_tol = last["n_iter"] < max_iter and last["J"] > target()
    lo, hi = max_iter // 2, max_iter
    if last["J"] <= target() and last["seconds"] < cap / 2:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if fit(mid)["J"] <= target() else (mid, hi)
    fits.sort(key=lambda f: f["n_iter"])  # summarize takes the first that reaches
    return dict(
        kind="sklearn",
        fits=fits,
        J_final=min(f["J"] for f in fits),
        wall=time.perf_counter() - start,
        stopped_by_tol=stopped_by_tol,
    )


def sklearn_fit(X, y, y_idx, C, solver):
    def fit_at(max_iter):
        est = LogisticRegression(solver=solver, C=C, tol=1e-12, max_iter=max_iter)
        t = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - t
        return est.coef_, est.intercept_, int(np.max(est.n_iter_)), seconds

    fit_at.objective = lambda coef, b: objective(X, y_idx, coef, b, C, 0.0)
    return fit_at


def glum_fit(X, y, y_idx, C):
    """glum at alpha = 1/(C m): deviance/(2m) + alpha/2 ||w||^2 is the package's F."""
    m = X.shape[0]

    def fit_at(max_iter):
        est = GeneralizedLinearRegressor(
            family="binomial", alpha=1 / (C * m), gradient_tol=1e-12, max_iter=max_iter
        )
        t = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - t
        return est.coef_[None, :], np.atleast_1d(est.intercept_), int(est.n_iter_), seconds

    fit_at.objective = lambda coef, b: objective(X, y_idx, coef, b, C, 0.0)
    return fit_at


def cyanure_fit(X, y, y_idx, C, n_threads):
    """cyanure at lambda_1 = 1/(C m): (1/m) sum loss + lambda_1/2 ||w||^2 is the package's F.

    max_iter counts passes over the data; tol=1e-12 (a relative duality gap) lets it run
    them all, so the iterations reported are the passes asked for."""
    m = X.shape[0]

    def fit_at(max_iter):
        est = CyanureLogisticRegression(
            lambda_1=1 / (C * m), tol=1e-12, max_iter=max_iter, n_threads=n_threads
        )
        t = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - t
        return np.reshape(est.coef_, (1, -1)), np.ravel(est.intercept_), max_iter, seconds

    fit_at.objective = lambda coef, b: objective(X, y_idx, coef, b, C, 0.0)
    return fit_at


def optimum_problems(quick):
    m = 5_000 if quick else 50_000
    wide = (1_000, 200) if quick else (5_000, 1_000)
    conditioning = problems(quick)
    return {
        "easy": (conditioning["easy"][0], 1.0),
        "separable_C100": (conditioning["separable"][0], 100.0),
        "wide": (lambda: standardized(classification(*wide, n_informative=50)), 1.0),
        "10_classes": (
            lambda: standardized(
                classification(m, 60, n_informative=30, n_classes=10, n_clusters_per_class=1)
            ),
            1.0,
        ),
    }


def time_to_optimum(todo, settings, cap, rounds=1):
    """Per problem, every solver's time to the target, ``rounds`` times in turn (all the
    solvers once, then again): each keeps its fastest round, so that a burst of load
    falls on every side alike."""
    from threadpoolctl import threadpool_limits

    results = []
    for name, (build, C) in todo.items():
        t0 = time.perf_counter()
        X, y = build()
        y_idx = np.unique(y, return_inverse=True)[1]
        binary = y_idx.max() == 1
        with threadpool_limits(1):  # not timed
            J_ref, ref_solver, ref_seconds = reference(X, y, y_idx, C, 0.0)
        progress(f"{name}: {X.shape}, reference ({ref_solver}) {time.perf_counter() - t0:.1f} s")
        J_best = [J_ref]

        def target():
            return J_best[0] * (1 + REL_TOL)

        runs = {}
        for _, (setting, limits) in itertools.product(range(rounds), settings.items()):
            with limits():
                threads = dict(effective_threads(), pools=thread_pools())
                peers = [
                    ("GD default", lambda: run_gd(X, y, y_idx, C, 0.0, {}, cap)),
                    *[
                        (
                            solver,
                            lambda solver=solver: run_doubling(
                                sklearn_fit(X, y, y_idx, C, solver), cap, target
                            ),
                        )
                        for solver in ("lbfgs", "newton-cholesky")
                    ],
                ]
                if binary and GeneralizedLinearRegressor is not None:
                    peers.append(
                        ("glum", lambda: run_doubling(glum_fit(X, y, y_idx, C), cap, target))
                    )
                if binary and CyanureLogisticRegression is not None:
                    n_threads = 1 if setting == "1" else -1
                    peers.append(
                        (
                            "cyanure",
                            lambda: run_doubling(
                                cyanure_fit(X, y, y_idx, C, n_threads), cap, target
                            ),
                        )
                    )
                for label, run in peers:
                    t = time.perf_counter()
                    try:
                        rec = run()
                        J_best[0] = min(J_best[0], rec["J_final"])
                    except Exception as exc:  # a peer that fails is reported, not fatal
                        rec = dict(kind="error", error=f"{type(exc).__name__}: {exc}"[:80])
                    runs.setdefault((setting, label), []).append(dict(rec, threads=threads))
                    progress(f"  [{setting}] {label}: {time.perf_counter() - t:.1f} s")
        rows = []
        for (setting, label), recs in runs.items():
            candidates = []
            for rec in recs:
                row = dict(
                    setting=setting, solver=label, threads=rec["threads"], wall=rec.get("wall")
                )
                if rec["kind"] == "error":
                    row["error"] = rec["error"]
                else:
                    row.update(summarize(rec, J_best[0]))
                    row["final_gap"] = rec["J_final"] / J_best[0] - 1
                candidates.append(row)
            # the fastest round that reached the target (else the last round)
            reached = [r for r in candidates if r.get("reached")]
            best_round = min(reached, key=lambda r: r["seconds"]) if reached else candidates[-1]
            best_round["rounds_seconds"] = [r.get("seconds") for r in candidates]
            rows.append(best_round)
        for setting in settings:
            peers = [
                r
                for r in rows
                if r["setting"] == setting and r["solver"] != "GD default" and r.get("reached")
            ]
            best = min(peers, key=lambda r: r["seconds"]) if peers else None
            for r in rows:
                if r["setting"] == setting and best and "error" not in r:
                    r["best_peer"] = best["solver"]
                    r["ratio"] = r["seconds"] / best["seconds"]
        results.append(
            dict(
                problem=name,
                shape=list(X.shape),
                n_classes=int(y_idx.max() + 1),
                C=C,
                J_best=J_best[0],
                reference=dict(solver=ref_solver, J=J_ref, seconds=ref_seconds),
                rows=rows,
            )
        )
    print_optimum(results, settings, cap, rounds)
    return results


def print_optimum(results, settings, cap, rounds):
    log(
        f"\n3. Time to F within {REL_TOL:g} (relative) of the best F found, cap {cap:g} s"
        f" per solver, best of {rounds} rounds with the solvers in turns; GD: one fit at"
        " tol=1e-10 with a per-iteration clock; the others:"
        " fits with max_iter = 1, 2, 4, ..., then bisection for the least max_iter that"
        " reaches the target (cyanure: passes over the data)"
    )
    for p in results:
        ref = p["reference"]
        log(
            f"  {p['problem']:16} {str(tuple(p['shape'])):>14} {p['n_classes']:2d} classes"
            f" C={p['C']:g}  F* = {p['J_best']:.10g} (reference {ref['solver']}"
            f" {ref['J'] / p['J_best'] - 1:+.1e}, {ref['seconds']:.2f} s)"
        )
    for setting in settings:
        any_row = next(r for p in results for r in p["rows"] if r["setting"] == setting)
        th = any_row["threads"]
        title = "1 thread" if setting == "1" else f"default ({os.cpu_count()} threads)"
        log(
            f"\n{title}: effective BLAS {th['blas']}, OpenMP {th['openmp']},"
            f" sk_gdlogreg row blocks {th['sk_gdlogreg']}; pools: {', '.join(th['pools'])}"
        )
        log(
            f"{'problem':16} {'solver':16} {'seconds':>8} {'iters':>6} {'vs best peer':>13}"
            f"  {'reached (gap)':28} {'final gap':>10}"
        )
        for p in results:
            for r in (r for r in p["rows"] if r["setting"] == setting):
                if "error" in r:
                    log(f"{p['problem']:16} {r['solver']:16} error: {r['error']}")
                    continue
                ratio = f"{r['ratio']:.2f}x" if "ratio" in r else "-"
                if not r["reached"]:
                    ratio = ">" + ratio
                reached = "yes" if r["reached"] else f"not reached (gap {r['gap']:.1e})"
                if r["note"]:
                    reached += f", {r['note']}"
                log(
                    f"{p['problem']:16} {r['solver']:16} {r['seconds']:8.3f} {r['iterations']:6d}"
                    f" {ratio:>13}  {reached:28} {r['final_gap']:10.1e}"
                )
            best = next((r["best_peer"] for r in p["rows"] if "best_peer" in r), None)
            log(f"{'':16} (best peer: {best})")
    log(
        "(vs best peer: time over the fastest of lbfgs, newton-cholesky, glum and cyanure"
        " that reached the target, target <= 1.0x for GD default; final gap: the lowest F"
        " a solver reached, over F* - 1: glum's and cyanure's near 0 check their"
        " regularization scaling)"
    )
    missing = [
        f"{name} ({why})"
        for name, why in (("glum", GLUM_MISSING), ("cyanure", CYANURE_MISSING))
        if why
    ]
    if missing:
        log("left out, not importable: " + "; ".join(missing))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data; writes nothing")
    parser.add_argument("--only", help="comma-separated sections, of: " + ", ".join(SECTIONS))
    parser.add_argument("--threads", choices=("1", "default", "both"), default="1")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--cap", type=float, help="seconds per solver (default 30, quick 5)")
    args = parser.parse_args()
    cap = args.cap or (5.0 if args.quick else 30.0)
    sections = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {list(SECTIONS)}")
    settings = thread_settings(args.threads)
    start, load_start = time.perf_counter(), os.getloadavg()
    log(
        f"bench_everyday: {'quick' if args.quick else 'full'} run, threads {args.threads},"
        f" os.cpu_count() = {os.cpu_count()}, load average at start {load_start}"
    )
    results = {}
    for section in sections:
        if section == "time_to_optimum":
            rounds = 1 if args.quick else 3
            results[section] = time_to_optimum(optimum_problems(args.quick), settings, cap, rounds)
            continue
        for setting, limits in settings.items():
            with limits():
                th = effective_threads()
                log(
                    f"\n[{'1 thread' if setting == '1' else 'default threads'}: effective BLAS"
                    f" {th['blas']}, OpenMP {th['openmp']}, sk_gdlogreg row blocks"
                    f" {th['sk_gdlogreg']}]"
                )
                if section == "per_iteration":
                    sizes = (5_000, 40_000) if args.quick else (50_000, 400_000)
                    rows = per_iteration(sizes, 2 if args.quick else 5)
                else:
                    rows = small_data(1 if args.quick else 9)
                results.setdefault(section, {})[setting] = dict(threads=th, rows=rows)
    total = time.perf_counter() - start
    log(
        f"\nLoad average (1, 5, 15 min) at start {load_start}, at end {os.getloadavg()};"
        f" total run time {total:.0f} s"
    )
    if args.quick:
        print("\n--quick: nothing written")
        return
    machine = dict(
        platform=platform.platform(),
        processor=platform.processor(),
        python=platform.python_version(),
        numpy=np.__version__,
        cpu_count=os.cpu_count(),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / "bench_everyday"
    stem.with_suffix(".json").write_text(
        json.dumps(
            dict(
                machine=machine,
                load_average_start=load_start,
                load_average_end=os.getloadavg(),
                threads=args.threads,
                cap_s=cap,
                rel_tol=REL_TOL,
                seconds=total,
                missing=dict(glum=GLUM_MISSING, cyanure=CYANURE_MISSING),
                **results,
            ),
            indent=1,
        )
    )
    stem.with_suffix(".txt").write_text("\n".join(LINES) + "\n")
    print(f"\nwrote {stem}.json and .txt")


if __name__ == "__main__":
    main()
