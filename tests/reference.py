"""The one reference J of the test suite, written from its definition with SciPy.

Independent of the package: float64 throughout, the log-loss through SciPy's
``log_softmax`` (a sigmoid is a softmax over the logits [0, z]).
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit, log_softmax, softmax


def logits(X, coef, intercept):
    X = X.toarray() if sp.issparse(X) else X
    Z = np.asarray(X, np.float64) @ np.asarray(coef, np.float64).T
    Z = Z + np.asarray(intercept, np.float64)
    if Z.shape[1] == 1:  # sigmoid: softmax over [0, z]
        Z = np.column_stack([np.zeros(len(Z)), Z[:, 0]])
    return Z


def objective(X, y, s, coef, intercept, C=np.inf, l1_ratio=0.0):
    """J = (1/S) sum_i s_i L_i + (1 - rho)/(2 C S) ||W||^2 + rho/(C S) ||W||_1.

    ``y`` holds labels of any kind; class k is the k-th of ``np.unique(y)``.
    """
    y_idx = np.searchsorted(np.unique(y), y)
    s = np.ones(len(y_idx)) if s is None else np.asarray(s, np.float64)
    L = -log_softmax(logits(X, coef, intercept), axis=1)[np.arange(len(y_idx)), y_idx]
    S = s.sum()
    J = s @ L / S
    if np.isfinite(C):
        W = np.asarray(coef, np.float64)
        J += (1 - l1_ratio) / (2 * C * S) * np.sum(W**2) + l1_ratio / (C * S) * np.abs(W).sum()
    return J


def data_term(X, y_idx, sw, coef, fit_intercept):
    """J = sum_i sw_i L_i and its gradient for coef of shape (K, d + fit_intercept).

    ``y_idx`` are class indices (0/1 for K = 1). The binary terms are written
    with SciPy's ``log_expit`` and ``expit`` so that they stay accurate relative
    to their size when every loss is tiny (separated data).
    """
    coef = np.asarray(coef, np.float64)
    m = X.shape[0]
    Xd = np.asarray(X.toarray() if sp.issparse(X) else X, np.float64)
    Xa = np.hstack([Xd, np.ones((m, 1))]) if fit_intercept else Xd
    Z = Xa @ coef.T
    y_idx = np.asarray(y_idx).astype(np.intp)
    sw = np.asarray(sw, np.float64)
    if coef.shape[0] == 1:
        z, y = Z[:, 0], y_idx.astype(np.float64)
        L = -(y * log_expit(z) + (1 - y) * log_expit(-z))
        dz = sw * ((1 - y) * expit(z) - y * expit(-z))  # sigmoid(z) - y, no cancellation
        return float(sw @ L), (dz @ Xa)[None, :]
    J = float(sw @ -log_softmax(Z, axis=1)[np.arange(m), y_idx])
    dZ = softmax(Z, axis=1)
    dZ[np.arange(m), y_idx] -= 1
    return J, (sw[:, None] * dZ).T @ Xa


def check_change_of_coordinates(objective, coords, theta, rng, rtol):
    """``coords`` is a change of variables theta = A v for ``objective``: the maps round-trip
    (to ``rtol``), and the gradient in v is A^T g, checked against finite differences of
    J(to_raw(v)) along a random direction."""
    v = coords.from_raw(theta)
    np.testing.assert_allclose(coords.to_raw(v), theta, rtol=rtol)
    _, g = objective.loss_grad(theta)
    gv = coords.grad_from_raw(g)
    np.testing.assert_allclose(coords.grad_to_raw(gv), g, rtol=rtol, atol=100 * rtol * 1e-3)
    direction = rng.normal(size=v.shape)
    eps = 1e-6
    fd = (
        objective.loss_grad(coords.to_raw(v + eps * direction))[0]
        - objective.loss_grad(coords.to_raw(v - eps * direction))[0]
    ) / (2 * eps)
    assert abs(np.vdot(gv, direction) - fd) <= 1e-6 * abs(fd)
