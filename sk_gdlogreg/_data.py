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
    weight_sum: float  # S, the sum of the sample weights times the class weights
    mean: object  # weighted column means and standard deviations of X,
    std: object  # in the data term's namespace
    xp: object  # namespace and device of X: the fitted attributes go there
    device: object
    n_features_in: int
    feature_names_in: object  # None, or an array of the column names
    callback_data: dict  # X, y and metadata for scikit-learn's callbacks


def check_two_classes(classes):
    if classes.shape[0] < 2:
        raise ValueError(
            "This solver needs samples of at least 2 classes in the data, but "
            f"the data contains only one class: {classes[0]!r}."
        )


def class_weights(class_weight, classes, per_class_weight):
    """The weight of each class, from the sums of the sample weights per class.

    At least two classes must weigh more than 0. ``class_weight=None`` gives
    None. Given one entry per class with its sum of weights, scikit-learn's
    ``compute_class_weight`` is the same as given every label with its weight,
    so neither backend needs the labels again.
    """
    weighted = per_class_weight > 0
    if weighted.sum() < 2:
        raise ValueError(
            "This solver needs samples of at least 2 classes with positive "
            f"sample weight, but only class {classes[int(weighted.argmax())]!r} has any."
        )
    if class_weight is None:
        return None
    return compute_class_weight(
        class_weight, classes=classes, y=classes, sample_weight=per_class_weight
    )


def encode_labels(y, classes):
    """Class indices 0 .. K-1 of the labels y, given the sorted classes."""
    return np.searchsorted(classes, y)
