"""The coordinates the solvers move in, and those in which optimality is measured.

A change of coordinates ``theta = A v`` leaves the objective's minimum where it
is but changes the path gradient descent takes to it: a gradient step in v is a
preconditioned step in theta. ``Standardization`` is the diagonal one, to
centred, rescaled features; ``solver_coordinates`` picks the coordinates of a
fit from the weighted column means and standard deviations of X. ``Whitening``
decorrelates them too, by the curvature of J; ``whitening`` decides where it
is used and gives the function that renews it as a fit goes.
"""

import numpy as np

from ._curvature import SPARSE_PRODUCT_SPEED

# Automatic steps run WHITEN_EVERY iterations at a time; after each run that has
# not converged, the coordinates are whitened anew with the curvature at the
# current point, estimated on at most WHITEN_SAMPLE_ROWS rows (or 10 per feature).
# Measured (iterations to tol=1e-6; 5 against 10 and 20): fewer on 7 of 8
# problems (easy 9/14/22, correlated 12/17/27, breast cancer raw 18/32/34).
WHITEN_EVERY = 5
WHITEN_SAMPLE_ROWS = 20_000
# The curvature of an example's loss is floored at CURVATURE_FLOOR times its
# largest value (1/4): on separated data the Hessian at the current point is
# nearly singular. Measured with the Jacobi scaling and jitter of ``Whitening``
# and the solvers' restarts (iterations to F within 1e-6 of its minimum, and of
# default fits at C=inf): at 1e-2 the floor overstated the curvature of
# confidently classified examples, and the steps grew 30- to 90-fold after
# each renewal (50,000 x 100, class_sep=3, C=100: 54 iterations; breast cancer,
# C=inf: 87); at 3e-4, 29 and 43, digits at C=100 251 instead of 516, and no
# problem slower by more than an iteration or two; at 3e-5 the steps overshot
# (digits at C=inf: J rose 64-fold, 266 iterations).
CURVATURE_FLOOR = 3e-4


class Standardization:
    """The change of coordinates theta = A v to centred, rescaled features.

    With ``u = (x - mean) / scale`` and the model ``u . v + c``, the same
    predictions are made by ``w = v / scale`` and ``b = c - w . mean``. The
    objective is unchanged; only the coordinates the solver moves in change, which
    makes gradient steps independent of the units of the features. Without an
    intercept there is nothing to absorb the centring, so ``mean`` must be 0.
    ``mean`` and ``scale`` are arrays of shape (n_features,) in the namespace of
    the coefficients.
    """

    def __init__(self, mean, scale, fit_intercept, xp=np):
        self.mean, self.scale = mean, scale
        self.fit_intercept = fit_intercept
        self.n_features = scale.shape[0]
        self.xp = xp
        self.mean_over_scale = mean / scale  # once: grad_from_raw runs every iteration

    def to_raw(self, v):
        theta = self.xp.empty_like(v)
        d = self.n_features
        theta[:, :d] = v[:, :d] / self.scale
        if self.fit_intercept:
            theta[:, d] = v[:, d] - theta[:, :d] @ self.mean
        return theta

    def from_raw(self, theta):
        v = self.xp.empty_like(theta)
        d = self.n_features
        v[:, :d] = theta[:, :d] * self.scale
        if self.fit_intercept:
            v[:, d] = theta[:, d] + theta[:, :d] @ self.mean
        return v

    def grad_from_raw(self, g):
        """dJ/dv from dJ/dtheta: the transpose of the map A applied to g."""
        gv = self.xp.empty_like(g)
        d = self.n_features
        gv[:, :d] = g[:, :d] / self.scale
        if self.fit_intercept:
            gv[:, :d] -= g[:, d:] * self.mean_over_scale
            gv[:, d] = g[:, d]
        return gv

    def grad_to_raw(self, gv):
        """dJ/dtheta from dJ/dv: the inverse of ``grad_from_raw``."""
        g = self.xp.empty_like(gv)
        d = self.n_features
        g[:, :d] = gv[:, :d] * self.scale
        if self.fit_intercept:
            g[:, :d] += gv[:, d:] * self.mean
            g[:, d] = gv[:, d]
        return g


class Raw:
    """The raw coefficients themselves: the coordinates of a constant learning rate,
    which is the lecture's update on the features as given. Nothing to compute."""

    def __init__(self, like, fit_intercept, xp=np):
        self.scale = xp.ones_like(like)  # for the L1 weights: 1 on every feature
        self.fit_intercept = fit_intercept
        self.n_features = like.shape[0]
        self.xp = xp

    def to_raw(self, v):
        return v

    from_raw = grad_from_raw = grad_to_raw = to_raw


def solver_coordinates(mean, std, l2, n_outputs, fit_intercept, auto_steps, xp=np, dtype=None):
    """(tol_coords, coords, step0): where ``tol`` is measured, where the solver moves.

    The optimality test is taken on standardized features (centred when there
    is an intercept to absorb the centring), so that ``tol`` is unit-free. A
    constant feature is not centred (the intercept already is that direction,
    and centring it would cancel catastrophically) but scaled by its size; a
    feature too small for 1/std to exist in ``dtype`` (subnormal values) keeps
    scale 1, and no feature is measured in units below 1e-3 sqrt(l2 / curvature).
    A constant learning rate (``auto_steps`` false) moves on the raw
    coefficients, as the lecture does. Automatic steps move in coordinates
    where each coefficient's curvature is about the same (a diagonal
    preconditioner): the variance of its feature plus the L2 term's share,
    which also tames tiny-scale features that the penalty dominates. ``step0``
    is the inverse of an upper bound on the curvature there, a safe first step
    that the solver then adapts (None for a constant rate).

    ``mean`` and ``std`` may be in a wider float than ``dtype`` (the dtype of
    the coefficients, by default theirs): everything is computed in theirs,
    with ``hypot`` rather than squares so that nothing overflows, and the
    coordinates are cast to ``dtype`` at the end.
    """
    dtype = mean.dtype if dtype is None else dtype
    info = xp.finfo(dtype)
    ones, zeros = xp.ones_like(std), xp.zeros_like(std)
    size = xp.abs(mean)
    constant = std <= 10 * info.eps * size
    too_small = xp.where(constant, size, std) < 1e3 / info.max  # 1/scale would overflow
    centre = xp.where(constant | too_small, zeros, mean) if fit_intercept else zeros
    tol_scale = xp.where(too_small, ones, xp.where(constant, size, std))
    # the largest curvature of the log-loss: 1/4 (sigmoid), 1/2 (softmax)
    curvature = 0.25 if n_outputs == 1 else 0.5
    # A feature so small that the L2 term's curvature is over a million times its data's
    # (a constant 1e-200, say) has its coefficient pinned by the penalty: its gradient is
    # measured in units of 1e-3 sqrt(l2 / curvature), not in its own, where any
    # coefficient short of 1e-200 of the optimum reads as far from it (such fits ran to
    # max_iter). Features of ordinary size keep their spread.
    tol_scale = xp.maximum(tol_scale, zeros + 1e-3 * (l2 / curvature) ** 0.5)
    tol_coords = Standardization(
        xp.astype(centre, dtype), xp.astype(tol_scale, dtype), fit_intercept, xp
    )
    if not auto_steps:
        return tol_coords, Raw(tol_coords.scale, fit_intercept, xp), None
    spread = xp.where(constant, zeros, std)
    # not centred (no intercept, or a constant feature): the raw second moment
    uncentred = (constant | too_small) if fit_intercept else ones > 0
    spread = xp.where(uncentred, xp.hypot(spread, size), spread)
    scale = xp.hypot(spread, zeros + l2**0.5 / curvature**0.5)
    scale = xp.where((scale > 1e3 / info.max) & (scale > 0), scale, ones)
    if not bool(xp.all(scale <= info.max)):
        raise ValueError(
            f"C is too small for {info.dtype} coefficients: the L2 penalty strength "
            f"1/(C * sum of sample weights) = {l2:.3g} puts the coordinates out of range."
        )
    scale = xp.astype(scale, dtype)
    if bool(xp.all(scale == tol_coords.scale)):
        coords = tol_coords
    else:
        coords = Standardization(tol_coords.mean, scale, fit_intercept, xp)
    step0 = 1 / (curvature * (std.shape[0] + 1))
    return tol_coords, coords, step0


class Whitening:
    """The change of coordinates ``theta_k = L^{-T} v_k`` for a curvature matrix ``H = L L^T``.

    ``H`` is (an estimate of) the Hessian of J with respect to one row of
    coefficients ``theta_k = [w_k, b_k]``: ``[X 1]^T diag(omega) [X 1]`` plus the
    L2 term, with omega the curvature of the log-loss at each example
    (``_curvature.curvature_block``). In ``v = L^T theta`` the Hessian is about the identity,
    whatever the scales and correlations of the features: gradient descent then
    takes about as many steps as on standardized, uncorrelated features. It is
    still gradient descent, on the linearly transformed features ``[X 1] L^{-T}``.
    An L1 penalty is not separable here: L1 fits take the same steps in the
    diagonal coordinates, in the metric of H instead (``_metric.Metric``).

    A multinomial fit may whiten each class's row by its own matrix, the diagonal
    block of the softmax's Hessian for that class (``Hn`` a stack of K matrices):
    the classes far from an example then do not share the curvature of those
    near it. Or by the whole Hessian (``Hn`` of K x K blocks): then ``L`` is one
    matrix for the K (d + 1) coefficients of all the classes, taken as one row.

    Either way the classes' steps differ, and their sum, a shift of every class
    by the same vector, changes no probability: only the L2 term, whose
    curvature there (K l2) is tiny next to the data's. Left to the steps, that
    shift crawled back to 0 over hundreds of iterations (10 classes, 50,000 x 60:
    the whole gap of F to its optimum after 40 iterations, 8e-8, was its L2
    term; 1,166 iterations to ``tol=1e-8``). Such coordinates are centred:
    ``theta = P L^{-T} v``, P the mean over the classes taken away, where the
    optimum of every L2 fit lies (the penalty is least there, the data term the
    same); gradient descent in v then never moves along the shift.

    In any array namespace, on the coefficients' device: NumPy solves with L by
    LAPACK's triangular solve; other namespaces (the Array API standard has no
    triangular solve) multiply by ``L^{-1}``, computed once per matrix.
    """

    scale = None  # no per-feature scale: L1 fits use ``_metric.Metric`` instead

    def __init__(self, curvature, fit_intercept, xp=np):
        # H = diag(c) Hn diag(c). Jacobi scaling first, so that a tiny jitter
        # regularizes a singular H (constant or duplicated features, C=inf)
        # without swamping the curvature of features in small units;
        # L = diag(c d) chol(Hs) never forms H, which may be out of the float range.
        # Hn may be a stack of K matrices, one per class: then every class has its own L.
        Hn, c = curvature
        self.joint = Hn.ndim == 4  # the whole softmax Hessian: one L for all the classes
        if self.joint:
            K, p1 = Hn.shape[0], Hn.shape[-1]
            # the shift of every class by the same vector changes no probability: give
            # it the mean class's curvature, so that H is definite (the gradient has no
            # part along it, and H keeps the steps off it)
            diagonal = xp.stack([Hn[k, k, ...] for k in range(K)])
            shift = xp.mean(diagonal, axis=0) / K
            Hn = Hn + shift[None, None, :, :]
            Hn = xp.reshape(xp.permute_dims(Hn, (0, 2, 1, 3)), (K * p1, K * p1))
            c = xp.concat([c] * K)
            self.shape = (K, p1)
        p = Hn.shape[-1]
        eye = xp.eye(p, dtype=Hn.dtype, device=Hn.device)
        d = xp.sqrt(xp.sum(Hn * eye, axis=-1))
        d = xp.where(d > 0, d, xp.ones_like(d))
        Hs = Hn / d[..., :, None] / d[..., None, :] + 1e-10 * eye
        L = (c * d)[..., :, None] * xp.linalg.cholesky(Hs)
        if not bool(xp.all(xp.isfinite(L))):
            raise np.linalg.LinAlgError("the curvature matrix is not positive definite")
        self.fit_intercept = fit_intercept
        self.n_features = p - int(fit_intercept)
        self.xp = xp
        self.per_class = L.ndim == 3
        self.centred = self.per_class or self.joint  # see the class's docstring
        self.L = L
        if xp is np:  # Fortran order: LAPACK's triangular solve then copies nothing
            self.lapack_L = [np.asfortranarray(Lk) for Lk in (L if self.per_class else [L])]
        else:
            self.L_inv = xp.linalg.inv(L)

    def _solve(self, b, trans):
        # LAPACK's trtrs itself: scipy.linalg.solve_triangular's checks cost 4
        # times the solve at this size, three times per iteration
        from scipy.linalg.lapack import dtrtrs

        # one solve for all the rows with a shared L, one per row (class) otherwise
        pairs = zip(self.lapack_L, b) if self.per_class else [(self.lapack_L[0], b.T)]
        x = []
        for L, rhs in pairs:
            xk, info = dtrtrs(L, rhs, lower=1, trans=trans)
            if info > 0:
                raise np.linalg.LinAlgError(f"singular curvature factor: pivot {info} is 0")
            x.append(xk)
        x = np.stack(x) if self.per_class else x[0].T
        return x.astype(b.dtype, copy=False)  # L is float64; float32 stays float32

    def _times(self, a, M, transpose=False):
        """Row k of a times M (or M^T), M_k if one per class, in a's dtype (M is float64
        where the device has it)."""
        xp, dtype = self.xp, a.dtype
        if xp is not np:  # NumPy promotes a float32 a by itself, without a copy
            a = xp.astype(a, M.dtype)
        if self.per_class:
            if transpose:
                M = xp.permute_dims(M, (0, 2, 1))
            out = (a[:, None, :] @ M)[:, 0, :]
        else:
            out = a @ (M.T if transpose else M)
        return out.astype(dtype, copy=False) if xp is np else xp.astype(out, dtype)

    def _flat(self, fn, a, *args):
        """fn on the coefficients of all the classes as one row, where L is joint."""
        if not self.joint:
            return fn(a, *args)
        xp = self.xp
        return xp.reshape(fn(xp.reshape(a, (1, -1)), *args), self.shape)

    def _centre(self, a):
        """P a: each column less its mean over the classes (rows), where ``centred``."""
        return a - self.xp.mean(a, axis=0) if self.centred else a

    def to_raw(self, v):  # theta_k = L^{-T} v_k (centred: P of that)
        if self.xp is np:
            return self._centre(self._flat(self._solve, v, 1))
        return self._centre(self._flat(self._times, v, self.L_inv))

    def from_raw(self, theta):  # v_k = L^T theta_k
        return self._flat(self._times, theta, self.L)

    def grad_from_raw(self, g):  # dJ/dv_k = L^{-1} dJ/dtheta_k (centred: of P g)
        g = self._centre(g)
        if self.xp is np:
            return self._flat(self._solve, g, 0)
        return self._flat(self._times, g, self.L_inv, True)

    def grad_to_raw(self, gv):
        return self._flat(self._times, gv, self.L, True)


# The curvature matrix has (n_features + 1)^2 entries and its factorization costs
# (n_features + 1)^3 / 3 multiply-adds at each renewal: beyond this many
# coefficients per class (32 MiB, about 0.1 s per factorization on one core) it
# costs more than the passes it could save, and wide data keeps the diagonal path.
MAX_WHITEN_COEFS = 2048


# The cost model of whitening_pays, in units of one stored value read by a pass
# (a pass over X is memory-bound). A BLAS-3 product does about 25 multiply-adds
# in that time; SciPy's sparse product of sparse rows (such as text) 200 times
# fewer than BLAS (_curvature.SPARSE_PRODUCT_SPEED, measured there).
BLAS3_SPEED = 25.0
SPARSE_SPEED = BLAS3_SPEED * SPARSE_PRODUCT_SPEED
# At most this many passes' worth may go to one curvature matrix.
PASSES_PER_RENEWAL = 10


def whitening_pays(n_samples, n_features, sample_rows, n_stored=None, grams=1, size=None):
    """Whether the curvature matrix is cheap next to the passes it saves.

    A pass reads the ``n_stored`` stored values of X (``n_samples * n_features``
    for dense arrays, the non-zeros of a sparse matrix). The matrix of
    ``sample_rows`` rows costs ``sample_rows * p^2`` multiply-adds in BLAS-3 on
    dense rows, or about ``sample_rows * (values per row)^2`` in a sparse product
    on sparse ones (the cheaper of the two is used), plus ``size^3 / 3`` for its
    factorization (``size``: p = d + 1 unless said; K (d + 1) for the metric of a
    multinomial L1 fit, with ``grams`` = K^2 products where it is the whole
    softmax Hessian): at most PASSES_PER_RENEWAL passes' worth is spent. For dense
    X that is ``sample_rows * p <= 250 * n_samples``. Measured where it decides:
    a 200,000 x 1,000 text matrix of 50 values a row took 1.9 s per matrix
    against 30 ms per pass, and stays diagonal. And there must be rows enough
    (twice the coefficients) for the matrix to have full rank: whitening by a
    singular matrix would blow rounding errors up along the directions no
    example constrains. The same rule for every container holding the same
    stored values: the path depends on the problem, not on the array's type.
    """
    p = n_features + 1
    passes = renewal_passes(n_samples, n_features, sample_rows, n_stored, grams, size)
    return p <= MAX_WHITEN_COEFS and passes <= PASSES_PER_RENEWAL and n_samples >= 2 * p


def renewal_passes(n_samples, n_features, sample_rows, n_stored=None, grams=1, size=None):
    """The cost of one curvature matrix and its factorization, in passes over X
    (the cost model of ``whitening_pays``)."""
    p = n_features + 1
    size = p if size is None else size
    n_stored = n_samples * n_features if n_stored is None else n_stored
    per_row = n_stored / max(n_samples, 1)
    dense, sparse = sample_rows * p * p / BLAS3_SPEED, sample_rows * per_row**2 / SPARSE_SPEED
    return (grams * min(dense, sparse) + size**3 / 3 / BLAS3_SPEED) / max(n_stored, 1)


# Multinomial fits whose K per-class matrices cost more than this many passes
# (the cost model above, K times one matrix) renew them every 2 * WHITEN_EVERY
# iterations. Measured (cross_val_score(cv=5), time against every 5): digits
# (model: 26 passes) 0.65x with every 10; 10 classes 50,000 x 60 (model: 3.1
# passes) took 16 iterations instead of 11 with every 10, so it keeps 5.
COSTLY_RENEWAL_PASSES = 5.0
# A multinomial fit without L1 whitens by the whole Hessian of its K (d + 1)
# coefficients (``blocks="joint"``) where it has at most this many coefficients
# and its K^2 blocks cost at most PASSES_PER_RENEWAL passes by the model above:
# the coupling of the classes is then in the metric, not left to the steps.
# Measured (iterations to F within 1e-6; joint / one matrix per class):
# iris 12 / 31, wine 12 / 29 (default fits 11 / 26 and 12 / 21 iterations);
# digits 22 / 46, but its 100 blocks cost 270 passes a renewal: per class.
JOINT_MAX_COEFS = 256
# The metric of a multinomial L1 fit has K (d + 1) coefficients: its factorization
# costs K^3 times one class's, and each step solves a Lasso on it. It is the whole
# Hessian (``blocks="joint"``: K^2 products, on sqrt(K) times fewer rows as above)
# where that costs at most PASSES_PER_RENEWAL passes by the model of
# ``whitening_pays``, else one matrix shared by the classes, coupled as at uniform
# probabilities (``_metric.Metric``) where that does, else the diagonal path.
# Measured (default fits at tol=1e-6, one thread; whole / shared / diagonal):
# iris at C=100 22 / 399 / 1,033 iterations (the whole Hessian 0.12x the shared
# matrix's time), three separable classes of 1,500 x 8 at C=100 118 / 3,000
# (max_iter) / 415, wine 14 / 34 / 61, 20,000 x 40 with 3 classes 15 / 43 / 448
# (0.41x the shared matrix's time). The factorization was counted at d + 1
# coefficients before: digits (model: 296 passes whole, 35 shared), 2,000 x 100
# with 10 classes (73 shared) and 5,000 x 200 with 4 (15) took the metric path
# at 2.6x, 11x and 1.4x the diagonal path's time.


def whitening(objective, l1, preconditioner, auto_steps, coords=None):
    """``recondition(theta)`` -> new coordinates at the curvature there, or None where not used.

    Used with automatic steps; with ``preconditioner="auto"`` only where the
    curvature matrix is cheap next to a pass (``whitening_pays``); the solvers
    call it every ``WHITEN_EVERY`` iterations that have not converged (and at
    the start, where ``_plan.make_plan`` says so). Without an L1 term the coordinates are whitened
    (``Whitening``); with one, the solver stays in the diagonal coordinates
    ``coords``, where the L1 term is separable, and takes its proximal steps in
    the curvature metric instead (``_metric.Metric``): the same steps where
    the L1 term is zero.
    """
    if not auto_steps or preconditioner == "diagonal":
        return None
    n_coefs = objective.n_features + 1
    if l1 and objective.n_outputs > 1:  # the metric couples the classes: K (d + 1) square
        n_coefs *= objective.n_outputs
    if preconditioner == "whitening" and n_coefs > MAX_WHITEN_COEFS:
        size = n_coefs**2 * 8 / 2**20
        raise ValueError(
            f"preconditioner='whitening' needs a {n_coefs} x {n_coefs} curvature matrix "
            f"({size:.0f} MiB) and its factorization at every renewal, for "
            f"{objective.n_features} features: at most {MAX_WHITEN_COEFS} coefficients "
            "(features + 1, times the classes for a multinomial fit with an L1 term) "
            "are supported. Use preconditioner='auto' or 'diagonal'."
        )
    # a multinomial fit without L1 whitens each class by its own matrix where the K
    # matrices take no more memory than one of MAX_WHITEN_COEFS coefficients, each
    # on sqrt(K) times fewer rows: measured on 10 classes (50,000 x 60), 20,000 rows
    # 11 iterations and 65 ms per renewal, 5,000 rows 11, 2,000 rows 13
    K = objective.n_outputs
    per_class = not l1 and K > 1 and K * n_coefs**2 <= MAX_WHITEN_COEFS**2
    m = objective.data.n_samples
    rows = WHITEN_SAMPLE_ROWS / K**0.5 if per_class else WHITEN_SAMPLE_ROWS
    sample_rows = min(m, max(int(rows), 10 * objective.n_features))
    passes = renewal_passes(m, objective.n_features, sample_rows, objective.data.n_stored)
    blocks = "class" if per_class else "shared"
    if per_class and K * n_coefs <= JOINT_MAX_COEFS and K * K * passes <= PASSES_PER_RENEWAL:
        blocks = "joint"
    d, n_stored = objective.n_features, objective.data.n_stored
    pays = whitening_pays(m, d, sample_rows, n_stored, size=n_coefs)
    if l1 and K > 1:  # the whole Hessian where it pays, else the shared matrix
        rows = min(m, max(int(WHITEN_SAMPLE_ROWS / K**0.5), 10 * d))
        if whitening_pays(m, d, rows, n_stored, grams=K * K, size=n_coefs):
            blocks, sample_rows, pays = "joint", rows, True
    if preconditioner == "auto" and not (n_coefs <= MAX_WHITEN_COEFS and pays):
        return None
    xp = objective.xp

    def recondition(theta):
        curvature = objective.curvature(theta, sample_rows, floor=CURVATURE_FLOOR, blocks=blocks)
        if curvature is None:  # the sampled rows all weigh 0: nothing to whiten by
            return None
        if l1:
            from ._metric import Metric

            return Metric(curvature, coords, objective.n_outputs, objective.l2, xp)
        return Whitening(curvature, objective.fit_intercept, xp)

    # iterations between renewals (``_plan.make_plan`` reads it)
    costly = blocks == "class" and K * passes > COSTLY_RENEWAL_PASSES
    recondition.every = 2 * WHITEN_EVERY if costly else WHITEN_EVERY
    recondition.blocks = blocks
    return recondition
