"""Sphinx configuration: pydata-sphinx-theme, numpydoc, sphinx-gallery.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import sys
from pathlib import Path

# The gallery runs examples/plot_array_api_torch.py in this process: SciPy reads this
# variable once, when it is first imported, which must not have happened yet.
os.environ["SCIPY_ARRAY_API"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
# The gallery shows the examples' figures; the copies the scripts save go here, not into
# examples/figures/ (sphinx-gallery runs them without __file__).
os.environ["SK_GDLOGREG_FIGURES"] = str(
    Path(__file__).resolve().parent / "_build" / "example_figures"
)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the package of this checkout, installed or not
sys.path.insert(0, str(HERE))  # _gallery, hooks for sphinx-gallery

import sk_gdlogreg  # noqa: E402

project = "sk_gdlogreg"
author = "the sk_gdlogreg developers"
copyright = f"2026, {author}"
release = sk_gdlogreg.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = []
exclude_patterns = ["_build", "images/README.md", "sg_execution_times.rst"]
root_doc = "index"

html_theme = "pydata_sphinx_theme"
html_title = f"sk_gdlogreg {release}"
html_theme_options = {
    "github_url": "https://github.com/sk-gdlogreg/sk_gdlogreg",
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []

autosummary_generate = False  # (numpydoc loads autosummary) no stub pages: api.rst lists all
autodoc_typehints = "none"
autodoc_default_options = {"member-order": "bysource"}
numpydoc_show_class_members = False  # the API page lists the methods it documents
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()  # tests/test_docstrings.py does the validation

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r".*\.py$",  # run every script, not only plot_*.py
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "_gallery.ExampleOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sk_gdlogreg",),
    "reset_modules": ("matplotlib", "_gallery.reset_sklearn_config"),
    "image_scrapers": ("matplotlib",),
    "abort_on_example_error": True,
}
