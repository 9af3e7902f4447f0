"""The backends: in-memory arrays here, Dask arrays in ``_dask.py``.

``prepare_fit(X, y, sample_weight, settings)`` validates the input and returns
a ``FitData`` (``_data.py``) whoever holds the data; ``lazy_backend(X)`` gives
the module whose predict functions take X when X is computed lazily (Dask), so
the estimator never needs to know which kinds of arrays exist.

In memory: NumPy arrays and SciPy sparse matrices, and arrays of any Array API
namespace (PyTorch, CuPy, ...) with scikit-learn's ``array_api_dispatch``, whose
fit then runs on their device. The labels are encoded once, as class indices;
``_objective.targets`` turns those into what the objective needs.
"""

import sys

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_X_y

from . import _blocks, _kernel, _objective, lecture
from ._curvature import FloorSplit, curvature_of_rows, curvature_of_sample
from ._data import FitData, check_two_classes, class_weights
from ._objective import DataTerm
from ._sklearn import (
    check_sample_weight,
    get_feature_names,
    get_namespace_and_device,
    is_numpy_namespace,
    max_precision_float_dtype,
    move_to,
)
from ._stats import weighted_mean_std


def lazy_backend(X):
    """The Dask backend module if X is a Dask array (Dask is imported only then), else None."""
    da = sys.modules.get("dask.array")
    if da is not None and isinstance(X, da.Array):
        from . import _dask

        return _dask
    return None


def prepare_fit(X, y, sample_weight, settings):
    """Validate the data and build the ``FitData`` a fit solves, on any backend."""
    lazy = lazy_backend(X)
    if lazy is not None:
        return lazy.prepare_fit(X, y, sample_weight, settings)
    return _prepare_in_memory(X, y, sample_weight, settings)


def _host(*arrays):
    """NumPy versions of arrays, without a copy for those that already are."""
    return [
        a if isinstance(a, np.ndarray) or sp.issparse(a) else move_to(a, xp=np, device="cpu")
        for a in arrays
    ]


def _prepare_in_memory(X, y, sample_weight, settings):
    xp, _, device = get_namespace_and_device(X)
    dtypes = [xp.float64, xp.float32]
    if max_precision_float_dtype(xp, device) != xp.float64:
        dtypes = [xp.float32]
    sample_weight = move_to(sample_weight, xp=xp, device=device)
    feature_names = get_feature_names(X)
    # scikit-learn's check for infinity sums X first: +inf and -inf would warn
    with np.errstate(over="ignore", invalid="ignore"):
        X, y = check_X_y(X, y, accept_sparse="csr", dtype=dtypes, estimator=settings.name)
    check_classification_targets(y)
    if isinstance(y, np.ndarray) and y.dtype.kind in "biufUS":
        # what LabelEncoder does, without its second validation of y (a small
        # table's fit pays for each: cross-validation makes many)
        classes, y_idx = np.unique(y, return_inverse=True)
        y_idx = move_to(y_idx.reshape(-1), xp=xp, device=device)
    else:  # labels of other kinds (objects), or in another namespace
        encoder = LabelEncoder()
        y_idx = move_to(encoder.fit_transform(y), xp=xp, device=device)
        classes = encoder.classes_
    n_classes = classes.shape[0]
    check_two_classes(classes)
    # in the widest float: weights of 1e300 must not overflow float32 before scaling
    s = check_sample_weight(sample_weight, X, dtype=dtypes[0], ensure_non_negative=True)
    s, weight_scale = _times_class_weights(s, y_idx, classes, settings.class_weight, xp, device)
    s = xp.astype(s, X.dtype)

    # The loops are NumPy code, written to be read: they get NumPy copies.
    xp_fit = np if is_numpy_namespace(xp) or settings.loop_mode else xp
    X_fit, y_fit, s_fit = _host(X, y_idx, s) if xp_fit is np else (X, y_idx, s)
    if settings.loop_mode:
        data = LoopData(X_fit, y_fit, s_fit, n_classes, settings.fit_intercept, settings.loop_mode)
    else:
        data = InMemoryData(X_fit, y_fit, s_fit, n_classes, settings.fit_intercept, xp_fit)
    with _blocks.one_blas_thread(xp_fit is np):  # the same numbers in any thread (see _blocks)
        mean, std = weighted_mean_std(X_fit, s_fit, xp_fit)
    metadata = None if sample_weight is None else {"sample_weight": sample_weight}
    return FitData(
        data=data,
        classes=classes,
        weight_sum=float(xp.sum(s)),
        weight_scale=weight_scale,
        mean=mean,
        std=std,
        xp=xp,
        device=device,
        n_features_in=X.shape[1],
        feature_names_in=feature_names,
        callback_data=dict(X=X, y=y, metadata=metadata),
    )


def _times_class_weights(s, y_idx, classes, class_weight, xp, device):
    """(weights, scale): sample weights times class weights, divided by ``scale``.

    The weights the fit uses are at most 1, so that no sum of them overflows or
    vanishes whatever their unit (1e308 or 1e-320); ``scale`` is that unit, a
    Python float, which only the penalty strength needs. The per-class sums are
    set-up work on K numbers: done once, on the host.
    """
    s_host, y_host, classes_host = _host(s, y_idx, classes)
    s_max = float(s_host.max()) if s_host.shape[0] else 0.0
    if s_max > 0:
        s = s / s_max
        s_host = s_host / s_max
    per_class = np.bincount(y_host, weights=s_host, minlength=classes.shape[0])
    weights = class_weights(class_weight, classes_host, per_class)
    if weights is None:
        return s, s_max
    w_max = float(weights.max())
    weights = xp.asarray(weights / w_max, dtype=s.dtype, device=device)
    s = s * xp.take(weights, y_idx)
    # the products' unit too: 'balanced' can make every product tiny (a class
    # whose weights are tiny gets a huge class weight, the others a tiny one)
    p_max = float(xp.max(s)) if s.shape[0] else 0.0
    if p_max > 0:
        s = s / p_max
    return s, s_max * w_max * (p_max if p_max > 0 else 1.0)


class InMemoryData(DataTerm):
    """The data term on in-memory data, vectorized.

    Parameters
    ----------
    X : array of shape (m, n_features)
        NumPy array, SciPy sparse matrix, or an array of any Array API namespace.
    y : array of shape (m,)
        Class indices 0 .. n_classes-1, in X's namespace and device.
    sample_weight : array of shape (m,)
        Non-negative weights s_i (sample weight times class weight), not normalized.
    n_classes : int
    fit_intercept : bool
    xp : namespace, default=numpy
    n_threads : int, default=None
        Threads over blocks of rows (dense NumPy X only); None: as many as the
        environment allows (``_blocks.default_n_threads``).
    compiled : bool, default=None
        Whether J and its gradient are computed by the compiled loops of
        ``_kernel.py`` (the C extension) or by NumPy; None: the compiled loops
        where they apply (``compiled_data_term``).
    """

    def __init__(
        self, X, y, sample_weight, n_classes, fit_intercept, xp=np, n_threads=None, compiled=None
    ):
        super().__init__(X, n_classes, fit_intercept, xp)
        self.X = X
        self.sw = sample_weight / xp.sum(sample_weight)
        self.term = None
        if compiled is None or compiled:
            self.term = _objective.compiled_data_term(X, xp, n_classes)
        if compiled and self.term is None:
            raise ValueError(
                "the compiled data term needs the C extension (built by pip install), "
                "two classes and C-ordered float NumPy X"
            )
        if self.term is not None:  # q = 1 - 2y and the weights in float64, once
            self.Y = 1 - 2 * _objective.targets(y, n_classes, np.float64, xp)
            self.sw = np.asarray(self.sw, dtype=np.float64)
        elif _objective.softmax_applies(X, xp, n_classes):  # class indices in X's dtype
            self.term, self.Y = _objective.softmax_data_term, np.asarray(y, dtype=X.dtype)
            self.sw = np.asarray(self.sw, dtype=X.dtype)
        elif _objective.binary_applies(X, xp, n_classes):  # q = 1 - 2y, once
            self.term = _objective.binary_data_term
            self.Y = 1 - 2 * _objective.targets(y, n_classes, X.dtype, xp)
        else:  # the labels as data_term takes them
            self.term = _objective.data_term
            self.Y = _objective.targets(y, n_classes, X.dtype, xp)
        # blocks of rows: dense NumPy X of more than one block (one block is one call);
        # the compiled loops take their blocks in one call per thread
        self.blocked = xp is np and not sp.issparse(X) and _blocks.n_blocks(X) > 1
        if n_threads is None:
            n_threads = _blocks.default_n_threads() if self.blocked else 1
        self.n_threads = n_threads
        self.floor_split = FloorSplit()  # the renewals' floor split (dense NumPy X)

    def curvature(self, coef, stride, floor, blocks="shared"):
        X, sw = self.X[::stride, :], self.sw[::stride]
        if type(X) is np.ndarray and (coef.shape[0] == 1 or blocks == "shared"):
            return curvature_of_sample(
                X, sw, coef, self.fit_intercept, floor, blocks, self.floor_split, stride
            )
        return curvature_of_rows(
            X, sw, coef, self.fit_intercept, floor, self.xp, self.device, blocks
        )

    def loss_grad(self, coef):
        if self.term is _kernel.data_term:
            return self.term(self.X, self.Y, self.sw, coef, self.fit_intercept, self.n_threads)
        if self.blocked:
            return _blocks.over_rows(
                self.term, self.X, self.Y, self.sw, coef, self.fit_intercept, self.n_threads
            )
        if self.term is _objective.data_term:
            return self.term(self.X, self.Y, self.sw, coef, self.fit_intercept, self.xp)
        return self.term(self.X, self.Y, self.sw, coef, self.fit_intercept)


class LoopData(DataTerm):
    """The data term by the lecture's explicit loops (NumPy arrays only).

    The loops take the raw weights, accumulate, and divide by their sum at the
    end, as the lecture divides by m.
    """

    def __init__(self, X, y, sample_weight, n_classes, fit_intercept, loop_mode):
        super().__init__(X, n_classes, fit_intercept, np)
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.loops = lecture.LOOPS[loop_mode]

    def curvature(self, coef, stride, floor, blocks="shared"):
        """As the vectorized data term's: whitening is not part of the lecture."""
        sw = self.sample_weight / self.sample_weight.sum()
        X, sw = self.X[::stride], sw[::stride]
        return curvature_of_rows(X, sw, coef, self.fit_intercept, floor, blocks=blocks)

    def loss_grad(self, coef):
        n_features = self.n_features
        W = coef[0, :n_features] if self.n_outputs == 1 else coef[:, :n_features]
        b = coef[:, n_features] if self.fit_intercept else np.zeros(coef.shape[0])
        b = b[0] if self.n_outputs == 1 else b
        J, dw, db = self.loops(self.X, self.y, W, b, self.sample_weight)
        grad = np.empty_like(coef)
        grad[:, :n_features] = dw
        if self.fit_intercept:
            grad[:, n_features] = db
        return J, grad
