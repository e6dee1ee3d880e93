"""sklearn_ct: Counterfactual Training for scikit-learn.

Train classifiers whose counterfactual explanations are plausible and actionable
(Altmeyer et al., SaTML 2026), with scikit-learn's API.
"""

from . import callbacks
from ._classifier import CTClassifier
from ._constraints import infer_domain
from ._generators import BaseGenerator, ECCoGenerator, GenericGenerator, ecco_energy_weight
from ._modules import MLP
from ._net import NonFiniteLossWarning
from ._search import SearchResult, search_counterfactuals
from ._version import __version__
from .explainers import CounterfactualExplainer, GrowingSpheresGenerator, REVISEGenerator

__all__ = [
    "BaseGenerator",
    "CTClassifier",
    "CounterfactualExplainer",
    "ECCoGenerator",
    "GenericGenerator",
    "GrowingSpheresGenerator",
    "MLP",
    "NonFiniteLossWarning",
    "REVISEGenerator",
    "SearchResult",
    "__version__",
    "callbacks",
    "ecco_energy_weight",
    "infer_domain",
    "search_counterfactuals",
]
