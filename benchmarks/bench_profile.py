"""Where a default fit's time goes: set-up, curvature renewals, passes, the rest.

Times whole ``GDLogisticRegression().fit`` calls at one thread, with clocks
wrapped around the package's own stages (the wrappers are this script's; the
package is not changed):

- set-up: ``_backends.prepare_fit`` (validation, labels, weights, the column
  statistics of the coordinates);
- plan: ``make_plan`` (the coordinates, the solver, the whitening policy);
- curvature renewals: each call of the plan's ``recondition`` (the sampled
  rows' curvature matrix and its factorization);
- passes: ``InMemoryData.loss_grad`` (J and its gradient over X, compiled or NumPy);
- the rest: what remains of the fit's time (the steps' book-keeping, the
  changes of coordinates, the optimality residual, the estimator's own work).

On standardized breast cancer (569 x 30), make_classification 50,000 x 100 and
400,000 x 100 (standardized, two classes) and 50,000 x 60 with 10 classes; best
of 50 fits for the small table, of 3 for the others (the fit with the least
total time, and its stages).

    python benchmarks/bench_profile.py          # about a minute

Writes benchmarks/results/bench_profile.{txt,json}.
"""

import json
import os
import time
import warnings
from pathlib import Path

from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sk_gdlogreg import GDLogisticRegression, _backends, _estimator, _plan

RESULTS = Path(__file__).parent / "results"
STAGES = ("set-up", "plan", "curvature renewals", "passes")
spent = {}


def clocked(stage, fn):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - start

    return timed


def instrument():
    _backends.prepare_fit = clocked("set-up", _backends.prepare_fit)
    _estimator.make_plan = clocked("plan", _estimator.make_plan)
    _backends.InMemoryData.loss_grad = clocked("passes", _backends.InMemoryData.loss_grad)
    whitening = _plan.whitening

    def clocked_whitening(*args, **kwargs):
        recondition = whitening(*args, **kwargs)
        if recondition is None:
            return None
        timed = clocked("curvature renewals", recondition)
        timed.every, timed.blocks = recondition.every, recondition.blocks
        return timed

    _plan.whitening = clocked_whitening


def problems():
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast cancer 569 x 30", StandardScaler().fit_transform(X), y, 50
    for m in (50_000, 400_000):
        X, y = make_classification(m, 100, n_informative=30, random_state=0)
        yield f"{m:,} x 100", StandardScaler().fit_transform(X), y, 3
    X, y = make_classification(
        50_000, 60, n_informative=30, n_classes=10, n_clusters_per_class=1, random_state=0
    )
    yield "50,000 x 60, 10 classes", StandardScaler().fit_transform(X), y, 3


def main():
    instrument()
    lines, rows = [], []

    def log(text):
        print(text, flush=True)
        lines.append(text)

    log(f"bench_profile: one thread, load average at start {os.getloadavg()}")
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, X, y, repeats in problems():
            best = None
            for _ in range(repeats):
                spent.clear()
                start = time.perf_counter()
                est = GDLogisticRegression().fit(X, y)
                total = time.perf_counter() - start
                if best is None or total < best[0]:
                    best = (total, dict(spent), int(est.n_iter_))
            total, stages, n_iter = best
            stages["the rest"] = total - sum(stages.values())
            rows.append(dict(problem=name, seconds=total, n_iter=n_iter, stages=stages))
            log(f"\n{name}: fit {total * 1e3:.2f} ms, {n_iter} iterations")
            for stage in (*STAGES, "the rest"):
                value = stages.get(stage, 0.0)
                log(f"   {stage:20s} {value * 1e3:9.2f} ms  {value / total:6.1%}")
    log(f"\nload average at end {os.getloadavg()}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_profile.txt").write_text("\n".join(lines) + "\n")
    (RESULTS / "bench_profile.json").write_text(json.dumps(dict(rows=rows), indent=1))
    print(f"\nwrote {RESULTS / 'bench_profile'}.txt and .json")


if __name__ == "__main__":
    main()
