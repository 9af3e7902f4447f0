"""Fitting and predicting on Dask arrays, on one machine or a cluster.

Imported only when a Dask array reaches ``fit`` or a predict method: Dask is an
optional dependency (``pip install sk_gdlogreg[dask]``).

Full-batch gradient descent scales out simply: J and its gradient are sums over
the rows, so every chunk of rows computes its part and only ``1 + coef.size``
numbers per chunk travel. ``DaskData.loss_grad(coef)`` is one pass over the
data: the data term in-memory data take (``_objective.data_term``, or
``softmax_data_term`` for more than two classes) runs on each chunk, its
(J, gradient) is packed into one float64 row, and the rows are summed by a tree
reduction. Each call builds a fresh graph of the same size on top of
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

from . import _curvature, _dask_stats, _objective
from ._dask_predict import (  # noqa: F401  the backend's predict functions
    decision_function,
    predict,
    predict_log_proba,
    predict_proba,
)
from ._data import FitData, class_weights, encode_labels

# Persist when the data takes less than this fraction of the memory available
# (for the workers: of their room before spilling; the rest is for the tasks).
PERSIST_FRACTION = 0.5
# Coefficients up to this size travel inside each chunk's task; larger ones as one
# key, which saves sending a copy per chunk but pulls the tasks towards the worker
# that holds it.
EMBED_COEF_BYTES = 2**20


# --------------------------------------------------------------------- validation
def _unknown_chunks(a):
    return any(math.isnan(c) for c in a.chunks[0])


def _check_X(estimator_name, X, name="X"):
    """A 2-D Dask array of NumPy chunks, in float32 or float64, chunked by rows only."""
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D Dask array for {name}, got a {X.ndim}-D one of shape {X.shape}."
        )
    meta = getattr(X, "_meta", None)
    if meta is not None and not isinstance(meta, np.ndarray):
        raise TypeError(
            f"{estimator_name} accepts Dask arrays of NumPy chunks only; the chunks of "
            f"{name} are {type(meta).__module__}.{type(meta).__name__}."
        )
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported.")
    if X.dtype != np.float32:
        X = X.astype(np.float64)
    if X.numblocks[1] != 1:  # each chunk must hold whole rows
        X = X.rechunk({1: -1})
    return X


def _min_size_error(estimator_name, what, X):
    return ValueError(
        f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum of 1 is "
        f"required by {estimator_name}."
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
def _weights_block(yb, sb=None, *, classes, class_weight, S, out_dtype):
    w = np.ones(yb.shape[0], dtype=out_dtype) if sb is None else sb
    if class_weight is not None:
        w = w * class_weight[encode_labels(yb, classes)]
    return w / S


def _packed(Xb, yb, swb, coef=None, *, fit_intercept, n_classes):
    """One chunk's (J, gradient) packed into one float64 row of 1 + coef.size numbers."""
    out = np.zeros((1, 1 + coef.size))
    if Xb.shape[0]:
        coef = coef.astype(Xb.dtype)
        if _objective.softmax_applies(Xb, np, n_classes):  # as InMemoryData does
            yb, swb = yb.astype(Xb.dtype), swb.astype(Xb.dtype)
            J, grad = _objective.softmax_data_term(Xb, yb, swb, coef, fit_intercept)
        else:
            Y = _objective.targets(yb, n_classes, Xb.dtype)
            J, grad = _objective.data_term(Xb, Y, swb, coef, fit_intercept)
        out[0, 0] = J
        out[0, 1:] = grad.ravel()
    return out


def _curvature_row(Xb, swb, coef=None, *, fit_intercept, floor, blocks):
    """One chunk's ``(Hn, c, weight)`` packed into one float64 row; weight -1: no rows."""
    p = coef.shape[1]
    out = np.zeros((1, 1 + p + math.prod(_curvature.curvature_shape(coef.shape, blocks))))
    if Xb.shape[0] == 0:
        out[0, 0] = -1
        return out
    Hn, c, weight = _curvature.curvature_block(Xb, swb, coef, fit_intercept, floor, blocks=blocks)
    out[0, 0], out[0, 1 : 1 + p], out[0, 1 + p :] = weight, c, Hn.ravel()
    return out


class DaskData(_objective.DataTerm):
    """The data term on Dask arrays: one pass over the chunks per ``loss_grad``.

    Parameters
    ----------
    X : dask array of shape (m, n_features), float32 or float64, one column chunk
    y : dask array of shape (m,), chunked like X's rows
        Class indices 0 .. n_classes-1.
    sw : dask array of shape (m,), chunked like X's rows
        Sample weights times class weights, divided by their sum S.
    n_classes : int
    fit_intercept : bool
    persisted : bool
        Whether X is held in memory (information only).
    split_every : int, optional
        Fan-in of the tree that sums the chunks' partial results.
    """

    def __init__(self, X, y, sw, n_classes, fit_intercept, persisted=False, split_every=None):
        super().__init__(X, n_classes, fit_intercept, np)
        self.X, self.y, self.sw = X, y, sw
        self.n_classes = n_classes
        self.persisted = persisted
        self.split_every = split_every

    def graph(self, coef):
        """The lazy (1 + coef.size,) float64 array [J, grad] of one call.

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
            _packed,
            "ij",
            self.X,
            "ij",
            self.y,
            "i",
            self.sw,
            "i",
            *coef_args,
            fit_intercept=self.fit_intercept,
            n_classes=self.n_classes,
            **coef_kwargs,
            dtype=np.float64,
            adjust_chunks={"i": 1, "j": 1 + coef.size},
            concatenate=True,
            meta=np.empty((0, 0), dtype=np.float64),
        )
        return parts.sum(axis=0, split_every=self.split_every)

    def curvature(self, coef, stride, floor, blocks="shared"):
        """The sampled rows' ``(Hn, c, weight)``: one task per chunk, added on the client."""
        p = coef.shape[1]
        shape = _curvature.curvature_shape(coef.shape, blocks)
        rows = da.blockwise(
            _curvature_row,
            "ij",
            self.X[::stride],
            "ij",
            self.sw[::stride],
            "i",
            coef=np.ascontiguousarray(coef),
            fit_intercept=self.fit_intercept,
            floor=floor,
            blocks=blocks,
            dtype=np.float64,
            adjust_chunks={"i": 1, "j": 1 + p + math.prod(shape)},
            concatenate=True,
            meta=np.empty((0, 0), dtype=np.float64),
        ).compute()
        parts = [(r[1 + p :].reshape(shape), r[1 : 1 + p], r[0]) for r in rows if r[0] >= 0]
        return _curvature.merge_curvatures(parts)

    def loss_grad(self, coef):
        packed = self.graph(coef).compute()
        return float(packed[0]), packed[1:].reshape(coef.shape).astype(coef.dtype)


# ------------------------------------------------------------------------ prepare_fit
def prepare_fit(X, y, sample_weight, settings):
    """Validate Dask input and build the ``FitData`` of a fit.

    One pass over the data computes everything the set-up needs; the errors are
    those of the in-memory path (NaN or infinity in X or the weights, one class,
    negative weights, mismatched lengths), raised before any iteration.
    """
    if settings.loop_mode is not None:
        raise ValueError(
            f"loop_mode={settings.loop_mode!r} is not supported with Dask arrays: the "
            "lecture's loops are code to read and run on in-memory NumPy data. Use "
            "loop_mode=None to fit on Dask arrays."
        )
    X = _check_X(settings.name, X)
    if _unknown_chunks(X):
        raise _chunk_error("X")
    n_samples, n_features = X.shape
    if n_samples == 0:
        raise _min_size_error(settings.name, "sample", X)
    if n_features == 0:
        raise _min_size_error(settings.name, "feature", X)
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

    persist_X, persist_vectors = _persist_plan(X, (y, s))
    if persist_X:
        X = X.persist()
    if persist_vectors:
        y, s = dask.persist(y, s)

    by_class = settings.class_weight is not None
    (summary,) = dask.compute(_dask_stats.summary(X, y, s, by_class))
    summary = summary[0]
    _dask_stats.check_summary(settings.name, summary, X.dtype)

    classes, counts = summary["classes"], summary["counts"]
    class_weight = class_weights(settings.class_weight, classes, counts)
    if class_weight is not None:
        S = float(np.dot(class_weight, counts))
    else:
        S = float(counts.sum())
    mean, std = _dask_stats.group_stats(summary["stats"], by_class, class_weight, X.dtype)

    y_idx = y.map_blocks(
        encode_labels, classes=classes, dtype=np.intp, meta=np.empty((0,), np.intp)
    )
    cw = None if class_weight is None else class_weight.astype(X.dtype)
    args = (y,) if s is None else (y, s)
    sw = da.map_blocks(
        _weights_block,
        *args,
        classes=classes,
        class_weight=cw,
        S=S,
        out_dtype=X.dtype,
        dtype=X.dtype,
        meta=np.empty((0,), X.dtype),
    )
    if persist_vectors:
        y_idx, sw = dask.persist(y_idx, sw)
    del y, s  # the raw labels and weights are no longer needed
    if settings.verbose:
        where = "persisted in memory" if persist_X else "read from its source at every iteration"
        print(f"Dask: X ({_nbytes(X) / 2**20:.1f} MiB, {X.numblocks[0]} chunks) {where}")

    data = DaskData(X, y_idx, sw, classes.shape[0], settings.fit_intercept, persisted=persist_X)
    return FitData(
        data=data,
        classes=classes,
        weight_sum=S,
        mean=mean,
        std=std,
        xp=np,
        device="cpu",
        n_features_in=n_features,
        feature_names_in=None,  # a Dask array has no column names
        # Per-iteration scoring would compute the model on the whole data
        # again: the callbacks get no data.
        callback_data=dict(X=None, y=None, metadata=None),
    )
