"""Logistic regression by gradient descent on m examples, as the lecture teaches it.

This module is the algorithm with its own names, small enough to read beside the
slides. ``GDLogisticRegression`` computes the same numbers (its
``loop_mode="examples"`` and ``"full"`` call the loops below), adding what real
data needs: sample weights, more than two classes, penalties, step sizes chosen
for you, speed.

**The model.** For one example x (a vector of n features), logistic regression
predicts ``a = sigma(z)``, the probability that y = 1, from ``z = w . x + b``,
with ``sigma(z) = 1 / (1 + exp(-z))``. Its loss on that example is
``L(a, y) = -(y log a + (1 - y) log(1 - a))``.

**The cost over m examples** is the average loss::

    J(w, b) = (1/m) sum_i L(a_i, y_i)

and since J is an average, so is its gradient: for each example, the backward
pass gives ``dz_i = a_i - y_i`` and the per-example derivatives ``x_ij dz_i``
(for w_j) and ``dz_i`` (for b); dJ/dw_j and dJ/db are their means over the m
examples.

**One iteration** of gradient descent therefore starts accumulators at zero
(``J = 0, dw_1 = ... = dw_n = 0, db = 0``), loops over the examples adding each
one's loss and derivatives, divides the sums by m, and updates every parameter
by the learning rate alpha times its derivative::

    w_j := w_j - alpha dw_j        b := b - alpha db

That is two loops: one over the m examples, and inside it one over the n
features (``dw_1 += x_i1 dz_i``, ``dw_2 += x_i2 dz_i``, ...).
``cost_and_gradients_full_loops`` is exactly that;
``cost_and_gradients_examples_loop`` keeps the loop over examples but treats the
n features as one vector (``dw += x_i dz_i``).

**Vectorization replaces both loops.** Stack the examples as the rows of a
matrix X (m x n): then ``z = X w + b`` computes all m values of z at once,
``a = sigma(z)`` all predictions, ``dz = a - y`` all per-example derivatives,
and ``dw = X^T dz / m`` and ``db = mean(dz)`` all the sums. Each line is one
call into compiled code (BLAS for the products) instead of m x n steps of the
Python interpreter: ``cost_and_gradients`` is the same iteration, hundreds of
times faster on real data, with the same results to rounding error.

Two details make it safe on any data: J is computed from z rather than from a,
since a rounds to exactly 0 or 1 for large ``|z|`` and log(0) is -infinity; and the
loops take optional sample weights s_i and divide by their sum S instead of m
(with unit weights, S = m). With w of shape (K, n) and b of shape (K,), the
loops handle K > 2 classes with a softmax, as the estimator does.

Every function checks its input first, as the estimator does (the decorator
``@_checks.checks_input`` above it; the checks themselves are in
``_lecture_checks.py``): a list is read as an array, and NaN in X, labels other
than 0 and 1, or a w of the wrong shape raise an error that says so.
``gradient_descent`` also warns when J goes up, the sign of a learning rate too
large for the data.

Example: one iteration on the lecture's two features, three ways::

    >>> import numpy as np
    >>> from sk_gdlogreg import lecture
    >>> X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.5, -1.5], [2.0, 1.0]])
    >>> y = np.array([1, 0, 0, 1])
    >>> w, b = np.zeros(2), 0.0
    >>> J, dw, db = lecture.cost_and_gradients(X, y, w, b)
    >>> print(f"J = {J:.4f}, dw = {dw}, db = {db}")
    J = 0.6931, dw = [-0.4375 -0.5   ], db = 0.0
    >>> lecture.cost_and_gradients_full_loops(X, y, w, b)[0] == J
    True
    >>> w, b = lecture.update(w, b, dw, db, learning_rate=0.1)
    >>> w, b
    (array([0.04375, 0.05   ]), 0.0)
"""

import math

import numpy as np
import scipy.sparse as sp

from . import _lecture_checks as _checks
from . import _objective

__all__ = [
    "sigmoid",
    "forward",
    "cost",
    "backward",
    "update",
    "cost_and_gradients",
    "cost_and_gradients_examples_loop",
    "cost_and_gradients_full_loops",
    "gradient_descent",
]


def sigmoid(z):
    """The logistic function ``1 / (1 + exp(-z))``, without overflow for any z.

    Parameters
    ----------
    z : float or ndarray
        The logits.

    Returns
    -------
    a : float or ndarray
        Values in [0, 1], of z's shape.
    """
    # exp(-|z|) lies in (0, 1]: it never overflows, whatever the sign of z
    return _objective.sigmoid(np.asarray(z))[()]


@_checks.checks_input(_checks.forward)
def forward(X, w, b):
    """The forward pass for all m examples at once: ``z = X w + b``, ``a = sigma(z)``.

    Parameters
    ----------
    X : ndarray of shape (m, n)
        One example per row.
    w : ndarray of shape (n,)
        The weights.
    b : float
        The bias (intercept).

    Returns
    -------
    z : ndarray of shape (m,)
        The logits ``w . x_i + b``.
    a : ndarray of shape (m,)
        The predicted probabilities that y = 1.

    Raises
    ------
    ValueError
        If X is not a 2-D array of finite real numbers, w does not have one
        weight per column of X, or b is not one finite number.
    """
    z = X @ w + b
    return z, sigmoid(z)


@_checks.checks_input(_checks.cost)
def cost(z, y):
    """The cost ``J = (1/m) sum_i L(a_i, y_i)``, from z.

    ``L(a, y) = -(y log a + (1 - y) log(1 - a))`` with ``a = sigma(z)`` equals
    ``log(1 + exp(z)) - y z``, which is computed here: it has no log(0) when a
    rounds to 0 or 1.

    Parameters
    ----------
    z : ndarray of shape (m,)
        The logits, from ``forward``.
    y : ndarray of shape (m,)
        Labels 0 or 1.

    Returns
    -------
    J : float
        The average loss over the m examples.

    Raises
    ------
    ValueError
        If z is not a 1-D array of finite numbers, or y is not one label 0 or 1
        per value of z.
    """
    return float(np.mean(_objective.softplus(z) - y * z))  # softplus(z) = log(1 + exp(z))


@_checks.checks_input(_checks.backward)
def backward(X, a, y):
    """The backward pass for all m examples at once.

    Parameters
    ----------
    X : ndarray of shape (m, n)
        One example per row.
    a : ndarray of shape (m,)
        Predictions from ``forward``.
    y : ndarray of shape (m,)
        Labels 0 or 1.

    Returns
    -------
    dw : ndarray of shape (n,)
        ``X^T dz / m`` with ``dz = a - y``: the mean of the per-example ``x_i dz_i``.
    db : float
        The mean of ``dz``.

    Raises
    ------
    ValueError
        If X is not a 2-D array of finite real numbers, a does not hold one
        probability in [0, 1] per row of X, or y one label 0 or 1 per row.
    """
    dz = a - y
    m = X.shape[0]
    return X.T @ dz / m, float(np.sum(dz) / m)


@_checks.checks_input(_checks.update)
def update(w, b, dw, db, learning_rate):
    """One gradient-descent step: ``w := w - alpha dw``, ``b := b - alpha db``.

    Parameters
    ----------
    w, b, dw, db : ndarray or float
        The parameters and their derivatives.
    learning_rate : float
        The step alpha.

    Returns
    -------
    w, b : ndarray or float
        The updated parameters.

    Raises
    ------
    ValueError
        If a parameter or derivative is not finite, dw and w (or db and b)
        differ in shape, or the learning rate is not a finite number > 0.
    TypeError
        If the learning rate is not a real number.
    """
    return w - learning_rate * dw, b - learning_rate * db


@_checks.checks_input(_checks.cost_and_gradients)
def cost_and_gradients(X, y, w, b):
    """J, dw and db for all m examples, vectorized: no loop in Python.

    Parameters
    ----------
    X : ndarray of shape (m, n)
        One example per row.
    y : ndarray of shape (m,)
        Labels 0 or 1.
    w : ndarray of shape (n,)
        The weights.
    b : float
        The bias.

    Returns
    -------
    J : float
        The cost, the average loss.
    dw : ndarray of shape (n,)
        The derivative dJ/dw: the average of ``x_i dz_i``.
    db : float
        The derivative dJ/db: the average of ``dz_i``.

    Raises
    ------
    ValueError
        If X is not a 2-D array of finite real numbers, y not one label 0 or 1
        per row of X, w not one finite weight per column of X, or b not one
        finite number.
    """
    z, a = forward(X, w, b)
    J = cost(z, y)
    dw, db = backward(X, a, y)
    return J, dw, db


# The loops. They run on Python floats, one example (and one feature) at a time,
# with the math module's functions: NumPy's would cost more than the arithmetic.


def _sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _softplus(z):
    """log(1 + exp(z)) for a Python float, without overflow."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def _examples(X):
    """The rows of X one at a time, as lists of Python floats."""
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        for i in range(X.shape[0]):
            yield X[i].toarray().ravel().tolist()
    else:
        yield from np.asarray(X).tolist()


def _loss_and_dz(z, y):
    """Loss and dz of one example from its logits (a list: one per class).

    One logit: the sigmoid model, y in {0, 1}. Several: softmax, y a class index.
    """
    if len(z) == 1:
        # L = -(y log a + (1 - y) log(1 - a)) = log(1 + exp(z)) - y z
        return _softplus(z[0]) - y * z[0], [_sigmoid(z[0]) - y]
    z_max = max(z)
    log_sum = z_max + math.log(sum(math.exp(z_k - z_max) for z_k in z))
    return log_sum - z[y], [math.exp(z_k - log_sum) - (k == y) for k, z_k in enumerate(z)]


def _as_classes(w, b):
    """w and b as lists of rows, one per output; and whether w was one vector."""
    single = np.ndim(w) == 1
    W = np.atleast_2d(w).tolist()
    B = np.atleast_1d(b).tolist()
    return W, B, single


def _as_given(dW, dB, single):
    if single:
        return np.array(dW[0]), float(dB[0])
    return np.array(dW), np.array(dB)


def _weights(sample_weight, m):
    return [1.0] * m if sample_weight is None else np.asarray(sample_weight).tolist()


@_checks.checks_input(_checks.loops)
def cost_and_gradients_full_loops(X, y, w, b, sample_weight=None):
    """J, dw and db with two explicit loops: over the examples, and over the features.

    The lecture's code line by line: accumulators at zero, then for each
    example the forward pass (z, a), its loss added to J, and the backward pass
    (dz) added to every dw_j and to db; at the end each sum is divided by m.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (m, n)
        One example per row.
    y : ndarray of shape (m,)
        Labels 0/1 when w is a vector; class indices 0..K-1 when w has K rows.
    w : ndarray of shape (n,) or (K, n)
        One vector (sigmoid), or one per class (softmax).
    b : float or ndarray of shape (K,)
        The bias, one per row of w.
    sample_weight : ndarray of shape (m,), default=None
        Weights s_i; the sums are divided by ``S = sum_i s_i`` (m when None).

    Returns
    -------
    J : float
        The cost: the (weighted) average loss.
    dw : ndarray shaped like w
        The accumulated ``x_i dz_i``, divided by S.
    db : float or ndarray of shape (K,)
        The accumulated ``dz_i``, divided by S.

    Raises
    ------
    ValueError
        If X is not a 2-D array (or sparse matrix) of finite real numbers; w
        not of shape (n,) or (K, n), or b not one number per row of w; y not
        one label per row of X, 0 or 1 (or a class index below K when w has
        K > 1 rows); or the sample weights not finite, non-negative, one per
        example, and not all 0.
    """
    W, B, single = _as_classes(w, b)
    K, n = len(W), len(W[0])
    y, s = np.asarray(y).tolist(), _weights(sample_weight, X.shape[0])
    J = 0.0
    dW = [[0.0] * n for _ in range(K)]
    dB = [0.0] * K
    for i, x_i in enumerate(_examples(X)):
        z_i = []  # forward pass: z = w . x + b, a loop over the features
        for k in range(K):
            z = B[k]
            for j in range(n):
                z += W[k][j] * x_i[j]
            z_i.append(z)
        loss_i, dz_i = _loss_and_dz(z_i, y[i])
        J += s[i] * loss_i
        for k in range(K):  # backward pass: accumulate every dw_j and db
            for j in range(n):
                dW[k][j] += s[i] * x_i[j] * dz_i[k]
            dB[k] += s[i] * dz_i[k]
    S = math.fsum(s)
    dW = [[dw / S for dw in row] for row in dW]
    return J / S, *_as_given(dW, [db / S for db in dB], single)


@_checks.checks_input(_checks.loops)
def cost_and_gradients_examples_loop(X, y, w, b, sample_weight=None):
    """J, dw and db with one explicit loop, over the examples; features as vectors.

    The loop over features of ``cost_and_gradients_full_loops`` becomes
    ``z = w . x_i + b`` and ``dw += x_i dz_i``: the first step of vectorization.
    Parameters and returns as for ``cost_and_gradients_full_loops``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (m, n)
        One example per row.
    y : ndarray of shape (m,)
        Labels 0/1 when w is a vector; class indices 0..K-1 when w has K rows.
    w : ndarray of shape (n,) or (K, n)
        One vector (sigmoid), or one per class (softmax).
    b : float or ndarray of shape (K,)
        The bias, one per row of w.
    sample_weight : ndarray of shape (m,), default=None
        Weights s_i; the sums are divided by ``S = sum_i s_i`` (m when None).

    Returns
    -------
    J : float
        The cost: the (weighted) average loss.
    dw : ndarray shaped like w
        The accumulated ``x_i dz_i``, divided by S.
    db : float or ndarray of shape (K,)
        The accumulated ``dz_i``, divided by S.

    Raises
    ------
    ValueError
        If X is not a 2-D array (or sparse matrix) of finite real numbers; w
        not of shape (n,) or (K, n), or b not one number per row of w; y not
        one label per row of X, 0 or 1 (or a class index below K when w has
        K > 1 rows); or the sample weights not finite, non-negative, one per
        example, and not all 0.
    """
    W = np.atleast_2d(w).astype(np.float64)
    B = np.atleast_1d(b).astype(np.float64)
    y, s = np.asarray(y).tolist(), _weights(sample_weight, X.shape[0])
    J = 0.0
    dW, dB = np.zeros_like(W), np.zeros_like(B)
    for i, x_i in enumerate(_examples(X)):
        x_i = np.asarray(x_i)
        z_i = W @ x_i + B  # forward pass, all features at once
        loss_i, dz_i = _loss_and_dz(z_i.tolist(), y[i])
        J += s[i] * loss_i
        dz_i = np.asarray(dz_i)
        dW += s[i] * np.outer(dz_i, x_i)  # backward pass: dw += x_i dz_i
        dB += s[i] * dz_i
    S = math.fsum(s)
    return J / S, *_as_given((dW / S).tolist(), (dB / S).tolist(), np.ndim(w) == 1)


# The loop modes, without their input checks (``__wrapped__``): gradient_descent
# and the estimator's ``loop_mode`` check X and y once, not at every iteration.
LOOPS = {
    None: cost_and_gradients.__wrapped__,
    "examples": cost_and_gradients_examples_loop.__wrapped__,
    "full": cost_and_gradients_full_loops.__wrapped__,
}


@_checks.checks_input(_checks.gradient_descent)
def gradient_descent(X, y, learning_rate=0.1, n_iter=100, loop_mode=None):
    """Fit w and b by ``n_iter`` iterations of gradient descent from w = 0, b = 0.

    Parameters
    ----------
    X : ndarray of shape (m, n)
        One example per row.
    y : ndarray of shape (m,)
        Labels 0 or 1.
    learning_rate : float, default=0.1
        The step alpha.
    n_iter : int, default=100
        The number of iterations (updates).
    loop_mode : {None, "examples", "full"}, default=None
        How each iteration computes J and the gradients: vectorized (None), with
        a loop over the examples, or with loops over examples and features.

    Returns
    -------
    w : ndarray of shape (n,)
        The weights after ``n_iter`` updates.
    b : float
        The bias after ``n_iter`` updates.
    costs : list of float
        J at the start of each iteration: ``costs[0]`` is J at w = 0, b = 0.

    Raises
    ------
    ValueError
        If X is not a 2-D array of finite real numbers; y not one label 0 or 1
        per row of X, or only one of the two; the learning rate not a finite
        number > 0; n_iter negative; or loop_mode not one of ``LOOPS``.
    TypeError
        If the learning rate is not a real number, or n_iter not an integer.

    Warns
    -----
    ConvergenceWarning
        Once, if J went up between two iterations (``costs[k] > costs[k - 1]``)
        or stopped being finite: the learning rate is too large for this data.
    """
    w, b = np.zeros(X.shape[1]), 0.0
    costs = []
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported just below
        for _ in range(n_iter):
            J, dw, db = LOOPS[loop_mode](X, y, w, b)
            costs.append(J)
            w, b = update(w, b, dw, db, learning_rate)
    _checks.warn_about_costs(costs, w, b, learning_rate)
    return w, b, costs
