"""The solvers and the penalty on problems whose answers are known in closed form."""

import numpy as np
import pytest
from scipy.optimize import brentq

from sk_gdlogreg import _penalty
from sk_gdlogreg._backends import InMemoryData
from sk_gdlogreg._coordinates import Standardization
from sk_gdlogreg._objective import DataTerm, Objective
from sk_gdlogreg._penalty import L1Penalty
from sk_gdlogreg._problem import Problem
from sk_gdlogreg._solvers import SOLVERS, Result, solve


class Quadratic:
    """J(coef) = 1/2 (coef - c)^T A (coef - c) on a (1, 3) coef, no intercept."""

    n_outputs, n_features, fit_intercept = 1, 3, False
    dtype, xp, device = np.dtype(np.float64), np, "cpu"

    def __init__(self, A, c):
        self.A, self.c = A, c
        self.calls = 0

    def loss_grad(self, coef):
        self.calls += 1
        r = coef[0] - self.c
        return 0.5 * float(r @ self.A @ r), (self.A @ r)[None, :]


def identity_problem(objective, l1=0.0):
    coords = Standardization(np.zeros(3), np.ones(3), False)
    return Problem(objective, l1, coords, coords)


A = np.diag([1.0, 4.0, 10.0])
C = np.array([1.0, -2.0, 0.5])
SETTINGS = [("gd", 0.1), ("gd", None), ("nesterov", 0.1), ("nesterov", None)]
ANDERSON = [("anderson", 0.1), ("anderson", None)]


@pytest.mark.parametrize("solver, learning_rate", SETTINGS + ANDERSON)
def test_quadratic_minimum(solver, learning_rate):
    problem = identity_problem(Quadratic(A, C))
    res = SOLVERS[solver](
        problem, np.zeros((1, 3)), learning_rate=learning_rate, max_iter=2000, tol=1e-10, step0=0.05
    )
    assert res.converged and res.residual <= 1e-10
    np.testing.assert_allclose(res.coef[0], C, atol=1e-9)
    assert res.loss_curve[0] == pytest.approx(0.5 * C @ A @ C)
    assert len(res.loss_curve) == res.n_iter


def test_constant_step_is_the_lecture_update():
    """coef_{k+1} = coef_k - alpha grad_k: on a quadratic, (I - alpha A)^k (0 - c) + c.

    Each of the k iterations records J, then updates: k updates, k passes.
    """
    objective = Quadratic(A, C)
    alpha, k = 0.05, 7
    res = SOLVERS["gd"](
        identity_problem(objective), np.zeros((1, 3)), learning_rate=alpha, max_iter=k, tol=0
    )
    expected = C + np.linalg.matrix_power(np.eye(3) - alpha * A, k) @ (-C)
    np.testing.assert_allclose(res.coef[0], expected, rtol=1e-13)
    assert res.n_iter == k == objective.calls


def test_automatic_gd_never_increases_the_objective():
    problem = identity_problem(Quadratic(np.diag([1.0, 100.0, 1e4]), C))
    res = SOLVERS["gd"](
        problem, np.zeros((1, 3)), learning_rate=None, max_iter=500, tol=1e-9, step0=1.0
    )
    assert np.all(np.diff(res.loss_curve) <= 1e-12 * res.loss_curve[0])
    np.testing.assert_allclose(res.coef[0], C, atol=1e-8)


@pytest.mark.parametrize("solver, learning_rate", SETTINGS)
def test_l1_solution_is_the_soft_threshold(solver, learning_rate):
    """min 1/2 ||coef - c||^2 + l1 ||coef||_1 is soft-threshold(c, l1), exact zeros included."""
    l1 = 0.75
    problem = identity_problem(Quadratic(np.eye(3), C), l1=l1)
    res = SOLVERS[solver](
        problem, np.zeros((1, 3)), learning_rate=learning_rate, max_iter=500, tol=1e-12, step0=0.5
    )
    expected = np.sign(C) * np.maximum(np.abs(C) - l1, 0)
    np.testing.assert_allclose(res.coef[0], expected, atol=1e-12)
    assert res.coef[0, 2] == 0.0  # |0.5| < 0.75: exactly zero


def test_one_feature_logistic_regression():
    """One feature, no intercept, L2: the minimum solves a scalar equation (Brent's method)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(200)
    y = (x + rng.standard_normal(200) > 0).astype(int)
    l2 = 0.05

    def derivative(w):  # dJ/dw = mean((sigmoid(w x) - y) x) + l2 w
        return np.mean((1 / (1 + np.exp(-w * x)) - y) * x) + l2 * w

    w_star = brentq(derivative, -50, 50, xtol=1e-14)
    data = InMemoryData(x[:, None], y, np.ones(200), 2, False)
    objective = Objective(data, l2)
    coords = Standardization(np.zeros(1), np.ones(1), False)
    for solver in ("gd", "nesterov", "anderson"):
        res = SOLVERS[solver](
            Problem(objective, 0.0, coords, coords),
            np.zeros((1, 1)),
            learning_rate=None,
            max_iter=1000,
            tol=1e-12,
            step0=1.0,
        )
        assert res.coef[0, 0] == pytest.approx(w_star, rel=1e-9)


def test_anderson_steps_by_hand():
    """Iteration 1 is the lecture's step; iteration 2 weighs the two points by the c with
    c0 + c1 = 1 that makes c0 g0 + c1 g1 least, then steps along that gradient from there."""
    objective, alpha = Quadratic(A, C), 0.05
    problem = identity_problem(objective)

    def run(k):
        return SOLVERS["anderson"](
            problem, np.zeros((1, 3)), learning_rate=alpha, max_iter=k, tol=0
        ).coef[0]

    x0 = np.zeros(3)
    g0 = A @ (x0 - C)
    x1 = x0 - alpha * g0
    np.testing.assert_allclose(run(1), x1, rtol=1e-15)
    g1 = A @ (x1 - C)
    c1 = g0 @ (g0 - g1) / ((g0 - g1) @ (g0 - g1))  # the least of ||g0 + c1 (g1 - g0)||
    x2 = (1 - c1) * x0 + c1 * x1 - alpha * ((1 - c1) * g0 + c1 * g1)
    np.testing.assert_allclose(run(2), x2, rtol=1e-9)  # the weights' ridge: 1e-10
    assert objective.calls == 3  # one pass per iteration


def test_anderson_ends_in_a_few_steps_on_a_quadratic():
    """On a quadratic in n = 3 unknowns the gradients of n + 1 points span everything:
    the combination of least gradient is the minimum (GMRES's finite termination).
    Four gradients in 3-D are linearly dependent, which the weights' ridge resolves
    only approximately: the fifth iteration's update lands on the minimum to rounding.
    Constant-step descent is still far off."""
    problem = identity_problem(Quadratic(A, C))
    kw = dict(learning_rate=0.05, max_iter=5, tol=0)
    anderson = SOLVERS["anderson"](problem, np.zeros((1, 3)), **kw)
    np.testing.assert_allclose(anderson.coef[0], C, rtol=1e-12)
    plain = SOLVERS["gd"](problem, np.zeros((1, 3)), **kw)
    assert np.max(np.abs(plain.coef[0] - C)) > 0.1


def test_anderson_restarts_when_the_objective_rises():
    """A step too long makes J rise: the memory is cleared, and the update that follows
    is the plain gradient step from the point where J rose (read off the callback)."""

    class Record:
        models, steps = [], []

        def begin(self, k):
            pass

        def end(self, k, model, F, residual, step):
            self.models.append(model[0].copy())
            self.steps.append(step)

    A2 = np.diag([1.0, 100.0, 1e4])
    problem = identity_problem(Quadratic(A2, C))
    rec = Record()
    res = SOLVERS["anderson"](
        problem,
        np.zeros((1, 3)),
        learning_rate=None,
        max_iter=300,
        tol=1e-9,
        step0=1.0,
        callback=rec,
    )
    assert res.converged
    np.testing.assert_allclose(res.coef[0], C, atol=1e-8)
    rises = np.flatnonzero(np.diff(res.loss_curve) > 0) + 1
    assert len(rises)  # the first step (1.0 against 1 / L = 1e-4) overshoots by far
    for k in rises:
        x = rec.models[k - 1]  # the point iteration k took its gradient at
        plain = x - rec.steps[k] * (A2 @ (x - C))  # the step the callback reports
        np.testing.assert_allclose(rec.models[k], plain, rtol=1e-12)


def test_penalty_prox_value_and_subgradient():
    pen = L1Penalty(2.0, np.array([1.0, 0.5, 0.0]))  # the last column: an intercept
    v = np.array([[3.0, -0.5, 7.0]])
    np.testing.assert_allclose(pen.prox(v, 1.0), [[1.0, 0.0, 7.0]])
    assert pen.value(v) == pytest.approx(2.0 * 3.0 + 1.0 * 0.5)
    g = np.array([[0.5, -3.0, 0.25]])
    at = np.array([[0.0, 0.0, 1.0]])
    # at 0: the point of g + [-t, t] nearest 0; elsewhere g + t sign(v)
    np.testing.assert_allclose(pen.min_norm_subgradient(at, g), [[0.0, -2.0, 0.25]])
    np.testing.assert_allclose(pen.min_norm_subgradient(v, g), [[2.5, -4.0, 0.25]])


def test_penalty_strengths_scale_with_the_weight_sum():
    assert _penalty.strengths(np.inf, 0.5, 10.0) == (0.0, 0.0)
    l1, l2 = _penalty.strengths(2.0, 0.25, 10.0)
    assert l1 == pytest.approx(0.25 / 20) and l2 == pytest.approx(0.75 / 20)


def test_data_term_attributes():
    data = InMemoryData(np.zeros((4, 3), np.float32), np.array([0, 1, 2, 1]), np.ones(4), 3, True)
    assert isinstance(data, DataTerm)
    assert (data.n_outputs, data.n_features, data.dtype) == (3, 3, np.float32)
    assert Objective(data, 0.0).coef_shape == (3, 4)


def test_solve_carries_a_short_step_across_renewed_coordinates():
    """A change of coordinates starts at step 1, a renewal of the same kind at min(step, 1)."""

    class Renewed(Standardization):
        """Coordinates of another kind than the first ones (as whitening is)."""

    steps_out = iter([0.25, 0.25, 3.0, 0.5])
    steps_in = []

    def fake_solver(problem, coef, *, learning_rate, max_iter, tol, step0, callback):
        steps_in.append(step0)
        return Result(coef=coef, n_iter=max_iter, loss_curve=[1.0] * max_iter, step=next(steps_out))

    def recondition(theta):
        return Renewed(np.zeros(3), np.ones(3), False)

    problem = identity_problem(Quadratic(A, C))
    res = solve(
        fake_solver,
        problem,
        np.zeros((1, 3)),
        learning_rate=None,
        max_iter=8,
        tol=0,
        step0=0.5,
        recondition=recondition,
        every=2,
    )
    assert res.n_iter == 8
    assert steps_in == [0.5, 1.0, 0.25, 1.0]


def test_solve_skips_a_renewal_a_few_iterations_from_the_stop_but_never_two():
    """A run ending within RENEW_ABOVE * tol goes on in its coordinates (a renewal costs
    more than the iterations it could save there), but the next run renews again."""
    from sk_gdlogreg._solvers import RENEW_ABOVE

    tol = 1e-4
    residuals = iter(np.array([50.0, 5.0, 5.0, 5.0, 50.0, 5.0]) * RENEW_ABOVE * tol / 10)
    renewals = []
    F = iter(np.linspace(2.0, 1.0, 12))  # going down: no stop for lack of progress

    def fake_solver(problem, coef, *, learning_rate, max_iter, tol, step0, callback):
        curve = [next(F) for _ in range(max_iter)]
        return Result(coef=coef, n_iter=max_iter, loss_curve=curve, step=1.0,
                      residual=next(residuals))  # fmt: skip

    def recondition(theta):
        renewals.append(len(renewals))
        return Standardization(np.zeros(3), np.ones(3), False)

    problem = identity_problem(Quadratic(A, C))
    res = solve(fake_solver, problem, np.zeros((1, 3)), learning_rate=None, max_iter=12,
                tol=tol, recondition=recondition, every=2)  # fmt: skip
    assert res.n_iter == 12
    # after each run but the last: renew (50), skip (5), renew (5, skipped before),
    # skip (5), renew (50)
    assert len(renewals) == 3


def _fits_alike(a, b):
    return a.n_iter_ == b.n_iter_ and np.array_equal(a.coef_, b.coef_)


def test_auto_takes_anderson_where_the_coordinates_stay_diagonal():
    """Automatic steps: Anderson on the diagonal path (here more coefficients than half
    the rows: no curvature matrix) and with one whitening matrix per class (digits, 10
    classes); Nesterov where the whole curvature whitens (binary breast cancer) or with
    an L1 term; plain descent with a constant learning rate."""
    from sklearn.datasets import load_breast_cancer, load_digits, make_classification

    from sk_gdlogreg import GDLogisticRegression as GD

    wide = make_classification(300, 200, n_informative=20, random_state=0)
    digits = load_digits(return_X_y=True)
    bc = load_breast_cancer(return_X_y=True)
    cases = [
        (wide, {}, "anderson"),
        (digits, {}, "anderson"),
        (bc, {}, "nesterov"),
        (wide, dict(l1_ratio=1.0, C=0.1), "nesterov"),
        (wide, dict(learning_rate=0.1), "gd"),
    ]
    for (X, y), params, expected in cases:
        kw = dict(max_iter=30, tol=0, **params)
        with pytest.warns(Warning):  # tol=0: max_iter is reached
            auto = GD(**kw).fit(X, y)
            solvers = ("gd", "nesterov") if "l1_ratio" in params else ("gd", "nesterov", "anderson")
            others = {s: GD(solver=s, **kw).fit(X, y) for s in solvers}
        assert [s for s, est in others.items() if _fits_alike(auto, est)] == [expected]


def test_anderson_refuses_an_l1_term():
    from sk_gdlogreg import GDLogisticRegression as GD

    X, y = np.random.default_rng(0).standard_normal((40, 3)), np.arange(40) % 2
    with pytest.raises(ValueError, match="solver='anderson' takes no L1 term"):
        GD(solver="anderson", l1_ratio=0.5).fit(X, y)
    GD(solver="anderson", l1_ratio=0.5, C=np.inf).fit(X, y)  # no penalty: no L1 term
