"""
The cost curve of one fit: J against the iteration
==================================================

Gradient descent with the lecture's constant step (``learning_rate=1.0``) on the
standardized breast-cancer data. The left panel is J itself: it falls fast, then
flattens. The right panel is the suboptimality J - J* on a log scale, J* being
the minimum found by a much tighter fit: a straight line there is the linear
convergence gradient descent has on this objective (strongly convex, because of
the L2 penalty C=1). (``relative_to="min"`` would subtract the last J of the
curve itself, which bends the tail of the curve down to its own minimum.)
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression, LossCurveDisplay

# Figures go to $SK_GDLOGREG_FIGURES, else to examples/figures/ (ignored by git).
FIGURES = Path(os.environ.get("SK_GDLOGREG_FIGURES") or Path(__file__).resolve().parent / "figures")
FIGURES.mkdir(parents=True, exist_ok=True)

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = make_pipeline(StandardScaler(), GDLogisticRegression(learning_rate=1.0))
model.fit(X_train, y_train)

# J*, the optimum, from a fit with line search run to a much tighter tolerance
reference = make_pipeline(StandardScaler(), GDLogisticRegression(tol=1e-10, max_iter=5000))
J_star = reference.fit(X_train, y_train)[-1].loss_curve_[-1]

clf = model[-1]
J = np.asarray(clf.loss_curve_)
print(f"learning_rate=1.0: {clf.n_iter_} iterations (tol={clf.tol})")
print(f"J at iteration 0: {J[0]:.4f}  (log 2 = 0.6931: w = 0, b = 0 predicts 0.5)")
for k in (10, 100):
    print(f"J at iteration {k}: {J[k]:.4f}  (J - J* = {J[k] - J_star:.2e})")
print(f"J at the end:      {J[-1]:.4f}  (J - J* = {J[-1] - J_star:.2e}); J* = {J_star:.6f}")
print(f"test accuracy: {model.score(X_test, y_test):.3f}")

fig, (ax_j, ax_rel) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
LossCurveDisplay.from_estimator(model, ax=ax_j, name="learning_rate=1.0")
ax_j.set_title("Cost J")
LossCurveDisplay.from_estimator(
    model, ax=ax_rel, name="learning_rate=1.0", relative_to=J_star, log_y=True
)
ax_rel.set_title("Suboptimality J - J* (log scale)")
fig.suptitle("Gradient descent on the breast-cancer data")
path = FIGURES / "plot_cost_curve.png"
fig.savefig(path, dpi=100)
print(f"figure saved to {path}")
plt.show()
