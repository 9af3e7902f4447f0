"""GDLogisticRegression against scikit-learn's LogisticRegression on the same objective.

Reference: ``sklearn.linear_model.LogisticRegression`` fitted to (near) machine precision,
``solver="lbfgs"`` for L2 and for no penalty (``C=np.inf``), ``solver="saga"`` for L1 and
elastic net, on data sets that ship with scikit-learn, standardized with ``StandardScaler`` so that
both fits converge.  A second, solver-free reference is the objective itself, written out below
with ``scipy.special.log_softmax``:

    J(W, b) = (1/S) sum_i s_i L_i + (1 - rho) / (2 C S) ||W||^2 + rho / (C S) ||W||_1,

s_i = sample weight * class weight, S = sum_i s_i, L_i the log-loss.  Our fit must reach a J that
is no larger than scikit-learn's (up to rounding).

Notes on the references:
* multinomial fits are over-parametrized (one vector per class): with an L2 penalty the solution is
  unique but the intercepts are only defined up to a common constant, so coefficient columns and
  intercepts are centred over the classes before comparing.
* sklearn's sag/saga normalize the objective by n_samples instead of S, so saga comparisons use
  weights that sum to n_samples (the folded weights are rescaled, or none are used).
"""

import warnings

import numpy as np
import pytest
import reference
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression

# Our stopping test is max |dJ/dv| <= tol in standardized coordinates; 1e-9 leaves the
# coefficients ~1e-7 from the optimum for these (strongly convex, well scaled) problems.
OUR_TOL = 1e-9
OUR_MAX_ITER = 200_000


# --------------------------------------------------------------------------- data
def _standardized(loader, rows=None, classes=None, cols=None):
    X, y = loader(return_X_y=True)
    if classes is not None:
        keep = np.isin(y, classes)
        X, y = X[keep], y[keep]
    if rows is not None:
        X, y = X[:rows], y[:rows]
    if cols is not None:
        X = X[:, cols]
    return StandardScaler().fit_transform(X), y


DATA = {
    "breast_cancer": lambda: _standardized(load_breast_cancer),  # 569 x 30, binary
    # 4 weakly correlated features: non-separable, well conditioned without a penalty
    "breast_cancer_4": lambda: _standardized(load_breast_cancer, cols=[0, 1, 4, 8]),
    "iris": lambda: _standardized(load_iris),  # 150 x 4, 3 classes
    "wine": lambda: _standardized(load_wine),  # 178 x 13, 3 classes
    # 4 classes, 64 features, some constant (all zero after scaling)
    "digits_0123": lambda: _standardized(load_digits, rows=300, classes=[0, 1, 2, 3]),
}


def load(name):
    return DATA[name]()


def sample_weights(n, seed=0):
    """Positive, non-uniform weights, deterministic."""
    return np.random.default_rng(seed).uniform(0.2, 3.0, size=n)


# ---------------------------------------------------------------------- reference J
def folded_weights(y, sample_weight=None, class_weight=None):
    """s_i = sample weight * class weight, computed by hand (not with sklearn's helper)."""
    classes = np.unique(y)
    yi = np.searchsorted(classes, y)
    sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    if class_weight is None:
        cw = np.ones(len(classes))
    elif class_weight == "balanced":
        # as LogisticRegression: S_total / (n_classes * weighted count of each class)
        counts = np.bincount(yi, weights=sw, minlength=len(classes))
        cw = sw.sum() / (len(classes) * counts)
    else:
        cw = np.array([class_weight.get(c, 1.0) for c in classes], float)
    return sw * cw[yi]


objective = reference.objective


def centred(a):
    """Subtract the mean over classes (axis 0 of coef_, the only axis of intercept_)."""
    a = np.asarray(a, np.float64)
    return a - a.mean(axis=0, keepdims=True) if a.shape[0] > 1 else a


# ---------------------------------------------------------------------- fitting
def fit_ours(X, y, sample_weight=None, **params):
    params = {"tol": OUR_TOL, "max_iter": OUR_MAX_ITER, **params}
    est = GDLogisticRegression(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # these fits must converge
        est.fit(X, y, sample_weight=sample_weight)
    return est


_REF_CACHE = {}


def cached(key, fit):
    """Each reference is fitted once and shared by the gd and nesterov tests."""
    if key not in _REF_CACHE:
        _REF_CACHE[key] = fit()
    return _REF_CACHE[key]


def fit_lbfgs(X, y, sample_weight=None, **params):
    ref = LogisticRegression(solver="lbfgs", tol=1e-12, max_iter=100_000, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # lbfgs stalls at ~1e-12: fine
        return ref.fit(X, y, sample_weight=sample_weight)


def fit_saga(X, y, sample_weight=None, **params):
    ref = LogisticRegression(solver="saga", tol=1e-12, max_iter=100_000, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return ref.fit(X, y, sample_weight=sample_weight)


def assert_same_model(ours, ref, X, y, s, C, l1_ratio, coef_tol=1e-5, proba_tol=1e-6, centre=True):
    assert_array_equal(ours.classes_, ref.classes_)
    assert ours.coef_.shape == ref.coef_.shape
    assert ours.intercept_.shape == ref.intercept_.shape
    c = centred if centre else (lambda a: np.asarray(a, np.float64))
    assert_allclose(c(ours.coef_), c(ref.coef_), rtol=coef_tol, atol=coef_tol)
    # unpenalized: multinomial intercepts are only defined up to a common constant
    assert_allclose(centred(ours.intercept_), centred(ref.intercept_), rtol=coef_tol, atol=coef_tol)
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=proba_tol, atol=proba_tol)
    assert_array_equal(ours.predict(X), ref.predict(X))
    J_ours = objective(X, y, s, ours.coef_, ours.intercept_, C, l1_ratio)
    J_ref = objective(X, y, s, ref.coef_, ref.intercept_, C, l1_ratio)
    assert J_ours <= J_ref + 1e-12, (J_ours, J_ref)
    return J_ours, J_ref


# --------------------------------------------------------------------------- L2
L2_CASES = [
    # data, C, sample weights?, class_weight, fit_intercept
    ("breast_cancer", 0.1, False, None, True),
    ("breast_cancer", 1.0, True, None, True),
    ("breast_cancer", 0.1, False, "balanced", True),
    ("breast_cancer", 0.5, True, {0: 2.0, 1: 0.5}, True),
    ("breast_cancer", 0.1, False, None, False),
    ("iris", 1.0, False, None, True),
    ("iris", 1.0, True, "balanced", True),
    ("wine", 0.5, True, {0: 1.0, 1: 3.0, 2: 0.5}, True),
    ("wine", 0.5, False, None, False),
    ("digits_0123", 0.1, True, "balanced", True),
]


@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
@pytest.mark.parametrize("name, C, weighted, class_weight, fit_intercept", L2_CASES)
def test_l2_matches_lbfgs(solver, name, C, weighted, class_weight, fit_intercept):
    X, y = load(name)
    sw = sample_weights(len(y)) if weighted else None
    common = dict(C=C, class_weight=class_weight, fit_intercept=fit_intercept)
    ours = fit_ours(X, y, sw, solver=solver, **common)
    ref = cached(
        ("lbfgs", name, C, weighted, str(class_weight), fit_intercept),
        lambda: fit_lbfgs(X, y, sw, **common),
    )
    s = folded_weights(y, sw, class_weight)
    assert_same_model(ours, ref, X, y, s, C, 0.0)
    if not fit_intercept:
        assert_array_equal(ours.intercept_, 0.0)


@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
@pytest.mark.parametrize("weighted", [False, True])
def test_no_penalty_matches_lbfgs(solver, weighted):
    """C=np.inf: unpenalized, binary, non-separable (4 features of breast cancer)."""
    X, y = load("breast_cancer_4")
    sw = sample_weights(len(y), seed=1) if weighted else None
    ours = fit_ours(X, y, sw, solver=solver, C=np.inf)
    ref = cached(("lbfgs-inf", weighted), lambda: fit_lbfgs(X, y, sw, C=np.inf))
    assert_same_model(ours, ref, X, y, folded_weights(y, sw), np.inf, 0.0)


def test_sample_weight_equals_repetition():
    """Integer sample weights == repeating rows (S-normalized objective, so C is unchanged)."""
    X, y = load("wine")
    rep = np.random.default_rng(3).integers(0, 4, size=len(y))  # zeros drop rows
    a = fit_ours(X, y, rep.astype(float), solver="nesterov", C=0.5)
    b = fit_ours(np.repeat(X, rep, axis=0), np.repeat(y, rep), solver="nesterov", C=0.5)
    assert_allclose(centred(a.coef_), centred(b.coef_), rtol=1e-6, atol=1e-6)
    assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-6, atol=1e-7)


def test_class_weight_equals_folded_sample_weight():
    X, y = load("breast_cancer")
    sw = sample_weights(len(y), seed=4)
    cw = {0: 3.0, 1: 0.7}
    a = fit_ours(X, y, sw, solver="nesterov", C=0.5, class_weight=cw)
    b = fit_ours(X, y, folded_weights(y, sw, cw), solver="nesterov", C=0.5)
    assert_allclose(a.coef_, b.coef_, rtol=1e-6, atol=1e-6)
    assert_allclose(a.intercept_, b.intercept_, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------- L1 / EN
SAGA_CASES = [
    # data, C, l1_ratio, weights: None | "sample" | "balanced"
    ("breast_cancer", 0.1, 1.0, None),
    ("breast_cancer", 0.1, 0.5, "sample"),
    ("breast_cancer", 0.2, 0.8, "balanced"),
    ("iris", 1.0, 1.0, None),
    ("wine", 0.5, 0.5, "sample"),
    ("wine", 0.3, 1.0, "balanced"),
]


@pytest.mark.parametrize("solver", ["gd", "nesterov"])  # Anderson takes no L1 term
@pytest.mark.parametrize("name, C, l1_ratio, weights", SAGA_CASES)
def test_l1_elasticnet_matches_saga(solver, name, C, l1_ratio, weights):
    X, y = load(name)
    n = len(y)
    sw, cw = None, None
    if weights == "sample":
        sw = sample_weights(n, seed=2)
        sw *= n / sw.sum()  # saga normalizes by n_samples: make S == n
    elif weights == "balanced":
        cw = "balanced"  # balanced weights without sample weights already sum to n
    s = folded_weights(y, sw, cw)
    assert_allclose(s.sum(), n)
    ours = fit_ours(X, y, sw, solver=solver, C=C, l1_ratio=l1_ratio, class_weight=cw)
    ref = cached(
        ("saga", name, C, l1_ratio, weights),
        lambda: fit_saga(X, y, sw, C=C, l1_ratio=l1_ratio, class_weight=cw),
    )
    # The L1 term fixes the common shift of multinomial coefficients (not of the intercepts),
    # so coefficients are compared raw.
    assert_same_model(ours, ref, X, y, s, C, l1_ratio, coef_tol=1e-5, centre=False)
    # The proximal step gives exact zeros, exactly where saga's do.
    zeros = ref.coef_ == 0
    assert zeros.any(), "test data should give a sparse reference"
    assert_array_equal(ours.coef_ == 0, zeros)


def test_l1_optimality_conditions():
    """Reference-free: KKT conditions of the L1 problem at our solution."""
    X, y = load("breast_cancer")
    C = 0.1
    ours = fit_ours(X, y, solver="nesterov", C=C, l1_ratio=1.0)
    w, b = ours.coef_[0], ours.intercept_[0]
    n = len(y)
    p = 1 / (1 + np.exp(-(X @ w + b)))
    grad = X.T @ (p - y) / n  # gradient of the smooth part
    lam = 1 / (C * n)
    nz = w != 0
    assert 0 < nz.sum() < len(w)
    assert_allclose(grad[nz] + lam * np.sign(w[nz]), 0, atol=1e-7)
    assert np.all(np.abs(grad[~nz]) <= lam + 1e-7)
    assert abs(np.sum(p - y) / n) <= 1e-8  # intercept: unpenalized


# ---------------------------------------------------------------------- float32
@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
@pytest.mark.parametrize("name, C", [("breast_cancer", 1.0), ("wine", 0.5)])
def test_float32_close_to_float64(solver, name, C):
    """float32 in, float32 out; a float32 gradient is good to ~1e-7, so tol=1e-6 is reachable
    and leaves the fit ~1e-4 from the float64 optimum."""
    X, y = load(name)
    X32 = X.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est32 = fit_ours(X32, y, solver=solver, C=C, tol=1e-6)
        est64 = fit_ours(X, y, solver=solver, C=C, tol=1e-6)
    ref = cached(("lbfgs-f32", name, C), lambda: fit_lbfgs(X, y, C=C))
    assert est32.coef_.dtype == np.float32
    assert est32.intercept_.dtype == np.float32
    assert est64.coef_.dtype == np.float64
    P32 = est32.predict_proba(X32)
    assert P32.dtype == np.float32
    for other in (est64, ref):
        assert_allclose(centred(est32.coef_), centred(other.coef_), rtol=1e-3, atol=1e-3)
        assert_allclose(centred(est32.intercept_), centred(other.intercept_), atol=1e-3)
        assert_allclose(P32, other.predict_proba(X), atol=1e-4)
        assert np.mean(est32.predict(X32) == other.predict(X)) >= 0.99
