"""Shared test configuration.

Tests run on 2-core CI machines: one torch thread per process is much faster there than the
default (threads fight over the cores), so it is set here and never in the library itself.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _fixed_global_seeds():
    # The library never relies on the global RNGs; fixing them here only keeps test *data*
    # generated with the global numpy RNG reproducible.
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def blobs():
    """Three standardised 2-d blobs (240 rows)."""
    X, y = make_blobs(240, centers=3, cluster_std=1.5, random_state=3)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def binary():
    """Two standardised 2-d blobs (200 rows)."""
    X, y = make_blobs(200, centers=2, cluster_std=2.0, random_state=1)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def load_script():
    """Import a script that lives outside the package (``bench/``, ``tools/``) from its
    path relative to the repository root."""
    root = Path(__file__).resolve().parents[1]

    def load(relative):
        path = root / relative
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def vendor_tool(load_script):
    """The maintainer tool that built the vendored data files (it lives outside the
    package, in tools/)."""
    return load_script("tools/vendor_datasets.py")
