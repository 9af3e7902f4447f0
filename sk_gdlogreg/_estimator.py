"""GDLogisticRegression: parameters, validation, and the glue to the solvers."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator

from . import _backends
from ._data import FitSettings
from ._objective import log_softmax, sigmoid, softplus
from ._plan import make_plan
from ._report import IterationHooks, stop_reason, warn_about
from ._sklearn import (
    CallbackSupportMixin,
    Interval,
    LinearClassifierMixin,
    StrOptions,
    check_same_namespace,
    fit_context,
    get_namespace,
    move_to,
)


def _is_fitted_attribute(name):
    return name.endswith("_") and not name.startswith("_")


class GDLogisticRegression(CallbackSupportMixin, LinearClassifierMixin, BaseEstimator):
    """Logistic regression fitted by full-batch gradient descent.

    Minimizes scikit-learn's logistic-regression objective, normalized by the
    sum of the sample weights ``S``::

        J(W, b) = (1/S) sum_i s_i L(a_i, y_i)
                  + (1 - l1_ratio) / (2 C S) ||W||_2^2 + l1_ratio / (C S) ||W||_1

    where ``s_i`` is the sample weight times the class weight, ``a_i`` the
    predicted probability (sigmoid for two classes, softmax otherwise) and ``L``
    the log-loss. With unit weights and ``C=np.inf`` this is the lecture's cost
    ``J = (1/m) sum_i L(a^(i), y^(i))``, and with a float ``learning_rate`` each
    iteration is the lecture's update ``w := w - learning_rate * dw``,
    ``b := b - learning_rate * db``. The intercept is never penalized.

    Parameters
    ----------
    learning_rate : float or "auto", default="auto"
        A float is the constant step alpha, applied to the raw features as
        given. ``"auto"`` chooses the steps in standardized coordinates, so the
        fit does not depend on the units of the features: with ``solver="gd"``,
        Barzilai-Borwein steps and backtracking line search, and the objective
        never increases; with ``solver="nesterov"``, the inverse of the local
        curvature seen between the last two iterates; with ``"anderson"``, the
        least such step of the last three.
    solver : {"auto", "gd", "nesterov", "anderson"}, default="auto"
        ``"gd"``: plain (proximal) gradient descent, the lecture's algorithm,
        with a loss curve that never goes up under ``learning_rate="auto"``.
        ``"nesterov"``: accelerated gradient descent (FISTA) with adaptive
        restart. ``"anderson"``: gradient descent with Anderson acceleration,
        each a gradient step from the combination of the last 11 iterates
        whose combined gradient is least (a memory of the curvature, from
        gradients alone); no L1 term. ``"auto"``: with ``learning_rate="auto"``, ``"nesterov"``
        where the features are whitened by the whole curvature or there is an
        L1 term, ``"anderson"`` elsewhere (wide or sparse data, and softmax fits
        whitened class by class: many classes or features), the faster on each
        in the benchmarks; ``"gd"`` with a float
        ``learning_rate``, which is then exactly the lecture's update
        ``w := w - learning_rate * dw``.
    max_iter : int, default=1000
        Maximum number of iterations, each one evaluation of J and its gradient
        followed by a stop or an update.
    tol : float, default=1e-4
        Stop when the largest absolute entry of the gradient of the objective
        (with an L1 term, its minimum-norm subgradient), taken with respect to
        the coefficients of standardized features, is at most ``tol``.
    C : float, default=1.0
        Inverse regularization strength; ``np.inf`` means no penalty.
    l1_ratio : float, default=0.0
        Elastic-net mixing: 0 is L2, 1 is L1. The L1 part is applied by a
        proximal (soft-threshold) step, so it produces exact zeros.
    fit_intercept : bool, default=True
        Whether to fit the intercept ``b``.
    class_weight : dict or "balanced", default=None
        Weights of the classes, multiplied into the sample weights as in
        :class:`~sklearn.linear_model.LogisticRegression`.
    loop_mode : {None, "examples", "full"}, default=None
        ``None``: vectorized, no Python loop over examples or features.
        ``"examples"``: an explicit Python loop over the examples.
        ``"full"``: explicit loops over examples, classes and features, the
        lecture's algorithm line by line. Same iterates, much slower: they are
        there to teach and to measure.
    preconditioner : {"auto", "diagonal", "whitening"}, default="auto"
        The coordinates automatic steps move in (a float ``learning_rate``
        always moves on the raw coefficients). ``"diagonal"``: standardized
        features. ``"whitening"``: standardized and decorrelated by the
        curvature of J (its Hessian, estimated from a sample of rows), renewed
        every 5 iterations at the current point; with an L1 term, the steps
        are taken in standardized coordinates in the metric of that curvature
        (a small Lasso per step, exact zeros stay exact). For at most 2,047
        features (the matrix is (n_features + 1)^2, times n_classes^2 for a
        multinomial L1 fit), on any container. ``"auto"``: whitening where the
        curvature matrix is cheap next to a pass over X, from the start for two
        classes and after 5 diagonal iterations that did not converge for more
        (each class then by its own matrix, or on small problems, at most 256
        coefficients, all the classes by the whole Hessian), diagonal elsewhere.
    warm_start : bool, default=False
        Start from the previous solution instead of zeros.
    verbose : int, default=0
        If > 0, print the iteration, objective, optimality residual and step.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels; ``classes_[1]`` is the positive class of a binary fit.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        The weights W, in the dtype of X (float32 or float64).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        The intercepts b.
    n_iter_ : int
        Iterations run.
    loss_curve_ : list of float, of length ``n_iter_``
        The objective J at the point where each iteration took its gradient;
        ``loss_curve_[0]`` is J at the start. (A list, as in
        :class:`~sklearn.neural_network.MLPClassifier`: plain numbers whatever
        the array namespace of X.)
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same objective, fitted by
        quasi-Newton and other solvers.
    sklearn.linear_model.SGDClassifier : Stochastic gradient descent.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sk_gdlogreg import GDLogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), GDLogisticRegression()).fit(X, y)
    >>> print(f"{clf.score(X, y):.2f}")
    0.99
    >>> gd = clf[-1]
    >>> print(f"J: {gd.loss_curve_[0]:.4f} -> {gd.loss_curve_[-1]:.4f}")
    J: 0.6931 -> 0.0664
    """

    _parameter_constraints: dict = {
        "learning_rate": [
            Interval(Real, 0, np.inf, closed="neither"),
            StrOptions({"auto"}),
        ],
        "solver": [StrOptions({"auto", "gd", "nesterov", "anderson"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "C": [Interval(Real, 0, np.inf, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "loop_mode": [StrOptions({"examples", "full"}), None],
        "preconditioner": [StrOptions({"auto", "diagonal", "whitening"})],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        learning_rate="auto",
        solver="auto",
        max_iter=1000,
        tol=1e-4,
        C=1.0,
        l1_ratio=0.0,
        fit_intercept=True,
        class_weight=None,
        loop_mode=None,
        preconditioner="auto",
        warm_start=False,
        verbose=0,
    ):
        self.learning_rate = learning_rate
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.loop_mode = loop_mode
        self.preconditioner = preconditioner
        self.warm_start = warm_start
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 stays float32. With
            ``sklearn.set_config(array_api_dispatch=True)``, an array of any Array
            API namespace (PyTorch, CuPy, ...): the fit then runs on its device.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the examples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # Nothing half-done: validation sets attributes (n_features_in_, ...)
        # before it can fail, so a failed fit puts back what was there.
        fitted = {k: v for k, v in vars(self).items() if _is_fitted_attribute(k)}
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:
            for k in [k for k in vars(self) if _is_fitted_attribute(k)]:
                delattr(self, k)
            vars(self).update(fitted)
            raise

    def _fit(self, X, y, sample_weight):
        settings = FitSettings(
            type(self).__name__, self.fit_intercept, self.class_weight, self.loop_mode, self.verbose
        )
        data = _backends.prepare_fit(X, y, sample_weight, settings)
        self.n_features_in_ = data.n_features_in
        if data.feature_names_in is not None:
            self.feature_names_in_ = data.feature_names_in
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        objective, plan = make_plan(
            data,
            C=self.C,
            l1_ratio=self.l1_ratio,
            learning_rate=self.learning_rate,
            solver=self.solver,
            preconditioner=self.preconditioner,
        )
        theta0 = self._start(objective)

        callback_ctx = self._init_callback_context(max_subtasks=self.max_iter)
        callback_kwargs = dict(estimator=self, **data.callback_data)
        callback_ctx.call_on_fit_task_begin(**callback_kwargs)
        if getattr(self, "_skl_callbacks", None):
            self.classes_ = data.classes  # what predict needs, for the per-iteration models
            iteration_ctx = (callback_ctx, callback_kwargs, (data.xp, data.device))
        else:
            iteration_ctx = None
        hooks = self._hooks(iteration_ctx)
        result = plan.run(theta0, max_iter=self.max_iter, tol=self.tol, callback=hooks)
        if hooks is not None:
            hooks.close(stop_reason(result, self.max_iter, self.tol))
        warn_about(
            result,
            learning_rate=self.learning_rate,
            solver=plan.solver_name,
            max_iter=self.max_iter,
            tol=self.tol,
            dtype=str(objective.dtype).rsplit(".", 1)[-1],
        )

        self.classes_ = data.classes
        self.coef_, self.intercept_ = self._unpack(result.coef, data.xp, data.device)
        self.n_iter_ = result.n_iter
        self.loss_curve_ = result.loss_curve
        callback_ctx.call_on_fit_task_end(**callback_kwargs, reconstruction_attributes={})
        return self

    def _start(self, objective):
        """The first iterate: zeros, or the previous model under warm_start.

        As in LogisticRegression, a previous model of another shape (the number
        of classes or features changed) is an error; so is one that is not
        finite. One whose J overflows is replaced by zeros, with a warning.
        """
        xp = objective.xp
        theta0 = xp.zeros(objective.coef_shape, dtype=objective.dtype, device=objective.device)
        if not self.warm_start or getattr(self, "coef_", None) is None:
            return theta0
        n_features = objective.n_features
        expected = (objective.n_outputs, n_features)
        if tuple(self.coef_.shape) != expected:
            raise ValueError(
                f"warm_start=True: the previous coef_ has shape {tuple(self.coef_.shape)}, "
                f"but this fit needs {expected}: the number of classes or features changed. "
                "Fit with warm_start=False (or a new estimator)."
            )
        coef, intercept = (self._moved(a, objective) for a in (self.coef_, self.intercept_))
        if not (bool(xp.all(xp.isfinite(coef))) and bool(xp.all(xp.isfinite(intercept)))):
            raise ValueError(
                "warm_start=True: the previous coef_ or intercept_ contains NaN or infinity. "
                "Fit with warm_start=False (or a new estimator)."
            )
        theta0[:, :n_features] = coef
        if self.fit_intercept:
            theta0[:, -1] = intercept
        with np.errstate(over="ignore", invalid="ignore"):
            J = objective.loss_grad(theta0)[0]
        if not math.isfinite(J):
            warnings.warn(
                "warm_start=True: J overflows at the previous coef_ and intercept_ "
                "(they are too large for this data); starting from zeros instead.",
                UserWarning,
                stacklevel=5,  # _start, _fit, fit, _fit_context, the caller
            )
            theta0 = xp.zeros_like(theta0)
        return theta0

    @staticmethod
    def _moved(a, objective):
        return move_to(a, xp=objective.xp, device=objective.device)

    def _unpack(self, theta, xp, device):
        """coef_ and intercept_ from theta (intercept last), in X's namespace and device."""
        theta = move_to(theta, xp=xp, device=device)
        n_features = theta.shape[1] - int(self.fit_intercept)
        coef = xp.asarray(theta[:, :n_features], copy=True)
        if self.fit_intercept:
            return coef, xp.asarray(theta[:, n_features], copy=True)
        return coef, xp.zeros(theta.shape[0], dtype=theta.dtype, device=device)

    def _hooks(self, iteration_ctx):
        """The solver's per-iteration hooks: verbose lines and scikit-learn callbacks.

        Each iteration is a subtask of the fit for scikit-learn's callbacks; the
        model at its end (after its update) is built only if a callback asks for
        it. A callback's request to stop ends the fit after that iteration.
        """
        if not self.verbose and iteration_ctx is None:
            return None

        def unpack(theta):
            xp, device = iteration_ctx[2]
            coef_, intercept_ = self._unpack(theta, xp, device)
            return {"coef_": coef_, "intercept_": intercept_}

        return IterationHooks(self.verbose, iteration_ctx, unpack)

    def decision_function(self, X):
        """Confidence scores: ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data; a Dask array gives a lazy Dask array chunked like X's rows.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One score per example for two classes (positive: ``classes_[1]``),
            one per class otherwise.
        """
        lazy = _backends.lazy_backend(X)
        if lazy is not None:
            return lazy.decision_function(self, X)
        with np.errstate(over="ignore"):  # a score beyond float range is +-inf: p = 0 or 1
            return super().decision_function(X)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data; a Dask array gives a lazy Dask array chunked like X's rows.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The predicted labels, from ``classes_``.
        """
        lazy = _backends.lazy_backend(X)
        if lazy is not None:
            return lazy.predict(self, X)
        return super().predict(X)

    def predict_proba(self, X):
        """Predict class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data; a Dask array gives a lazy Dask array chunked like X's rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class, columns in the order of ``classes_``.
        """
        lazy = _backends.lazy_backend(X)
        if lazy is not None:
            return lazy.predict_proba(self, X)
        check_same_namespace(X, self, attribute="coef_", method="predict_proba")
        xp, _ = get_namespace(X)
        z = self.decision_function(X)
        if z.ndim == 1:
            return xp.stack([sigmoid(-z, xp), sigmoid(z, xp)], axis=1)
        return xp.exp(log_softmax(z, xp))

    def predict_log_proba(self, X):
        """Predict the logarithm of the class probabilities, computed without log(0).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data; a Dask array gives a lazy Dask array chunked like X's rows.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probability of each class, columns in the order of ``classes_``.
        """
        lazy = _backends.lazy_backend(X)
        if lazy is not None:
            return lazy.predict_log_proba(self, X)
        check_same_namespace(X, self, attribute="coef_", method="predict_log_proba")
        xp, _ = get_namespace(X)
        z = self.decision_function(X)
        if z.ndim == 1:
            return -xp.stack([softplus(z, xp), softplus(-z, xp)], axis=1)
        return log_softmax(z, xp)
