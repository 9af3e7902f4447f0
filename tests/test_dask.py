"""Fitting and predicting on Dask arrays, through a real LocalCluster.

The tests start their own cluster (2 worker processes on loopback), so nothing has
to run beforehand. The reference is always the in-memory NumPy fit of the same
data: with a constant step, the Dask fit must equal it to rounding error. The data
is small (4 chunks) and the iterations few: a pass through the cluster costs a few
milliseconds of scheduling whatever the size, and the file must stay fast.
"""

import logging
import os
import signal
import threading
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError

pytest.importorskip("distributed")
import dask  # noqa: E402
import dask.array as da  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import sk_gdlogreg._dask as sk_dask  # noqa: E402
from sk_gdlogreg import GDLogisticRegression  # noqa: E402
from sk_gdlogreg._dask import DaskData, prepare_fit  # noqa: E402
from sk_gdlogreg._data import FitSettings  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CLUSTER_KW = dict(
    n_workers=2,
    threads_per_worker=1,
    processes=True,
    host="127.0.0.1",
    dashboard_address=None,
    # the scheduler's HTTP server (health, metrics) binds 8787 even without a
    # dashboard: ":0" picks a free port, so two clusters do not collide
    scheduler_kwargs={"dashboard_address": ":0"},
    # the WARNINGs of a lost worker are expected in one test; pytest still captures them
    silence_logs=logging.ERROR,
    memory_limit="1GiB",
)
CHUNK = 1000  # 4 chunks of 4000 rows


@pytest.fixture(scope="module")
def cluster_client():
    cluster = LocalCluster(**CLUSTER_KW)
    client = Client(cluster)
    client.wait_for_workers(2, timeout=60)
    yield cluster, client
    client.close()
    cluster.close()


@pytest.fixture
def client(cluster_client):
    return cluster_client[1]


def _data(K=2, m=4000, d=8, seed=0, dtype=np.float64, labels=None):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((m, d)) * rng.uniform(0.5, 2, d) + rng.uniform(-1, 1, d)).astype(dtype)
    logits = X @ rng.standard_normal((d, K)) + rng.standard_normal((m, K))
    y = np.argmax(logits, axis=1)
    if labels is not None:
        y = np.asarray(labels)[y]
    s = rng.uniform(0.1, 2, m)
    return X, y, s


def _settings(class_weight=None):
    return FitSettings("GDLogisticRegression", True, class_weight, None, 0)


def _to_dask(*arrays, chunk=CHUNK):
    return [None if a is None else da.from_array(a, chunks=(chunk,) + a.shape[1:]) for a in arrays]


def _fit_both(params, X, y, s=None, **dask_kw):
    ref = GDLogisticRegression(**params).fit(X, y, sample_weight=s)
    Xd, yd, sd = _to_dask(X, y, s)
    est = GDLogisticRegression(**params).fit(Xd, yd, sample_weight=sd, **dask_kw)
    return ref, est


def _assert_same_fit(ref, est, rtol=1e-10):
    assert est.n_iter_ == ref.n_iter_
    assert_array_equal(est.classes_, ref.classes_)
    assert est.n_features_in_ == ref.n_features_in_
    assert est.coef_.dtype == ref.coef_.dtype and isinstance(est.coef_, np.ndarray)
    scale = np.abs(ref.coef_).max()
    assert_allclose(est.coef_, ref.coef_, rtol=rtol, atol=rtol * scale)
    assert_allclose(est.intercept_, ref.intercept_, rtol=rtol, atol=rtol * scale)
    assert_allclose(est.loss_curve_, ref.loss_curve_, rtol=rtol)


# ------------------------------------------------------------- the same fit as NumPy
CONSTANT_STEP = {
    "binary, L2, sample_weight": (2, dict(solver="gd", C=1.0), True),
    "binary, L1, class_weight dict": (
        2,
        dict(solver="nesterov", C=1e-3, l1_ratio=1.0, class_weight={0: 2.0, 1: 0.5}),
        True,
    ),
    "multinomial, elastic net, balanced": (
        3,
        dict(solver="gd", C=0.1, l1_ratio=0.5, class_weight="balanced"),
        True,
    ),
    "multinomial, no penalty, no intercept": (
        3,
        dict(solver="nesterov", C=np.inf, fit_intercept=False),
        False,
    ),
}


@pytest.mark.parametrize("case", list(CONSTANT_STEP))
def test_constant_step_fit_equals_numpy(client, case):
    K, params, weighted = CONSTANT_STEP[case]
    X, y, s = _data(K=K)
    params = dict(params, learning_rate=0.2, max_iter=15, tol=0)
    ref, est = _fit_both(params, X, y, s if weighted else None)
    _assert_same_fit(ref, est)
    assert est.n_iter_ == 15
    if params.get("l1_ratio") == 1.0:
        assert (est.coef_ == 0).any()  # the L1 prox runs on the client as before


@pytest.mark.parametrize(
    "K, params",
    [
        (2, dict(solver="gd", class_weight="balanced")),
        (3, dict(solver="nesterov", C=0.5, l1_ratio=0.3)),
    ],
)
def test_auto_learning_rate_fit_equals_numpy(client, K, params):
    """'auto' steps depend on comparisons of J (line search, restarts): rounding may
    flip one, so the fits are compared at the solver's tolerance (here in the diagonal
    coordinates; the whitened ones: test_default_fit_whitens_as_numpy_does)."""
    X, y, s = _data(K=K, seed=1)
    params = dict(params, learning_rate="auto", tol=1e-4, max_iter=300, preconditioner="diagonal")
    ref, est = _fit_both(params, X, y, s)
    assert est.n_iter_ < 300 and ref.n_iter_ < 300  # both converged
    scale = np.abs(ref.coef_).max()
    assert_allclose(est.coef_, ref.coef_, rtol=1e-3, atol=1e-3 * scale)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-3, atol=1e-3 * scale)
    assert est.loss_curve_[-1] == pytest.approx(ref.loss_curve_[-1], rel=1e-6)
    assert est.loss_curve_[0] == pytest.approx(ref.loss_curve_[0], rel=1e-12)


@pytest.mark.parametrize("K", [2, 3])
def test_default_fit_whitens_as_numpy_does(client, K):
    """The same path as in memory: the same whitened coordinates from the same row
    sample (every 3rd row of 45,000, in chunks that are not multiples of 3), so the same
    iterations and, to rounding, the same model, at default settings."""
    rng = np.random.default_rng(2)
    A = rng.standard_normal((10, 10)) @ np.diag(np.logspace(0, -2, 10))
    X = rng.standard_normal((45_000, 10)) @ A
    y = np.argmax(X @ rng.standard_normal((10, K)) + rng.logistic(size=(45_000, K)), axis=1)
    ref = GDLogisticRegression().fit(X, y)
    # the default path's solver (whitened by the whole curvature: Nesterov's), diagonal
    diagonal = GDLogisticRegression(preconditioner="diagonal", solver="nesterov", max_iter=300)
    assert ref.n_iter_ * 3 < diagonal.fit(X, y).n_iter_  # the path whitens
    est = GDLogisticRegression().fit(*_to_dask(X, y, chunk=7000))
    _assert_same_fit(ref, est, rtol=1e-8)


def test_float32_stays_float32(client):
    X, y, s = _data(dtype=np.float32)
    params = dict(learning_rate=0.2, max_iter=20, tol=0)
    ref, est = _fit_both(params, X, y, s.astype(np.float32))
    assert est.coef_.dtype == np.float32 and est.intercept_.dtype == np.float32
    assert est.n_iter_ == ref.n_iter_
    assert_allclose(est.coef_, ref.coef_, rtol=1e-4, atol=1e-5)
    assert_allclose(est.loss_curve_, ref.loss_curve_, rtol=1e-5)
    assert est.predict_proba(_to_dask(X)[0]).dtype == np.float32


def test_numpy_labels_weights_and_column_chunks(client):
    """X chunked by columns too (rechunked), y as a list of strings, NumPy weights,
    uneven row chunks: the same fit."""
    X, y, s = _data(K=3, labels=["cat", "dog", "emu"])
    params = dict(learning_rate=0.2, max_iter=15, tol=0)
    ref = GDLogisticRegression(**params).fit(X, y, sample_weight=s)
    Xd = da.from_array(X, chunks=((700, 1300, 1000, 1000), (3, 5)))
    est = GDLogisticRegression(**params).fit(Xd, list(y), sample_weight=s)
    _assert_same_fit(ref, est)
    assert list(est.classes_) == ["cat", "dog", "emu"]
    # y chunked unlike X is rechunked to X's rows
    est2 = GDLogisticRegression(**params).fit(Xd, da.from_array(y, chunks=1500))
    ref2 = GDLogisticRegression(**params).fit(X, y)
    _assert_same_fit(ref2, est2)


def test_streamed_from_source_equals_persisted(client):
    """persist=False reads every chunk from its source at each iteration: same result."""
    X, y, s = _data()
    params = dict(learning_rate=0.2, max_iter=10, tol=0)
    Xd, yd, sd = _to_dask(X, y, s)
    persisted = GDLogisticRegression(**params).fit(Xd, yd, sample_weight=sd)
    with dask.config.set({"sk_gdlogreg.persist": False}):
        data = prepare_fit(Xd, yd, sd, _settings())
        assert not data.data.persisted
        streamed = GDLogisticRegression(**params).fit(Xd, yd, sample_weight=sd)
    # the same sums; BLAS may round a chunk read from the source differently from its
    # copy in memory (alignment), by an ulp
    _assert_same_fit(persisted, streamed, rtol=1e-12)


def test_prepare_fit_statistics(client):
    """The one pass before iterating: classes, S, weighted mean and std (float64 sums)."""
    X, y, s = _data(K=3)
    data = prepare_fit(*_to_dask(X, y, s), _settings(class_weight="balanced"))
    obj = data.data
    assert isinstance(obj, DaskData) and obj.persisted  # small: "auto" persists
    assert (obj.n_outputs, obj.n_features) == (3, 8)
    assert obj.xp is np and obj.device == "cpu" and data.xp is np and data.device == "cpu"
    assert data.callback_data == dict(X=None, y=None, metadata=None)
    counts = np.bincount(y, weights=s)
    w = s * (counts.sum() / (3 * counts))[y]
    mean = w @ X / w.sum()
    assert_allclose(data.mean, mean, rtol=1e-12)
    assert_allclose(data.std, np.sqrt(w @ (X - mean) ** 2 / w.sum()), rtol=1e-12)
    assert data.weight_sum == pytest.approx(w.sum(), rel=1e-12)
    assert data.n_features_in == 8 and data.feature_names_in is None


# -------------------------------------------------------------------- lazy predict
@pytest.mark.parametrize("K", [2, 3])
def test_predict_methods_are_lazy_and_equal_numpy(client, K):
    X, y, _ = _data(K=K, labels=np.array(["a", "b", "c"])[:K])
    est = GDLogisticRegression(learning_rate=0.2, max_iter=10).fit(X, y)
    (Xd,) = _to_dask(X)
    for method in ("decision_function", "predict", "predict_proba", "predict_log_proba"):
        lazy = getattr(est, method)(Xd)
        assert isinstance(lazy, da.Array), method
        assert lazy.chunks[0] == Xd.chunks[0], method
        expected = getattr(est, method)(X)
        assert lazy.shape == expected.shape and lazy.dtype == expected.dtype, method
        if method == "predict":
            assert_array_equal(lazy.compute(), expected)
        else:
            assert_allclose(lazy.compute(), expected, rtol=1e-12, atol=1e-14, err_msg=method)


def test_predict_errors(client):
    X, y, _ = _data()
    est = GDLogisticRegression(max_iter=10)
    with pytest.raises(NotFittedError):
        est.predict(_to_dask(X)[0])
    est.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(_to_dask(X[:, :5])[0])
    Xb = X.copy()
    Xb[2500, 1] = np.nan
    lazy = est.predict_proba(_to_dask(Xb)[0])  # lazy: the check runs with the chunk
    with pytest.raises(ValueError, match="NaN"):
        lazy.compute()


# ---------------------------------------------------------------- cluster behaviour
class _Recorder:
    """A scikit-learn callback: what the scheduler holds at every iteration."""

    def __init__(self, client):
        self.client, self.tasks = client, []

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "iteration":
            n = self.client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
            self.tasks.append(n)
        return False

    def teardown(self, estimator, context):
        pass


def test_graph_size_per_iteration_is_constant(client, monkeypatch):
    X, y, s = _data(K=3)
    Xd, yd, sd = _to_dask(X, y, s)
    obj = prepare_fit(Xd, yd, sd, _settings()).data
    rng = np.random.default_rng(0)
    coefs = [rng.standard_normal((3, 9)) for _ in range(4)]
    sizes = {len(obj.graph(c).__dask_graph__()) for c in coefs}
    assert len(sizes) == 1
    # a large coef travels as one key instead of inside the tasks: the same sums
    embedded = [obj.loss_grad(c) for c in coefs]
    monkeypatch.setattr(sk_dask, "EMBED_COEF_BYTES", 0)
    assert len({len(obj.graph(c).__dask_graph__()) for c in coefs}) == 1
    for c, (J, g) in zip(coefs, embedded):
        J2, g2 = obj.loss_grad(c)
        assert J2 == pytest.approx(J, rel=1e-14)
        assert_allclose(g2, g, rtol=1e-13, atol=1e-16)
    del obj

    recorder = _Recorder(client)
    est = GDLogisticRegression(learning_rate=0.2, max_iter=20, tol=0)
    est.set_callbacks(recorder).fit(Xd, yd, sample_weight=sd)
    assert len(recorder.tasks) == 20
    # Nothing accumulates on the scheduler: the count fluctuates by one iteration's
    # tasks (the previous result's keys are released asynchronously), never grows.
    assert max(recorder.tasks[-8:]) <= max(recorder.tasks[:8])


def _worker_pids(client):
    return client.run(os.getpid)  # {address: pid}


class _KillAt:
    """A callback that lets a background thread kill a worker at iteration ``k``."""

    def __init__(self, k, go):
        self.k, self.go, self.seen = k, go, 0

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "iteration":
            self.seen += 1
            if self.seen == self.k:
                self.go.set()  # the next iteration runs while the worker dies
        return False

    def teardown(self, estimator, context):
        pass


def test_worker_killed_in_the_middle_of_a_fit(cluster_client):
    """SIGKILL of a worker (as an OOM kill or a lost node) during the fit: its chunks are
    recomputed from the graph on the other worker, and the fit ends with the same result."""
    cluster, client = cluster_client
    X, y, s = _data(K=3, seed=2)
    params = dict(learning_rate=0.2, max_iter=20, tol=0, class_weight="balanced")
    ref = GDLogisticRegression(**params).fit(X, y, sample_weight=s)
    pid = sorted(_worker_pids(client).items())[-1][1]
    go, killed = threading.Event(), []

    def killer():  # no client calls from this thread: just a signal
        if go.wait(60):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        Xd, yd, sd = _to_dask(X, y, s)
        est = GDLogisticRegression(**params).set_callbacks(_KillAt(4, go))
        est.fit(Xd, yd, sample_weight=sd)
        thread.join(30)
        assert killed == [pid]
        _assert_same_fit(ref, est)
    finally:
        go.set()
        thread.join(30)
        cluster.scale(2)
        client.wait_for_workers(2, timeout=60)
    assert pid not in _worker_pids(client).values()  # the nanny started a new one


# --------------------------------------------------------------------- bad input
def _bad_inputs():
    X, y, s = _data()
    n = len(y)
    cases = {}
    for bad in (np.nan, np.inf):
        Xb = X.copy()
        Xb[3500, 1] = bad  # in the last chunk
        cases[f"X has {bad}"] = (Xb, y, None, "NaN" if bad != bad else "infinity")
    cases["one class"] = (X, np.zeros(n, int), None, "only one class")
    cases["continuous y"] = (X, np.linspace(0, 1, n), None, "Unknown label type")
    cases["y has NaN"] = (X, np.where(np.arange(n) == 7, np.nan, y), None, "y contains NaN")
    cases["y too short"] = (X, y[:-1], None, "inconsistent numbers of samples")
    cases["sample_weight too long"] = (X, y, np.ones(n + 1), "sample_weight.shape")
    sw = np.ones(n)
    sw[2100] = -0.5
    cases["negative sample_weight"] = (X, y, sw, "Negative values")
    sw = np.ones(n)
    sw[5] = np.nan
    cases["nan sample_weight"] = (X, y, sw, "sample_weight contains NaN")
    sw = np.where(y == 1, 0.0, 1.0)
    cases["one class with weight"] = (X, y, sw, "positive sample weight")
    cases["no features"] = (X[:, :0], y, None, "0 feature")
    cases["1-D X"] = (X[:, 0], y, None, "2-D")
    return cases


BAD = _bad_inputs()


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_raises_value_error_and_leaves_estimator_unfitted(client, case):
    X, y, s, match = BAD[case]
    Xd = da.from_array(X, chunks=(CHUNK,) + X.shape[1:])
    est = GDLogisticRegression()
    with pytest.raises(ValueError, match=match):
        est.fit(Xd, y, sample_weight=s)
    assert not [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]


def test_unknown_chunk_sizes_and_loop_mode_raise(client):
    X, y, _ = _data()
    Xd = da.from_array(X, chunks=(CHUNK, -1))
    unknown = Xd[da.from_array(np.ones(len(y), bool), chunks=CHUNK)]  # boolean mask: NaN chunks
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        GDLogisticRegression().fit(unknown, y)
    with pytest.raises(ValueError, match="loop_mode='full' is not supported with Dask"):
        GDLogisticRegression(loop_mode="full").fit(Xd, y)


def test_a_failed_refit_keeps_the_previous_model(client):
    X, y, _ = _data()
    Xd, yd = _to_dask(X, y)
    est = GDLogisticRegression(learning_rate=0.2, max_iter=5).fit(Xd, yd)
    coef = est.coef_.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ValueError, match="only one class"):
            est.fit(Xd, da.zeros(len(y), chunks=CHUNK))
    assert_array_equal(est.coef_, coef)


# ------------------------------------------------------------- GDLogisticRegressionCV
def test_cv_equals_numpy_cv_with_folds_as_row_selections(client, monkeypatch):
    """The same path on every fold as the NumPy CV fit (C_, scores, coefficients), each
    fold a lazy row selection of the one Dask array (no copy of X per fold). Small: each
    score on a Dask test fold costs several round trips to the cluster."""
    from sk_gdlogreg import GDLogisticRegressionCV, _cv_path

    X, y, s = _data(K=3)
    params = dict(Cs=[0.01, 1.0], cv=2, tol=1e-3)
    ref = GDLogisticRegressionCV(**params).fit(X, y, sample_weight=s)
    Xd, yd, sd = _to_dask(X, y, s)
    selections = []
    take_rows = _cv_path._take_rows

    def recording_take_rows(a, rows):
        taken = take_rows(a, rows)
        if a is Xd:
            selections.append(taken)
        return taken

    monkeypatch.setattr(_cv_path, "_take_rows", recording_take_rows)
    est = GDLogisticRegressionCV(**params).fit(Xd, yd, sample_weight=sd)
    assert len(selections) == 2 * 2  # a training and a test fold each
    for taken in selections:
        assert isinstance(taken, da.Array) and Xd.name in taken.dask.layers
    assert est.C_ == ref.C_
    assert_array_equal(est.n_iter_, ref.n_iter_)
    assert_allclose(est.scores_, ref.scores_, rtol=1e-8)
    scale = np.abs(ref.coefs_paths_).max()
    assert_allclose(est.coefs_paths_, ref.coefs_paths_, rtol=1e-8, atol=1e-8 * scale)
    assert isinstance(est.coef_, np.ndarray)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-8, atol=1e-8 * scale)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-8, atol=1e-8 * scale)


@pytest.mark.parametrize("K", [2, 3])
def test_l1_fit_takes_the_metric_path_as_numpy_does(client, K):
    """L1 (steps in the curvature metric): the same row sample, the same metric, so the
    same iterations, the same support and, to rounding, the same model."""
    rng = np.random.default_rng(2)
    A = rng.standard_normal((10, 10)) @ np.diag(np.logspace(0, -2, 10))
    X = rng.standard_normal((45_000, 10)) @ A
    y = np.argmax(X @ rng.standard_normal((10, K)) + rng.logistic(size=(45_000, K)), axis=1)
    params = dict(C=0.05, l1_ratio=1.0)
    ref = GDLogisticRegression(**params).fit(X, y)
    diagonal = GDLogisticRegression(preconditioner="diagonal", max_iter=300, **params)
    assert ref.n_iter_ * 2 < diagonal.fit(X, y).n_iter_  # the path takes metric steps
    est = GDLogisticRegression(**params).fit(*_to_dask(X, y, chunk=7000))
    _assert_same_fit(ref, est, rtol=1e-8)
    assert_array_equal(est.coef_ == 0, ref.coef_ == 0)
