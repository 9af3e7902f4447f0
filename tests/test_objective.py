"""J and its gradient against independent references: finite differences and closed forms."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import log_softmax, xlogy

from sk_gdlogreg._objective import (
    LogisticObjective,
    Standardization,
    loss_grad,
    weighted_mean_std,
)


def make_problem(rng, m=40, d=5, K=1):
    X = rng.normal(size=(m, d)) * rng.uniform(0.5, 3, size=d)
    y = rng.integers(0, 2 if K == 1 else K, size=m)
    if K == 1:
        y = y.astype(float)
    s = rng.uniform(0.1, 2, size=m)
    return X, y, s


def reference_J(X, y, s, coef, fit_intercept, l2):
    """The objective written directly from its definition, with SciPy's special functions."""
    d = X.shape[1]
    z = X @ coef[:, :d].T + (coef[:, d] if fit_intercept else 0)
    if coef.shape[0] == 1:
        a = 1 / (1 + np.exp(-z[:, 0]))
        loss = -(xlogy(y, a) + xlogy(1 - y, 1 - a))
    else:
        loss = -log_softmax(z, axis=1)[np.arange(len(y)), y]
    return s @ loss / s.sum() + 0.5 * l2 * np.sum(coef[:, :d] ** 2)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loss_and_gradient_against_finite_differences(K, fit_intercept):
    rng = np.random.default_rng(0)
    X, y, s = make_problem(rng, K=K)
    obj = LogisticObjective(X, y, s, K, fit_intercept, l2=0.3)
    coef = rng.normal(size=obj.coef_shape)
    J, grad = obj.loss_grad(coef)
    assert J == pytest.approx(reference_J(X, y, s, coef, fit_intercept, 0.3), rel=1e-12)
    eps = 1e-6
    fd = np.zeros_like(coef)
    for idx in np.ndindex(coef.shape):
        e = np.zeros_like(coef)
        e[idx] = eps
        fd[idx] = (obj.loss_grad(coef + e)[0] - obj.loss_grad(coef - e)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


def test_cost_at_zero_is_log_of_number_of_classes():
    rng = np.random.default_rng(1)
    for K in (1, 4):
        X, y, s = make_problem(rng, K=K)
        J, _ = LogisticObjective(X, y, s, K, True, 0.0).loss_grad(np.zeros((K, 6)))
        assert J == pytest.approx(np.log(2 if K == 1 else K), rel=1e-14)


def test_sparse_equals_dense():
    rng = np.random.default_rng(2)
    for K in (1, 3):
        X, y, s = make_problem(rng, K=K)
        X[X < 0.5] = 0
        coef = rng.normal(size=(K, X.shape[1] + 1))
        sw = s / s.sum()
        J, g = loss_grad(X, y, sw, coef, True)
        Js, gs = loss_grad(sp.csr_matrix(X), y, sw, coef, True)
        assert Js == pytest.approx(J, rel=1e-13)
        np.testing.assert_allclose(gs, g, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("K", [1, 3])
def test_extreme_logits_are_finite_and_warning_free(K):
    """exp must never overflow and log never see 0, for any finite logit."""
    X = np.array([[1e300], [-1e300], [1e-300], [0.0]])
    y = np.array([0, 1, 0, 1]) if K > 1 else np.array([0.0, 1.0, 0.0, 1.0])
    coef = np.full((K, 2), 1.0)
    coef[0, 0] = -1.0 if K > 1 else 1.0
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        J, grad = loss_grad(X, y, np.full(4, 0.25), coef, True)
    assert np.isfinite(J) and np.all(np.isfinite(grad))
    assert J > 1e299 / 4 * 0.9  # the misclassified huge logit costs about |z|


def test_float32_stays_float32():
    rng = np.random.default_rng(3)
    X, y, s = make_problem(rng)
    X32, y32, s32 = X.astype(np.float32), y.astype(np.float32), s.astype(np.float32)
    coef = rng.normal(size=(1, 6)).astype(np.float32)
    J, g = loss_grad(X32, y32, s32 / s32.sum(), coef, True)
    assert g.dtype == np.float32
    J64, g64 = loss_grad(X, y, s / s.sum(), coef.astype(float), True)
    assert J == pytest.approx(J64, rel=1e-5)
    np.testing.assert_allclose(g, g64, rtol=1e-4, atol=1e-6)


def test_standardization_round_trips_and_maps_gradients():
    """The change of coordinates leaves J unchanged; its gradient is A^T g."""
    rng = np.random.default_rng(4)
    X, y, s = make_problem(rng, K=3)
    obj = LogisticObjective(X, y, s, 3, True, l2=0.1)
    mean, std = weighted_mean_std(X, s / s.sum())
    coords = Standardization(mean, std, True)
    theta = rng.normal(size=obj.coef_shape)
    v = coords.from_raw(theta)
    np.testing.assert_allclose(coords.to_raw(v), theta, rtol=1e-12)
    J, g = obj.loss_grad(theta)
    gv = coords.grad_from_raw(g)
    np.testing.assert_allclose(coords.grad_to_raw(gv), g, rtol=1e-12, atol=1e-15)
    # directional derivative in v equals the finite difference of J(to_raw(v))
    direction = rng.normal(size=v.shape)
    eps = 1e-6
    fd = (
        obj.loss_grad(coords.to_raw(v + eps * direction))[0]
        - obj.loss_grad(coords.to_raw(v - eps * direction))[0]
    ) / (2 * eps)
    assert np.vdot(gv, direction) == pytest.approx(fd, rel=1e-6)


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
    np.testing.assert_allclose(std_u, std, rtol=1e-6)  # mean 1e6, spread 1e-2: as above
    ms, ss = weighted_mean_std(sp.csr_matrix(X[:100]), 7.0 * w[:100])
    md, sd = weighted_mean_std(X[:100], w[:100] / w[:100].sum())
    np.testing.assert_allclose(ms, md, rtol=1e-12)
    np.testing.assert_allclose(ss, sd, rtol=1e-6)
