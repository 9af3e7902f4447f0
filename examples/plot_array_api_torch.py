"""
PyTorch tensors through the Array API (on a GPU when there is one)
==================================================================

With scikit-learn's Array API dispatch on, ``GDLogisticRegression`` fits PyTorch
tensors where they are: on a GPU when there is one (here on the CPU otherwise),
and returns tensors on the same device: ``coef_``, ``predict_proba``. The whole
optimization runs in PyTorch; only a few scalars per iteration (J, the stopping
test) cross to the host. SciPy must be told before it is first imported, with
the environment variable ``SCIPY_ARRAY_API=1``. The fit equals the NumPy fit of
the same data to float32 rounding error, and so do the cost curves. The script
needs ``pip install torch`` and skips with a message without it.
"""

import os

os.environ["SCIPY_ARRAY_API"] = "1"  # before anything imports SciPy

import importlib.util
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.datasets import make_classification

from sk_gdlogreg import GDLogisticRegression, LossCurveDisplay

# Figures go to $SK_GDLOGREG_FIGURES, else to examples/figures/ (ignored by git).
FIGURES = Path(os.environ.get("SK_GDLOGREG_FIGURES") or Path(__file__).resolve().parent / "figures")
FIGURES.mkdir(parents=True, exist_ok=True)

if importlib.util.find_spec("torch") is None:
    print("PyTorch is not installed: skipped (pip install torch)")
else:
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    # no redundant features: with exact linear dependencies between features the
    # minimizer is not unique, and float32 rounding (NumPy's or PyTorch's) would
    # choose among the equivalent coefficients
    X_np, y_np = make_classification(
        n_samples=20_000, n_features=50, n_informative=10, n_redundant=0, random_state=0
    )
    X_np = X_np.astype(np.float32)
    X = torch.asarray(X_np, device=device)
    y = torch.asarray(y_np, device=device)
    print(f"PyTorch {torch.__version__}, device {device!r}; X: {X.dtype}, shape {tuple(X.shape)}")

    sklearn.set_config(array_api_dispatch=True)
    try:
        start = time.perf_counter()
        clf = GDLogisticRegression().fit(X, y)
        seconds = time.perf_counter() - start
        proba = clf.predict_proba(X)
    finally:
        sklearn.set_config(array_api_dispatch=False)
    print(f"fit on {device}: {clf.n_iter_} iterations in {seconds:.2f} s")
    print(
        f"coef_: {type(clf.coef_).__module__}.{type(clf.coef_).__name__}, "
        f"{clf.coef_.dtype}, device {clf.coef_.device}"
    )
    print(f"predict_proba(X): {type(proba).__name__}, device {proba.device}")

    # The same fit in NumPy: the same decisions (whitening included), the same steps.
    reference = GDLogisticRegression().fit(X_np, y_np)
    coef_diff = np.abs(clf.coef_.cpu().numpy() - reference.coef_).max()
    proba_diff = np.abs(proba.cpu().numpy() - reference.predict_proba(X_np)).max()
    print(
        f"NumPy fit of the same float32 data: {reference.n_iter_} iterations; largest "
        f"difference in a coefficient {coef_diff:.1e}, in a probability {proba_diff:.1e}"
    )

    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    LossCurveDisplay.from_estimators(
        {f"PyTorch on {device}": clf, "NumPy": reference},
        ax=ax,
        curve_kwargs=[{"lw": 4, "alpha": 0.5}, {"color": "k", "ls": "--"}],
    )
    ax.set_title("Cost curves: the PyTorch fit and the NumPy fit coincide")
    path = FIGURES / "plot_array_api_torch.png"
    fig.savefig(path, dpi=100)
    print(f"figure saved to {path}")
    plt.show()
