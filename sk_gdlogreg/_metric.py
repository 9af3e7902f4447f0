"""The proximal step of an L1 or elastic-net fit in the curvature metric.

Whitening (``_coordinates.Whitening``) moves in ``v = L^T theta``, where the
Hessian of J is about the identity; an L1 term is not separable there, so its
soft-threshold cannot be taken in v. The same step can be taken in the
diagonal (standardized) coordinates instead, where the L1 term *is* separable,
with the curvature as a metric: with M the curvature matrix H = L L^T
expressed in those coordinates, g the gradient and t the step,

    coef := argmin_u  g.(u - coef) + (u - coef)^T M (u - coef) / (2 t) + h(u),

a variable-metric proximal gradient step (a proximal Newton step where M is the
Hessian). Without h it is exactly the whitened gradient step; with h it is a
small Lasso on the (n_features + 1)^2 matrix M, solved by coordinate descent
(``lasso_cd``) without touching X. The rows of a multinomial fit share M (as
they share the whitening), one Lasso per row.

Coordinates that stay at zero are never written: exact zeros stay exact, and
the solver's iterates, its loss curve and its optimality residual are those of
the diagonal coordinates, in which the L1 term is what it always was.
"""

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ._sklearn import move_to

# The Lasso of a step is solved until its minimum-norm subgradient is at most
# this fraction of the outer problem's at the current point (the forcing term
# of an inexact proximal Newton method), and at most CD_MAX_SWEEPS passes over
# its coordinates. Coordinate descent decreases the Lasso's objective at every
# coordinate, so any stop is a descent step: F never goes up for solver="gd".
CD_FORCING = 0.1
CD_MAX_SWEEPS = 200


def _soft(z, threshold):
    if z > threshold:
        return z - threshold
    if z < -threshold:
        return z + threshold
    return 0.0


def lasso_cd(A, g, c, lam, tol, max_sweeps=CD_MAX_SWEEPS):
    """``argmin_u g.(u - c) + (u - c)^T A (u - c) / 2 + sum_j lam_j |u_j|`` from u = c.

    ``A`` is symmetric positive definite (p x p), ``g``, ``c`` and ``lam`` are
    vectors of length p (``lam_j = 0``: unpenalized). Cyclic coordinate descent
    with an active set: the coordinates that are non-zero or violate their
    optimality condition are swept until none of them violates it by more than
    ``tol`` (the largest entry of the minimum-norm subgradient), then the
    optimality of all is checked with one product by A, and so on. A
    coordinate at zero whose condition holds is never touched. Returns u (a new
    array) and the number of sweeps.
    """
    u = np.array(c, dtype=np.float64)
    r = np.array(g, dtype=np.float64)  # the gradient of the smooth part: g + A (u - c)
    diag = np.diag(A)
    sweeps = 0
    while sweeps < max_sweeps:
        violates = np.abs(_min_norm_subgradient(u, r, lam)) > tol
        if not np.any(violates):
            break
        work = np.flatnonzero(violates | (u != 0))
        A_w = np.ascontiguousarray(A[np.ix_(work, work)])
        u_w, r_w, lam_w, d_w = u[work], r[work], lam[work], diag[work]
        before = u_w.copy()
        lam_l, d_l = lam_w.tolist(), d_w.tolist()
        while sweeps < max_sweeps:
            sweeps += 1
            for i in range(len(work)):
                old = u_w[i]
                new = _soft(old - r_w[i] / d_l[i], lam_l[i] / d_l[i])
                if new != old:
                    r_w += (new - old) * A_w[i]
                    u_w[i] = new
            if np.max(np.abs(_min_norm_subgradient(u_w, r_w, lam_w))) <= tol:
                break
        u[work] = u_w
        r += A[:, work] @ (u_w - before)  # the whole gradient, for the other coordinates
    return u, sweeps


def _min_norm_subgradient(u, r, lam):
    at_zero = np.sign(r) * np.maximum(np.abs(r) - lam, 0)
    return np.where(u == 0, at_zero, r + np.sign(u) * lam)


class Metric:
    """The diagonal coordinates ``coords`` with the curvature metric of ``H = diag(c) Hn diag(c)``.

    ``to_raw`` and the other maps are those of ``coords`` (a
    ``_coordinates.Standardization``), so the L1 term stays separable; the
    solvers take their steps (``prox``), their step lengths (``sq``,
    ``dual_sq``) and their momentum test (``inner``) in the metric M, H in
    these coordinates. M is kept on the host, in float64: it is
    (n_features + 1)^2, and the coordinate descent is a loop over it; in other
    namespaces the few vectors of a step are moved there and back.
    """

    def __init__(self, curvature, coords, xp=np):
        self.coords, self.xp = coords, xp
        Hn, c = (self._host(a).astype(np.float64) for a in curvature)
        self.scale, self.mean = coords.scale, coords.mean
        self.fit_intercept, self.n_features = coords.fit_intercept, coords.n_features
        p = Hn.shape[0]
        host = type(coords)(
            *(
                np.asarray(move_to(a, xp=np, device="cpu"), np.float64)
                for a in (coords.mean, coords.scale)
            ),
            coords.fit_intercept,
            np,
        )
        T = host.to_raw(np.eye(p))  # theta = v @ T: the rows are the raw images of e_i
        B = T * c[None, :]
        with np.errstate(over="ignore", invalid="ignore"):
            M = B @ Hn @ B.T
        M = (M + M.T) / 2
        # Jacobi scaling, then a jitter, as for the whitening: a singular H (a
        # constant or duplicated feature, no L2 term) stays positive definite
        d = np.sqrt(np.diag(M))
        d = np.where(d > 0, d, 1.0)
        Ms = M / d[:, None] / d[None, :] + 1e-10 * np.eye(p)
        if not np.all(np.isfinite(Ms)):
            raise np.linalg.LinAlgError("the curvature matrix is out of the float range")
        self.factor = cho_factor(Ms, lower=True)  # LinAlgError if not positive definite
        self.d = d
        self.M = Ms * d[:, None] * d[None, :]
        self.sweeps = 0  # coordinate-descent sweeps, all steps together (for benchmarks)

    # the maps of the diagonal coordinates
    def to_raw(self, v):
        return self.coords.to_raw(v)

    def from_raw(self, theta):
        return self.coords.from_raw(theta)

    def grad_from_raw(self, g):
        return self.coords.grad_from_raw(g)

    def grad_to_raw(self, gv):
        return self.coords.grad_to_raw(gv)

    def _host(self, a):
        return a if self.xp is np else np.asarray(move_to(a, xp=np, device="cpu"))

    def sq(self, a):
        """sum_k a_k^T M a_k: the squared length of a move."""
        a = self._host(a).astype(np.float64, copy=False)
        return float(np.sum((a @ self.M) * a))

    def inner(self, a, b):
        a, b = (self._host(x).astype(np.float64, copy=False) for x in (a, b))
        return float(np.sum((a @ self.M) * b))

    def dual_sq(self, y):
        """sum_k y_k^T M^{-1} y_k: the squared length of a gradient change."""
        y = self._host(y).astype(np.float64, copy=False) / self.d
        return float(np.sum(y * cho_solve(self.factor, y.T).T))

    def prox(self, coef, grad, step, penalty):
        """The step from ``coef`` along ``grad``: the Lasso in the metric M / step."""
        xp = self.xp
        c, g = self._host(coef), self._host(grad)
        if not (np.all(np.isfinite(c)) and np.all(np.isfinite(g)) and step > 0):
            return coef - step * grad  # not finite: the solver sees it and stops or halves
        lam = np.broadcast_to(self._host(penalty.thresholds), c.shape[1:]).astype(np.float64)
        # scaled by the step: argmin t g.(u - c) + (u - c)^T M (u - c) / 2 + t h(u)
        tol = CD_FORCING * step * float(np.max(np.abs(_min_norm_subgradient(c, g, lam))))
        out = np.empty(c.shape, dtype=np.float64)
        for k in range(c.shape[0]):
            out[k], sweeps = lasso_cd(self.M, step * g[k], c[k], step * lam, tol)
            self.sweeps += sweeps
        out = out.astype(c.dtype, copy=False)
        return out if xp is np else move_to(out, xp=xp, device=coef.device)
