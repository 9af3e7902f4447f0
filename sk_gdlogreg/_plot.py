"""Plots of the cost curve ``loss_curve_``, in scikit-learn's Display style.

matplotlib is an optional dependency (``pip install sk_gdlogreg[plot]``): it is
imported only when something is drawn, so the package imports without it.
"""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._estimator import GDLogisticRegression
from ._sklearn import check_matplotlib_support


def _unwrap(estimator):
    """The fitted GDLogisticRegression inside ``estimator``.

    ``estimator`` is a GDLogisticRegression, a Pipeline whose last step is one,
    or a fitted search object (``GridSearchCV`` ...) whose ``best_estimator_``
    is one; these nest.
    """
    seen = estimator
    while True:
        if isinstance(seen, GDLogisticRegression):
            check_is_fitted(seen)
            return seen
        if isinstance(seen, Pipeline):
            seen = seen.steps[-1][1]
        elif isinstance(seen, BaseEstimator) and "refit" in seen.get_params(deep=False):
            # a search object: GridSearchCV, RandomizedSearchCV, HalvingGridSearchCV...
            if not hasattr(seen, "best_estimator_"):
                if hasattr(seen, "cv_results_"):
                    raise ValueError(
                        f"{type(seen).__name__} was fitted with refit=False, so it "
                        "has no best_estimator_ whose loss curve could be drawn. "
                        "Fit it with refit=True."
                    )
                raise NotFittedError(
                    f"This {type(seen).__name__} instance is not fitted yet. Call "
                    "'fit' with appropriate arguments before plotting its loss curve."
                )
            seen = seen.best_estimator_
        else:
            raise ValueError(
                "LossCurveDisplay needs a GDLogisticRegression, a Pipeline whose last "
                "step is one, or a fitted search object (such as GridSearchCV) whose "
                f"best_estimator_ is one; got {type(seen).__name__} (from "
                f"{type(estimator).__name__})."
            )


def _differing_params(estimators):
    """Legend names from the parameters in which the estimators differ."""
    params = [est.get_params(deep=False) for est in estimators]
    keys = [key for key in params[0] if any(not _same(p[key], params[0][key]) for p in params[1:])]
    if not keys:
        return [f"{type(est).__name__} {i}" for i, est in enumerate(estimators)]
    return [", ".join(f"{key}={p[key]!r}" for key in keys) for p in params]


def _same(a, b):
    try:
        return bool(a == b)
    except Exception:  # e.g. arrays of different shapes
        return a is b


class LossCurveDisplay:
    """Cost curve visualization: the objective J against the iteration.

    Draws the ``loss_curve_`` of one or several fitted
    :class:`~sk_gdlogreg.GDLogisticRegression` on one axis. It is recommended
    to create it with :meth:`from_estimator` or :meth:`from_estimators`; all
    parameters are stored as attributes.

    Parameters
    ----------
    loss_curve : ndarray or list of ndarray
        The objective J at each iteration, one array per curve
        (``loss_curve_[0]`` is J at the starting point).
    name : str or list of str, default=None
        The legend entry of each curve; ``None`` draws no legend.

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        The curves, one per loss curve.
    line_ : matplotlib Line2D or list of matplotlib Line2D
        The curve when there is one, else the list ``lines_`` (like
        :class:`~sklearn.metrics.RocCurveDisplay`).
    reference_ : float or None
        The value subtracted from the curves (``relative_to``), or ``None``.
    ax_ : matplotlib Axes
        The axes with the curves.
    figure_ : matplotlib Figure
        The figure containing the axes.

    See Also
    --------
    LossCurveDisplay.from_estimator : The cost curve of a fitted estimator.
    LossCurveDisplay.from_estimators : The cost curves of several fitted
        estimators, e.g. one per learning rate, on one axis.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sk_gdlogreg import LossCurveDisplay
    >>> disp = LossCurveDisplay(loss_curve=np.array([0.69, 0.4, 0.3, 0.28]),
    ...                         name="alpha = 0.1").plot()
    >>> disp.ax_.get_xlabel()
    'Iteration'
    >>> plt.show()
    """

    def __init__(self, *, loss_curve, name=None):
        self.loss_curve = loss_curve
        self.name = name

    def plot(
        self,
        ax=None,
        *,
        name=None,
        log_y=False,
        relative_to=None,
        curve_kwargs=None,
        despine=False,
    ):
        """Plot the loss curve(s).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            The axes to draw on; ``None`` creates a new figure and axes.
        name : str or list of str, default=None
            Legend entries, one per curve; ``None`` uses ``self.name``. If
            still ``None``, no legend is drawn.
        log_y : bool, default=False
            Use a logarithmic y-axis. With ``relative_to``, the points where
            ``J - J_ref`` is not above the rounding error of J,
            ``16 * eps * |J_ref|`` (``eps`` of float64, the slack the solvers
            allow when they compare two values of J), are left out (NaN in
            the line's y data): the reference point itself, whose difference
            is 0, and the points of a run that has reached ``J_ref`` to
            rounding error, whose differences of a few units in the last
            place are noise that would pull the axis down to about 1e-17.
        relative_to : None, "min" or float, default=None
            Draw ``J - J_ref`` (the suboptimality) instead of ``J``: ``"min"``
            takes ``J_ref`` as the smallest value of all the curves drawn, a
            float is ``J_ref`` itself (for example the optimum from a fit to a
            much tighter ``tol``). With ``log_y=True`` this shows the rate of
            convergence. With ``"min"``, the last point of the curve that
            holds the minimum is not drawn (its difference is 0), and the
            points just before it bend down: there ``J - min J`` is the
            distance to that run's own end, smaller than its distance to the
            optimum. A float reference below every curve avoids the bend.
        curve_kwargs : dict or list of dict, default=None
            Keyword arguments passed to matplotlib's ``plot``, the same for
            every curve (a dict) or one per curve (a list).
        despine : bool, default=False
            Remove the top and right spines.

        Returns
        -------
        display : LossCurveDisplay
            The display, with ``ax_``, ``figure_``, ``lines_`` and ``line_``.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        curves = self.loss_curve
        if isinstance(curves, (list, tuple)) and len(curves) == 0:
            raise ValueError("There is no loss curve to plot.")
        if not isinstance(curves, (list, tuple)) or all(np.ndim(c) == 0 for c in curves):
            curves = [curves]  # one curve, not a list of them
        curves = [np.asarray(c, dtype=np.float64).ravel() for c in curves]
        n_curves = len(curves)
        names = self.name if name is None else name
        if names is None or isinstance(names, str):
            names = [names] * n_curves
        names = list(names)
        if len(names) != n_curves:
            raise ValueError(
                f"Got {len(names)} names for {n_curves} loss curves; pass one name per curve."
            )
        if curve_kwargs is None or isinstance(curve_kwargs, dict):
            curve_kwargs = [curve_kwargs or {}] * n_curves
        curve_kwargs = list(curve_kwargs)
        if len(curve_kwargs) != n_curves:
            raise ValueError(
                f"Got {len(curve_kwargs)} dicts in curve_kwargs for {n_curves} loss "
                "curves; pass one dict, or one per curve."
            )

        if relative_to is None:
            reference, ylabel = None, "Objective J"
        elif isinstance(relative_to, str) and relative_to == "min":
            finite = np.concatenate([c[np.isfinite(c)] for c in curves])
            reference = float(finite.min()) if finite.size else 0.0
            ylabel = "J - min J"
        elif isinstance(relative_to, Real) and not isinstance(relative_to, bool):
            reference = float(relative_to)
            ylabel = f"J - J_ref (J_ref = {reference:.6g})"
        else:
            raise ValueError(f"relative_to must be None, 'min' or a float; got {relative_to!r}.")

        if ax is None:
            _, ax = plt.subplots()
        self.ax_, self.figure_, self.reference_ = ax, ax.figure, reference

        if log_y and reference is not None:
            # Differences within the rounding error of J are noise, not
            # progress: drawn on a log scale they would send a curve down to
            # about 1e-17, far below everything else. Not drawn.
            floor = 16 * np.finfo(np.float64).eps * abs(reference)
        self.lines_ = []
        for curve, label, kwargs in zip(curves, names, curve_kwargs):
            y = curve if reference is None else curve - reference
            if log_y and reference is not None:
                y = np.where(y > floor, y, np.nan)
            kwargs = {"label": label, **kwargs}
            self.lines_.extend(ax.plot(np.arange(len(curve)), y, **kwargs))
        self.line_ = self.lines_[0] if n_curves == 1 else self.lines_

        ax.set_xlabel("Iteration")
        ax.set_ylabel(ylabel)
        if log_y:
            ax.set_yscale("log")
        if despine:
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
        if any(line.get_label() and not line.get_label().startswith("_") for line in self.lines_):
            ax.legend()
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        name=None,
        ax=None,
        log_y=False,
        relative_to=None,
        curve_kwargs=None,
        despine=False,
    ):
        """Plot the cost curve ``loss_curve_`` of a fitted estimator.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~sk_gdlogreg.GDLogisticRegression`, a fitted
            :class:`~sklearn.pipeline.Pipeline` whose last step is one, or a
            fitted search object (such as
            :class:`~sklearn.model_selection.GridSearchCV`) whose
            ``best_estimator_`` is one.
        name : str, default=None
            The legend entry; ``None`` uses the estimator's class name.
        ax : matplotlib Axes, default=None
            The axes to draw on; ``None`` creates a new figure and axes.
        log_y : bool, default=False
            Use a logarithmic y-axis.
        relative_to : None, "min" or float, default=None
            Draw ``J - J_ref`` instead of ``J``; see :meth:`plot`.
        curve_kwargs : dict, default=None
            Keyword arguments passed to matplotlib's ``plot``.
        despine : bool, default=False
            Remove the top and right spines.

        Returns
        -------
        display : LossCurveDisplay
            The display.

        Raises
        ------
        NotFittedError
            If the estimator is not fitted.
        ValueError
            If it holds no GDLogisticRegression.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> from sk_gdlogreg import GDLogisticRegression, LossCurveDisplay
        >>> X, y = load_breast_cancer(return_X_y=True)
        >>> clf = make_pipeline(StandardScaler(), GDLogisticRegression()).fit(X, y)
        >>> disp = LossCurveDisplay.from_estimator(clf, relative_to="min", log_y=True)
        >>> len(disp.line_.get_xdata()) == clf[-1].n_iter_
        True
        >>> plt.show()
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        est = _unwrap(estimator)
        name = type(est).__name__ if name is None else name
        return cls(loss_curve=est.loss_curve_, name=name).plot(
            ax=ax,
            log_y=log_y,
            relative_to=relative_to,
            curve_kwargs=curve_kwargs,
            despine=despine,
        )

    @classmethod
    def from_estimators(
        cls,
        estimators,
        *,
        names=None,
        ax=None,
        log_y=False,
        relative_to=None,
        curve_kwargs=None,
        despine=False,
    ):
        """Compare the cost curves of several fitted estimators on one axis.

        For example one estimator per learning rate: too small a rate
        converges slowly, too large a one oscillates or diverges.

        Parameters
        ----------
        estimators : list of estimator instances, or dict of name to estimator
            Each a fitted GDLogisticRegression, or a Pipeline or search object
            holding one (see :meth:`from_estimator`). With a dict, its keys are
            the names.
        names : list of str, default=None
            The legend entries, one per estimator. ``None``: the keys of a
            dict, else the parameters in which the estimators differ (such as
            ``"learning_rate=0.1"``).
        ax : matplotlib Axes, default=None
            The axes to draw on; ``None`` creates a new figure and axes.
        log_y : bool, default=False
            Use a logarithmic y-axis.
        relative_to : None, "min" or float, default=None
            Draw ``J - J_ref`` instead of ``J``, ``"min"`` being the smallest
            J of all the curves: meaningful when the estimators minimize the
            same objective (same data, ``C`` and ``l1_ratio``). See
            :meth:`plot`.
        curve_kwargs : dict or list of dict, default=None
            Keyword arguments passed to matplotlib's ``plot``, the same for
            every curve or one dict per curve.
        despine : bool, default=False
            Remove the top and right spines.

        Returns
        -------
        display : LossCurveDisplay
            The display, with one line per estimator in ``lines_``.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from sklearn.datasets import make_classification
        >>> from sk_gdlogreg import GDLogisticRegression, LossCurveDisplay
        >>> X, y = make_classification(random_state=0)
        >>> fits = [GDLogisticRegression(learning_rate=lr).fit(X, y) for lr in (1.0, 3.0)]
        >>> disp = LossCurveDisplay.from_estimators(fits, relative_to="min", log_y=True)
        >>> [line.get_label() for line in disp.lines_]
        ['learning_rate=1.0', 'learning_rate=3.0']
        >>> plt.show()
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimators")
        if isinstance(estimators, dict):
            if names is None:
                names = [str(key) for key in estimators]
            estimators = list(estimators.values())
        estimators = list(estimators)
        if not estimators:
            raise ValueError("from_estimators needs at least one estimator.")
        fitted = [_unwrap(est) for est in estimators]
        if names is None:
            names = _differing_params(fitted)
        elif isinstance(names, str) or len(names) != len(fitted):
            raise ValueError(
                f"names must be a list of one name per estimator ({len(fitted)}); got {names!r}."
            )
        return cls(loss_curve=[est.loss_curve_ for est in fitted], name=list(names)).plot(
            ax=ax,
            log_y=log_y,
            relative_to=relative_to,
            curve_kwargs=curve_kwargs,
            despine=despine,
        )
