"""numpydoc validation of the public API (as scikit-learn's test_docstrings.py)."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import importlib
import inspect

import pytest

numpydoc_validation = pytest.importorskip("numpydoc.validate")

# Checks we do not enforce (as in scikit-learn): summaries spanning lines, See Also/Examples
# sections everywhere, named return values, parameter descriptions' final period, etc.
IGNORED = {"GL01", "GL02", "GL07", "GL08", "SA01", "SA04", "EX01", "ES01", "RT02", "RT03",
           "SS05", "SS06", "PR04", "PR09", "YD01"}
MODULES = ["sklearn_ct", "sklearn_ct.metrics", "sklearn_ct.datasets", "sklearn_ct.callbacks",
           "sklearn_ct.generators",
           "sklearn_ct.explainers", "sklearn_ct.experiment", "sklearn_ct.inspection"]


def _public_objects():
    for modname in MODULES:
        try:
            module = importlib.import_module(modname)
        except ImportError:
            continue
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            path = f"{obj.__module__}.{obj.__qualname__}"
            yield path
            if inspect.isclass(obj):
                for meth, func in vars(obj).items():
                    if not meth.startswith("_") and inspect.isfunction(func):
                        yield f"{path}.{meth}"


@pytest.mark.parametrize("path", sorted(set(_public_objects())))
def test_docstring(path):
    errors = [(code, msg) for code, msg in numpydoc_validation.validate(path)["errors"]
              if code not in IGNORED]
    assert not errors, "\n".join(f"{code}: {msg}" for code, msg in errors)
