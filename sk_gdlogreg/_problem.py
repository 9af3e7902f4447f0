"""The problem a solver sees: F = J + h in its coordinates, and how optimality is measured.

The solvers (``_solvers.py``) move coefficients in some coordinates (raw,
standardized, whitened: ``_coordinates.py``) and know nothing else: this class
maps their points to raw coefficients for the objective, maps the gradient
back, applies the L1 term's proximal step in their metric, and measures the
optimality residual in standardized coordinates, whatever the solver's, so that
``tol`` is unit-free.
"""

import numpy as np

from ._penalty import L1Penalty


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
        self.objective, self.l1 = objective, l1
        self.coords, self.tol_coords = coords, tol_coords
        self.xp = objective.xp
        self.penalty = self._l1_in(coords, l1)
        self.tol_penalty = self._l1_in(tol_coords, l1)
        self.eps = float(self.xp.finfo(objective.dtype).eps)
        # the curvature metric of an L1 fit's steps (``_metric.Metric``), or None:
        # the Euclidean one of the coordinates
        self.metric = coords if hasattr(coords, "prox") else None

    def with_coords(self, coords):
        """The same problem, the solver moving in other coordinates."""
        return Problem(self.objective, self.l1, coords, self.tol_coords)

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

    def inner(self, a, b):
        """a . b in the metric of the steps."""
        return self.dot(a, b) if self.metric is None else self.metric.inner(a, b)

    def sq(self, move):
        """The squared length of a move in the metric of the steps."""
        return self.dot(move, move) if self.metric is None else self.metric.sq(move)

    def dual_sq(self, grad_change):
        """The squared length of a change of gradient, in the dual metric."""
        if self.metric is None:
            return self.dot(grad_change, grad_change)
        return self.metric.dual_sq(grad_change)

    def prox(self, coef, grad, step):
        """The proximal step ``argmin_u grad.(u - coef) + ||u - coef||^2 / (2 step) + h(u)``,
        the norm that of the steps' metric: a soft-threshold, or a small Lasso
        (``_metric.Metric.prox``)."""
        if self.metric is None or not self.l1:
            return self.penalty.prox(coef - step * grad, step)
        return self.metric.prox(coef, grad, step, self.penalty)

    def all_finite(self, a):
        if self.xp is np:  # the array's own method: a third of np.all's time on small ones
            return bool(np.isfinite(a).all())
        return bool(self.xp.all(self.xp.isfinite(a)))

    def loss_grad(self, coef):
        """J and its gradient at ``coef``, both in the solver's coordinates."""
        J, grad = self.objective.loss_grad(self.coords.to_raw(coef))
        return J, self.coords.grad_from_raw(grad)

    def residual(self, coef, grad):
        """Largest entry of the minimum-norm subgradient of F, in tol_coords."""
        xp = self.xp
        if self.tol_coords is not self.coords:
            grad = self.tol_coords.grad_from_raw(self.coords.grad_to_raw(grad))
            if self.l1:  # without L1 the subgradient is the gradient: no coef needed
                coef = self.tol_coords.from_raw(self.coords.to_raw(coef))
        if self.l1:
            grad = self.tol_penalty.min_norm_subgradient(coef, grad)
        return float(xp.max(xp.abs(grad)))
