"""GDLogisticRegression on a Dask cluster, with data on disk larger than the workers' memory.

Run from the repository root (about 3 to 4 minutes on 2 cores; needs zarr, and
dask-ml for the comparison):

    python benchmarks/bench_dask.py              # --rows, --features, ... to change the size

1. writes X (float64, uncompressed Zarr, one chunk per --chunk-rows rows) and y
   to --dir (reused when it is already there with the same shape);
2. starts a LocalCluster of 2 worker processes x 1 thread, each limited to
   --memory-limit, so that the data is larger than all the workers' memory
   together: "auto" does not persist X, and every iteration reads every chunk
   from disk again (the operating system's page cache may serve the reads: see
   rchar against read_bytes below);
3. times the iterations of a fit with a constant learning rate (the median of
   --iters iterations, each one pass over the data) and counts the bytes the
   workers read per iteration; the same on a subset that "auto" persists in the
   workers' memory, and with the in-memory NumPy path on that subset and on the
   whole data (loaded into this process), whose coefficients it compares;
4. runs dask-ml's LogisticRegression(solver="gradient_descent") on the same
   arrays: its time per iteration (a fit of 1 + --daskml-iters iterations minus
   a fit of 1), and whether its C changes anything (C=1e-3 against C=1e3).

It prints a table and writes benchmarks/results/bench_dask.json. Bytes read are
the workers' /proc/<pid>/io counters: rchar counts every read() (files, page
cache included, and sockets), read_bytes what came from the device, wchar every
write() (spilling to disk would show there).
"""

import argparse
import json
import logging
import os
import platform
import shutil
import time
import warnings
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
GiB, MiB = 2**30, 2**20


def write_dataset(path, n, d, chunk_rows, seed=0):
    """X and y as Zarr arrays, chunk by chunk (never all in memory); seconds taken (0: reused)."""
    import zarr

    meta = path / "shape.txt"
    key = f"{n} {d} {chunk_rows} {seed}"
    if meta.exists() and meta.read_text() == key:
        return 0.0
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    t = time.perf_counter()
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(d) / np.sqrt(d)
    mu = rng.uniform(-1, 1, d)
    X = zarr.create_array(
        store=str(path / "X.zarr"),
        shape=(n, d),
        chunks=(chunk_rows, d),
        dtype="f8",
        compressors=None,
    )
    y = zarr.create_array(
        store=str(path / "y.zarr"), shape=(n,), chunks=(chunk_rows,), dtype="f8", compressors=None
    )
    for i, start in enumerate(range(0, n, chunk_rows)):
        r = np.random.default_rng([seed, i])  # chunk i reproducible on its own
        stop = min(start + chunk_rows, n)
        xb = r.standard_normal((stop - start, d)) + mu
        X[start:stop] = xb
        y[start:stop] = ((xb - mu) @ w + 0.5 * r.standard_normal(stop - start) > 0).astype("f8")
    meta.write_text(key)
    return time.perf_counter() - t


def io_counters(client):
    """(rchar, read_bytes, wchar) summed over the worker processes."""

    def counters():
        import psutil

        io = psutil.Process().io_counters()
        return io.read_chars, io.read_bytes, io.write_chars

    values = list(client.run(counters).values())
    return np.array([sum(v[i] for v in values) for i in range(3)], dtype=np.int64)


class IterationTimer:
    """A scikit-learn callback: the time the solver spends between iterations' ends
    (one pass over the data with a constant learning rate), and the workers' I/O."""

    def __init__(self, client=None):
        self.client, self.begin, self.end = client, [], []
        self.io = []

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name != "iteration":
            return False
        self.end.append(time.perf_counter())
        if self.client is not None:
            self.io.append(io_counters(self.client))
        self.begin.append(time.perf_counter())  # the next iteration's work starts here
        return False

    def teardown(self, estimator, context):
        pass

    def per_iteration(self):
        """Median seconds per iteration after the first, and I/O per iteration."""
        seconds = [e - b for b, e in zip(self.begin[:-1], self.end[1:])]
        io = (self.io[-1] - self.io[0]) / (len(self.io) - 1) if self.io else None
        return float(np.median(seconds)), io


def timed_fit(X, y, n_iter, client=None, **params):
    """Fit with a constant step for 1 + n_iter iterations: (estimator, s/iter, io/iter, s total)."""
    from sklearn.exceptions import ConvergenceWarning

    from sk_gdlogreg import GDLogisticRegression

    timer = IterationTimer(client)
    est = GDLogisticRegression(learning_rate=0.5, max_iter=1 + n_iter, tol=0, **params)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0: a fixed number of passes
        est.set_callbacks(timer).fit(X, y)
    total = time.perf_counter() - t
    s_iter, io = timer.per_iteration()
    return est, s_iter, io, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--iters", type=int, default=4, help="iterations timed per fit")
    parser.add_argument("--memory-limit", default="768MiB", help="per worker (2 workers)")
    parser.add_argument("--sub-chunks", type=int, default=3, help="chunks in the persisted subset")
    parser.add_argument("--daskml-iters", type=int, default=1)
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path("/tmp/sk_gdlogreg_bench_dask"),
        help="where the dataset is written",
    )
    parser.add_argument("--keep", action="store_true", help="keep the dataset on disk")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory of bench_dask.json")
    args = parser.parse_args()

    import dask
    import dask.array as da
    import distributed
    import zarr
    from dask.utils import parse_bytes
    from distributed import Client, LocalCluster

    from sk_gdlogreg._dask import _persist_plan

    t_start = time.perf_counter()
    n, d, rows = args.rows, args.features, args.chunk_rows
    nbytes = n * d * 8 + n * 8
    res = dict(
        machine=dict(
            platform=platform.platform(),
            cpus=os.cpu_count(),
            load_avg_start=os.getloadavg(),
            python=platform.python_version(),
            numpy=np.__version__,
            dask=dask.__version__,
            distributed=distributed.__version__,
            zarr=zarr.__version__,
        ),
        dataset=dict(rows=n, features=d, chunk_rows=rows, gib=nbytes / GiB, dir=str(args.dir)),
    )
    print(
        f"dataset: {n} x {d} float64 = {n * d * 8 / GiB:.2f} GiB (+ y {n * 8 / MiB:.0f} MiB), "
        f"chunks of {rows} rows ({rows * d * 8 / MiB:.0f} MiB)"
    )
    tw = write_dataset(args.dir, n, d, rows)
    print(f"written in {tw:.1f} s" if tw else "reusing the dataset", "->", args.dir)

    t = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
        memory_limit=args.memory_limit,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    workers_mem = 2 * parse_bytes(args.memory_limit)
    print(
        f"LocalCluster: 2 workers x 1 thread, memory_limit {args.memory_limit} each (the data "
        f"is {nbytes / workers_mem:.1f} x their memory), "
        f"started in {time.perf_counter() - t:.1f} s"
    )
    res["cluster"] = dict(workers=2, threads_per_worker=1, memory_limit=args.memory_limit)

    X = da.from_zarr(str(args.dir / "X.zarr"))
    y = da.from_zarr(str(args.dir / "y.zarr"))
    per_pass = X.nbytes + y.nbytes
    rows_out = []

    def row(name, s_iter, io=None, note=""):
        rows_out.append((name, s_iter, io, note))
        read = "" if io is None else f"  read {io[0] / GiB:.2f} GiB/iter (device {io[1] / GiB:.2f})"
        print(f"[{name}] {s_iter:.3f} s/iter{read} {note}")

    # ours, a subset that fits: "auto" persists it in the workers' memory (measured first,
    # while the workers' memory is fresh: "auto" counts what they use already) ---------------
    nb = min(len(X.chunks[0]), args.sub_chunks)
    m_sub = sum(X.chunks[0][:nb])
    persisted_sub = _persist_plan(X[:m_sub], (y[:m_sub],))[0]
    _, s_sub, io_sub, _ = timed_fit(X[:m_sub], y[:m_sub], args.iters, client)
    sub_mib = m_sub * (d + 1) * 8 / MiB
    how = "persisted" if persisted_sub else "from disk (does not fit)"
    row(f"ours (Dask), {m_sub} rows {how}", s_sub, io_sub, f"({sub_mib:.0f} MiB)")
    res["ours_subset"] = dict(
        rows=m_sub,
        persisted=persisted_sub,
        s_per_iter=s_sub,
        rchar_per_iter=int(io_sub[0]),
        wchar_per_iter=int(io_sub[2]),
    )

    # ours, all rows: "auto" persists only what fits, so X is read from disk at every iteration
    persisted = _persist_plan(X, (y,))[0]
    est_d, s_it, io, total = timed_fit(X, y, args.iters, client)
    row(
        "ours (Dask), all rows, " + ("persisted" if persisted else "from disk"),
        s_it,
        io,
        f"(fit of {1 + args.iters} iters: {total:.1f} s, wrote {io[2] / MiB:.0f} MiB/iter)",
    )
    res["ours_all_rows"] = dict(
        persisted=persisted,
        s_per_iter=s_it,
        fit_s=total,
        iters=1 + args.iters,
        rchar_per_iter=int(io[0]),
        read_bytes_per_iter=int(io[1]),
        wchar_per_iter=int(io[2]),
        data_bytes_per_pass=int(per_pass),
    )

    # the in-memory NumPy path ----------------------------------------------------------------
    # read with zarr, not X.compute(): through the cluster the final concatenation runs on
    # one worker, over its memory limit
    Xz = zarr.open_array(str(args.dir / "X.zarr"), mode="r")
    yz = zarr.open_array(str(args.dir / "y.zarr"), mode="r")
    _, s_np_sub, _, _ = timed_fit(Xz[:m_sub], yz[:m_sub], args.iters)
    row(f"NumPy in memory, {m_sub} rows", s_np_sub)
    res["numpy_subset"] = dict(rows=m_sub, s_per_iter=s_np_sub)
    try:
        t = time.perf_counter()
        Xn, yn = Xz[:], yz[:]
        t_load = time.perf_counter() - t
        est_n, s_np, _, _ = timed_fit(Xn, yn, args.iters)
        del Xn, yn
    except MemoryError:
        print("[NumPy in memory] the whole data does not fit in this process")
        res["numpy_full"] = None
    else:
        diff = float(np.abs(est_d.coef_ - est_n.coef_).max() / np.abs(est_n.coef_).max())
        row(
            "NumPy in memory, all rows",
            s_np,
            None,
            f"(loaded in {t_load:.1f} s; coef_ vs the Dask fit: max rel. diff {diff:.1e})",
        )
        res["numpy_full"] = dict(s_per_iter=s_np, load_s=t_load, coef_max_rel_diff_vs_dask=diff)

    # our C has an effect (the contrast to dask-ml below) ------------------------------------
    m_c = min(n, 2 * rows)
    norms = []
    for C in (1e-3, 1e3):
        est_c, _, _, _ = timed_fit(X[:m_c], y[:m_c], 19, client, C=C)
        norms.append(float(np.linalg.norm(est_c.coef_)))
    print(
        f"[ours] C=1e-3 vs C=1e3 on the first {m_c} rows, 20 iters: "
        f"|coef| = {norms[0]:.4f} vs {norms[1]:.4f}"
    )
    res["ours_C"] = {
        "rows": m_c,
        "iters": 20,
        "coef_norm_C=1e-3": norms[0],
        "coef_norm_C=1e3": norms[1],
    }

    # dask-ml ---------------------------------------------------------------------------------
    try:
        from dask_ml.linear_model import LogisticRegression
    except ImportError:
        print("dask-ml is not installed: no comparison")
        res["dask_ml"] = None
    else:
        # its sigmoid overflows in exp: the workers print RuntimeWarnings, silence them there
        client.run(warnings.filterwarnings, "ignore", category=RuntimeWarning)
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        LogisticRegression(solver="gradient_descent", max_iter=1).fit(X[:rows], y[:rows])  # warm-up
        fits, workers0 = {}, set(client.run(os.getpid).values())
        for k in (1, 1 + args.daskml_iters):
            io0 = io_counters(client)
            t = time.perf_counter()
            LogisticRegression(solver="gradient_descent", max_iter=k, tol=0).fit(X, y)
            fits[k] = (time.perf_counter() - t, io_counters(client) - io0)
        restarted = len(workers0 - set(client.run(os.getpid).values()))
        if restarted:  # the nanny kills a worker at 95% of its memory_limit, then restarts it
            print(
                f"[dask-ml gradient_descent] {restarted} worker(s) died and were restarted "
                "during these fits (their I/O counters restarted from 0)"
            )
        (t1, b1), (t2, b2) = fits[1], fits[1 + args.daskml_iters]
        s_ml, io_ml = (t2 - t1) / args.daskml_iters, (b2 - b1) / args.daskml_iters
        row(
            "dask-ml gradient_descent",
            s_ml,
            io_ml,
            f"({io_ml[0] / per_pass:.1f} x the data read, {io_ml[2] / GiB:.2f} GiB/iter spilled; "
            f"fit(max_iter=1): {t1:.1f} s)",
        )
        Xs, ys = X[:m_c].persist(), y[:m_c].persist()
        coefs = [
            LogisticRegression(solver="gradient_descent", C=C, max_iter=20).fit(Xs, ys).coef_
            for C in (1e-3, 1e3)
        ]
        c_diff = float(np.abs(coefs[0] - coefs[1]).max())
        print(
            f"[dask-ml gradient_descent] C=1e-3 vs C=1e3 on the first {m_c} rows, 20 iters: "
            f"max |coef diff| = {c_diff:.1e}, |coef| = {np.linalg.norm(coefs[0]):.4f} "
            "(C has no effect)"
        )
        res["dask_ml"] = dict(
            s_per_iter=s_ml,
            fit_1_iter_s=t1,
            workers_restarted=restarted,
            rchar_per_iter=int(io_ml[0]),
            wchar_per_iter=int(io_ml[2]),
            C_max_coef_diff=c_diff,
            coef_norm=float(np.linalg.norm(coefs[0])),
        )
        del Xs, ys

    client.close()
    cluster.close()
    if not args.keep:
        shutil.rmtree(args.dir, ignore_errors=True)
    res["total_s"] = time.perf_counter() - t_start
    res["machine"]["load_avg_end"] = os.getloadavg()

    print(f"\n{'':34s} {'s/iter':>8s} {'read/iter':>10s}  vs NumPy all rows")
    ref = res["numpy_full"]["s_per_iter"] if res.get("numpy_full") else None
    for name, s_iter, io, _ in rows_out:
        read = "" if io is None else f"{io[0] / GiB:.2f} GiB"
        ratio = "" if ref is None else f"{s_iter / ref:.1f} x"
        print(f"{name:34s} {s_iter:8.3f} {read:>10s}  {ratio:>8s}")
    print(
        f"(data: {per_pass / GiB:.2f} GiB per pass; workers' memory {workers_mem / GiB:.2f} GiB; "
        f"load average {res['machine']['load_avg_start'][0]:.1f} -> "
        f"{res['machine']['load_avg_end'][0]:.1f}; total {res['total_s']:.0f} s)"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_dask.json").write_text(json.dumps(res, indent=1))
    print(f"wrote {args.out / 'bench_dask.json'}")


if __name__ == "__main__":  # required: the workers are spawned processes that import __main__
    main()
