"""Reproduce the Counterfactual Training paper's experiment on the data available offline.

:func:`run_experiment` trains, per data set, a baseline (cross-entropy), a CT model and a
CT model with the protected feature immutable, at the paper's settings (Altmeyer et al.,
SaTML 2026; reference spec 4.3-4.4); evaluates their test-time counterfactuals with the
paper's protocol (valid counterfactuals only, per-run means, mean-of-ratios reduction,
99 % percentile intervals) and their robustness to FGSM and PGD attacks; and lays the
results out as the paper's Table I, validity table and robustness summary next to the
published numbers (:mod:`sklearn_ct.experiment._paper`), plus a table the paper does not
have: how often the counterfactuals of the baseline and of CT stop being valid when the
model is retrained or the counterfactual is perturbed by noise (recourse invalidation).
:func:`save_results` writes CSV files, the text report and figures. The
``sklearn-ct experiment`` command runs all of it.

With ``objectives``, the same protocol compares CT with the alternatives it is positioned
against (JEM, PGD adversarial training) and with its ablations (:func:`comparison_table`).

Data sets: the paper's four synthetic sets (LS, Circ, Moon, OL) and Adult; German credit
in place of the paper's credit data (a different data set: not comparable), and 8x8
digits as a small stand-in for MNIST.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from ._datasets import (
    DATASET_GROUPS,
    EXPERIMENT_DATASETS,
    ExperimentDataset,
    prepare_dataset,
    resolve_datasets,
)
from ._evaluation import evaluate_explanations, evaluate_robustness, explainer_templates
from ._figures import plot_digits, plot_explanations_2d, plot_robustness
from ._output import save_results
from ._paper import (
    PAPER_CITATION,
    PAPER_MEANS,
    PAPER_ROBUSTNESS,
    PAPER_TABLE_ONE,
    PAPER_TABLE_ONE_AVERAGE,
    PAPER_VALIDITY,
)
from ._benchmark import (
    BENCHMARK_EXPLAINERS,
    BENCHMARK_MEASURES,
    BenchmarkSettings,
    paired_reduction,
    plain_search,
    run_benchmark,
)
from ._benchmark_tables import BenchmarkResult
from ._recourse import (
    evaluate_invalidation,
    fit_refit,
    format_invalidation_table,
    invalidation_table,
)
from ._runner import ExperimentResult, run_experiment
from ._settings import PRESETS, ExperimentSettings, experiment_settings
from ._tables import (
    comparison_table,
    format_comparison,
    format_report,
    robustness_table,
    table_one,
    validity_table,
)
from ._training import MODELS, OBJECTIVE_LABELS, experiment_models, fit_model, make_model

__all__ = [
    "BENCHMARK_EXPLAINERS",
    "BENCHMARK_MEASURES",
    "BenchmarkResult",
    "BenchmarkSettings",
    "DATASET_GROUPS",
    "EXPERIMENT_DATASETS",
    "MODELS",
    "OBJECTIVE_LABELS",
    "PAPER_CITATION",
    "PAPER_MEANS",
    "PAPER_ROBUSTNESS",
    "PAPER_TABLE_ONE",
    "PAPER_TABLE_ONE_AVERAGE",
    "PAPER_VALIDITY",
    "PRESETS",
    "ExperimentDataset",
    "ExperimentResult",
    "ExperimentSettings",
    "comparison_table",
    "evaluate_explanations",
    "evaluate_invalidation",
    "evaluate_robustness",
    "experiment_models",
    "experiment_settings",
    "explainer_templates",
    "fit_model",
    "fit_refit",
    "format_comparison",
    "format_invalidation_table",
    "format_report",
    "invalidation_table",
    "make_model",
    "paired_reduction",
    "plain_search",
    "plot_digits",
    "plot_explanations_2d",
    "plot_robustness",
    "prepare_dataset",
    "resolve_datasets",
    "robustness_table",
    "run_benchmark",
    "run_experiment",
    "save_results",
    "table_one",
    "validity_table",
]
