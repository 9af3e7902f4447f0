"""
Quickstart: fit and read what was learned
=========================================

Fit ``GDLogisticRegression`` in a pipeline after ``StandardScaler`` on the
breast-cancer data, with the default settings, and print what it learned: the
number of iterations, the cost J at the start (log 2, at w = 0 and b = 0) and
at the end, the intercept b, the largest weights and the test accuracy.
"""

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = make_pipeline(StandardScaler(), GDLogisticRegression())
model.fit(X_train, y_train)

clf = model[-1]
print(f"iterations: {clf.n_iter_}")
print(f"cost J: {clf.loss_curve_[0]:.4f} at the start -> {clf.loss_curve_[-1]:.4f} at the end")
print(f"intercept b: {clf.intercept_[0]:+.3f}")
print("largest weights |w|:", ", ".join(f"{w:.3f}" for w in sorted(abs(clf.coef_[0]))[-3:]))
print(f"test accuracy: {model.score(X_test, y_test):.3f}")
