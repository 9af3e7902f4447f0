"""The fused, blocked, threaded pass against a textbook float64 implementation and finite differences.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, log_expit, logsumexp, softmax

from sk_gdlogreg import _fused as fused


def naive_loss_grad(X, y, sw, coef, fit_intercept):
    """Textbook formulas, full arrays, float64 throughout."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    coef = np.asarray(coef, dtype=np.float64)
    sw = np.asarray(sw, dtype=np.float64)
    m, d = X.shape
    K = coef.shape[0]
    Xa = np.hstack([X, np.ones((m, 1))]) if fit_intercept else X
    Z = Xa @ coef.T                                      # (m, K)
    if K == 1:
        z = Z[:, 0]
        yf = np.asarray(y, dtype=np.float64)
        # -log(sigmoid(z)) for y=1, -log(1-sigmoid(z)) for y=0
        L = -(yf * log_expit(z) + (1 - yf) * log_expit(-z))
        # sigmoid(z) - y written without cancellation for y in {0, 1}: 1 - sigmoid(z) = sigmoid(-z)
        dz = sw * ((1 - yf) * expit(z) - yf * expit(-z))
        return float(sw @ L), (dz @ Xa)[None, :]
    Y = np.eye(K)[np.asarray(y)]
    L = logsumexp(Z, axis=1) - Z[np.arange(m), y]
    dZ = sw[:, None] * (softmax(Z, axis=1) - Y)
    return float(sw @ L), dZ.T @ Xa


def make_problem(m, d, K, dtype=np.float64, seed=0, weights=True, order="C", scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d))
    X = np.asarray(X, dtype=dtype, order=order)
    if K == 1:
        y = (rng.random(m) < 0.5).astype(dtype)
    else:
        y = rng.integers(0, K, m)
    s = rng.random(m) + 0.1 if weights else np.ones(m)
    sw = (s / s.sum()).astype(dtype)
    coef = (scale * rng.standard_normal((K, d + 1))).astype(dtype)
    return X, y, sw, coef


def _relerr(a, b):
    return np.max(np.abs(np.asarray(a) - np.asarray(b))) / max(np.max(np.abs(b)), 1e-300)


# m values: tiny (single-block fast path), several blocks with a ragged tail, and enough
# rows that the threaded path is taken.
@pytest.mark.parametrize("m", [37, 5003, 120_001])
@pytest.mark.parametrize("K", [1, 4])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", [True, False])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_matches_naive_float64(m, K, fit_intercept, weights, n_threads):
    d = 20
    X, y, sw, coef = make_problem(m, d, K, weights=weights)
    if not fit_intercept:
        coef = coef[:, :d].copy()
    # Small blocks so that the m=5003 case runs many blocks and the m=120_001 case threads.
    J, g = fused.loss_grad(X, y, sw, coef, fit_intercept, n_threads=n_threads)
    J0, g0 = naive_loss_grad(X, y, sw, coef, fit_intercept)
    assert g.shape == coef.shape and g.dtype == coef.dtype
    assert abs(J - J0) <= 1e-12 * abs(J0)
    assert _relerr(g, g0) <= 1e-12


@pytest.mark.parametrize("K", [1, 3])
def test_block_paths_agree(monkeypatch, K):
    # Force many tiny blocks and several threads: the result must not depend on the split.
    X, y, sw, coef = make_problem(3001, 7, K)
    J0, g0 = naive_loss_grad(X, y, sw, coef, True)
    monkeypatch.setattr(fused, "_BLOCK_BYTES", 7 * 8 * 64)
    monkeypatch.setattr(fused, "_MIN_BLOCKS_PER_THREAD", 1)
    for nt in (1, 2, 3, 5):
        J, g = fused.loss_grad(X, y, sw, coef, True, n_threads=nt)
        assert abs(J - J0) <= 1e-12 * abs(J0)
        assert _relerr(g, g0) <= 1e-12


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bitwise_independent_of_n_threads(monkeypatch, K, dtype):
    # Per-block partial results are summed in block order: the thread count and the dynamic
    # sharing of blocks must not change a single bit.
    monkeypatch.setattr(fused, "_MIN_BLOCKS_PER_THREAD", 1)
    X, y, sw, coef = make_problem(50_000, 30, K, dtype=dtype)
    J1, g1 = fused.loss_grad(X, y, sw, coef, True, n_threads=1)
    for _ in range(3):
        for nt in (2, 3, 4):
            J, g = fused.loss_grad(X, y, sw, coef, True, n_threads=nt)
            assert J == J1
            np.testing.assert_array_equal(g, g1)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("order", ["C", "F"])
def test_fortran_and_views(K, order):
    X, y, sw, coef = make_problem(40_000, 9, K, order=order)
    J0, g0 = naive_loss_grad(X, y, sw, coef, True)
    J, g = fused.loss_grad(X, y, sw, coef, True)
    assert abs(J - J0) <= 1e-12 * abs(J0)
    assert _relerr(g, g0) <= 1e-12
    # Non-contiguous row/column views must work without surprises too.
    Xv = X[::2, 1:]
    cv = coef[:, 1:]
    J0, g0 = naive_loss_grad(Xv, y[::2], sw[::2], cv, True)
    J, g = fused.loss_grad(Xv, y[::2], sw[::2], cv, True)
    assert abs(J - J0) <= 1e-12 * abs(J0)
    assert _relerr(g, g0) <= 1e-12


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_finite_differences(K, fit_intercept):
    d = 6
    X, y, sw, coef = make_problem(500, d, K, scale=0.5)
    if not fit_intercept:
        coef = coef[:, :d].copy()
    J, g = fused.loss_grad(X, y, sw, coef, fit_intercept)
    h = 1e-6
    num = np.empty_like(coef)
    for idx in np.ndindex(coef.shape):
        cp, cm = coef.copy(), coef.copy()
        cp[idx] += h
        cm[idx] -= h
        num[idx] = (fused.loss_grad(X, y, sw, cp, fit_intercept)[0]
                    - fused.loss_grad(X, y, sw, cm, fit_intercept)[0]) / (2 * h)
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [50, 100_000])
def test_extreme_margins_no_warnings(K, dtype, m):
    # |z| up to 1e30: no overflow, no NaN, no warning (underflow of exp(-|z|) to 0 is intended
    # and silent under NumPy's default errstate); losses are the exact limits.
    d = 3
    rng = np.random.default_rng(1)
    X = np.zeros((m, d), dtype=dtype)
    X[:, 0] = rng.choice([-1e30, -50.0, -1.0, 0.0, 1.0, 50.0, 1e30], m)
    X[:, 1] = 1.0
    y = (rng.random(m) < 0.5).astype(dtype) if K == 1 else rng.integers(0, K, m)
    sw = np.full(m, 1.0 / m, dtype=dtype)
    coef = np.zeros((K, d + 1), dtype=dtype)
    coef[:, 0] = 1.0 if K == 1 else np.linspace(-1, 1, K)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            J, g = fused.loss_grad(X, y, sw, coef, True, n_threads=1)
        J2, g2 = fused.loss_grad(X, y, sw, coef, True, n_threads=2)
    assert np.isfinite(J) and np.all(np.isfinite(g))
    assert J == J2
    J0, g0 = naive_loss_grad(X, y, sw, coef, True)
    assert abs(J - J0) <= (1e-5 if dtype == np.float32 else 1e-12) * abs(J0)
    # float32 BLAS sums of 1e5 terms of size ~1e30 / m: compare relative to the largest entry.
    assert _relerr(g, g0) <= (1e-4 if dtype == np.float32 else 1e-12)


def test_tiny_probabilities_keep_relative_accuracy():
    # Well-separated data: every loss term ~ exp(-30). Both J and the gradient must be
    # accurate relative to their (tiny) size, not just absolutely.
    X, y, sw, coef = make_problem(2000, 1, 1, weights=False)
    X = np.abs(X) + 1.0
    y = np.ones(2000)
    coef[:] = [[30.0, 0.0]]
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        Xd, swd, yd, cd = X.astype(dtype), sw.astype(dtype), y.astype(dtype), coef.astype(dtype)
        J, g = fused.loss_grad(Xd, yd, swd, cd, True)
        J0, g0 = naive_loss_grad(Xd, yd, swd, cd, True)
        assert 0 < J0 < 1e-12
        assert abs(J - J0) <= rtol * J0
        np.testing.assert_allclose(g, g0, rtol=rtol)


@pytest.mark.parametrize("K", [1, 3])
def test_float32_stays_float32(K):
    X, y, sw, coef = make_problem(30_000, 15, K, dtype=np.float32)
    J, g = fused.loss_grad(X, y, sw, coef, True)
    assert g.dtype == np.float32 and isinstance(J, float)
    J0, g0 = naive_loss_grad(X, y, sw, coef, True)
    assert abs(J - J0) <= 1e-5 * abs(J0)
    np.testing.assert_allclose(g, g0, rtol=2e-4, atol=1e-6)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse(K, fit_intercept, fmt):
    rng = np.random.default_rng(3)
    X = sp.random(3000, 40, density=0.05, format=fmt, random_state=4, dtype=np.float64)
    y = (rng.random(3000) < 0.5).astype(float) if K == 1 else rng.integers(0, K, 3000)
    sw = np.full(3000, 1 / 3000)
    coef = rng.standard_normal((K, 40 + fit_intercept))
    J, g = fused.loss_grad(X, y, sw, coef, fit_intercept)
    J0, g0 = naive_loss_grad(X, y, sw, coef, fit_intercept)
    assert abs(J - J0) <= 1e-12 * abs(J0)
    assert _relerr(g, g0) <= 1e-12
    Jd, gd = fused.loss_grad(X.toarray(), y, sw, coef, fit_intercept)
    assert abs(J - Jd) <= 1e-12 * abs(J0)


def test_n_threads_resolution(monkeypatch):
    from threadpoolctl import threadpool_limits

    assert fused._resolve_n_threads(3, 8) == 3
    assert fused._resolve_n_threads(-1, 8) >= 1
    assert fused._resolve_n_threads(None, 1) == 1          # BLAS-only limit honoured
    with threadpool_limits(1):
        assert fused._resolve_n_threads(None, 8) == 1      # OpenMP limit honoured


def test_concurrent_callers_restore_blas_threads(monkeypatch):
    # Several Python threads calling at once (a threaded grid search): results stay exact and
    # the process-global BLAS thread count is the original one afterwards.
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    monkeypatch.setattr(fused, "_MIN_BLOCKS_PER_THREAD", 1)
    before = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    X, y, sw, coef = make_problem(60_000, 30, 1)
    J0, g0 = naive_loss_grad(X, y, sw, coef, True)
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda _: fused.loss_grad(X, y, sw, coef, True, n_threads=2), range(16)))
    for J, g in outs:
        assert abs(J - J0) <= 1e-12 * abs(J0)
        assert _relerr(g, g0) <= 1e-12
    after = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert after == before
