"""sk_gdlogreg.lecture: hand-computed updates, the loops against the vectorized code and
the reference J, and the estimator's loop modes equal to its vectorized path."""

import math
import warnings

import numpy as np
import pytest
import reference
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from sk_gdlogreg import GDLogisticRegression, lecture

# The lecture's example: two features x1, x2, m examples.
X_LECTURE = np.array([[1.0, 2.0], [-1.0, 0.5], [0.5, -1.5], [2.0, 1.0]])
Y_LECTURE = np.array([1, 0, 0, 1])


def lecture_step(w1, w2, b, alpha):
    """One iteration of the lecture's algorithm, transcribed with plain Python floats."""
    J = dw1 = dw2 = db = 0.0
    m = len(Y_LECTURE)
    for (x1, x2), y in zip(X_LECTURE.tolist(), Y_LECTURE.tolist()):
        z = w1 * x1 + w2 * x2 + b
        a = 1 / (1 + math.exp(-z))
        J += -(y * math.log(a) + (1 - y) * math.log(1 - a))
        dz = a - y
        dw1 += x1 * dz
        dw2 += x2 * dz
        db += dz
    J, dw1, dw2, db = J / m, dw1 / m, dw2 / m, db / m
    return J, w1 - alpha * dw1, w2 - alpha * dw2, b - alpha * db


@pytest.mark.parametrize("loop_mode", [None, "examples", "full"])
def test_iterations_equal_the_lecture_update_by_hand(loop_mode):
    alpha, n_steps = 0.7, 3
    w1 = w2 = b = 0.0
    curve = []
    for _ in range(n_steps):
        J, w1, w2, b = lecture_step(w1, w2, b, alpha)
        curve.append(J)
    clf = GDLogisticRegression(
        learning_rate=alpha, C=np.inf, tol=0, max_iter=n_steps, loop_mode=loop_mode
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0 never converges
        clf.fit(X_LECTURE, Y_LECTURE)
    np.testing.assert_allclose(clf.coef_, [[w1, w2]], rtol=1e-13)
    np.testing.assert_allclose(clf.intercept_, [b], rtol=1e-13)
    np.testing.assert_allclose(clf.loss_curve_, curve, rtol=1e-13)
    assert clf.loss_curve_[0] == pytest.approx(math.log(2))
    assert clf.n_iter_ == n_steps


def random_problem(rng, K, m=30, d=4, sparse=False):
    X = rng.normal(size=(m, d))
    if sparse:
        X[X < 0.3] = 0
        X = sp.csr_matrix(X)
    y = rng.integers(0, 2 if K == 1 else K, size=m)
    return X, y, rng.uniform(0.2, 3, size=m)


def test_lecture_functions_by_hand():
    J, w1, w2, b = lecture_step(0.0, 0.0, 0.0, 0.7)
    w, b_ = np.zeros(2), 0.0
    z, a = lecture.forward(X_LECTURE, w, b_)
    assert lecture.cost(z, Y_LECTURE) == pytest.approx(J, rel=1e-15)
    dw, db = lecture.backward(X_LECTURE, a, Y_LECTURE)
    w, b_ = lecture.update(w, b_, dw, db, learning_rate=0.7)
    np.testing.assert_allclose(w, [w1, w2], rtol=1e-15)
    assert b_ == pytest.approx(b, abs=1e-15)
    assert lecture.sigmoid(0.0) == 0.5 and lecture.sigmoid(-1000.0) == 0.0


@pytest.mark.parametrize("loop_mode", [None, "examples", "full"])
def test_gradient_descent_equals_the_lecture_by_hand(loop_mode):
    w1 = w2 = b = 0.0
    costs = []
    for _ in range(4):
        J, w1, w2, b = lecture_step(w1, w2, b, 0.7)
        costs.append(J)
    w, b_, curve = lecture.gradient_descent(X_LECTURE, Y_LECTURE, 0.7, 4, loop_mode=loop_mode)
    np.testing.assert_allclose(w, [w1, w2], rtol=1e-13)
    assert b_ == pytest.approx(b, rel=1e-13)
    np.testing.assert_allclose(curve, costs, rtol=1e-13)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_loops_equal_the_reference(K, sparse):
    rng = np.random.default_rng(K)
    X, y, s = random_problem(rng, K, sparse=sparse)
    coef = rng.normal(size=(K, X.shape[1] + 1))
    J0, g0 = reference.data_term(X, y, s / s.sum(), coef, True)
    w, b = (coef[0, :-1], coef[0, -1]) if K == 1 else (coef[:, :-1], coef[:, -1])
    for loops in (lecture.cost_and_gradients_examples_loop, lecture.cost_and_gradients_full_loops):
        J, dw, db = loops(X, y, w, b, sample_weight=s)
        assert J == pytest.approx(J0, rel=1e-13)
        np.testing.assert_allclose(
            np.column_stack([np.atleast_2d(dw), np.atleast_1d(db)]), g0, rtol=1e-12, atol=1e-15
        )
    if K == 1 and not sparse:  # the vectorized lecture: unit weights
        J0, g0 = reference.data_term(X, y, np.full(len(y), 1 / len(y)), coef, True)
        J, dw, db = lecture.cost_and_gradients(X, y, w, b)
        assert J == pytest.approx(J0, rel=1e-13)
        np.testing.assert_allclose(np.append(dw, db), g0[0], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "params",
    [
        dict(learning_rate=0.3),
        dict(learning_rate=0.3, solver="nesterov", C=0.5, l1_ratio=0.5),
        dict(learning_rate=0.2, l1_ratio=1.0, C=2.0, fit_intercept=False),
        dict(learning_rate=0.3, class_weight="balanced"),
    ],
)
@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 40 iterations
def test_loop_modes_give_the_same_fit(params, K):
    rng = np.random.default_rng(7)
    X, y, s = random_problem(rng, K)
    fits = [
        GDLogisticRegression(loop_mode=mode, max_iter=40, tol=1e-6, **params).fit(
            X, y, sample_weight=s
        )
        for mode in (None, "examples", "full")
    ]
    for other in fits[1:]:
        assert other.n_iter_ == fits[0].n_iter_
        np.testing.assert_allclose(other.coef_, fits[0].coef_, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(other.intercept_, fits[0].intercept_, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(other.loss_curve_, fits[0].loss_curve_, rtol=1e-12)


@pytest.mark.parametrize("solver", ["gd", "nesterov"])
def test_loop_modes_agree_with_auto_steps_to_the_solver_tolerance(solver):
    rng = np.random.default_rng(8)
    X, y, _ = random_problem(rng, 3)
    ref = GDLogisticRegression(solver=solver, tol=1e-9, max_iter=5000).fit(X, y)
    for mode in ("examples", "full"):
        clf = GDLogisticRegression(solver=solver, tol=1e-9, max_iter=5000, loop_mode=mode)
        clf.fit(X, y)
        np.testing.assert_allclose(clf.coef_, ref.coef_, atol=1e-7)
        np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-8)


def test_loop_mode_keeps_float32():
    rng = np.random.default_rng(9)
    X, y, _ = random_problem(rng, 1)
    clf = GDLogisticRegression(loop_mode="full").fit(X.astype(np.float32), y)
    ref = GDLogisticRegression().fit(X.astype(np.float32), y)
    assert clf.coef_.dtype == np.float32
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-3, atol=1e-4)
