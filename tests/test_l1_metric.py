"""L1 and elastic net in the curvature metric (``_metric``): the Lasso of a step, and the fits.

The subproblem solver ``lasso_cd`` is checked against closed forms (a diagonal
matrix: soft-thresholding) and against scipy.optimize on a small problem; the
fits against scikit-learn's ``saga`` at a tight tolerance (no sample weights:
saga's objective is then ours times C * n_samples, the same minimizer), with
the same support, exact zeros, F never up for ``solver="gd"``, and the same
path on every in-memory container.
"""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sk_gdlogreg import GDLogisticRegression
from sk_gdlogreg._backends import InMemoryData
from sk_gdlogreg._coordinates import Standardization
from sk_gdlogreg._metric import Metric, lasso_cd
from sk_gdlogreg._objective import Objective

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from bench_conditioning import correlated  # noqa: E402


def _lasso_value(A, g, c, lam, u):
    return g @ (u - c) + (u - c) @ A @ (u - c) / 2 + lam @ np.abs(u)


def _split_lasso(x, A, g, c, lam):
    """The Lasso, smooth in (u+, u-) >= 0 with u = u+ - u-: for bound-constrained L-BFGS."""
    p = len(c)
    v = x[:p] - x[p:]
    r = g + A @ (v - c)
    value = g @ (v - c) + (v - c) @ A @ (v - c) / 2 + lam @ (x[:p] + x[p:])
    return value, np.r_[r + lam, -r + lam]


def test_diagonal_metric_is_soft_thresholding():
    rng = np.random.default_rng(0)
    a, g, c = rng.random(8) + 0.5, rng.standard_normal(8), rng.standard_normal(8)
    lam = np.r_[rng.random(7), 0.0]  # the last coordinate unpenalized, as the intercept
    u, rounds = lasso_cd(np.diag(a), g, c, lam, tol=1e-12)
    assert rounds == 1
    z = c - g / a
    assert_array_equal(u, np.sign(z) * np.maximum(np.abs(z) - lam / a, 0))


@pytest.mark.parametrize("seed", range(5))
def test_lasso_cd_matches_scipy(seed):
    """A 2 x 2 and a 6 x 6 Lasso, correlated, against a derivative-free minimizer and the
    optimality conditions."""
    rng = np.random.default_rng(seed)
    for p in (2, 6):
        B = rng.standard_normal((p, p))
        A = B @ B.T + 0.1 * np.eye(p)
        g, c, lam = rng.standard_normal(p), rng.standard_normal(p), rng.random(p)
        u, _ = lasso_cd(A, g, c, lam, tol=1e-13, max_sweeps=100_000)

        ref = minimize(
            _split_lasso, np.zeros(2 * p), args=(A, g, c, lam), jac=True, method="L-BFGS-B",
            bounds=[(0, None)] * (2 * p), options=dict(ftol=1e-15, gtol=1e-12, maxiter=10_000),
        )  # fmt: skip
        assert _lasso_value(A, g, c, lam, u) <= ref.fun + 1e-10
        assert_allclose(u, ref.x[:p] - ref.x[p:], atol=1e-6)
        # the optimality conditions, exactly at the zeros
        r = g + A @ (u - c)
        nz = u != 0
        assert_allclose(r[nz], -lam[nz] * np.sign(u[nz]), atol=1e-10)
        assert np.all(np.abs(r[~nz]) <= lam[~nz] + 1e-12)


def test_lasso_cd_leaves_zeros_that_stay_zero_untouched():
    rng = np.random.default_rng(1)
    B = rng.standard_normal((20, 20))
    A = B @ B.T + np.eye(20)
    c = np.where(rng.random(20) < 0.5, 0.0, rng.standard_normal(20))
    u, _ = lasso_cd(A, 1e-3 * rng.standard_normal(20), c, np.full(20, 1e4), tol=1e-12)
    assert np.all(u == 0)  # a large threshold: every coefficient is exactly 0
    # at zero and optimal there: no sweep, nothing written
    u, sweeps = lasso_cd(A, np.full(20, 0.5), np.zeros(20), np.ones(20), tol=1e-12)
    assert sweeps == 0 and np.all(u == 0)


def test_lasso_cd_is_a_descent_from_c_at_any_stop():
    """Stopped after one sweep, the Lasso's objective is still below its value at c (so the
    proximal sufficient decrease of solver='gd' keeps F from going up)."""
    rng = np.random.default_rng(2)
    B = rng.standard_normal((30, 30))
    A = B @ B.T
    g, c, lam = rng.standard_normal(30), rng.standard_normal(30), rng.random(30)
    u, sweeps = lasso_cd(A, g, c, lam, tol=0.0, max_sweeps=1)
    assert sweeps == 1
    assert _lasso_value(A, g, c, lam, u) < _lasso_value(A, g, c, lam, c)


def fit_saga(X, y, **params):
    ref = LogisticRegression(solver="saga", tol=1e-12, max_iter=200_000, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return ref.fit(X, y)


def _standardized(m, d, K=2, seed=0):
    X, y = correlated(m, d, cond=30, seed=seed)
    X = (X - X.mean(0)) / X.std(0)
    if K > 2:
        rng = np.random.default_rng(seed)
        y = np.argmax(X @ rng.standard_normal((d, K)) + rng.logistic(size=(m, K)), axis=1)
    return X, y


@pytest.mark.parametrize("solver", ["nesterov", "gd"])
@pytest.mark.parametrize(
    "K, C, l1_ratio", [(2, 0.05, 1.0), (2, 0.05, 0.5), (3, 0.05, 1.0), (3, 0.1, 0.5)]
)
def test_metric_fit_matches_tight_saga(solver, K, C, l1_ratio):
    """L1, elastic net, binary and multinomial: the coefficients and the support of a
    tight saga fit, by the metric path (it runs: far fewer iterations than diagonal)."""
    X, y = _standardized(3000, 12, K)
    ref = fit_saga(X, y, C=C, l1_ratio=l1_ratio)
    ours = GDLogisticRegression(C=C, l1_ratio=l1_ratio, solver=solver, tol=1e-10).fit(X, y)
    assert ours.n_iter_ < 60
    coef, ref_coef = ours.coef_, ref.coef_
    if K > 2:  # the intercepts of a multinomial fit are defined up to a common constant
        assert_allclose(
            ours.intercept_ - ours.intercept_.mean(), ref.intercept_ - ref.intercept_.mean(),
            atol=1e-6,
        )  # fmt: skip
    else:
        assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    assert_allclose(coef, ref_coef, atol=1e-6)
    assert_array_equal(coef == 0, ref_coef == 0)
    assert 0 < np.sum(coef == 0) < coef.size  # a support that is not trivial


@pytest.mark.parametrize("column", ["constant", "one value"])
@pytest.mark.parametrize("K, l1_ratio", [(3, 1.0), (3, 0.5), (2, 1.0)])
def test_a_column_of_tiny_values_changes_no_l1_fit(K, l1_ratio, column):
    """A column of 1e-200 (constant: beside the intercept it could only shift it) or of
    zeros but one 1e-300: the L1 and elastic-net fits are saga's on the other columns,
    that column's coefficients exactly 0, without a warning. With K > 2 classes and no
    L2 term the metric's L2 share l2 / scale^2 was 0 / 0 for the constant (a scale of
    1e-200 squares to 0); the single value's curvature was merged in the units of the
    blocks of zeros, where it squared to 0: LinAlgErrors both."""
    X, y = _standardized(3000, 12, K)
    ref = fit_saga(X, y, C=0.05, l1_ratio=l1_ratio)
    tiny = np.full(3000, 1e-200)
    if column == "one value":
        tiny = np.zeros(3000)
        tiny[17] = 1e-300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = GDLogisticRegression(C=0.05, l1_ratio=l1_ratio, tol=1e-10)
        ours.fit(np.insert(X, 4, tiny, axis=1), y)
    assert np.all(ours.coef_[:, 4] == 0)
    assert_allclose(np.delete(ours.coef_, 4, axis=1), ref.coef_, atol=1e-6)
    centred = (lambda b: b - b.mean()) if K > 2 else (lambda b: b)  # defined up to a shift
    assert_allclose(centred(ours.intercept_), centred(ref.intercept_), atol=1e-6)


def _three_thresholds(m=600, d=6, seed=0):
    """Three classes cut from one feature at -0.5 and 0.5, with little noise: nearly
    separated, so the classes' curvatures differ greatly from one example to the next."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d))
    X = (X - X.mean(0)) / X.std(0)
    return X, np.digitize(X[:, 0] + 0.3 * rng.logistic(size=m), [-0.5, 0.5])


def test_multinomial_metric_is_the_softmax_hessian_in_diagonal_coordinates():
    """With ``blocks="joint"`` the metric M is the Hessian of F in the diagonal
    coordinates (finite differences of the gradient, through ``to_raw``), the L2 term
    included, but for the common shift of the intercepts, along which F is flat and M
    has the mean class's intercept curvature."""
    X, y = _three_thresholds(300, 3, seed=1)
    rng = np.random.default_rng(2)
    X = X * [1.0, 3.0, 0.2] + [0.0, 1.0, -2.0]  # not standardized: the coordinates scale
    l2 = 0.05
    obj = Objective(InMemoryData(X, y, np.ones(300), 3, True), l2)
    coords = Standardization(X.mean(0), X.std(0), True)
    theta = 0.5 * rng.standard_normal((3, 4))
    metric = Metric(obj.curvature(theta, 1000, blocks="joint"), coords, 3, l2)
    zero = coords.to_raw(np.zeros((3, 4)))
    A = np.column_stack([(coords.to_raw(e.reshape(3, 4)) - zero).ravel() for e in np.eye(12)])
    eps = 1e-6
    fd = np.column_stack(
        [(obj.loss_grad(theta + eps * E)[1] - obj.loss_grad(theta - eps * E)[1]).ravel()
         / (2 * eps) for E in (e.reshape(3, 4) for e in np.eye(12))]
    )  # fmt: skip
    H = A.T @ fd @ A  # the Hessian of F in the diagonal coordinates
    shift = np.zeros(12)
    shift[3::4] = 1 / np.sqrt(3)  # every intercept by the same amount
    Q = np.eye(12) - np.outer(shift, shift)
    assert_allclose(Q @ metric.M @ Q, Q @ H @ Q, rtol=1e-6, atol=1e-8)
    assert abs(shift @ H @ shift) < 1e-8
    assert_allclose(shift @ metric.M @ shift, np.mean(np.diag(H)[3::4]), rtol=1e-6)


def test_multinomial_l1_on_separated_classes_takes_few_iterations():
    """Nearly separated classes: the metric of the whole softmax Hessian reaches saga's
    coefficients and support in few iterations. The matrix shared by the classes
    (coupled as at uniform probabilities) took 58 iterations here, 1,259 on iris at
    C=100 (29 now)."""
    X, y = _three_thresholds()
    ref = fit_saga(X, y, C=10.0, l1_ratio=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = GDLogisticRegression(C=10.0, l1_ratio=1.0, tol=1e-10).fit(X, y)
    assert ours.n_iter_ <= 30
    assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert_array_equal(ours.coef_ == 0, ref.coef_ == 0)
    assert 0 < np.sum(ours.coef_ == 0) < ours.coef_.size


def test_multinomial_metric_is_costed_at_its_k_classes():
    """The metric of a multinomial L1 fit has K (d + 1) coefficients, and its
    factorization is counted at that size: on digits (650 coefficients, 1,797 rows) a
    renewal costs more passes than it saves and the fit stays diagonal. Counted at
    d + 1 (65) it took the metric path, at 2.6 times the diagonal path's time."""
    from sklearn.datasets import load_digits

    from sk_gdlogreg._coordinates import whitening_pays

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    assert whitening_pays(1797, 64, 1797) and not whitening_pays(1797, 64, 1797, size=650)
    default = GDLogisticRegression(C=0.1, l1_ratio=1.0).fit(X, y)
    diagonal = GDLogisticRegression(C=0.1, l1_ratio=1.0, preconditioner="diagonal").fit(X, y)
    assert default.n_iter_ == diagonal.n_iter_
    assert_array_equal(default.coef_, diagonal.coef_)


def test_metric_path_takes_few_iterations_and_no_warning():
    """The issue's case: correlated features (cond 1e3), C=0.05, L1: 142 iterations in the
    diagonal coordinates, at most 30 in the metric."""
    X, y = correlated(20_000, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = GDLogisticRegression(C=0.05, l1_ratio=1.0).fit(X, y)
    diagonal = GDLogisticRegression(C=0.05, l1_ratio=1.0, preconditioner="diagonal")
    assert clf.n_iter_ <= 30 < diagonal.fit(X, y).n_iter_


@pytest.mark.parametrize("K", [2, 3])
def test_gd_never_goes_up_and_zeros_are_exact(K):
    X, y = _standardized(2000, 10, K, seed=3)
    clf = GDLogisticRegression(C=0.02, l1_ratio=1.0, solver="gd", tol=1e-10).fit(X, y)
    curve = np.asarray(clf.loss_curve_)
    assert np.all(np.diff(curve) <= 1e-14 * np.abs(curve[:-1]))
    assert np.any(clf.coef_ == 0) and not np.any((clf.coef_ != 0) & (np.abs(clf.coef_) < 1e-12))


def test_metric_steps_are_used_only_with_automatic_steps():
    """A constant learning rate with L1 is the lecture's update and a soft-threshold on
    the raw features, whatever the preconditioner: no metric is built."""
    X, y = _standardized(500, 5)
    fits = [
        GDLogisticRegression(
            learning_rate=0.5, l1_ratio=1.0, C=0.1, preconditioner=p, max_iter=20, tol=0
        ).fit(X, y)
        for p in ("diagonal", "whitening", "auto")
    ]
    for f in fits[1:]:
        assert_array_equal(f.coef_, fits[0].coef_)


def test_every_container_takes_the_same_path():
    """Dense (C or F order), CSR, CSC with L1: the same metric steps, the same iterations."""
    X, y = correlated(6000, 20)
    ref = GDLogisticRegression(C=0.05, l1_ratio=1.0).fit(X, y)
    diagonal = GDLogisticRegression(C=0.05, l1_ratio=1.0, preconditioner="diagonal").fit(X, y)
    assert ref.n_iter_ * 3 < diagonal.n_iter_
    for Xc in (np.asfortranarray(X), sp.csr_matrix(X), sp.csc_matrix(X)):
        clf = GDLogisticRegression(C=0.05, l1_ratio=1.0).fit(Xc, y)
        assert clf.n_iter_ == ref.n_iter_
        assert_array_equal(clf.coef_ == 0, ref.coef_ == 0)
        assert_allclose(clf.coef_, ref.coef_, rtol=1e-8, atol=1e-8 * np.abs(ref.coef_).max())
        assert_allclose(clf.intercept_, ref.intercept_, rtol=1e-8, atol=1e-10)


def test_metric_of_a_singular_curvature_is_positive_definite():
    """A duplicated feature and no L2 term: H is singular; the metric is jittered as the
    whitening is, and the fit still converges."""
    X, y = _standardized(2000, 6)
    X = np.c_[X, X[:, :1]]
    clf = GDLogisticRegression(C=0.1, l1_ratio=1.0, tol=1e-8).fit(X, y)
    assert clf.n_iter_ < 100
    Hn = np.ones((3, 3))
    coords = Standardization(np.zeros(2), np.ones(2), True)
    m = Metric((Hn, np.ones(3)), coords)
    assert m.dual_sq(np.ones((1, 3))) > 0
