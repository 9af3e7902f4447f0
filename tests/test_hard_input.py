"""Issue 9: every input gets a finite model or a clear error, without NumPy warnings.

One test per row of the issue's table (the snippets' data below), then the verbose
output. Run under RuntimeWarning-as-error (pyproject's filterwarnings) and, where
stated, under ``np.errstate(all="raise")`` except underflow.
"""

import contextlib
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sk_gdlogreg import GDLogisticRegression as GD

rng = np.random.default_rng(0)
X = rng.standard_normal((60, 3))
y = (X[:, 0] + 0.5 * rng.standard_normal(60) > 0).astype(int)
ys = (X[:, 0] > 0).astype(int)
y3 = np.arange(60) % 3


@contextlib.contextmanager
def strict():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            yield


def assert_finite_model(clf, X_):
    assert np.isfinite(clf.coef_).all() and np.isfinite(clf.intercept_).all()
    proba = clf.predict_proba(X_)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


def reference_proba(X_=X, y_=y, **params):
    return GD(**params).fit(X_, y_).predict_proba(X_)


# row 1
def test_balanced_with_a_class_of_zero_weight_is_finite():
    sw = np.ones(60)
    sw[y3 == 2] = 0
    with strict(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # class 2's intercept drifts down
        clf = GD(class_weight="balanced").fit(X, y3, sample_weight=sw)
    assert_finite_model(clf, X)
    # class 2 counts for nothing: the other two classes are balanced as on their own
    assert clf.predict_proba(X)[:, 2].max() < 0.05


# row 2
def test_float32_features_of_1e20_fit_as_float64():
    X32 = (X * 1e20).astype(np.float32)
    with strict():
        clf = GD().fit(X32, y)
    assert clf.coef_.dtype == np.float32
    assert_finite_model(clf, X32)
    # the same problem as X with C times 1e40 (w_j -> w_j / 1e20)
    ref = GD(C=1e40).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X32), ref.predict_proba(X), atol=1e-4)


# row 3
def test_bb_step_with_an_unchanged_gradient():
    with strict(), pytest.warns(ConvergenceWarning):
        clf = GD(C=np.inf, solver="gd", tol=0, max_iter=20000).fit(X, ys)
    assert_finite_model(clf, X)
    assert (clf.predict(X) == ys).all()


# row 4
@pytest.mark.parametrize("bad", [-1, np.nan, np.inf])
def test_bad_class_weight_raises(bad):
    with pytest.raises(ValueError, match=r"class_weight must be finite and non-negative.*class"):
        GD(class_weight={0: bad, 1: 1}).fit(X, y)


# row 5
@pytest.mark.parametrize(
    "case",
    ["sample_weight 1e308", "C 1e-310", "X 1e160", "constant column 1e200", "float32 1e38"],
)
def test_extreme_numbers_give_a_finite_answer(case):
    # without a penalty, rescaled features or weights are the same problem
    X_, fit_kw, params = X, {}, dict(C=np.inf)
    if case == "sample_weight 1e308":  # C=1 times weights of 1e308: the penalty is nothing
        fit_kw, params = dict(sample_weight=np.full(60, 1e308)), {}
    elif case == "C 1e-310":
        params = dict(C=1e-310)
    elif case == "X 1e160":
        X_ = X * 1e160
    elif case == "constant column 1e200":
        X_ = X.copy()
        X_[:, 1] = 1e200
    else:
        X_ = (X * 1e37).astype(np.float32)
    with strict():
        clf = GD(**params).fit(X_, y, **fit_kw)
    assert_finite_model(clf, X_)
    if case in ("sample_weight 1e308", "X 1e160", "float32 1e38"):  # the same problem
        np.testing.assert_allclose(clf.predict_proba(X_), reference_proba(C=np.inf), atol=1e-3)
    if case == "C 1e-310":  # a penalty that wins: W = 0
        assert np.abs(clf.coef_).max() < 1e-300


def test_weights_too_small_for_the_penalty_raise_a_clear_error():
    with pytest.raises(ValueError, match="C=1.0 is too small .* beyond the float64 range"):
        GD().fit(X, y, sample_weight=np.full(60, 1e-320))
    with strict():  # no penalty: any unit of the weights is fine
        clf = GD(C=np.inf).fit(X, y, sample_weight=np.full(60, 1e-320))
    np.testing.assert_allclose(clf.predict_proba(X), reference_proba(C=np.inf), atol=1e-6)


# rows 6 and 7
@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
def test_overflowing_learning_rate_keeps_the_last_finite_iterate(solver):
    with strict(), pytest.warns(ConvergenceWarning) as record:
        clf = GD(learning_rate=1e300, solver=solver).fit(X, y)
    assert_finite_model(clf, X)
    assert np.abs(clf.coef_).max() < 1e100  # not the overflowed iterate
    message = str(record[0].message)
    assert "overflowed at iteration 1" in message and "None" not in message
    assert "learning_rate=1e+300 is too large" in message


def test_overflow_under_auto_never_suggests_auto():
    """learning_rate='auto' whose numbers overflow: the message names the range, not 'auto'."""
    clf = GD(warm_start=True, max_iter=3)
    with strict(), warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        clf.fit(X, y)
        clf.coef_ = np.full_like(clf.coef_, 1e200)
        clf.fit(X, y)
    messages = [str(w.message) for w in record]
    assert not any("use learning_rate='auto'" in m for m in messages)
    assert not any("iteration None" in m for m in messages)


# row 8
@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
@pytest.mark.parametrize("learning_rate", ["auto", 1.0])
def test_tol_zero_stops_when_no_progress_is_possible(solver, learning_rate, capsys):
    clf = GD(tol=0, max_iter=10**9, solver=solver, learning_rate=learning_rate, verbose=1)
    with strict(), pytest.warns(ConvergenceWarning, match="stopped changing"):
        clf.fit(X, y)
    assert clf.n_iter_ < 5000
    assert "J and the coefficients stopped changing" in capsys.readouterr().out
    ref = GD(tol=1e-10, solver=solver, learning_rate=learning_rate).fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-6)


# row 9
def test_zero_class_weight_is_the_same_as_zero_sample_weights():
    with pytest.raises(ValueError, match="only class 1 has any") as by_sw:
        GD().fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError, match="only class 1 has any") as by_cw:
        GD(class_weight={0: 0, 1: 1}).fit(X, y)
    assert str(by_sw.value) == str(by_cw.value)


# row 10
def test_huge_learning_rate_no_numpy_warning():
    for lr in (1e50, 1e300):
        with strict(), pytest.warns(ConvergenceWarning, match="too large"):
            clf = GD(learning_rate=lr).fit(X, y)
        assert_finite_model(clf, X)


def test_subnormal_float32_features_no_numpy_warning():
    X32 = (X * 1e-44).astype(np.float32)
    with strict(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = GD().fit(X32, y)
    assert_finite_model(clf, X32)


def test_dask_infinity_raises_without_numpy_warning():
    da = pytest.importorskip("dask.array")
    Xi = X.copy()
    Xi[3, 1] = np.inf
    with strict(), pytest.raises(ValueError, match="infinity"):
        GD().fit(da.from_array(Xi, chunks=20), y)


# row 11
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_warm_start_from_a_non_finite_model_raises(bad):
    clf = GD(warm_start=True).fit(X, y)
    clf.coef_ = np.full_like(clf.coef_, bad)
    with pytest.raises(ValueError, match="NaN or infinity"):
        clf.fit(X, y)


def test_warm_start_from_an_overflowing_model_starts_fresh_with_a_warning():
    clf = GD(warm_start=True).fit(X, y)
    clf.coef_ = np.full_like(clf.coef_, 1e200)
    with strict(), pytest.warns(UserWarning, match="starting from zeros"):
        clf.fit(X, y)
    assert clf.n_iter_ > 0 and len(clf.loss_curve_) == clf.n_iter_
    np.testing.assert_allclose(clf.loss_curve_[0], np.log(2))
    assert_finite_model(clf, X)


# row 12
@pytest.mark.parametrize("change", ["classes", "features"])
def test_warm_start_after_the_shape_changed_raises(change):
    clf = GD(warm_start=True).fit(X, y)
    X2, y2 = (X, y3) if change == "classes" else (X[:, :2], y)
    with pytest.raises(ValueError, match="number of classes or features changed"):
        clf.fit(X2, y2)
    assert clf.coef_.shape == (1, 3)


# row 14
def test_verbose_output_is_sparse_and_says_why_it_stopped(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GD(verbose=1, learning_rate=0.01, tol=0, max_iter=1234).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    iters = [int(line.split()[1]) for line in lines if line.startswith("iter")]
    assert iters == list(range(10)) + list(range(10, 100, 10)) + list(range(100, 1001, 100)) + [
        1233
    ]
    assert lines[-1] == "stopped: max_iter=1234 iterations were reached"

    GD(verbose=1).fit(X, y)
    assert capsys.readouterr().out.splitlines()[-1].startswith("converged at iteration")


def test_balanced_weights_of_very_different_units_keep_float32_weights():
    """Found by the long Hypothesis run: with class_weight='balanced', a class whose sample
    weights are 1e-300 and one at 1e-10 got products that all rounded to 0 in float32 (and a
    0/0 in the statistics); the products are now rescaled, and float32 fits as float64 does."""
    Xf = np.linspace(-1, 1, 12, dtype=np.float32)[:, None]
    yb = np.array([0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1])
    w = np.array([0.0] * 10 + [1e-300, 1e-10])
    params = dict(C=1e-4, fit_intercept=False, class_weight="balanced", max_iter=1, tol=0)
    with strict():
        fits = [GD(**params).fit(Xf.astype(dt), yb, sample_weight=w) for dt in (np.float32, float)]
    assert np.all(np.isfinite(fits[0].coef_))
    np.testing.assert_allclose(fits[0].coef_, fits[1].coef_, rtol=1e-4, atol=1e-12)


def test_an_l1_strength_beyond_the_float_range_is_clipped_without_warning():
    """Found by the long Hypothesis run: C=1e-4 with sample weights of 1e-320 and 1e-300
    made the L1 thresholds overflow (a RuntimeWarning); every coefficient is then 0."""
    Xs = np.array([[0.12573022], [-0.13210486]])
    params = dict(C=1e-4, l1_ratio=0.5, fit_intercept=False, max_iter=1, tol=0)
    with strict():
        clf = GD(**params).fit(Xs, [0, 1], sample_weight=[1e-320, 1e-300])
    assert np.all(clf.coef_ == 0)


def test_a_last_update_that_overflows_is_not_returned():
    """Found by the long Hypothesis run: a constant step whose final update (never evaluated
    by the iterations) makes J overflow on features of 1e156 returned scores of inf - inf;
    the fit now keeps the last point where J was finite, and says it overflowed."""
    Xb = np.array([[0.126, -1.32e156, 0.64, 1.05e156], [-0.536, 3.62e156, 1.30, 9.47e156]])
    params = dict(learning_rate=0.001, C=1e-4, fit_intercept=False, max_iter=1, tol=0)
    with strict(), pytest.warns(ConvergenceWarning, match="overflow"):
        clf = GD(**params).fit(Xb, [0, 1])
    assert np.all(np.isfinite(clf.predict_proba(Xb)))


def test_whitening_with_a_penalty_beyond_the_float_range_is_finite():
    """Found by the long Hypothesis run (2,000 inputs): features of 1e-154 with C=1e-4 made the
    L2 share of the curvature matrix, l2 / scale^2, overflow when whitening came in."""
    Xt = np.array([[1.257e-154], [-1.321e-154], [6.404e-154], [1.049e-154]])
    params = dict(C=1e-4, fit_intercept=False, max_iter=6, tol=0)
    with strict():
        clf = GD(**params).fit(Xt, [0, 1, 1, 1])
    assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.predict_proba(Xt)))
