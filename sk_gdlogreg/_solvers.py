"""Gradient descent and its accelerated form, with step sizes and stopping.

Every solver minimizes F(v) = J(v) + h(v), J smooth (``problem.loss_grad``) and h
the L1 penalty (``problem.penalty``), by proximal gradient steps

    v := prox_h(v - t * dJ/dv, t)

which, with no L1 term, is the lecture's update ``w := w - alpha * dw``. Solvers
know nothing of labels, classes or scikit-learn: they see a ``Problem``.

One *iteration* is one evaluation of J and its gradient (the lecture's forward
and backward pass), then either a stop or an update. ``loss_curve[k]`` is F at
the point where iteration k took the gradient, so the loss curve is a
by-product of solving and costs nothing extra. ``callback(k, v, F, residual,
step)``, if given, is called at every iteration with the model ``v`` that a stop
at that moment would return; a true return value stops the solver.

Step sizes:

- a constant ``learning_rate`` is used as given, on the coordinates given;
- ``learning_rate=None`` ("auto"), plain descent: the Barzilai-Borwein step
  as a first trial, then backtracking on the proximal sufficient-decrease
  condition ``J(v+) <= J(v) + g.(v+ - v) + ||v+ - v||^2 / (2 t)``, which
  guarantees F(v+) <= F(v); a rejected trial costs one pass over the data.
- ``learning_rate=None``, accelerated: the step is 1/L for a running secant
  estimate L of the local Lipschitz constant of the gradient, taken from the
  gradients the iterations compute anyway: one pass per iteration, no line
  search. Restarts guard it (see ``nesterov``).

Which rules are here was decided by measurement (``benchmarks/``): on
standardized problems, short BB steps (BB2) needed fewer passes than the long
ones, their alternation, or growing-step backtracking; the secant-tracked
accelerated method needed up to twice fewer passes than BB2 descent.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from ._penalty import L1Penalty

# Halvings of the step before the line search gives up (the decrease is then
# below rounding error: there is nothing left to gain).
MAX_BACKTRACKS = 60


class Problem:
    """F = J + h in the solver's coordinates, and how optimality is measured.

    Parameters
    ----------
    objective : object with ``loss_grad(theta) -> (J, grad)`` on raw coefficients.
    l1 : float
        Strength of the L1 term on the feature columns (not the intercept).
    coords : Standardization
        The coordinates the solver moves in (``theta = coords.to_raw(v)``).
    tol_coords : Standardization
        The standardized coordinates in which the optimality residual is
        measured, whatever ``coords`` are, so that ``tol`` is unit-free.
    """

    def __init__(self, objective, l1, coords, tol_coords):
        self.objective = objective
        self.coords, self.tol_coords = coords, tol_coords
        self.xp = objective.xp
        self.penalty = self._l1_in(coords, l1)
        self.tol_penalty = self._l1_in(tol_coords, l1)
        self.eps = float(self.xp.finfo(objective.dtype).eps)

    def _l1_in(self, coords, l1):
        xp = self.xp
        weights = 1 / coords.scale
        if coords.fit_intercept:
            weights = xp.concat([weights, xp.zeros_like(weights[:1])])
        return L1Penalty(l1, weights, xp)

    def dot(self, a, b):
        return float(np.vdot(a, b)) if self.xp is np else float(self.xp.sum(a * b))

    def all_finite(self, a):
        return bool(self.xp.all(self.xp.isfinite(a)))

    def loss_grad(self, v):
        J, g = self.objective.loss_grad(self.coords.to_raw(v))
        return J, self.coords.grad_from_raw(g)

    def residual(self, v, g):
        """Largest entry of the minimum-norm subgradient of F, in tol_coords."""
        if self.tol_coords is not self.coords:
            v, g = self.coords.to_raw(v), self.coords.grad_to_raw(g)
            v, g = self.tol_coords.from_raw(v), self.tol_coords.grad_from_raw(g)
        xp = self.xp
        return float(xp.max(xp.abs(self.tol_penalty.min_norm_subgradient(v, g))))


@dataclass
class Result:
    coef: np.ndarray
    n_iter: int = 0
    loss_curve: list = field(default_factory=list)
    residual: float = math.inf
    converged: bool = False
    # the first iteration at which a constant step made F go up, if any
    increased_at: int | None = None
    # why the solver stopped early without converging, if it did
    stopped: str | None = None


def _record_and_test(res, problem, k, F, point, g, tol, callback, model, step):
    """An iteration's book-keeping, shared by the solvers: True when they must stop.

    Records F (taken at ``point``, with gradient ``g``) and the optimality
    residual there, calls the callback with the current ``model``, and tests
    the tolerance.
    """
    res.loss_curve.append(F)
    res.n_iter, res.residual = k + 1, problem.residual(point, g)
    if callback is not None and callback(k, model, F, res.residual, step):
        res.stopped = "callback"
        return True
    res.converged = res.residual <= tol
    return res.converged


def _slack(problem, J):
    """Rounding error allowed in a comparison of two values of J."""
    return 16 * problem.eps * abs(J)


def _sufficient_decrease(problem, J, g, J_new, d, t):
    return J_new <= J + problem.dot(g, d) + problem.dot(d, d) / (2 * t) + _slack(problem, J)


def gradient_descent(problem, v, *, learning_rate, max_iter, tol, step0=1.0, callback=None):
    """Proximal gradient descent: constant steps, or Barzilai-Borwein + backtracking.

    With ``learning_rate=None`` F never increases (up to rounding error).
    """
    res = Result(coef=v)
    penalty = problem.penalty
    J, g = problem.loss_grad(v)
    t = step0 if learning_rate is None else learning_rate
    v_prev = v
    for k in range(max_iter):
        F = J + penalty.value(v)
        if not math.isfinite(F):  # a constant step too large: keep the last finite point
            v, res.stopped = v_prev, "diverged"
            break
        if _record_and_test(res, problem, k, F, v, g, tol, callback, v, t):
            break
        if learning_rate is not None:
            if k and F > res.loss_curve[-2] + _slack(problem, F) and res.increased_at is None:
                res.increased_at = k
            v_new = penalty.prox(v - t * g, t)
            if not problem.all_finite(v_new):
                res.stopped = "diverged"
                break
            if k + 1 < max_iter:  # no pass is wasted after the last update
                J, g = problem.loss_grad(v_new)
        else:
            for _ in range(MAX_BACKTRACKS):
                v_new = penalty.prox(v - t * g, t)
                J_new, g_new = problem.loss_grad(v_new)
                if _sufficient_decrease(problem, J, g, J_new, v_new - v, t):
                    break
                t /= 2
            else:
                res.stopped = "line search"
                break
            t = _bb_step(problem, v_new - v, g_new - g, t)
            J, g = J_new, g_new
        v_prev, v = v, v_new
    res.coef = v
    return res


def _bb_step(problem, s, y, t):
    """The short Barzilai-Borwein step s.y / y.y from the last move s and gradient change y.

    It is the step that fits the secant equation t*y ~ s best; a non-positive
    curvature estimate doubles the step instead.
    """
    sy = problem.dot(s, y)
    if sy <= 0:
        return 2 * t
    return sy / problem.dot(y, y)


def nesterov(problem, v, *, learning_rate, max_iter, tol, step0=1.0, callback=None):
    """Accelerated proximal gradient (FISTA) with adaptive restart.

    The gradient is taken at the extrapolated point y. Momentum is reset when F
    went up or when it points against the last step (O'Donoghue & Candes'
    restarts), which recovers the linear convergence plain FISTA loses on
    strongly convex problems. With ``learning_rate=None`` the step is 1/L,
    L = ||g(y_k) - g(y_{k-1})|| / ||y_k - y_{k-1}||, the curvature seen between
    the last two points; two rises of F in a row double L, a safeguard against
    an estimate that is too small.
    """
    res = Result(coef=v)
    penalty = problem.penalty
    x, y, theta = v, v, 1.0
    t = step0 if learning_rate is None else learning_rate
    y_prev = g_prev = None
    rises = 0
    for k in range(max_iter):
        J, g = problem.loss_grad(y)
        F = J + penalty.value(y)
        if not math.isfinite(F):  # a constant step too large: keep the last finite point
            res.stopped = "diverged"
            break
        # the model so far is x, what a stop by the callback returns; F is J(y)
        if _record_and_test(res, problem, k, F, y, g, tol, callback, x, t):
            if res.converged:
                x = y
            break
        rose = k > 0 and F > res.loss_curve[-2] + _slack(problem, F)
        rises = rises + 1 if rose else 0
        if learning_rate is not None:
            if F > res.loss_curve[0] + _slack(problem, F) and res.increased_at is None:
                res.increased_at = k
        elif y_prev is not None:
            dy, dg = y - y_prev, g - g_prev
            dy2, dg2 = problem.dot(dy, dy), problem.dot(dg, dg)
            if dy2 > 0 and dg2 > 0:
                t = math.sqrt(dy2 / dg2)
            if rises >= 2:
                t /= 2
        x_new = penalty.prox(y - t * g, t)
        if not problem.all_finite(x_new):
            res.stopped = "diverged"
            break
        theta_new = (1 + math.sqrt(1 + 4 * theta**2)) / 2
        if rose or problem.dot(y - x_new, x_new - x) > 0:  # restart the momentum
            y_next, theta_new = x_new, 1.0
        else:
            y_next = x_new + ((theta - 1) / theta_new) * (x_new - x)
        y_prev, g_prev = y, g
        x, y, theta = x_new, y_next, theta_new
    res.coef = x
    return res


SOLVERS = {"gd": gradient_descent, "nesterov": nesterov}
