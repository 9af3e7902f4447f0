"""
The path gradient descent takes on the contours of J
====================================================

The classic picture of gradient descent, for a model with two weights and no
intercept: the contours of the cost J(w1, w2) (the lecture's J, the average
logistic loss, ``C=np.inf``), and the iterates w(0) = 0, w(1), w(2), ... of
three fits. The two features are correlated and on different scales, so the
contours are long, tilted ellipses. With a small constant step
(``learning_rate=0.3``) each step is short and goes straight down the slope,
across the contours: many steps, and 30 are not enough. With a large one
(``learning_rate=1.5``) the steps overshoot the valley and zigzag across it.
``learning_rate="auto"`` works in standardized coordinates, where the valley is
round, chooses its steps, and adds momentum (Nesterov): it reaches the minimum
in a few steps. The iterates come from fits with ``max_iter=k`` for
k = 1, 2, ...: a fit is deterministic, so the k-th fit ends at the k-th
iterate of the longest one.
"""

import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sk_gdlogreg import GDLogisticRegression

# Figures go to $SK_GDLOGREG_FIGURES, else to examples/figures/ (ignored by git).
FIGURES = Path(os.environ.get("SK_GDLOGREG_FIGURES") or Path(__file__).resolve().parent / "figures")
FIGURES.mkdir(parents=True, exist_ok=True)

rng = np.random.default_rng(0)
m = 200
X = rng.multivariate_normal([0, 0], [[1, 0.7], [0.7, 1]], m) * [1, 2.5]
y = (rng.random(m) < 1 / (1 + np.exp(-X @ [1.5, -0.5]))).astype(int)
N_STEPS = 30


def J(w1, w2):
    """The lecture's cost: the average logistic loss, at w = (w1, w2) and b = 0."""
    z = np.multiply.outer(w1, X[:, 0]) + np.multiply.outer(w2, X[:, 1])
    return np.mean(np.logaddexp(0, z) - y * z, axis=-1)  # -(y log a + (1-y) log(1-a))


def path(learning_rate):
    """w(0) = 0, then the iterate after each of N_STEPS iterations; and the warnings."""
    points, messages = [np.zeros(2)], set()
    for k in range(1, N_STEPS + 1):
        clf = GDLogisticRegression(
            learning_rate=learning_rate, C=np.inf, fit_intercept=False, tol=0, max_iter=k
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            clf.fit(X, y)
        points.append(clf.coef_[0].copy())
        messages |= {str(w.message) for w in caught if "did not converge" not in str(w.message)}
    return np.array(points), messages


w_star = GDLogisticRegression(C=np.inf, fit_intercept=False, tol=1e-10).fit(X, y).coef_[0]
J_star = J(*w_star)
settings = {
    "learning_rate=0.3 (small)": 0.3,
    "learning_rate=1.5 (large)": 1.5,
    'learning_rate="auto"': "auto",
}
RADIUS = 0.01  # "within": a distance ||w - w*|| in the coefficients, not a gap in J
paths = {}
print(f"minimum: w* = ({w_star[0]:.3f}, {w_star[1]:.3f}), J* = {J_star:.4f}")
print("J - J*: the gap in the cost; ||w - w*||: the distance of the coefficients to w*")
for title, learning_rate in settings.items():
    points, messages = path(learning_rate)
    paths[title] = points
    distance = np.linalg.norm(points - w_star, axis=1)
    # a zigzag can enter the ball and leave it again: report the step from
    # which every iterate stays inside, if the last one is inside at all
    outside = np.flatnonzero(distance >= RADIUS)
    if distance[-1] >= RADIUS:
        reached = f"not within {RADIUS} of w*"
    else:
        first = outside[-1] + 1 if len(outside) else 0
        reached = f"within {RADIUS} of w* from step {first} on"
    print(
        f"{title}: after {N_STEPS} steps J - J* = {J(*points[-1]) - J_star:.1e}, "
        f"||w - w*|| = {distance[-1]:.1e}, {reached}"
        + "".join(f"; warned: {message}" for message in messages)
    )

w1, w2 = np.meshgrid(np.linspace(-0.6, 2.6, 161), np.linspace(-1.6, 0.9, 126))
levels = J_star + np.geomspace(1e-3, 1.5, 12)
fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), sharey=True, constrained_layout=True)
for ax, (title, points) in zip(axes, paths.items()):
    ax.contour(w1, w2, J(w1, w2), levels=levels, cmap="viridis", linewidths=1)
    ax.plot(points[:, 0], points[:, 1], "o-", color="tab:red", ms=3, lw=1.2)
    ax.plot(*w_star, marker="*", color="k", ms=14, ls="", label="minimum w*")
    ax.plot(0, 0, marker="s", color="tab:red", ls="", label="start w = 0")
    ax.set(title=f"{title}: {N_STEPS} steps", xlabel="w1", aspect="equal")
axes[0].set_ylabel("w2")
axes[0].legend(loc="lower right")
fig.suptitle("Gradient descent on the contours of J(w1, w2), no intercept")
path_png = FIGURES / "plot_gradient_descent_path.png"
fig.savefig(path_png, dpi=100)
print(f"figure saved to {path_png}")
plt.show()
