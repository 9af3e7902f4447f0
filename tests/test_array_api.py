"""Array API dispatch: torch and array-api-strict arrays in, same namespace and device out.

SciPy's Array API mode (``SCIPY_ARRAY_API=1``, read once when SciPy is imported)
is what users of Array API input set, and only they: the main test run leaves
it off. ``test_array_api_tests_in_their_own_process`` runs this file and
scikit-learn's Array API checks of test_common.py in a pytest process of their
own with the mode on; there the other tests of this file run, and check that
the results equal the NumPy fit.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # torch's thread wake-ups cost more than these small ops

ARRAY_API_MODE = os.environ.get("SCIPY_ARRAY_API") == "1"
needs_array_api_mode = pytest.mark.skipif(
    not ARRAY_API_MODE, reason="runs in the SCIPY_ARRAY_API=1 process"
)


@pytest.mark.skipif(ARRAY_API_MODE, reason="this is that process")
def test_array_api_tests_in_their_own_process():
    root = Path(__file__).resolve().parents[1]
    tests = ["tests/test_array_api.py", "tests/test_common.py", "-k", "array_api"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *tests],
        cwd=root,
        # not CI's coverage options: a floor on this subset alone would fail
        env={
            **{k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"},
            "SCIPY_ARRAY_API": "1",
        },
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    summary = run.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 20 and "failed" not in summary, summary
    # scikit-learn's checks ran for array-api-strict and torch on the CPU (not skipped)
    assert "SCIPY_ARRAY_API is not set" not in run.stdout


@needs_array_api_mode
def test_scipy_array_api_mode_is_on():
    """Without it, scikit-learn's Array API checks skip silently."""
    from scipy._lib._array_api import SCIPY_ARRAY_API

    assert SCIPY_ARRAY_API


def iris(n_classes):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    keep = y < n_classes
    return X[keep], y[keep]


@needs_array_api_mode
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "params",
    [
        dict(learning_rate=0.5, tol=0, max_iter=30),  # the same iterates, step by step
        dict(solver="nesterov", l1_ratio=0.5, C=0.5, learning_rate=0.5, tol=0, max_iter=30),
        dict(class_weight="balanced", learning_rate=0.5, tol=0, max_iter=30),
    ],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # tol=0
def test_torch_fit_equals_numpy_fit(n_classes, params):
    X, y = iris(n_classes)
    w = np.linspace(0.5, 2, len(y))
    ref = GDLogisticRegression(**params).fit(X, y, sample_weight=w)
    with sklearn.config_context(array_api_dispatch=True):
        clf = GDLogisticRegression(**params).fit(
            torch.asarray(X), torch.asarray(y), sample_weight=torch.asarray(w)
        )
        proba = clf.predict_proba(torch.asarray(X))
        pred = clf.predict(torch.asarray(X))
    assert isinstance(clf.coef_, torch.Tensor) and clf.coef_.dtype == torch.float64
    assert isinstance(proba, torch.Tensor) and isinstance(pred, torch.Tensor)
    np.testing.assert_allclose(clf.coef_.numpy(), ref.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(clf.intercept_.numpy(), ref.intercept_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(clf.loss_curve_, ref.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(proba.numpy(), ref.predict_proba(X), rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(pred.numpy(), ref.predict(X))


@needs_array_api_mode
@pytest.mark.parametrize("solver", ["gd", "nesterov"])
def test_torch_float32_auto_steps_agree_with_numpy(solver):
    X, y = iris(3)
    X32 = X.astype(np.float32)
    ref = GDLogisticRegression(solver=solver, tol=1e-5).fit(X32, y)
    with sklearn.config_context(array_api_dispatch=True):
        clf = GDLogisticRegression(solver=solver, tol=1e-5).fit(
            torch.asarray(X32), torch.asarray(y)
        )
        proba = clf.predict_proba(torch.asarray(X32)).numpy()
    assert clf.coef_.dtype == torch.float32
    # Rounding may flip a step decision, so the iterates differ: both stop
    # within the tolerance, where J and the probabilities agree closely.
    assert clf.loss_curve_[-1] == pytest.approx(ref.loss_curve_[-1], rel=1e-5)
    np.testing.assert_allclose(proba, ref.predict_proba(X32), atol=1e-3)


@needs_array_api_mode
def test_loop_mode_accepts_torch_input():
    X, y = iris(2)
    ref = GDLogisticRegression(learning_rate=0.5, max_iter=20, tol=0).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        clf = GDLogisticRegression(learning_rate=0.5, max_iter=20, tol=0, loop_mode="examples").fit(
            torch.asarray(X), torch.asarray(y)
        )
    assert isinstance(clf.coef_, torch.Tensor)
    np.testing.assert_allclose(clf.coef_.numpy(), ref.coef_, rtol=1e-10)
