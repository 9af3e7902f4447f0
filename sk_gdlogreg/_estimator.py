"""GDLogisticRegression: parameters, validation, and the glue to the solvers."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._objective import LogisticObjective, Standardization, weighted_mean_std
from ._solvers import SOLVERS, Problem


class GDLogisticRegression(ClassifierMixin, BaseEstimator):
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
        given. ``"auto"`` chooses each step by backtracking line search
        (Barzilai-Borwein trial steps for ``solver="gd"``), in standardized
        coordinates: the fit then does not depend on the units of the features,
        and with ``solver="gd"`` the objective never increases.
    solver : {"gd", "nesterov"}, default="gd"
        ``"gd"``: plain (proximal) gradient descent. ``"nesterov"``: accelerated
        gradient descent (FISTA) with adaptive restart.
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
    loss_curve_ : ndarray of shape (n_iter_,)
        The objective J at the point where each iteration took its gradient;
        ``loss_curve_[0]`` is J at the start.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
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
        "solver": [StrOptions({"gd", "nesterov"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "C": [Interval(Real, 0, np.inf, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "loop_mode": [StrOptions({"examples", "full"}), None],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        learning_rate="auto",
        solver="gd",
        max_iter=1000,
        tol=1e-4,
        C=1.0,
        l1_ratio=0.0,
        fit_intercept=True,
        class_weight=None,
        loop_mode=None,
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
        self.warm_start = warm_start
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 stays float32.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the examples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32]
        )
        check_classification_targets(y)
        encoder = LabelEncoder()
        y_idx = encoder.fit_transform(y)
        classes = encoder.classes_
        if len(classes) < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but "
                f"the data contains only one class: {classes[0]!r}."
            )
        s = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        weighted = classes[np.bincount(y_idx, weights=s, minlength=len(classes)) > 0]
        if len(weighted) < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes with positive "
                f"sample weight, but only class {weighted[0]!r} has any."
            )
        if self.class_weight is not None:
            class_weight = compute_class_weight(
                self.class_weight, classes=classes, y=y, sample_weight=s
            )
            s = s * class_weight[y_idx].astype(X.dtype)
        S = float(s.sum())

        binary = len(classes) == 2
        n_outputs = 1 if binary else len(classes)
        y_fit = (y_idx == 1).astype(X.dtype) if binary else y_idx
        if np.isinf(self.C):
            l1 = l2 = 0.0
        else:
            l1, l2 = self.l1_ratio / (self.C * S), (1 - self.l1_ratio) / (self.C * S)

        objective = LogisticObjective(
            X, y_fit, s, n_outputs, self.fit_intercept, l2, self.loop_mode
        )
        tol_coords, coords, step0 = self._coordinates(X, s / S, l2, n_outputs)
        problem = Problem(objective, l1, coords, tol_coords)

        theta0 = np.zeros(objective.coef_shape, dtype=X.dtype)
        if self.warm_start and getattr(self, "coef_", None) is not None:
            if self.coef_.shape == (n_outputs, X.shape[1]):
                theta0[:, : X.shape[1]] = self.coef_
                if self.fit_intercept:
                    theta0[:, -1] = self.intercept_
        result = SOLVERS[self.solver](
            problem,
            coords.from_raw(theta0),
            learning_rate=None if self.learning_rate == "auto" else self.learning_rate,
            max_iter=self.max_iter,
            tol=self.tol,
            step0=step0,
            callback=self._print_iteration if self.verbose else None,
        )
        self._warn_about(result)

        theta = coords.to_raw(result.coef)
        self.classes_ = classes
        self.coef_ = theta[:, : X.shape[1]].copy()
        self.intercept_ = (
            theta[:, -1].copy() if self.fit_intercept else np.zeros(n_outputs, X.dtype)
        )
        self.n_iter_ = result.n_iter
        self.loss_curve_ = np.asarray(result.loss_curve)
        return self

    def _coordinates(self, X, sw, l2, n_outputs):
        """The coordinates of the optimality test, and those the solver moves in.

        The test is taken on standardized features (centred when there is an
        intercept to absorb the centring, a constant feature keeping scale 1).
        A float learning rate moves on the raw coefficients, as the lecture
        does. ``"auto"`` moves in coordinates where each coefficient's curvature
        is about the same (a diagonal preconditioner): the variance of its
        feature plus the L2 term's share, which also tames tiny-scale features
        that the penalty dominates; ``step0`` is the inverse of an upper bound
        on the curvature there, a safe first step that line search then adapts.
        """
        mean, std = weighted_mean_std(X, sw)
        constant = std <= 10 * np.finfo(X.dtype).eps * np.abs(mean)
        if not self.fit_intercept:
            mean = np.zeros_like(mean)
        tol_coords = Standardization(
            mean, np.where(constant, 1, std).astype(X.dtype), self.fit_intercept
        )
        n_features = X.shape[1]
        if self.learning_rate != "auto":
            ones = np.ones(n_features, dtype=X.dtype)
            return tol_coords, Standardization(0 * ones, ones, self.fit_intercept), None
        # the largest curvature of the log-loss: 1/4 (sigmoid), 1/2 (softmax)
        curvature = 0.25 if n_outputs == 1 else 0.5
        var = np.where(constant, 0, std.astype(np.float64) ** 2)
        if not self.fit_intercept:
            var = var + mean**2  # without centring, the raw second moment
        scale = np.sqrt(var + l2 / curvature)
        scale = np.where(scale > 0, scale, 1).astype(X.dtype)
        if np.array_equal(scale, tol_coords.scale):
            coords = tol_coords
        else:
            coords = Standardization(mean, scale, self.fit_intercept)
        step0 = 1 / (curvature * (n_features + 1))
        return tol_coords, coords, step0

    def _print_iteration(self, k, v, F, residual, step):
        print(f"iter {k:5d}   J = {F:.8e}   residual = {residual:.3e}   step = {step:.3e}")
        return False

    def _warn_about(self, result):
        lr = self.learning_rate
        if result.increased_at is not None or result.stopped == "diverged":
            what = (
                "went up between iterations"
                if self.solver == "gd"
                else "rose above its starting value"
            )
            warnings.warn(
                f"The objective J {what} (first at iteration {result.increased_at}): "
                f"learning_rate={lr!r} is too large for this data. Use a smaller "
                "learning_rate, standardize the features, or use learning_rate='auto'."
                + (
                    " The updates overflowed; the last finite iterate was kept."
                    if result.stopped == "diverged"
                    else ""
                ),
                ConvergenceWarning,
                stacklevel=3,
            )
        elif not result.converged and result.stopped != "callback":
            reason = (
                "the line search could not decrease J any further (rounding error)"
                if result.stopped == "line search"
                else f"max_iter={self.max_iter} iterations were reached"
            )
            warnings.warn(
                f"GDLogisticRegression did not converge: {reason} with the optimality "
                f"residual {result.residual:.2e} > tol={self.tol}. Increase max_iter, "
                "or try solver='nesterov'.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def decision_function(self, X):
        """Logits z = X W^T + b: shape (n_samples,) for two classes, else (n_samples, n_classes)."""
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse="csr", reset=False, dtype=[np.float64, np.float32]
        )
        z = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        return z.ravel() if z.shape[1] == 1 else z

    def predict(self, X):
        """Most probable class of each example."""
        z = self.decision_function(X)
        return self.classes_[(z > 0).astype(int) if z.ndim == 1 else z.argmax(axis=1)]

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        z = self.decision_function(X)
        if z.ndim == 1:
            return np.column_stack([expit(-z), expit(z)])
        return softmax(z, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities, computed without log(0)."""
        z = self.decision_function(X)
        if z.ndim == 1:
            return np.column_stack([log_expit(-z), log_expit(z)])
        return log_softmax(z, axis=1)
