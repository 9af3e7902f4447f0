"""The path of C on one fold of GDLogisticRegressionCV, and the helpers the estimator shares.

On a training fold the data are validated and summarized once (``_backends.prepare_fit``:
the classes, the weight sum, the column statistics the coordinates are built from); then the
values of C are fitted from the strongest penalty (smallest C) to the weakest, each fit
starting from the solution of the previous one (``_plan.make_plan`` / ``Plan.run``, the same
plan a ``GDLogisticRegression`` fit takes), and each is scored on the test fold. A
neighbouring C moves the solution little, so each value after the first costs a few iterations.

The folds are row selections of X in its own container: an index array on a NumPy array,
a sparse matrix or a Dask array (lazy: no copy of X per fold in memory), ``xp.take`` on an
Array API array.
"""

import inspect
import numbers
import sys

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin
from sklearn.metrics import get_scorer, make_scorer

from . import _backends
from ._estimator import GDLogisticRegression
from ._objective import log_softmax, sigmoid
from ._plan import make_plan
from ._report import warn_about
from ._sklearn import get_namespace_and_device, is_numpy_namespace, move_to

# Whether the path keeps the whitened coordinates from one C to the next (``Plan.run``'s
# ``coords``); False refits each C in the coordinates a single fit starts in.
KEEP_COORDS = True


def _is_dask(a):
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(a, da.Array)


def _on_host(a):
    """A NumPy copy of labels or weights, whatever holds them (for the splitter)."""
    if _is_dask(a):
        return np.asarray(a.compute())
    if isinstance(a, np.ndarray):
        return a
    xp, _, _ = get_namespace_and_device(a)
    return np.asarray(move_to(a, xp=np, device="cpu")) if not is_numpy_namespace(xp) else a


def _take_rows(a, rows):
    """The rows ``rows`` (NumPy integer indices) of ``a``, in a's own container.

    NumPy, SciPy sparse and Dask arrays take an index array (on Dask it is a lazy
    selection of the same chunks); other Array API namespaces ``xp.take`` it on
    a's device.
    """
    if a is None:
        return None
    if _is_dask(a) or sp.issparse(a) or isinstance(a, np.ndarray):
        return a[rows]
    xp, _, device = get_namespace_and_device(a)
    return xp.take(a, xp.asarray(rows, device=device), axis=0)


def _check_grid(Cs, l1_ratios):
    """The grid of C (as given: an int n is np.logspace(-4, 4, n)) and l1_ratio, checked."""
    if isinstance(Cs, numbers.Integral):
        Cs = np.logspace(-4, 4, Cs)
    Cs = np.asarray(Cs, dtype=np.float64)
    if Cs.ndim != 1 or Cs.size == 0 or not np.all(Cs > 0) or np.any(np.isnan(Cs)):
        raise ValueError(
            f"Cs must be a positive int or a non-empty 1-d list of positive numbers "
            f"(np.inf: no penalty); got Cs={Cs.tolist() if Cs.ndim else Cs!r}."
        )
    try:
        ratios = np.asarray(l1_ratios, dtype=np.float64)
    except (TypeError, ValueError):
        ratios = None
    if (
        ratios is None
        or ratios.ndim != 1
        or ratios.size == 0
        or not np.all((ratios >= 0) & (ratios <= 1))
    ):
        raise ValueError(
            f"l1_ratios must be a non-empty 1-d list of numbers between 0 and 1; "
            f"got l1_ratios={l1_ratios!r}."
        )
    return Cs, ratios


def _fold_scorer(scoring, classes):
    """A function (model, X, y, sample_weight) -> score, as LogisticRegressionCV scores a fold.

    ``None`` is the model's accuracy. A scorer whose metric takes ``labels`` is
    given all the classes, as scikit-learn does: a test fold may lack one.
    """
    if scoring is None:
        # ClassifierMixin's accuracy: the model's own score may be this scorer
        return lambda model, X, y, sample_weight: ClassifierMixin.score(
            model, X, y, sample_weight=sample_weight
        )
    scorer = get_scorer(scoring)
    score_func = getattr(scorer, "_score_func", None)
    if score_func is not None:
        params = inspect.signature(score_func).parameters
        if "labels" in params:
            extra = {"labels": classes}
            if classes.shape[0] <= 2 and "pos_label" in params:
                extra["pos_label"] = classes[-1]
            scorer = make_scorer(
                score_func,
                greater_is_better=scorer._sign == 1,
                response_method=scorer._response_method,
                **extra,
                **getattr(scorer, "_kwargs", {}),
            )

    def score(model, X, y, sample_weight):
        if sample_weight is None:
            return scorer(model, X, y)
        return scorer(model, X, y, sample_weight=sample_weight)

    return score


# The scorings the path computes itself from the coefficients (``_direct_scorer``).
DIRECT_SCORINGS = (None, "accuracy", "neg_log_loss")


def _direct_scorer(scoring, classes, X, y, sample_weight, fit_intercept):
    """``score(theta)``: the test fold's score at raw coefficients theta (NumPy), or None.

    For the accuracy (``None``, "accuracy") and "neg_log_loss" on host data (NumPy,
    sparse or Dask), the numbers scikit-learn's scorers give (``tests/test_cv.py``
    compares them): the same decision function, probabilities clipped to
    ``[eps, 1 - eps]`` and weighted mean, without the validation of labels and
    probabilities that the scorers repeat at every C. That validation cost more
    than the path itself on small folds (measured: 43% of the time of a 20,000 x 50
    fit), and a lazy Dask prediction is computed once per C instead of at each of
    the scorer's conversions.
    """
    on_host = isinstance(X, np.ndarray) or sp.issparse(X) or _is_dask(X)
    if scoring not in DIRECT_SCORINGS or not on_host:
        return None
    target = np.searchsorted(classes, _on_host(y))
    weights = None if sample_weight is None else _on_host(sample_weight)
    rows, n_features = np.arange(target.shape[0]), X.shape[1]

    def mean(values):
        if weights is None:
            return float(np.mean(values))
        return float(np.sum(values * weights) / np.sum(weights))

    def score(theta):
        z = X @ theta[:, :n_features].T
        z = np.asarray(z.compute() if _is_dask(z) else z)
        if fit_intercept:
            z = z + theta[:, n_features]
        if scoring != "neg_log_loss":
            predicted = (z[:, 0] > 0).astype(int) if z.shape[1] == 1 else np.argmax(z, axis=1)
            return mean(predicted == target)
        with np.errstate(over="ignore"):
            if z.shape[1] == 1:  # scikit-learn's binary log-loss takes p and 1 - p
                p = sigmoid(z[:, 0])
                p = np.where(target == 1, p, 1 - p)
            else:
                p = np.exp(log_softmax(z))[rows, target]
        eps = np.finfo(p.dtype).eps
        return -mean(-np.log(np.clip(p, eps, 1 - eps)))

    return score


def _model(theta, classes, fit_intercept, n_features, xp, device):
    """A fitted GDLogisticRegression with the coefficients ``theta`` (intercept last)."""
    theta = move_to(theta, xp=xp, device=device)
    model = GDLogisticRegression(fit_intercept=fit_intercept)
    model.classes_ = classes
    model.n_features_in_ = n_features
    model.coef_ = xp.asarray(theta[:, :n_features], copy=True)
    if fit_intercept:
        model.intercept_ = xp.asarray(theta[:, n_features], copy=True)
    else:
        model.intercept_ = xp.zeros(theta.shape[0], dtype=theta.dtype, device=device)
    return model


def _path_on_fold(X, y, sample_weight, train, test, *, l1_ratio, Cs, settings, classes, est):
    """Fit the path of C on one training fold; score each C on the test fold.

    Returns the coefficients (n_Cs, n_outputs, n_dof) as NumPy, the scores
    (n_Cs,) and the iterations (n_Cs,), in the order of ``Cs``.
    """
    data = _backends.prepare_fit(
        _take_rows(X, train), _take_rows(y, train), _take_rows(sample_weight, train), settings
    )
    fold_classes, all_classes = _on_host(data.classes), _on_host(classes)
    if not np.array_equal(fold_classes, all_classes):
        missing = [c for c in all_classes.tolist() if c not in set(fold_classes.tolist())]
        raise ValueError(
            f"A training fold has no sample of class {missing[0]!r}: its path cannot be "
            "compared with the others. Use a stratified cv (the default for classifiers) "
            "or fewer folds."
        )
    X_test, y_test = _take_rows(X, test), _take_rows(y, test)
    sw_test = _take_rows(sample_weight, test)
    # Scores are computed on the host (one copy of the test fold per fold): a
    # scorer's own conversions need not know the array's namespace or device.
    on_host = data.xp is not np
    if on_host:
        X_test, y_test, classes_host = _on_host(X_test), _on_host(y_test), _on_host(classes)
        sw_test = None if sw_test is None else _on_host(sw_test)
    direct = _direct_scorer(
        est.scoring, _on_host(classes), X_test, y_test, sw_test, est.fit_intercept
    )
    if direct is None:
        scorer = _fold_scorer(est.scoring, classes_host if on_host else classes)

    coefs = [None] * len(Cs)
    scores = np.empty(len(Cs))
    n_iter = np.zeros(len(Cs), dtype=np.int32)
    theta, coords = None, None
    # strong to weak penalty: from small C the solution grows steadily away from 0
    for i in np.argsort(Cs, kind="stable"):
        objective, plan = make_plan(
            data,
            C=float(Cs[i]),
            l1_ratio=float(l1_ratio),
            learning_rate=est.learning_rate,
            solver=est.solver,
            preconditioner=est.preconditioner,
        )
        if theta is None:
            xp = objective.xp
            theta = xp.zeros(objective.coef_shape, dtype=objective.dtype, device=objective.device)
        if KEEP_COORDS and plan.recondition is not None:
            # the whitened coordinates of the previous C: the curvature changes slowly.
            # The whole softmax Hessian is cheap (small problems only): it is taken anew
            # at this C. The previous C's, a Newton-like metric with its L2 term, made
            # the steps overshoot when C grew by orders (J up 50-fold, 1,000 iterations)
            if coords is not None and plan.recondition.blocks == "joint":
                coords = plan.renewed_coords(theta)
            result, coords = plan.run(
                theta, max_iter=est.max_iter, tol=est.tol, coords=coords, return_coords=True
            )
        else:
            result, coords = plan.run(theta, max_iter=est.max_iter, tol=est.tol), None
        warn_about(
            result,
            learning_rate=est.learning_rate,
            solver=plan.solver_name,
            max_iter=est.max_iter,
            tol=est.tol,
            dtype=str(objective.dtype).rsplit(".", 1)[-1],
        )
        theta = result.coef
        n_iter[i] = result.n_iter
        coefs[i] = np.asarray(move_to(theta, xp=np, device="cpu"))
        n_features = objective.n_features
        if direct is not None:
            scores[i] = direct(coefs[i])
            continue
        if on_host:
            model = _model(coefs[i], classes_host, est.fit_intercept, n_features, np, "cpu")
        else:
            model = _model(theta, classes, est.fit_intercept, n_features, data.xp, data.device)
        scores[i] = float(scorer(model, X_test, y_test, sw_test))
    return np.stack(coefs), scores, n_iter
