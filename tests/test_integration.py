"""GDLogisticRegression inside scikit-learn's machinery, and its fit-level contracts.

References: scikit-learn's own ``LogisticRegression`` in the same Pipeline / cross-validation
(same objective, so the same scores up to the solvers' tolerances); the estimator itself on an
equivalent input (dense vs sparse, ndarray vs DataFrame, relabelled classes, a copy of the
inputs); and closed forms: J at w = 0, b = 0 is log(2) for two classes and log(K) for K, and
J at the returned coefficients is recomputed below with ``scipy.special.log_softmax``.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import reference
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context as sklearn_config
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression


def _data(name, standardize=False):
    loader = {"breast_cancer": load_breast_cancer, "iris": load_iris, "wine": load_wine}[name]
    X, y = loader(return_X_y=True)
    return (StandardScaler().fit_transform(X) if standardize else X), y


def _objective(X, y, s, est):
    """J of the spec at est's coefficients (float64), penalty from est's C and l1_ratio."""
    return reference.objective(X, y, s, est.coef_, est.intercept_, est.C, est.l1_ratio)


@pytest.fixture(autouse=True)
def _no_convergence_noise():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


# --------------------------------------------------------------------- Pipeline & CV
@pytest.mark.parametrize("name", ["breast_cancer", "wine"])
@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
def test_pipeline_end_to_end_matches_sklearn(name, solver):
    X, y = _data(name)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    ours = make_pipeline(StandardScaler(), GDLogisticRegression(solver=solver)).fit(Xtr, ytr)
    ref = make_pipeline(StandardScaler(), LogisticRegression()).fit(Xtr, ytr)
    assert ours.score(Xte, yte) > 0.93
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.02
    assert np.mean(ours.predict(Xte) == ref.predict(Xte)) >= 0.97
    # default tol=1e-4 on the standardized gradient: probabilities agree to ~1e-2
    assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte), atol=2e-2)
    assert_array_equal(ours.classes_, ref.classes_)


def test_grid_search_over_learning_rate_in_pipeline():
    """With 50 iterations, log-loss improves with the step as long as it is stable: tiny steps
    must lose to large ones / "auto"."""
    X, y = _data("breast_cancer")
    grid = [1e-4, 1e-2, 0.5, "auto"]
    pipe = make_pipeline(StandardScaler(), GDLogisticRegression(max_iter=50))
    search = GridSearchCV(
        pipe, {"gdlogisticregression__learning_rate": grid}, cv=3, scoring="neg_log_loss"
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == len(grid) and np.all(np.isfinite(scores))
    assert scores[0] < scores[1] < scores[2]  # 1e-4 < 1e-2 < 0.5
    assert search.best_params_["gdlogisticregression__learning_rate"] in (0.5, "auto")
    assert search.best_score_ > -0.15  # log-loss < 0.15 (a constant predictor: 0.66)
    assert search.best_estimator_.score(X, y) > 0.97


def test_grid_search_raw_features_auto_wins():
    """On raw features (units up to ~4000) constant steps are either too small or unstable;
    "auto" does not depend on the units and wins.  No NaN scores from the unstable one."""
    X, y = _data("breast_cancer")
    search = GridSearchCV(
        GDLogisticRegression(max_iter=100),
        {"learning_rate": [1e-7, 1e-5, 1e-3, "auto"]},
        cv=3,
        scoring="neg_log_loss",
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the learning_rate warning of the unstable step
        search.fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_ == {"learning_rate": "auto"}


def test_cross_val_score_matches_sklearn():
    X, y = _data("iris")
    ours = cross_val_score(make_pipeline(StandardScaler(), GDLogisticRegression()), X, y, cv=5)
    ref = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression()), X, y, cv=5)
    assert ours.shape == (5,)
    assert np.all(ours >= 0.85)
    assert abs(ours.mean() - ref.mean()) <= 0.02


# ------------------------------------------------------------------------- labels
PRECISE = dict(tol=1e-8, max_iter=20_000)


@pytest.mark.parametrize(
    "relabel",
    [
        lambda y: 2 * y - 1,  # {-1, 1}
        lambda y: y.astype(bool),
        lambda y: y.astype(float),
        lambda y: np.array(["no", "yes"])[y],  # same order as 0, 1
        lambda y: np.array(["no", "yes"], dtype=object)[y],
    ],
    ids=["minus1_plus1", "bool", "float", "str", "object"],
)
def test_binary_labels_of_any_kind(relabel):
    X, y = _data("breast_cancer", standardize=True)
    base = GDLogisticRegression(**PRECISE).fit(X, y)
    y2 = relabel(y)
    est = GDLogisticRegression(**PRECISE).fit(X, y2)
    assert_array_equal(est.classes_, np.unique(y2))
    assert_array_equal(est.coef_, base.coef_)  # same problem, same arithmetic
    assert_array_equal(est.intercept_, base.intercept_)
    assert_array_equal(est.predict(X), relabel(base.predict(X)))
    assert est.predict(X).dtype == np.asarray(y2).dtype


def test_positive_class_is_classes_1():
    """Labels whose sorted order flips the classes: the sigmoid model mirrors, coef_ -> -coef_."""
    X, y = _data("breast_cancer", standardize=True)  # 0 = malignant, 1 = benign
    base = GDLogisticRegression(**PRECISE).fit(X, y)
    names = np.array(["malignant", "benign"])[y]  # sorted: benign, malignant
    est = GDLogisticRegression(**PRECISE).fit(X, names)
    assert_array_equal(est.classes_, ["benign", "malignant"])
    assert_allclose(est.coef_, -base.coef_, rtol=1e-6, atol=1e-7)
    assert_allclose(est.intercept_, -base.intercept_, rtol=1e-6, atol=1e-7)
    assert_array_equal(est.predict(X), np.array(["malignant", "benign"])[base.predict(X)])
    assert_allclose(est.predict_proba(X), base.predict_proba(X)[:, ::-1], atol=1e-7)


def test_multiclass_string_labels():
    X, y = _data("wine", standardize=True)
    base = GDLogisticRegression(solver="nesterov", **PRECISE).fit(X, y)
    labels = np.array(["barolo", "grignolino", "barbera"])  # sorted order differs
    est = GDLogisticRegression(solver="nesterov", **PRECISE).fit(X, labels[y])
    assert_array_equal(est.classes_, ["barbera", "barolo", "grignolino"])
    order = np.searchsorted(est.classes_, labels)  # row of est for base class k
    assert_allclose(est.coef_[order], base.coef_, rtol=1e-6, atol=1e-7)
    assert_array_equal(est.predict(X), labels[base.predict(X)])


# ---------------------------------------------------------------------- input types
def test_dataframe_sets_feature_names_and_matches_ndarray():
    data = load_breast_cancer(as_frame=True)
    df, y = data.data, data.target
    est = GDLogisticRegression().fit(df, y)
    assert_array_equal(est.feature_names_in_, df.columns.to_numpy())
    base = GDLogisticRegression().fit(df.to_numpy(), y.to_numpy())
    assert not hasattr(base, "feature_names_in_")
    assert_array_equal(est.coef_, base.coef_)
    assert_array_equal(est.predict_proba(df), base.predict_proba(df.to_numpy()))
    with pytest.raises(ValueError, match="feature names"):
        est.predict(df[df.columns[::-1]])  # same names, other order


def test_dataframe_with_categorical_string_target():
    data = load_iris(as_frame=True)
    y = pd.Series(np.array(data.target_names)[data.target], dtype="category")
    est = GDLogisticRegression().fit(data.data, y)
    assert_array_equal(est.classes_, sorted(data.target_names))
    assert est.score(data.data, y) > 0.9


SPARSE = [sp.csr_matrix, sp.csr_array, sp.csc_matrix]


@pytest.mark.parametrize("to_sparse", SPARSE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
def test_sparse_equals_dense_auto(to_sparse, solver):
    X, y = _data("breast_cancer", standardize=True)
    # the same coordinates: whitening is for dense X only
    params = dict(solver=solver, preconditioner="diagonal", **PRECISE)
    dense = GDLogisticRegression(**params).fit(X, y)
    sparse = GDLogisticRegression(**params).fit(to_sparse(X), y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-7)
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-6, atol=1e-7)
    assert_allclose(sparse.predict_proba(to_sparse(X)), dense.predict_proba(X), atol=1e-8)


@pytest.mark.parametrize("to_sparse", SPARSE, ids=lambda f: f.__name__)
def test_sparse_equals_dense_constant_step_multiclass(to_sparse):
    """Digits pixels (mostly zeros), raw units, constant step: the same iterates up to
    rounding, so the whole loss curve agrees."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:400], y[:400]
    params = dict(learning_rate=1e-3, max_iter=60, C=0.5)
    dense = GDLogisticRegression(**params).fit(X, y)
    sparse = GDLogisticRegression(**params).fit(to_sparse(X), y)
    assert dense.n_iter_ == sparse.n_iter_ == 60
    assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-12)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-9, atol=1e-12)


INPUTS = {
    "float64": lambda X: X.copy(),
    "fortran": lambda X: np.asfortranarray(X),
    "float32": lambda X: X.astype(np.float32),
    "int64": lambda X: np.round(X * 10).astype(np.int64),
    "csr": lambda X: sp.csr_matrix(X),
    "dataframe": lambda X: pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])]),
}


@pytest.mark.parametrize("kind", list(INPUTS))
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_inputs_not_modified(kind, class_weight):
    X0, y = _data("wine", standardize=True)
    X = INPUTS[kind](X0)
    y = y.copy()
    sw = np.random.default_rng(0).uniform(0.5, 2, size=len(y))
    X_copy = X.copy(order="K") if isinstance(X, np.ndarray) else X.copy()
    y_copy, sw_copy = y.copy(), sw.copy()
    GDLogisticRegression(class_weight=class_weight, max_iter=50).fit(X, y, sample_weight=sw)
    if sp.issparse(X):
        assert (X != X_copy).nnz == 0
    elif isinstance(X, pd.DataFrame):
        pd.testing.assert_frame_equal(X, X_copy)
    else:
        assert_array_equal(X, X_copy)
        assert X.dtype == X_copy.dtype and X.flags.f_contiguous == X_copy.flags.f_contiguous
    assert_array_equal(y, y_copy)
    assert_array_equal(sw, sw_copy)


# ------------------------------------------------------------------ determinism etc.
@pytest.mark.parametrize(
    "solver, name, l1_ratio",
    [(s, "breast_cancer", 0.0) for s in ("gd", "nesterov", "anderson")]
    + [(s, "wine", 0.5) for s in ("gd", "nesterov")]
    + [("anderson", "wine", 0.0)],  # Anderson takes no L1 term
)
def test_deterministic(solver, name, l1_ratio):
    X, y = _data(name)
    params = dict(solver=solver, l1_ratio=l1_ratio, max_iter=200)
    a = GDLogisticRegression(**params).fit(X, y)
    b = GDLogisticRegression(**params).fit(X, y)
    for est in (b, a.fit(X, y)):  # a fresh estimator, and a refit of the same one
        assert_array_equal(est.coef_, GDLogisticRegression(**params).fit(X, y).coef_)
    for attr in ("coef_", "intercept_", "loss_curve_", "n_iter_"):
        assert_array_equal(getattr(a, attr), getattr(b, attr), err_msg=attr)


@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
@pytest.mark.parametrize("name", ["breast_cancer", "wine"])
def test_warm_start_from_solution(solver, name):
    X, y = _data(name, standardize=True)
    est = GDLogisticRegression(solver=solver, tol=1e-6, warm_start=True).fit(X, y)
    first_iters, coef = est.n_iter_, est.coef_.copy()
    assert first_iters > 5
    est.fit(X, y)  # starts at the solution: the first gradient already meets tol
    assert est.n_iter_ <= 2
    assert_allclose(est.coef_, coef, rtol=1e-5, atol=1e-6)
    # and J there is J at the previous solution, not log(2) / log(3)
    s = np.ones(len(y))
    assert_allclose(est.loss_curve_[0], _objective(X, y, s, est), rtol=1e-10)
    # warm_start=False starts over from zero
    est.set_params(warm_start=False).fit(X, y)
    assert est.n_iter_ == first_iters
    assert_allclose(est.loss_curve_[0], np.log(len(est.classes_)), rtol=1e-12)


def test_warm_start_continues_a_stopped_fit():
    """Five rounds of max_iter=10 pick up where the last stopped: J keeps going down across
    rounds (solver="gd", "auto": monotone), and ends below a single cold run of 10."""
    X, y = _data("breast_cancer")
    est = GDLogisticRegression(max_iter=10, warm_start=True)
    cold = GDLogisticRegression(max_iter=10).fit(X, y)
    last = np.inf
    for _ in range(5):
        est.fit(X, y)
        assert est.loss_curve_[0] <= last * (1 + 1e-12)
        last = est.loss_curve_[-1]
    assert est.loss_curve_[-1] < cold.loss_curve_[-1]
    assert est.loss_curve_[0] < 0.5 * np.log(2)


def test_warm_start_with_other_classes_raises_as_logistic_regression():
    Xb, yb = _data("breast_cancer", standardize=True)
    Xw, yw = _data("wine", standardize=True)
    est = GDLogisticRegression(warm_start=True, max_iter=50).fit(Xb, yb)
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match="number of classes or features changed"):
        est.fit(Xw, yw)  # other shape of coef: an error, as LogisticRegression gives
    assert_array_equal(est.coef_, coef)  # nothing half-done
    est.set_params(warm_start=False).fit(Xw, yw)  # the way out the message names
    assert est.coef_.shape == (3, Xw.shape[1])
    assert_allclose(est.loss_curve_[0], np.log(3), rtol=1e-12)


# -------------------------------------------------------------------- loss_curve_
CURVE_CASES = [
    # name, params, sample weights?
    ("breast_cancer", dict(), False),
    ("breast_cancer", dict(solver="nesterov", C=0.1, l1_ratio=1.0), True),
    ("breast_cancer", dict(learning_rate=1e-6, fit_intercept=False), False),
    ("wine", dict(class_weight="balanced"), True),
    ("iris", dict(solver="nesterov", C=np.inf, learning_rate=0.1), False),
]


@pytest.mark.parametrize("name, params, weighted", CURVE_CASES)
def test_loss_curve_starts_at_log_k_and_has_n_iter_entries(name, params, weighted):
    X, y = _data(name)
    sw = np.random.default_rng(1).uniform(0.5, 2, size=len(y)) if weighted else None
    est = GDLogisticRegression(max_iter=300, **params).fit(X, y, sample_weight=sw)
    assert isinstance(est.n_iter_, (int, np.integer))
    assert len(est.loss_curve_) == est.n_iter_ >= 1
    # J(w = 0, b = 0) = log(K): every class has probability 1/K, the penalty is zero
    assert_allclose(est.loss_curve_[0], np.log(len(np.unique(y))), rtol=1e-12)


@pytest.mark.parametrize("name", ["breast_cancer", "wine"])
def test_loss_curve_last_value_is_J_at_converged_coef(name):
    X, y = _data(name, standardize=True)
    sw = np.random.default_rng(2).uniform(0.5, 2, size=len(y))
    est = GDLogisticRegression(tol=1e-7, max_iter=10_000, C=0.3, l1_ratio=0.4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y, sample_weight=sw)
    # gd stops at the iterate whose gradient met tol: loss_curve_[-1] is J there
    assert_allclose(est.loss_curve_[-1], _objective(X, y, sw, est), rtol=1e-10)


def test_loss_curve_float32_starts_at_log_2():
    X, y = _data("breast_cancer", standardize=True)
    est = GDLogisticRegression(max_iter=20).fit(X.astype(np.float32), y)
    assert_allclose(est.loss_curve_[0], np.log(2), rtol=1e-6)


@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
@pytest.mark.parametrize("learning_rate", ["auto", 0.1])
@pytest.mark.parametrize("name", ["breast_cancer", "wine"])
def test_tol_zero_runs_max_iter(solver, learning_rate, name):
    X, y = _data(name, standardize=True)
    est = GDLogisticRegression(solver=solver, learning_rate=learning_rate, tol=0, max_iter=25)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    assert est.n_iter_ == 25
    assert len(est.loss_curve_) == 25


GD_AUTO_CASES = [
    ("breast_cancer", False, dict()),  # raw units, badly conditioned
    ("breast_cancer", True, dict(C=0.05, l1_ratio=1.0)),
    ("breast_cancer", False, dict(C=np.inf)),
    ("wine", False, dict(class_weight="balanced")),
    ("wine", True, dict(C=0.2, l1_ratio=0.5)),
    ("iris", False, dict(fit_intercept=False)),
]


@pytest.mark.parametrize("name, standardize, params", GD_AUTO_CASES)
def test_gd_auto_loss_curve_never_increases(name, standardize, params):
    X, y = _data(name, standardize)
    est = GDLogisticRegression(solver="gd", learning_rate="auto", max_iter=400, **params)
    est.fit(X, y)
    curve = np.asarray(est.loss_curve_)
    assert np.all(np.isfinite(curve))
    # up to rounding error in the value of J (a few ulps)
    slack = 32 * np.finfo(np.float64).eps * np.abs(curve[:-1])
    assert np.all(np.diff(curve) <= slack), np.max(np.diff(curve))
    assert curve[-1] < curve[0]


def test_verbose_prints_and_silent_by_default(capsys):
    X, y = _data("iris", standardize=True)
    GDLogisticRegression(max_iter=5).fit(X, y)
    assert capsys.readouterr().out == ""
    est = GDLogisticRegression(max_iter=5, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) >= est.n_iter_


def test_sample_weight_is_routed_through_metadata_routing():
    """With metadata routing on, sample_weight requested by the estimator reaches its fit
    through a Pipeline and cross_validate, and gives the fit of the weighted data."""
    from sklearn.model_selection import KFold, cross_validate

    X, y = _data("breast_cancer")
    w = np.random.default_rng(0).uniform(0.1, 3, len(y))
    with sklearn_config(enable_metadata_routing=True):
        est = GDLogisticRegression().set_fit_request(sample_weight=True)
        est.set_score_request(sample_weight=True)
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), est)
        routed = cross_validate(
            pipe,
            X,
            y,
            cv=KFold(3),
            params={"sample_weight": w},
            return_estimator=True,
            error_score="raise",
        )
    assert np.all(routed["test_score"] > 0.9)  # weighted accuracy, weights routed to score
    for (train, _), fitted in zip(KFold(3).split(X), routed["estimator"]):
        Xs = StandardScaler().fit_transform(X[train])
        ref = GDLogisticRegression().fit(Xs, y[train], sample_weight=w[train])
        assert_allclose(fitted[-1].coef_, ref.coef_, rtol=1e-12)
        plain = GDLogisticRegression().fit(Xs, y[train])
        assert np.abs(plain.coef_ - ref.coef_).max() > 1e-3  # the weights made a difference
