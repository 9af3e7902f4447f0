"""A fit on a GPU through scikit-learn's Array API dispatch, against NumPy on the CPU.

Needs PyTorch with CUDA (or CuPy: ``--namespace cupy``) and a GPU:

    python benchmarks/bench_gpu.py              # 1,000,000 x 100 float32

It times, on the same data: a fit on the GPU (torch tensors, the whole loop on
the device), the same fit with NumPy on the CPU, and the per-iteration cost of
each (a constant learning rate, a fixed number of iterations), checks that the
two fits agree, and writes benchmarks/results/bench_gpu.json.
"""

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before SciPy is imported

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sk_gdlogreg import GDLogisticRegression  # noqa: E402


def timed_fit(make_clf, X, y, sync, repeat=3):
    """Best wall time of ``repeat`` fits, with the device synchronized around each."""
    best, clf = np.inf, None
    for _ in range(repeat):
        clf = make_clf()
        sync()
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        sync()
        best = min(best, time.perf_counter() - t)
    return best, clf


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()

    import torch

    X, y = make_classification(args.m, args.d, n_informative=30, random_state=0)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    X_gpu, y_gpu = torch.asarray(X, device="cuda"), torch.asarray(y, device="cuda")
    cuda_sync, no_sync = torch.cuda.synchronize, lambda: None
    settings = {
        "default (auto steps, tol=1e-4)": dict(),
        "100 iterations, learning_rate=1": dict(learning_rate=1.0, tol=0, max_iter=100),
    }
    rows = []
    for name, params in settings.items():
        t_cpu, cpu = timed_fit(lambda: GDLogisticRegression(**params), X, y, no_sync)
        with sklearn.config_context(array_api_dispatch=True):
            timed_fit(lambda: GDLogisticRegression(**params), X_gpu, y_gpu, cuda_sync, 1)  # warm-up
            t_gpu, gpu = timed_fit(lambda: GDLogisticRegression(**params), X_gpu, y_gpu, cuda_sync)
        assert gpu.coef_.device.type == "cuda"
        diff = float(np.abs(gpu.coef_.cpu().numpy() - cpu.coef_).max())
        rows.append(
            dict(
                setting=name,
                numpy_cpu_s=t_cpu,
                cpu_iter=cpu.n_iter_,
                torch_gpu_s=t_gpu,
                gpu_iter=gpu.n_iter_,
                speedup=t_cpu / t_gpu,
                max_coef_diff=diff,
            )
        )
    info = dict(
        gpu=torch.cuda.get_device_name(),
        torch=torch.__version__,
        sklearn=sklearn.__version__,
        numpy=np.__version__,
        cpu_count=os.cpu_count(),
        platform=platform.platform(),
        shape=[args.m, args.d],
        dtype="float32",
    )
    print(
        f"{args.m} x {args.d} float32 on {info['gpu']} (torch {info['torch']}) against NumPy "
        f"{info['numpy']} on {info['cpu_count']} CPU cores, best of 3 fits"
    )
    print(
        f"{'setting':34} {'NumPy CPU s':>11} {'iter':>5} {'torch GPU s':>11} {'iter':>5} "
        f"{'speed-up':>9} {'max |coef diff|':>15}"
    )
    for r in rows:
        print(
            f"{r['setting']:34} {r['numpy_cpu_s']:11.3f} {r['cpu_iter']:5d} "
            f"{r['torch_gpu_s']:11.3f} "
            f"{r['gpu_iter']:5d} {r['speedup']:8.1f}x {r['max_coef_diff']:15.1e}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_gpu.json").write_text(json.dumps(dict(machine=info, rows=rows), indent=1))


if __name__ == "__main__":
    main()
