"""Watch a fit as it runs: scikit-learn's ProgressBar and ScoringMonitor callbacks.

The loop mode is the slow one, where a progress bar matters; ScoringMonitor
records the training log-loss and accuracy of the model at every iteration.
"""

import os

from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import load_breast_cancer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression

os.environ.setdefault("COLUMNS", "100")  # rich's width when not in a terminal

X, y = load_breast_cancer(return_X_y=True)

monitor = ScoringMonitor(scoring=["neg_log_loss", "accuracy"])
clf = GDLogisticRegression(loop_mode="full", learning_rate=1.0, tol=1e-3)
pipe = make_pipeline(StandardScaler(), clf.set_callbacks(monitor))
pipe.set_callbacks(ProgressBar())  # a progress bar goes on the outermost estimator
pipe.fit(X, y)

rows = [row for row in monitor.get_logs().data if row["task_name"] == "iteration"]
print(f"\n{clf.n_iter_} iterations of the lecture's loops; the monitor's log:")
print(f"{'iteration':>9}  {'J (loss_curve_)':>15}  {'log-loss':>8}  {'accuracy':>8}")
for k in (*range(5), *range(10, len(rows), 20), len(rows) - 1):
    row = rows[k]
    print(
        f"{k:9d}  {clf.loss_curve_[k]:15.4f}  {-row['neg_log_loss']:8.4f}  {row['accuracy']:8.3f}"
    )
