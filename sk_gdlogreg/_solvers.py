"""Gradient descent and its accelerated form, with step sizes and stopping.

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
from dataclasses import dataclass, field

import numpy as np

# Halvings of the step before the line search gives up (the decrease is then
# below rounding error: there is nothing left to gain).
MAX_BACKTRACKS = 60


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
                it.diverged(k)
                coef = res.coef
                it.end(k, coef)
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
                it.diverged(k)
                coef = finite
                it.end(k, coef)
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
            new = problem.prox(ahead, grad, step)  # the update, from ahead
            if not problem.all_finite(new):
                it.diverged(k)
                coef = finite
                it.end(k, coef)
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


# Gradients an Anderson step combines (the last ANDERSON_MEMORY + 1). Measured
# (iterations to F within 1e-6, standardized coordinates, no whitening; memory 5 /
# 10 / 20): wide 5,000 x 1,000 29 / 28 / 30, separable 50,000 x 100 at C=100
# 28 / 24 / 24, digits 103 / 87 / 78 (Nesterov: 36, 33, 132).
ANDERSON_MEMORY = 10
# Anderson's automatic step is the least of the last ANDERSON_STEPS short BB steps.
# The BB step measures the curvature along the last move, and Anderson's moves go
# where descent is slow (low curvature): alone it overshot, about 3 times 1/L on wide
# data, where a rise then cleared the memory. Measured (iterations to F within 1e-6;
# the last step / the least of 3): wide 5,000 x 1,000 28 / 23, wide 20,000 x 2,000
# 19 / 17, 20 classes 11 / 10, sparse text 14 / 11, digits in diagonal coordinates
# 90 / 77, separable at C=100 diagonal 44 / 36; the same on digits (per class), 10
# classes, easy and raw scales; more on separable data in diagonal coordinates (37 / 39
# at C=1; 24 / 33 at C=100 with class_sep=3).
ANDERSON_STEPS = 3


class _AndersonMemory:
    """The last points and their gradients, with the Gram matrix of the gradients."""

    def __init__(self, problem, size):
        self.problem, self.size = problem, size
        self.points, self.grads = [], []
        self.gram = np.zeros((size, size))

    def clear(self):
        self.points, self.grads = [], []

    def add(self, point, grad):
        if len(self.points) == self.size:  # the oldest goes
            self.points.pop(0), self.grads.pop(0)
            self.gram[:-1, :-1] = self.gram[1:, 1:]
        self.points.append(point)
        self.grads.append(grad)
        n = len(self.grads)
        for i, g in enumerate(self.grads):
            self.gram[i, n - 1] = self.gram[n - 1, i] = self.problem.dot(g, grad)

    def weights(self):
        """c minimizing ||sum_i c_i grad_i|| with sum_i c_i = 1: the combination whose
        gradient is least, were the gradient linear in the point (on a quadratic J)."""
        n = len(self.grads)
        A = self.gram[:n, :n]
        # c is proportional to A^-1 1. The gradients shrink by orders over the memory:
        # each is scaled to length 1 (Jacobi) before a ridge of 1e-10 keeps the solve
        # finite where they are nearly parallel (near the optimum)
        d = np.sqrt(np.diag(A))
        if not (np.all(np.isfinite(d)) and np.all(d > 0)):
            return None
        y = np.linalg.solve(A / d[:, None] / d[None, :] + 1e-10 * np.eye(n), 1 / d)
        c = (y / d) / np.sum(y / d)
        return c if np.all(np.isfinite(c)) else None

    def step(self, step):
        """The Anderson update: a gradient step from the combined point along the
        combined gradient, ``sum c_i x_i - step * sum c_i g_i`` (with one point in the
        memory, the plain gradient step)."""
        c = self.weights() if len(self.points) > 1 else None
        if c is None:
            return self.points[-1] - step * self.grads[-1]
        c = [float(ci) for ci in c]  # Python floats: any array namespace takes them
        point, grad = c[0] * self.points[0], c[0] * self.grads[0]
        for ci, x, g in zip(c[1:], self.points[1:], self.grads[1:]):
            point = point + ci * x
            grad = grad + ci * g
        return point - step * grad


def anderson(problem, coef, *, learning_rate, max_iter, tol, step0=1.0, callback=None):
    """Gradient descent with Anderson acceleration (Walker & Ni's "type II" form).

    Each iteration takes the gradient at the current point, like the lecture's
    update, then looks back at the last ``ANDERSON_MEMORY + 1`` points: it weighs
    them with weights ``c`` summing to 1 that make the combined gradient
    ``sum c_i g_i`` least, and steps from the combined point ``sum c_i x_i``
    along it. On a quadratic, where the gradient is linear in the point, the
    combination is the point of least gradient in the span of the past steps
    (the iterates of GMRES): a memory of curvature, as a quasi-Newton method
    keeps, built from past gradients alone, one pass per iteration. The step
    is a constant ``learning_rate`` or, with ``learning_rate=None``, the least of
    the last ``ANDERSON_STEPS`` short Barzilai-Borwein steps, each between two
    consecutive points. A rise of F clears the
    memory (the next step is a plain gradient step), as a restart does for
    Nesterov's momentum. No L1 term: the combination has no proximal step
    (``_plan.make_plan`` refuses one).

    On overflow, the point kept is the last one at which F was finite.
    """
    res = Result(coef=coef)
    it = _Iterations(res, problem, tol, callback)
    step = step0 if learning_rate is None else learning_rate
    memory = _AndersonMemory(problem, ANDERSON_MEMORY + 1)
    previous = None  # (point, gradient) of the last iteration
    bb_steps = []  # the last ANDERSON_STEPS Barzilai-Borwein steps
    finite = coef  # the last point at which F was finite
    plain = True  # coef came by a plain gradient step (the first, or after a clear)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected, not warned
        for k in range(max_iter):
            it.begin(k)
            F, grad = problem.loss_grad(coef)  # forward and backward pass (F = J: no L1)
            if not math.isfinite(F):  # overflow: keep the last point with a finite F
                it.diverged(k)
                coef = finite
                it.end(k, coef)
                break
            finite = res.finite = coef
            if it.record(k, F, coef, grad, step):
                it.end(k, coef)
                break
            if learning_rate is not None:
                it.rose(k, F, plain)
            elif previous is not None:
                last = bb_steps[-1] if bb_steps else step
                bb = _bb_step(problem, coef - previous[0], grad - previous[1], last)
                bb_steps = [*bb_steps, bb][-ANDERSON_STEPS:]
                step = min(bb_steps)
            if k > 0 and F > res.loss_curve[-2] + _slack(problem, F):
                memory.clear()  # restart from the current point
            memory.add(coef, grad)
            new = memory.step(step)
            plain = len(memory.points) == 1
            if not problem.all_finite(new):
                it.diverged(k)
                coef = finite
                it.end(k, coef)
                break
            stop = it.progress(F, new, coef)
            previous = (coef, grad)
            coef = new
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
