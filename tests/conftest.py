"""Shared test configuration.

Tests run on 2-core CI machines: one torch thread per process is much faster there than the
default (threads fight over the cores), so it is set here and never in the library itself.
"""

import numpy as np
import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _fixed_global_seeds():
    # The library never relies on the global RNGs; fixing them here only keeps test *data*
    # generated with the global numpy RNG reproducible.
    np.random.seed(0)
    torch.manual_seed(0)
