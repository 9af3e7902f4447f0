"""Threads a user can live with: fits in fork-started children, concurrent fits in threads."""

import multiprocessing
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from sk_gdlogreg import GDLogisticRegression, _blocks, _objective


def big_problem(seed=0):
    """Enough rows for several blocks, so that a pass runs in threads."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((100_000, 20))
    y = (X[:, 0] + rng.standard_normal(100_000) > 0).astype(int)
    assert _blocks.n_blocks(X) >= 2 * _blocks.MIN_BLOCKS_PER_THREAD
    return X, y


@pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")
def test_a_fit_in_a_fork_started_child_after_a_fit_in_the_parent():
    X, y = big_problem()
    parent = GDLogisticRegression(max_iter=20, tol=1e-3).fit(X, y)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()

    def child():
        queue.put(GDLogisticRegression(max_iter=20, tol=1e-3).fit(X, y).coef_)

    processes = [ctx.Process(target=child) for _ in range(2)]
    for p in processes:
        p.start()
    try:
        coefs = [queue.get(timeout=120) for _ in processes]  # a hang fails here
    finally:
        for p in processes:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
    for coef in coefs:
        np.testing.assert_array_equal(coef, parent.coef_)


def test_two_fits_in_two_threads_overlap(monkeypatch):
    """Each fit's first pass waits until the other fit is inside a pass too.

    If the passes of two fits could not run at the same time (a process-wide
    lock around a pass, a shared pool busy with the other fit), the barrier
    would time out.
    """
    barrier = threading.Barrier(2, timeout=60)
    waited = set()
    original = _objective.binary_data_term  # the NumPy pass of two classes
    before = _blocks._blas_threads()

    def binary_data_term(*args, **kwargs):
        fit = threading.current_thread().name
        if fit.startswith("fit-") and fit not in waited:
            waited.add(fit)
            barrier.wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(_objective, "binary_data_term", binary_data_term)
    monkeypatch.setattr(_objective, "compiled_data_term", lambda *args: None)  # the NumPy pass
    X, y = big_problem()
    results, errors = {}, []

    def fit(name):
        try:
            results[name] = GDLogisticRegression(max_iter=10, tol=1e-3).fit(X, y).coef_
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=fit, args=(f"fit-{i}",), name=f"fit-{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert waited == {"fit-0", "fit-1"}
    assert _blocks._blas_threads() == before and _blocks._pin["users"] == 0
    monkeypatch.undo()
    monkeypatch.setattr(_objective, "compiled_data_term", lambda *args: None)
    ref = GDLogisticRegression(max_iter=10, tol=1e-3).fit(X, y).coef_
    for coef in results.values():
        np.testing.assert_array_equal(coef, ref)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_blas_runs_on_one_thread_during_a_fit_and_is_restored_after(monkeypatch):
    """The passes thread themselves; BLAS inside them, on more threads, would compete."""
    from threadpoolctl import threadpool_limits

    seen, original = [], _objective.binary_data_term  # the NumPy pass of two classes

    def binary_data_term(*args, **kwargs):
        seen.append((_blocks._blas_threads(), _blocks.default_n_threads()))
        return original(*args, **kwargs)

    monkeypatch.setattr(_objective, "binary_data_term", binary_data_term)
    monkeypatch.setattr(_objective, "compiled_data_term", lambda *args: None)  # the NumPy pass
    X, y = big_problem()
    with threadpool_limits(2, user_api="blas"):
        before = _blocks._blas_threads()
        expected_threads = _blocks.default_n_threads()
        GDLogisticRegression(max_iter=5, tol=1e-3).fit(X[:500], y[:500])  # one block
        GDLogisticRegression(max_iter=5, tol=1e-3).fit(X, y)  # blocks in threads
        assert _blocks._blas_threads() == before
    assert len(seen) >= 2
    # BLAS on one thread, while the passes still count the threads allowed before
    assert all(blas == [1] * len(before) for blas, _ in seen)
    assert all(n == expected_threads for _, n in seen)


def test_overlapping_blas_pins_are_lifted_by_the_last_to_end():
    """Two fits that overlap, the first ending first: BLAS stays pinned until the second ends."""
    import contextlib

    from threadpoolctl import threadpool_limits

    with threadpool_limits(2, user_api="blas"):
        before = _blocks._blas_threads()
        first, second = contextlib.ExitStack(), contextlib.ExitStack()
        first.enter_context(_blocks.one_blas_thread())
        second.enter_context(_blocks.one_blas_thread())
        first.close()
        assert _blocks._blas_threads() == [1] * len(before)
        second.close()
        assert _blocks._blas_threads() == before
        with _blocks.one_blas_thread(active=False):
            assert _blocks._blas_threads() == before


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fits_side_by_side_in_threads_give_the_bits_of_fits_one_after_another(monkeypatch):
    """Four fits at once in four threads, as joblib's threading backend runs them, give
    exactly the coefficients of the same fits run one after another in the main thread.

    OpenBLAS's last bits depend on its thread count (it splits ``v @ X`` among its
    threads), and its pool is process-wide: every fit pins it to one thread, also from
    a thread that is not the one threadpoolctl lets set limits (here the main thread,
    which set them last and keeps that control).
    """
    import scipy.sparse as sp
    from sklearn.datasets import make_classification
    from threadpoolctl import ThreadpoolController

    monkeypatch.setattr(_objective, "compiled_data_term", lambda *args: None)  # BLAS passes
    problems = []
    for n_classes in (2, 3):
        X, y = make_classification(
            20_000, 60, n_informative=20, n_classes=n_classes, random_state=n_classes
        )
        sparse = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0))
        problems += [(X, y), (X.astype(np.float32), y), (sparse, y)]
    limiter = ThreadpoolController().limit(limits=2, user_api="blas")  # the main thread's
    try:

        def fit(problem):
            return GDLogisticRegression(max_iter=30).fit(*problem).coef_

        one_after_another = [fit(problem) for problem in problems]
        with ThreadPoolExecutor(4) as pool:
            side_by_side = list(pool.map(fit, problems))
        assert _blocks._pin["users"] == 0
    finally:
        limiter.restore_original_limits()
    for ours, reference in zip(side_by_side, one_after_another):
        np.testing.assert_array_equal(ours, reference)
