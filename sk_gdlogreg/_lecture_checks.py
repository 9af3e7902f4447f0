"""The input checks of ``lecture.py``, kept out of the lines that mirror the slides.

Each public function of the lecture is decorated with ``checks_input(check)``,
where ``check`` takes the function's arguments by name and returns them checked:
lists and other array-likes become NumPy arrays of float64, and anything wrong
raises an error that names the problem. ``ValueError`` for bad values, as
scikit-learn raises for bad data; ``TypeError`` where a number has the wrong
type, as ``sklearn.utils.check_scalar`` does. Most messages come from
scikit-learn's own helpers, so they read like the estimator's.

The checks run once per call from outside the lecture: when a lecture function
calls another (``gradient_descent`` calls ``update`` at every iteration,
``cost_and_gradients`` calls ``forward``), the inner call skips them, since its
input was checked already. A fit therefore checks X, which costs as much as one
pass over it, once and not at every iteration. Measured: the checks of one
``gradient_descent`` call take about 0.6 ms on breast cancer (569 x 30) and
3.6 ms on 20000 x 100, less than one iteration there; inside the fit each call
through the decorator costs about 0.3 microseconds, about 1 microsecond per
iteration (four calls) against about 100 of work on breast cancer.
"""

import contextvars
import functools
import inspect
import math
import numbers
import warnings
from collections.abc import Hashable

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_scalar
from sklearn.utils.validation import assert_all_finite, check_array, column_or_1d

from ._sklearn import check_sample_weight

# True while a checked lecture function runs (per thread, and per asyncio task)
_inside_the_lecture = contextvars.ContextVar("inside_the_lecture", default=False)


def checks_input(check):
    """Decorator: a lecture function whose arguments ``check`` checks first.

    ``check`` has the function's parameters (defaults applied) and returns
    their checked values, in order.
    """

    def decorate(function):
        signature = inspect.signature(function)

        @functools.wraps(function)
        def checked(*args, **kwargs):
            if _inside_the_lecture.get():  # called by a lecture function: checked already
                return function(*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = check(**bound.arguments)
            token = _inside_the_lecture.set(True)
            try:
                return function(*arguments)
            finally:
                _inside_the_lecture.reset(token)

        return checked

    return decorate


# The pieces ---------------------------------------------------------------


def _numbers(values, name, what):
    """values as a NumPy array of real numbers (not yet float), or a ValueError naming them."""
    array = np.asarray(values)
    if array.dtype.kind == "O":  # a list mixing ints and floats, a pandas object column
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if array.dtype.kind not in "biuf":  # strings, complex numbers, dates, None, ...
        first = array.flat[0] if array.size else None
        first = first.item() if isinstance(first, np.generic) else first  # 'a', not np.str_('a')
        example = f" such as {first!r}" if array.size else ""
        raise ValueError(
            f"{name} must hold real numbers ({what}), but it holds values of "
            f"dtype {array.dtype}{example}."
        )
    return array


def _finite_floats(values, name, what):
    """values as a float64 array of finite numbers, of any shape."""
    array = _numbers(values, name, what).astype(np.float64, copy=False)
    assert_all_finite(array, input_name=name)
    return array


def _scalar_or_array(array):
    """A 0-d array as a Python float: b = 0.0 stays a number."""
    return float(array) if array.ndim == 0 else array


def _data(X):
    """X as a 2-D float64 array (or CSR / CSC matrix) of finite numbers, one example per row."""
    if not sp.issparse(X):
        X = _numbers(X, "X", "one example per row, one feature per column")
    # scikit-learn's check for infinity sums X first: +inf and -inf, or huge
    # values, would overflow that sum and warn
    with np.errstate(over="ignore", invalid="ignore"):
        return check_array(X, accept_sparse=["csr", "csc"], dtype=np.float64, input_name="X")


def _vector(values, name, length, what):
    """A 1-D float64 array of finite numbers, of the given length."""
    array = _finite_floats(values, name, what)
    if array.shape != (length,):
        raise ValueError(
            f"{name} must have shape ({length},), {what}, but it has shape {array.shape}."
        )
    return array


def _shown(values, most=10):
    """The distinct values of a 1-D array, as a short list for a message."""
    try:
        distinct = np.unique(values).tolist()
    except TypeError:  # objects that cannot be sorted
        distinct = list(dict.fromkeys(values.tolist()))
    more = f" and {len(distinct) - most} more" if len(distinct) > most else ""
    return f"{distinct[:most]}{more}"


def _labels(y, m, n_classes=None):
    """y as a 1-D array of m labels: 0 or 1, or the class indices 0 .. n_classes-1.

    Binary labels keep their dtype (int, float or bool); class indices become
    integers, since the loops index the logits with them.
    """
    y = column_or_1d(y, input_name="y")  # (m, 1) is read as (m,), as in scikit-learn
    if y.shape[0] != m:
        raise ValueError(
            f"y has {y.shape[0]} labels, but X has {m} rows (examples): "
            "y needs one label per example."
        )
    numeric = y.dtype.kind in "biuf"
    if numeric:
        assert_all_finite(y, input_name="y")
    if n_classes is None:
        if not (numeric and np.isin(y, (0, 1)).all()):
            raise ValueError(
                f"y contains the labels {_shown(y)}, but the lecture's labels are 0 and 1 "
                "(a is the probability that y = 1). Encode the two classes as 0 and 1, "
                "e.g. y = (y == positive_label).astype(int)."
            )
        return y
    if not (numeric and np.all((y == np.round(y)) & (y >= 0) & (y < n_classes))):
        raise ValueError(
            f"y contains the labels {_shown(y)}, but with w of {n_classes} rows (one per "
            f"class) the labels are the class indices 0 to {n_classes - 1}."
        )
    return y.astype(np.intp)


def _weights_and_bias(w, b, n, rows_allowed):
    """w of shape (n,), or (K, n) if rows_allowed, and b with one number per row of w."""
    w = _finite_floats(w, "w", "the weights")
    if w.shape == (n,) or (rows_allowed and w.ndim == 2 and w.shape[1] == n and w.shape[0]):
        K = 1 if w.ndim == 1 else w.shape[0]
    else:
        shapes = f"({n},), one weight per feature (column of X)"
        if rows_allowed:
            shapes += f", or (K, {n}), one row per class"
        raise ValueError(f"w must have shape {shapes}, but it has shape {w.shape}.")
    b = _finite_floats(b, "b", "the bias")
    if b.ndim > 1 or b.size != K:
        raise ValueError(
            f"b must hold one number per row of w ({K}: w has shape {w.shape}), "
            f"but it has shape {b.shape}."
        )
    return w, float(b.item()) if w.ndim == 1 else b.reshape(K), K


def _learning_rate(learning_rate):
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise TypeError(
            f"learning_rate (the step alpha) must be a real number, got {learning_rate!r} "
            f"of type {type(learning_rate).__name__}."
        )
    if not (math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(
            f"learning_rate (the step alpha) must be a finite number > 0, got "
            f"{learning_rate!r}: each update moves w and b by alpha times the gradient, "
            "downhill on J."
        )
    return learning_rate


# One check per lecture function, named after it ---------------------------


def forward(X, w, b):
    X = _data(X)
    w, b, _ = _weights_and_bias(w, b, X.shape[1], rows_allowed=False)
    return X, w, b


def cost(z, y):
    z = _finite_floats(z, "z", "the logits, one per example")
    if z.ndim != 1:
        raise ValueError(f"z must be 1-D, one logit per example, but it has shape {z.shape}.")
    return z, _labels(y, z.shape[0])


def backward(X, a, y):
    X = _data(X)
    m = X.shape[0]
    a = _vector(a, "a", m, "one prediction per example (row of X)")
    if not np.all((a >= 0) & (a <= 1)):
        raise ValueError(
            f"a must hold probabilities in [0, 1] (the a of forward), but its values "
            f"go from {a.min():.4g} to {a.max():.4g}."
        )
    return X, a, _labels(y, m)


def update(w, b, dw, db, learning_rate):
    learning_rate = _learning_rate(learning_rate)
    checked = []
    for name, value, grad, grad_name in (("w", w, dw, "dw"), ("b", b, db, "db")):
        value = _finite_floats(value, name, "a parameter")
        grad = _finite_floats(grad, grad_name, f"the derivative of J with respect to {name}")
        if grad.shape != value.shape:
            raise ValueError(
                f"{grad_name} must have the shape of {name}, {value.shape}, one derivative "
                f"per parameter, but it has shape {grad.shape}."
            )
        checked.append((_scalar_or_array(value), _scalar_or_array(grad)))
    (w, dw), (b, db) = checked
    return w, b, dw, db, learning_rate


def cost_and_gradients(X, y, w, b):
    X = _data(X)
    w, b, _ = _weights_and_bias(w, b, X.shape[1], rows_allowed=False)
    return X, _labels(y, X.shape[0]), w, b


def loops(X, y, w, b, sample_weight):
    X = _data(X)
    w, b, K = _weights_and_bias(w, b, X.shape[1], rows_allowed=True)
    y = _labels(y, X.shape[0], n_classes=K if K > 1 else None)
    if sample_weight is not None:
        # also: finite, non-negative, not all 0 (the loops divide by their sum)
        sample_weight = check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
    return X, y, w, b, sample_weight


# The keys of lecture.LOOPS (a test holds the two equal; lecture.py imports this module)
LOOP_MODES = (None, "examples", "full")


def gradient_descent(X, y, learning_rate, n_iter, loop_mode):
    if not isinstance(loop_mode, Hashable) or loop_mode not in LOOP_MODES:
        raise ValueError(
            f"loop_mode must be one of {list(LOOP_MODES)} (vectorized, a loop over the "
            f"examples, loops over examples and features), got {loop_mode!r}."
        )
    learning_rate = _learning_rate(learning_rate)
    n_iter = check_scalar(n_iter, "n_iter", numbers.Integral, min_val=0)
    X = _data(X)
    y = _labels(y, X.shape[0])
    present = np.unique(y)
    if present.shape[0] < 2:
        raise ValueError(
            f"y contains only the label {present[0].item()!r}: gradient descent needs "
            "examples of both classes, 0 and 1. With one class J falls forever as |w| "
            "grows, and there is nothing to learn."
        )
    return X, y, learning_rate, n_iter, loop_mode


# What gradient_descent says after its iterations ---------------------------


def warn_about_costs(costs, w, b, learning_rate):
    """One ConvergenceWarning if J went up, or stopped being finite, during the descent.

    With a small enough alpha every update lowers J (up to rounding error); a
    rise means alpha is too large for this data, and a J of inf or nan that the
    numbers overflowed. The estimator warns in the same words.
    """
    went_up = next(
        (
            k
            for k in range(1, len(costs))
            # 16 units of rounding error of J, as the estimator allows
            if costs[k] > costs[k - 1] + 16 * np.finfo(np.float64).eps * abs(costs[k - 1])
        ),
        None,
    )
    not_finite = next((k for k, J in enumerate(costs) if not math.isfinite(J)), None)
    if not_finite is None and not (np.all(np.isfinite(w)) and math.isfinite(b)):
        not_finite = len(costs)  # the last update overflowed: costs does not show it
    what = []
    if went_up is not None and (not_finite is None or went_up < not_finite):
        what.append(
            f"J went up at iteration {went_up} (from {costs[went_up - 1]:.6g} to "
            f"{costs[went_up]:.6g})"
        )
    if not_finite is not None:
        what.append(
            f"J became {costs[not_finite]} at iteration {not_finite} (the numbers overflowed "
            "float64)"
            if not_finite < len(costs)
            else "the last update overflowed float64: the returned w and b are not finite"
        )
    if not what:
        return
    message = (
        ", then ".join(what) + f": the learning rate alpha={learning_rate!r} is too large for "
        "this data; try a smaller one, or standardize the features."
    )
    # warn_about_costs, gradient_descent, the checks' wrapper, the caller
    warnings.warn(message, ConvergenceWarning, stacklevel=4)
