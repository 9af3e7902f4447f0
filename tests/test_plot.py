"""LossCurveDisplay: what it draws, the estimators it accepts, and its errors."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression, LossCurveDisplay

matplotlib = pytest.importorskip("matplotlib")


@pytest.fixture
def pyplot():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=120, n_features=4, random_state=0)


@pytest.fixture(scope="module")
def fits(data):
    """Three fits of the same objective, one per learning rate."""
    X, y = data
    return [GDLogisticRegression(learning_rate=lr).fit(X, y) for lr in (0.3, 1.0, 3.0)]


def _legend_texts(ax):
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def test_from_estimator_draws_the_loss_curve(pyplot, fits):
    clf = fits[0]
    disp = LossCurveDisplay.from_estimator(clf)
    assert disp.lines_ == [disp.line_]
    np.testing.assert_array_equal(disp.line_.get_ydata(), clf.loss_curve_)
    np.testing.assert_array_equal(disp.line_.get_xdata(), np.arange(clf.n_iter_))
    assert disp.ax_.get_xlabel() == "Iteration"
    assert disp.ax_.get_ylabel() == "Objective J"
    assert disp.ax_.get_yscale() == "linear"
    assert disp.figure_ is disp.ax_.figure
    assert disp.reference_ is None
    assert disp.line_.get_label() == "GDLogisticRegression"
    assert _legend_texts(disp.ax_) == ["GDLogisticRegression"]


def test_from_estimator_name_ax_and_curve_kwargs(pyplot, fits):
    fig, ax = pyplot.subplots()
    disp = LossCurveDisplay.from_estimator(
        fits[1], ax=ax, name="alpha = 1", curve_kwargs={"color": "red", "lw": 3}
    )
    assert disp.ax_ is ax and disp.figure_ is fig
    assert ax.get_lines() == [disp.line_]
    assert disp.line_.get_label() == "alpha = 1"
    assert _legend_texts(ax) == ["alpha = 1"]
    assert disp.line_.get_color() == "red"
    assert disp.line_.get_linewidth() == 3


def test_plot_returns_self_and_redraws_with_new_name(pyplot, fits):
    disp = LossCurveDisplay(loss_curve=fits[0].loss_curve_, name="first")
    assert disp.plot() is disp
    assert disp.line_.get_label() == "first"
    _, ax = pyplot.subplots()
    disp.plot(ax=ax, name="second", despine=True)
    assert disp.ax_ is ax
    assert disp.line_.get_label() == "second"
    assert not ax.spines["top"].get_visible()
    assert not ax.spines["right"].get_visible()


def test_no_name_no_legend(pyplot):
    disp = LossCurveDisplay(loss_curve=[0.7, 0.5, 0.4]).plot()
    assert disp.ax_.get_legend() is None
    np.testing.assert_array_equal(disp.line_.get_ydata(), [0.7, 0.5, 0.4])


def test_from_estimators_one_line_per_estimator(pyplot, fits):
    disp = LossCurveDisplay.from_estimators(fits)
    assert len(disp.lines_) == len(fits) == len(disp.ax_.get_lines())
    assert disp.line_ == disp.lines_
    for line, clf in zip(disp.lines_, fits):
        np.testing.assert_array_equal(line.get_ydata(), clf.loss_curve_)
        np.testing.assert_array_equal(line.get_xdata(), np.arange(clf.n_iter_))
    # default names: the parameters in which the estimators differ
    expected = ["learning_rate=0.3", "learning_rate=1.0", "learning_rate=3.0"]
    assert [line.get_label() for line in disp.lines_] == expected
    assert _legend_texts(disp.ax_) == expected


def test_from_estimators_names(pyplot, fits, data):
    disp = LossCurveDisplay.from_estimators(fits, names=["a", "b", "c"])
    assert _legend_texts(disp.ax_) == ["a", "b", "c"]

    disp = LossCurveDisplay.from_estimators({"small": fits[0], "large": fits[2]})
    assert _legend_texts(disp.ax_) == ["small", "large"]
    np.testing.assert_array_equal(disp.lines_[1].get_ydata(), fits[2].loss_curve_)

    X, y = data
    two = [GDLogisticRegression(learning_rate=1.0, solver=s).fit(X, y) for s in ("gd", "nesterov")]
    disp = LossCurveDisplay.from_estimators(two)
    assert _legend_texts(disp.ax_) == ["solver='gd'", "solver='nesterov'"]

    # nothing differs: class name and index
    disp = LossCurveDisplay.from_estimators([fits[0], fits[0]])
    assert _legend_texts(disp.ax_) == ["GDLogisticRegression 0", "GDLogisticRegression 1"]


def test_from_estimators_curve_kwargs_per_curve(pyplot, fits):
    disp = LossCurveDisplay.from_estimators(
        fits, curve_kwargs=[{"color": c} for c in ("red", "green", "blue")]
    )
    assert [line.get_color() for line in disp.lines_] == ["red", "green", "blue"]
    with pytest.raises(ValueError, match="curve_kwargs"):
        LossCurveDisplay.from_estimators(fits, curve_kwargs=[{}, {}])


def test_log_y(pyplot, fits):
    disp = LossCurveDisplay.from_estimators(fits, log_y=True)
    assert disp.ax_.get_yscale() == "log"
    np.testing.assert_array_equal(disp.lines_[0].get_ydata(), fits[0].loss_curve_)


def test_relative_to_min_is_shared_by_all_curves(pyplot, fits):
    J_min = min(np.min(clf.loss_curve_) for clf in fits)
    disp = LossCurveDisplay.from_estimators(fits, relative_to="min")
    assert disp.reference_ == J_min
    assert disp.ax_.get_ylabel() == "J - min J"
    for line, clf in zip(disp.lines_, fits):
        np.testing.assert_allclose(line.get_ydata(), np.asarray(clf.loss_curve_) - J_min)
    assert min(np.min(line.get_ydata()) for line in disp.lines_) == 0

    # on a log scale, the zero at the minimum is left out (NaN); these fits
    # stopped at tol=1e-4, so no other point is within rounding error of it
    disp = LossCurveDisplay.from_estimators(fits, relative_to="min", log_y=True)
    y = np.concatenate([line.get_ydata() for line in disp.lines_])
    J = np.concatenate([np.asarray(clf.loss_curve_) for clf in fits])
    np.testing.assert_array_equal(np.isnan(y), J == J_min)
    assert np.all(y[~np.isnan(y)] > 0)


def test_relative_to_float(pyplot, fits):
    J_star = fits[0].loss_curve_[-1] - 1e-3
    disp = LossCurveDisplay.from_estimator(fits[0], relative_to=J_star, log_y=True)
    assert disp.reference_ == J_star
    np.testing.assert_allclose(disp.line_.get_ydata(), np.asarray(fits[0].loss_curve_) - J_star)
    assert "J_ref" in disp.ax_.get_ylabel()


def test_log_y_leaves_out_differences_within_rounding_error(pyplot, data):
    """Runs that reach the optimum to rounding error end with J - min J of a few
    units in the last place (about 1e-17). On a log scale such noise would send
    the curves to the bottom of the plot, far below everything else: those
    points are left out, like the minimum itself; the points above stay."""
    X, y = data
    fits = [
        GDLogisticRegression(learning_rate=lr, tol=1e-12, max_iter=5000).fit(X, y)
        for lr in (1.0, "auto")
    ]
    curves = [np.asarray(clf.loss_curve_) for clf in fits]
    J_min = min(curve.min() for curve in curves)
    floor = 16 * np.finfo(np.float64).eps * J_min  # the rounding error of J
    # the premise: each run has points above J_min but within rounding error of it
    for curve in curves:
        assert np.any((curve > J_min) & (curve - J_min <= floor))

    disp = LossCurveDisplay.from_estimators(fits, relative_to="min", log_y=True)
    for line, curve in zip(disp.lines_, curves):
        y = line.get_ydata()
        noise = curve - J_min <= floor
        np.testing.assert_array_equal(np.isnan(y), noise)
        np.testing.assert_allclose(y[~noise], curve[~noise] - J_min)
        assert np.all(y[~noise] > floor)
        assert np.count_nonzero(~noise) >= 10  # the descent itself is still drawn

    # the same rule for a float reference; a linear axis draws every point
    ulp = np.spacing(0.2)
    curve = [0.7, 0.3, 0.2 + 2 * ulp, 0.2]
    disp = LossCurveDisplay(loss_curve=curve).plot(relative_to=0.2, log_y=True)
    np.testing.assert_allclose(disp.line_.get_ydata(), [0.5, 0.1, np.nan, np.nan])
    disp = LossCurveDisplay(loss_curve=curve).plot(relative_to=0.2)
    np.testing.assert_allclose(disp.line_.get_ydata(), [0.5, 0.1, 2 * ulp, 0])


@pytest.mark.parametrize("relative_to", ["max", True, [0.1], "MIN"])
def test_relative_to_invalid(pyplot, fits, relative_to):
    with pytest.raises(ValueError, match="relative_to"):
        LossCurveDisplay.from_estimator(fits[0], relative_to=relative_to)


def test_pipeline_is_unwrapped(pyplot, data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), GDLogisticRegression()).fit(X, y)
    disp = LossCurveDisplay.from_estimator(pipe)
    np.testing.assert_array_equal(disp.line_.get_ydata(), pipe[-1].loss_curve_)
    assert disp.line_.get_label() == "GDLogisticRegression"


@pytest.mark.parametrize("search_class", [GridSearchCV, RandomizedSearchCV])
def test_search_is_unwrapped_to_its_best_estimator(pyplot, data, search_class):
    X, y = data
    pipe = make_pipeline(StandardScaler(), GDLogisticRegression())
    grid = {"gdlogisticregression__learning_rate": [1.0, 3.0]}
    if search_class is GridSearchCV:
        search = GridSearchCV(pipe, grid, cv=2)
    else:
        search = RandomizedSearchCV(pipe, grid, n_iter=2, cv=2, random_state=0)
    search.fit(X, y)
    best = search.best_estimator_[-1]
    disp = LossCurveDisplay.from_estimator(search)
    np.testing.assert_array_equal(disp.line_.get_ydata(), best.loss_curve_)
    # a list mixing a search, a pipeline and a bare estimator
    disp = LossCurveDisplay.from_estimators([search, search.best_estimator_, best])
    for line in disp.lines_:
        np.testing.assert_array_equal(line.get_ydata(), best.loss_curve_)


def test_not_fitted(pyplot, data):
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(GDLogisticRegression())
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(make_pipeline(StandardScaler(), GDLogisticRegression()))
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(GridSearchCV(GDLogisticRegression(), {"C": [1, 2]}))
    X, y = data
    fitted = GDLogisticRegression().fit(X, y)
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimators([fitted, GDLogisticRegression()])


def test_search_without_refit(pyplot, data):
    X, y = data
    search = GridSearchCV(GDLogisticRegression(), {"C": [1.0, 2.0]}, cv=2, refit=False)
    search.fit(X, y)
    with pytest.raises(ValueError, match="refit=False"):
        LossCurveDisplay.from_estimator(search)


def test_other_estimators_are_rejected(pyplot, data):
    X, y = data
    with pytest.raises(ValueError, match="GDLogisticRegression.*got LogisticRegression"):
        LossCurveDisplay.from_estimator(LogisticRegression().fit(X, y))
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="got LogisticRegression \\(from Pipeline\\)"):
        LossCurveDisplay.from_estimator(pipe)
    search = GridSearchCV(LogisticRegression(), {"C": [1.0, 2.0]}, cv=2).fit(X, y)
    with pytest.raises(ValueError, match="from GridSearchCV"):
        LossCurveDisplay.from_estimator(search)
    with pytest.raises(ValueError, match="got ndarray"):
        LossCurveDisplay.from_estimator(np.zeros(3))


def test_bad_names_and_empty_input(pyplot, fits):
    with pytest.raises(ValueError, match="names"):
        LossCurveDisplay.from_estimators(fits, names=["only one"])
    with pytest.raises(ValueError, match="names"):
        LossCurveDisplay.from_estimators(fits, names="one string")
    with pytest.raises(ValueError, match="at least one"):
        LossCurveDisplay.from_estimators([])
    with pytest.raises(ValueError, match="no loss curve"):
        LossCurveDisplay(loss_curve=[]).plot()
    with pytest.raises(ValueError, match="2 names for 3"):
        LossCurveDisplay(loss_curve=[c.loss_curve_ for c in fits], name=["a", "b"]).plot()


def test_without_matplotlib(monkeypatch, fits):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="LossCurveDisplay.from_estimator requires matplotlib"):
        LossCurveDisplay.from_estimator(fits[0])
    with pytest.raises(ImportError, match="LossCurveDisplay.plot requires matplotlib"):
        LossCurveDisplay(loss_curve=fits[0].loss_curve_).plot()


def test_package_imports_without_matplotlib():
    code = (
        "import sys; sys.modules['matplotlib'] = None; "
        "import sk_gdlogreg; print(sk_gdlogreg.LossCurveDisplay.__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "LossCurveDisplay"


def test_regularization_path_display(pyplot):
    """The path of a GDLogisticRegressionCV: its coefficients and scores, drawn as given."""
    from sk_gdlogreg import GDLogisticRegressionCV, RegularizationPathDisplay

    X, y = make_classification(n_samples=150, n_features=3, n_informative=2, n_redundant=0,
                               random_state=0)  # fmt: skip
    cv = GDLogisticRegressionCV(Cs=[10.0, 0.01, 1.0], cv=3).fit(X, y)
    disp = RegularizationPathDisplay.from_estimator(make_pipeline(cv))
    assert len(disp.coef_lines_) == 3 and len(disp.axes_) == 2
    order = [1, 2, 0]  # drawn from small C to large
    for j, line in enumerate(disp.coef_lines_):
        np.testing.assert_allclose(line.get_xdata(), cv.Cs_[order])
        np.testing.assert_allclose(
            line.get_ydata(), cv.coefs_paths_[:, 0, order, 0, j].mean(axis=0)
        )
    np.testing.assert_allclose(disp.score_line_.get_ydata(), cv.scores_[:, 0, order].mean(axis=0))
    assert disp.axes_[0].get_xscale() == "log" and disp.axes_[1].get_xscale() == "log"
    assert disp.axes_[1].get_ylabel() == "Cross-validated neg_log_loss"
    with pytest.raises(ValueError, match="needs a GDLogisticRegressionCV"):
        RegularizationPathDisplay.from_estimator(GDLogisticRegression().fit(X, y))
