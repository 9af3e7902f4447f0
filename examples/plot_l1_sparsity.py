"""
L1 penalty: exact zeros in the coefficients
===========================================

With ``l1_ratio=1`` the penalty is ``||w||_1 / (C S)``, and gradient descent
takes a soft-threshold (proximal) step after each gradient step, which sets
small weights to exactly 0. On the standardized breast-cancer data (30
features), the smaller C (the stronger the penalty), the fewer features the
model uses: left, each coefficient against C (the regularization path); right,
the number of non-zero coefficients and the test accuracy against C. A handful
of features already give nearly the full accuracy. One estimator with
``warm_start=True`` walks the path from the strongest penalty to the weakest,
each fit starting from the previous solution.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression

# Figures go to $SK_GDLOGREG_FIGURES, else to examples/figures/ (ignored by git).
FIGURES = Path(os.environ.get("SK_GDLOGREG_FIGURES") or Path(__file__).resolve().parent / "figures")
FIGURES.mkdir(parents=True, exist_ok=True)

data = load_breast_cancer()
X_train, X_test, y_train, y_test = train_test_split(data.data, data.target, random_state=0)
Cs = np.logspace(-3, 2, 21)
# One model along the path, from the strongest penalty to the weakest: with
# warm_start=True each fit starts from the previous C's solution, which is close.
model = make_pipeline(
    StandardScaler(), GDLogisticRegression(l1_ratio=1.0, tol=1e-5, max_iter=20_000, warm_start=True)
)
coefs, accuracies, n_iter = [], [], 0
for C in Cs:
    model.set_params(gdlogisticregression__C=C).fit(X_train, y_train)
    coefs.append(model[-1].coef_[0].copy())
    accuracies.append(model.score(X_test, y_test))
    n_iter += model[-1].n_iter_
coefs = np.array(coefs)
nonzero = (coefs != 0).sum(axis=1)  # exact zeros, not merely small values

print(
    f"l1_ratio=1 on {X_train.shape[1]} standardized features, {len(Cs)} values of C, "
    f"{n_iter} iterations in all; the non-zero coefficients (coef_ != 0):"
)
print(f"{'C':>8}  {'non-zero':>8}  {'test accuracy':>13}")
for C, k, accuracy in zip(Cs, nonzero, accuracies):
    print(f"{C:8.3g}  {k:8d}  {accuracy:13.3f}")
entry = np.where(coefs.any(axis=0), np.argmax(coefs != 0, axis=0), len(Cs))  # first C index
first = np.argsort(entry, kind="stable")[:4]
print(
    "the first features in as C grows: "
    + ", ".join(f"{data.feature_names[j]} (C = {Cs[entry[j]]:.2g})" for j in first)
)

fig, (ax_path, ax_count) = plt.subplots(1, 2, figsize=(12, 4.4), constrained_layout=True)
ax_path.plot(Cs, coefs, marker=".", lw=1)
ax_path.axhline(0, color="k", lw=0.8)
ax_path.set(
    xscale="log",
    xlabel="C (larger: weaker penalty)",
    ylabel="coef_",
    title="Regularization path, l1_ratio=1",
)
ax_count.step(Cs, nonzero, where="mid", color="tab:blue", marker="o")
ax_count.set(
    xscale="log",
    xlabel="C (larger: weaker penalty)",
    ylabel="non-zero coefficients (of 30)",
    title="Sparsity and accuracy",
)
ax_count.yaxis.label.set_color("tab:blue")
ax_acc = ax_count.twinx()
ax_acc.plot(Cs, accuracies, color="tab:orange", marker="s")
ax_acc.set_ylabel("test accuracy", color="tab:orange")
path = FIGURES / "plot_l1_sparsity.png"
fig.savefig(path, dpi=100)
print(f"figure saved to {path}")
plt.show()
