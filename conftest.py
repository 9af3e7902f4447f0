"""Test-session set-up that must happen before anything imports SciPy.

SciPy reads SCIPY_ARRAY_API once, at import; without it scikit-learn's Array API
checks are skipped, silently. tests/test_array_api.py asserts that it took.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

# --doctest-modules imports every module; the Dask one needs the optional Dask.
import importlib.util  # noqa: E402

collect_ignore = [] if importlib.util.find_spec("dask") else ["sk_gdlogreg/_dask.py"]
