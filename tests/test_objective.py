"""J and its gradient against the reference J, finite differences and closed forms.

The data term is computed by one function (``_objective.data_term``); on dense
NumPy X it runs over cache-sized blocks of rows, in threads (``_blocks``), and
the NumPy passes for two and for more classes compute its numbers with fewer
NumPy calls. Every path, layout and dtype is held against ``reference.data_term``.
"""

import math
import warnings

import numpy as np
import pytest
import reference
import scipy.sparse as sp

from sk_gdlogreg import _blocks, _kernel, _objective, _stats
from sk_gdlogreg._backends import InMemoryData
from sk_gdlogreg._coordinates import Standardization
from sk_gdlogreg._objective import Objective, data_term, targets
from sk_gdlogreg._stats import weighted_mean_std


def make_problem(m, d, K, dtype=np.float64, seed=0, order="C", scale=1.0):
    """X, class indices, weights (not normalized) and coef, intercept last."""
    rng = np.random.default_rng(seed)
    X = np.asarray(rng.standard_normal((m, d)) * rng.uniform(0.5, 3, d), dtype=dtype, order=order)
    y = rng.integers(0, 2 if K == 1 else K, m)
    s = (rng.random(m) + 0.1).astype(dtype)
    coef = (scale * rng.standard_normal((K, d + 1))).astype(dtype)
    return X, y, s, coef


def objective(X, y, s, K, fit_intercept=True, l2=0.0, n_threads=1):
    return Objective(
        InMemoryData(X, y, s, 2 if K == 1 else K, fit_intercept, n_threads=n_threads), l2
    )


def relerr(a, b):
    return np.max(np.abs(np.asarray(a) - np.asarray(b))) / max(np.max(np.abs(b)), 1e-300)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_against_the_reference_and_finite_differences(K, fit_intercept):
    X, y, s, coef = make_problem(40, 5, K, scale=0.5)
    coef = coef if fit_intercept else coef[:, :5].copy()
    obj = objective(X, y, s, K, fit_intercept, l2=0.3)
    J, grad = obj.loss_grad(coef)
    J0 = reference.objective(
        X, y, s, coef[:, :5], coef[:, 5] if fit_intercept else 0, C=1 / (0.3 * s.sum())
    )
    assert J == pytest.approx(J0, rel=1e-12)
    eps = 1e-6
    fd = np.zeros_like(coef)
    for idx in np.ndindex(coef.shape):
        e = np.zeros_like(coef)
        e[idx] = eps
        fd[idx] = (obj.loss_grad(coef + e)[0] - obj.loss_grad(coef - e)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


def test_cost_at_zero_is_log_of_number_of_classes():
    for K in (1, 4):
        X, y, s, _ = make_problem(40, 5, K, seed=1)
        J, _ = objective(X, y, s, K).loss_grad(np.zeros((K, 6)))
        assert J == pytest.approx(np.log(2 if K == 1 else K), rel=1e-14)


# m: one block, several blocks with a ragged tail, enough rows for threads
@pytest.mark.parametrize("m", [37, 5003, 120_001])
@pytest.mark.parametrize("K", [1, 4])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_blocks_and_threads_equal_the_reference(m, K, fit_intercept, n_threads):
    X, y, s, coef = make_problem(m, 7, K)
    coef = coef if fit_intercept else coef[:, :7].copy()
    J, g = objective(X, y, s, K, fit_intercept, n_threads=n_threads).loss_grad(coef)
    J0, g0 = reference.data_term(X, y, s / s.sum(), coef, fit_intercept)
    assert abs(J - J0) <= 1e-12 * abs(J0)
    assert relerr(g, g0) <= 1e-12


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bitwise_independent_of_the_number_of_threads(monkeypatch, K, dtype):
    monkeypatch.setattr(_blocks, "MIN_BLOCKS_PER_THREAD", 1)
    X, y, s, coef = make_problem(50_000, 12, K, dtype=dtype)
    assert _blocks.n_blocks(X) > 1
    results = [objective(X, y, s, K, n_threads=n).loss_grad(coef) for n in (1, 2, 3)]
    for J, g in results[1:]:
        assert J == results[0][0]
        assert np.array_equal(g, results[0][1])


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("order", ["C", "F"])
def test_fortran_order_and_views(K, order):
    X, y, s, coef = make_problem(40_000, 9, K, order=order)
    sw = s / s.sum()
    for Xv, yv, swv, cv in [(X, y, sw, coef), (X[::2, 1:], y[::2], sw[::2], coef[:, 1:])]:
        Y = targets(yv, 2 if K == 1 else K, X.dtype)
        J, g = _blocks.over_rows(data_term, Xv, Y, swv, cv, True, 2)
        J0, g0 = reference.data_term(Xv, yv, swv, cv, True)
        assert abs(J - J0) <= 1e-12 * abs(J0)
        assert relerr(g, g0) <= 1e-12


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [50, 100_000])
def test_extreme_margins_are_finite_and_warning_free(K, dtype, m):
    # |z| up to 1e30: no overflow, no NaN, no warning; the losses are the exact limits
    rng = np.random.default_rng(1)
    X = np.zeros((m, 3), dtype=dtype)
    X[:, 0] = rng.choice([-1e30, -50.0, -1.0, 0.0, 1.0, 50.0, 1e30], m)
    X[:, 1] = 1.0
    y = rng.integers(0, 2 if K == 1 else K, m)
    s = np.ones(m, dtype=dtype)
    coef = np.zeros((K, 4), dtype=dtype)
    coef[:, 0] = 1.0 if K == 1 else np.linspace(-1, 1, K)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            J, g = objective(X, y, s, K, n_threads=1).loss_grad(coef)
        J2, _ = objective(X, y, s, K, n_threads=2).loss_grad(coef)
    assert np.isfinite(J) and np.all(np.isfinite(g)) and J == J2
    J0, g0 = reference.data_term(X, y, s / m, coef, True)
    assert abs(J - J0) <= (1e-5 if dtype == np.float32 else 1e-12) * abs(J0)
    assert relerr(g, g0) <= (1e-4 if dtype == np.float32 else 1e-12)


def test_tiny_probabilities_keep_relative_accuracy():
    # separated data: every loss is ~exp(-30); J and the gradient must be accurate
    # relative to their (tiny) size
    X, _, _, _ = make_problem(2000, 1, 1)
    X = np.abs(X) + 1.0
    y = np.ones(2000, dtype=int)
    coef = np.array([[30.0, 0.0]])
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        J, g = objective(X.astype(dtype), y, np.ones(2000, dtype), 1).loss_grad(coef.astype(dtype))
        J0, g0 = reference.data_term(X.astype(dtype), y, np.full(2000, 1 / 2000), coef, True)
        assert 0 < J0 < 1e-12
        assert abs(J - J0) <= rtol * J0
        np.testing.assert_allclose(g, g0, rtol=rtol)


@pytest.mark.parametrize("K", [1, 3])
def test_float32_stays_float32(K):
    X, y, s, coef = make_problem(30_000, 15, K, dtype=np.float32)
    J, g = objective(X, y, s, K).loss_grad(coef)
    assert g.dtype == np.float32 and isinstance(J, float)
    J0, g0 = reference.data_term(X, y, s / s.sum(), coef, True)
    assert abs(J - J0) <= 1e-5 * abs(J0)
    np.testing.assert_allclose(g, g0, rtol=2e-4, atol=1e-6)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_equals_the_reference(K, fit_intercept):
    rng = np.random.default_rng(3)
    X = sp.random(3000, 40, density=0.05, format="csr", random_state=4, dtype=np.float64)
    y = rng.integers(0, 2 if K == 1 else K, 3000)
    s = np.ones(3000)
    coef = rng.standard_normal((K, 40 + fit_intercept))
    J, g = objective(X, y, s, K, fit_intercept).loss_grad(coef)
    J0, g0 = reference.data_term(X, y, s / 3000, coef, fit_intercept)
    assert abs(J - J0) <= 1e-12 * abs(J0)
    assert relerr(g, g0) <= 1e-12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_both_multinomial_passes_agree_and_numpy_is_the_fallback(monkeypatch, dtype):
    """More than two classes on NumPy data: scikit-learn's compiled loss computes the
    element-wise part (``softmax_data_term``); without it, ``data_term``'s NumPy."""
    X, y, s, coef = make_problem(3000, 7, 5, dtype=dtype)
    compiled = objective(X, y, s, 5)
    assert compiled.data.term is _objective.softmax_data_term
    J, g = compiled.loss_grad(coef)
    monkeypatch.setattr(_objective, "HalfMultinomialLoss", None)  # an older or newer sklearn
    numpy_pass = objective(X, y, s, 5)
    assert numpy_pass.data.term is data_term
    J1, g1 = numpy_pass.loss_grad(coef)
    assert g.dtype == g1.dtype == dtype
    assert abs(J - J1) <= (1e-6 if dtype == np.float32 else 1e-14) * abs(J1)
    assert relerr(g, g1) <= (1e-5 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_binary_numpy_pass_is_data_term_to_the_last_bit(fit_intercept, dtype, scale):
    """Two classes on dense NumPy X: ``binary_data_term`` (q = 1 - 2y once per fit,
    fewer arrays) computes data_term's numbers exactly, huge logits included."""
    X, y, s, coef = make_problem(3000, 7, 1, dtype=dtype, scale=scale)
    s[::5] = 0.0
    coef = coef[:, : 7 + fit_intercept]
    data = InMemoryData(X, y, s, 2, fit_intercept, compiled=False)  # NumPy's pass
    assert data.term is _objective.binary_data_term
    sw = s / s.sum()
    with np.errstate(over="ignore"):
        J, g = data.loss_grad(coef)
        J0, g0 = data_term(X, targets(y, 2, dtype), sw, coef, fit_intercept)
    assert J == J0 and g.dtype == g0.dtype == dtype
    np.testing.assert_array_equal(g, g0)
    J_ref, g_ref = reference.data_term(X, y, sw, coef, fit_intercept)
    assert J == pytest.approx(J_ref, rel=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("K", [1, 3])
def test_a_pass_over_f_ordered_x_copies_no_block(K):
    """X in F order (a pandas DataFrame's values): a block of its rows is neither C- nor
    F-contiguous, and ``np.dot`` would copy it, transposing it, at every pass (5 times
    slower). The pass reads the blocks as they are, and computes the C-ordered pass's
    J and gradient."""
    import tracemalloc

    X, y, s, coef = make_problem(40_000, 20, K)
    F = np.asfortranarray(X)
    data = objective(F, y, s, K, True).data
    assert data.blocked  # several blocks of rows, none contiguous
    block = _blocks.block_rows(F) * F.shape[1] * F.itemsize
    data.loss_grad(coef)
    tracemalloc.start()
    J, g = data.loss_grad(coef)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < block / 2, (peak, block)  # the logits and dz of a block, not a copy
    J_c, g_c = objective(X, y, s, K, True).data.loss_grad(coef)
    assert J == pytest.approx(J_c, rel=1e-13)
    np.testing.assert_allclose(g, g_c, rtol=1e-12, atol=1e-15)


def test_thread_count_follows_the_environment():
    from threadpoolctl import threadpool_limits

    assert 1 <= _blocks.default_n_threads() <= _blocks.MAX_THREADS
    with threadpool_limits(1):
        assert _blocks.default_n_threads() == 1
    with threadpool_limits(1, user_api="blas"):  # a BLAS-only limit counts too
        assert _blocks.default_n_threads() == 1


def test_standardization_round_trips_and_maps_gradients():
    """The change of coordinates leaves J unchanged; its gradient is A^T g."""
    rng = np.random.default_rng(4)
    X, y, s, _ = make_problem(40, 5, 3, seed=4)
    obj = objective(X, y, s, 3, l2=0.1)
    mean, std = weighted_mean_std(X, s / s.sum())
    coords = Standardization(mean, std, True)
    reference.check_change_of_coordinates(obj, coords, rng.normal(size=obj.coef_shape), rng, 1e-12)


def test_weighted_mean_std_against_numpy():
    rng = np.random.default_rng(5)
    X = rng.normal(loc=1e6, scale=1e-2, size=(10_000, 3))  # mean dwarfs the spread
    w = rng.uniform(size=10_000)
    w /= w.sum()
    mean, std = weighted_mean_std(X, w, block_rows=777)
    ref_mean = np.average(X, axis=0, weights=w)
    ref_std = np.sqrt(np.average((X - ref_mean) ** 2, axis=0, weights=w))
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-14)
    np.testing.assert_allclose(std, ref_std, rtol=1e-6)
    # the weights need not be normalized: the statistics are the same
    mean_u, std_u = weighted_mean_std(X, 123.0 * w, block_rows=777)
    np.testing.assert_allclose(mean_u, mean, rtol=1e-14)
    np.testing.assert_allclose(std_u, std, rtol=1e-6)
    ms, ss = weighted_mean_std(sp.csr_matrix(X[:100]), 7.0 * w[:100])
    md, sd = weighted_mean_std(X[:100], w[:100] / w[:100].sum())
    np.testing.assert_allclose(ms, md, rtol=1e-12)
    np.testing.assert_allclose(ss, sd, rtol=1e-6)


@pytest.mark.parametrize("block_rows", [400, None])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_statistics_in_one_shifted_read_are_exact_sums(dtype, order, block_rows, monkeypatch):
    """Dense NumPy X (C order, or F as a DataFrame's values): the shifted one-read
    statistics equal those of exactly rounded sums (math.fsum of the two-pass formula),
    with a mean that dwarfs the spread, rows of zero weight holding huge values, and a
    first block that weighs nothing (blocks of 400 rows) or one block (the default);
    only the columns float64's squares cannot hold (1e200, 1e-300, all zeros) go to
    the scaled blocks, and those too are exact, the zero-weight 1e300 in their block
    or not."""
    rng = np.random.default_rng(14)
    m = 3000
    big = 1e200 if dtype == np.float64 else 1e30
    tiny = 1e-300 if dtype == np.float64 else 1e-30
    X = rng.standard_normal((m, 7)) * [1, 1e-2, 1, 0, big, tiny, 0] + [0, 1e6, 7, 3, 0, 0, 0]
    s = rng.random(m)
    s[:500] = 0.0  # the first block weighs nothing...
    X[3, 0] = 1e300 if dtype == np.float64 else 3e38  # ...and a row of it is huge
    X = X.astype(dtype, order=order)
    redone = []
    scaled = _stats._scaled_mean_std

    def watched(Xc, sw, xp, block_rows):
        redone.append(Xc.shape[1])
        return scaled(Xc, sw, xp, block_rows)

    monkeypatch.setattr(_stats, "_scaled_mean_std", watched)
    mean, std = weighted_mean_std(X, s, block_rows=block_rows)
    assert mean.dtype == std.dtype == np.float64
    # the reference, on the weighted rows only (0 times a huge value is 0, not NaN),
    # each column in units of a power of 2 near its largest value (exact; 1e200 squared
    # would overflow)
    xs, total = X.astype(np.float64)[s > 0], math.fsum(s)
    unit = np.ldexp(1.0, np.frexp(np.abs(xs).max(axis=0))[1])
    xs, wpos = xs / unit, s[s > 0]
    ref_mean = np.array([math.fsum(wpos * col) / total for col in xs.T])
    ref_var = [math.fsum(wpos * (col - mu) ** 2) / total for col, mu in zip(xs.T, ref_mean)]
    ref_mean, ref_std = ref_mean * unit, np.sqrt(ref_var) * unit
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-13, atol=0)
    spread = [0, 1, 2, 4, 5] if dtype == np.float64 else [0, 2, 4, 5]
    np.testing.assert_allclose(std[spread], ref_std[spread], rtol=1e-12, atol=0)
    assert std[3] == 0.0 and mean[3] == 3.0  # constant: exactly
    assert mean[6] == std[6] == 0.0
    # only the columns float64's squares cannot hold took the scaled blocks: in float64
    # the huge, tiny and zero ones, and the first where NumPy's blocks sum w (x - s)^2
    # (its zero-weight 1e300 squares to inf, times 0: NaN); the compiled sums, which
    # C-ordered X takes, add (w (x - s)) (x - s), 0 for that row. float32's range
    # squares within float64's, and only the zero column is redone
    in_float64 = [3] if _kernel.applies(X) else [4]
    assert redone == (in_float64 if dtype == np.float64 else [1])


def _dense_weighted_stats(X, w):
    """Weighted mean and standard deviation of each column of dense X, by definition."""
    mean = np.average(X, axis=0, weights=w)
    return mean, np.sqrt(np.average((X - mean) ** 2, axis=0, weights=w))


def _sparse_problem(rng, m=300, n=12):
    """Sparse X with empty, full, single-value and offset columns; weights with zeros."""
    X = sp.random_array((m, n), density=0.2, rng=rng, data_sampler=rng.standard_normal).toarray()
    X[:, 0] = 0  # an empty column
    X[:, 1] = rng.normal(loc=1e6, scale=1e-2, size=m)  # every row stored: mean dwarfs spread
    X[:, 2] = 0
    X[5, 2] = 4.0  # a single stored value
    X[X[:, 3] != 0, 3] += 1e4  # offset stored values among zeros
    w = rng.uniform(size=m) * 3.0  # not normalized
    w[rng.random(m) < 0.2] = 0  # rows of zero weight...
    X[w == 0, 4] = 1e5  # ...whose values must not count
    return X, w


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("path", ["compiled", "chunked"])
def test_weighted_mean_std_of_sparse_x_against_dense_references(fmt, path, monkeypatch):
    """Sparse statistics (implicit zeros included) equal the dense ones, and scikit-learn's
    mean_variance_axis: its compiled pass on X (values in the safe range), and the chunked
    pass on scaled columns (forced here), whatever the chunks' boundaries."""
    from sklearn.utils.sparsefuncs import mean_variance_axis

    monkeypatch.setattr(_stats, "SPARSE_CHUNK", 7)  # chunks cut through rows and columns
    if path == "chunked":
        monkeypatch.setattr(_stats, "SAFE_RANGE", (np.inf, 0.0))  # no value is in it
    rng = np.random.default_rng(11)
    X, w = _sparse_problem(rng)
    ref_mean, ref_std = _dense_weighted_stats(X, w)
    Xs = sp.csr_matrix(X).asformat(fmt)
    mean, std = weighted_mean_std(Xs, w)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(std, ref_std, rtol=1e-6, atol=1e-300)
    sk_mean, sk_var = mean_variance_axis(sp.csr_matrix(X), axis=0, weights=w)
    np.testing.assert_allclose(mean, sk_mean, rtol=1e-13)
    np.testing.assert_allclose(std, np.sqrt(sk_var), rtol=1e-6)
    # the constant and empty columns: a spread of exactly 0
    assert std[0] == 0 and mean[0] == 0
    # the same statistics from the dense path
    mean_d, std_d = weighted_mean_std(X, w, block_rows=64)
    np.testing.assert_allclose(mean, mean_d, rtol=1e-13)
    np.testing.assert_allclose(std, std_d, rtol=1e-6)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("scale", [1e200, 1e-300])
def test_weighted_mean_std_of_sparse_x_in_extreme_units(fmt, scale, monkeypatch):
    """Values of 1e200 (squares overflow) or 1e-300 (squares underflow): the
    statistics are those of the unit-scale data, times the scale."""
    monkeypatch.setattr(_stats, "SPARSE_CHUNK", 50)
    rng = np.random.default_rng(12)
    X, w = _sparse_problem(rng)
    X = X[:, [0, 2, 3, 5, 6]]  # the columns whose mean does not dwarf the spread
    ref_mean, ref_std = _dense_weighted_stats(X, w)
    mean, std = weighted_mean_std(sp.csr_matrix(X * scale).asformat(fmt), w)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std))
    np.testing.assert_allclose(mean / scale, ref_mean, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(std / scale, ref_std, rtol=1e-10, atol=1e-300)


def test_weighted_mean_std_of_sparse_float32_near_its_largest_value():
    """float32 values of 1e38, whose squares are out of float32's range."""
    rng = np.random.default_rng(13)
    X, w = _sparse_problem(rng)
    X = X[:, [2, 3, 5, 6]]
    X32 = (X / np.abs(X).max() * 3e38).astype(np.float32)
    ref_mean, ref_std = _dense_weighted_stats(X32.astype(np.float64), w)
    mean, std = weighted_mean_std(sp.csr_matrix(X32), w.astype(np.float32))
    assert mean.dtype == np.float64 and np.all(np.isfinite(std))
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-6)
    np.testing.assert_allclose(std, ref_std, rtol=1e-6)


def test_weighted_mean_std_sums_duplicate_sparse_entries():
    """A matrix with duplicate entries means their sums, as X @ w does."""
    data, indices, indptr = [1.0, 2.0, 5.0, -1.0], [0, 0, 0, 1], [0, 2, 3, 3, 4]
    X = sp.csr_matrix((data, indices, indptr), shape=(4, 2))
    w = np.array([1.0, 2.0, 0.5, 1.0])
    ref_mean, ref_std = _dense_weighted_stats(X.toarray(), w)
    mean, std = weighted_mean_std(X, w)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-14)
    np.testing.assert_allclose(std, ref_std, rtol=1e-14)
    assert X.data.tolist() == data  # the user's matrix is left as it was
