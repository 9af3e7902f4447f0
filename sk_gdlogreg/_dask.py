"""Fitting and predicting on Dask arrays, on one machine or a cluster.

Imported only when a Dask array reaches ``fit`` or a predict method: Dask is an
optional dependency (``pip install sk_gdlogreg[dask]``).

Full-batch gradient descent scales out simply: J and its gradient are sums over
the rows, so every chunk of rows computes its part and only ``1 + coef.size``
numbers per chunk travel. ``DaskLogisticObjective.loss_grad(coef)`` is one pass
over the data: the package's NumPy kernel (``_objective.loss_grad``) runs on each
chunk, its (J, gradient) is packed into one float64 row, and the rows are summed
by a tree reduction. Each call builds a fresh graph of the same size on top of
the data, so nothing grows with the number of iterations; the solvers, the step
sizes, the L1 prox and ``loss_curve_`` stay on the client, in NumPy, as for
in-memory data.

Before iterating, ``prepare_fit`` makes one pass over the data (classes, the
per-class sums of the weights, the weighted column means and standard
deviations, and the checks for NaN, infinity and negative weights, all at once).
The data is persisted in the workers' memory when it fits comfortably
("auto": under half the room the workers have left before they start spilling
to disk, which they do from 60 to 70% of their ``memory_limit`` by default;
without a distributed client, half the free memory of this machine); otherwise
every iteration reads it again from its source (Zarr, ``.npy`` files, ...). The
config key ``sk_gdlogreg.persist`` (``True``, ``False`` or ``"auto"``)
overrides the choice (with workers that have no ``memory_limit``, "auto" does
not persist)::

    with dask.config.set({"sk_gdlogreg.persist": False}):
        clf.fit(X, y)

Not supported with Dask input: ``loop_mode`` (the lecture's loops are code to
read, on in-memory data; a ``ValueError`` says so). scikit-learn's callbacks are
called, but without the data (``X=None, y=None``): scoring the model on a
cluster at every iteration would compute everything again, so ``ScoringMonitor``
records no scores; ``ProgressBar`` and callbacks that stop the fit work.
"""

import math
import warnings

import dask
import dask.array as da
import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from . import _objective
from ._estimator import FitData, _check_two_classes, _class_weights

# Persist when the data takes less than this fraction of the memory available
# (for the workers: of their room before spilling; the rest is for the tasks).
PERSIST_FRACTION = 0.5
# Coefficients up to this size travel inside each chunk's task; larger ones as one
# key, which saves sending a copy per chunk but pulls the tasks towards the worker
# that holds it.
EMBED_COEF_BYTES = 2**20


# --------------------------------------------------------------------- validation
def _name(estimator):
    return type(estimator).__name__


def _unknown_chunks(a):
    return any(math.isnan(c) for c in a.chunks[0])


def _check_X(estimator, X, name="X"):
    """A 2-D Dask array of NumPy chunks, in float32 or float64, chunked by rows only."""
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D Dask array for {name}, got a {X.ndim}-D one of shape {X.shape}."
        )
    meta = getattr(X, "_meta", None)
    if meta is not None and not isinstance(meta, np.ndarray):
        raise TypeError(
            f"{_name(estimator)} accepts Dask arrays of NumPy chunks only; the chunks of "
            f"{name} are {type(meta).__module__}.{type(meta).__name__}."
        )
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported.")
    if X.dtype != np.float32:
        X = X.astype(np.float64)
    if X.numblocks[1] != 1:  # each chunk must hold whole rows
        X = X.rechunk({1: -1})
    return X


def _min_size_error(estimator, what, X):
    return ValueError(
        f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum of 1 is "
        f"required by {_name(estimator)}."
    )


def _chunk_error(name):
    return ValueError(
        f"{name} has unknown chunk sizes (NaN), for example from a Dask DataFrame: "
        f"compute them first with {name}.compute_chunk_sizes(), or use "
        "dataframe.to_dask_array(lengths=True)."
    )


def _as_rows(v, name, rows, n_samples):
    """A 1-D Dask array chunked like X's rows, from a Dask or an in-memory vector."""
    if not isinstance(v, da.Array):
        v = np.asarray(v)
    if v.ndim == 2 and v.shape[1] == 1:
        if name == "y":
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please "
                "change the shape of y to (n_samples, ), for example using ravel().",
                DataConversionWarning,
                stacklevel=6,  # _as_rows, prepare_fit, _fit, fit, _fit_context, the caller
            )
        v = v[:, 0]
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {v.shape}.")
    if isinstance(v, da.Array) and _unknown_chunks(v):
        raise _chunk_error(name)
    if v.shape[0] != n_samples:
        if name == "y":
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"[{n_samples}, {v.shape[0]}]"
            )
        raise ValueError(f"{name}.shape == {v.shape}, expected {(n_samples,)}!")
    if not isinstance(v, da.Array):
        return da.from_array(v, chunks=(rows,))
    return v if v.chunks[0] == rows else v.rechunk((rows,))


# -------------------------------------------------------------- the statistics pass
def _stats_row(Xb, w):
    """[W, mean, M2] of rows Xb under weights w, in float64 (zeros if W == 0)."""
    d = Xb.shape[1]
    out = np.zeros(1 + 2 * d)
    W = float(w.sum())
    if W > 0:
        mean = (w @ Xb) / W
        out[0] = W
        out[1 : 1 + d] = mean
        diff = Xb - mean  # one temporary the size of the chunk, in float64
        out[1 + d :] = w @ np.square(diff, out=diff)
    return out


def _block_summary(Xb, yb, sb=None, *, by_class):
    """All the statistics of one chunk, in one 1-element object array.

    The classes and per-class sums of the weights; [W, mean, M2] of X, per class
    if ``by_class`` (the class weights multiply them after the pass, once the
    classes are known); the flags of the checks on X and the weights.
    """
    classes, inv = np.unique(yb, return_inverse=True)
    inv = inv.reshape(-1)
    w = np.ones(yb.shape[0]) if sb is None else sb.astype(np.float64)
    finite = bool(np.isfinite(Xb).all())
    if by_class:
        stats = np.zeros((classes.shape[0], 1 + 2 * Xb.shape[1]))
        for k in range(classes.shape[0]):
            rows = inv == k
            stats[k] = _stats_row(Xb[rows], w[rows])
    else:
        stats = _stats_row(Xb, w)[None, :]
    summary = {
        "by_class": by_class,
        "classes": classes,
        "counts": np.bincount(inv, weights=w, minlength=classes.shape[0]),
        "stats": stats,
        "x_nan": not finite and bool(np.isnan(Xb).any()),
        "x_inf": not finite and bool(np.isinf(Xb).any()),
        "s_nan": bool(np.isnan(w).any()),
        "s_inf": bool(np.isinf(w).any()),
        "s_neg": bool((w < 0).any()),
        "s_nonzero": bool((w != 0).any()),
    }
    out = np.empty(1, dtype=object)
    out[0] = summary
    return out


def _chan_merge(stats, groups, n_groups):
    """Merge rows [W, mean, M2] by group with Chan et al.'s formula, vectorized."""
    d = (stats.shape[1] - 1) // 2
    W, M, M2 = stats[:, 0], stats[:, 1 : 1 + d], stats[:, 1 + d :]
    out = np.zeros((n_groups, stats.shape[1]))
    Wg = np.bincount(groups, weights=W, minlength=n_groups)
    sum_wm = np.zeros((n_groups, d))
    np.add.at(sum_wm, groups, W[:, None] * M)
    mean = np.divide(sum_wm, Wg[:, None], out=np.zeros_like(sum_wm), where=Wg[:, None] > 0)
    m2 = np.zeros((n_groups, d))
    np.add.at(m2, groups, M2 + W[:, None] * np.square(M - mean[groups]))
    out[:, 0], out[:, 1 : 1 + d], out[:, 1 + d :] = Wg, mean, m2
    return out


FLAGS = ("x_nan", "x_inf", "s_nan", "s_inf", "s_neg", "s_nonzero")


def _merge_summaries(parts, axis=None, keepdims=True, **kwargs):
    """Merge chunk summaries (a node of the reduction tree)."""
    parts = list(np.ravel(parts))
    by_class = parts[0]["by_class"]
    classes = np.unique(np.concatenate([p["classes"] for p in parts]))
    counts = np.zeros(classes.shape[0])
    groups = []
    for p in parts:
        pos = np.searchsorted(classes, p["classes"])
        counts[pos] += p["counts"]
        groups.append(pos if by_class else np.zeros(1, dtype=np.intp))
    stats = _chan_merge(
        np.concatenate([p["stats"] for p in parts]),
        np.concatenate(groups).astype(np.intp),
        classes.shape[0] if by_class else 1,
    )
    merged = {k: any(p[k] for p in parts) for k in FLAGS}
    merged.update(by_class=by_class, classes=classes, counts=counts, stats=stats)
    out = np.empty(1, dtype=object)
    out[0] = merged
    return out


def _summary(X, y, s, by_class):
    """The lazy statistics pass: a blockwise summary per chunk, tree-merged."""
    obj = np.empty((0,), dtype=object)
    args = [X, "ij", y, "i"] + ([] if s is None else [s, "i"])
    parts = da.blockwise(
        _block_summary, "i", *args, by_class=by_class, dtype=object,
        adjust_chunks={"i": 1}, concatenate=True, meta=obj,
    )
    return da.reduction(
        parts, chunk=lambda x, axis, keepdims: x, combine=_merge_summaries,
        aggregate=_merge_summaries, axis=0, keepdims=True, dtype=object,
        concatenate=True, meta=obj,
    )


def _group_stats(stats, by_class, class_weight, dtype):
    """Column means and standard deviations under the class-weighted sample weights.

    Per class, the weights are those of the pass times the class weight g_k:
    [W_k, mean_k, M2_k] becomes [g_k W_k, mean_k, g_k M2_k]; then one Chan merge.
    """
    d = (stats.shape[1] - 1) // 2
    if by_class:
        g = np.ones(stats.shape[0]) if class_weight is None else class_weight
        keep = g * stats[:, 0] > 0
        scaled = np.column_stack(
            [g[keep] * stats[keep, 0], stats[keep, 1 : 1 + d], g[keep, None] * stats[keep, 1 + d :]]
        )
        stats = _chan_merge(scaled, np.zeros(scaled.shape[0], dtype=np.intp), 1)
    W, mean, m2 = stats[0, 0], stats[0, 1 : 1 + d], stats[0, 1 + d :]
    return mean.astype(dtype), np.sqrt(m2 / W).astype(dtype)


def _check_summary(estimator, summary, dtype):
    """The errors of the in-memory path, in its order, from the statistics."""
    finfo = f"dtype({np.dtype(dtype).name!r})"
    if summary["x_nan"]:
        raise ValueError(f"Input X contains NaN. {_name(estimator)} does not accept NaN.")
    if summary["x_inf"]:
        raise ValueError(f"Input X contains infinity or a value too large for {finfo}.")
    classes = summary["classes"]
    if classes.dtype.kind == "f" and not np.isfinite(classes).all():
        what = "NaN" if np.isnan(classes).any() else "infinity"
        raise ValueError(f"Input y contains {what}.")
    check_classification_targets(classes)  # the type of target is that of its values
    _check_two_classes(classes)
    if summary["s_nan"]:
        raise ValueError("Input sample_weight contains NaN.")
    if summary["s_inf"]:
        raise ValueError(f"Input sample_weight contains infinity or a value too large for {finfo}.")
    if not summary["s_nonzero"]:
        raise ValueError("Sample weights must contain at least one non-zero number.")
    if summary["s_neg"]:
        raise ValueError("Negative values in data passed to `sample_weight`.")


# ------------------------------------------------------------------------ persist
def _memory_available():
    """Bytes the data may occupy once persisted (None: unknown).

    With a distributed client: the room the workers have before they start
    spilling to disk, summed. A worker spills when its managed memory passes
    ``target`` x memory_limit or its process memory ``spill`` x memory_limit
    (``distributed.worker.memory.*``), and a worker process uses some memory
    before it holds any data. Without one (the threaded scheduler): this
    machine's free memory.
    """
    try:
        from distributed import default_client

        client = default_client()
    except (ImportError, ValueError):
        try:
            import psutil
        except ImportError:
            return None
        return psutil.virtual_memory().available
    try:
        info = client.scheduler_info(n_workers=-1)
    except TypeError:  # distributed < 2025.4 lists all workers without being asked
        info = client.scheduler_info()
    # False disables a threshold: the worker then holds data up to its limit
    target = dask.config.get("distributed.worker.memory.target", None) or 1.0
    spill = dask.config.get("distributed.worker.memory.spill", None) or 1.0
    room = 0
    for worker in info["workers"].values():
        limit = worker.get("memory_limit")
        if not limit:
            return None  # no limit, no spilling: nothing to go by
        metrics = worker.get("metrics", {})
        process, managed = metrics.get("memory", 0), metrics.get("managed_bytes", 0)
        room += max(0.0, min(target * limit - managed, spill * limit - process))
    return room


def _nbytes(*arrays):
    return sum(a.size * a.dtype.itemsize for a in arrays if a is not None)


def _persist_plan(X, vectors):
    """(persist X, persist the vectors): the config key, or what fits ("auto")."""
    setting = dask.config.get("sk_gdlogreg.persist", "auto")
    if setting != "auto":
        return bool(setting), bool(setting)
    memory = _memory_available()
    if memory is None:  # workers without a memory limit: streaming is the safe choice
        return False, False
    vec = _nbytes(*vectors)
    return _nbytes(X) + vec < PERSIST_FRACTION * memory, vec < PERSIST_FRACTION * memory


# ---------------------------------------------------------------------- the objective
def _encode_block(yb, classes, out_dtype):
    if classes.shape[0] == 2:
        return (yb == classes[1]).astype(out_dtype)  # the positive class is classes[1]
    return np.searchsorted(classes, yb).astype(out_dtype)


def _weights_block(yb, sb=None, *, classes, class_weight, S, out_dtype):
    w = np.ones(yb.shape[0], dtype=out_dtype) if sb is None else sb
    if class_weight is not None:
        w = w * class_weight[np.searchsorted(classes, yb)]
    return w / S


def _packed(Xb, yb, swb, coef=None, *, fit_intercept, kernel):
    """One chunk's (J, gradient) packed into one float64 row of 1 + coef.size numbers."""
    out = np.zeros((1, 1 + coef.size))
    if Xb.shape[0]:
        J, grad = kernel(Xb, yb, swb, coef, fit_intercept)
        out[0, 0] = J
        out[0, 1:] = grad.ravel()
    return out


class DaskLogisticObjective:
    """``LogisticObjective`` on Dask arrays: the same attributes and ``loss_grad``.

    Parameters
    ----------
    X : dask array of shape (m, n_features), float32 or float64, one column chunk
    y : dask array of shape (m,), chunked like X's rows
        0/1 in X's dtype (binary) or class indices (multinomial).
    sw : dask array of shape (m,), chunked like X's rows
        Sample weights times class weights, divided by their sum S.
    n_outputs : int
        1 (sigmoid) or the number of classes (softmax).
    fit_intercept : bool
    l2 : float
        Strength of the (1/2)||W||^2 term, already divided by S.
    persisted : bool
        Whether X is held in memory (information only).
    split_every : int, optional
        Fan-in of the tree that sums the chunks' partial results.
    """

    xp = np
    device = "cpu"

    def __init__(self, X, y, sw, n_outputs, fit_intercept, l2, persisted=False, split_every=None):
        self.X, self.y, self.sw = X, y, sw
        self.n_outputs = n_outputs
        self.fit_intercept = fit_intercept
        self.l2 = l2
        self.n_features = X.shape[1]
        self.dtype = X.dtype
        self.persisted = persisted
        self.split_every = split_every

    @property
    def coef_shape(self):
        return (self.n_outputs, self.n_features + int(self.fit_intercept))

    def graph(self, coef):
        """The lazy (1 + coef.size,) float64 array [J, grad] of one call (no L2 term).

        A fresh graph of constant size: one kernel task per chunk and a tree sum.
        A small coef travels inside the tasks (no extra hop between workers); a
        large one becomes one single-chunk array, one key sent once to each worker
        that needs it (the contracted indices ``kl`` give every chunk all of it).
        """
        coef = np.ascontiguousarray(coef)
        if coef.nbytes <= EMBED_COEF_BYTES:
            coef_args, coef_kwargs = (), {"coef": coef}
        else:
            coef_args, coef_kwargs = (da.from_array(coef, chunks=coef.shape), "kl"), {}
        parts = da.blockwise(
            _packed, "ij", self.X, "ij", self.y, "i", self.sw, "i", *coef_args,
            fit_intercept=self.fit_intercept, kernel=_objective.loss_grad, **coef_kwargs,
            dtype=np.float64, adjust_chunks={"i": 1, "j": 1 + coef.size},
            concatenate=True, meta=np.empty((0, 0), dtype=np.float64),
        )
        return parts.sum(axis=0, split_every=self.split_every)

    def loss_grad(self, coef):
        packed = self.graph(coef).compute()
        J = float(packed[0])
        grad = packed[1:].reshape(coef.shape).astype(coef.dtype)
        if self.l2:  # as LogisticObjective does, on the client
            W = coef[:, : self.n_features]
            J += 0.5 * self.l2 * float(np.sum(W * W))
            grad[:, : self.n_features] += self.l2 * W
        return J, grad


# ------------------------------------------------------------------------ prepare_fit
def prepare_fit(estimator, X, y, sample_weight):
    """Validate Dask input and build the ``FitData`` that ``GDLogisticRegression._fit`` solves.

    One pass over the data computes everything the set-up needs; the errors are
    those of the in-memory path (NaN or infinity in X or the weights, one class,
    negative weights, mismatched lengths), raised before any iteration.
    """
    if estimator.loop_mode is not None:
        raise ValueError(
            f"loop_mode={estimator.loop_mode!r} is not supported with Dask arrays: the "
            "lecture's loops are code to read and run on in-memory NumPy data. Use "
            "loop_mode=None to fit on Dask arrays."
        )
    X = _check_X(estimator, X)
    if _unknown_chunks(X):
        raise _chunk_error("X")
    n_samples, n_features = X.shape
    if n_samples == 0:
        raise _min_size_error(estimator, "sample", X)
    if n_features == 0:
        raise _min_size_error(estimator, "feature", X)
    rows = X.chunks[0]
    y = _as_rows(y, "y", rows, n_samples)
    s = None
    if sample_weight is not None:
        if np.ndim(sample_weight) == 0 and not isinstance(sample_weight, da.Array):
            s = da.full(n_samples, sample_weight, chunks=(rows,), dtype=X.dtype)
        else:
            s = _as_rows(sample_weight, "sample_weight", rows, n_samples)
            if s.dtype.kind == "c":
                raise ValueError("Complex data not supported.")
            s = s.astype(X.dtype)
    estimator.n_features_in_ = n_features
    if hasattr(estimator, "feature_names_in_"):  # a Dask array has no column names
        del estimator.feature_names_in_

    persist_X, persist_vectors = _persist_plan(X, (y, s))
    if persist_X:
        X = X.persist()
    if persist_vectors:
        y, s = dask.persist(y, s)

    by_class = estimator.class_weight is not None
    (summary,) = dask.compute(_summary(X, y, s, by_class))
    summary = summary[0]
    _check_summary(estimator, summary, X.dtype)

    classes, counts = summary["classes"], summary["counts"]
    class_weight = _class_weights(estimator.class_weight, classes, counts)
    if class_weight is not None:
        S = float(np.dot(class_weight, counts))
    else:
        S = float(counts.sum())
    mean, std = _group_stats(summary["stats"], by_class, class_weight, X.dtype)
    l1, l2 = estimator._penalty_strengths(S)

    n_outputs = 1 if classes.shape[0] == 2 else classes.shape[0]
    y_dtype = X.dtype if n_outputs == 1 else np.dtype(np.intp)
    y_enc = y.map_blocks(
        _encode_block, classes=classes, out_dtype=y_dtype, dtype=y_dtype,
        meta=np.empty((0,), y_dtype),
    )
    cw = None if class_weight is None else class_weight.astype(X.dtype)
    args = (y,) if s is None else (y, s)
    sw = da.map_blocks(
        _weights_block, *args, classes=classes, class_weight=cw, S=S, out_dtype=X.dtype,
        dtype=X.dtype, meta=np.empty((0,), X.dtype),
    )
    if persist_vectors:
        y_enc, sw = dask.persist(y_enc, sw)
    del y, s  # the raw labels and weights are no longer needed
    if estimator.verbose:
        where = "persisted in memory" if persist_X else "read from its source at every iteration"
        print(f"Dask: X ({_nbytes(X) / 2**20:.1f} MiB, {X.numblocks[0]} chunks) {where}")

    objective = DaskLogisticObjective(
        X, y_enc, sw, n_outputs, estimator.fit_intercept, l2, persisted=persist_X
    )
    # Per-iteration scoring would compute the model on the whole data again: the
    # callbacks get no data.
    callback_data = dict(X=None, y=None, metadata=None)
    return FitData(objective, classes, mean, std, l1, np, "cpu", callback_data)


# -------------------------------------------------------------------------- predict
def _check_finite(Xb):
    if not np.isfinite(Xb).all():
        what = "NaN" if np.isnan(Xb).any() else "infinity or a value too large"
        raise ValueError(f"Input X contains {what}.")


def _decision_block(Xb, coef, intercept):
    _check_finite(Xb)
    z = Xb @ coef.T + intercept
    return z[:, 0] if z.shape[1] == 1 else z


def _proba_block(Xb, coef, intercept, log):
    z = _decision_block(Xb, coef, intercept)
    if z.ndim == 1:
        if log:
            return -np.stack([_objective.softplus(z), _objective.softplus(-z)], axis=1)
        return np.stack([_objective.sigmoid(-z), _objective.sigmoid(z)], axis=1)
    logp = _objective.log_softmax(z)
    return logp if log else np.exp(logp)


def _predict_block(Xb, coef, intercept, classes):
    z = _decision_block(Xb, coef, intercept)
    indices = (z > 0).astype(np.intp) if z.ndim == 1 else z.argmax(axis=1)
    return classes[indices]


def _check_predict_X(estimator, X):
    check_is_fitted(estimator)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D Dask array for X, got a {X.ndim}-D one.")
    meta = getattr(X, "_meta", None)
    if meta is not None and not isinstance(meta, np.ndarray):
        raise TypeError(f"{_name(estimator)} accepts Dask arrays of NumPy chunks only.")
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {_name(estimator)} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    if X.dtype.kind not in "biuf":
        X = X.astype(np.float64)
    return X.rechunk({1: -1}) if X.numblocks[1] != 1 else X


def _params(estimator):
    return dict(coef=np.asarray(estimator.coef_), intercept=np.asarray(estimator.intercept_))


def decision_function(estimator, X):
    """Lazy decision function: a Dask array chunked like X's rows."""
    X = _check_predict_X(estimator, X)
    p = _params(estimator)
    dt = np.result_type(X.dtype, p["coef"].dtype)
    if p["coef"].shape[0] == 1:
        return X.map_blocks(_decision_block, **p, drop_axis=1, dtype=dt, meta=np.empty((0,), dt))
    return X.map_blocks(
        _decision_block, **p, chunks=(X.chunks[0], (p["coef"].shape[0],)), dtype=dt,
        meta=np.empty((0, 0), dt),
    )


def _proba(estimator, X, log):
    X = _check_predict_X(estimator, X)
    p = _params(estimator)
    dt = np.result_type(X.dtype, p["coef"].dtype)
    n_classes = estimator.classes_.shape[0]
    return X.map_blocks(
        _proba_block, **p, log=log, chunks=(X.chunks[0], (n_classes,)), dtype=dt,
        meta=np.empty((0, 0), dt),
    )


def predict_proba(estimator, X):
    """Lazy class probabilities: a Dask array chunked like X's rows."""
    return _proba(estimator, X, log=False)


def predict_log_proba(estimator, X):
    """Lazy log-probabilities: a Dask array chunked like X's rows."""
    return _proba(estimator, X, log=True)


def predict(estimator, X):
    """Lazy class labels (from ``classes_``): a Dask array chunked like X's rows."""
    X = _check_predict_X(estimator, X)
    classes = np.asarray(estimator.classes_)
    return X.map_blocks(
        _predict_block, **_params(estimator), classes=classes, drop_axis=1,
        dtype=classes.dtype, meta=np.empty((0,), classes.dtype),
    )
