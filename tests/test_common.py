"""scikit-learn's whole estimator check suite, on every configuration that takes another
code path: each solver and step rule, the L1 proximal step, class weights, no penalty, and the
cross-validated estimator (refit and averaged).

scikit-learn's Array API checks among them run in their own process with SciPy's
Array API mode on (tests/test_array_api.py starts it); here they are skipped. A check on
a device this machine cannot use (a CUDA build of PyTorch without a GPU) is skipped too."""

import numpy as np
import pytest
from devices import check_devices, usable
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_gdlogreg import GDLogisticRegression, GDLogisticRegressionCV

CONFIGURATIONS = [
    GDLogisticRegression(),
    GDLogisticRegression(solver="gd"),
    GDLogisticRegression(l1_ratio=1.0),
    GDLogisticRegression(class_weight="balanced"),
    GDLogisticRegression(C=np.inf),
    GDLogisticRegression(learning_rate=0.1),
    # small grid and few folds: the checks fit it many times
    GDLogisticRegressionCV(Cs=3, cv=3),
    GDLogisticRegressionCV(Cs=[0.1, 10.0], l1_ratios=(0.0, 1.0), cv=2, refit=False),
]


@parametrize_with_checks(CONFIGURATIONS)
def test_sklearn_compatible_estimator(estimator, check):
    for namespace, device in check_devices(check):
        if not usable(namespace, device):
            pytest.skip(f"{namespace} on {device} cannot run on this machine")
    check(estimator)
