"""scikit-learn's whole estimator check suite, on every configuration users pick."""

import numpy as np
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_gdlogreg import GDLogisticRegression

CONFIGURATIONS = [
    GDLogisticRegression(),
    GDLogisticRegression(solver="gd"),
    GDLogisticRegression(l1_ratio=1.0),
    GDLogisticRegression(l1_ratio=0.5, C=0.5),
    GDLogisticRegression(class_weight="balanced"),
    GDLogisticRegression(C=np.inf),
    GDLogisticRegression(learning_rate=0.1),
]


@parametrize_with_checks(CONFIGURATIONS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
