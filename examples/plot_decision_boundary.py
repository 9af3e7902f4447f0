"""
Decision boundaries on 2-D data, drawn with scikit-learn's DecisionBoundaryDisplay
==================================================================================

Left: three Gaussian blobs, where the model is multinomial (a softmax with one
weight vector per class) and each boundary between two classes is a straight
line. Middle: two interleaving half-moons, which no straight line separates.
Right: a ``Pipeline`` that adds polynomial features of degree 3 before the
logistic regression bends the boundary around the moons (it is still linear in
the new features). Circles are training examples, triangles test examples.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from sklearn.datasets import make_blobs, make_moons
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sk_gdlogreg import GDLogisticRegression

# Figures go to $SK_GDLOGREG_FIGURES, else to examples/figures/ (ignored by git).
FIGURES = Path(os.environ.get("SK_GDLOGREG_FIGURES") or Path(__file__).resolve().parent / "figures")
FIGURES.mkdir(parents=True, exist_ok=True)

COLORS = ["tab:blue", "tab:orange", "tab:green"]
X_blobs, y_blobs = make_blobs(n_samples=300, centers=3, cluster_std=1.5, random_state=2)
X_moons, y_moons = make_moons(n_samples=300, noise=0.2, random_state=0)
cases = [
    ("3 blobs: linear, multinomial", X_blobs, y_blobs, GDLogisticRegression()),
    ("2 moons: linear", X_moons, y_moons, make_pipeline(StandardScaler(), GDLogisticRegression())),
    (
        "2 moons: polynomial features, degree 3",
        X_moons,
        y_moons,
        make_pipeline(PolynomialFeatures(3), StandardScaler(), GDLogisticRegression(C=100)),
    ),
]

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), constrained_layout=True)
for ax, (title, X, y, model) in zip(axes, cases):
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    model.fit(X_train, y_train)
    clf = model[-1] if hasattr(model, "steps") else model
    train_acc, test_acc = model.score(X_train, y_train), model.score(X_test, y_test)
    print(
        f"{title}: coef_ shape {clf.coef_.shape}, {clf.n_iter_} iterations, "
        f"train accuracy {train_acc:.3f}, test accuracy {test_acc:.3f}"
    )
    colors = COLORS[: len(np.unique(y))]
    cmap = ListedColormap(colors)
    colors_kw = {"cmap": cmap} if len(colors) == 2 else {"multiclass_colors": colors}
    DecisionBoundaryDisplay.from_estimator(
        model,
        X,
        ax=ax,
        response_method="predict",
        alpha=0.3,
        xlabel="x1",
        ylabel="x2",
        **colors_kw,
    )
    points = {"cmap": cmap, "vmin": 0, "vmax": len(colors) - 1, "edgecolor": "k"}
    ax.scatter(X_train[:, 0], X_train[:, 1], c=y_train, s=20, label="train", **points)
    ax.scatter(X_test[:, 0], X_test[:, 1], c=y_test, s=30, marker="^", label="test", **points)
    ax.set_title(f"{title}\ntest accuracy {test_acc:.2f}", fontsize=10)
axes[0].legend(
    handles=[
        Line2D([], [], marker=marker, ls="", mfc="white", mec="k", label=label)
        for marker, label in (("o", "train"), ("^", "test"))
    ],
    loc="lower right",
)
path = FIGURES / "plot_decision_boundary.png"
fig.savefig(path, dpi=100)
print(f"figure saved to {path}")
plt.show()
