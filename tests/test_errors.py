"""Every error path of GDLogisticRegression, and hard-but-valid input that must not misbehave.

"Nothing half-done": a fit that fails on its input leaves a fresh estimator unfitted (no
public ``*_`` attribute, so ``check_is_fitted`` raises) and a fitted one exactly as it was.

References: scikit-learn's conventions (``InvalidParameterError`` naming the parameter,
``NotFittedError``, ``ValueError`` for bad data), and for the hard inputs the estimator itself
on well-scaled data: rescaling feature j by a factor c and C by 1/c^2 is the same problem in
other units (w_j -> w_j / c), so the fit must give the same probabilities.
"""

import contextlib
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from sk_gdlogreg import GDLogisticRegression

FITTED_ATTRS = ("classes_", "coef_", "intercept_", "n_iter_", "loss_curve_", "n_features_in_")


def _breast(standardize=False):
    X, y = load_breast_cancer(return_X_y=True)
    return (StandardScaler().fit_transform(X) if standardize else X), y


def _small():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X, y


def _public_fitted_attrs(est):
    return sorted(k for k in vars(est) if k.endswith("_") and not k.startswith("_"))


@contextlib.contextmanager
def _strict_numpy():
    """RuntimeWarnings become errors; NumPy overflow / invalid / divide raise (underflow is fine,
    a stable sigmoid may legitimately underflow to 0).  ConvergenceWarnings are allowed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            yield


# ----------------------------------------------------------------- invalid parameters
INVALID_PARAMS = [
    ("learning_rate", 0),
    ("learning_rate", 0.0),
    ("learning_rate", -1.0),
    ("learning_rate", "foo"),
    ("learning_rate", None),
    ("learning_rate", np.inf),
    ("solver", "x"),
    ("solver", "sgd"),
    ("max_iter", 0),
    ("max_iter", -5),
    ("max_iter", 2.5),
    ("tol", -1e-4),
    ("tol", np.nan),
    ("C", 0.0),
    ("C", -1.0),
    ("C", np.nan),
    ("l1_ratio", -0.1),
    ("l1_ratio", 1.1),
    ("loop_mode", "x"),
    ("class_weight", "foo"),
    ("class_weight", [1.0, 2.0]),
    ("class_weight", 3),
]


@pytest.mark.parametrize("name, value", INVALID_PARAMS)
def test_invalid_parameter_raises(name, value):
    X, y = _small()
    est = GDLogisticRegression(**{name: value})
    assert getattr(est, name) is value  # stored unchanged, validated only in fit
    with pytest.raises(InvalidParameterError, match=rf"\b{name}\b"):
        est.fit(X, y)
    assert issubclass(InvalidParameterError, ValueError)
    assert _public_fitted_attrs(est) == []
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


# ----------------------------------------------------------------------- bad data
def _bad_fit_inputs():
    X, y = _small()
    n = len(y)
    cases = {}
    for bad in (np.nan, np.inf, -np.inf):
        Xb = X.copy()
        Xb[3, 1] = bad
        cases[f"X has {bad}"] = (Xb, y, None)
    cases["one class"] = (X, np.zeros(n, int), None)
    cases["one class (strings)"] = (X, np.array(["a"] * n), None)
    cases["y too short"] = (X, y[:-1], None)
    cases["y too long"] = (X, np.r_[y, 0], None)
    cases["sample_weight too short"] = (X, y, np.ones(n - 1))
    cases["sample_weight too long"] = (X, y, np.ones(n + 1))
    sw = np.ones(n)
    sw[5] = -0.5
    cases["negative sample_weight"] = (X, y, sw)
    sw = np.ones(n)
    sw[5] = np.nan
    cases["nan sample_weight"] = (X, y, sw)
    cases["empty X"] = (X[:0], y[:0], None)
    cases["continuous y"] = (X, np.linspace(0, 1, n), None)
    return cases


BAD_FIT = _bad_fit_inputs()


@pytest.mark.parametrize("case", list(BAD_FIT))
def test_bad_data_raises_value_error_and_leaves_fresh_estimator_unfitted(case):
    X, y, sw = BAD_FIT[case]
    est = GDLogisticRegression()
    with pytest.raises(ValueError):
        est.fit(X, y, sample_weight=sw)
    # nothing half-done: a fresh estimator must not look fitted after a failed fit
    # (check_is_fitted counts any public attribute ending in "_", n_features_in_ included)
    assert _public_fitted_attrs(est) == [], "the failed fit left fitted attributes behind"
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    with pytest.raises(NotFittedError):
        est.predict(np.zeros((2, 4)))


@pytest.mark.parametrize("case", list(BAD_FIT))
def test_failed_refit_keeps_previous_model(case):
    """Input is checked before anything is changed: a fitted estimator whose second fit fails
    still holds the first, complete model (it predicts exactly as before)."""
    X, y = _small()
    est = GDLogisticRegression(max_iter=200).fit(X, y)
    before = {k: np.copy(getattr(est, k)) for k in FITTED_ATTRS}
    proba = est.predict_proba(X)
    Xb, yb, swb = BAD_FIT[case]
    with pytest.raises(ValueError):
        est.fit(Xb, yb, sample_weight=swb)
    for k, v in before.items():
        assert_array_equal(getattr(est, k), v, err_msg=k)
    assert_array_equal(est.predict_proba(X), proba)


@pytest.mark.parametrize("case", ["one class", "negative sample_weight", "continuous y"])
def test_failed_refit_on_other_width_keeps_previous_model(case):
    """The failing data also has another number of features: n_features_in_ must still describe
    the model that is kept, which still predicts on data of the old width."""
    X, y = _small()
    est = GDLogisticRegression(max_iter=200).fit(X, y)
    proba = est.predict_proba(X)
    Xb, yb, swb = BAD_FIT[case]
    Xb = np.hstack([Xb, Xb])  # 8 features instead of 4
    with pytest.raises(ValueError):
        est.fit(Xb, yb, sample_weight=swb)
    assert est.n_features_in_ == X.shape[1]
    assert_array_equal(est.predict_proba(X), proba)


def test_failed_refit_with_invalid_parameter_keeps_previous_model():
    X, y = _small()
    est = GDLogisticRegression(max_iter=200).fit(X, y)
    coef = est.coef_.copy()
    est.set_params(C=-1.0)
    with pytest.raises(InvalidParameterError, match="'C' parameter"):
        est.fit(X, y)
    assert_array_equal(est.coef_, coef)


# --------------------------------------------------------------------- predict time
METHODS = ["predict", "predict_proba", "predict_log_proba", "decision_function"]


@pytest.mark.parametrize("method", METHODS + ["score"])
def test_not_fitted(method):
    X, y = _small()
    est = GDLogisticRegression()
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(NotFittedError):
        getattr(est, method)(*args)


@pytest.fixture(scope="module")
def fitted_pair():
    X, y = _small()
    return GDLogisticRegression(max_iter=200).fit(X, y), X, y


@pytest.mark.parametrize("method", METHODS + ["score"])
@pytest.mark.parametrize("n_features", [3, 5])
def test_wrong_number_of_features_at_predict(fitted_pair, method, n_features):
    est, X, y = fitted_pair
    Xw = np.zeros((len(X), n_features))
    args = (Xw, y) if method == "score" else (Xw,)
    with pytest.raises(ValueError, match="features"):
        getattr(est, method)(*args)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_at_predict(fitted_pair, method, bad):
    est, X, _ = fitted_pair
    Xb = X.copy()
    Xb[0, 0] = bad
    with pytest.raises(ValueError):
        getattr(est, method)(Xb)


# ------------------------------------------------------------- too large learning rate
@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
@pytest.mark.parametrize("data", ["breast_cancer", "wine"])
def test_too_large_learning_rate_warns_and_stays_finite(solver, data):
    X, y = (load_breast_cancer if data == "breast_cancer" else load_wine)(return_X_y=True)
    # raw features up to ~4000: a step of 1e3 overshoots at once
    est = GDLogisticRegression(learning_rate=1e3, solver=solver, max_iter=100)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            est.fit(X, y)
    messages = [str(w.message) for w in rec]
    assert any("learning_rate" in m for m in messages), messages
    assert not [w for w in rec if issubclass(w.category, RuntimeWarning)], messages
    for name in ("coef_", "intercept_", "loss_curve_"):
        assert np.all(np.isfinite(getattr(est, name))), name
    assert len(est.loss_curve_) == est.n_iter_
    assert np.all(np.isfinite(est.predict_proba(X)))


def test_small_constant_learning_rate_does_not_warn_about_learning_rate():
    """The warning must be about divergence, not emitted for every constant step."""
    X, y = _breast(standardize=True)
    est = GDLogisticRegression(learning_rate=0.1, solver="gd", max_iter=50)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        est.fit(X, y)
    assert not [str(w.message) for w in rec if "learning_rate" in str(w.message)]
    assert np.all(np.diff(est.loss_curve_) <= 0)


@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
def test_a_rise_means_the_same_for_both_solvers(solver):
    """'J went up' means one thing: a gradient step without momentum made J go up, which a
    step below 2 / L never does (the accelerated solver's J may also rise by its momentum:
    that is not counted). A step too long is named at the first iteration, by both."""
    X, y = _breast(standardize=True)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        safe = GDLogisticRegression(learning_rate=0.5, solver=solver, C=np.inf, max_iter=300)
        safe.fit(X, y)
    assert not [str(w.message) for w in rec if "went up" in str(w.message)]
    with pytest.warns(ConvergenceWarning, match=r"went up after a gradient step \(first at "
                      r"iteration 1\)\. learning_rate=50\.0 is too large"):  # fmt: skip
        GDLogisticRegression(learning_rate=50.0, solver=solver, max_iter=20).fit(X, y)


# ------------------------------------------------------------ hard but valid input
@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
@pytest.mark.parametrize("factor", [1e6, 1e-6])
def test_rescaled_features_same_problem_same_answer(solver, factor):
    """X * c with C / c^2 is the standardized problem in other units: same probabilities,
    no NumPy warnings, coef_ rescaled by 1/c."""
    Xs, y = _breast(standardize=True)
    C = 0.1
    params = dict(solver=solver, tol=1e-9, max_iter=50_000)
    with _strict_numpy():
        ref = GDLogisticRegression(C=C, **params).fit(Xs, y)
        est = GDLogisticRegression(C=C / factor**2, **params).fit(Xs * factor, y)
        proba = est.predict_proba(Xs * factor)
    assert est.n_iter_ < params["max_iter"] and ref.n_iter_ < params["max_iter"]
    assert_allclose(proba, ref.predict_proba(Xs), rtol=1e-6, atol=1e-6)
    assert_allclose(est.coef_ * factor, ref.coef_, rtol=1e-5, atol=1e-5)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("factor", [1e6, 1e-6])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_units_no_penalty_still_learns(factor, dtype):
    """C=np.inf (so the optimum does not depend on units): features in tiny or huge units must
    not stop the fit at w = 0; accuracy close to the fit on standardized features."""
    X, y = _breast()
    Xs = StandardScaler().fit_transform(X)
    Xf = (X * factor).astype(dtype)
    with _strict_numpy():
        ref = GDLogisticRegression(C=np.inf, max_iter=300).fit(Xs, y)
        est = GDLogisticRegression(C=np.inf, max_iter=300).fit(Xf, y)
        acc = est.score(Xf, y)
        P = est.predict_proba(Xf)
    assert est.coef_.dtype == dtype
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(P))
    assert np.all(np.isfinite(est.loss_curve_))
    assert acc >= ref.score(Xs, y) - 0.02
    assert acc > 0.95  # majority class alone gives 0.63


@pytest.mark.parametrize("factor", [1e6, 1e-6])
@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
def test_extreme_units_default_parameters_no_numpy_warnings(factor, solver):
    X, y = _breast()
    with _strict_numpy():
        est = GDLogisticRegression(solver=solver).fit(X * factor, y)
        P = est.predict_proba(X * factor)
        est.predict_log_proba(X * factor)
        est.decision_function(X * factor)
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(P))
    assert np.all(np.isfinite(est.loss_curve_))


@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_separable_data_without_penalty(solver, dtype):
    """Setosa vs the rest is linearly separable: with C=np.inf the optimum is at infinity.
    Finite coefficients, correct predictions, probabilities in [0, 1]; a ConvergenceWarning
    is allowed, NumPy warnings are not."""
    X, y = load_iris(return_X_y=True)
    X = X.astype(dtype)
    y = (y == 0).astype(int)
    with _strict_numpy():
        est = GDLogisticRegression(C=np.inf, solver=solver, max_iter=500).fit(X, y)
        P = est.predict_proba(X)
        logP = est.predict_log_proba(X)
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))
    assert np.all(np.isfinite(est.loss_curve_))
    assert np.all((P >= 0) & (P <= 1)) and not np.any(np.isnan(logP))
    assert_array_equal(est.predict(X), y)
    assert est.loss_curve_[-1] < 1e-2 * est.loss_curve_[0]


def test_float32_input_no_warnings():
    X, y = load_wine(return_X_y=True)
    X = X.astype(np.float32)  # raw units, float32
    with _strict_numpy():
        est = GDLogisticRegression(solver="nesterov").fit(X, y)
        P = est.predict_proba(X)
    assert est.coef_.dtype == np.float32 and P.dtype == np.float32
    assert np.all(np.isfinite(P))
    assert est.score(X, y) > 0.95
