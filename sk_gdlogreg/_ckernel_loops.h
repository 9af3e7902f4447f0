/* The hot loops of _ckernel.c, included there once per instruction set:
 * NAME(x) is x with the set's suffix, TARGET the set's function attribute. */

/* In place, for i < n: t[i] := softplus(t[i]), a[i] := sigmoid(t[i]).
 * From e = exp(-|t|) in (0, 1]: 2^k times the Taylor polynomial of exp(r)
 * (2^k built from its bits, as two factors 2^(k/2), each a normal float down to
 * the underflow of exp), and log1p(e) = 2 atanh(s), s = e / (2 + e) <= 1/3. */
TARGET
static void NAME(softplus_sigmoid)(double *restrict t, double *restrict a, Py_ssize_t n)
{
    uint64_t bits1[CHUNK], bits2[CHUNK];
    for (Py_ssize_t start = 0; start < n; start += CHUNK) {
        Py_ssize_t len = n - start < CHUNK ? n - start : CHUNK;
        double *tc = t + start, *ac = a + start;
        for (Py_ssize_t i = 0; i < len; i++) {
            double x = -fabs(tc[i]);
            x = x < -1080.0 ? -1080.0 : x;          /* exp is 0 below; NaN passes */
            double k = (x * LOG2E + ROUND) - ROUND;  /* round(x / ln 2) */
            double k1 = k * 0.5 + ROUND;            /* round(k / 2), in the low bits */
            double k2 = (k - (k1 - ROUND)) + ROUND; /* k - round(k / 2) */
            memcpy(&bits1[i], &k1, 8);
            memcpy(&bits2[i], &k2, 8);
            double r = (x - k * LN2_HI) - k * LN2_LO;
            double p = 0.0;
            for (int j = 0; j < EXP_TERMS; j++)
                p = p * r + EXP_TAYLOR[j];
            ac[i] = p;
        }
        for (Py_ssize_t i = 0; i < len; i++) { /* the integers k/2 into 2^(k/2) */
            bits1[i] = (bits1[i] << 52) + ((uint64_t)1023 << 52);
            bits2[i] = (bits2[i] << 52) + ((uint64_t)1023 << 52);
        }
        for (Py_ssize_t i = 0; i < len; i++) {
            double s1, s2;
            memcpy(&s1, &bits1[i], 8);
            memcpy(&s2, &bits2[i], 8);
            double e = ac[i] * s1 * s2;
            double s = e / (2.0 + e);
            double s_sq = s * s;
            double p = 0.0;
            for (int j = 0; j < ATANH_TERMS; j++)
                p = p * s_sq + ATANH_SERIES[j];
            double ti = tc[i];
            tc[i] = (ti > 0.0 ? ti : 0.0) + 2.0 * s * p;
            double inv = 1.0 / (1.0 + e);
            ac[i] = ti >= 0.0 ? inv : e * inv;
        }
    }
}

/* The pass over the m x d rows X of type T (q = 1 - 2y, sw the weights, w and b
 * the coefficients): returns J, sets *db_out, adds dW into grad. */
#define BINARY_PASS(FUNC, T)                                                                \
    TARGET                                                                                  \
    static double FUNC(const T *restrict X, Py_ssize_t m, Py_ssize_t d,                    \
                       const double *restrict q, const double *restrict sw,                 \
                       const double *restrict w, double b, double *restrict grad,           \
                       double *db_out)                                                      \
    {                                                                                       \
        double t[CHUNK], a[CHUNK], J = 0.0, db = 0.0;                                       \
        Py_ssize_t d8 = d - d % LANES;                                                      \
        for (Py_ssize_t start = 0; start < m; start += CHUNK) {                             \
            Py_ssize_t n = m - start < CHUNK ? m - start : CHUNK;                           \
            for (Py_ssize_t i = 0; i < n; i++) { /* the forward pass: LANES partial sums */ \
                const T *x = X + (start + i) * d;                                           \
                double s[LANES] = {0.0};                                                    \
                for (Py_ssize_t j = 0; j < d8; j += LANES)                                  \
                    for (int k = 0; k < LANES; k++)                                         \
                        s[k] += (double)x[j + k] * w[j + k];                                \
                double z = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])); \
                for (Py_ssize_t j = d8; j < d; j++)                                         \
                    z += (double)x[j] * w[j];                                               \
                t[i] = q[start + i] * (z + b);                                              \
            }                                                                               \
            NAME(softplus_sigmoid)(t, a, n);                                                \
            for (Py_ssize_t i = 0; i < n; i++) { /* the backward pass */                    \
                Py_ssize_t r = start + i;                                                   \
                const T *x = X + r * d;                                                     \
                J += sw[r] * t[i];                                                          \
                double dz = sw[r] * q[r] * a[i];                                            \
                for (Py_ssize_t j = 0; j < d; j++)                                          \
                    grad[j] += dz * (double)x[j];                                           \
                db += dz;                                                                   \
            }                                                                               \
        }                                                                                   \
        *db_out = db;                                                                       \
        return J;                                                                           \
    }

BINARY_PASS(NAME(binary_f64), double)
BINARY_PASS(NAME(binary_f32), float)
#undef BINARY_PASS
