"""Logistic regression fitted by full-batch gradient descent, as a scikit-learn estimator.

``GDLogisticRegression`` is the estimator, ``GDLogisticRegressionCV`` chooses its C by
cross-validation, ``LossCurveDisplay`` draws its cost curve and
``RegularizationPathDisplay`` the cross-validated path of C; ``sk_gdlogreg.lecture`` is
the algorithm as the lecture teaches it.
"""

from . import lecture
from ._cv import GDLogisticRegressionCV
from ._cv_plot import RegularizationPathDisplay
from ._estimator import GDLogisticRegression
from ._plot import LossCurveDisplay

__all__ = [
    "GDLogisticRegression",
    "GDLogisticRegressionCV",
    "LossCurveDisplay",
    "RegularizationPathDisplay",
    "lecture",
]
__version__ = "0.1.0"
