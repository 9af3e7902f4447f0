"""Gradient descent and its accelerated form, with step sizes and stopping.

Every solver minimizes F = J + h, J smooth (``problem.loss_grad``, the cost with
its L2 term) and h the L1 penalty (``problem.penalty``), by proximal gradient
steps

    coef := prox_h(coef - step * grad, step)

which, with no L1 term, is the lecture's update ``w := w - alpha * dw``: with a
constant ``learning_rate`` and no change of coordinates, exactly that. Solvers
know nothing of labels, classes or scikit-learn: they see a ``Problem``.

One *iteration* is one evaluation of J and its gradient (the lecture's forward
and backward pass), then either a stop or an update. ``loss_curve[k]`` is F at
the point where iteration k took the gradient, so the loss curve is a
by-product of solving and costs nothing extra. ``callback(k, model, F,
residual, step)``, if given, is called at every iteration; ``model()`` gives the
raw coefficients that a stop at that moment would return. A true return value
stops the solver.

Step sizes:

- a constant ``learning_rate`` is used as given, on the coordinates given;
- ``learning_rate=None`` ("auto"), plain descent: the Barzilai-Borwein step
  as a first trial, then backtracking on the proximal sufficient-decrease
  condition ``J(new) <= J(coef) + grad.(new - coef) + ||new - coef||^2 / (2 step)``,
  which guarantees F(new) <= F(coef); a rejected trial costs one pass over the data.
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
    objective : Objective
        ``loss_grad(theta) -> (J, grad)`` on raw coefficients ``theta``.
    l1 : float
        Strength of the L1 term on the feature columns (not the intercept).
    coords : Standardization
        The coordinates the solver moves in (``theta = coords.to_raw(coef)``).
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
        if not l1:
            return L1Penalty(0.0, 0.0, xp)
        weights = 1 / coords.scale
        if coords.fit_intercept:
            weights = xp.concat([weights, xp.zeros_like(weights[:1])])
        return L1Penalty(l1, weights, xp)

    def dot(self, a, b):
        return float(np.vdot(a, b)) if self.xp is np else float(self.xp.sum(a * b))

    def all_finite(self, a):
        return bool(self.xp.all(self.xp.isfinite(a)))

    def loss_grad(self, coef):
        """J and its gradient at ``coef``, both in the solver's coordinates."""
        J, grad = self.objective.loss_grad(self.coords.to_raw(coef))
        return J, self.coords.grad_from_raw(grad)

    def residual(self, coef, grad):
        """Largest entry of the minimum-norm subgradient of F, in tol_coords."""
        if self.tol_coords is not self.coords:
            theta, grad_theta = self.coords.to_raw(coef), self.coords.grad_to_raw(grad)
            coef, grad = self.tol_coords.from_raw(theta), self.tol_coords.grad_from_raw(grad_theta)
        xp = self.xp
        return float(xp.max(xp.abs(self.tol_penalty.min_norm_subgradient(coef, grad))))


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


def _record_and_test(res, problem, k, F, point, grad, tol, callback, model, step):
    """An iteration's book-keeping, shared by the solvers: True when they must stop.

    Records F (taken at ``point``, with gradient ``grad``) and the optimality
    residual there, calls the callback with the current ``model``, and tests
    the tolerance.
    """
    res.loss_curve.append(F)
    res.n_iter, res.residual = k + 1, problem.residual(point, grad)
    if callback is not None and callback(
        k, lambda: problem.coords.to_raw(model), F, res.residual, step
    ):
        res.stopped = "callback"
        return True
    res.converged = res.residual <= tol
    return res.converged


def _slack(problem, J):
    """Rounding error allowed in a comparison of two values of J."""
    return 16 * problem.eps * abs(J)


def _sufficient_decrease(problem, J, grad, J_new, move, step):
    decrease = problem.dot(grad, move) + problem.dot(move, move) / (2 * step)
    return J_new <= J + decrease + _slack(problem, J)


def gradient_descent(problem, coef, *, learning_rate, max_iter, tol, step0=1.0, callback=None):
    """(Proximal) gradient descent: constant steps, or Barzilai-Borwein + backtracking.

    With ``learning_rate=None`` F never increases (up to rounding error).
    """
    res = Result(coef=coef)
    penalty = problem.penalty
    step = step0 if learning_rate is None else learning_rate
    J, grad = problem.loss_grad(coef)  # forward and backward pass
    previous = coef
    for k in range(max_iter):
        F = J + penalty.value(coef)
        if not math.isfinite(F):  # a constant step too large: keep the last finite point
            coef, res.stopped = previous, "diverged"
            break
        if _record_and_test(res, problem, k, F, coef, grad, tol, callback, coef, step):
            break
        if learning_rate is not None:
            if k and F > res.loss_curve[-2] + _slack(problem, F) and res.increased_at is None:
                res.increased_at = k
            new = penalty.prox(coef - step * grad, step)  # the update: w := w - alpha dw
            if not problem.all_finite(new):
                res.stopped = "diverged"
                break
            if k + 1 < max_iter:  # no pass is wasted after the last update
                J, grad = problem.loss_grad(new)
        else:
            for _ in range(MAX_BACKTRACKS):
                new = penalty.prox(coef - step * grad, step)
                J_new, grad_new = problem.loss_grad(new)
                if _sufficient_decrease(problem, J, grad, J_new, new - coef, step):
                    break
                step /= 2
            else:
                res.stopped = "line search"
                break
            step = _bb_step(problem, new - coef, grad_new - grad, step)
            J, grad = J_new, grad_new
        previous, coef = coef, new
    res.coef = coef
    return res


def _bb_step(problem, move, grad_change, step):
    """The short Barzilai-Borwein step s.y / y.y, for the last move s and gradient change y.

    It is the step that fits the secant equation step * y ~ s best; a
    non-positive curvature estimate doubles the step instead.
    """
    sy = problem.dot(move, grad_change)
    if sy <= 0:
        return 2 * step
    return sy / problem.dot(grad_change, grad_change)


def nesterov(problem, coef, *, learning_rate, max_iter, tol, step0=1.0, callback=None):
    """Accelerated proximal gradient (FISTA) with adaptive restart.

    Each iteration takes the gradient at a point ``ahead`` of the current
    iterate ``coef``, extrapolated along the last move with a momentum
    ``(t_k - 1) / t_{k+1}``, and steps from there. The momentum is reset when F
    went up or when it points against the last step (O'Donoghue & Candes'
    restarts), which recovers the linear convergence plain FISTA loses on
    strongly convex problems. With ``learning_rate=None`` the step is 1/L,
    L = ||g(ahead_k) - g(ahead_{k-1})|| / ||ahead_k - ahead_{k-1}||, the
    curvature seen between the last two points; two rises of F in a row halve
    the step, a safeguard against an estimate that is too small.
    """
    res = Result(coef=coef)
    penalty = problem.penalty
    ahead, t = coef, 1.0
    step = step0 if learning_rate is None else learning_rate
    ahead_prev = grad_prev = None
    rises = 0
    for k in range(max_iter):
        J, grad = problem.loss_grad(ahead)  # forward and backward pass
        F = J + penalty.value(ahead)
        if not math.isfinite(F):  # a constant step too large: keep the last finite point
            res.stopped = "diverged"
            break
        # the model so far is coef, what a stop by the callback returns; F is at ahead
        if _record_and_test(res, problem, k, F, ahead, grad, tol, callback, coef, step):
            if res.converged:
                coef = ahead
            break
        rose = k > 0 and F > res.loss_curve[-2] + _slack(problem, F)
        rises = rises + 1 if rose else 0
        if learning_rate is not None:
            if F > res.loss_curve[0] + _slack(problem, F) and res.increased_at is None:
                res.increased_at = k
        elif ahead_prev is not None:
            move, grad_change = ahead - ahead_prev, grad - grad_prev
            move2, change2 = problem.dot(move, move), problem.dot(grad_change, grad_change)
            if move2 > 0 and change2 > 0:
                step = _bb_step(problem, move, grad_change, step)
            if rises >= 2:
                step /= 2
        new = penalty.prox(ahead - step * grad, step)  # the update, from ahead
        if not problem.all_finite(new):
            res.stopped = "diverged"
            break
        t_new = (1 + math.sqrt(1 + 4 * t**2)) / 2
        if rose or problem.dot(ahead - new, new - coef) > 0:  # restart the momentum
            ahead_next, t_new = new, 1.0
        else:
            ahead_next = new + ((t - 1) / t_new) * (new - coef)
        ahead_prev, grad_prev = ahead, grad
        coef, ahead, t = new, ahead_next, t_new
    res.coef = coef
    return res


SOLVERS = {"gd": gradient_descent, "nesterov": nesterov}


def solve(solver, problem, theta, *, learning_rate, max_iter, tol, step0=1.0, callback=None,
          recondition=None, every=None):
    """Run ``solver`` from raw coefficients ``theta``, changing coordinates as it goes.

    Without ``recondition``, one run. With it, the solver runs ``every``
    iterations at a time; after each run that has not finished,
    ``recondition(theta)`` gives a new ``Problem`` (new coordinates, from the
    curvature at the current point) or None to go on as before, and the solver
    starts again from where it was. The loss curve, the iteration count and
    the callback's iteration numbers run on across the runs.
    """
    total = Result(coef=theta)
    done = 0
    while True:
        budget = max_iter - done if recondition is None else min(every, max_iter - done)
        offset = done

        def shifted(k, *args):
            return callback(offset + k, *args)

        res = solver(problem, problem.coords.from_raw(theta), learning_rate=learning_rate,
                     max_iter=budget, tol=tol, step0=step0,
                     callback=None if callback is None else shifted)
        theta = problem.coords.to_raw(res.coef)
        if res.increased_at is not None and total.increased_at is None:
            total.increased_at = offset + res.increased_at
        total.loss_curve += res.loss_curve
        total.n_iter = done = done + res.n_iter
        total.residual, total.converged, total.stopped = res.residual, res.converged, res.stopped
        if res.converged or res.stopped or done >= max_iter or recondition is None:
            break
        new = recondition(theta)
        if new is not None:
            problem, step0 = new, 1.0

    total.coef = theta
    return total
