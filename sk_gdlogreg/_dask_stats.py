"""The Dask backend's statistics pass: one pass over the data before a fit.

It finds the classes and the per-class sums of the weights, the weighted column
means and standard deviations of X (per class when there are class weights,
which multiply them once the classes are known), and the flags of the checks
for NaN, infinity and negative weights, all at once: a blockwise summary per
chunk, merged by a tree reduction with Chan et al.'s formula.
"""

import dask.array as da
import numpy as np
from sklearn.utils.multiclass import check_classification_targets

from ._data import check_two_classes


def _stats_row(Xb, w):
    """[W, mean, M2] of rows Xb under weights w, in float64 (zeros if W == 0)."""
    d = Xb.shape[1]
    out = np.zeros(1 + 2 * d)
    W = float(w.sum())
    if W > 0:
        mean = (w @ Xb) / W
        out[0] = W
        out[1 : 1 + d] = mean
        diff = Xb - mean  # one temporary the size of the chunk, in float64
        out[1 + d :] = w @ np.square(diff, out=diff)
    return out


def _block_summary(Xb, yb, sb=None, *, by_class):
    """All the statistics of one chunk, in one 1-element object array.

    The classes and per-class sums of the weights; [W, mean, M2] of X, per class
    if ``by_class`` (the class weights multiply them after the pass, once the
    classes are known); the flags of the checks on X and the weights.
    """
    classes, inv = np.unique(yb, return_inverse=True)
    inv = inv.reshape(-1)
    w = np.ones(yb.shape[0]) if sb is None else sb.astype(np.float64)
    finite = bool(np.isfinite(Xb).all())
    if not (finite and np.isfinite(w).all()):
        stats = np.zeros((classes.shape[0] if by_class else 1, 1 + 2 * Xb.shape[1]))
    elif by_class:
        stats = np.zeros((classes.shape[0], 1 + 2 * Xb.shape[1]))
        for k in range(classes.shape[0]):
            rows = inv == k
            stats[k] = _stats_row(Xb[rows], w[rows])
    else:
        stats = _stats_row(Xb, w)[None, :]
    summary = {
        "by_class": by_class,
        "classes": classes,
        "counts": np.bincount(inv, weights=w, minlength=classes.shape[0]),
        "stats": stats,
        "x_nan": not finite and bool(np.isnan(Xb).any()),
        "x_inf": not finite and bool(np.isinf(Xb).any()),
        "s_nan": bool(np.isnan(w).any()),
        "s_inf": bool(np.isinf(w).any()),
        "s_neg": bool((w < 0).any()),
        "s_nonzero": bool((w != 0).any()),
    }
    out = np.empty(1, dtype=object)
    out[0] = summary
    return out


def _chan_merge(stats, groups, n_groups):
    """Merge rows [W, mean, M2] by group with Chan et al.'s formula, vectorized."""
    d = (stats.shape[1] - 1) // 2
    W, M, M2 = stats[:, 0], stats[:, 1 : 1 + d], stats[:, 1 + d :]
    out = np.zeros((n_groups, stats.shape[1]))
    Wg = np.bincount(groups, weights=W, minlength=n_groups)
    sum_wm = np.zeros((n_groups, d))
    np.add.at(sum_wm, groups, W[:, None] * M)
    mean = np.divide(sum_wm, Wg[:, None], out=np.zeros_like(sum_wm), where=Wg[:, None] > 0)
    m2 = np.zeros((n_groups, d))
    np.add.at(m2, groups, M2 + W[:, None] * np.square(M - mean[groups]))
    out[:, 0], out[:, 1 : 1 + d], out[:, 1 + d :] = Wg, mean, m2
    return out


FLAGS = ("x_nan", "x_inf", "s_nan", "s_inf", "s_neg", "s_nonzero")


def _merge_summaries(parts, axis=None, keepdims=True, **kwargs):
    """Merge chunk summaries (a node of the reduction tree)."""
    parts = list(np.ravel(parts))
    by_class = parts[0]["by_class"]
    classes = np.unique(np.concatenate([p["classes"] for p in parts]))
    counts = np.zeros(classes.shape[0])
    groups = []
    for p in parts:
        pos = np.searchsorted(classes, p["classes"])
        counts[pos] += p["counts"]
        groups.append(pos if by_class else np.zeros(1, dtype=np.intp))
    stats = _chan_merge(
        np.concatenate([p["stats"] for p in parts]),
        np.concatenate(groups).astype(np.intp),
        classes.shape[0] if by_class else 1,
    )
    merged = {k: any(p[k] for p in parts) for k in FLAGS}
    merged.update(by_class=by_class, classes=classes, counts=counts, stats=stats)
    out = np.empty(1, dtype=object)
    out[0] = merged
    return out


def summary(X, y, s, by_class):
    """The lazy statistics pass: a blockwise summary per chunk, tree-merged."""
    obj = np.empty((0,), dtype=object)
    args = [X, "ij", y, "i"] + ([] if s is None else [s, "i"])
    parts = da.blockwise(
        _block_summary,
        "i",
        *args,
        by_class=by_class,
        dtype=object,
        adjust_chunks={"i": 1},
        concatenate=True,
        meta=obj,
    )
    return da.reduction(
        parts,
        chunk=lambda x, axis, keepdims: x,
        combine=_merge_summaries,
        aggregate=_merge_summaries,
        axis=0,
        keepdims=True,
        dtype=object,
        concatenate=True,
        meta=obj,
    )


def group_stats(stats, by_class, class_weight, dtype):
    """Column means and standard deviations under the class-weighted sample weights.

    Per class, the weights are those of the pass times the class weight g_k:
    [W_k, mean_k, M2_k] becomes [g_k W_k, mean_k, g_k M2_k]; then one Chan merge.
    """
    d = (stats.shape[1] - 1) // 2
    if by_class:
        g = np.ones(stats.shape[0]) if class_weight is None else class_weight
        keep = g * stats[:, 0] > 0
        scaled = np.column_stack(
            [g[keep] * stats[keep, 0], stats[keep, 1 : 1 + d], g[keep, None] * stats[keep, 1 + d :]]
        )
        stats = _chan_merge(scaled, np.zeros(scaled.shape[0], dtype=np.intp), 1)
    W, mean, m2 = stats[0, 0], stats[0, 1 : 1 + d], stats[0, 1 + d :]
    return mean.astype(dtype), np.sqrt(m2 / W).astype(dtype)


def check_summary(name, summary, dtype):
    """The errors of the in-memory path, in its order, from the statistics."""
    finfo = f"dtype({np.dtype(dtype).name!r})"
    if summary["x_nan"]:
        raise ValueError(f"Input X contains NaN. {name} does not accept NaN.")
    if summary["x_inf"]:
        raise ValueError(f"Input X contains infinity or a value too large for {finfo}.")
    classes = summary["classes"]
    if classes.dtype.kind == "f" and not np.isfinite(classes).all():
        what = "NaN" if np.isnan(classes).any() else "infinity"
        raise ValueError(f"Input y contains {what}.")
    check_classification_targets(classes)  # the type of target is that of its values
    check_two_classes(classes)
    if summary["s_nan"]:
        raise ValueError("Input sample_weight contains NaN.")
    if summary["s_inf"]:
        raise ValueError(f"Input sample_weight contains infinity or a value too large for {finfo}.")
    if not summary["s_nonzero"]:
        raise ValueError("Sample weights must contain at least one non-zero number.")
    if summary["s_neg"]:
        raise ValueError("Negative values in data passed to `sample_weight`.")
