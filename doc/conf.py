"""Sphinx configuration for the sklearn_ct documentation.

Build with ``bash .ci/build-docs`` (warnings are errors). The build is offline: nothing is
fetched (no intersphinx inventories), and the examples gallery runs every script in
``examples/`` in quick mode (``SKLEARN_CT_EXAMPLE_QUICK=1``).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import re
import sys
from pathlib import Path

# Examples run at build time, small and headless. These must be set before anything
# imports matplotlib or torch.
os.environ["SKLEARN_CT_EXAMPLE_QUICK"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")

DOC_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(DOC_DIR.parent))

import torch  # noqa: E402

from sklearn_ct import __version__  # noqa: E402

# The examples train small networks: one thread is faster than several fighting over the
# cores of a small machine (the build targets 2-core CI machines).
torch.set_num_threads(1)

project = "sklearn_ct"
author = "The sklearn_ct developers"
copyright = "The sklearn_ct developers, BSD 3-Clause License"
release = version = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
# No intersphinx: the build must work without network access, and intersphinx fetches
# the inventories of other projects. References to scikit-learn, numpy or torch objects
# in docstrings therefore render as plain code (not links), which Sphinx does not warn
# about unless nitpicky mode is on.

templates_path = ["_templates"]
exclude_patterns = ["_build", "_templates"]
root_doc = "index"
default_role = "literal"  # `x` in docstrings renders as code, as in scikit-learn

# -- autodoc / autosummary / numpydoc ----------------------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- sphinx-gallery ----------------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": str(DOC_DIR.parent / "examples"),
    "gallery_dirs": "auto_examples",
    # Execute every example (not only plot_*.py) so that none can rot.
    "filename_pattern": r"\.py$",
    "ignore_pattern": r"__init__\.py",
    "plot_gallery": "True",
    # Link the code of the examples to the API reference of this package only (other
    # packages would need their inventories fetched).
    "doc_module": ("sklearn_ct",),
    "reference_url": {"sklearn_ct": None},
    "backreferences_dir": "generated/backreferences",
    "min_reported_time": 1,
    "remove_config_comments": True,
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    # Timings are printed in the build log; no sg_execution_times.rst in the source tree.
    "write_computation_times": False,
}

# -- HTML --------------------------------------------------------------------------------

try:
    import pydata_sphinx_theme  # noqa: F401
except ImportError:  # pragma: no cover - the doc extra installs it
    html_theme = "alabaster"
else:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
        "secondary_sidebar_items": ["page-toc", "sourcelink"],
    }
html_title = f"sklearn_ct {version}"
html_static_path = []
html_show_sourcelink = True

# -- consistency check: every public name is in the API reference -----------------------

PUBLIC_MODULES = ["sklearn_ct", "sklearn_ct.callbacks", "sklearn_ct.explainers",
                  "sklearn_ct.generators", "sklearn_ct.metrics", "sklearn_ct.datasets",
                  "sklearn_ct.inspection"]
_SKIP = {"sklearn_ct": {"__version__", "callbacks", "generators"}}


def _check_api_reference(app):
    """Warn (an error under ``-W``) about public objects missing from ``api.rst``.

    An object re-exported by several modules (e.g. ``sklearn_ct.CounterfactualExplainer``
    and ``sklearn_ct.explainers.CounterfactualExplainer``) needs to be documented once.
    """
    import importlib

    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    text = (DOC_DIR / "api.rst").read_text(encoding="utf-8")
    documented = set()
    module = None
    for line in text.splitlines():
        match = re.match(r"\.\. currentmodule:: (\S+)", line.strip())
        if match:
            module = importlib.import_module(match.group(1))
            continue
        entry = (re.fullmatch(r"   ([A-Za-z_][\w.]*)", line)  # autosummary entries
                 or re.fullmatch(r"\.\. (?:py:)?data:: ([A-Za-z_]\w*)", line))
        if entry and module is not None:
            obj = module
            try:
                for part in entry.group(1).split("."):
                    obj = getattr(obj, part)
            except AttributeError:
                logger.warning("doc/api.rst lists %s, which %s does not define",
                               entry.group(1), module.__name__)
                continue
            documented.add(id(obj))
    for modname in PUBLIC_MODULES:
        mod = importlib.import_module(modname)
        for name in getattr(mod, "__all__", []):
            if name in _SKIP.get(modname, ()):
                continue
            if id(getattr(mod, name)) not in documented:
                logger.warning("doc/api.rst does not document the public name %s.%s",
                               modname, name)


def setup(app):
    app.connect("builder-inited", _check_api_reference)
