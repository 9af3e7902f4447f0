"""Test-session set-up for the whole repository.

The suite runs as users run the package: SciPy's Array API mode is off. The
tests that need it (scikit-learn's Array API checks, PyTorch input) run in a
separate pytest process with ``SCIPY_ARRAY_API=1``, started by
``tests/test_array_api.py``: SciPy reads that variable once, at import.
"""

# --doctest-modules imports every module; the Dask ones need the optional Dask.
import importlib.util

collect_ignore = (
    []
    if importlib.util.find_spec("dask")
    else ["sk_gdlogreg/_dask.py", "sk_gdlogreg/_dask_stats.py", "sk_gdlogreg/_dask_predict.py"]
)
