"""Sphinx configuration for the sklearn_ct documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from sklearn_ct import __version__  # noqa: E402

project = "sklearn_ct"
author = "The sklearn_ct developers"
release = version = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
]
autosummary_generate = True
numpydoc_show_class_members = False
templates_path = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
}
