"""
Choosing the learning rate alpha
================================

Gradient descent with a constant step alpha (``learning_rate=alpha``) on the
standardized breast-cancer data, for 21 values of alpha from 0.001 to 100, each
run for exactly 100 iterations. Left: how far J still is from its minimum J*
after those 100 iterations, against alpha. A larger step gets further, up to an
edge: past it, J goes *up* at some iterations (the estimator warns, orange
triangles), and further still gradient descent diverges and ends worse than it
started (red, drawn at the top: their J is off the chart). The best alpha in
100 iterations sits right at that edge, where a step can already overshoot:
the safe choice is the largest alpha that never makes J rise. Middle: the cost
curves of a few of these alphas, and of ``learning_rate="auto"`` (dashed),
which chooses its steps itself and reaches J* to rounding error well within the
100 iterations. Right: ``GridSearchCV`` scores each
alpha by cross-validated accuracy; accuracy is flat over a wide range of alpha,
while J tells the alphas apart.
"""

import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression, LossCurveDisplay

# Figures go to $SK_GDLOGREG_FIGURES, else to examples/figures/ (ignored by git).
FIGURES = Path(os.environ.get("SK_GDLOGREG_FIGURES") or Path(__file__).resolve().parent / "figures")
FIGURES.mkdir(parents=True, exist_ok=True)

N_ITER = 100
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
# max_iter=N_ITER + 1 evaluations of J: loss_curve_[N_ITER] is J after N_ITER updates
pipe = make_pipeline(StandardScaler(), GDLogisticRegression(tol=0, max_iter=N_ITER + 1))
alphas = np.logspace(-3, 2, 21)


def fit(**params):
    """Fit a clone of the pipeline; return it and the messages of its warnings."""
    model = clone(pipe).set_params(**{f"gdlogisticregression__{k}": v for k, v in params.items()})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X_train, y_train)
    return model, [str(w.message) for w in caught]


# J*, the minimum, from a tight fit with automatic steps
J_star = fit(learning_rate="auto", max_iter=5000, tol=1e-10)[0][-1].loss_curve_[-1]
auto = fit(learning_rate="auto")[0]


def after(curve, n):
    """J after n updates; a fit that stopped earlier (converged, or no progress
    possible) stays where it stopped."""
    return curve[min(n, len(curve) - 1)]


J_auto = after(auto[-1].loss_curve_, N_ITER)
rounding = 10 * np.finfo(float).eps * J_star  # J - J* below this is rounding error

fits, J_N, rose, diverged = {}, [], [], []
for alpha in alphas:
    model, messages = fit(learning_rate=alpha)
    J = np.asarray(model[-1].loss_curve_)
    fits[alpha] = model
    J_N.append(after(J, N_ITER))
    rose.append(any("went up" in message for message in messages))
    diverged.append(not after(J, N_ITER) < J[0])  # worse than w = 0 (or not finite)
J_N, rose, diverged = np.array(J_N), np.array(rose), np.array(diverged)
stable = ~rose
warned = rose & ~diverged

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search = GridSearchCV(pipe, {"gdlogisticregression__learning_rate": alphas}, cv=3)
    search.fit(X_train, y_train)
scores = search.cv_results_["mean_test_score"]

print(
    f"J* = {J_star:.6f}; after {N_ITER} iterations learning_rate='auto' is at J* "
    f"{'to rounding error' if J_auto - J_star < rounding else f'+ {J_auto - J_star:.1e}'}"
)
print(f"{'alpha':>8}  {'J_100 - J*':>10}  {'CV accuracy':>11}  behaviour")
for alpha, j, score, r, d in zip(alphas, J_N, scores, rose, diverged):
    behaviour = "diverges" if d else "J went up (warned)" if r else "J falls at every step"
    print(f"{alpha:8.3g}  {j - J_star:10.2e}  {score:11.3f}  {behaviour}")
best = alphas[np.argmin(J_N)]
safe = alphas[stable][np.argmin(J_N[stable])]
print(
    f"lowest J after {N_ITER} iterations: alpha = {best:.3g}"
    f"{' (J went up on the way)' if rose[alphas == best][0] else ''}"
)
print(
    f"largest alpha with which J never went up: {alphas[stable].max():.3g}; "
    f"the best of those: {safe:.3g}"
)
print(f"diverging: alpha >= {alphas[diverged].min():.3g}")
best_alpha = search.best_params_["gdlogisticregression__learning_rate"]
print(
    f"GridSearchCV's choice: alpha = {best_alpha:.3g}"
    f" (CV accuracy {search.best_score_:.3f}); test accuracy {search.score(X_test, y_test):.3f}"
)

fig, (ax_j, ax_curves, ax_cv) = plt.subplots(1, 3, figsize=(15, 4.4), constrained_layout=True)
gap = J_N - J_star
# the y-range of the others: a divergent J would squash everything else to the bottom
ymin, ymax = gap[~diverged].min() / 3, gap[~diverged].max() * 3
styles = [
    (stable, dict(marker="o", color="tab:blue", label="J falls at every step")),
    (warned, dict(marker="^", color="tab:orange", label="J went up: warned")),
]
for mask, style in styles:
    ax_j.plot(alphas[mask], gap[mask], ls="", ms=7, **style)
ax_j.plot(
    alphas[diverged],
    np.full(diverged.sum(), ymax / 1.5),
    ls="",
    marker="x",
    ms=9,
    mew=2,
    color="tab:red",
    label="diverges (J off the chart)",
)
ax_j.plot(alphas, np.where(diverged, np.nan, gap), color="0.6", lw=1, zorder=0)
ax_j.set(
    xscale="log",
    yscale="log",
    ylim=(ymin, ymax),
    xlabel="learning rate alpha",
    ylabel=f"J - J* after {N_ITER} iterations",
    title=f"How far {N_ITER} iterations get, against alpha",
)
ax_j.legend(fontsize=8, loc="lower left")

shown = [alphas[0], alphas[8], alphas[12], safe, alphas[warned][0], alphas[diverged][0]]
colors = ["tab:purple", "tab:cyan", "tab:green", "tab:blue", "tab:orange", "tab:red"]
curves = {f"alpha = {a:.3g}": fits[a] for a in shown} | {'learning_rate="auto"': auto}
LossCurveDisplay.from_estimators(
    curves,
    ax=ax_curves,
    relative_to=J_star,
    log_y=True,
    curve_kwargs=[{"color": c} for c in colors] + [{"color": "k", "ls": "--"}],
)
ax_curves.set_ylim(ymin, 1)  # the divergent curve leaves the chart instead of setting its scale
ax_curves.legend(fontsize=8, loc="lower right")
ax_curves.set_title("Cost curves (J - J*) of some of them")

ax_cv.plot(alphas, scores, color="0.6", lw=1, zorder=0)
for mask, style in styles + [(diverged, dict(marker="x", color="tab:red", mew=2))]:
    ax_cv.plot(alphas[mask], scores[mask], ls="", ms=7, **{**style, "label": None})
ax_cv.set(
    xscale="log",
    xlabel="learning rate alpha",
    ylabel="CV accuracy (3 folds)",
    title=f"GridSearchCV: accuracy after {N_ITER} iterations",
)
path = FIGURES / "plot_learning_rate_grid.png"
fig.savefig(path, dpi=100)
print(f"figure saved to {path}")
plt.show()
