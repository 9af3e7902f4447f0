"""Which Array API namespaces and devices this machine can really run.

A CUDA build of PyTorch installs on a machine without a GPU (pip picks it by
default on Linux), and scikit-learn's test helpers ask only whether torch was
*built* with CUDA: its checks on ``cuda`` then fail with "CUDA driver version is
insufficient". Here a device counts only if an array can be made on it.
"""

import functools
import importlib.util


@functools.cache
def usable(namespace, device=None):
    """True if ``namespace`` is installed and can hold an array on ``device``."""
    if namespace == "numpy":
        return True
    if importlib.util.find_spec(namespace) is None:
        return False
    if namespace != "torch" or device in (None, "cpu"):
        return True
    import torch

    try:
        torch.zeros(1, device=device).sum().item()  # raises where the device does not work
    except Exception:  # RuntimeError, torch.AcceleratorError, AssertionError: not usable
        return False
    return True


def check_devices(check):
    """The (namespace, device) pairs a scikit-learn Array API check will use, from its
    keyword arguments (``functools.partial``); empty for the other checks."""
    kw = getattr(check, "keywords", {})
    pairs = [tuple(kw[k]) for k in ("X_ns_and_device", "other_ns_and_device") if k in kw]
    if "array_namespace" in kw:
        pairs.append((kw["array_namespace"], kw.get("device_name")))
    return pairs
