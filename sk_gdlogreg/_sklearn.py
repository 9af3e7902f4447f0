"""scikit-learn's private helpers this package uses, gathered in one module.

Names with a leading underscore in scikit-learn may change in any release; an
upgrade that moves one breaks here, in one place, and nowhere else. Every other
module imports them from here (``CallbackSupportMixin`` is public but new in
1.9: it is here for the same reason).
"""

from sklearn.base import _fit_context as fit_context

try:  # scikit-learn's compiled loss functions (the multinomial pass, _objective.py)
    from sklearn._loss.loss import HalfMultinomialLoss
except ImportError:  # moved in some release: the NumPy pass is used instead
    HalfMultinomialLoss = None
from sklearn.callback import CallbackSupportMixin
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils._array_api import _is_numpy_namespace as is_numpy_namespace
from sklearn.utils._array_api import (
    _max_precision_float_dtype as max_precision_float_dtype,
)
from sklearn.utils._array_api import (
    check_same_namespace,
    get_namespace,
    get_namespace_and_device,
    move_to,
)
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads as openmp_effective_n_threads
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight as check_sample_weight
from sklearn.utils.validation import _get_feature_names as get_feature_names

__all__ = [
    "CallbackSupportMixin",
    "HalfMultinomialLoss",
    "Interval",
    "LinearClassifierMixin",
    "StrOptions",
    "check_matplotlib_support",
    "check_same_namespace",
    "check_sample_weight",
    "fit_context",
    "get_feature_names",
    "get_namespace",
    "get_namespace_and_device",
    "is_numpy_namespace",
    "max_precision_float_dtype",
    "move_to",
    "openmp_effective_n_threads",
]
