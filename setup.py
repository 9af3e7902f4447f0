"""The compiled loops (``sk_gdlogreg/_ckernel.c``); everything else is in pyproject.toml.

The extension is optional: where it cannot be built (no C compiler), the package
installs without it and every fit takes the NumPy pass.
"""

from setuptools import Extension, setup

kernel = Extension(
    "sk_gdlogreg._ckernel",
    ["sk_gdlogreg/_ckernel.c"],
    # no floating-point traps assumed, so that GCC turns the branches of the
    # polynomials' loops into vector selects (Clang assumes it by default)
    extra_compile_args=["-fno-trapping-math"],
    optional=True,
)
setup(ext_modules=[kernel])
