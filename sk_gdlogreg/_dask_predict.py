"""The Dask backend's predictions: lazy Dask arrays chunked like X's rows."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._objective import log_softmax, sigmoid, softplus


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
            return -np.stack([softplus(z), softplus(-z)], axis=1)
        return np.stack([sigmoid(-z), sigmoid(z)], axis=1)
    logp = log_softmax(z)
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
        raise TypeError(f"{type(estimator).__name__} accepts Dask arrays of NumPy chunks only.")
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
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
        _decision_block,
        **p,
        chunks=(X.chunks[0], (p["coef"].shape[0],)),
        dtype=dt,
        meta=np.empty((0, 0), dt),
    )


def _proba(estimator, X, log):
    X = _check_predict_X(estimator, X)
    p = _params(estimator)
    dt = np.result_type(X.dtype, p["coef"].dtype)
    n_classes = estimator.classes_.shape[0]
    return X.map_blocks(
        _proba_block,
        **p,
        log=log,
        chunks=(X.chunks[0], (n_classes,)),
        dtype=dt,
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
        _predict_block,
        **_params(estimator),
        classes=classes,
        drop_axis=1,
        dtype=classes.dtype,
        meta=np.empty((0,), classes.dtype),
    )
