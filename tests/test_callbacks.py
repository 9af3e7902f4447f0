"""scikit-learn's callbacks: ProgressBar, ScoringMonitor, and a callback that stops the fit.

The reference for the per-iteration scores is an independent fit: the model at the
end of iteration k is the fit with ``max_iter=k+1`` (the lecture's update is
deterministic), and the last row is the returned model.
"""

import warnings

import numpy as np
import pytest
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression

pytest.importorskip("rich")  # ProgressBar draws with rich


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def iteration_rows(monitor):
    return [row for row in monitor.get_logs().data if row["task_name"] == "iteration"]


@pytest.mark.parametrize("loop_mode", [None, "examples", "full"])
@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
def test_scoring_monitor_records_the_model_at_every_iteration(iris, solver, loop_mode):
    X, y = iris
    params = dict(solver=solver, learning_rate=0.5, tol=0, loop_mode=loop_mode)
    monitor = ScoringMonitor(scoring="neg_log_loss")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0
        clf = GDLogisticRegression(max_iter=6, **params).set_callbacks(monitor).fit(X, y)
        rows = iteration_rows(monitor)
        assert len(rows) == clf.n_iter_ == 6
        for k in (0, 1, 3, 5):  # the end of iteration k: the model after k + 1 updates
            ref = GDLogisticRegression(max_iter=k + 1, **params).fit(X, y)
            expected = -log_loss(y, ref.predict_proba(X))
            assert rows[k]["neg_log_loss"] == pytest.approx(expected, rel=1e-10)
    assert rows[-1]["neg_log_loss"] == pytest.approx(-log_loss(y, clf.predict_proba(X)), rel=1e-12)
    assert rows[0]["neg_log_loss"] > -np.log(3)  # after the first update from w = 0, b = 0


class StopAfter:
    """A callback that asks the fit to stop after ``n`` iterations."""

    def __init__(self, n):
        self.n, self.seen = n, 0

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "iteration":
            self.seen += 1
            return self.seen >= self.n
        return False

    def teardown(self, estimator, context):
        pass


@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
def test_a_callback_can_stop_the_fit(iris, solver):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a requested stop is no failure
        clf = GDLogisticRegression(solver=solver, tol=1e-12, max_iter=500)
        clf.set_callbacks(StopAfter(4)).fit(X, y)
    assert clf.n_iter_ == 4 == len(clf.loss_curve_)
    full = GDLogisticRegression(solver=solver, tol=1e-12, max_iter=500).fit(X, y)
    assert full.n_iter_ > 4
    np.testing.assert_allclose(clf.loss_curve_, full.loss_curve_[:4])
    # a stop after iteration k returns the fit with max_iter=k+1 (same iterations)
    ref = GDLogisticRegression(solver=solver, tol=1e-12, max_iter=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, y)
    np.testing.assert_array_equal(clf.coef_, ref.coef_)
    np.testing.assert_array_equal(clf.intercept_, ref.intercept_)


class Recorder:
    """A callback that records the order of the begin/end calls of the iterations."""

    def __init__(self):
        self.events = []

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        if context.task_name == "iteration":
            self.events.append("begin")

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "iteration":
            self.events.append("end")
        return False

    def teardown(self, estimator, context):
        pass


def test_begin_and_end_bracket_each_iteration(iris):
    """begin before the iteration's pass, end after its update: the passes lie between; a
    constant step's last update is evaluated once after the iterations."""
    X, y = iris
    rec = Recorder()
    clf = GDLogisticRegression(solver="gd", learning_rate=0.5, tol=0, max_iter=3)
    clf.set_callbacks(rec)
    real_loss_grad = None

    import sk_gdlogreg._objective as objective

    real_loss_grad = objective.Objective.loss_grad

    def spy(self, coef):
        rec.events.append("pass")
        return real_loss_grad(self, coef)

    objective.Objective.loss_grad = spy
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
    finally:
        objective.Objective.loss_grad = real_loss_grad
    # and after the last iteration, one pass that checks the last constant-step update
    assert rec.events == ["begin", "pass", "end"] * 3 + ["pass"]


def test_progress_bar_in_a_pipeline(iris, capsys):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), GDLogisticRegression(loop_mode="examples"))
    pipe.set_callbacks(ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    assert "GDLogisticRegression - fit" in out
    assert "100%" in out
    assert pipe.score(X, y) > 0.9


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # alpha=0.1 is slow
def test_scoring_monitor_inside_grid_search_sees_every_fit():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    monitor = ScoringMonitor(scoring="accuracy")
    search = GridSearchCV(
        GDLogisticRegression().set_callbacks(monitor),
        {"learning_rate": [0.1, "auto"]},
        cv=3,
    ).fit(X, y)
    rows = iteration_rows(monitor)
    fits = {row["parent_task_id_path"] for row in rows}
    assert len(fits) == 2 * 3 + 1  # every candidate on every split, and the refit
    refit_rows = [row for row in rows if row["parent_task_id_path"] == (0, 1)]
    assert len(refit_rows) == search.best_estimator_.n_iter_
