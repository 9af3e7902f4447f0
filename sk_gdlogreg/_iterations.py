"""The book-keeping every solver shares: its result, loss curve, stops and steps.

``_Iterations`` records each iteration's F and optimality residual, calls the
callback's hooks and decides the stops that do not depend on the algorithm
(converged, no progress, a callback's wish, overflow); ``_bb_step`` is the
Barzilai-Borwein step that every solver with automatic steps takes.
"""

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Result:
    coef: np.ndarray
    n_iter: int = 0
    loss_curve: list = field(default_factory=list)
    residual: float = math.inf
    converged: bool = False
    # the first iteration at which a plain gradient step (no momentum) with a
    # constant learning rate made F go up, if any: the sign of a step too long
    # for the curvature (a step below 2 / L never does), whatever the solver
    increased_at: int | None = None
    # why the solver stopped early without converging, if it did: "callback",
    # "diverged" (overflow: the last iterate with a finite F is kept), "line
    # search" or "no progress" (F and the coefficients stopped changing)
    stopped: str | None = None
    # the iteration at which J or the update overflowed, if one did
    diverged_at: int | None = None
    # the last point at which F was evaluated and finite (the final update of a
    # run that did not converge was never evaluated)
    finite: object = None
    # the automatic step of the last update (for a later run in such coordinates)
    step: float = math.nan


# Iterations in a row in which neither F nor the coefficients changed by more
# than rounding error, after which the solver stops: nothing more can be gained.
STALL_ITERATIONS = 10


class _Iterations:
    """The book-keeping every solver shares: loss curve, residual, callbacks, stops.

    ``callback``, if given, has ``begin(k)``, called before iteration k does any
    work, and ``end(k, model, F, residual, step)``, called after its update with
    the model a stop at that moment returns; a true return value of ``end``
    stops the solver.
    """

    def __init__(self, res, problem, tol, callback):
        self.res, self.problem, self.tol, self.callback = res, problem, tol, callback
        self.stalled = 0
        self.F = self.step = math.nan

    def begin(self, k):
        if self.callback is not None:
            self.callback.begin(k)

    def record(self, k, F, point, grad, step):
        """Records F (at ``point``, with gradient ``grad``); True when converged."""
        res = self.res
        res.loss_curve.append(F)
        res.n_iter, res.residual = k + 1, self.problem.residual(point, grad)
        self.F, self.step = F, step
        res.converged = res.residual <= self.tol
        return res.converged

    def rose(self, k, F, plain):
        """Notes iteration k's F if it went up from the last after a plain gradient step."""
        curve, res = self.res.loss_curve, self.res
        if plain and k and res.increased_at is None:
            if F > curve[-2] + _slack(self.problem, F):
                res.increased_at = k

    def progress(self, F, new, coef):
        """Counts iterations that changed neither F nor coef beyond rounding; True: stop."""
        curve = self.res.loss_curve
        if len(curve) > 1 and _unchanged(self.problem, curve[-2], F, coef, new):
            self.stalled += 1
        else:
            self.stalled = 0
        if self.stalled >= STALL_ITERATIONS:
            self.res.stopped = "no progress"
            return True
        return False

    def end(self, k, model):
        """The end of iteration k, ``model`` what a stop now returns; True: stop."""
        if self.callback is not None and self.callback.end(
            k, self.problem.coords.to_raw(model), self.F, self.res.residual, self.step
        ):
            if self.res.stopped is None and not self.res.converged:
                self.res.stopped = "callback"
            return True
        return False

    def diverged(self, k):
        self.res.stopped, self.res.diverged_at = "diverged", k

    def overflowed(self, k, finite):
        """Iteration k overflowed: the stop is recorded and the iteration ends at
        ``finite``, the last point at which F was finite, which is returned."""
        self.diverged(k)
        self.end(k, finite)
        return finite


def _slack(problem, J):
    """Rounding error allowed in a comparison of two values of J."""
    return 16 * problem.eps * abs(J)


def _unchanged(problem, F_old, F_new, old, new):
    """Whether neither F nor the coefficients changed by more than rounding error: the
    one test of no progress, within a run (``_Iterations.progress``) and across runs."""
    xp = problem.xp
    if abs(F_new - F_old) > _slack(problem, F_old):
        return False
    return float(xp.max(xp.abs(new - old))) <= 16 * problem.eps * float(xp.max(xp.abs(old)))


def _bb_step(problem, move, grad_change, step):
    """The short Barzilai-Borwein step s.y / y.y, for the last move s and gradient change y.

    It is the step that fits the secant equation step * y ~ s best; a
    non-positive curvature estimate doubles the step instead, and a gradient
    that did not change (y = 0: nothing to estimate from) keeps it.
    """
    sy = problem.dot(move, grad_change)
    yy = problem.dual_sq(grad_change)
    if not (yy > 0 and math.isfinite(sy) and math.isfinite(yy)):
        return step
    if sy <= 0:
        return 2 * step
    new = sy / yy
    return new if math.isfinite(new) and new > 0 else step
