"""The default fit on every container: same iterations, same model, and what each costs.

Whitened coordinates (the curvature matrix of J on a sample of rows, renewed
every 5 iterations that have not converged) now serve every container: dense
NumPy, SciPy sparse, Array API arrays and Dask arrays, with the same decisions.
This script checks that claim on correlated problems (features X = Z A with
cond(A) = 1e3, ``correlated`` of bench_conditioning.py, C=1), 20,000 x 40 and
50,000 x 100 binary and 20,000 x 40 with 3 classes, and measures what it costs:

    PYTHONPATH=$PWD python benchmarks/bench_containers.py    # about 5 min on 2 busy cores
    PYTHONPATH=$PWD python benchmarks/bench_containers.py --only 50000x100 --daskml-cap 20
    PYTHONPATH=$PWD python benchmarks/bench_containers.py --no-daskml   # about a minute

For each problem, GDLogisticRegression() at its defaults (tol=1e-4,
max_iter=1000) is fitted on: dense NumPy in C and in F order, CSR and CSC
(``scipy.sparse.csr_array``/``csc_array`` of the same, dense, values),
array-api-strict and torch on the CPU (under ``array_api_dispatch=True``), and
a Dask array of 10,000-row chunks persisted on a ``LocalCluster`` of 2 worker
processes x 1 thread; and with ``preconditioner="diagonal"`` on dense NumPy, the
path sparse, Array API and Dask data took before whitening reached them. Per
fit: iterations (``n_iter_``), seconds from before ``fit`` (best of 3 in memory,
1 fit on Dask after a warm-up fit), whether a ConvergenceWarning was raised,
max |coef_ - dense coef_| / max |dense coef_|, and J at the end
(``loss_curve_[-1]``, checked against J recomputed from coef_ by
bench_conditioning's ``objective``).

On Dask, the client-side calls of the data term are timed by wrapping the
methods of ``sk_gdlogreg._dask.DaskData`` (``loss_grad``: one pass over the
chunks; ``curvature``: the curvature matrix on the sampled rows, once per
renewal), and those of the in-memory data term on dense NumPy alike.

dask-ml (optional: ``pip install dask-ml``) runs on the same persisted Dask
arrays and cluster on the binary problems: ``LogisticRegression(solver=s,
C=1.0)`` for s in newton, lbfgs, gradient_descent and admm at their defaults,
each stopped at the first dask computation after --daskml-cap seconds. Its
coefficients are scored by the objective this package minimizes,
J = mean log-loss + ||w||^2 / (2 C m) (intercept not penalized).

Threads: the process runs under ``threadpool_limits(1)`` (BLAS, OpenMP and the
package's row blocks) and ``torch.set_num_threads(1)``; the Dask workers are 2
processes of 1 thread each (BLAS at 1 thread, as distributed sets it), so Dask
fits use both cores where the in-memory ones use one.

Writes benchmarks/results/bench_containers.{txt,json}.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # read once, when SciPy is first imported

import argparse  # noqa: E402
import contextlib  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import sklearn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from bench_conditioning import correlated, effective_threads, objective  # noqa: E402

from sk_gdlogreg import GDLogisticRegression, _backends  # noqa: E402

RESULTS = Path(__file__).parent / "results"
CHUNK_ROWS = 10_000
REPEAT = 3
LINES = []
# the targets printed next to the results
MAX_ITER_TARGET = 50
COEF_TARGET = 1e-6
COEF_TARGET_CONTAINERS = ("CSR", "Dask", "array-api-strict", "torch (CPU)")
DASK_ML_RATIO_TARGET = 1.0
DASK_ML_SOLVERS = ("newton", "lbfgs", "gradient_descent", "admm")


def log(line=""):
    """Print a line and keep it for the .txt copy of the output."""
    print(line, flush=True)
    LINES.append(line)


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def correlated_3_classes(m, d, cond=1e3, seed=0):
    """``correlated``'s X; y from 3 random directions: softmax-distributed labels.

    As ``correlated`` draws binary labels from a linear model plus logistic
    noise, the class is the argmax of 3 standardized scores (times 3) plus
    Gumbel noise, a draw from the softmax of those scores.
    """
    X, _ = correlated(m, d, cond, seed)
    rng = np.random.default_rng([seed, 3])
    Z = X @ rng.standard_normal((d, 3))
    Z = 3 * (Z - Z.mean(axis=0)) / Z.std(axis=0)
    return X, np.argmax(Z + rng.gumbel(size=(m, 3)), axis=1)


PROBLEMS = {
    "20000x40": lambda: correlated(20_000, 40),
    "50000x100": lambda: correlated(50_000, 100),
    "20000x40_3classes": lambda: correlated_3_classes(20_000, 40),
}


# ------------------------------------------------------------------ timed calls
class CallTimes:
    """Wraps methods of a class to record the seconds of each call, by method name."""

    def __init__(self):
        self.seconds = {}
        self._saved = []

    def wrap(self, cls, *names):
        for name in names:
            method = getattr(cls, name)
            self._saved.append((cls, name, method))

            @functools.wraps(method)
            def timed(*args, _method=method, _name=name, **kwargs):
                t = time.perf_counter()
                try:
                    return _method(*args, **kwargs)
                finally:
                    self.seconds.setdefault(_name, []).append(time.perf_counter() - t)

            setattr(cls, name, timed)
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for cls, name, method in reversed(self._saved):
            setattr(cls, name, method)

    def summary(self, runs=1):
        """Per method: calls per fit and mean seconds per call."""
        return {
            name: dict(calls=len(s) / runs, mean_s=float(np.mean(s)), total_s=float(np.sum(s)))
            for name, s in self.seconds.items()
        }


# ------------------------------------------------------------------ our fits
def to_numpy(a):
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "detach"):  # torch
        return a.detach().cpu().numpy()
    return np.from_dlpack(a)  # array-api-strict (CPU)


def fit_once(X, y, params, context):
    """One default fit: (estimator, seconds, ConvergenceWarning raised, other warnings)."""
    clf = GDLogisticRegression(**params)
    with context(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = time.perf_counter()
        clf.fit(X, y)
        seconds = time.perf_counter() - t
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    others = sorted(
        {w.category.__name__ for w in caught if not issubclass(w.category, ConvergenceWarning)}
    )
    return clf, seconds, warned, others


def fit_record(name, X, y, params, context, repeat, calls=None):
    """The best of ``repeat`` fits, with the first fit's iterations, warning and model."""
    fits = [fit_once(X, y, params, context) for _ in range(repeat)]
    clf, _, warned, others = fits[0]
    iters = [int(f[0].n_iter_) for f in fits]
    rec = dict(
        container=name,
        params=params,
        n_iter=iters[0],
        n_iter_all_runs=iters,
        seconds=min(f[1] for f in fits),
        seconds_all_runs=[f[1] for f in fits],
        warned=warned,
        other_warnings=others,
        J=float(clf.loss_curve_[-1]),
        coef=to_numpy(clf.coef_).tolist(),
        intercept=to_numpy(clf.intercept_).tolist(),
    )
    if calls is not None:
        rec["calls"] = calls.summary(repeat)
    return rec


def in_memory_fits(X, y):
    """Dense (C, F, diagonal), sparse and Array API fits of the default estimator."""
    import array_api_strict
    import torch

    torch.set_num_threads(1)
    plain = contextlib.nullcontext
    api = functools.partial(sklearn.config_context, array_api_dispatch=True)
    setups = [
        ("dense C order", X, y, {}, plain),
        ("dense F order", np.asfortranarray(X), y, {}, plain),
        ('dense, preconditioner="diagonal" (before)', X, y, {"preconditioner": "diagonal"}, plain),
        ("CSR", sp.csr_array(X), y, {}, plain),
        ("CSC", sp.csc_array(X), y, {}, plain),
        ("array-api-strict", array_api_strict.asarray(X), array_api_strict.asarray(y), {}, api),
        ("torch (CPU)", torch.asarray(X), torch.asarray(y), {}, api),
    ]
    records = []
    for name, Xc, yc, params, context in setups:
        t = time.perf_counter()
        if name == "dense C order":
            with CallTimes().wrap(_backends.InMemoryData, "loss_grad", "curvature") as calls:
                rec = fit_record(name, Xc, yc, params, context, REPEAT, calls)
        else:
            rec = fit_record(name, Xc, yc, params, context, REPEAT)
        records.append(rec)
        progress(f"  {name}: {rec['n_iter']} iterations, {time.perf_counter() - t:.1f} s")
    return records


def dask_arrays(X, y, client):
    """X and y as Dask arrays of CHUNK_ROWS-row chunks, persisted on the workers."""
    import dask.array as da
    from distributed import wait

    with warnings.catch_warnings():  # X travels once, inside the graph: that is the point
        warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
        Xd = da.from_array(X, chunks=(CHUNK_ROWS, -1)).persist()
        yd = da.from_array(y, chunks=(CHUNK_ROWS,)).persist()
    wait([Xd, yd])
    return Xd, yd


def dask_fit(Xd, yd):
    from sk_gdlogreg._dask import DaskData

    # warm-up, through one curvature renewal: the workers import what the fit runs
    fit_once(Xd, yd, dict(max_iter=6), contextlib.nullcontext)
    with CallTimes().wrap(DaskData, "loss_grad", "curvature") as calls:
        rec = fit_record("Dask", Xd, yd, {}, contextlib.nullcontext, 1, calls)
    progress(f"  Dask: {rec['n_iter']} iterations, {rec['seconds']:.1f} s")
    return rec


# ------------------------------------------------------------------ dask-ml
class Deadline(Exception):
    pass


class DaskMLCap:
    """Stops a dask-ml fit at its first dask computation after ``cap`` seconds.

    dask-glm's solvers compute through ``dask.compute``/``dask.persist`` (names
    imported into ``dask_glm.algorithms``) and ``dask.array.compute``; each is
    wrapped to raise ``Deadline`` once the time is up, and to count the calls.
    """

    def __init__(self, cap):
        import dask.array
        import dask_glm.algorithms

        self.cap, self.computes = cap, 0
        self.targets = [
            (dask_glm.algorithms, "compute"),
            (dask_glm.algorithms, "persist"),
            (dask.array, "compute"),
        ]

    def __enter__(self):
        self.deadline = time.perf_counter() + self.cap
        self.saved = [(mod, name, getattr(mod, name)) for mod, name in self.targets]
        for mod, name, func in self.saved:

            def capped(*args, _func=func, **kwargs):
                if time.perf_counter() > self.deadline:
                    raise Deadline
                self.computes += 1
                return _func(*args, **kwargs)

            setattr(mod, name, capped)
        return self

    def __exit__(self, *exc):
        for mod, name, func in self.saved:
            setattr(mod, name, func)
        return False


def log_loss(X, y, coef, intercept):
    z = X @ coef + intercept
    return float(np.mean(np.logaddexp(0, z) - y * z))


def dask_ml_fits(Xd, yd, X, y, C, J_ours, cap, client):
    """dask-ml's solvers on the same arrays: seconds, and J (our formula) at their coef."""
    import warnings as _w

    from dask_ml.linear_model import LogisticRegression

    # its sigmoid overflows in exp on separated rows: silence those RuntimeWarnings
    client.run(_w.filterwarnings, "ignore", category=RuntimeWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        LogisticRegression(solver="newton", max_iter=0).fit(Xd, yd)  # warm-up
    records = []
    for solver in DASK_ML_SOLVERS:
        clf = LogisticRegression(solver=solver, C=C)
        cap_ctx = DaskMLCap(cap)
        t = time.perf_counter()
        status = "finished"
        try:
            with cap_ctx, warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                warnings.simplefilter("ignore", FutureWarning)  # a renamed dask config key
                clf.fit(Xd, yd)
        except Deadline:
            status = f"stopped at the {cap:g} s cap"
        except Exception as exc:  # noqa: BLE001  report, do not stop the benchmark
            status = f"error: {type(exc).__name__}: {exc}"[:100]
        seconds = time.perf_counter() - t
        rec = dict(solver=solver, seconds=seconds, status=status, computes=cap_ctx.computes)
        if status == "finished":
            coef = np.asarray(clf.coef_, dtype=np.float64)
            b = float(clf.intercept_)
            J = float(objective(X, y, coef[None, :], np.array([b]), C, 0.0))
            rec.update(
                J=J,
                gap=J / J_ours - 1,
                log_loss=log_loss(X, y, coef, b),
                coef=coef.tolist(),
                intercept=b,
            )
        records.append(rec)
        progress(f"  dask-ml {solver}: {status}, {seconds:.1f} s")
    return records


# ------------------------------------------------------------------ report
def add_comparisons(records, X, y):
    """Ratio to the dense fit's time, coef difference to the dense fit, J check."""
    dense = records[0]
    ref = np.asarray(dense["coef"])
    y_idx = np.unique(y, return_inverse=True)[1]
    for r in records:
        coef = np.asarray(r["coef"])
        r["ratio_to_dense"] = r["seconds"] / dense["seconds"]
        r["coef_rel_diff"] = float(np.abs(coef - ref).max() / np.abs(ref).max())
        J = float(objective(X, y_idx, coef, np.asarray(r["intercept"]), 1.0, 0.0))
        r["J_recomputed_rel_diff"] = abs(J - r["J"]) / J


def print_problem(p):
    log(
        f"\n{p['problem']}: {p['shape'][0]} x {p['shape'][1]}, {p['n_classes']} classes, "
        f"cond 1e3, C=1 (GDLogisticRegression() unless stated; J* of the dense fit "
        f"{p['records'][0]['J']:.12g})"
    )
    log(
        f"{'container':44} {'iters':>5} {'seconds':>8} {'vs dense':>8} {'coef diff':>9} "
        f"{'J - J dense':>11}  ConvergenceWarning"
    )
    J0 = p["records"][0]["J"]
    for r in p["records"]:
        warned = "yes" if r["warned"] else "no"
        if r["other_warnings"]:
            warned += f" (other: {', '.join(r['other_warnings'])})"
        if len(set(r["n_iter_all_runs"])) > 1:
            warned += f"; iterations per run {r['n_iter_all_runs']}"
        log(
            f"{r['container']:44} {r['n_iter']:5d} {r['seconds']:8.3f} "
            f"{r['ratio_to_dense']:7.2f}x {r['coef_rel_diff']:9.1e} {r['J'] - J0:11.1e}  {warned}"
        )
    calls = {r["container"]: r.get("calls") for r in p["records"] if r.get("calls")}
    if calls:
        log("  data-term calls per fit (mean seconds per call):")
        for name, c in calls.items():
            parts = [
                f"{m} {v['calls']:.0f} x {1e3 * v['mean_s']:.2f} ms" for m, v in sorted(c.items())
            ]
            rec = next(r for r in p["records"] if r["container"] == name)
            parts.append(f"fit {1e3 * rec['seconds'] / rec['n_iter']:.2f} ms per iteration")
            log(f"    {name:18} " + ", ".join(parts))
    if p.get("dask_ml"):
        ours = next(r for r in p["records"] if r["container"] == "Dask")
        log(
            f"  dask-ml {p['dask_ml_version']} on the same persisted arrays and cluster "
            f"(ours on Dask: {ours['seconds']:.2f} s, J {ours['J']:.12g}):"
        )
        log(
            f"    {'solver':18} {'seconds':>8} {'ours/this':>9} {'computes':>8} {'J gap':>9} "
            f"{'log-loss':>10}  status"
        )
        for r in p["dask_ml"]:
            gap = f"{r['gap']:9.1e}" if "gap" in r else f"{'':9}"
            ll = f"{r['log_loss']:10.6f}" if "log_loss" in r else f"{'':10}"
            log(
                f"    {r['solver']:18} {r['seconds']:8.2f} {ours['seconds'] / r['seconds']:8.2f}x "
                f"{r['computes']:8d} {gap} {ll}  {r['status']}"
            )


def check_targets(results):
    """The targets, each with its verdict."""
    lines = []
    for p in results:
        default = [r for r in p["records"] if not r["params"]]
        worst_iter = max(default, key=lambda r: r["n_iter"])
        warned = [r["container"] for r in default if r["warned"]]
        named = [r for r in default if r["container"] in COEF_TARGET_CONTAINERS]
        worst = max(named, key=lambda r: r["coef_rel_diff"])
        lines += [
            (
                f"{p['problem']}: <= {MAX_ITER_TARGET} iterations on every container",
                worst_iter["n_iter"] <= MAX_ITER_TARGET,
                f"most: {worst_iter['n_iter']} ({worst_iter['container']})",
            ),
            (
                f"{p['problem']}: no ConvergenceWarning",
                not warned,
                f"warned: {', '.join(warned)}" if warned else "none warned",
            ),
            (
                f"{p['problem']}: coef_ within {COEF_TARGET:g} of dense on "
                + ", ".join(COEF_TARGET_CONTAINERS),
                worst["coef_rel_diff"] <= COEF_TARGET,
                f"largest {worst['coef_rel_diff']:.1e} ({worst['container']})",
            ),
        ]
        finished = [r for r in p.get("dask_ml") or [] if r["status"] == "finished"]
        if p["problem"] == "50000x100":
            if finished:
                fastest = min(finished, key=lambda r: r["seconds"])
                ours = next(r for r in p["records"] if r["container"] == "Dask")
                ratio = ours["seconds"] / fastest["seconds"]
                lines.append(
                    (
                        f"{p['problem']}: Dask <= {DASK_ML_RATIO_TARGET:g} x dask-ml's fastest",
                        ratio <= DASK_ML_RATIO_TARGET,
                        f"{ours['seconds']:.2f} s vs {fastest['solver']} {fastest['seconds']:.2f} s"
                        f" = {ratio:.2f}x (its J gap {fastest['gap']:.1e})",
                    )
                )
                same = [r for r in finished if r["solver"] in ("lbfgs", "admm")]
                if same:  # the solvers that minimize our objective (see the note above)
                    best = min(same, key=lambda r: r["seconds"])
                    lines.append(
                        (
                            f"{p['problem']}: Dask against dask-ml's fastest solver of our "
                            "objective (lbfgs, admm)",
                            "info",
                            f"{ours['seconds']:.2f} s vs {best['solver']} {best['seconds']:.2f} s"
                            f" = {ours['seconds'] / best['seconds']:.2f}x "
                            f"(its J gap {best['gap']:.1e})",
                        )
                    )
            else:
                lines.append((f"{p['problem']}: Dask vs dask-ml", None, "dask-ml not run"))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated problems, of: " + ", ".join(PROBLEMS))
    parser.add_argument("--daskml-cap", type=float, default=60.0, help="seconds per solver")
    parser.add_argument("--no-daskml", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    todo = PROBLEMS if not args.only else {k: PROBLEMS[k] for k in args.only.split(",")}

    import dask
    import distributed
    from distributed import Client, LocalCluster

    try:
        import dask_ml
    except ImportError:
        dask_ml = None
    run_daskml = dask_ml is not None and not args.no_daskml

    start, load_start = time.perf_counter(), os.getloadavg()
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    worker_blas = client.run(
        lambda: [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    )
    results = []
    with threadpool_limits(1):
        threads = effective_threads()
        for name, build in todo.items():
            progress(f"{name}:")
            X, y = build()
            records = in_memory_fits(X, y)
            Xd, yd = dask_arrays(X, y, client)
            records.insert(5, dask_fit(Xd, yd))  # after CSC, before the Array API ones
            add_comparisons(records, X, y)
            p = dict(
                problem=name,
                shape=list(X.shape),
                n_classes=len(np.unique(y)),
                C=1.0,
                records=records,
            )
            if run_daskml and p["n_classes"] == 2:
                p["dask_ml_version"] = dask_ml.__version__
                p["dask_ml"] = dask_ml_fits(
                    Xd, yd, X, y, 1.0, records[0]["J"], args.daskml_cap, client
                )
            del Xd, yd
            results.append(p)

    log(
        "GDLogisticRegression() on each container, problems from bench_conditioning's "
        "correlated(m, d, cond=1e3), C=1"
    )
    log(
        f"In-memory fits: best of {REPEAT}, under threadpool_limits(1): effective BLAS "
        f"{threads['blas']}, OpenMP {threads['openmp']}, sk_gdlogreg row blocks "
        f"{threads['sk_gdlogreg']}; torch.set_num_threads(1)"
    )
    log(
        f"Dask: LocalCluster of 2 worker processes x 1 thread (BLAS threads per worker "
        f"{sorted({n for v in worker_blas.values() for n in v})}), chunks of {CHUNK_ROWS} rows, "
        "X and y persisted; 1 fit after a warm-up fit; it uses both cores, the others one"
    )
    for p in results:
        print_problem(p)
    log(
        "\n(vs dense: seconds over the dense C-order fit's; coef diff: max |coef_ - dense "
        "coef_| / max |dense coef_|; J - J dense: loss_curve_[-1] minus the dense fit's)"
    )
    check = max(r["J_recomputed_rel_diff"] for p in results for r in p["records"])
    log(
        f"loss_curve_[-1] against J recomputed from coef_ (bench_conditioning.objective): "
        f"largest relative difference {check:.1e}"
    )
    if run_daskml:
        log(
            "dask-ml's objective: lbfgs and admm minimize sum log-loss + ||beta||^2 / (2 C) "
            "with beta the coefficients on features dask-glm standardizes (normalize=True) and "
            "the intercept penalized too; newton and gradient_descent ignore C (no penalty). "
            "Here the features are already standardized, so lbfgs's and admm's objective is "
            "ours times m plus the intercept's penalty b^2 / (2 C): J gap is our J at their "
            "coefficients over ours, minus 1; 'ours/this' is our Dask fit's time over this "
            "solver's; "
            "'computes' counts dask-glm's dask computations."
        )
    elif dask_ml is None:
        log("dask-ml is not installed: no comparison")

    log("\nTargets:")
    targets = check_targets(results)
    for what, ok, detail in targets:
        verdict = {None: "n/a", "info": "info", True: "met", False: "NOT met"}[ok]
        log(f"  [{verdict:7}] {what}: {detail}")

    client.close()
    cluster.close()
    total = time.perf_counter() - start
    log(f"\nLoad average (1, 5, 15 min) at start {load_start}, at end {os.getloadavg()}")
    log(f"Total run time {total:.0f} s")

    import array_api_strict
    import torch

    machine = dict(
        platform=platform.platform(),
        processor=platform.processor(),
        python=platform.python_version(),
        cpu_count=os.cpu_count(),
        numpy=np.__version__,
        scipy=scipy.__version__,
        sklearn=sklearn.__version__,
        dask=dask.__version__,
        distributed=distributed.__version__,
        dask_ml=None if dask_ml is None else dask_ml.__version__,
        array_api_strict=array_api_strict.__version__,
        torch=torch.__version__,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / "bench_containers"
    stem.with_suffix(".json").write_text(
        json.dumps(
            dict(
                machine=machine,
                threads=dict(main=threads, torch=1, dask_worker_blas=worker_blas),
                load_average_start=load_start,
                load_average_end=os.getloadavg(),
                seconds=total,
                repeat=REPEAT,
                chunk_rows=CHUNK_ROWS,
                daskml_cap_s=args.daskml_cap,
                targets=[dict(target=t, met=ok, detail=d) for t, ok, d in targets],
                problems=results,
            ),
            indent=1,
        )
    )
    stem.with_suffix(".txt").write_text("\n".join(LINES) + "\n")
    print(f"\nwrote {stem}.json and .txt")


if __name__ == "__main__":  # required: the Dask workers are processes that import __main__
    main()
