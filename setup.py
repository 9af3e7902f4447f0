"""The compiled loops (``sk_gdlogreg/_ckernel.c``); everything else is in pyproject.toml.

The extension is optional: where it cannot be built (no C compiler), the package
installs without it and every fit takes the NumPy pass.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("sk_gdlogreg._ckernel", ["sk_gdlogreg/_ckernel.c"], optional=True)])
