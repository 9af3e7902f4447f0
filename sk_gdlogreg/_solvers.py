"""Gradient descent and its accelerated forms (Nesterov, Anderson), step sizes, stopping.

Every solver minimizes F = J + h, J smooth (``problem.loss_grad``, the cost with
its L2 term) and h the L1 penalty (``problem.penalty``), by proximal gradient
steps

    coef := prox_h(coef - step * grad, step)

which, with no L1 term, is the lecture's update ``w := w - alpha * dw``: with a
constant ``learning_rate`` and no change of coordinates, exactly that. Solvers
know nothing of labels, classes or scikit-learn: they see a ``_problem.Problem``.

One *iteration* is one evaluation of J and its gradient (the lecture's forward
and backward pass), then either a stop or an update. ``loss_curve[k]`` is F at
the point where iteration k took the gradient, so the loss curve is a
by-product of solving and costs nothing extra. A ``callback``, if given, has
two hooks that bracket each iteration (``callback.begin(k)`` before an
iteration's pass, ``callback.end(k, model, F, residual, step)`` after its
update); ``model`` is what a stop at that moment returns, as raw
coefficients (whatever coordinates the solver moves in): at the end of
iteration k, the fit with ``max_iter=k+1``. A true return value of ``end``
stops the solver. A solver also stops when neither F nor the
coefficients changed by more than rounding error for ``STALL_ITERATIONS``
iterations in a row: no further progress is possible.

Step sizes:

- a constant ``learning_rate`` is used as given, on the coordinates given;
- ``learning_rate=None`` ("auto"), plain descent: the Barzilai-Borwein step
  as a first trial, then backtracking on the proximal sufficient-decrease
  condition ``J(new) <= J(coef) + grad.(new - coef) + ||new - coef||^2 / (2 step)``,
  which guarantees F(new) <= F(coef); a rejected trial costs one pass over the data.
- ``learning_rate=None``, accelerated: the same BB step between the last two
  points where gradients were taken: one pass per iteration, no line search;
  restarts guard it (see ``nesterov``); Anderson's acceleration takes the
  same step from its combination of past points (see ``anderson``). These
  rules won measurements (``benchmarks/``) against long or alternating BB
  steps and growing steps.
"""

import math

import numpy as np

from ._anderson import anderson
from ._iterations import STALL_ITERATIONS, Result, _bb_step, _Iterations, _slack, _unchanged

# Halvings of the step before the line search gives up (the decrease is then
# below rounding error: there is nothing left to gain).
MAX_BACKTRACKS = 60


def _sufficient_decrease(problem, J, grad, J_new, move, step):
    decrease = problem.dot(grad, move) + problem.sq(move) / (2 * step)
    return J_new <= J + decrease + _slack(problem, J)


def gradient_descent(problem, coef, *, learning_rate, max_iter, tol, step0=1.0, callback=None):
    """(Proximal) gradient descent: constant steps, or Barzilai-Borwein + backtracking.

    With ``learning_rate=None`` F never increases (up to rounding error).
    """
    res = Result(coef=coef)
    it = _Iterations(res, problem, tol, callback)
    penalty = problem.penalty
    step = step0 if learning_rate is None else learning_rate
    J = grad = None
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected, not warned
        for k in range(max_iter):
            it.begin(k)
            if J is None or learning_rate is not None:
                J, grad = problem.loss_grad(coef)  # forward and backward pass
            F = J + penalty.value(coef)
            if not math.isfinite(F):  # J overflowed: keep the last point with a finite F
                coef = it.overflowed(k, res.coef)
                break
            res.coef = res.finite = coef  # the last point with a finite F
            stop = it.record(k, F, coef, grad, step)
            if not stop:
                new, stop = _gd_update(problem, it, k, F, coef, J, grad, step, learning_rate)
                if new is not None:
                    if learning_rate is None:
                        new, J, grad, step = new
                    stop = it.progress(F, new, coef)
                    coef = new
            if it.end(k, coef) or stop:
                break
    res.coef, res.step = coef, step
    return res


def _gd_update(problem, it, k, F, coef, J, grad, step, learning_rate):
    """Iteration k's update: (new, stop); ``new`` None when there is none."""
    res = it.res
    if learning_rate is not None:
        it.rose(k, F, plain=True)  # every step of gradient descent is a plain one
        new = problem.prox(coef, grad, step)  # the update: w := w - alpha dw
        if not problem.all_finite(new):
            it.diverged(k)
            return None, True
        return new, False
    for _ in range(MAX_BACKTRACKS):
        new = problem.prox(coef, grad, step)
        if problem.all_finite(new):
            J_new, grad_new = problem.loss_grad(new)
            if math.isfinite(J_new) and _sufficient_decrease(
                problem, J, grad, J_new, new - coef, step
            ):
                break
        step /= 2
    else:
        res.stopped = "line search"
        return None, True
    step = _bb_step(problem, new - coef, grad_new - grad, step)
    return (new, J_new, grad_new, step), False


def nesterov(problem, coef, *, learning_rate, max_iter, tol, step0=1.0, callback=None):
    """Accelerated proximal gradient (FISTA) with adaptive restart.

    Each iteration takes the gradient at a point ``ahead`` of the current
    iterate ``coef``, extrapolated along the last move with a momentum
    ``(t_k - 1) / t_{k+1}``, and steps from there. The momentum is reset when F
    went up or when it points against the last step (O'Donoghue & Candes'
    restarts), which recovers the linear convergence plain FISTA loses on
    strongly convex problems. With ``learning_rate=None`` the step is the short
    Barzilai-Borwein step between the last two points ``ahead`` (measured on
    L1 problems: up to 4 times fewer iterations than the secant step
    ||s|| / ||y||, and no more elsewhere); two rises of F in a row halve the
    step, a safeguard against an estimate that is too large.

    On overflow, the point kept is the last one at which F was finite.
    """
    res = Result(coef=coef)
    it = _Iterations(res, problem, tol, callback)
    penalty = problem.penalty
    ahead, t = coef, 1.0
    step = step0 if learning_rate is None else learning_rate
    ahead_prev = grad_prev = None
    finite = coef  # the last point at which F was finite
    rises = 0
    plain = True  # ahead came by a gradient step without momentum (the first, or a restart)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected, not warned
        for k in range(max_iter):
            it.begin(k)
            J, grad = problem.loss_grad(ahead)  # forward and backward pass
            F = J + penalty.value(ahead)
            if not math.isfinite(F):  # overflow: keep the last point with a finite F
                coef = it.overflowed(k, finite)
                break
            finite = res.finite = ahead
            if it.record(k, F, ahead, grad, step):
                coef = ahead
                it.end(k, coef)
                break
            rose = k > 0 and F > res.loss_curve[-2] + _slack(problem, F)
            rises = rises + 1 if rose else 0
            if learning_rate is not None:
                it.rose(k, F, plain)
            elif ahead_prev is not None:
                move, grad_change = ahead - ahead_prev, grad - grad_prev
                move2, change2 = problem.dot(move, move), problem.dot(grad_change, grad_change)
                if move2 > 0 and change2 > 0:
                    step = _bb_step(problem, move, grad_change, step)
                if rises >= 2:
                    step /= 2
                it.step = step  # what the callback reports: this iteration's step
            new = problem.prox(ahead, grad, step)  # the update, from ahead
            if not problem.all_finite(new):
                coef = it.overflowed(k, finite)
                break
            stop = it.progress(F, new, coef)
            t_new = (1 + math.sqrt(1 + 4 * t**2)) / 2
            if rose or problem.inner(ahead - new, new - coef) > 0:  # restart the momentum
                ahead_next, t_new = new, 1.0
            else:
                ahead_next = new + ((t - 1) / t_new) * (new - coef)
                if not problem.all_finite(ahead_next):
                    ahead_next, t_new = new, 1.0
            plain = t == 1.0 or t_new == 1.0  # the first step (t = 1) has no momentum either
            ahead_prev, grad_prev = ahead, grad
            coef, ahead, t = new, ahead_next, t_new
            if it.end(k, coef) or stop:
                break
    res.coef, res.step = coef, step
    return res


SOLVERS = {"gd": gradient_descent, "nesterov": nesterov, "anderson": anderson}


# A run that ends with the optimality residual within this factor of ``tol`` is a
# few iterations from stopping: ``solve`` goes on in its coordinates instead of
# renewing them, since a renewal (the curvature matrix and its factorization) costs
# about as much as one or two passes and could save at most those few iterations;
# never twice in a row, so a fit that lingers there still renews every other run.
# Measured (default fits, one thread): easy 50,000 x 100 107 -> 83 ms, the same 7
# iterations; cross_val_score on standardized wine, iris and digits 0.93-0.96x the
# time; 240 fits of small and mid-sized problems (2 to 10 classes, C 1e-2 to 1e3,
# tol 1e-4 and 1e-8) 4,549 iterations against 4,561: 28 fits took up to 16 more
# (most of them one more, to save a renewal), 3 up to 55 fewer.
RENEW_ABOVE = 10.0


class _Shifted:
    """The callback of a later run of ``solve``: iteration numbers run on."""

    def __init__(self, callback, offset):
        self.callback, self.offset = callback, offset

    def begin(self, k):
        self.callback.begin(self.offset + k)

    def end(self, k, *args):
        return self.callback.end(self.offset + k, *args)


def solve(
    solver,
    problem,
    theta,
    *,
    learning_rate,
    max_iter,
    tol,
    step0=1.0,
    callback=None,
    recondition=None,
    every=None,
):
    """Run ``solver`` from raw coefficients ``theta``, changing coordinates as it goes.

    Without ``recondition``, one run. With it, the solver runs ``every``
    iterations at a time; after each run that has not finished,
    ``recondition(theta)`` gives new coordinates (from the curvature at the
    current point) or None to go on as before (it is not asked after a run
    that ended within ``RENEW_ABOVE * tol``, unless the run before was not
    renewed either), and the solver
    starts again from where it was: at step 1 in new coordinates, at the last
    step if shorter in renewed ones of the same kind. The loss curve, the
    iteration count and the callback's iteration numbers run on across the
    runs. Runs that change
    neither F nor the coefficients beyond rounding error count towards the
    no-progress stop as a single run's iterations do.
    """
    total = Result(coef=theta)
    stalled = 0
    skipped = False
    while True:
        done = total.n_iter
        budget = max_iter - done if recondition is None else min(every, max_iter - done)
        shifted = None if callback is None or not done else _Shifted(callback, done)
        res = solver(
            problem,
            problem.coords.from_raw(theta),
            learning_rate=learning_rate,
            max_iter=budget,
            tol=tol,
            step0=step0,
            callback=callback if not done else shifted,
        )
        new = problem.coords.to_raw(res.coef)
        for name in ("increased_at", "diverged_at"):
            if getattr(res, name) is not None and getattr(total, name) is None:
                setattr(total, name, done + getattr(res, name))
        F0 = total.loss_curve[-1] if total.loss_curve else math.inf
        total.loss_curve += res.loss_curve
        total.n_iter += res.n_iter
        total.residual, total.converged, total.stopped = res.residual, res.converged, res.stopped
        same = _unchanged(problem, F0, total.loss_curve[-1], theta, new)
        stalled = stalled + res.n_iter if same else 0
        theta = new
        if stalled >= STALL_ITERATIONS and not (res.converged or res.stopped):
            total.stopped = "no progress"
        if total.stopped or res.converged or total.n_iter >= max_iter or recondition is None:
            break
        if res.residual <= RENEW_ABOVE * tol and not skipped:
            skipped = True
            continue
        skipped = False
        coords = recondition(theta)
        if coords is not None:
            # Whitened, the natural step is 1 (curvature ~ identity). A renewal keeps a
            # shorter step the last run learned: an estimate that falls short of the
            # curvature (such as one matrix shared by the softmax's classes) does so
            # every time.
            renewed = type(coords) is type(problem.coords) and res.step > 0
            step0 = min(res.step, 1.0) if renewed else 1.0
            problem = problem.with_coords(coords)
    if learning_rate is not None and not (total.converged or total.stopped):
        # A constant step's last update was never evaluated: if J overflows there
        # (a step too large for the data's scale), keep the last point where it
        # did not. One pass per fit; automatic steps evaluate their last update.
        with np.errstate(over="ignore", invalid="ignore"):
            J = problem.objective.loss_grad(theta)[0]
        if not math.isfinite(J):
            theta = problem.coords.to_raw(res.finite)
            total.stopped, total.diverged_at = "diverged", total.n_iter - 1
    total.coef = theta
    return total
