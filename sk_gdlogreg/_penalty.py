"""The non-smooth part of the objective: a weighted L1 penalty and its prox.

    h(v) = strength * sum_kj weights_j |v_kj|

``weights`` is 0 for the intercept column (never penalized) and, in standardized
coordinates ``v_j = w_j * scale_j``, ``1 / scale_j`` for feature j, so that ``h``
is the same ``strength * ||W||_1`` whatever the coordinates.
A proximal gradient step ``prox(v - t g, t)`` soft-thresholds each entry, which
is what sets coefficients exactly to zero.
"""

import numpy as np


class L1Penalty:
    def __init__(self, strength, weights):
        self.strength = strength
        self.thresholds = strength * np.asarray(weights)

    def value(self, v):
        if not self.strength:
            return 0.0
        return float(np.sum(np.abs(v) @ self.thresholds))

    def prox(self, v, step):
        """argmin_u h(u) + ||u - v||^2 / (2 step): soft-thresholding."""
        if not self.strength:
            return v
        return np.sign(v) * np.maximum(np.abs(v) - step * self.thresholds, 0)

    def min_norm_subgradient(self, v, g):
        """The smallest element of g + dh(v): the optimality residual.

        Where v_kj != 0, h is differentiable; where v_kj = 0 the subdifferential is
        the interval g +- threshold, whose point closest to 0 is a soft-threshold.
        """
        if not self.strength:
            return g
        thr = np.broadcast_to(self.thresholds, g.shape)
        at_zero = np.sign(g) * np.maximum(np.abs(g) - thr, 0)
        return np.where(v == 0, at_zero, g + np.sign(v) * thr)
