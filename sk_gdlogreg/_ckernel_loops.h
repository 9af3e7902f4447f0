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
            UNROLL_ALL
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
            UNROLL_ALL
            for (int j = 0; j < ATANH_TERMS; j++)
                p = p * s_sq + ATANH_SERIES[j];
            double ti = tc[i];
            tc[i] = (ti > 0.0 ? ti : 0.0) + 2.0 * s * p;
            double inv = 1.0 / (1.0 + e);
            ac[i] = ti >= 0.0 ? inv : e * inv;
        }
    }
}

/* The loops for X of type T (SUF: f64 or f32), whose four values at p LOAD
 * reads as a vector of doubles. */
#define TYPED_LOOPS(SUF, T, LOAD)                                                           \
                                                                                            \
    /* z = x . w for a row x of length d: 16 partial sums in four vectors, added in a     \
     * fixed order (a last 8 values into two of them, a last 4 into a third, the rest one  \
     * by one), so that four sums are in flight while the row streams in from memory. */   \
    TARGET static inline double NAME(forward_##SUF)(const T *restrict x, Py_ssize_t d,     \
                                                    const double *restrict w)              \
    {                                                                                       \
        vec4 s0 = {0.0, 0.0, 0.0, 0.0}, s1 = s0, s2 = s0, s3 = s0;                          \
        Py_ssize_t j = 0;                                                                   \
        for (; j + 16 <= d; j += 16) {                                                      \
            s0 += LOAD(x + j) * load_f64(w + j);                                            \
            s1 += LOAD(x + j + 4) * load_f64(w + j + 4);                                    \
            s2 += LOAD(x + j + 8) * load_f64(w + j + 8);                                    \
            s3 += LOAD(x + j + 12) * load_f64(w + j + 12);                                  \
        }                                                                                   \
        if (j + 8 <= d) {                                                                   \
            s0 += LOAD(x + j) * load_f64(w + j);                                            \
            s1 += LOAD(x + j + 4) * load_f64(w + j + 4);                                    \
            j += 8;                                                                         \
        }                                                                                   \
        if (j + 4 <= d) {                                                                   \
            s2 += LOAD(x + j) * load_f64(w + j);                                            \
            j += 4;                                                                         \
        }                                                                                   \
        vec4 c = (s0 + s1) + (s2 + s3);                                                     \
        double z = (c[0] + c[1]) + (c[2] + c[3]);                                           \
        for (; j < d; j++)                                                                  \
            z += (double)x[j] * w[j];                                                       \
        return z;                                                                           \
    }                                                                                       \
                                                                                            \
    /* grad += dz[r] x_r for the R rows from x, row after row as R separate updates      \
     * would add them, with grad read and written once: BACKWARD(R) defines it. */          \
    BACKWARD(SUF, T, LOAD, 4)                                                               \
    BACKWARD(SUF, T, LOAD, 1)                                                               \
                                                                                            \
    /* The pass over the m x d rows X (q = 1 - 2y, sw the weights, w and b the           \
     * coefficients): returns J, sets *db_out, adds dW into grad. */                        \
    TARGET static double NAME(binary_##SUF)(const T *restrict X, Py_ssize_t m, Py_ssize_t d, \
                                            const double *restrict q,                      \
                                            const double *restrict sw,                     \
                                            const double *restrict w, double b,            \
                                            double *restrict grad, double *db_out)         \
    {                                                                                       \
        double t[CHUNK], a[CHUNK], dz[CHUNK], J = 0.0, db = 0.0;                            \
        for (Py_ssize_t start = 0; start < m; start += CHUNK) {                             \
            Py_ssize_t n = m - start < CHUNK ? m - start : CHUNK, i;                        \
            const T *x = X + start * d;                                                     \
            for (i = 0; i < n; i++) /* the forward pass, a row at a time */                 \
                t[i] = q[start + i] * (NAME(forward_##SUF)(x + i * d, d, w) + b);           \
            NAME(softplus_sigmoid)(t, a, n);                                                \
            for (i = 0; i < n; i++) {                                                       \
                J += sw[start + i] * t[i];                                                  \
                dz[i] = sw[start + i] * q[start + i] * a[i];                                \
                db += dz[i];                                                                \
            }                                                                               \
            for (i = 0; i + 4 <= n; i += 4) /* the backward pass, four rows at a time */    \
                NAME(backward4_##SUF)(x + i * d, d, dz + i, grad);                          \
            for (; i < n; i++)                                                              \
                NAME(backward1_##SUF)(x + i * d, d, dz + i, grad);                          \
        }                                                                                   \
        *db_out = db;                                                                       \
        return J;                                                                           \
    }

#define BACKWARD(SUF, T, LOAD, R)                                                           \
    TARGET static inline void NAME(backward##R##_##SUF)(const T *restrict x, Py_ssize_t d, \
                                                        const double *restrict dz,         \
                                                        double *restrict grad)             \
    {                                                                                       \
        Py_ssize_t j = 0;                                                                   \
        for (; j + 4 <= d; j += 4) {                                                        \
            vec4 g = load_f64(grad + j);                                                    \
            for (int r = 0; r < R; r++)                                                     \
                g += dz[r] * LOAD(x + r * d + j);                                           \
            memcpy(grad + j, &g, sizeof g);                                                 \
        }                                                                                   \
        for (; j < d; j++) {                                                                \
            double g = grad[j];                                                             \
            for (int r = 0; r < R; r++)                                                     \
                g += dz[r] * (double)x[r * d + j];                                          \
            grad[j] = g;                                                                    \
        }                                                                                   \
    }

/* The column statistics' sums over the m x d rows X: S1 += sum_i w_i (x_i - s),
 * S2 += sum_i w_i (x_i - s)^2, in float64 (see _stats._shifted_mean_std), a row
 * at a time: measured at 400,000 x 100, 1.2 reads of X, where four rows at a time
 * (four streams from memory 800 bytes apart, as in the forward pass) took 2. */
#define SHIFTED_SUMS(SUF, T, LOAD)                                                          \
    TARGET static void NAME(shifted_sums_##SUF)(const T *restrict X, Py_ssize_t m,          \
                                                Py_ssize_t d, const double *restrict w,     \
                                                const double *restrict s,                   \
                                                double *restrict S1, double *restrict S2)   \
    {                                                                                       \
        for (Py_ssize_t i = 0; i < m; i++) {                                                \
            const T *x = X + i * d;                                                         \
            Py_ssize_t j = 0;                                                               \
            for (; j + 4 <= d; j += 4) {                                                    \
                vec4 dx = LOAD(x + j) - load_f64(s + j), t = w[i] * dx;                     \
                vec4 a = load_f64(S1 + j) + t, b = load_f64(S2 + j) + t * dx;               \
                memcpy(S1 + j, &a, sizeof a);                                               \
                memcpy(S2 + j, &b, sizeof b);                                               \
            }                                                                               \
            for (; j < d; j++) {                                                            \
                double dx = (double)x[j] - s[j], t = w[i] * dx;                             \
                S1[j] += t;                                                                 \
                S2[j] += t * dx;                                                            \
            }                                                                               \
        }                                                                                   \
    }

TYPED_LOOPS(f64, double, load_f64)
TYPED_LOOPS(f32, float, load_f32)
SHIFTED_SUMS(f64, double, load_f64)
SHIFTED_SUMS(f32, float, load_f32)
#undef TYPED_LOOPS
#undef BACKWARD
#undef SHIFTED_SUMS
