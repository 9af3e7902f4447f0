"""Choosing the learning rate alpha: a grid search, and the cost curve of each alpha.

``GridSearchCV`` tries constant learning rates from far too small to far too
large on the standardized breast-cancer data, each for at most 150 iterations,
and scores each by cross-validated accuracy. Then each alpha is fitted once on
the whole training set and its cost curve drawn with
``LossCurveDisplay.from_estimators``: too small an alpha creeps down and is
stopped by ``max_iter`` far from the minimum; a good one converges; too large a
one overshoots, so J goes up and oscillates, and the estimator warns about it.
The fastest rate is often just below the unstable ones: here alpha = 10
overshoots once (J goes up at iteration 1, and the estimator warns), then
converges in fewer iterations than any other.
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

FIGURES = Path(os.environ.get("SK_GDLOGREG_FIGURES", Path(__file__).resolve().parent / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
pipe = make_pipeline(StandardScaler(), GDLogisticRegression(max_iter=150))
alphas = [0.001, 0.01, 0.1, 1.0, 10.0, 100.0]
search = GridSearchCV(pipe, {"gdlogisticregression__learning_rate": alphas}, cv=3)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", ConvergenceWarning)
    search.fit(X_train, y_train)
print(f"GridSearchCV: {len(alphas)} learning rates x 3 folds, "
      f"{len(caught)} ConvergenceWarnings caught during the search")

# one fit per alpha on the whole training set, for its cost curve
fits, messages = {}, {}
for alpha in alphas:
    model = clone(pipe).set_params(gdlogisticregression__learning_rate=alpha)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X_train, y_train)
    fits[f"alpha = {alpha:g}"] = model
    messages[alpha] = [str(w.message) for w in caught]

scores = search.cv_results_["mean_test_score"]
stds = search.cv_results_["std_test_score"]
print()
print(f"{'alpha':>7}  {'CV accuracy':>13}  {'iters':>5}  {'J first':>7}  {'J last':>7}"
      f"  {'J rises':>7}  warning")
for alpha, score, std, model in zip(alphas, scores, stds, fits.values()):
    J = np.asarray(model[-1].loss_curve_)
    rises = int(np.sum(np.diff(J) > 0))
    warning = messages[alpha][0].split(":")[0].split(" (")[0] if messages[alpha] else "-"
    print(f"{alpha:7g}  {score:.3f} ± {std:.3f}  {model[-1].n_iter_:5d}  {J[0]:7.4f}"
          f"  {J[-1]:7.4f}  {rises:7d}  {warning}")
for alpha in alphas:
    for message in messages[alpha]:
        if "too large" in message:
            print(f"\nthe warning for alpha = {alpha:g}:\n  ConvergenceWarning: {message}")

best = search.best_params_["gdlogisticregression__learning_rate"]
print(f"\nbest alpha: {best:g} (CV accuracy {search.best_score_:.3f}); "
      f"test accuracy of the refitted best model: {search.score(X_test, y_test):.3f}")

fig, (ax_curves, ax_score) = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
colors = plt.cm.viridis(np.linspace(0, 0.9, len(alphas)))
LossCurveDisplay.from_estimators(
    fits, ax=ax_curves, log_y=True, curve_kwargs=[{"color": c} for c in colors]
)
ax_curves.legend(loc="center left", bbox_to_anchor=(1, 0.5))
ax_curves.set_title("Cost curve for each learning rate")
ax_score.errorbar(alphas, scores, yerr=stds, marker="o", capsize=3)
ax_score.set_xscale("log")
ax_score.set(xlabel="learning rate alpha", ylabel="CV accuracy (3 folds)",
             title="Validation score against alpha (max_iter=150)")
path = FIGURES / "plot_learning_rate_grid.png"
fig.savefig(path, dpi=100)
print(f"figure saved to {path}")
plt.show()
