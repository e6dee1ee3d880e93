"""sklearn_ct: Counterfactual Training for scikit-learn.

Train classifiers whose counterfactual explanations are plausible and actionable
(Altmeyer et al., SaTML 2026), with scikit-learn's API.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from . import callbacks, generators
from ._classifier import REFERENCE_PARAMS, CTClassifier
from ._constraints import infer_domain
from ._groups import find_categorical_groups
from ._modules import MLP
from ._net import NonFiniteLossWarning
from ._version import __version__
from .explainers import CounterfactualExplainer
from .generators import (
    BaseGenerator,
    ECCoGenerator,
    GenericGenerator,
    GrowingSpheresGenerator,
    REVISEGenerator,
    SearchResult,
    ecco_energy_weight,
    search_counterfactuals,
)

__all__ = [
    "BaseGenerator",
    "CTClassifier",
    "CounterfactualExplainer",
    "ECCoGenerator",
    "GenericGenerator",
    "GrowingSpheresGenerator",
    "MLP",
    "NonFiniteLossWarning",
    "REFERENCE_PARAMS",
    "REVISEGenerator",
    "SearchResult",
    "__version__",
    "callbacks",
    "ecco_energy_weight",
    "find_categorical_groups",
    "generators",
    "infer_domain",
    "search_counterfactuals",
]
