"""Evaluation metrics for counterfactual explanations and the models they explain.

The functions follow the evaluation protocol of Counterfactual Training (Altmeyer et al.,
SaTML 2026):

- explanation quality: :func:`counterfactual_validity`, :func:`counterfactual_cost`,
  :func:`redundancy` (alias :func:`sparsity`), :func:`implausibility` (IP),
  :func:`implausibility_mmd` (IP*, built on :func:`mmd`) and :func:`ynn`;
- model robustness: :func:`robust_accuracy` with :func:`fgsm_attack` and :func:`pgd_attack`;
- actionability: :func:`protected_feature_sensitivity` with :func:`integrated_gradients`.

Per-counterfactual metrics return one value per row so that callers can filter (e.g. keep only
valid counterfactuals, as the paper does) before averaging.
"""

from ._adversarial import fgsm_attack, pgd_attack, robust_accuracy
from ._attribution import integrated_gradients, protected_feature_sensitivity
from ._cost import counterfactual_cost, median_absolute_deviation, redundancy, sparsity
from ._implausibility import implausibility, implausibility_mmd
from ._mmd import median_pairwise_distance, mmd
from ._validity import counterfactual_validity
from ._ynn import ynn

__all__ = [
    "counterfactual_cost",
    "counterfactual_validity",
    "fgsm_attack",
    "implausibility",
    "implausibility_mmd",
    "integrated_gradients",
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
