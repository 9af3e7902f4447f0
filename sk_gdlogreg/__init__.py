"""Logistic regression fitted by full-batch gradient descent, as a scikit-learn estimator."""

from ._estimator import GDLogisticRegression
from ._plot import LossCurveDisplay

__all__ = ["GDLogisticRegression", "LossCurveDisplay"]
__version__ = "0.1.0"
