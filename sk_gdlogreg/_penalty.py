"""The non-smooth part of the objective: a weighted L1 penalty and its prox.

    h(v) = sum_kj thresholds_j |v_kj|,   thresholds_j = strength * weights_j

``weights`` is 0 for the intercept column (never penalized) and, in coordinates
``v_j = w_j * scale_j``, ``1 / scale_j`` for feature j, so that ``h`` is the same
``strength * ||W||_1`` whatever the coordinates. A proximal gradient step
``prox(v - t g, t)`` soft-thresholds each entry, which is what sets coefficients
exactly to zero. Arrays may come from any Array API namespace ``xp``.
"""

import numpy as np


def _positive_part(r, xp):
    return (r + xp.abs(r)) / 2  # max(r, 0), exactly, without a scalar argument


class L1Penalty:
    def __init__(self, strength, weights, xp=np):
        self.strength = strength
        # A threshold beyond the float range (a huge strength on a feature in tiny
        # units) is the largest float: the prox still sets that coefficient to 0,
        # and value() of a zero coefficient stays 0 rather than 0 * inf.
        with np.errstate(over="ignore"):
            thresholds = strength * weights
        if strength:
            top = xp.finfo(thresholds.dtype).max
            thresholds = xp.where(thresholds < top, thresholds, xp.zeros_like(thresholds) + top)
        self.thresholds = thresholds
        self.xp = xp

    def value(self, v):
        if not self.strength:
            return 0.0
        return float(self.xp.sum(self.xp.abs(v) * self.thresholds))

    def prox(self, v, step):
        """argmin_u h(u) + ||u - v||^2 / (2 step): soft-thresholding."""
        if not self.strength:
            return v
        xp = self.xp
        return xp.sign(v) * _positive_part(xp.abs(v) - step * self.thresholds, xp)

    def min_norm_subgradient(self, v, g):
        """The smallest element of g + dh(v): the optimality residual.

        Where v_kj != 0, h is differentiable; where v_kj = 0 the subdifferential is
        the interval g +- threshold, whose point closest to 0 is a soft-threshold.
        """
        if not self.strength:
            return g
        xp = self.xp
        at_zero = xp.sign(g) * _positive_part(xp.abs(g) - self.thresholds, xp)
        return xp.where(v == 0, at_zero, g + xp.sign(v) * self.thresholds)


def strengths(C, l1_ratio, weight_sum, weight_scale=1.0):
    """(l1, l2): the weights of ||W||_1 and (1/2)||W||^2 in J.

    scikit-learn's objective is ``C sum_i s_i L_i + penalty``; J here is that
    divided by ``C S``, with S the sum of the weights, so that the data term is
    the lecture's average ``(1/S) sum_i s_i L_i``. The minimum does not move.
    ``S = weight_scale * weight_sum`` is never formed (it may overflow): the
    divisions are made one at a time, and a strength too large for a float64
    is an error (one too small to matter becomes 0).
    """
    if C == float("inf"):
        return 0.0, 0.0
    base = 1.0 / C / weight_scale / weight_sum if C >= 1 else 1.0 / weight_scale / weight_sum / C
    if not base < float("inf"):
        raise ValueError(
            f"C={C!r} is too small for these sample weights: the penalty strength "
            "1 / (C * sum of sample weights) is beyond the float64 range. Use a larger C."
        )
    return l1_ratio * base, (1 - l1_ratio) * base
