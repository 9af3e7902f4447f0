"""
Training curves from scikit-learn's callbacks
=============================================

scikit-learn's callbacks watch a fit as it runs. ``ScoringMonitor`` scores the
model at every iteration of gradient descent, here the training log-loss and
accuracy, and ``ProgressBar`` (it needs ``rich``) shows the progress of the
pipeline's fit. The fit uses the lecture's explicit loops (``loop_mode="full"``),
the slow mode, where a progress bar matters. The monitor's log is drawn as
curves next to the cost curve ``loss_curve_``: J falls fastest in the first few
iterations, the log-loss follows J (J is the log-loss plus the L2 penalty), and
the accuracy stops changing long before J does.
"""

import importlib.util
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import load_breast_cancer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression

# Figures go to $SK_GDLOGREG_FIGURES, else to examples/figures/ (ignored by git).
FIGURES = Path(os.environ.get("SK_GDLOGREG_FIGURES") or Path(__file__).resolve().parent / "figures")
FIGURES.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("COLUMNS", "100")  # rich's width when not in a terminal

X, y = load_breast_cancer(return_X_y=True)

monitor = ScoringMonitor(scoring=["neg_log_loss", "accuracy"])
clf = GDLogisticRegression(loop_mode="full", learning_rate=1.0, tol=1e-3)
pipe = make_pipeline(StandardScaler(), clf.set_callbacks(monitor))
if importlib.util.find_spec("rich"):
    pipe.set_callbacks(ProgressBar())  # a progress bar goes on the outermost estimator
else:
    print("rich is not installed: no progress bar (pip install rich)")
pipe.fit(X, y)

rows = [row for row in monitor.get_logs().data if row["task_name"] == "iteration"]
J = np.asarray(clf.loss_curve_)
log_loss = np.array([-row["neg_log_loss"] for row in rows])
accuracy = np.array([row["accuracy"] for row in rows])
settled = int(np.flatnonzero(accuracy != accuracy[-1])[-1]) + 1  # accuracy final from here
print(f"\n{clf.n_iter_} iterations of the lecture's loops; the monitor logged {len(rows)}")
print(f"J:        {J[0]:.4f} at iteration 0 -> {J[-1]:.4f} at iteration {len(J) - 1}")
print(f"log-loss: {log_loss[0]:.4f} -> {log_loss[-1]:.4f} (J minus the L2 penalty)")
print(f"accuracy: {accuracy[0]:.3f} -> {accuracy[-1]:.3f}, final from iteration {settled} on")

fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
iterations = np.arange(len(rows))
curves = [
    ("J (loss_curve_)", J, "tab:blue"),
    ("training log-loss (ScoringMonitor)", log_loss, "tab:orange"),
    ("training accuracy (ScoringMonitor)", accuracy, "tab:green"),
]
for ax, (title, values, color) in zip(axes, curves):
    ax.plot(iterations, values, color=color)
    ax.set(xscale="symlog", xlabel="iteration (log scale after 1)", title=title)
    ax.grid(True, alpha=0.3)
axes[2].axvline(settled, color="0.5", ls=":", label=f"final from iteration {settled}")
axes[2].legend(loc="lower right")
fig.suptitle(f"Gradient descent with the lecture's loops, {clf.n_iter_} iterations")
path = FIGURES / "callbacks_monitoring.png"
fig.savefig(path, dpi=100)
print(f"figure saved to {path}")
plt.show()
