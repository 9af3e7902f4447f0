"""Gradient descent with Anderson acceleration: a memory of the curvature from past gradients."""

import math

import numpy as np

from ._iterations import Result, _bb_step, _Iterations, _slack

# Gradients an Anderson step combines (the last ANDERSON_MEMORY + 1). Measured with
# the last BB step as the step (iterations to F within 1e-6, standardized
# coordinates, no whitening; memory 5 / 10 / 20): wide 5,000 x 1,000 29 / 28 / 30,
# separable 50,000 x 100 at C=100 28 / 24 / 24, digits 103 / 87 / 78 (Nesterov: 36,
# 33, 132).
ANDERSON_MEMORY = 10
# Anderson's automatic step is the least of the last ANDERSON_STEPS short BB steps.
# The BB step measures the curvature along the last move, and Anderson's moves go
# where descent is slow (low curvature): alone it overshot, about 3 times 1/L on wide
# data, where a rise then cleared the memory. Measured (iterations to F within 1e-6;
# the last step / the least of 3): wide 5,000 x 1,000 28 / 23, wide 20,000 x 2,000
# 19 / 17, 20 classes 11 / 10, sparse text 14 / 11, digits in diagonal coordinates
# 90 / 77; the same on digits (per class), 10 classes, easy and raw scales. Separable
# data in diagonal coordinates, mixed: class_sep=3 at C=100 44 / 36, at C=1 37 / 39,
# with 1% of the labels flipped at C=100 24 / 33.
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
    consecutive points. A rise of F clears the memory (the next step is a plain
    gradient step), as a restart does for Nesterov's momentum. No L1 term: the
    combination has no proximal step (``_plan.make_plan`` refuses one).

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
                coef = it.overflowed(k, finite)
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
                it.step = step  # what the callback reports: this iteration's step
            if k > 0 and F > res.loss_curve[-2] + _slack(problem, F):
                memory.clear()  # restart from the current point
            memory.add(coef, grad)
            new = memory.step(step)
            plain = len(memory.points) == 1
            if not problem.all_finite(new):
                coef = it.overflowed(k, finite)
                break
            stop = it.progress(F, new, coef)
            previous = (coef, grad)
            coef = new
            if it.end(k, coef) or stop:
                break
    res.coef, res.step = coef, step
    return res
