"""The regularization path of a GDLogisticRegressionCV, in scikit-learn's Display style.

matplotlib is imported only when something is drawn, as in ``_plot.py``.
"""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._cv import GDLogisticRegressionCV
from ._sklearn import check_matplotlib_support


class RegularizationPathDisplay:
    """The coefficients and the cross-validated score against C.

    Two panels sharing a logarithmic C axis: on the left, each coefficient of
    the folds' mean solution at each C (small C: a strong penalty, every
    coefficient near 0; large C: a weak one); on the right, the score on the
    test folds, its mean and its spread (mean plus or minus one standard
    deviation over the folds), with the chosen C marked. It is recommended to
    create it with :meth:`from_estimator`; all parameters are stored as
    attributes.

    Parameters
    ----------
    Cs : ndarray of shape (n_Cs,)
        The values of C.
    coefs : ndarray of shape (n_Cs, n_features)
        The coefficients drawn at each C.
    scores : ndarray of shape (n_folds, n_Cs)
        The score of each fold at each C.
    C : float, default=None
        The chosen C, marked by a vertical line; ``None`` marks none.
    feature_names : list of str, default=None
        Legend entries of the coefficients; ``None`` draws no legend.
    score_name : str, default="score"
        The label of the score axis.

    Attributes
    ----------
    coef_lines_ : list of matplotlib Line2D
        One line per coefficient.
    score_line_ : matplotlib Line2D
        The mean score over the folds.
    score_band_ : matplotlib PolyCollection
        The band of the mean plus or minus one standard deviation.
    axes_ : ndarray of matplotlib Axes
        The coefficient axes and the score axes.
    figure_ : matplotlib Figure
        The figure containing the axes.

    See Also
    --------
    RegularizationPathDisplay.from_estimator : The path of a fitted
        GDLogisticRegressionCV.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sk_gdlogreg import RegularizationPathDisplay
    >>> Cs = np.logspace(-2, 2, 5)
    >>> coefs = np.outer(Cs / (1 + Cs), [1.0, -0.5])
    >>> scores = np.array([[0.6, 0.8, 0.9, 0.88, 0.85], [0.62, 0.79, 0.91, 0.9, 0.86]])
    >>> disp = RegularizationPathDisplay(Cs=Cs, coefs=coefs, scores=scores, C=1.0).plot()
    >>> disp.axes_[0].get_xscale()
    'log'
    >>> plt.show()
    """

    def __init__(self, *, Cs, coefs, scores, C=None, feature_names=None, score_name="score"):
        self.Cs = Cs
        self.coefs = coefs
        self.scores = scores
        self.C = C
        self.feature_names = feature_names
        self.score_name = score_name

    def plot(self, axes=None):
        """Draw the coefficients and the scores against C.

        Parameters
        ----------
        axes : array-like of two matplotlib Axes, default=None
            The axes of the coefficients and of the scores; ``None`` creates a
            figure with two side by side.

        Returns
        -------
        display : RegularizationPathDisplay
            The display, with ``axes_``, ``figure_`` and the artists drawn.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        Cs = np.asarray(self.Cs, dtype=np.float64)
        order = np.argsort(Cs)  # lines from small C to large whatever the order of the grid
        Cs = Cs[order]
        coefs = np.asarray(self.coefs, dtype=np.float64)[order]
        scores = np.asarray(self.scores, dtype=np.float64)[:, order]
        if coefs.ndim != 2 or scores.ndim != 2:
            raise ValueError(
                "coefs must have shape (n_Cs, n_features) and scores (n_folds, n_Cs); "
                f"got {coefs.shape} and {scores.shape}."
            )
        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(10, 4))
        axes = np.asarray(axes).ravel()
        self.axes_, self.figure_ = axes, axes[0].figure
        ax_coef, ax_score = axes

        names = self.feature_names
        labels = [None] * coefs.shape[1] if names is None else list(names)
        self.coef_lines_ = []
        for j, label in enumerate(labels):
            self.coef_lines_.extend(ax_coef.plot(Cs, coefs[:, j], marker=".", label=label))
        ax_coef.axhline(0.0, color="grey", lw=0.5)
        ax_coef.set_ylabel("Coefficient")

        mean, std = scores.mean(axis=0), scores.std(axis=0)
        (self.score_line_,) = ax_score.plot(Cs, mean, marker="o", label="mean over folds")
        self.score_band_ = ax_score.fill_between(
            Cs, mean - std, mean + std, alpha=0.3, label="+- one std over folds"
        )
        ax_score.set_ylabel(f"Cross-validated {self.score_name}")
        for ax in axes:
            ax.set_xscale("log")
            ax.set_xlabel("C (inverse regularization strength)")
            if self.C is not None:
                ax.axvline(self.C, color="k", ls="--", lw=1)
        ax_score.legend()
        if names is not None:
            ax_coef.legend(fontsize="small", ncol=max(1, len(labels) // 10))
        return self

    @classmethod
    def from_estimator(cls, estimator, *, output=0, feature_names=None, axes=None):
        """Draw the path of a fitted GDLogisticRegressionCV.

        The coefficients are the means over the folds, at the chosen
        ``l1_ratio_``; the scores are ``scores_`` at that l1_ratio.

        Parameters
        ----------
        estimator : GDLogisticRegressionCV or Pipeline
            A fitted :class:`~sk_gdlogreg.GDLogisticRegressionCV`, or a fitted
            pipeline whose last step is one.
        output : int, default=0
            Whose coefficients to draw: the class index of a multiclass fit
            (a binary fit has one output).
        feature_names : list of str, default=None
            Legend entries; ``None`` uses ``feature_names_in_`` if the
            estimator has it, else draws no legend.
        axes : array-like of two matplotlib Axes, default=None
            Where to draw; ``None`` creates a figure.

        Returns
        -------
        display : RegularizationPathDisplay
            The display, drawn.
        """
        if isinstance(estimator, Pipeline):
            estimator = estimator.steps[-1][1]
        if not isinstance(estimator, GDLogisticRegressionCV):
            raise ValueError(
                "RegularizationPathDisplay needs a GDLogisticRegressionCV or a Pipeline whose "
                f"last step is one; got {type(estimator).__name__}."
            )
        check_is_fitted(estimator)
        j = int(np.argmin(np.abs(estimator.l1_ratios_ - estimator.l1_ratio_)))
        n_features = estimator.n_features_in_
        coefs = estimator.coefs_paths_[:, j, :, output, :n_features].mean(axis=0)
        if feature_names is None:
            feature_names = getattr(estimator, "feature_names_in_", None)
        scoring = estimator.scoring
        score_name = "accuracy" if scoring is None else str(getattr(scoring, "__name__", scoring))
        display = cls(
            Cs=estimator.Cs_,
            coefs=coefs,
            scores=estimator.scores_[:, j, :],
            C=estimator.C_,
            feature_names=feature_names,
            score_name=score_name,
        )
        return display.plot(axes=axes)
