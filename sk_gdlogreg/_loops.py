"""The same J and gradient as ``_objective.loss_grad``, with the lecture's loops.

The lecture (``shared/seeds/``) computes one step of gradient descent as::

    J = 0; dw1 = 0; dw2 = 0; db = 0
    for i in range(m):
        z_i = w1*x1_i + w2*x2_i + b           # forward pass
        a_i = sigmoid(z_i)
        J += -(y_i*log(a_i) + (1-y_i)*log(1-a_i))
        dz_i = a_i - y_i                      # backward pass
        dw1 += x1_i*dz_i; dw2 += x2_i*dz_i; db += dz_i
    J /= m; dw1 /= m; dw2 /= m; db /= m

``loss_grad_full`` is that code, with the loop over features (``dw1, dw2, ...``)
and, for more than two classes, a loop over classes written out too;
``loss_grad_examples`` keeps the loop over examples but vectorizes each example's
features. Each example is weighted by ``s_i`` and the sums are divided by
``S = sum_i s_i``, which is the lecture's ``/ m`` when every weight is 1.

They exist to teach and to measure the speed-up vectorization brings, and they
are the reference the vectorized code is tested against. Arithmetic is done on
Python floats (float64) for speed; the result is cast back to the data's dtype.
"""

import math

import numpy as np
import scipy.sparse as sp


def _softplus(z):
    # log(1 + exp(z)), written so that exp never overflows
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def _sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _rows(X):
    """Yield the rows of X one at a time, as lists of Python floats."""
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        for i in range(X.shape[0]):
            yield X[i].toarray().ravel().tolist()
    else:
        for row in X:
            yield row.tolist()


def _split(coef, fit_intercept):
    n_features = coef.shape[1] - int(fit_intercept)
    W = coef[:, :n_features].tolist()
    b = coef[:, n_features].tolist() if fit_intercept else [0.0] * coef.shape[0]
    return W, b


def _pack(dW, db, S, coef, fit_intercept):
    grad = np.empty_like(coef)
    n_features = len(dW[0])
    grad[:, :n_features] = dW
    if fit_intercept:
        grad[:, n_features] = db
    return grad / S


def loss_grad_full(X, y, sample_weight, coef, fit_intercept):
    """J and its gradient with explicit loops over examples, classes and features."""
    W, b = _split(coef, fit_intercept)
    K, n_features = len(W), len(W[0])
    y, s = y.tolist(), sample_weight.tolist()
    J = 0.0
    dW = [[0.0] * n_features for _ in range(K)]
    db = [0.0] * K
    for i, x_i in enumerate(_rows(X)):
        # forward pass: one z per output, each a loop over the features
        z_i = []
        for k in range(K):
            z = b[k]
            for j in range(n_features):
                z += W[k][j] * x_i[j]
            z_i.append(z)
        if K == 1:
            a_i = _sigmoid(z_i[0])
            # -(y log a + (1-y) log(1-a)), with log a = -softplus(-z) and
            # log(1-a) = -softplus(z): the same number, never log(0)
            log_a, log_1ma = -_softplus(-z_i[0]), -_softplus(z_i[0])
            J += -s[i] * (y[i] * log_a + (1 - y[i]) * log_1ma)
            dz_i = [a_i - y[i]]
        else:
            z_max = max(z_i)
            lse = z_max + math.log(sum(math.exp(z - z_max) for z in z_i))
            J += -s[i] * (z_i[y[i]] - lse)  # -log softmax(z)[y_i]
            dz_i = [math.exp(z - lse) - (k == y[i]) for k, z in enumerate(z_i)]
        # backward pass: accumulate every dw_kj and db_k
        for k in range(K):
            for j in range(n_features):
                dW[k][j] += s[i] * x_i[j] * dz_i[k]
            db[k] += s[i] * dz_i[k]
    S = math.fsum(s)
    return J / S, _pack(dW, db, S, coef, fit_intercept)


def loss_grad_examples(X, y, sample_weight, coef, fit_intercept):
    """J and its gradient with a loop over examples; features are vectorized."""
    n_features = X.shape[1]
    W = coef[:, :n_features].astype(np.float64)
    b = coef[:, n_features].astype(np.float64) if fit_intercept else np.zeros(len(W))
    J = 0.0
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    rows = (np.asarray(r) for r in _rows(X)) if sp.issparse(X) else X
    for i, x_i in enumerate(rows):
        x_i = x_i.astype(np.float64)
        s_i = float(sample_weight[i])
        z_i = W @ x_i + b
        if len(z_i) == 1:
            z = float(z_i[0])
            yi = float(y[i])
            J += s_i * (_softplus(z) - yi * z)  # = -(y log a + (1-y) log(1-a))
            dz_i = np.array([_sigmoid(z) - yi])
        else:
            z_i = z_i - z_i.max()
            lse = math.log(np.exp(z_i).sum())
            J += s_i * (lse - z_i[y[i]])
            dz_i = np.exp(z_i - lse)
            dz_i[y[i]] -= 1
        dW += s_i * np.outer(dz_i, x_i)
        db += s_i * dz_i
    S = math.fsum(sample_weight.tolist())
    return J / S, _pack(dW, db, S, coef, fit_intercept)


LOOP_KERNELS = {"examples": loss_grad_examples, "full": loss_grad_full}
