"""The compiled data term of the binary model (the C extension) against the reference J
and the NumPy pass."""

import warnings

import numpy as np
import pytest
import reference

from sk_gdlogreg import GDLogisticRegression, _kernel, _objective
from sk_gdlogreg._backends import InMemoryData

pytestmark = pytest.mark.skipif(not _kernel.AVAILABLE, reason="the C extension is not built")


def _problem(K, dtype, m=3000, d=13, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((m, d)) * scale).astype(dtype)
    y = rng.integers(0, K, m)
    s = rng.random(m)
    s[::7] = 0.0  # rows of zero weight count for nothing
    return X, y, s


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_term_is_the_reference_J_and_gradient(fit_intercept, dtype):
    K = 2
    X, y, s = _problem(K, dtype)
    rng = np.random.default_rng(1)
    coef = rng.standard_normal((1 if K == 2 else K, X.shape[1] + fit_intercept)).astype(dtype)
    data = InMemoryData(X, y, s, K, fit_intercept, compiled=True)
    J, grad = data.loss_grad(coef)
    J_ref, grad_ref = reference.data_term(X, y, s / s.sum(), coef, fit_intercept)
    assert grad.dtype == dtype and grad.shape == coef.shape
    # sums in float64 whatever X's dtype: float32 X is exact input, float64 products
    assert J == pytest.approx(J_ref, rel=1e-13)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-6 if dtype == np.float32 else 1e-12,
                               atol=1e-14 * np.abs(grad_ref).max())  # fmt: skip
    numpy_pass = InMemoryData(X, y, s, K, fit_intercept, compiled=False)
    assert J == pytest.approx(
        numpy_pass.loss_grad(coef)[0], rel=1e-6 if dtype == np.float32 else 1e-14
    )


def test_huge_logits_give_what_the_numpy_pass_gives():
    K = 2
    """Separated data at huge scale: every loss ~0 or huge, no warning, no NaN from exp."""
    X, y, s = _problem(K, np.float64, scale=1e150)
    coef = np.ones((1 if K == 2 else K, X.shape[1] + 1)) * np.linspace(-1, 1, X.shape[1] + 1)
    compiled = InMemoryData(X, y, s, K, True, compiled=True)
    numpy_pass = InMemoryData(X, y, s, K, True, compiled=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J, grad = compiled.loss_grad(coef)
    with np.errstate(over="ignore", invalid="ignore"):
        J_np, grad_np = numpy_pass.loss_grad(coef)
    assert J == pytest.approx(J_np, rel=1e-12)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, grad_np, rtol=1e-12, atol=1e-12 * np.abs(grad_np).max())


def test_vectorized_softplus_and_sigmoid_are_the_numpy_formulas():
    """The polynomial exp and log1p of the compiled pass, against the NumPy pass's
    softplus and sigmoid (libm's exp and log1p): a few units in the last place over
    every logit from 1e-320 to 1e300, the underflow of exp included; +inf and NaN as
    NumPy gives them, and at -inf the limits 0 and 0 (where NumPy's max(z, 0) as
    (z + |z|) / 2 gives NaN)."""
    rng = np.random.default_rng(5)
    magnitudes = np.concatenate(
        [
            np.logspace(-320, 300, 20_000),
            rng.uniform(0, 800, 20_000),  # exp's whole range, its underflow near 708-745
            rng.standard_normal(20_000) * 5,
            [0.0, np.log(2) / 2, 708.0, 709.8, 744.4, 745.2, 1080.0, np.inf],
        ]
    )
    t = np.concatenate([magnitudes, -magnitudes, [np.nan]])
    comparable = np.isfinite(t) | (t == np.inf)  # NumPy gives NaN at -inf
    with np.errstate(invalid="ignore"):  # NaN in, NaN out
        softplus, sigmoid = _objective.softplus(t), _objective.sigmoid(t)
    out, a = _kernel.softplus_sigmoid(t)
    eps = np.finfo(np.float64).eps
    normal = np.abs(softplus) >= np.finfo(np.float64).tiny
    np.testing.assert_allclose(out[normal], softplus[normal], rtol=4 * eps, atol=0)
    normal = sigmoid >= np.finfo(np.float64).tiny
    np.testing.assert_allclose(a[normal], sigmoid[normal], rtol=3 * eps, atol=0)
    # below the normal floats: off by a few subnormal steps at most
    np.testing.assert_allclose(out[comparable], softplus[comparable], rtol=4 * eps, atol=1e-320)
    np.testing.assert_allclose(a[comparable], sigmoid[comparable], rtol=3 * eps, atol=1e-320)
    assert out[-1] != out[-1] and a[-1] != a[-1]  # NaN
    assert out[t == np.inf] == [np.inf] and a[t == np.inf] == [1.0]
    assert out[t == -np.inf] == [0.0] and a[t == -np.inf] == [0.0]


def test_threads_over_blocks_add_up_to_one_call():
    """Blocks of rows in two threads (the GIL released): the same J and gradient as one
    call, summed in block order whatever thread ran which block."""
    X, y, s = _problem(2, np.float64, m=200_000, d=8)
    coef = np.linspace(-0.5, 0.5, 9)[None, :]
    two = InMemoryData(X, y, s, 2, True, n_threads=2, compiled=True)
    assert two.blocked
    one = InMemoryData(X, y, s, 2, True, n_threads=1, compiled=True)
    (J2, g2), (J1, g1) = two.loss_grad(coef), one.loss_grad(coef)
    assert J2 == J1
    np.testing.assert_array_equal(g2, g1)
    J_ref, g_ref = reference.data_term(X, y, s / s.sum(), coef, True)
    assert J2 == pytest.approx(J_ref, rel=1e-12)
    np.testing.assert_allclose(g2, g_ref, rtol=1e-10)


def test_a_fit_with_the_compiled_term_equals_the_numpy_fit(monkeypatch):
    K = 2
    rng = np.random.default_rng(3)
    X = rng.standard_normal((4000, 10)) @ rng.standard_normal((10, 10))  # correlated: whitens
    y = np.argmax(X @ rng.standard_normal((10, K)) + rng.logistic(size=(4000, K)), axis=1)
    compiled = GDLogisticRegression(tol=1e-6).fit(X, y)
    monkeypatch.setattr(_objective, "compiled_data_term", lambda *args: None)
    numpy_fit = GDLogisticRegression(tol=1e-6).fit(X, y)
    assert compiled.n_iter_ == numpy_fit.n_iter_
    np.testing.assert_allclose(compiled.coef_, numpy_fit.coef_, rtol=1e-9, atol=1e-12)
    # the same steps: the losses differ by rounding, grown a little by the whitening
    np.testing.assert_allclose(compiled.loss_curve_, numpy_fit.loss_curve_, rtol=1e-10)


def test_compiled_term_applies_to_c_ordered_float_numpy_only():
    X, y, s = _problem(2, np.float64)
    assert _objective.compiled_data_term(X) is not None
    assert _objective.compiled_data_term(np.asfortranarray(X)) is None
    assert _objective.compiled_data_term(X.astype(np.float16)) is None
    assert _objective.compiled_data_term(X, np, 3) is None  # softmax: NumPy
    with pytest.raises(ValueError, match="needs the C extension .*, two classes and C-ordered"):
        InMemoryData(np.asfortranarray(X), y, s, 2, True, compiled=True)


def test_unaligned_x_takes_the_numpy_pass():
    """An array received over a network (Dask's ``client.compute``) may be C-ordered but
    not aligned: the compiled loops, which assume aligned doubles, leave it to the NumPy
    pass (it raised ValueError on the buffer's format), and the fit is the same model."""
    X, y, s = _problem(2, np.float64)
    raw = np.zeros(X.nbytes + 1, dtype=np.uint8)
    unaligned = np.frombuffer(raw.data[1:], dtype=np.float64).reshape(X.shape)
    unaligned[...] = X
    assert unaligned.flags.c_contiguous and not unaligned.flags.aligned
    assert _objective.compiled_data_term(unaligned) is None
    ours = GDLogisticRegression().fit(unaligned, y, sample_weight=s)
    aligned = GDLogisticRegression().fit(X, y, sample_weight=s)
    assert ours.n_iter_ == aligned.n_iter_
    np.testing.assert_allclose(ours.coef_, aligned.coef_, rtol=1e-8, atol=1e-12)


def test_the_loops_refuse_blocks_that_do_not_match_x():
    """The extension's own checks: blocks past X's end, or result arrays of the wrong
    size, raise ValueError before any loop runs (nothing written)."""
    from sk_gdlogreg import _ckernel

    X = np.ones((10, 3))
    q, sw, w = np.ones(10), np.ones(10), np.zeros(3)
    J, db, G = np.full(4, 7.0), np.full(4, 7.0), np.full((4, 3), 7.0)
    _ckernel.binary(X, q, sw, w, 0.0, 3, 0, 4, J, db, G)  # 4 blocks of 3 rows: 3, 3, 3, 1
    np.testing.assert_allclose(db, 0.5 * np.array([3, 3, 3, 1]))  # sigmoid(0) per row
    np.testing.assert_array_equal(G, 0.5 * np.array([[3] * 3] * 3 + [[1] * 3]))
    for rows, first, last, shape in [(3, 0, 5, 4), (3, 2, 1, 4), (2, 0, 4, 4), (0, 0, 0, 4)]:
        J, db, G = np.full(shape, 7.0), np.full(shape, 7.0), np.full((shape, 3), 7.0)
        with pytest.raises(ValueError, match="blocks do not match X"):
            _ckernel.binary(X, q, sw, w, 0.0, rows, first, last, J, db, G)
        assert (G == 7.0).all()
    with pytest.raises(ValueError, match="lengths do not match X"):
        _ckernel.binary(X, q[:5], sw, w, 0.0, 3, 0, 4, J, db, G)


def test_shifted_sums_are_the_numpy_sums_and_refuse_other_lengths():
    from sk_gdlogreg import _ckernel

    rng = np.random.default_rng(2)
    X = rng.standard_normal((1001, 13)) * 5 + 3
    w, s = rng.random(1001), X[7].copy()
    S1, S2 = _kernel.shifted_sums(X, w, s)
    np.testing.assert_allclose(S1, w @ (X - s), rtol=1e-12, atol=1e-12 * np.abs(S1).max())
    np.testing.assert_allclose(S2, w @ (X - s) ** 2, rtol=1e-12)
    S1f, S2f = _kernel.shifted_sums(X.astype(np.float32), w, s)  # widened, then the same
    np.testing.assert_allclose(S2f, w @ (X.astype(np.float32).astype(np.float64) - s) ** 2)
    with pytest.raises(ValueError, match="lengths do not match X"):
        _ckernel.shifted_sums(X, w[:5], s, np.zeros(13), np.zeros(13))
