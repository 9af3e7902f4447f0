"""What a backend hands the estimator, and the checks every backend shares.

A backend turns the user's X, y and sample weights into a ``FitData``: the data
term of the objective (``_objective.Objective`` adds the penalty), the classes,
the sum S of the weights and the weighted column statistics of X. There are two
backends: in-memory arrays (``_backends.py``) and Dask arrays (``_dask.py``).
Both take a ``FitSettings``, the few parameters of the estimator they need, and
neither touches the estimator itself.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.utils.class_weight import compute_class_weight


@dataclass(frozen=True)
class FitSettings:
    name: str  # the estimator's class name, for error messages
    fit_intercept: bool
    class_weight: object  # None, "balanced" or a dict
    loop_mode: str | None
    verbose: int


@dataclass
class FitData:
    data: object  # the data term: loss_grad(coef), n_outputs, n_features, dtype, xp, ...
    classes: object  # the labels, sorted, as a NumPy array
    weight_sum: float  # the sum of the weights the data term uses (sample times class weights)
    mean: object  # weighted column means and standard deviations of X,
    std: object  # in the data term's namespace
    xp: object  # namespace and device of X: the fitted attributes go there
    device: object
    n_features_in: int
    feature_names_in: object  # None, or an array of the column names
    callback_data: dict  # X, y and metadata for scikit-learn's callbacks
    # the unit of those weights: S = weight_scale * weight_sum, which may be out
    # of floating-point range when the weights are (the penalty divides by both)
    weight_scale: float = 1.0


def check_two_classes(classes):
    if classes.shape[0] < 2:
        raise ValueError(
            "This solver needs samples of at least 2 classes in the data, but "
            f"the data contains only one class: {classes[0]!r}."
        )


def _label(c):
    """A class label as the user wrote it: 1 or 'a', not np.int64(1)."""
    return repr(c.item() if isinstance(c, np.generic) else c)


def class_weights(class_weight, classes, per_class_weight):
    """The weight of each class, from the sums of the sample weights per class.

    At least two classes must weigh more than 0 once the class weights are
    applied (``{0: 0, 1: 1}`` is the same as zero sample weights on class 0).
    ``class_weight=None`` gives None. A dict's values must be finite and
    non-negative, as sample weights must. ``"balanced"`` is scikit-learn's
    ``S / (n_classes * S_k)``; a class whose samples all weigh 0 gets the weight
    0 (its samples count for nothing either way). The per-class sums may be
    given in any unit: only their ratios matter.
    """
    per_class_weight = np.asarray(per_class_weight, dtype=np.float64)
    if class_weight is None:
        weights = None
    elif isinstance(class_weight, str):  # "balanced", the one string allowed
        present = per_class_weight > 0
        total = per_class_weight.sum() / classes.shape[0]
        weights = np.zeros_like(per_class_weight)
        with np.errstate(over="ignore"):
            weights[present] = total / per_class_weight[present]
        if not np.isfinite(weights).all():
            k = int((~np.isfinite(weights)).argmax())
            raise ValueError(
                f"class_weight='balanced' is out of range: the samples of class "
                f"{_label(classes[k])} weigh {per_class_weight[k]:.3g} of a total of "
                f"{per_class_weight.sum():.3g}, a ratio beyond float64. Rescale the sample weights."
            )
    else:
        weights = compute_class_weight(class_weight, classes=classes, y=classes)
        bad = ~(np.isfinite(weights) & (weights >= 0))
        if bad.any():
            k = int(bad.argmax())
            raise ValueError(
                f"class_weight must be finite and non-negative, but the weight of class "
                f"{_label(classes[k])} is {weights[k].item()!r}."
            )
    effective = per_class_weight if weights is None else per_class_weight * weights
    weighted = effective > 0
    if weighted.sum() < 2:
        which = (
            f"only class {_label(classes[int(weighted.argmax())])} has any"
            if weighted.any()
            else "no class has any"
        )
        raise ValueError(
            "This solver needs samples of at least 2 classes with positive "
            f"sample weight (times class_weight), but {which}."
        )
    return weights


def encode_labels(y, classes):
    """Class indices 0 .. K-1 of the labels y, given the sorted classes."""
    return np.searchsorted(classes, y)
