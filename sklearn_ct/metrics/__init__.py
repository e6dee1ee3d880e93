"""Evaluation metrics for counterfactual explanations and the models they explain.

The functions follow the evaluation protocol of Counterfactual Training (Altmeyer et al.,
SaTML 2026):

- explanation quality: :func:`counterfactual_validity`, :func:`counterfactual_cost`,
  :func:`redundancy` (alias :func:`sparsity`), :func:`implausibility` (IP),
  :func:`implausibility_mmd` (IP*, built on :func:`mmd`) and :func:`ynn`; for several
  counterfactuals per row, :func:`counterfactual_diversity` and
  :func:`change_set_diversity`;
- model robustness: :func:`robust_accuracy` with :func:`fgsm_attack` and :func:`pgd_attack`;
- robustness of recourse: :func:`invalidation_rate` (under retraining of the model, or
  noise on the counterfactual);
- actionability: :func:`protected_feature_sensitivity` with :func:`integrated_gradients`;
- model selection: scorers for ``GridSearchCV``/``cross_validate`` that generate
  counterfactuals on the scoring fold (:func:`make_counterfactual_scorer`, :func:`get_scorer`,
  :func:`make_scoring`), and the paper's comparison protocol
  (:func:`evaluate_counterfactuals`, :func:`aggregate_runs`).

Per-counterfactual metrics return one value per row so that callers can filter (e.g. keep only
valid counterfactuals, as the paper does) before averaging.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from ._adversarial import fgsm_attack, pgd_attack, robust_accuracy
from ._attribution import integrated_gradients, protected_feature_sensitivity
from ._cost import counterfactual_cost, median_absolute_deviation, redundancy, sparsity
from ._diversity import change_set_diversity, counterfactual_diversity
from ._evaluation import aggregate_runs, evaluate_counterfactuals
from ._implausibility import implausibility, implausibility_mmd
from ._invalidation import invalidation_rate
from ._mmd import median_pairwise_distance, mmd
from ._scorer import (
    CounterfactualScorer,
    get_scorer,
    get_scorer_names,
    make_counterfactual_scorer,
    make_scoring,
)
from ._validity import counterfactual_validity
from ._ynn import ynn

__all__ = [
    "CounterfactualScorer",
    "aggregate_runs",
    "change_set_diversity",
    "counterfactual_cost",
    "counterfactual_diversity",
    "counterfactual_validity",
    "evaluate_counterfactuals",
    "fgsm_attack",
    "get_scorer",
    "get_scorer_names",
    "implausibility",
    "implausibility_mmd",
    "integrated_gradients",
    "invalidation_rate",
    "make_counterfactual_scorer",
    "make_scoring",
    "median_absolute_deviation",
    "median_pairwise_distance",
    "mmd",
    "pgd_attack",
    "protected_feature_sensitivity",
    "redundancy",
    "robust_accuracy",
    "sparsity",
    "ynn",
]
