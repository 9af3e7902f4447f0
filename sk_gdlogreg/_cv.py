"""GDLogisticRegressionCV: C (and l1_ratio) chosen by cross-validation, along a warm-started path.

On each training fold the values of C are fitted from the strongest penalty (smallest C) to
the weakest, each fit starting from the solution of the previous one (``_cv_path``: the path
on one fold, scored on its test fold). The folds (and the values of l1_ratio) are independent
tasks for joblib; each runs the same code whatever ``n_jobs``, so the results do not depend
on it. This module holds the estimator: the grid, the folds, the choice of C and the refit.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.model_selection import check_cv
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from . import _backends
from ._cv_path import _check_grid, _fold_scorer, _is_dask, _model, _on_host, _path_on_fold
from ._data import FitSettings
from ._estimator import GDLogisticRegression, _is_fitted_attribute
from ._plan import make_plan
from ._report import warn_about
from ._sklearn import (
    Interval,
    LinearClassifierMixin,
    StrOptions,
    check_same_namespace,
    check_sample_weight,
    fit_context,
    get_namespace_and_device,
    is_numpy_namespace,
    move_to,
)


class GDLogisticRegressionCV(LinearClassifierMixin, BaseEstimator):
    """Logistic regression by gradient descent, with C chosen by cross-validation.

    The cross-validation counterpart of :class:`GDLogisticRegression`, with the
    interface of :class:`~sklearn.linear_model.LogisticRegressionCV` where it
    applies and its fitted attributes in scikit-learn's new layout
    (``use_legacy_attributes=False``). On each fold the values of ``Cs`` are
    fitted from the smallest (the strongest penalty) to the largest, each fit
    warm-started from the previous solution, so the whole path costs little
    more than one fit at a large C. The best C (and l1_ratio) maximizes the
    score summed over the folds; with ``refit=True`` the model is then fitted on
    all the data at that C, starting from the mean of the folds' coefficients.

    The objective at each C is the one of :class:`GDLogisticRegression` (and of
    scikit-learn, up to a constant factor): on a training fold, C multiplies
    that fold's summed loss, so the solutions are scikit-learn's on the same folds.

    Parameters
    ----------
    Cs : int or array-like of float, default=10
        The values of C tried. An int n is ``np.logspace(-4, 4, n)``, as in
        scikit-learn; ``np.inf`` means no penalty.
    l1_ratios : array-like of float, default=(0.0,)
        The elastic-net mixings tried, each between 0 (L2) and 1 (L1); each has
        its own path over ``Cs``.
    fit_intercept : bool, default=True
        Whether to fit the intercept.
    cv : int, cross-validation generator or iterable, default=None
        The folds, as in :func:`~sklearn.model_selection.check_cv`: ``None`` is
        5-fold stratified.
    scoring : str or callable, default="neg_log_loss"
        The score maximized over the grid, a scorer name or callable
        ``scorer(estimator, X, y)``; ``None`` is the accuracy. The default is
        the one scikit-learn's ``LogisticRegressionCV`` takes in version 1.11.
    solver : {"auto", "gd", "nesterov", "anderson"}, default="auto"
        As in :class:`GDLogisticRegression`.
    learning_rate : float or "auto", default="auto"
        As in :class:`GDLogisticRegression`.
    preconditioner : {"auto", "diagonal", "whitening"}, default="auto"
        As in :class:`GDLogisticRegression`.
    tol : float, default=1e-4
        As in :class:`GDLogisticRegression`, for every fit of the path.
    max_iter : int, default=1000
        Maximum number of iterations of each fit (each C of each fold).
    class_weight : dict or "balanced", default=None
        Weights of the classes; ``"balanced"`` is computed once on all the data
        (with the sample weights), as in scikit-learn, and used on every fold.
    n_jobs : int, default=None
        Number of jobs running the folds (and l1_ratios) in parallel, through
        joblib; ``None`` means 1. The results do not depend on it.
    verbose : int, default=0
        The verbosity of joblib over the folds.
    refit : bool, default=True
        If True, fit all the data at the best C and l1_ratio. If False, average
        the coefficients of the folds, each at its own best C and l1_ratio (and
        ``C_``, ``l1_ratio_`` are the averages of those).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        The coefficients of the final model, in X's namespace and device.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Its intercepts.
    Cs_ : ndarray of shape (n_Cs,)
        The values of C tried, in the order given.
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
        The values of l1_ratio tried.
    C_ : float
        The best C (with ``refit=False``, the mean of the folds' best).
    l1_ratio_ : float
        The best l1_ratio (with ``refit=False``, the mean of the folds' best).
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_Cs)
        The score of each fit on its test fold.
    coefs_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_Cs, n_outputs, n_dof)
        The coefficients of each fit, intercept last (``n_dof`` is
        ``n_features + fit_intercept``; ``n_outputs`` is 1 for two classes).
        NumPy arrays, whatever the container of X.
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_Cs)
        The iterations (passes over the fold) of each fit of the path.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features seen during fit, when X has string column names.

    See Also
    --------
    GDLogisticRegression : The estimator fitted at each C.
    sklearn.linear_model.LogisticRegressionCV : The same search, by quasi-Newton
        and other solvers.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sk_gdlogreg import GDLogisticRegressionCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), GDLogisticRegressionCV(Cs=5)).fit(X, y)
    >>> print(f"C_ = {clf[-1].C_:g}, scores_ of shape {clf[-1].scores_.shape}")
    C_ = 1, scores_ of shape (5, 1, 5)
    """

    _parameter_constraints: dict = {
        "Cs": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like"],
        "fit_intercept": ["boolean"],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "solver": [StrOptions({"auto", "gd", "nesterov", "anderson"})],
        "learning_rate": [
            Interval(numbers.Real, 0, np.inf, closed="neither"),
            StrOptions({"auto"}),
        ],
        "preconditioner": [StrOptions({"auto", "diagonal", "whitening"})],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "n_jobs": [None, numbers.Integral],
        "verbose": ["verbose"],
        "refit": ["boolean"],
    }

    def __init__(
        self,
        *,
        Cs=10,
        l1_ratios=(0.0,),
        fit_intercept=True,
        cv=None,
        scoring="neg_log_loss",
        solver="auto",
        learning_rate="auto",
        preconditioner="auto",
        tol=1e-4,
        max_iter=1000,
        class_weight=None,
        n_jobs=None,
        verbose=0,
        refit=True,
    ):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.solver = solver
        self.learning_rate = learning_rate
        self.preconditioner = preconditioner
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.refit = refit

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the path of C on each fold, choose C, and fit the final model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data: NumPy, SciPy sparse, Dask, or (with
            ``sklearn.set_config(array_api_dispatch=True)``) any Array API array.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the examples, used in the fits and in the
            scores of the test folds.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        fitted = {k: v for k, v in vars(self).items() if _is_fitted_attribute(k)}
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:
            for k in [k for k in vars(self) if _is_fitted_attribute(k)]:
                delattr(self, k)
            vars(self).update(fitted)
            raise

    def _settings(self, class_weight):
        return FitSettings(type(self).__name__, self.fit_intercept, class_weight, None, 0)

    def _fit(self, X, y, sample_weight):
        Cs, l1_ratios = _check_grid(self.Cs, self.l1_ratios)
        # All the data once: validation (the errors of GDLogisticRegression), the
        # classes, and the problem of the final fit.
        full = _backends.prepare_fit(X, y, sample_weight, self._settings(self.class_weight))
        classes = full.classes
        self.n_features_in_ = full.n_features_in
        if full.feature_names_in is not None:
            self.feature_names_in_ = full.feature_names_in
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        if not _is_dask(X):  # the validated arrays: NumPy, CSR, or X's Array API namespace
            X, y = full.callback_data["X"], full.callback_data["y"]
            if sample_weight is not None:  # (a scalar is one weight per row)
                sample_weight = move_to(sample_weight, xp=full.xp, device=full.device)
                sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        elif isinstance(sample_weight, numbers.Number):
            sample_weight = np.full(X.shape[0], sample_weight)
        y_host = _on_host(y)
        sw_host = None if sample_weight is None else _on_host(sample_weight)

        class_weight = self.class_weight
        if class_weight == "balanced":
            # once, on all the data, as LogisticRegressionCV does: every fold then
            # solves the problem scikit-learn's does
            weights = compute_class_weight(
                "balanced", classes=_on_host(classes), y=y_host, sample_weight=sw_host
            )
            class_weight = dict(zip(_on_host(classes).tolist(), weights))
        settings = self._settings(class_weight)

        cv = check_cv(self.cv, y_host, classifier=True)
        rows = X if isinstance(X, np.ndarray) or sp.issparse(X) else np.zeros((len(y_host), 1))
        folds = list(cv.split(rows, y_host))

        # Dask's scheduler and Array API devices live in this process: threads.
        in_memory = isinstance(X, np.ndarray) or sp.issparse(X)
        tasks = Parallel(
            n_jobs=self.n_jobs, verbose=self.verbose, prefer="processes" if in_memory else "threads"
        )(
            delayed(_path_on_fold)(
                X,
                y,
                sample_weight,
                train,
                test,
                l1_ratio=l1_ratio,
                Cs=Cs,
                settings=settings,
                classes=classes,
                est=self,
            )
            for train, test in folds
            for l1_ratio in l1_ratios
        )
        n_folds, n_l1, n_cs = len(folds), len(l1_ratios), len(Cs)
        coefs, scores, n_iter = zip(*tasks)
        self.classes_ = classes
        self.Cs_ = Cs
        self.l1_ratios_ = l1_ratios
        self.coefs_paths_ = np.reshape(np.stack(coefs), (n_folds, n_l1, n_cs, *coefs[0].shape[1:]))
        self.scores_ = np.reshape(np.stack(scores), (n_folds, n_l1, n_cs))
        self.n_iter_ = np.reshape(np.stack(n_iter), (n_folds, n_l1, n_cs))

        # scikit-learn breaks ties by the first maximum over (C, l1_ratio) with C
        # major: search the scores in that order
        by_c = np.swapaxes(self.scores_, 1, 2)  # (n_folds, n_Cs, n_l1_ratios)
        if self.refit:
            i, j = np.unravel_index(np.argmax(by_c.sum(axis=0)), (n_cs, n_l1))
            self.C_, self.l1_ratio_ = float(Cs[i]), float(l1_ratios[j])
            theta0 = self.coefs_paths_[:, j, i].mean(axis=0)
            theta = self._refit(full, theta0)
        else:
            best = np.argmax(by_c.reshape(n_folds, -1), axis=1)
            i, j = np.unravel_index(best, (n_cs, n_l1))
            self.C_ = float(np.mean(Cs[i]))
            self.l1_ratio_ = float(np.mean(l1_ratios[j]))
            theta = self.coefs_paths_[np.arange(n_folds), j, i].mean(axis=0)
        n_features = self.n_features_in_
        model = _model(theta, classes, self.fit_intercept, n_features, full.xp, full.device)
        self.coef_, self.intercept_ = model.coef_, model.intercept_
        if full.xp is not np:  # every fitted array in X's namespace and on its device
            for name in ("Cs_", "l1_ratios_", "coefs_paths_", "scores_", "n_iter_"):
                setattr(self, name, move_to(getattr(self, name), xp=full.xp, device=full.device))
        return self

    def _refit(self, full, theta0):
        """The fit on all the data at C_ and l1_ratio_, from the folds' mean solution."""
        objective, plan = make_plan(
            full,
            C=self.C_,
            l1_ratio=self.l1_ratio_,
            learning_rate=self.learning_rate,
            solver=self.solver,
            preconditioner=self.preconditioner,
        )
        xp = objective.xp
        theta0 = xp.asarray(theta0, dtype=objective.dtype, device=objective.device)
        result = plan.run(theta0, max_iter=self.max_iter, tol=self.tol)
        warn_about(
            result,
            learning_rate=self.learning_rate,
            solver=plan.solver_name,
            max_iter=self.max_iter,
            tol=self.tol,
            dtype=str(objective.dtype).rsplit(".", 1)[-1],
        )
        return result.coef

    def _fitted_model(self, X, method):
        """The final model as a GDLogisticRegression, whose predict methods take any container."""
        check_is_fitted(self)
        if _backends.lazy_backend(X) is None:  # X in the namespace and on the device of fit's
            check_same_namespace(X, self, attribute="coef_", method=method)
        model = GDLogisticRegression(fit_intercept=self.fit_intercept)
        for name in ("classes_", "coef_", "intercept_", "n_features_in_", "feature_names_in_"):
            if hasattr(self, name):
                setattr(model, name, getattr(self, name))
        return model

    # The predict methods are those of the final GDLogisticRegression, and so is
    # their documentation: one text for both estimators.
    def decision_function(self, X):
        return self._fitted_model(X, "decision_function").decision_function(X)

    decision_function.__doc__ = GDLogisticRegression.decision_function.__doc__

    def predict(self, X):
        return self._fitted_model(X, "predict").predict(X)

    predict.__doc__ = GDLogisticRegression.predict.__doc__

    def predict_proba(self, X):
        return self._fitted_model(X, "predict_proba").predict_proba(X)

    predict_proba.__doc__ = GDLogisticRegression.predict_proba.__doc__

    def predict_log_proba(self, X):
        return self._fitted_model(X, "predict_log_proba").predict_log_proba(X)

    predict_log_proba.__doc__ = GDLogisticRegression.predict_log_proba.__doc__

    def score(self, X, y, sample_weight=None):
        """The score ``scoring`` gives the model on the data (as LogisticRegressionCV).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        score : float
            The score of ``scoring`` (the accuracy when it is None).
        """
        model, classes = self, self.classes_
        xp, _, _ = get_namespace_and_device(self.coef_)
        if _backends.lazy_backend(X) is None and not is_numpy_namespace(xp):
            # scored on the host, as the folds are: a scorer converts what it is given
            check_same_namespace(X, self, attribute="coef_", method="score")
            model = self._fitted_model(X, "score")
            for name in ("classes_", "coef_", "intercept_"):
                setattr(model, name, _on_host(getattr(model, name)))
            X, y, classes = _on_host(X), _on_host(y), model.classes_
            sample_weight = None if sample_weight is None else _on_host(sample_weight)
        return _fold_scorer(self.scoring, classes)(model, X, y, sample_weight)
