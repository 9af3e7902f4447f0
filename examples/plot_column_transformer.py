"""
A pipeline on a pandas frame with string columns: ColumnTransformer + GDLogisticRegression
==========================================================================================

A small synthetic customer table (no download needed) with three string
columns and two numeric ones, and a target "churned" drawn from a logistic model
whose true effects we know. A ``ColumnTransformer`` one-hot encodes the strings
and standardizes the numbers, and its pandas output carries the feature names
through to ``GDLogisticRegression`` (``feature_names_in_``), so the learned
weights can be read by name. The same pipeline with scikit-learn's
``LogisticRegression`` (same objective, another solver) is fitted to compare.
The figure shows the weights by feature and the cost curve of the fit, drawn
from the whole pipeline by ``LossCurveDisplay.from_estimator``.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sk_gdlogreg import GDLogisticRegression, LossCurveDisplay

# Figures go to $SK_GDLOGREG_FIGURES, else to examples/figures/ (ignored by git).
FIGURES = Path(os.environ.get("SK_GDLOGREG_FIGURES") or Path(__file__).resolve().parent / "figures")
FIGURES.mkdir(parents=True, exist_ok=True)

rng = np.random.default_rng(0)
m = 2000
frame = pd.DataFrame(
    {
        "plan": rng.choice(["basic", "standard", "premium"], m, p=[0.5, 0.3, 0.2]),
        "contract": rng.choice(["monthly", "yearly"], m),
        "region": rng.choice(["north", "south", "east", "west"], m),
        "tenure_months": rng.integers(1, 73, m),
        "monthly_charge": rng.normal(70, 20, m).round(2),
    }
)
# the true model: monthly contracts and high charges churn, long tenure stays;
# the region has no effect at all
z = (
    -1.0
    + 1.5 * (frame["contract"] == "monthly")
    + 0.5 * (frame["plan"] == "basic")
    - 0.5 * (frame["plan"] == "premium")
    - 0.04 * (frame["tenure_months"] - 36)
    + 0.03 * (frame["monthly_charge"] - 70)
)
frame["churned"] = np.where(rng.random(m) < 1 / (1 + np.exp(-z)), "yes", "no")
print(frame.head().to_string())
print(f"{m} rows; dtypes: " + ", ".join(f"{c}: {t}" for c, t in frame.dtypes.items()))

X, y = frame.drop(columns="churned"), frame["churned"]
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
preprocess = ColumnTransformer(
    [
        (
            "onehot",
            OneHotEncoder(sparse_output=False, handle_unknown="ignore"),
            ["plan", "contract", "region"],
        ),
        ("scale", StandardScaler(), ["tenure_months", "monthly_charge"]),
    ]
).set_output(transform="pandas")
model = Pipeline([("preprocess", preprocess), ("clf", GDLogisticRegression())])
model.fit(X_train, y_train)

clf = model[-1]
print(f"\nclasses_: {list(clf.classes_)} (positive class: {clf.classes_[1]!r})")
print(f"{clf.n_iter_} iterations, J: {clf.loss_curve_[0]:.4f} -> {clf.loss_curve_[-1]:.4f}")
print(f"test accuracy: {model.score(X_test, y_test):.3f}")
weights = pd.Series(clf.coef_[0], index=clf.feature_names_in_)
print("weights by feature (positive: more churn):")
print(weights.round(3).to_string())

# The one-hot columns of each string feature sum to 1, like the intercept's
# column: J is nearly flat along that direction (only the weak L2 penalty pins
# it), so the weights there are the slowest to settle, for any solver; the
# predicted probabilities are not affected.
reference = clone(model).set_params(clf=LogisticRegression()).fit(X_train, y_train)
proba_diff = np.abs(reference.predict_proba(X_test) - model.predict_proba(X_test)).max()
coef_diff = np.abs(reference[-1].coef_[0] - clf.coef_[0]).max()
print(
    f"\nsklearn LogisticRegression (lbfgs), same pipeline: test accuracy "
    f"{reference.score(X_test, y_test):.3f}; largest difference from ours in a "
    f"predicted probability {proba_diff:.1e}, in a weight {coef_diff:.1e}"
)

fig, (ax_w, ax_j) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
weights.iloc[::-1].plot.barh(ax=ax_w, color=np.where(weights.iloc[::-1] > 0, "tab:red", "tab:blue"))
ax_w.axvline(0, color="k", lw=0.8)
ax_w.set(title="Weights by feature (positive: more churn)", xlabel="coef_")
LossCurveDisplay.from_estimator(model, ax=ax_j)
ax_j.set_title("Cost curve of the pipeline's fit")
path = FIGURES / "plot_column_transformer.png"
fig.savefig(path, dpi=100)
print(f"figure saved to {path}")
plt.show()
