"""Array API dispatch: arrays of any namespace in, same namespace and device out.

Every test here runs for array-api-strict, the reference namespace (installed with
the test extra), and for PyTorch on each device that works on this machine (its CPU
wherever torch is installed, a GPU where there is one); the others skip.

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
from devices import usable
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler
from sklearn.utils._array_api import _convert_to_numpy, get_namespace

from sk_gdlogreg import GDLogisticRegression

pytest.importorskip("array_api_strict")
ARRAY_API_MODE = os.environ.get("SCIPY_ARRAY_API") == "1"
needs_array_api_mode = pytest.mark.skipif(
    not ARRAY_API_MODE, reason="runs in the SCIPY_ARRAY_API=1 process"
)
NAMESPACES = [("array_api_strict", None), ("torch", "cpu"), ("torch", "cuda")]


@pytest.fixture(params=NAMESPACES, ids=lambda p: "-".join(filter(None, p)))
def namespace(request):
    """(module, device) of an Array API namespace this machine can use."""
    name, device = request.param
    if not usable(name, device):
        pytest.skip(f"{name} on {device} cannot run on this machine")
    module = pytest.importorskip(name)
    if name == "torch":
        module.set_num_threads(1)  # torch's thread wake-ups cost more than these small ops
    return module, device


def to_numpy(a):
    return _convert_to_numpy(a, get_namespace(a)[0])


@pytest.mark.skipif(ARRAY_API_MODE, reason="this is that process")
def test_array_api_tests_in_their_own_process():
    root = Path(__file__).resolve().parents[1]
    tests = ["tests/test_array_api.py", "tests/test_common.py", "-k", "array_api"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-rs", *tests],
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
    assert "SCIPY_ARRAY_API is not set" not in run.stdout
    # scikit-learn's checks and this file's tests ran (not skipped) for array-api-strict,
    # and for torch on its CPU wherever torch is installed
    ran = [line for line in run.stdout.splitlines() if line.endswith("PASSED") or "PASSED " in line]
    expected = ["array_namespace=array_api_strict", "[array_api_strict-"]
    if usable("torch", "cpu"):
        expected += ["array_namespace=torch,device_name=cpu", "[torch-cpu-"]
    for name in expected:
        assert any(name in line for line in ran), f"no test with {name!r} passed"


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
def test_fit_equals_numpy_fit(namespace, n_classes, params):
    xp, device = namespace
    X, y = iris(n_classes)
    w = np.linspace(0.5, 2, len(y))
    ref = GDLogisticRegression(**params).fit(X, y, sample_weight=w)
    X_xp = xp.asarray(X, device=device)
    with sklearn.config_context(array_api_dispatch=True):
        clf = GDLogisticRegression(**params).fit(
            X_xp, xp.asarray(y, device=device), sample_weight=xp.asarray(w, device=device)
        )
        proba = clf.predict_proba(X_xp)
        pred = clf.predict(X_xp)
    for fitted in (clf.coef_, clf.intercept_, proba, pred):  # X's namespace and device
        assert get_namespace(fitted)[0] is get_namespace(X_xp)[0]
        assert fitted.device == X_xp.device
    assert clf.coef_.dtype == xp.float64
    np.testing.assert_allclose(to_numpy(clf.coef_), ref.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_numpy(clf.intercept_), ref.intercept_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(clf.loss_curve_, ref.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(proba), ref.predict_proba(X), rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(to_numpy(pred), ref.predict(X))


@needs_array_api_mode
@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
def test_float32_auto_steps_agree_with_numpy(namespace, solver):
    xp, device = namespace
    X, y = iris(3)
    X32 = X.astype(np.float32)
    ref = GDLogisticRegression(solver=solver, tol=1e-5).fit(X32, y)
    X_xp = xp.asarray(X32, device=device)
    with sklearn.config_context(array_api_dispatch=True):
        clf = GDLogisticRegression(solver=solver, tol=1e-5).fit(X_xp, xp.asarray(y, device=device))
        proba = to_numpy(clf.predict_proba(X_xp))
    assert clf.coef_.dtype == xp.float32
    # Rounding may flip a step decision, so the iterates differ: both stop
    # within the tolerance, where J and the probabilities agree closely.
    assert clf.loss_curve_[-1] == pytest.approx(ref.loss_curve_[-1], rel=1e-5)
    np.testing.assert_allclose(proba, ref.predict_proba(X32), atol=1e-3)


@needs_array_api_mode
def test_loop_mode_accepts_array_api_input(namespace):
    xp, device = namespace
    X, y = iris(2)
    ref = GDLogisticRegression(learning_rate=0.5, max_iter=20, tol=0).fit(X, y)
    X_xp = xp.asarray(X, device=device)
    with sklearn.config_context(array_api_dispatch=True):
        clf = GDLogisticRegression(learning_rate=0.5, max_iter=20, tol=0, loop_mode="examples").fit(
            X_xp, xp.asarray(y, device=device)
        )
    assert get_namespace(clf.coef_)[0] is get_namespace(X_xp)[0]
    np.testing.assert_allclose(to_numpy(clf.coef_), ref.coef_, rtol=1e-10)


@needs_array_api_mode
@pytest.mark.parametrize("n_classes", [2, 3])
def test_default_fit_whitens_as_numpy_does(namespace, n_classes):
    """The same path as NumPy: whitened coordinates from the same row sample, factorized
    on the array's device, so the same iterations and, to rounding, the same model."""
    xp, device = namespace
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    V, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    X = rng.standard_normal((3000, 12)) @ (U @ np.diag(np.logspace(0, -3, 12)) @ V.T)  # cond 1e3
    X = StandardScaler().fit_transform(X)
    logits = X @ rng.standard_normal((12, n_classes)) + rng.logistic(size=(3000, n_classes))
    y = np.argmax(logits, axis=1)
    ref = GDLogisticRegression().fit(X, y)
    assert ref.n_iter_ * 3 < GDLogisticRegression(preconditioner="diagonal").fit(X, y).n_iter_
    with sklearn.config_context(array_api_dispatch=True):
        clf = GDLogisticRegression().fit(xp.asarray(X, device=device), xp.asarray(y, device=device))
    assert clf.n_iter_ == ref.n_iter_
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(to_numpy(clf.coef_), ref.coef_, rtol=1e-8, atol=1e-8 * scale)
    np.testing.assert_allclose(
        to_numpy(clf.intercept_), ref.intercept_, rtol=1e-8, atol=1e-8 * scale
    )


@needs_array_api_mode
def test_cv_equals_numpy_cv(namespace):
    """GDLogisticRegressionCV: the folds taken on X's device, the same path as NumPy (C_,
    scores, coefficients), every fitted array in X's namespace and on its device."""
    from sk_gdlogreg import GDLogisticRegressionCV

    xp, device = namespace
    X, y = iris(3)
    params = dict(Cs=[0.01, 1.0, 100.0], cv=3, tol=1e-4)
    ref = GDLogisticRegressionCV(**params).fit(X, y)
    X_xp = xp.asarray(X, device=device)
    with sklearn.config_context(array_api_dispatch=True):
        clf = GDLogisticRegressionCV(**params).fit(X_xp, xp.asarray(y, device=device))
        proba = clf.predict_proba(X_xp)
    for fitted in (clf.coef_, clf.intercept_, proba, clf.coefs_paths_, clf.scores_):
        assert get_namespace(fitted)[0] is get_namespace(X_xp)[0]
        assert fitted.device == X_xp.device
    assert clf.C_ == ref.C_
    np.testing.assert_array_equal(to_numpy(clf.n_iter_), ref.n_iter_)
    np.testing.assert_allclose(to_numpy(clf.scores_), ref.scores_, rtol=1e-8)
    scale = np.abs(ref.coefs_paths_).max()
    paths = to_numpy(clf.coefs_paths_)
    np.testing.assert_allclose(paths, ref.coefs_paths_, rtol=1e-8, atol=1e-8 * scale)
    np.testing.assert_allclose(to_numpy(clf.coef_), ref.coef_, rtol=1e-8, atol=1e-8 * scale)
    np.testing.assert_allclose(to_numpy(proba), ref.predict_proba(X), rtol=1e-8, atol=1e-10)


@needs_array_api_mode
@pytest.mark.parametrize("n_classes", [2, 3])
def test_l1_fit_takes_the_metric_path_as_numpy_does(namespace, n_classes):
    """L1 steps in the curvature metric: the Lasso of each step is solved on the host (the
    matrix is small), the iterates stay on the array's device; the same iterations, the
    same support and, to rounding, the same model as NumPy."""
    xp, device = namespace
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    V, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    X = rng.standard_normal((3000, 12)) @ (U @ np.diag(np.logspace(0, -3, 12)) @ V.T)
    X = StandardScaler().fit_transform(X)
    logits = X @ rng.standard_normal((12, n_classes)) + rng.logistic(size=(3000, n_classes))
    y = np.argmax(logits, axis=1)
    params = dict(C=0.05, l1_ratio=1.0)
    ref = GDLogisticRegression(**params).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        clf = GDLogisticRegression(**params).fit(
            xp.asarray(X, device=device), xp.asarray(y, device=device)
        )
    assert clf.n_iter_ == ref.n_iter_
    coef = to_numpy(clf.coef_)
    np.testing.assert_array_equal(coef == 0, ref.coef_ == 0)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(coef, ref.coef_, rtol=1e-8, atol=1e-8 * scale)
    np.testing.assert_allclose(
        to_numpy(clf.intercept_), ref.intercept_, rtol=1e-8, atol=1e-8 * scale
    )
