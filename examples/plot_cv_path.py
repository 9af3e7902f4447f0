"""
Choosing C by cross-validation: the regularization path
=======================================================

C is the inverse strength of the L2 penalty: the cost minimized is the summed
log-loss times C plus ``||w||^2 / 2``, so a small C pulls every coefficient
towards 0 (a simple, underfitting model) and a large C lets them grow (and
overfit). ``GDLogisticRegressionCV`` tries each C of a grid on every fold of a
cross-validation and keeps the best, ``C_``.

On the standardized breast-cancer data (30 features): left, the coefficients
(the mean over the 5 training folds) against C, shrinking as C falls; right,
the cross-validated log-loss score against C, its mean over the folds and its
spread (plus or minus one standard deviation), with ``C_`` marked (the dashed
line). The path on each fold is walked from the smallest C to the largest, each
fit starting from the previous solution (a warm start); the script counts the
passes over the data that takes, against refitting every C from zero.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression, GDLogisticRegressionCV, RegularizationPathDisplay

# Figures go to $SK_GDLOGREG_FIGURES, else to examples/figures/ (ignored by git).
FIGURES = Path(os.environ.get("SK_GDLOGREG_FIGURES") or Path(__file__).resolve().parent / "figures")
FIGURES.mkdir(parents=True, exist_ok=True)

data = load_breast_cancer()
X = StandardScaler().fit_transform(data.data)  # one scale for every feature: comparable weights
y = data.target
Cs = np.logspace(-3, 2, 11)
cv = StratifiedKFold(5)
# scoring="neg_log_loss" (the default): the mean log-loss on the test fold, negated
model = GDLogisticRegressionCV(Cs=Cs, cv=cv, tol=1e-4).fit(X, y)

mean, std = model.scores_[:, 0].mean(axis=0), model.scores_[:, 0].std(axis=0)
best = int(np.flatnonzero(model.Cs_ == model.C_)[0])
norms = np.linalg.norm(model.coefs_paths_[:, 0, :, 0, :-1], axis=-1).mean(axis=0)
print(f"{X.shape[1]} standardized features, {len(Cs)} values of C, 5 folds")
print(f"{'C':>8}  {'||coef||':>8}  {'neg log-loss':>12}  {'std':>6}")
for C, norm, m, s in zip(Cs, norms, mean, std):
    print(f"{C:8.3g}  {norm:8.3f}  {m:12.4f}  {s:6.4f}" + ("  <- C_" if C == model.C_ else ""))
print(f"chosen C_ = {model.C_:.3g}: score {mean[best]:.4f} +- {std[best]:.4f} over the folds")

# The same fits from zero: each C of each fold alone, as GridSearchCV would run them.
cold = [
    sum(GDLogisticRegression(C=C, tol=1e-4).fit(X[train], y[train]).n_iter_ for C in Cs)
    for train, _ in cv.split(X, y)
]
warm = model.n_iter_.sum(axis=(1, 2))
print(
    f"passes over X for the whole path, per fold: {warm.mean():.0f} warm-started, "
    f"{np.mean(cold):.0f} refitting each C from zero ({warm.mean() / np.mean(cold):.2f}x)"
)

display = RegularizationPathDisplay.from_estimator(model)
display.axes_[0].set_title("Coefficients shrink as C falls")
display.axes_[1].set_title(f"Cross-validated score, C_ = {model.C_:.3g}")
display.figure_.set_size_inches(12, 4.4)
display.figure_.set_layout_engine("constrained")
path = FIGURES / "plot_cv_path.png"
display.figure_.savefig(path, dpi=100)
print(f"figure saved to {path}")
plt.show()
