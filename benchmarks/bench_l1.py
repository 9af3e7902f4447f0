"""L1 and elastic-net fits against the solvers people use for sparse models, one thread.

The time to the optimum: until F is within 1e-6 (relative) of the lowest F found
(that of a tight saga fit, tol=1e-10, or of any timed run's final iterate), F
from its definition (``bench_conditioning.objective``):

    F = (1/m) sum_i log-loss_i + (1 - rho)/(2 C m) ||W||^2 + rho/(C m) ||W||_1.

Solvers, each on the same objective:

- GDLogisticRegression: the default (L1 steps in the curvature metric where
  whitening runs), ``solver="gd"``, and ``preconditioner="diagonal"`` (the path
  L1 fits took before); tol=1e-10, time to the first iteration at the target
  (per-iteration timestamps from a callback), and one fit at the defaults
  (tol=1e-4): its iterations and whether it warns.
- scikit-learn ``saga`` and ``liblinear`` (L1 only: liblinear has no elastic
  net; its intercept is penalized, so intercept_scaling=100 makes that term
  small, and it may stop short of the target), C as given.
- skglm ``ProxNewton`` on ``Logistic()`` (the mean log-loss) + ``L1(alpha)`` or
  ``L1_plus_L2(alpha, rho)`` (``alpha (rho ||w||_1 + (1 - rho)/2 ||w||^2)``):
  ``alpha = 1 / (C m)``; fit_intercept=True (unpenalized); X in Fortran order
  (CSC if sparse), its kernels' layout, converted before timing. Compiled
  (numba) on a small problem before timing.
- glum ``irls-cd``, family binomial: glum minimizes
  ``deviance / (2 m) + alpha (rho ||w||_1 + (1 - rho)/2 ||w||^2)``, and the
  binomial deviance is twice the log-loss, so ``alpha = 1 / (C m)``.
- cyanure ``LogisticRegression``: ``(1/m) sum loss + lambda_1 ||w||_1
  (+ lambda_2/2 ||w||^2)``: ``lambda_1 = rho / (C m)``,
  ``lambda_2 = (1 - rho) / (C m)``; n_threads=1.

With more than two classes only saga and cyanure (``multi_class="multinomial"``)
minimize the same objective: liblinear is one-vs-rest, skglm's and glum's
logistic models are binary.

The mappings are checked by the result itself: every solver's F is computed
here from its coefficients, and a wrong mapping would miss the target ("gap").
Peers without a per-iteration hook are fitted with max_iter = 1, 2, 4, ...
(tight tol), each fit timed; the first within the target gives the time.
Peers not installed are left out (and said so). Each solver is capped (--cap
seconds). Everything runs under threadpool_limits(1).

    python benchmarks/bench_l1.py --cap 20      # all problems, 15-20 min
    python benchmarks/bench_l1.py --only easy_C0.05_l1 --cap 20

Writes benchmarks/results/bench_l1.{json,txt}.
"""

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
from bench_conditioning import (  # noqa: E402
    classification,
    correlated,
    objective,
    run_gd,
    sparse_text,
    standardized,
    summarize,
)

from sk_gdlogreg import GDLogisticRegression  # noqa: E402
from sk_gdlogreg._coordinates import MAX_WHITEN_COEFS  # noqa: E402

RESULTS = Path(__file__).parent / "results"
MAX_DOUBLING = 2**14
LINES = []


def log(line=""):
    print(line, flush=True)
    LINES.append(line)


def problems():
    """name -> (builder of (X, y), C, l1_ratio, description)."""

    def easy():
        return standardized(
            classification(50_000, 100, n_informative=30, class_sep=1.0, flip_y=0.05)
        )

    return {
        "easy_C0.05_l1": (easy, 0.05, 1.0, "50,000 x 100 standardized, C=0.05, L1"),
        "easy_l1": (easy, 0.1, 1.0, "bench_conditioning's easy_l1: 50,000 x 100, C=0.1, L1"),
        "correlated_20k_l1": (
            lambda: correlated(20_000, 40),
            0.05,
            1.0,
            "correlated (cond 1e3) 20,000 x 40, C=0.05, L1",
        ),
        "correlated_50k_l1": (
            lambda: correlated(50_000, 100),
            0.05,
            1.0,
            "correlated (cond 1e3) 50,000 x 100, C=0.05, L1",
        ),
        "correlated_50k_enet": (
            lambda: correlated(50_000, 100),
            0.05,
            0.5,
            "correlated (cond 1e3) 50,000 x 100, C=0.05, elastic net l1_ratio=0.5",
        ),
        "iris_C100_l1": (
            lambda: bundled("iris"),
            100.0,
            1.0,
            "iris standardized (3 classes, nearly separated), C=100, L1",
        ),
        "wine_l1": (lambda: bundled("wine"), 1.0, 1.0, "wine standardized (3 classes), C=1, L1"),
        "digits_l1": (
            lambda: bundled("digits"),
            0.1,
            1.0,
            "digits standardized (10 classes), C=0.1, L1",
        ),
        "three_classes_20k_l1": (
            lambda: standardized(
                classification(20_000, 40, n_informative=20, n_classes=3, class_sep=2.0)
            ),
            1.0,
            1.0,
            "3 classes 20,000 x 40 standardized (class_sep=2), C=1, L1",
        ),
        "sparse_text_l1": (
            lambda: sparse_text(200_000, 1_000),
            10.0,
            1.0,
            "sparse text 200,000 x 1,000 (CSR, 50 per row), C=10, L1: metric steps",
        ),
        "sparse_wide_l1": (
            lambda: sparse_text(50_000, 5_000),
            10.0,
            1.0,
            f"sparse text 50,000 x 5,000, C=10, L1: over {MAX_WHITEN_COEFS - 1} "
            "features, diagonal steps",
        ),
    }


def bundled(name):
    """A dataset bundled with scikit-learn, standardized."""
    from sklearn import datasets

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0), y


def doubling(fit, X, y_idx, C, l1_ratio, cap, target):
    """Fits with max_iter 1, 2, 4, ... until F <= target(), the solver stops early, or the cap."""
    fits, max_iter, start = [], 1, time.perf_counter()
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            coef, intercept, n_iter = fit(max_iter)
            seconds = time.perf_counter() - t
        J = objective(X, y_idx, np.atleast_2d(coef), np.atleast_1d(intercept), C, l1_ratio)
        fits.append(dict(seconds=seconds, n_iter=int(n_iter), J=float(J)))
        # stopped by its own test: fewer iterations than allowed and no better than before
        # (cyanure reports iterations in tens: n_iter alone says nothing)
        stopped = n_iter < max_iter and len(fits) > 1 and J >= fits[-2]["J"]
        if J <= target() or stopped or 2 * seconds > cap or max_iter >= MAX_DOUBLING:
            break
        max_iter *= 2
    return dict(
        kind="sklearn",
        fits=fits,
        J_final=min(f["J"] for f in fits),
        wall=time.perf_counter() - start,
        stopped_by_tol=stopped,
    )


def peers(X, y, C, l1_ratio):
    """(label, fit(max_iter) -> (coef, intercept, n_iter)) of the installed peers."""
    m = X.shape[0]
    out = []

    def sklearn(solver, **kw):
        def fit(max_iter):
            clf = LogisticRegression(
                solver=solver, C=C, l1_ratio=l1_ratio, tol=1e-12, max_iter=max_iter, **kw
            )
            clf.fit(X, y)
            return clf.coef_, clf.intercept_, int(np.max(clf.n_iter_))

        return fit

    out.append(("sklearn saga", sklearn("saga")))
    if len(np.unique(y)) > 2:  # multinomial: saga and cyanure minimize this objective
        out.append(("cyanure", cyanure(X, y, C, l1_ratio, "multinomial")))
        return out
    if l1_ratio == 1.0:
        out.append(("sklearn liblinear", sklearn("liblinear", intercept_scaling=100.0)))
    try:
        from skglm import GeneralizedLinearEstimator
        from skglm.datafits import Logistic
        from skglm.penalties import L1, L1_plus_L2
        from skglm.solvers import ProxNewton

        XF = np.asfortranarray(X) if isinstance(X, np.ndarray) else X.tocsc()

        def skglm_fit(max_iter):
            alpha = 1 / (C * m)
            penalty = L1(alpha) if l1_ratio == 1.0 else L1_plus_L2(alpha, l1_ratio)
            solver = ProxNewton(fit_intercept=True, tol=1e-12, max_iter=max_iter)
            est = GeneralizedLinearEstimator(Logistic(), penalty, solver).fit(XF, 2 * y - 1)
            return est.coef_, est.intercept_, est.n_iter_

        out.append(("skglm ProxNewton", skglm_fit))
    except ImportError:
        log("(skglm is not installed: left out)")
    try:
        from glum import GeneralizedLinearRegressor

        def glum_fit(max_iter):
            est = GeneralizedLinearRegressor(
                family="binomial",
                alpha=1 / (C * m),
                l1_ratio=l1_ratio,
                solver="irls-cd",
                gradient_tol=1e-12,
                max_iter=max_iter,
            ).fit(X, y)
            return est.coef_, est.intercept_, est.n_iter_

        out.append(("glum irls-cd", glum_fit))
    except ImportError:
        log("(glum is not installed: left out)")
    out.append(("cyanure", cyanure(X, y, C, l1_ratio)))
    return [(label, fit) for label, fit in out if fit is not None]


def cyanure(X, y, C, l1_ratio, multi_class="auto"):
    """cyanure's fit(max_iter), or None (said so) where it is not installed."""
    try:
        from cyanure.estimators import LogisticRegression as CyanureLR
    except ImportError:
        log("(cyanure is not installed: left out)")
        return None
    m = X.shape[0]

    def cyanure_fit(max_iter):
        est = CyanureLR(
            penalty="l1" if l1_ratio == 1.0 else "elasticnet",
            lambda_1=l1_ratio / (C * m),
            lambda_2=(1 - l1_ratio) / (C * m),
            fit_intercept=True,
            tol=1e-12,
            max_iter=max_iter,
            n_threads=1,
            verbose=False,
            multi_class=multi_class,
        ).fit(X, y)
        if multi_class == "auto":
            return est.coef_.reshape(1, -1), est.intercept_, int(np.max(est.n_iter_))
        # multinomial: coef_ is d x K, intercept_ 1 x K
        return est.coef_.T, np.ravel(est.intercept_), int(np.max(est.n_iter_))

    return cyanure_fit


def warm_up():
    """Compile what is compiled at first use (skglm's numba kernels), untimed."""
    X, y = correlated(500, 5)
    for _, fit in peers(X, y, 0.1, 1.0) + peers(X, y, 0.1, 0.5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit(5)
            except Exception:
                pass


def default_fit(X, y, y_idx, C, l1_ratio):
    clf = GDLogisticRegression(C=C, l1_ratio=l1_ratio)
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    seconds = time.perf_counter() - t
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return dict(warns=warned, n_iter=int(clf.n_iter_), seconds=seconds, coef=clf.coef_)


def run_problem(name, build, C, l1_ratio, cap, ref_max_iter=20_000):
    X, y = build()
    y_idx = np.unique(y, return_inverse=True)[1]
    ref = LogisticRegression(
        solver="saga", C=C, l1_ratio=l1_ratio, tol=1e-10, max_iter=ref_max_iter
    )
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, y)
    ref_seconds = time.perf_counter() - t
    J_ref = objective(X, y_idx, ref.coef_, ref.intercept_, C, l1_ratio)
    best = [J_ref]

    def target():
        return min(best) * (1 + 1e-6)

    records = {}
    gd = [
        ("GD default", {}),
        ("GD solver=gd", dict(solver="gd")),
        ("GD precond=diagonal", dict(preconditioner="diagonal")),
    ]
    for label, params in gd:
        rec = run_gd(X, y, y_idx, C, l1_ratio, params, cap)
        best.append(rec["J_final"])
        records[label] = rec
    for label, fit in peers(X, y, C, l1_ratio):
        try:
            rec = doubling(fit, X, y_idx, C, l1_ratio, cap, target)
        except Exception as exc:  # a peer that fails is reported, not fatal
            log(f"   {label} failed: {type(exc).__name__}: {exc}")
            continue
        best.append(rec["J_final"])
        records[label] = rec
    J_best = min(best)
    default = default_fit(X, y, y_idx, C, l1_ratio)
    support_equal = bool(np.array_equal(default["coef"] != 0, ref.coef_ != 0))
    tight = GDLogisticRegression(C=C, l1_ratio=l1_ratio, tol=1e-8, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tight.fit(X, y)
    tight_support_equal = bool(np.array_equal(tight.coef_ != 0, ref.coef_ != 0))
    rows = {label: summarize(rec, J_best) for label, rec in records.items()}
    return dict(
        shape=list(X.shape),
        C=C,
        l1_ratio=l1_ratio,
        J_best=J_best,
        saga_reference=dict(J=J_ref, seconds=ref_seconds, nonzeros=int(np.sum(ref.coef_ != 0))),
        default=dict(
            warns=default["warns"],
            n_iter=default["n_iter"],
            seconds=default["seconds"],
            nonzeros=int(np.sum(default["coef"] != 0)),
            support_equals_saga=support_equal,
        ),
        tol_1e8=dict(n_iter=int(tight.n_iter_), support_equals_saga=tight_support_equal),
        rows=rows,
    )


def print_problem(name, desc, res):
    log(f"\n{name}: {desc} ({res['shape'][0]} x {res['shape'][1]})")
    ref = res["saga_reference"]
    log(
        f"  best F {res['J_best']:.12g}; tight saga (tol=1e-10) {ref['seconds']:.2f} s, "
        f"{ref['nonzeros']} non-zeros"
    )
    rows = res["rows"]
    fastest_peer = min(
        (r["seconds"] for k, r in rows.items() if r["reached"] and not k.startswith("GD")),
        default=float("nan"),
    )
    log(f"  {'solver':<22} {'time to F*(1+1e-6)':>20} {'iterations':>11} {'vs fastest peer':>16}")
    for label, r in rows.items():
        t = (
            f"{r['seconds']:.3f} s"
            if r["reached"]
            else f"> ({r['seconds']:.2f} s, gap {r['gap']:.1e})"
        )
        ratio = f"{r['seconds'] / fastest_peer:.2f}x" if r["reached"] else ""
        log(f"  {label:<22} {t:>20} {r['iterations']:>11} {ratio:>16}")
    d, t8 = res["default"], res["tol_1e8"]
    log(
        f"  default fit (tol=1e-4): {d['n_iter']} iterations, {d['seconds']:.3f} s, "
        f"warns: {d['warns']}, {d['nonzeros']} non-zeros, support = saga's: "
        f"{d['support_equals_saga']}; at tol=1e-8: {t8['n_iter']} iterations, "
        f"support = saga's: {t8['support_equals_saga']}"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    parser.add_argument("--cap", type=float, default=30.0)
    parser.add_argument(
        "--ref-max-iter", type=int, default=20_000, help="epochs of the tight saga reference"
    )
    args = parser.parse_args()
    chosen = problems()
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    log(
        f"bench_l1: one thread (threadpool_limits(1)); Python {platform.python_version()}, "
        f"{platform.processor() or platform.machine()}; cap {args.cap:.0f} s per solver"
    )
    log("command: python benchmarks/bench_l1.py " + " ".join(sys.argv[1:]))
    results = {}
    with threadpool_limits(1):
        warm_up()
        for name, (build, C, l1_ratio, desc) in chosen.items():
            print(f"running {name} ...", file=sys.stderr, flush=True)
            results[name] = run_problem(name, build, C, l1_ratio, args.cap, args.ref_max_iter)
            results[name]["description"] = desc
            print_problem(name, desc, results[name])
            write(results, args.only and chosen)  # after each problem: a crash keeps the rest


def write(results, chosen):
    RESULTS.mkdir(exist_ok=True)
    suffix = "_" + "_".join(sorted(chosen)) if chosen else ""
    (RESULTS / f"bench_l1{suffix}.json").write_text(json.dumps(results, indent=1))
    (RESULTS / f"bench_l1{suffix}.txt").write_text("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
