"""Logistic regression fitted by full-batch gradient descent, as a scikit-learn estimator."""

from ._estimator import GDLogisticRegression

__all__ = ["GDLogisticRegression"]
__version__ = "0.1.0"
