"""Whitened coordinates: the change of variables, and what it buys on ill-conditioned data."""

import warnings

import numpy as np
import pytest
import reference
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sk_gdlogreg import GDLogisticRegression, _coordinates, _curvature
from sk_gdlogreg._backends import InMemoryData
from sk_gdlogreg._coordinates import Whitening
from sk_gdlogreg._objective import Objective


def correlated(m=4000, d=20, seed=0):
    """Standardized features X = Z A with cond(A) = 1e3: diagonal scaling cannot help."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((d, d)))
    V, _ = np.linalg.qr(rng.standard_normal((d, d)))
    X = rng.standard_normal((m, d)) @ (U @ np.diag(np.logspace(0, -3, d)) @ V.T)
    X = StandardScaler().fit_transform(X)
    y = (X @ rng.standard_normal(d) + rng.logistic(size=m) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("K", [1, 3])
def test_whitening_round_trips_and_maps_gradients(K):
    rng = np.random.default_rng(1)
    X, _ = correlated(300, 5)
    y = rng.integers(0, 2 if K == 1 else K, 300)
    obj = Objective(InMemoryData(X, y, np.ones(300), 2 if K == 1 else K, True), 0.01)
    theta = rng.normal(size=obj.coef_shape)
    coords = Whitening(obj.curvature(theta, 1000), True)
    reference.check_change_of_coordinates(obj, coords, theta, rng, 1e-10)


def test_curvature_is_the_hessian_for_two_classes():
    """Binary, no floor: [X 1]^T diag(sw a (1 - a)) [X 1] + l2 is J's Hessian (by finite
    differences of the gradient)."""
    X, y = correlated(200, 3)
    obj = Objective(InMemoryData(X, y, np.ones(200), 2, True), 0.1)
    theta = np.array([[0.3, -0.2, 0.5, 0.1]])
    Hn, c = obj.curvature(theta, 1000)
    H = c[:, None] * Hn * c[None, :]
    eps = 1e-6
    fd = np.column_stack(
        [
            (obj.loss_grad(theta + eps * e)[1] - obj.loss_grad(theta - eps * e)[1])[0] / (2 * eps)
            for e in np.eye(4)[:, None, :]
        ]
    )
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("K", [1, 3])
def test_curvature_keeps_the_l2_term_of_a_column_of_tiny_values(K):
    """A constant column of 1e-200: its L2 term l2 / c^2 leaves float64 in the column's
    own units. The matrix is then in units where it is finite, and H = diag(c) Hn diag(c)
    has l2 on that diagonal (plus a data part 1e-400 of it) and the same entries elsewhere
    as without that column."""
    rng = np.random.default_rng(8)
    m, d, l2 = 400, 4, 0.01
    X = rng.standard_normal((m, d))
    X[:, 2] = 1e-200
    y = rng.integers(0, 2 if K == 1 else K, m)
    theta = rng.normal(size=(K, d + 1)) * 0.3
    data = InMemoryData(X, y, np.ones(m), 2 if K == 1 else K, True)
    Hn, c = Objective(data, l2).curvature(theta, 1000, blocks="class")
    H = c[:, None] * Hn * c[None, :]
    assert np.all(np.isfinite(Hn)) and np.all(np.isfinite(c))
    np.testing.assert_allclose(H[..., 2, 2], l2, rtol=1e-12)
    keep = [0, 1, 3, 4]
    data_kept = InMemoryData(X[:, [0, 1, 3]], y, np.ones(m), 2 if K == 1 else K, True)
    Hn_k, c_k = Objective(data_kept, l2).curvature(theta[:, keep], 1000, blocks="class")
    H_kept = c_k[:, None] * Hn_k * c_k[None, :]
    np.testing.assert_allclose(H[..., keep, :][..., keep], H_kept, rtol=1e-12, atol=1e-300)


def test_merged_curvature_keeps_the_size_of_a_column_that_is_zero_in_some_blocks():
    """Blocks of rows where a column is all 0 (its c there 1 by convention) do not set its
    common c: a column of 1e-300 merged at c = 1 squared to 0 (and the L1 metric of such
    data was not positive definite). H = diag(c) Hn diag(c) is the definition."""
    rng = np.random.default_rng(9)
    X = rng.standard_normal((400, 4))
    X[:, 2] = 0.0
    X[:50, 2] = rng.standard_normal(50) * 1e-300  # in the first block only
    sw = np.full(400, 1 / 400)
    coef = np.zeros((1, 5))  # every example's curvature 1/4
    blocks = (slice(0, 200), slice(200, 400))
    parts = [_curvature.curvature_block(X[b], sw[b], coef, True, 3e-4) for b in blocks]
    Hn, c, weight = _curvature.merge_curvatures(parts)
    assert c[2] == parts[0][1][2] and weight == pytest.approx(1.0)
    unit = np.array([1, 1, 2.0**-997, 1, 1])  # near that column's size, a power of 2
    r = c / unit
    Xa = np.column_stack([X, np.ones(400)]) / unit
    ref = Xa.T @ ((sw * 0.25)[:, None] * Xa)
    np.testing.assert_allclose(r[:, None] * Hn * r[None, :], ref, rtol=1e-12, atol=0)


@pytest.mark.parametrize("preconditioner", ["auto", "diagonal"])
def test_a_constant_column_of_tiny_values_changes_no_fit(preconditioner):
    """A constant column of 1e-200 beside standardized features: the fit is the one
    without it (lbfgs's on the other columns), its coefficient about 0, in about as many
    iterations and without a warning. The whitened fit stalled 7e-3 above the optimum
    (its L2 term understated 1e88-fold), the diagonal one ran to max_iter (its gradient
    measured in units of 1e-200)."""
    X, y = correlated(3000, 8, seed=3)
    X = StandardScaler().fit_transform(np.linalg.qr(X)[0])  # well conditioned for both paths
    Xt = np.insert(X, 5, 1e-200, axis=1)
    ref = LogisticRegression(tol=1e-12, max_iter=10_000).fit(X, y)
    kw = dict(preconditioner=preconditioner, tol=1e-8)
    base = GDLogisticRegression(**kw).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = GDLogisticRegression(**kw).fit(Xt, y)
    assert est.n_iter_ <= 2 * base.n_iter_ + 5, (est.n_iter_, base.n_iter_)
    assert abs(est.coef_[0, 5]) < 1e-150
    np.testing.assert_allclose(np.delete(est.coef_, 5, axis=1), ref.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=0, atol=1e-6)


def test_per_class_curvature_is_the_softmax_hessians_diagonal_blocks(monkeypatch):
    """Three classes, no floors: matrix k of the per-class stack is the Hessian of J
    with respect to row k of the coefficients (finite differences of the gradient),
    and the shared matrix is their mean."""
    rng = np.random.default_rng(2)
    X, _ = correlated(200, 3)
    y = rng.integers(0, 3, 200)
    obj = Objective(InMemoryData(X, y, np.ones(200), 3, True), 0.1)
    theta = 0.5 * rng.standard_normal((3, 4))
    monkeypatch.setattr(_curvature, "CLASS_FLOOR", 0.0)
    Hn, c = obj.curvature(theta, 1000, blocks="class")
    shared, c_shared = obj.curvature(theta, 1000)
    assert Hn.shape == (3, 4, 4)
    np.testing.assert_array_equal(c, c_shared)
    H = c[None, :, None] * Hn * c[None, None, :]
    eps = 1e-6
    for k in range(3):
        fd = np.column_stack(
            [
                (obj.loss_grad(theta + eps * E)[1] - obj.loss_grad(theta - eps * E)[1])[k]
                / (2 * eps)
                for E in (np.eye(12)[j].reshape(3, 4) for j in range(4 * k, 4 * k + 4))
            ]
        )
        np.testing.assert_allclose(H[k], fd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(Hn.mean(axis=0), shared, rtol=1e-12)


def test_joint_curvature_is_the_whole_softmax_hessian():
    """Three classes, no floor: block (k, j) of the joint curvature is the Hessian of J
    with respect to rows k and j of the coefficients (finite differences of the
    gradient), its diagonal blocks are the per-class matrices, and whitening by it
    is a change of coordinates whose curvature is about the identity."""
    rng = np.random.default_rng(5)
    X, _ = correlated(300, 3)
    y = rng.integers(0, 3, 300)
    obj = Objective(InMemoryData(X, y, np.ones(300), 3, True), 0.1)
    theta = 0.5 * rng.standard_normal((3, 4))
    Hn, c = obj.curvature(theta, 1000, blocks="joint")
    assert Hn.shape == (3, 3, 4, 4)
    H = c[None, None, :, None] * Hn * c[None, None, None, :]
    eps = 1e-6
    columns = []
    for j in range(12):
        E = np.eye(12)[j].reshape(3, 4)
        columns.append(
            (obj.loss_grad(theta + eps * E)[1] - obj.loss_grad(theta - eps * E)[1]).ravel()
            / (2 * eps)
        )
    fd = np.column_stack(columns)  # rows and columns ordered (class, coefficient)
    np.testing.assert_allclose(
        np.transpose(H, (0, 2, 1, 3)).reshape(12, 12), fd, rtol=1e-6, atol=1e-9
    )
    per_class, c_class = obj.curvature(theta, 1000, blocks="class")
    per_class = c_class[None, :, None] * per_class * c_class[None, None, :]
    np.testing.assert_allclose(
        np.stack([H[k, k] for k in range(3)]), per_class, atol=0.1 * np.abs(per_class).max()
    )
    coords = _coordinates.Whitening((Hn, c), True)
    assert coords.joint and coords.L.shape == (12, 12)
    theta = rng.normal(size=obj.coef_shape)
    theta -= theta.mean(axis=0)  # the coordinates are centred over the classes
    reference.check_change_of_coordinates(obj, coords, theta, rng, 1e-10)
    # in v the Hessian is the identity but along the shift of all the classes (4
    # directions, one per coefficient), which the centred coordinates do not move
    # along: 8 eigenvalues of 1 and 4 of 0
    A = np.column_stack([coords.to_raw(np.eye(12)[j].reshape(3, 4)).ravel() for j in range(12)])
    eigenvalues = np.linalg.eigvalsh(A.T @ fd @ A)
    np.testing.assert_allclose(eigenvalues[4:], 1.0, rtol=1e-5)
    np.testing.assert_allclose(eigenvalues[:4], 0.0, atol=1e-8)


def test_per_class_whitening_never_drifts_along_the_shift_of_all_classes():
    """A matrix per class gives each class its own step; their sum, a shift of every
    class by one vector, changes only the L2 term, whose curvature there is tiny. The
    centred coordinates never move along it: 10 classes reach tol=1e-8 in 28
    iterations (144 before, the last hundred spent on that shift's L2 term), with
    coefficients that sum to 0 over the classes, at lbfgs's optimum."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        3000, 30, n_informative=15, n_classes=10, n_clusters_per_class=1, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    obj = Objective(InMemoryData(X, y, np.ones(3000), 10, True), 1 / 3000)
    assert _coordinates.whitening(obj, 0.0, "auto", True).blocks == "class"
    clf = GDLogisticRegression(tol=1e-8, max_iter=1000).fit(X, y)
    assert clf.n_iter_ <= 60
    np.testing.assert_allclose(clf.coef_.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(clf.intercept_.sum(), 0.0, atol=1e-12)
    ref = LogisticRegression(tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-5, atol=1e-5)


def test_multinomial_whitening_is_per_class_within_its_memory_cap(monkeypatch):
    """Each class its own matrix where the K matrices fit the cap of one, the shared
    matrix beyond it (L1 fits keep the shared one: their metric couples the classes,
    tests/test_l1_metric.py)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2000, 30))
    y = rng.integers(0, 4, 2000)
    obj = Objective(InMemoryData(X, y, np.ones(2000), 4, True), 1e-3)
    theta = np.zeros(obj.coef_shape)
    coords = _coordinates.whitening(obj, 0.0, "whitening", True)(theta)
    assert coords.per_class and coords.L.shape == (4, 31, 31)
    monkeypatch.setattr(_coordinates, "MAX_WHITEN_COEFS", 61)  # 4 x 31^2 > 61^2
    assert not _coordinates.whitening(obj, 0.0, "whitening", True)(theta).per_class
    theta = rng.normal(size=obj.coef_shape)
    theta -= theta.mean(axis=0)  # the coordinates are centred over the classes
    reference.check_change_of_coordinates(obj, coords, theta, rng, 1e-10)


@pytest.mark.parametrize(
    "m, d, n_classes, every",
    [(1800, 64, 10, 10), (50_000, 60, 10, 5), (1800, 64, 2, 5), (150, 4, 3, 5)],
)
def test_costly_per_class_renewals_are_less_frequent(m, d, n_classes, every):
    """Every 10 iterations where the K per-class matrices cost more than
    COSTLY_RENEWAL_PASSES passes by the cost model (digits-sized, 10 classes: 26),
    every 5 elsewhere (50,000 rows: 3.1; binary fits; iris-sized)."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((m, d))
    y = np.arange(m) % n_classes
    obj = Objective(InMemoryData(X, y, np.ones(m), n_classes, True), 1e-3)
    assert _coordinates.whitening(obj, 0.0, "whitening", True).every == every


@pytest.mark.parametrize("solver", ["gd", "nesterov", "anderson"])
def test_correlated_features_converge_in_few_iterations(solver):
    X, y = correlated()
    ref = LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(X, y)
    J_ref = reference.objective(X, y, None, ref.coef_, ref.intercept_, C=1.0)
    fits = {
        pre: GDLogisticRegression(solver=solver, preconditioner=pre, tol=1e-6, max_iter=5000).fit(
            X, y
        )
        for pre in ("diagonal", "auto", "whitening")
    }
    # Anderson's memory finds part of the curvature by itself: 56 diagonal iterations
    # against 13 whitened (Nesterov: hundreds against a dozen)
    factor = 3 if solver == "anderson" else 5
    for pre in ("auto", "whitening"):
        assert fits[pre].n_iter_ <= 50
        assert fits[pre].n_iter_ * factor < fits["diagonal"].n_iter_
        J = reference.objective(X, y, None, fits[pre].coef_, fits[pre].intercept_, C=1.0)
        assert J == pytest.approx(J_ref, rel=1e-8)


def test_float32_stays_float32():
    X, y = correlated()
    clf = GDLogisticRegression(preconditioner="whitening").fit(X.astype(np.float32), y)
    ref = GDLogisticRegression(preconditioner="whitening").fit(X, y)
    assert clf.coef_.dtype == np.float32
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-3)


def test_forced_whitening_where_it_cannot_apply_raises():
    X, y = correlated(300, 5)
    wide = np.zeros((4, 2048))
    with pytest.raises(ValueError, match=r"2049 x 2049 curvature matrix \(32 MiB\).*2048 feat"):
        GDLogisticRegression(preconditioner="whitening").fit(wide, [0, 1, 0, 1])
    # an L1 term is whitened too (steps in the curvature metric), from the first iteration
    forced = GDLogisticRegression(preconditioner="whitening", l1_ratio=0.5, tol=1e-8).fit(X, y)
    auto = GDLogisticRegression(l1_ratio=0.5, tol=1e-8).fit(X, y)
    np.testing.assert_allclose(auto.coef_, forced.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(auto.coef_ == 0, forced.coef_ == 0)
    # where auto cannot whiten (too few rows) it keeps the diagonal coordinates: the same fit
    Xs, ys = X[:10], y[:10]
    auto = GDLogisticRegression(l1_ratio=0.5).fit(Xs, ys)
    diagonal = GDLogisticRegression(l1_ratio=0.5, preconditioner="diagonal").fit(Xs, ys)
    np.testing.assert_array_equal(auto.coef_, diagonal.coef_)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_curvature_equals_the_dense_one(K, fit_intercept):
    """The same rows and the same matrix, by sparse products (sparse rows) or BLAS
    (dense ones), on X with zeros, in units far apart."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5000, 30)) * (rng.random((5000, 30)) < 0.2) * np.logspace(-3, 3, 30)
    X[:, 4] = 0.0  # an empty column
    y = rng.integers(0, 2 if K == 1 else K, 5000)
    theta = rng.normal(size=(K, 30 + fit_intercept)) * 1e-3
    results = []
    for Xc in (X, sp.csr_matrix(X), sp.csc_matrix(X), sp.csr_matrix(X[:, :1] * 0 + X)):
        obj = Objective(
            InMemoryData(Xc, y, rng.random(5000) * 0 + 1, max(K, 2), fit_intercept), 0.1
        )
        Hn, c = obj.curvature(theta, 1000)  # every 5th row
        results.append(c[:, None] * Hn * c[None, :])
    for H in results[1:]:
        np.testing.assert_allclose(H, results[0], rtol=1e-12, atol=1e-14 * np.abs(results[0]).max())


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("unit", [1.0, 1e160, 1e-160])
def test_dense_curvature_in_any_units_is_the_weighted_gram(K, unit):
    """Dense NumPy rows: [X 1]^T diag(omega) [X 1] by its definition, whatever X's units.
    In ordinary units it is one unscaled product (c = 1: the columns are not scaled);
    in units whose squares leave float64 (1e160, 1e-160), or with a column whose weighted
    values' products underflow to 0, the columns are scaled by their size first."""
    rng = np.random.default_rng(6)
    m, d = 600, 5
    X = rng.standard_normal((m, d)) * unit
    X[:, 3] = 0.0  # a zero column: a diagonal of exactly 0 is no underflow...
    X[7, 3] = 5.0 * unit  # ...unless a weighted row has a value there: this one weighs nothing
    sw = rng.random(m)
    sw[7] = 0.0
    coef = rng.normal(size=(K, d + 1)) / unit * [1, 1, 1, 1, 1, unit]
    Hn, c, weight = _curvature.curvature_block(X, sw, coef, True, 3e-4, blocks="class")
    # H = diag(c) Hn diag(c) and the definition, both in units of p^2 (H itself may be
    # beyond float64's range); p an exact power of 2 near X's unit
    p = 2.0 ** np.round(np.log2(unit))
    r = c / np.append(np.full(d, p), 1.0)
    H = r[:, None] * Hn * r[None, :]
    Xa = np.column_stack([X / p, np.ones(m)])
    z = X @ coef[:, :d].T + coef[:, d]
    if K == 1:
        a = 1 / (1 + np.exp(-z[:, 0]))
        omegas = (sw * np.maximum(a * (1 - a), 3e-4 / 4))[None]
    else:
        P = np.exp(z - z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        cur = P * (1 - P)
        omegas = (sw[:, None] * np.maximum(np.maximum(cur, 0.1 * cur.mean(axis=1)[:, None]),
                                           3e-4 / 4)).T  # fmt: skip
    ref = np.stack([Xa.T @ (omega[:, None] * Xa) for omega in omegas])
    np.testing.assert_allclose(H.reshape(ref.shape), ref, rtol=1e-12, atol=0)
    assert weight == pytest.approx(sw.sum())
    assert np.all(c == 1.0) == (unit == 1.0)
    # a weighted row with a value in the zero column makes its diagonal non-zero: with
    # that value too small for its square, the scaled path keeps it (as c^2 Hn)
    sw[7] = 1.0
    X[7, 3] = 1e-170
    Hn, c, _ = _curvature.curvature_block(X, sw, coef, True, 3e-4)
    assert c[3] == 1e-170 and Hn[..., 3, 3].min() > 0


def _floored_curvature(X, sw, coef, floor):
    """[X 1]^T diag(sw max(c, floor / 4)) [X 1], c each example's a (1 - a) (two
    classes) or the class mean of p_k (1 - p_k) (the softmax's shared matrix)."""
    z = X @ coef[:, :-1].T + coef[:, -1]
    P = np.exp(z - z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    if z.shape[1] == 1:
        a = 1 / (1 + np.exp(-z[:, 0]))
        cur = a * (1 - a)
    else:
        cur = (P * (1 - P)).mean(axis=1)
    Xa = np.column_stack([X, np.ones(X.shape[0])])
    return Xa.T @ ((sw * np.maximum(cur, floor / 4))[:, None] * Xa)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("unit", [1.0, 1e160])
def test_renewals_on_confident_rows_reuse_the_samples_gram(K, unit, monkeypatch):
    """Where most sampled rows sit at the curvature floor, a renewal is f times the
    sample's weighted Gram (computed once, kept) plus the rows above the floor; where
    every row has one curvature c (coefficients 0 but the intercept, as a fit starts),
    c times that Gram: the same matrix as the definition, for two classes and the
    softmax's shared one; elsewhere the blocks as before (a first block far from the
    floor never asks for the split). In units whose products leave float64 the scaled
    path takes over, correct as ever."""
    rng = np.random.default_rng(8)
    m, d, stride, floor = 5000, 6, 2, 3e-4  # 2,500 sampled rows: more than one block
    X = rng.standard_normal((m, d)) * unit
    sw = rng.random(m)
    sw[:50] = 0.0
    data = InMemoryData(X, rng.integers(0, 2 if K == 1 else K, m), sw, 2 if K == 1 else K, True)
    Xs, sws = X[::stride] / unit, data.sw[::stride]
    steep = rng.normal(size=(K, d + 1)) * [*[30.0 / unit] * d, 1.0]  # most |z| > 12
    mid = steep * 0.15  # a third (two classes) or 46% (three) of the rows at the floor
    gentle = steep / 30  # no row at the floor
    level = np.zeros_like(steep)
    level[:, d] = rng.normal(size=K)  # the intercepts alone: one curvature for every row
    bases, blocks, asked = [], [], []  # the calls of the path without the split, and of it
    block, split_call = _curvature.curvature_block, _curvature.FloorSplit.__call__
    monkeypatch.setattr(
        _curvature, "curvature_block", lambda *a, **k: blocks.append(1) or block(*a, **k)
    )
    monkeypatch.setattr(
        _curvature.FloorSplit, "__call__", lambda *a: asked.append(1) or split_call(*a)
    )
    for coef in (level, steep, steep * 1.5, mid, gentle):
        del blocks[:], asked[:]
        Hn, c, weight = data.curvature(coef, stride, floor, blocks="shared")
        split = not blocks
        # the first block decides whether the split is asked: not where it is far from it
        assert bool(asked) == (coef is not gentle)
        r = c / np.append(np.full(d, unit), 1.0)  # H in units of X / unit: H itself overflows
        H = r[:, None] * Hn * r[None, :] / weight
        ref = _floored_curvature(Xs, sws, coef * [*[unit] * d, 1.0], floor) / sws.sum()
        np.testing.assert_allclose(H, ref, rtol=1e-11, atol=1e-13 * np.abs(ref).max())
        bases.append(data.floor_split.base)
        assert split == (unit == 1.0 and coef is not gentle and coef is not mid)
    if unit == 1.0:
        assert bases[0] is bases[1] is bases[2] is bases[4] is not None  # computed once
        np.testing.assert_allclose(
            bases[0], _floored_curvature(Xs, sws, 0 * steep, 4.0), rtol=1e-12
        )  # a floor above every curvature: the weighted Gram itself
    else:
        assert bases == [None] * 5  # no unscaled Gram in these units


def test_every_container_takes_the_same_path():
    """Dense (C or F order), CSR, CSC: the same decisions, so the same iterations and,
    to rounding, the same model. (Dask and the Array API: in their own test files.)"""
    X, y = correlated(6000, 20)
    ref = GDLogisticRegression().fit(X, y)
    diagonal = GDLogisticRegression(preconditioner="diagonal").fit(X, y)
    assert ref.n_iter_ * 3 < diagonal.n_iter_  # the path whitens
    for Xc in (np.asfortranarray(X), sp.csr_matrix(X), sp.csc_matrix(X)):
        clf = GDLogisticRegression().fit(Xc, y)
        assert clf.n_iter_ == ref.n_iter_
        np.testing.assert_allclose(
            clf.coef_, ref.coef_, rtol=1e-8, atol=1e-8 * np.abs(ref.coef_).max()
        )
        np.testing.assert_allclose(clf.intercept_, ref.intercept_, rtol=1e-8, atol=1e-10)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # tol=0
def test_constant_learning_rate_ignores_the_preconditioner():
    """A float learning_rate is the lecture's update on raw features, whatever is asked."""
    X, y = correlated(300, 5)
    fits = [
        GDLogisticRegression(learning_rate=0.5, preconditioner=p, max_iter=20, tol=0).fit(X, y)
        for p in ("diagonal", "whitening")
    ]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_whitening_never_writes_into_X(fit_intercept, dtype):
    """The curvature matrix is computed on scaled copies of blocks of rows, never in X."""
    X, y = correlated(3000, 8)
    X = X.astype(dtype)
    before = X.copy()
    clf = GDLogisticRegression(preconditioner="whitening", fit_intercept=fit_intercept, tol=1e-8)
    clf.fit(X, y)
    np.testing.assert_array_equal(X, before)


def test_the_cost_rule_counts_the_stored_values():
    """Whitening pays where the curvature matrix costs at most about ten passes: dense rows
    stored sparse pay as dense ones do (their blocks go to BLAS); text-like rows of a few
    stored values each do not, where a pass reads little and a sparse product is slow."""
    from sk_gdlogreg._coordinates import whitening_pays

    assert whitening_pays(20_000, 40, 20_000)  # dense
    assert whitening_pays(20_000, 40, 20_000, n_stored=20_000 * 40)  # the same, as CSR
    assert not whitening_pays(200_000, 1_000, 20_000, n_stored=50 * 200_000)  # text
    assert not whitening_pays(20_000, 2_000, 20_000)  # wide: the product is 10+ passes


def test_text_like_sparse_data_keeps_the_diagonal_path():
    rng = np.random.default_rng(5)
    X = sp.random_array((30_000, 600), density=0.01, format="csr", rng=rng)  # 6 values a row
    y = (X @ rng.standard_normal(600) + 0.1 * rng.logistic(size=30_000) > 0).astype(int)
    auto = GDLogisticRegression().fit(X, y)
    diagonal = GDLogisticRegression(preconditioner="diagonal").fit(X, y)
    np.testing.assert_array_equal(auto.coef_, diagonal.coef_)
