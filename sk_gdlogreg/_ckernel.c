/* The binary model's pass over dense X, compiled.
 *
 * A C extension built by ``pip install .`` (setuptools; optional: where it
 * cannot be built, the NumPy pass runs instead). ``_kernel.py`` is its Python
 * face and says what it computes; this file is the arithmetic:
 *
 *   z_i = x_i . w + b, t_i = q_i z_i (q_i = 1 - 2 y_i = +-1)
 *   J += sw_i softplus(t_i), dz_i = sw_i q_i sigmoid(t_i), dW += dz_i x_i, db += dz_i
 *
 * in chunks of CHUNK rows: their logits, then their losses and sigmoids at
 * once (exp and log1p as polynomials, in loops the compiler runs on vectors of
 * rows), then their share of the gradient while the rows are still in the
 * cache. So X is read once from memory, and nothing the size of X's rows is
 * allocated. Sums are in double whatever X's type. The GIL is released while
 * the loops run, so that threads over blocks of rows run at once.
 *
 * Only IEEE arithmetic: no reassociation (a dot product keeps 16 partial sums
 * in four vectors, added in a fixed order), no assumption that values are
 * finite: an overflow gives inf or NaN, as NumPy's pass does. setup.py
 * compiles it with -fno-trapping-math, GCC's promise that no program traps on
 * floating-point exceptions (Clang's default), without which GCC keeps the
 * branches of the polynomials' loops and runs them one row at a time; the
 * results are the same IEEE operations either way.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if !defined(__GNUC__) && !defined(__clang__)
#error "the loops use GCC's and Clang's vector extensions: the NumPy pass runs instead"
#endif

#define CHUNK 16

/* Four doubles, which the compiler maps to the instruction set's vectors (two
 * SSE2 registers, or one AVX2), and loads of four values, aligned or not. */
typedef double vec4 __attribute__((vector_size(32)));
typedef float vec4f __attribute__((vector_size(16)));
#define load_f64(p) ({ vec4 v_; memcpy(&v_, (p), sizeof v_); v_; })
#define load_f32(p) ({ vec4f v_; memcpy(&v_, (p), sizeof v_); __builtin_convertvector(v_, vec4); })

/* The polynomials' loops unrolled whole, so that their loops over rows are
 * compiled to vectors (GCC unrolls at most 16 steps by itself). */
#define UNROLL_ALL _Pragma("GCC unroll 32")

/* The hot loops are compiled for the baseline instruction set (SSE2 on x86-64)
 * and, where GCC or Clang builds for x86-64, once more for AVX2 with FMA, which
 * the module picks when it loads if the CPU has them: four doubles per vector
 * instead of two (measured: the pass 1.26 to 1.63 times faster on this
 * project's AMD EPYC VM). */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define AVX2_LOOPS 1
#endif

/* exp(x) = 2^k exp(r), k = round(x / ln 2), |r| <= ln(2) / 2 (Cody and Waite's
 * reduction; ln 2 in two parts, so that k * LN2_HI is exact). */
static const double LOG2E = 1.4426950408889634;
static const double LN2_HI = 0.6931471803691238;
static const double LN2_LO = 1.9082149292705877e-10;
/* x + 1.5 * 2^52 rounds x to an integer, which the float's lowest bits then hold. */
static const double ROUND = 6755399441055744.0;
/* Horner's coefficients, highest power first: exp(r) ~ sum r^j / j!, j <= 13;
 * log1p(e) = 2 s sum s^(2j) / (2j + 1), j <= 18 (filled in by the module's init). */
#define EXP_TERMS 14
#define ATANH_TERMS 19
static double EXP_TAYLOR[EXP_TERMS];
static double ATANH_SERIES[ATANH_TERMS];

#define NAME(x) x
#define TARGET
#include "_ckernel_loops.h"
#undef NAME
#undef TARGET
#ifdef AVX2_LOOPS
#define NAME(x) x##_avx2
#define TARGET __attribute__((target("avx2,fma")))
#include "_ckernel_loops.h"
#undef NAME
#undef TARGET
#endif

typedef double (*pass_f64)(const double *, Py_ssize_t, Py_ssize_t, const double *,
                           const double *, const double *, double, double *, double *);
typedef double (*pass_f32)(const float *, Py_ssize_t, Py_ssize_t, const double *,
                           const double *, const double *, double, double *, double *);
typedef void (*softplus_fn)(double *, double *, Py_ssize_t);
typedef void (*sums_f64)(const double *, Py_ssize_t, Py_ssize_t, const double *, const double *,
                         double *, double *);
typedef void (*sums_f32)(const float *, Py_ssize_t, Py_ssize_t, const double *, const double *,
                         double *, double *);
static pass_f64 run_f64 = binary_f64;
static pass_f32 run_f32 = binary_f32;
static softplus_fn run_softplus = softplus_sigmoid;
static sums_f64 run_sums_f64 = shifted_sums_f64;
static sums_f32 run_sums_f32 = shifted_sums_f32;

/* --- Python's side: buffers checked, then the loops without the GIL. --- */

typedef struct {
    Py_buffer views[8];
    int n;
} Buffers;

static void release(Buffers *bufs)
{
    for (int i = 0; i < bufs->n; i++)
        PyBuffer_Release(&bufs->views[i]);
    bufs->n = 0;
}

/* A C-contiguous buffer of ``ndim`` dimensions holding 'd' (or 'f' where
 * allow_float is set) values, writable if asked; NULL with an exception set. */
static Py_buffer *get(Buffers *bufs, PyObject *obj, const char *name, int ndim, int writable,
                      int allow_float)
{
    Py_buffer *view = &bufs->views[bufs->n];
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0)
        return NULL;
    bufs->n++;
    const char *f = view->format;
    if (f[0] == '@' || f[0] == '=' || f[0] == (PY_LITTLE_ENDIAN ? '<' : '>'))
        f++; /* native byte order, said explicitly */
    int ok_format = strcmp(f, "d") == 0 || (allow_float && strcmp(f, "f") == 0);
    if (view->ndim != ndim || !ok_format) {
        PyErr_Format(PyExc_ValueError, "%s: a C-contiguous %d-d array of %s expected", name,
                     ndim, allow_float ? "float64 or float32" : "float64");
        return NULL;
    }
    return view;
}

static Py_ssize_t length(Py_buffer *view) { return view->ndim ? view->shape[0] : 1; }

/* binary(X, q, sw, w, b, rows, first, last, J, db, G): for each block i of ``rows``
 * rows of X with first <= i < last, that block's J into J[i], db into db[i] and
 * dW into the row G[i] (set, not added to). One call runs many blocks, so that
 * the blocks threads share cost no Python work each. */
static PyObject *py_binary(PyObject *self, PyObject *args)
{
    PyObject *oX, *oq, *osw, *ow, *oJ, *odb, *oG;
    double b;
    Py_ssize_t rows, first, last;
    if (!PyArg_ParseTuple(args, "OOOOdnnnOOO", &oX, &oq, &osw, &ow, &b, &rows, &first, &last,
                          &oJ, &odb, &oG))
        return NULL;
    Buffers bufs = {.n = 0};
    Py_buffer *X = get(&bufs, oX, "X", 2, 0, 1), *q = NULL, *sw = NULL, *w = NULL, *J = NULL,
              *db = NULL, *G = NULL;
    if (X && (q = get(&bufs, oq, "q", 1, 0, 0)) && (sw = get(&bufs, osw, "sw", 1, 0, 0))
        && (w = get(&bufs, ow, "w", 1, 0, 0)) && (J = get(&bufs, oJ, "J", 1, 1, 0))
        && (db = get(&bufs, odb, "db", 1, 1, 0)) && (G = get(&bufs, oG, "G", 2, 1, 0))) {
        Py_ssize_t m = X->shape[0], d = X->shape[1];
        Py_ssize_t count = rows > 0 ? (m + rows - 1) / rows : 0;
        if (length(q) != m || length(sw) != m || length(w) != d) {
            PyErr_SetString(PyExc_ValueError, "binary: the arrays' lengths do not match X");
            G = NULL;
        } else if (rows <= 0 || first < 0 || last > count || first > last
                   || length(J) != count || length(db) != count || G->shape[0] != count
                   || G->shape[1] != d) {
            PyErr_SetString(PyExc_ValueError, "binary: the blocks do not match X");
            G = NULL;
        }
    }
    if (!G) {
        release(&bufs);
        return NULL;
    }
    Py_ssize_t m = X->shape[0], d = X->shape[1];
    double *Jb = J->buf, *dbb = db->buf, *Gb = G->buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = first; i < last; i++) {
        Py_ssize_t start = i * rows, n = m - start < rows ? m - start : rows;
        double *grad = Gb + i * d;
        memset(grad, 0, d * sizeof(double));
        if (X->itemsize == 8)
            Jb[i] = run_f64((const double *)X->buf + start * d, n, d, (const double *)q->buf + start,
                            (const double *)sw->buf + start, w->buf, b, grad, dbb + i);
        else
            Jb[i] = run_f32((const float *)X->buf + start * d, n, d, (const double *)q->buf + start,
                            (const double *)sw->buf + start, w->buf, b, grad, dbb + i);
    }
    Py_END_ALLOW_THREADS
    release(&bufs);
    Py_RETURN_NONE;
}

static PyObject *py_softplus_sigmoid(PyObject *self, PyObject *args)
{
    PyObject *ot, *oa;
    if (!PyArg_ParseTuple(args, "OO", &ot, &oa))
        return NULL;
    Buffers bufs = {.n = 0};
    Py_buffer *t = get(&bufs, ot, "t", 1, 1, 0), *a = NULL;
    if (t && (a = get(&bufs, oa, "a", 1, 1, 0)) && length(a) != length(t)) {
        PyErr_SetString(PyExc_ValueError, "softplus_sigmoid: t and a differ in length");
        a = NULL;
    }
    if (!a) {
        release(&bufs);
        return NULL;
    }
    run_softplus(t->buf, a->buf, length(t));
    release(&bufs);
    Py_RETURN_NONE;
}

/* shifted_sums(X, w, s, S1, S2): adds sum_i w_i (x_i - s) into S1 and
 * sum_i w_i (x_i - s)^2 into S2 (the column statistics, _stats.py). */
static PyObject *py_shifted_sums(PyObject *self, PyObject *args)
{
    PyObject *oX, *ow, *os, *oS1, *oS2;
    if (!PyArg_ParseTuple(args, "OOOOO", &oX, &ow, &os, &oS1, &oS2))
        return NULL;
    Buffers bufs = {.n = 0};
    Py_buffer *X = get(&bufs, oX, "X", 2, 0, 1), *w = NULL, *sh = NULL, *S1 = NULL, *S2 = NULL;
    if (X && (w = get(&bufs, ow, "w", 1, 0, 0)) && (sh = get(&bufs, os, "s", 1, 0, 0))
        && (S1 = get(&bufs, oS1, "S1", 1, 1, 0)) && (S2 = get(&bufs, oS2, "S2", 1, 1, 0))) {
        Py_ssize_t m = X->shape[0], d = X->shape[1];
        if (length(w) != m || length(sh) != d || length(S1) != d || length(S2) != d) {
            PyErr_SetString(PyExc_ValueError, "shifted_sums: the arrays' lengths do not match X");
            S2 = NULL;
        }
    }
    if (!S2) {
        release(&bufs);
        return NULL;
    }
    Py_ssize_t m = X->shape[0], d = X->shape[1];
    Py_BEGIN_ALLOW_THREADS
    if (X->itemsize == 8)
        run_sums_f64(X->buf, m, d, w->buf, sh->buf, S1->buf, S2->buf);
    else
        run_sums_f32(X->buf, m, d, w->buf, sh->buf, S1->buf, S2->buf);
    Py_END_ALLOW_THREADS
    release(&bufs);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"binary", py_binary, METH_VARARGS,
     "binary(X, q, sw, w, b, rows, first, last, J, db, G): the blocks' J, db and dW"},
    {"shifted_sums", py_shifted_sums, METH_VARARGS,
     "shifted_sums(X, w, s, S1, S2): adds the column statistics' sums of X into S1, S2"},
    {"softplus_sigmoid", py_softplus_sigmoid, METH_VARARGS,
     "softplus_sigmoid(t, a): t := softplus(t), a := sigmoid(t), in place"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_ckernel", "The compiled loops of _kernel.py.", -1, methods,
};

PyMODINIT_FUNC PyInit__ckernel(void)
{
    double factorial = 1.0;
    for (int j = 1; j < EXP_TERMS; j++)
        factorial *= j; /* 13! is exact in a double */
    for (int j = EXP_TERMS - 1; j >= 0; j--) { /* 1/j!, highest power first */
        EXP_TAYLOR[EXP_TERMS - 1 - j] = 1.0 / factorial;
        factorial = j > 0 ? factorial / j : 1.0;
    }
    for (int j = 0; j < ATANH_TERMS; j++) /* 1/37, 1/35, ..., 1 */
        ATANH_SERIES[j] = 1.0 / (2 * (ATANH_TERMS - 1 - j) + 1);
#ifdef AVX2_LOOPS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        run_f64 = binary_f64_avx2;
        run_f32 = binary_f32_avx2;
        run_softplus = softplus_sigmoid_avx2;
        run_sums_f64 = shifted_sums_f64_avx2;
        run_sums_f32 = shifted_sums_f32_avx2;
    }
#endif
    return PyModule_Create(&module);
}
