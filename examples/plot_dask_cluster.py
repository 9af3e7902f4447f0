"""
Fitting Dask arrays on a cluster
================================

``GDLogisticRegression`` fits Dask arrays chunk by chunk: each iteration is one
pass over the chunks of rows, each chunk sends back its share of J and of the
gradient, and the small coefficient vector stays on the client. Here a
``LocalCluster`` of 2 worker processes with 1 thread each stands in for a real
cluster (``Client("tcp://scheduler:8786")``), and the data is small so that the
example runs in seconds: Dask pays off for data that does not fit in one
machine's memory. The fit through the cluster gives the coefficients of the
NumPy fit of the same data to rounding error, and the same cost curve (drawn
with ``LossCurveDisplay``). ``predict`` on a Dask array is lazy: it returns a
Dask array, computed on the workers when asked for. The script needs
``pip install "dask[array,distributed]"`` and skips with a message without it.
"""

import importlib.util
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sk_gdlogreg import GDLogisticRegression, LossCurveDisplay

# Figures go to $SK_GDLOGREG_FIGURES, else to examples/figures/ (ignored by git).
FIGURES = Path(os.environ.get("SK_GDLOGREG_FIGURES") or Path(__file__).resolve().parent / "figures")


def main():
    import dask.array as da
    from distributed import Client, LocalCluster

    FIGURES.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
    client = Client(cluster)
    print(
        f"LocalCluster: {len(cluster.workers)} workers x 1 thread, "
        f"started in {time.perf_counter() - start:.1f} s"
    )

    # 40,000 rows in 4 chunks of 10,000 rows (with real data: da.from_zarr(...))
    rng = da.random.default_rng(0)
    X = rng.standard_normal((40_000, 10), chunks=(10_000, 10))
    y = (X[:, 0] - X[:, 1] + rng.standard_normal(40_000, chunks=10_000) > 0).astype(int)
    X, y = X.persist(), y.persist()  # generate once, keep in the workers' memory
    print(f"X: a dask.array of shape {X.shape}, in {X.numblocks[0]} chunks of rows")

    start = time.perf_counter()
    clf = GDLogisticRegression(C=1.0).fit(X, y)
    seconds = time.perf_counter() - start
    print(
        f"Dask fit: {clf.n_iter_} iterations in {seconds:.2f} s, "
        f"{1e3 * seconds / clf.n_iter_:.0f} ms per iteration (scheduling dominates here)"
    )
    print(f"coef_ is a NumPy array on the client: {np.array2string(clf.coef_[0, :3], precision=4)}")

    X_np, y_np = client.compute([X, y], sync=True)  # small here: bring it to the client
    # the same fit in NumPy: the same decisions (whitening included), the same steps
    reference = GDLogisticRegression(C=1.0).fit(X_np, y_np)
    difference = np.abs(clf.coef_ - reference.coef_).max() / np.abs(reference.coef_).max()
    print(
        f"NumPy fit of the same data: {reference.n_iter_} iterations; "
        f"largest coefficient difference {difference:.1e} (relative)"
    )

    predictions = clf.predict(X)
    print(
        f"predict(X) is lazy: a {type(predictions).__module__}.{type(predictions).__name__} "
        f"in {predictions.numblocks[0]} chunks"
    )
    print(f"training accuracy, computed on the workers: {(predictions == y).mean().compute():.3f}")

    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    LossCurveDisplay.from_estimators(
        {"Dask, 2 workers": clf, "NumPy": reference},
        ax=ax,
        curve_kwargs=[{"lw": 4, "alpha": 0.5}, {"color": "k", "ls": "--"}],
    )
    ax.set_title("Cost curves: the Dask fit and the NumPy fit coincide")
    path = FIGURES / "plot_dask_cluster.png"
    fig.savefig(path, dpi=100)
    print(f"figure saved to {path}")

    client.close()
    cluster.close()
    plt.show()


# The guard is required: the workers are processes, which import this script.
if __name__ == "__main__":
    if importlib.util.find_spec("distributed") is None:
        print('Dask is not installed: skipped (pip install "dask[array,distributed]")')
    else:
        main()
