"""
The lecture's loops against the vectorized path: fit time against m
===================================================================

The same gradient descent (same iterates) run three ways: ``loop_mode="full"``
loops in Python over the examples, the classes and the features, the lecture's
code line by line; ``loop_mode="examples"`` loops over the examples only, each
example's features a NumPy vector; ``loop_mode=None`` (the default) has no
Python loop over examples or features, each iteration two matrix products.
Every fit runs exactly 5 iterations (a constant ``learning_rate``, ``tol=0``,
``max_iter=5``), so the times compare the cost of an iteration. Two feature
counts: n = 2, the lecture's example, and n = 100.

The loops cost time proportional to m (a straight line of slope 1 on the
log-log plot), the vectorized path stays nearly flat until the fixed overhead
of a fit stops dominating. With few features, NumPy's per-call overhead makes
the "examples" loop slower than the plain-Python "full" loop; with many, the
vectorized feature sums win it back. The speed-ups printed are of whole fits,
the fixed cost of a fit (validation, feature statistics) included, so per
iteration the vectorized path is faster still.

Each time is the best (the minimum) of k fits, k = 15 for the smallest m down
to 3 for the largest: one fit of a few milliseconds, timed once, can take
several times longer on a busy machine, which bends the curves into a V; the
minimum is the time the code needs when nothing else gets in its way.
"""

import os
import timeit
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sk_gdlogreg import GDLogisticRegression

# Figures go to $SK_GDLOGREG_FIGURES, else to examples/figures/ (ignored by git).
FIGURES = Path(os.environ.get("SK_GDLOGREG_FIGURES") or Path(__file__).resolve().parent / "figures")
FIGURES.mkdir(parents=True, exist_ok=True)

MODES = {"full": "full", "examples": "examples", None: "vectorized"}
SIZES = [100, 300, 1000, 3000]
# Fits timed per point, the best one kept: many for the short fits, which a busy
# machine disturbs most, few for the long ones, so the script takes seconds.
REPEATS = {100: 15, 300: 9, 1000: 5, 3000: 3}
N_ITER = 5


def fit_time(X, y, loop_mode, repeat):
    """Best (minimum) wall time in seconds of `repeat` fits (the machine may be busy)."""
    clf = GDLogisticRegression(learning_rate=0.1, tol=0, max_iter=N_ITER, loop_mode=loop_mode)
    with warnings.catch_warnings():  # max_iter is reached on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        times = timeit.Timer(lambda: clf.fit(X, y)).repeat(repeat=repeat, number=1)
    assert clf.n_iter_ == N_ITER
    return min(times)


fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True, constrained_layout=True)
for ax, n_features in zip(axes, (2, 100)):
    times = {mode: [] for mode in MODES}
    print(
        f"n = {n_features} features, {N_ITER} iterations; fit time in ms, each the best of k runs:"
    )
    print(
        f"{'m':>6}{'k':>4}"
        + "".join(f"{label:>12}" for label in MODES.values())
        + f"{'full/vect':>11}{'examples/vect':>15}"
    )
    for m in SIZES:
        X, y = make_classification(
            n_samples=m,
            n_features=n_features,
            n_informative=2,
            n_redundant=0,
            random_state=0,
        )
        for mode in MODES:
            times[mode].append(fit_time(X, y, mode, repeat=REPEATS[m]))
        full, examples, vect = (times[mode][-1] for mode in MODES)
        print(
            f"{m:6d}{REPEATS[m]:4d}{1e3 * full:12.1f}{1e3 * examples:12.1f}{1e3 * vect:12.2f}"
            f"{full / vect:10.0f}x{examples / vect:14.0f}x"
        )
    print()
    for mode in MODES:
        ax.loglog(
            SIZES,
            times[mode],
            marker="o",
            label=f"loop_mode={mode!r}" if mode else "vectorized (loop_mode=None)",
        )
    ax.set(title=f"n = {n_features} features, {N_ITER} iterations", xlabel="number of examples m")
    # each tick says how many fits its points are the best of
    ax.set_xticks(SIZES, [f"{m}\nbest of {REPEATS[m]}" for m in SIZES])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
axes[0].set_ylabel("fit time (s), best of k runs")
axes[0].legend()
path = FIGURES / "plot_loops_vs_vectorized.png"
fig.savefig(path, dpi=100)
print(f"figure saved to {path}")
plt.show()
