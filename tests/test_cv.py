"""GDLogisticRegressionCV against scikit-learn's LogisticRegressionCV on the same folds.

Reference: ``LogisticRegressionCV(solver="lbfgs")`` at a tight ``tol``, given the same
folds, grid of C and scoring. At each C both minimize the same objective on a training
fold: scikit-learn's ``C * sum_i s_i L_i + ||W||^2 / 2`` is this package's J times
``C * S_fold``, with ``S_fold`` the sum of the weights *of that fold* (each fold's problem
is prepared from its own rows), so the solutions, their scores on the test folds, the
chosen C and the final coefficients must agree. Multinomial coefficients are compared
centred over the classes (with an L2 penalty both are, up to rounding, but the centring
makes the comparison independent of that).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression, GDLogisticRegressionCV
from sk_gdlogreg._cv_path import _direct_scorer, _fold_scorer, _model

# C in [1e-3, 10]: both solvers reach these optima to ~1e-7 in a few hundred
# iterations (beyond, digits is nearly separable and lbfgs stops short of tol).
CS = np.logspace(-3, 1, 5)
OURS = dict(tol=1e-9, max_iter=100_000)
THEIRS = dict(solver="lbfgs", tol=1e-12, max_iter=100_000, use_legacy_attributes=False)


def standardized(loader, rows=None):
    X, y = loader(return_X_y=True)
    X, y = X[:rows], y[:rows]
    return StandardScaler().fit_transform(X), y


DATA = {
    "breast_cancer": lambda: standardized(load_breast_cancer),
    "digits": lambda: standardized(load_digits, rows=720),
}


def centred(a):
    return a - a.mean(axis=-2, keepdims=True) if a.shape[-2] > 1 else a


def both(X, y, sample_weight=None, **params):
    cv = StratifiedKFold(3)
    ours = GDLogisticRegressionCV(Cs=CS, cv=cv, **OURS, **params).fit(X, y, sample_weight)
    theirs = LogisticRegressionCV(Cs=CS, cv=cv, l1_ratios=(0.0,), **THEIRS, **params)
    return ours, theirs.fit(X, y, sample_weight=sample_weight)


def assert_same_search(ours, theirs):
    assert ours.C_ == theirs.C_ and ours.l1_ratio_ == theirs.l1_ratio_
    assert_array_equal(ours.Cs_, theirs.Cs_)
    assert_array_equal(ours.l1_ratios_, theirs.l1_ratios_)
    for name in ("scores_", "coefs_paths_", "n_iter_"):
        assert getattr(ours, name).shape == getattr(theirs, name).shape, name
    assert_allclose(ours.scores_, theirs.scores_, rtol=1e-5, atol=1e-7)
    assert_allclose(centred(ours.coefs_paths_), centred(theirs.coefs_paths_), rtol=0, atol=1e-4)
    assert_allclose(centred(ours.coef_), centred(theirs.coef_), rtol=0, atol=1e-4)
    assert_allclose(ours.intercept_ - ours.intercept_.mean() * (ours.intercept_.size > 1),
                    theirs.intercept_ - theirs.intercept_.mean() * (theirs.intercept_.size > 1),
                    rtol=0, atol=1e-4)  # fmt: skip


@pytest.mark.parametrize(
    "name, scoring",
    [("breast_cancer", "neg_log_loss"), ("breast_cancer", None), ("digits", "neg_log_loss")],
)
def test_same_search_as_logistic_regression_cv(name, scoring):
    X, y = DATA[name]()
    assert_same_search(*both(X, y, scoring=scoring))


@pytest.mark.parametrize("scoring", [None, "accuracy", "neg_log_loss"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_direct_scores_are_scikit_learns(scoring, n_classes, weighted):
    """The path scores these itself (no validation at every C): the scorers' numbers,
    also where probabilities reach 0 or 1 (log-loss clipped to [eps, 1 - eps])."""
    rng = np.random.default_rng(n_classes)
    X = rng.standard_normal((300, 4))
    y = np.array(["ant", "bee", "cow"])[rng.integers(0, n_classes, 300)]
    w = rng.uniform(0.1, 3.0, 300) if weighted else None
    classes = np.unique(y)
    K = 1 if n_classes == 2 else n_classes
    for scale in (1.0, 60.0):  # 60: many predictions of probability 1 (or 0)
        theta = scale * rng.standard_normal((K, 5))
        model = _model(theta, classes, True, 4, np, "cpu")
        reference = _fold_scorer(scoring, classes)(model, X, y, w)
        direct = _direct_scorer(scoring, classes, X, y, w, fit_intercept=True)
        assert direct(theta) == pytest.approx(reference, rel=1e-13, abs=1e-15)
    assert _direct_scorer("roc_auc", classes, X, y, w, fit_intercept=True) is None


@pytest.mark.parametrize("refit", [True, False])
def test_sample_and_balanced_class_weights(refit):
    """Weights that sum differently on each fold: C must scale each fold's own sum."""
    X, y = DATA["breast_cancer"]()
    w = np.random.default_rng(0).uniform(0.1, 5.0, len(y)) * np.where(np.arange(len(y)) < 200, 4, 1)
    ours, theirs = both(X, y, w, class_weight="balanced", refit=refit, scoring="neg_log_loss")
    assert_same_search(ours, theirs)


def test_sparse_equals_dense():
    X, y = DATA["breast_cancer"]()
    dense = GDLogisticRegressionCV(Cs=4, cv=3).fit(X, y)
    sparse = GDLogisticRegressionCV(Cs=4, cv=3).fit(sp.csr_matrix(X), y)
    assert_array_equal(sparse.n_iter_, dense.n_iter_)
    # rounding only (dense X takes the compiled pass, sparse X NumPy's); the whitened
    # coordinates kept along the path (raw features: an ill-conditioned Cholesky) carry
    # it from one C to the next: 5e-8 relative at most on this data
    assert_allclose(sparse.coefs_paths_, dense.coefs_paths_, rtol=1e-7, atol=1e-12)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-12)


def test_results_do_not_depend_on_n_jobs():
    X, y = DATA["digits"]()
    params = dict(Cs=4, cv=3, l1_ratios=(0.0, 0.5))
    one = GDLogisticRegressionCV(**params, n_jobs=1).fit(X[:600], y[:600])
    two = GDLogisticRegressionCV(**params, n_jobs=2).fit(X[:600], y[:600])
    assert_array_equal(one.n_iter_, two.n_iter_)
    assert_allclose(one.coefs_paths_, two.coefs_paths_, rtol=1e-12, atol=1e-14)
    assert_allclose(one.scores_, two.scores_, rtol=1e-12)
    assert one.C_ == two.C_ and one.l1_ratio_ == two.l1_ratio_


def test_warm_start_needs_fewer_iterations_than_cold_fits():
    """The path's fits against GDLogisticRegression from zeros at each C, same fold."""
    X, y = DATA["breast_cancer"]()
    folds = list(StratifiedKFold(3).split(X, y))
    Cs = np.logspace(-2, 2, 8)
    cv = GDLogisticRegressionCV(Cs=Cs, cv=folds, tol=1e-6).fit(X, y)
    train = folds[0][0]
    cold = [GDLogisticRegression(C=C, tol=1e-6).fit(X[train], y[train]) for C in Cs]
    cold_iter = np.array([est.n_iter_ for est in cold])
    warm_iter = cv.n_iter_[0, 0]
    assert warm_iter[0] == cold_iter[0]  # the first C starts from zeros too
    # Fewer, though not many fewer: the accelerated solver's iterations depend mostly on
    # the conditioning and tol, only logarithmically on the distance to the optimum.
    assert warm_iter.sum() < cold_iter.sum(), (warm_iter, cold_iter)
    # each C up to ~14 too; at the nearly separable end the whitened coordinates kept
    # from the previous C are stale for their first run and may cost a few more
    assert (warm_iter[1:6] <= cold_iter[1:6]).all(), (warm_iter, cold_iter)
    # and the path's solutions are the cold fits' (same optimum, same tol)
    cold_coef = np.array([np.c_[est.coef_, est.intercept_] for est in cold])
    # (to tol=1e-6 on the gradient: each within ~1e-4 of the optimum)
    # up to C ~ 14: beyond, breast cancer is nearly separable and tol=1e-6 leaves more slack
    assert_allclose(cv.coefs_paths_[0, 0, :6], cold_coef[:6], rtol=1e-3, atol=1e-3)


def test_cs_given_in_any_order_keep_that_order():
    X, y = DATA["breast_cancer"]()
    up = GDLogisticRegressionCV(Cs=[0.01, 0.1, 1.0], cv=3).fit(X, y)
    mixed = GDLogisticRegressionCV(Cs=[1.0, 0.01, 0.1], cv=3).fit(X, y)
    assert_array_equal(mixed.Cs_, [1.0, 0.01, 0.1])
    assert_allclose(mixed.scores_, up.scores_[..., [2, 0, 1]])
    assert_array_equal(mixed.n_iter_, up.n_iter_[..., [2, 0, 1]])


def test_int_cs_is_a_logspace_and_l1_path_has_zeros():
    X, y = DATA["breast_cancer"]()
    clf = GDLogisticRegressionCV(Cs=3, l1_ratios=[1.0], cv=3).fit(X, y)
    assert_array_equal(clf.Cs_, np.logspace(-4, 4, 3))
    assert (clf.coefs_paths_[:, 0, 0, :, :-1] == 0).all()  # C=1e-4: every weight is 0


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(Cs=0), "Cs"),
        (dict(Cs=[]), "Cs must be"),
        (dict(Cs=[1.0, -1.0]), "Cs must be"),
        (dict(Cs=[[1.0]]), "Cs must be"),
        (dict(Cs=[np.nan]), "Cs must be"),
        (dict(l1_ratios=[]), "l1_ratios must be"),
        (dict(l1_ratios=[0.5, 1.5]), "l1_ratios must be"),
        (dict(l1_ratios=["a"]), "l1_ratios must be"),
    ],
)
def test_bad_grid_is_an_error(params, match):
    X, y = DATA["breast_cancer"]()
    with pytest.raises(ValueError, match=match):
        GDLogisticRegressionCV(cv=2, **params).fit(X, y)


def test_a_training_fold_without_a_class_is_an_error():
    X, y = DATA["breast_cancer"]()
    y = y.copy()
    y[:5] = 2  # class 2 only in the first rows: the fold that tests them never trains on it
    folds = [(np.arange(5, 569), np.arange(5)), (np.arange(569), np.arange(5))]
    with pytest.raises(ValueError, match="no sample of class 2"):
        GDLogisticRegressionCV(Cs=2, cv=folds).fit(X, y)


def test_convergence_warning_on_the_path():
    X, y = DATA["breast_cancer"]()
    with pytest.warns(ConvergenceWarning):
        GDLogisticRegressionCV(Cs=2, cv=2, max_iter=2).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        GDLogisticRegressionCV(Cs=2, cv=2).fit(X, y)
