"""The measured claims of the README: per-iteration cost, passes to the optimum, fit times.

Run from the repository root (a few minutes on 2 cores):

    python benchmarks/bench_gd.py            # everything; --quick for a smaller run

It prints one table per section and writes benchmarks/results/bench_gd.json and
benchmarks/results/bench_gd.png. Every figure is a ratio or a time measured in
this one run, since the machines it runs on are shared and noisy:

1. per-iteration time against the memory-bandwidth bound (a streaming read of
   X with as many threads): the textbook two-product NumPy iteration and the
   package's data term in one call and over blocks of rows in threads (what a
   fit runs), float32 and float64, 1 and 2 threads, BLAS limited to as many;
2. time to reach scikit-learn lbfgs's objective (tol=1e-6) within 1e-6
   relative, for each solver and step setting, against LogisticRegression,
   SGDClassifier and mlxtend's gradient-descent LogisticRegression (if
   installed), on an easy, a harder (more separable) and a multinomial
   standardized problem;
3. fit time on scikit-learn's bundled datasets against LogisticRegression;
4. one pass of the lecture's loops against the vectorized pass as m grows;
5. the peak memory a fit allocates, relative to the size of X.
"""

import argparse
import json
import platform
import time
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from bench_conditioning import Timestamps  # the per-iteration clock (run from benchmarks/)
from scipy.special import expit
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sk_gdlogreg import GDLogisticRegression
from sk_gdlogreg._backends import InMemoryData, LoopData
from sk_gdlogreg._objective import Objective, data_term

RESULTS = Path(__file__).parent / "results"
SECTIONS = ("per_iteration", "time_to_optimum", "bundled", "loops", "memory")


def best_time(fn, repeat):
    """The fastest of ``repeat`` runs: the least disturbed by other load."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


# 1. Per-iteration cost -----------------------------------------------------


def textbook_iteration(X, y, w, b):
    """The lecture's vectorized step as usually written: X is read twice."""
    m = X.shape[0]
    z = X @ w + b
    a = expit(z)
    J = np.mean(np.logaddexp(0, z) - y * z)
    dz = a - y
    return J, X.T @ dz / m, dz.mean()


def streaming_read(X, threads, pool):
    """Read X once, split by rows among ``threads`` threads (NumPy releases the GIL)."""
    parts = np.array_split(np.arange(X.shape[0]), threads)
    list(pool.map(lambda idx: np.add.reduce(X[idx[0] : idx[-1] + 1], axis=0), parts))


def per_iteration(m, d, repeat):
    rows = []
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        X = rng.standard_normal((m, d)).astype(dtype)
        y_idx = (rng.random(m) < 0.5).astype(np.intp)
        y = y_idx.astype(dtype)
        sw = np.full(m, 1 / m, dtype=dtype)
        coef = (rng.standard_normal((1, d + 1)) * 0.1).astype(dtype)
        w, b = coef[0, :d].copy(), coef[0, d]
        for threads in (1, 2):
            with threadpool_limits(threads), ThreadPoolExecutor(threads) as pool:
                bound = best_time(lambda: streaming_read(X, threads, pool), repeat)
                textbook = best_time(lambda: textbook_iteration(X, y, w, b), repeat)
                # the package's one data term: on all of X in one call, and over
                # cache-sized blocks of rows in `threads` threads (what a fit runs)
                plain = best_time(lambda: data_term(X, y, sw, coef, True), repeat)
                data = InMemoryData(X, y_idx, sw, 2, True, n_threads=threads)
                fused = best_time(lambda: data.loss_grad(coef), repeat)
            rows.append(
                dict(
                    dtype=np.dtype(dtype).name,
                    threads=threads,
                    bound_ms=bound * 1e3,
                    bandwidth_GBps=X.nbytes / bound / 1e9,
                    textbook_ms=textbook * 1e3,
                    plain_ms=plain * 1e3,
                    fused_ms=fused * 1e3,
                    blocks_vs_plain=plain / fused,
                    textbook_over_bound=textbook / bound,
                    fused_over_bound=fused / bound,
                    speedup_vs_textbook=textbook / fused,
                )
            )
    print(f"\n1. One iteration (J and gradient) on {m} x {d}, best of {repeat}")
    print(
        f"{'dtype':8} {'threads':>7} {'bound ms':>9} {'GB/s':>6} {'textbook':>9} "
        f"{'one call':>9} {'blocks':>7} {'textbook/bound':>15} {'blocks/bound':>13} "
        f"{'vs textbook':>12} {'vs one call':>12}"
    )
    for r in rows:
        print(
            f"{r['dtype']:8} {r['threads']:7d} {r['bound_ms']:9.2f} {r['bandwidth_GBps']:6.1f} "
            f"{r['textbook_ms']:9.2f} {r['plain_ms']:9.2f} {r['fused_ms']:7.2f} "
            f"{r['textbook_over_bound']:15.2f} {r['fused_over_bound']:13.2f} "
            f"{r['speedup_vs_textbook']:11.2f}x {r['blocks_vs_plain']:11.2f}x"
        )
    by = {(r["dtype"], r["threads"]): r for r in rows}
    f64_1, f32_1, f64_2 = by["float64", 1], by["float32", 1], by["float64", 2]
    print(
        f"float32 over float64, 1 thread: {f64_1['fused_ms'] / f32_1['fused_ms']:.2f}x faster;"
        f" 2 threads over 1 (float64): {f64_1['fused_ms'] / f64_2['fused_ms']:.2f}x faster"
    )
    return rows


# 2. Time to the optimum ----------------------------------------------------


def objective(X, y, coef, intercept, C):
    """J of any linear model's coefficients, as the package defines it."""
    classes = np.unique(y)
    y_idx = np.searchsorted(classes, y)
    data = InMemoryData(X, y_idx, np.ones(len(y)), len(classes), True)
    obj = Objective(data, 1 / (C * len(y)))
    return obj.loss_grad(np.column_stack([coef, intercept]))[0]


def mlxtend_fit(X, y, C, epochs, step):
    from mlxtend.classifier import LogisticRegression as MlxtendLR

    m = len(y)
    # mlxtend minimizes sum_i L_i + (l2_lambda / 2) ||w||^2 with summed gradients:
    # l2_lambda = 1/C and eta = step/m give the package's J and its update w -= step * dw
    clf = MlxtendLR(eta=step / m, epochs=epochs, l2_lambda=1 / C, minibatches=1, random_seed=0)
    clf.fit(X, y)
    return clf.w_.T, clf.b_


def time_to_optimum(m, d, quick):
    problems = {
        "easy": dict(class_sep=1.0, flip_y=0.05, n_classes=2),
        "harder (separable)": dict(class_sep=3.0, flip_y=0.0, n_classes=2),
        "multinomial (5)": dict(class_sep=1.5, flip_y=0.01, n_classes=5),
    }
    settings = [
        ("gd", "auto"),
        ("nesterov", "auto"),
        ("anderson", "auto"),  # what solver="auto" takes for the 5 classes (per class)
        ("gd", 1.0),
        ("nesterov", 1.0),
    ]
    rows = []
    max_iter, max_epochs = (300, 30) if quick else (400, 50)
    for name, params in problems.items():
        X, y = make_classification(m, d, n_informative=30, random_state=0, **params)
        X = StandardScaler().fit_transform(X)
        C = 1.0
        t = time.perf_counter()
        ref = LogisticRegression(C=C, tol=1e-6, max_iter=1000).fit(X, y)
        t_ref = time.perf_counter() - t
        J_ref = objective(X, y, ref.coef_, ref.intercept_, C)
        target = J_ref * (1 + 1e-6)
        rows.append(
            dict(
                problem=name,
                method="sklearn lbfgs (tol=1e-6)",
                seconds=t_ref,
                passes=int(ref.n_iter_[0]),
                reached=True,
                gap=0.0,
            )
        )
        for solver, lr in settings:
            stamps = Timestamps()
            # a cap keeps the run to minutes: a setting that needs more is reported as
            # not reaching the target, with its gap
            clf = GDLogisticRegression(
                solver=solver, learning_rate=lr, C=C, tol=1e-9, max_iter=max_iter
            ).set_callbacks(stamps)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                t = time.perf_counter()
                clf.fit(X, y)
            hit = np.flatnonzero(np.asarray(clf.loss_curve_) <= target)
            reached = len(hit) > 0
            k = int(hit[0]) if reached else clf.n_iter_ - 1
            rows.append(
                dict(
                    problem=name,
                    method=f"GD {solver}, learning_rate={lr}",
                    seconds=stamps.times[k] - t,
                    passes=k + 1,
                    reached=reached,
                    gap=(clf.loss_curve_[k] - J_ref) / J_ref,
                )
            )
        sgd = SGDClassifier(
            loss="log_loss", alpha=1 / (C * m), tol=1e-6, max_iter=max_epochs, random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t_sgd = best_time(lambda: sgd.fit(X, y), 1)
        gap = (objective(X, y, sgd.coef_, sgd.intercept_, C) - J_ref) / J_ref
        rows.append(
            dict(
                problem=name,
                method="sklearn SGDClassifier(log_loss)",
                seconds=t_sgd,
                passes=int(sgd.n_iter_),
                reached=gap <= 1e-6,
                gap=gap,
            )
        )
        if params["n_classes"] == 2:
            try:
                epochs = max_epochs
                t = time.perf_counter()
                w, b = mlxtend_fit(X, y, C, epochs, step=1.0)
                t_mlx = time.perf_counter() - t
                gap = (objective(X, y, w, b, C) - J_ref) / J_ref
                rows.append(
                    dict(
                        problem=name,
                        method="mlxtend LogisticRegression (GD)",
                        seconds=t_mlx,
                        passes=epochs,
                        reached=gap <= 1e-6,
                        gap=gap,
                    )
                )
            except ImportError:
                pass
    print(f"\n2. Time to reach lbfgs's objective within 1e-6 relative, {m} x {d}, standardized")
    print(
        f"{'problem':20} {'method':38} {'seconds':>8} {'passes':>7} {'vs lbfgs':>9}  reached (gap)"
    )
    ref_time = {}
    for r in rows:
        ref_time.setdefault(r["problem"], r["seconds"])
        r["time_over_lbfgs"] = r["seconds"] / ref_time[r["problem"]]
        note = "yes" if r["reached"] else f"no (gap {r['gap']:.1e})"
        print(
            f"{r['problem']:20} {r['method']:38} {r['seconds']:8.2f} {r['passes']:7d} "
            f"{r['time_over_lbfgs']:8.2f}x  {note}"
        )
    return rows


# 3. Small, bundled datasets ---------------------------------------------


def bundled(repeat):
    rows = []
    for name, loader in [("breast_cancer", load_breast_cancer), ("digits", load_digits)]:
        X, y = loader(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t_lr = best_time(lambda: LogisticRegression().fit(X, y), repeat)
            times = {}
            for solver in ("gd", "nesterov"):
                clf = GDLogisticRegression(solver=solver)
                times[solver] = best_time(lambda: clf.fit(X, y), repeat)
                times[solver + "_iter"] = clf.n_iter_
        rows.append(
            dict(
                dataset=name,
                shape=list(X.shape),
                lbfgs_ms=t_lr * 1e3,
                gd_ms=times["gd"] * 1e3,
                gd_iter=times["gd_iter"],
                nesterov_ms=times["nesterov"] * 1e3,
                nesterov_iter=times["nesterov_iter"],
            )
        )
    print(f"\n3. Fit time at default settings on standardized bundled data, best of {repeat}")
    print(
        f"{'dataset':14} {'shape':>11} {'lbfgs ms':>9} {'gd ms':>7} {'(iter)':>6} {'gd/lbfgs':>9}"
        f" {'nesterov ms':>12} {'(iter)':>6} {'nest/lbfgs':>10}"
    )
    for r in rows:
        print(
            f"{r['dataset']:14} {str(tuple(r['shape'])):>11} {r['lbfgs_ms']:9.1f} "
            f"{r['gd_ms']:7.1f} "
            f"{r['gd_iter']:6d} {r['gd_ms'] / r['lbfgs_ms']:8.2f}x {r['nesterov_ms']:12.1f} "
            f"{r['nesterov_iter']:6d} {r['nesterov_ms'] / r['lbfgs_ms']:9.2f}x"
        )
    return rows


# 4. The lecture's loops --------------------------------------------------


def loops(sizes, d, repeat):
    """One pass (J and gradient) of each loop mode: the lecture's comparison."""
    rows = []
    rng = np.random.default_rng(1)
    for m in sizes:
        X = rng.standard_normal((m, d))
        y = (X[:, 0] + rng.standard_normal(m) > 0).astype(int)
        coef = rng.standard_normal((1, d + 1)) * 0.1
        row = dict(m=m, d=d)
        for mode in ("full", "examples", None):
            if mode:
                obj = LoopData(X, y, np.ones(m), 2, True, mode)
            else:
                obj = InMemoryData(X, y, np.ones(m), 2, True, n_threads=1)
            row[str(mode)] = best_time(lambda: obj.loss_grad(coef), 1 if mode else repeat)
        rows.append(row)
    print(f"\n4. Seconds per iteration, the lecture's loops against the vectorized path (d={d})")
    print(
        f"{'m':>8} {'full':>10} {'examples':>10} {'vectorized':>11} {'full/vect':>10} "
        f"{'examples/vect':>14}"
    )
    for r in rows:
        print(
            f"{r['m']:8d} {r['full']:10.2e} {r['examples']:10.2e} {r['None']:11.2e} "
            f"{r['full'] / r['None']:9.0f}x {r['examples'] / r['None']:13.0f}x"
        )
    return rows


# 5. Memory ---------------------------------------------------------------


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


def memory(m, d):
    rows = []
    rng = np.random.default_rng(2)
    for dtype in (np.float64, np.float32):
        X = rng.standard_normal((m, d)).astype(dtype)
        y = (X[:, 0] > 0).astype(int)
        for solver in ("gd", "nesterov"):
            probe = PeakFromFirstIteration()
            clf = GDLogisticRegression(solver=solver, max_iter=20).set_callbacks(probe)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                tracemalloc.start()
                clf.fit(X, y)
                _, iterations_peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            peak = max(probe.setup_peak, iterations_peak)
            rows.append(
                dict(
                    dtype=np.dtype(dtype).name,
                    solver=solver,
                    X_MB=X.nbytes / 1e6,
                    peak_extra_MB=peak / 1e6,
                    extra_over_X=peak / X.nbytes,
                    setup_peak_MB=probe.setup_peak / 1e6,
                    iterations_peak_MB=iterations_peak / 1e6,
                    iterations_over_X=iterations_peak / X.nbytes,
                )
            )
    print(f"\n5. Memory a fit allocates on top of X ({m} x {d}; tracemalloc peaks)")
    for r in rows:
        print(
            f"{r['dtype']:8} {r['solver']:9} X = {r['X_MB']:7.1f} MB, fit peak = "
            f"{r['peak_extra_MB']:6.1f} MB = {100 * r['extra_over_X']:.1f}% of X "
            f"(set-up {r['setup_peak_MB']:.1f} MB; iterations {r['iterations_peak_MB']:.1f} MB = "
            f"{100 * r['iterations_over_X']:.1f}% of X)"
        )
    return rows


def figure(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    per = results["per_iteration"]
    labels = [f"{r['dtype']}\n{r['threads']} thr" for r in per]
    x = np.arange(len(per))
    ax1.bar(x - 0.2, [r["textbook_over_bound"] for r in per], 0.4, label="textbook NumPy")
    ax1.bar(x + 0.2, [r["fused_over_bound"] for r in per], 0.4, label="sk_gdlogreg fused")
    ax1.axhline(1, color="k", lw=1, ls="--", label="bandwidth bound")
    ax1.set_xticks(x, labels)
    ax1.set_ylabel("time per iteration / time to read X once")
    ax1.set_title("One gradient-descent iteration")
    ax1.legend()
    loop_rows = results["loops"]
    ms = [r["m"] for r in loop_rows]
    for mode, label in (
        ("full", "loops over examples and features"),
        ("examples", "loop over examples"),
        ("None", "vectorized"),
    ):
        ax2.loglog(ms, [r[mode] for r in loop_rows], "o-", label=label)
    ax2.set_xlabel("m (examples)")
    ax2.set_ylabel("seconds per iteration")
    ax2.set_title(f"The lecture's loops against vectorization (d={loop_rows[0]['d']})")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems, for a smoke test")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--only", choices=list(SECTIONS), help="run one section, write its JSON")
    args = parser.parse_args()
    m = 20_000 if args.quick else 200_000
    repeat = 3 if args.quick else 7
    sizes = [100, 1000] if args.quick else [100, 1000, 10_000, 100_000]
    run = {
        "per_iteration": lambda: per_iteration(m, 100, repeat),
        "time_to_optimum": lambda: time_to_optimum(m, 100, args.quick),
        "bundled": lambda: bundled(repeat),
        "loops": lambda: loops(sizes, 20, repeat),
        "memory": lambda: memory(m, 100),
    }
    machine = dict(
        platform=platform.platform(),
        processor=platform.processor(),
        python=platform.python_version(),
        numpy=np.__version__,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only:
        path = args.out / f"bench_gd_{args.only}.json"
        path.write_text(json.dumps({"machine": machine, args.only: run[args.only]()}, indent=1))
        print(f"\nwrote {path}")
        return
    results = dict(machine=machine, **{name: section() for name, section in run.items()})
    (args.out / "bench_gd.json").write_text(json.dumps(results, indent=1))
    figure(results, args.out / "bench_gd.png")
    print(f"\nwrote {args.out / 'bench_gd.json'} and {args.out / 'bench_gd.png'}")


if __name__ == "__main__":
    main()
