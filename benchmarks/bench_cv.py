"""GDLogisticRegressionCV against LogisticRegressionCV(lbfgs): time and passes over X.

Both search the same grid (Cs=10: np.logspace(-4, 4, 10)), on the same folds
(StratifiedKFold(5)), with the same scoring (neg_log_loss), tol=1e-4 (each
estimator's default, each measured its own way: ours on the gradient in
standardized coordinates, lbfgs on its projected gradient) and max_iter=10,000,
at one thread (``threadpool_limits(1)``, n_jobs=None), on standardized
make_classification 20,000 x 50, and breast cancer and digits, standardized and raw:

    PYTHONPATH=$PWD python benchmarks/bench_cv.py

Per problem: the seconds of one fit of each (path on every fold and the refit),
their ratio, the passes over X of the whole path per fold (``n_iter_`` summed
over C, mean over folds: each iteration of either solver is one gradient, about
one pass) and over those of one cold GDLogisticRegression fit at C_ on a training
fold (the moonshot: the path within 3 fits), C_ of each and max |coef_ difference| /
max |coef_|. Results go to benchmarks/results/bench_cv.{txt,json}.
"""

import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sk_gdlogreg import GDLogisticRegression, GDLogisticRegressionCV

RESULTS = Path(__file__).resolve().parent / "results"
COMMON = dict(Cs=10, cv=StratifiedKFold(5), scoring="neg_log_loss", tol=1e-4, max_iter=10_000)


def problems():
    X, y = make_classification(20_000, 50, n_informative=20, random_state=0)
    yield "make_classification 20000x50 std", StandardScaler().fit_transform(X), y
    for name, loader in (("breast_cancer", load_breast_cancer), ("digits", load_digits)):
        X, y = loader(return_X_y=True)
        yield f"{name} std", StandardScaler().fit_transform(X), y
        yield f"{name} raw", X, y


def timed(est, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - start
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, warned


def main():
    rows = []
    with threadpool_limits(1):
        for name, X, y in problems():
            ours = GDLogisticRegressionCV(**COMMON)
            theirs = LogisticRegressionCV(
                **COMMON, solver="lbfgs", l1_ratios=(0.0,), use_legacy_attributes=False
            )
            t_ours, w_ours = timed(ours, X, y)
            t_theirs, w_theirs = timed(theirs, X, y)
            scale = np.abs(theirs.coef_).max()
            # the moonshot: the whole path per fold against one cold fit at C_ on that fold
            one_fit = [
                GDLogisticRegression(C=ours.C_, tol=COMMON["tol"], max_iter=COMMON["max_iter"])
                .fit(X[train], y[train])
                .n_iter_
                for train, _ in COMMON["cv"].split(X, y)
            ]
            rows.append(
                dict(
                    problem=name,
                    ours_s=t_ours,
                    lbfgs_s=t_theirs,
                    ratio=t_ours / t_theirs,
                    ours_passes_per_fold=float(ours.n_iter_.sum(axis=(1, 2)).mean()),
                    lbfgs_passes_per_fold=float(theirs.n_iter_.sum(axis=(1, 2)).mean()),
                    one_fit_passes_at_C=float(np.mean(one_fit)),
                    ours_C=ours.C_,
                    lbfgs_C=theirs.C_,
                    coef_rel_diff=float(np.abs(ours.coef_ - theirs.coef_).max() / scale),
                    ours_warned=w_ours,
                    lbfgs_warned=w_theirs,
                )
            )
            print(rows[-1], flush=True)
    header = (
        f"{'problem':34s} {'ours s':>8s} {'lbfgs s':>8s} {'ratio':>6s} "
        f"{'passes/fold ours':>16s} {'lbfgs':>7s} {'path/fit':>8s} {'C_ ours':>9s} {'lbfgs':>9s} "
        f"{'coef diff':>9s}"
    )
    lines = [
        "bench_cv: one thread (threadpool_limits(1)), n_jobs=None; "
        "command: PYTHONPATH=$PWD python benchmarks/bench_cv.py",
        "(path/fit: our passes per fold over those of one cold fit at C_ on the training "
        "fold; moonshot <= 3)",
        header,
    ]
    for r in rows:
        lines.append(
            f"{r['problem']:34s} {r['ours_s']:8.2f} {r['lbfgs_s']:8.2f} {r['ratio']:6.2f} "
            f"{r['ours_passes_per_fold']:16.0f} {r['lbfgs_passes_per_fold']:7.0f} "
            f"{r['ours_passes_per_fold'] / r['one_fit_passes_at_C']:8.1f} "
            f"{r['ours_C']:9.3g} {r['lbfgs_C']:9.3g} {r['coef_rel_diff']:9.1e}"
            + (" (ours: ConvergenceWarning)" if r["ours_warned"] else "")
            + (" (lbfgs: ConvergenceWarning)" if r["lbfgs_warned"] else "")
        )
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_cv.txt").write_text(table + "\n")
    (RESULTS / "bench_cv.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
