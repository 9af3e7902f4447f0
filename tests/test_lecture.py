"""sk_gdlogreg.lecture: hand-computed updates, the loops against the vectorized code and
the reference J, the estimator's loop modes equal to its vectorized path; and the input
checks (one per kind of bad input, each message naming the problem, run once per call) and
gradient_descent's warning when J goes up."""

import math
import re
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


@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
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


# ---------------------------------------------------------------- input checks
def _with(**changes):
    """gradient_descent's arguments on the lecture's example, with some changed."""
    arguments = dict(X=X_LECTURE, y=Y_LECTURE, learning_rate=0.1, n_iter=3, loop_mode=None)
    return {**arguments, **changes}


def _X_with(value):
    X = X_LECTURE.copy()
    X[2, 1] = value
    return X


@pytest.mark.parametrize(
    "changes, error, match",
    [
        (dict(X=_X_with(np.nan)), ValueError, "Input X contains NaN"),
        (dict(X=_X_with(np.inf)), ValueError, "Input X contains infinity"),
        (dict(X=X_LECTURE[:, 0]), ValueError, "Expected 2D array, got 1D array"),
        (dict(X=[["a", "b"]] * 4), ValueError, "X must hold real numbers .* such as 'a'"),
        (dict(y=[-1, 1, 1, -1]), ValueError, r"labels \[-1, 1\], but the lecture's .* 0 and 1"),
        (dict(y=[0.0, 1.0, np.nan, 1.0]), ValueError, "Input y contains NaN"),
        (dict(y=[1, 1, 1, 1]), ValueError, "only the label 1: .* needs examples of both"),
        (dict(y=Y_LECTURE[:3]), ValueError, "y has 3 labels, but X has 4 rows"),
        (dict(y=np.c_[Y_LECTURE, Y_LECTURE]), ValueError, r"y should be a 1d array.*\(4, 2\)"),
        (dict(learning_rate=-0.1), ValueError, r"learning_rate \(the step alpha\) .* > 0"),
        (dict(learning_rate=0), ValueError, r"learning_rate .* > 0, got 0"),
        (dict(learning_rate=np.nan), ValueError, "learning_rate .* finite number > 0, got nan"),
        (dict(learning_rate=np.inf), ValueError, "learning_rate .* finite number > 0, got inf"),
        (dict(learning_rate="fast"), TypeError, "learning_rate .* real number, got 'fast'"),
        (dict(n_iter=-1), ValueError, "n_iter == -1, must be >= 0"),
        (dict(n_iter=2.5), TypeError, "n_iter must be an instance of int, not float"),
        (dict(loop_mode="loops"), ValueError, r"loop_mode must be one of \[None, 'examples', "),
        (dict(loop_mode=["full"]), ValueError, r"loop_mode must be one of .* got \['full'\]"),
    ],
)
def test_gradient_descent_names_bad_input(changes, error, match):
    with pytest.raises(error, match=match):
        lecture.gradient_descent(**_with(**changes))


def test_gradient_descent_reads_lists_as_arrays():
    w, b, costs = lecture.gradient_descent(X_LECTURE.tolist(), Y_LECTURE.tolist(), 0.7, 4)
    w0, b0, costs0 = lecture.gradient_descent(X_LECTURE, Y_LECTURE, 0.7, 4)
    np.testing.assert_array_equal(w, w0)
    assert (b, costs) == (b0, costs0)


W0 = np.zeros(2)


@pytest.mark.parametrize(
    "function, arguments, match",
    [
        ("forward", (X_LECTURE, np.zeros(3), 0.0), r"w must have shape \(2,\), one weight per"),
        ("forward", (X_LECTURE, [0.0, np.inf], 0.0), "Input w contains infinity"),
        ("forward", (X_LECTURE, W0, np.nan), "Input b contains NaN"),
        ("forward", (X_LECTURE, W0, [0.0, 1.0]), "b must hold one number per row of w"),
        ("cost", (np.zeros((4, 1)), Y_LECTURE), "z must be 1-D, one logit per example"),
        ("cost", (np.zeros(4), [0, 1, 2, 1]), r"labels \[0, 1, 2\], but the lecture's .* 0 and 1"),
        ("backward", (X_LECTURE, np.full(4, 2.0), Y_LECTURE), r"probabilities in \[0, 1\]"),
        ("backward", (X_LECTURE, np.full(3, 0.5), Y_LECTURE), r"a must have shape \(4,\)"),
        ("update", (W0, 0.0, np.zeros(3), 0.0, 0.1), r"dw must have the shape of w, \(2,\)"),
        ("update", (W0, 0.0, W0, np.nan, 0.1), "Input db contains NaN"),
        ("update", (W0, 0.0, W0, 0.0, -1.0), r"learning_rate .* > 0, got -1.0"),
        ("cost_and_gradients", (X_LECTURE, Y_LECTURE[:3], W0, 0.0), "y has 3 labels, but X has 4"),
        ("cost_and_gradients", (X_LECTURE, Y_LECTURE, np.zeros((1, 2)), 0.0), r"shape \(2,\)"),
    ],
)
def test_lecture_functions_name_bad_input(function, arguments, match):
    with pytest.raises(ValueError, match=match):
        getattr(lecture, function)(*arguments)


LOOP_FUNCTIONS = [lecture.cost_and_gradients_examples_loop, lecture.cost_and_gradients_full_loops]


@pytest.mark.parametrize("loops", LOOP_FUNCTIONS)
@pytest.mark.parametrize(
    "y, w, b, sample_weight, match",
    [
        ([0, 1, 3, 2], np.zeros((3, 2)), np.zeros(3), None, r"w of 3 rows .* class indices 0 to 2"),
        (
            [0, 1, 2, 1],
            np.zeros((3, 2)),
            np.zeros(2),
            None,
            r"b must hold one number per row of w \(3",
        ),
        ([-1, 1, 1, -1], W0, 0.0, None, r"labels \[-1, 1\], but the lecture's labels are 0 and 1"),
        (
            Y_LECTURE,
            np.zeros((3, 3)),
            np.zeros(3),
            None,
            r"w must have shape \(2,\), .* or \(K, 2\)",
        ),
        (Y_LECTURE, W0, 0.0, [1.0, np.inf, 1.0, 1.0], "Input sample_weight contains infinity"),
        (Y_LECTURE, W0, 0.0, [1.0, 1.0, 1.0], r"sample_weight.shape == \(3,\), expected \(4,\)"),
        (Y_LECTURE, W0, 0.0, [1.0, -1.0, 1.0, 1.0], "Negative values .* `sample_weight`"),
        (Y_LECTURE, W0, 0.0, np.zeros(4), "Sample weights must contain at least one non-zero"),
    ],
)
def test_loops_name_bad_input(loops, y, w, b, sample_weight, match):
    with pytest.raises(ValueError, match=match):
        loops(X_LECTURE, y, w, b, sample_weight=sample_weight)


@pytest.mark.parametrize("loops", LOOP_FUNCTIONS)
def test_loops_take_float_class_indices(loops):
    rng = np.random.default_rng(3)
    X, y, s = random_problem(rng, 3)
    w, b = rng.normal(size=(3, X.shape[1])), rng.normal(size=3)
    J, dw, db = loops(X.tolist(), y.astype(float), w.tolist(), b.tolist(), s.tolist())
    J0, dw0, db0 = loops(X, y, w, b, s)
    assert J == J0
    np.testing.assert_array_equal(dw, dw0)
    np.testing.assert_array_equal(db, db0)


def _counting_check_array(monkeypatch):
    """Count the calls of check_array, the one check that reads all of X."""
    from sk_gdlogreg import _lecture_checks

    calls = []
    check_array = _lecture_checks.check_array

    def counting(*args, **kwargs):
        calls.append(kwargs.get("input_name"))
        return check_array(*args, **kwargs)

    monkeypatch.setattr(_lecture_checks, "check_array", counting)
    return calls


@pytest.mark.parametrize("loop_mode", [None, "examples", "full"])
def test_gradient_descent_checks_X_once_not_every_iteration(monkeypatch, loop_mode):
    calls = _counting_check_array(monkeypatch)
    lecture.gradient_descent(X_LECTURE, Y_LECTURE, 0.7, 20, loop_mode=loop_mode)
    assert calls == ["X"]
    lecture.cost_and_gradients(X_LECTURE, Y_LECTURE, W0, 0.0)  # forward, backward: no new check
    assert calls == ["X", "X"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter=5
def test_loop_mode_of_the_estimator_skips_the_lecture_checks(monkeypatch):
    calls = _counting_check_array(monkeypatch)
    GDLogisticRegression(loop_mode="full", max_iter=5).fit(X_LECTURE, Y_LECTURE)
    assert calls == []


# ------------------------------------------------------- J going up: a warning
def _breast_cancer(standardize):
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    return (StandardScaler().fit_transform(X) if standardize else X), y


def test_gradient_descent_warns_once_when_J_goes_up():
    X, y = _breast_cancer(standardize=False)
    with pytest.warns(ConvergenceWarning) as record:
        _, _, costs = lecture.gradient_descent(X, y, learning_rate=0.1, n_iter=100)
    assert max(costs) > 1000 * costs[0]  # J swings far above its start
    assert len(record) == 1
    message = str(record[0].message)
    assert re.match(r"J went up at iteration 1 \(from 0.693147 to [\d.e+]+\): ", message)
    assert "the learning rate alpha=0.1 is too large for this data" in message
    assert record[0].filename == __file__  # points at the call, not inside the package


def test_gradient_descent_says_when_J_overflows():
    X, y = _breast_cancer(standardize=False)
    # no RuntimeWarning from NumPy: the suite turns those into errors
    with pytest.warns(ConvergenceWarning, match=r"J became nan at iteration 1 .*alpha=1e\+306"):
        _, _, costs = lecture.gradient_descent(X, y, learning_rate=1e306, n_iter=5)
    assert math.isnan(costs[-1])


@pytest.mark.parametrize("loop_mode", [None, "examples"])
def test_gradient_descent_is_quiet_on_standardized_data(loop_mode):
    X, y = _breast_cancer(standardize=True)
    n_iter = 200 if loop_mode is None else 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, _, costs = lecture.gradient_descent(X, y, 0.1, n_iter, loop_mode=loop_mode)
    assert costs[-1] < costs[0]


def test_the_checked_loop_modes_are_the_loops():
    """The check of loop_mode lists the modes lecture.LOOPS has (kept apart: no import cycle)."""
    from sk_gdlogreg import _lecture_checks

    assert tuple(lecture.LOOPS) == _lecture_checks.LOOP_MODES
