"""The Dask backend's statistics pass: one pass over the data before a fit.

It finds the classes and the per-class sums of the weights, the weighted column
means and standard deviations of X (per class when there are class weights,
which multiply them once the classes are known), and the flags of the checks
for NaN, infinity and negative weights, all at once: a blockwise summary per
chunk, merged by a tree reduction. The statistics of a chunk and their merge
are those of in-memory data (``_stats.py``): on columns scaled by their size,
so that data in any units (1e160 or 1e-300) gives finite statistics.
"""

import dask.array as da
import numpy as np
from sklearn.utils.multiclass import check_classification_targets

from ._data import check_two_classes
from ._stats import Stats, block_stats, mean_std, merge_stats


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
    if not (finite and np.isfinite(w).all()):  # an error follows: no statistics
        stats = [None] * (classes.shape[0] if by_class else 1)
    elif by_class:
        stats = [block_stats(Xb[inv == k], w[inv == k]) for k in range(classes.shape[0])]
    else:
        stats = [block_stats(Xb, w)]
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


FLAGS = ("x_nan", "x_inf", "s_nan", "s_inf", "s_neg", "s_nonzero")


def _merge_summaries(parts, axis=None, keepdims=True, **kwargs):
    """Merge chunk summaries (a node of the reduction tree)."""
    parts = list(np.ravel(parts))
    by_class = parts[0]["by_class"]
    classes = np.unique(np.concatenate([p["classes"] for p in parts]))
    counts = np.zeros(classes.shape[0])
    groups = [[] for _ in range(classes.shape[0] if by_class else 1)]
    for p in parts:
        pos = np.searchsorted(classes, p["classes"])
        counts[pos] += p["counts"]
        for k, stats in zip(pos if by_class else [0], p["stats"]):
            groups[k].append(stats)
    stats = [_merged(group) for group in groups]
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


def _merged(group):
    return None if all(p is None for p in group) else merge_stats(group)


def group_stats(stats, by_class, class_weight, dtype):
    """Column means and standard deviations under the class-weighted sample weights.

    Per class, the weights are those of the pass times the class weight g_k:
    (W_k, mean_k, M2_k) becomes (g_k W_k, mean_k, g_k M2_k); then one merge.
    """
    if by_class:
        g = np.ones(len(stats)) if class_weight is None else class_weight
        stats = [
            Stats(g_k * p.W, p.mean, g_k * p.M2, p.c)
            for g_k, p in zip(g, stats)
            if p is not None and g_k * p.W > 0
        ]
    mean, std = mean_std(merge_stats(stats))
    return mean.astype(dtype), std.astype(dtype)


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
