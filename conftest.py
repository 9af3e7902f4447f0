"""Test-session set-up that must happen before anything imports SciPy.

SciPy reads SCIPY_ARRAY_API once, at import; without it scikit-learn's Array API
checks are skipped, silently. tests/test_array_api.py asserts that it took.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")
