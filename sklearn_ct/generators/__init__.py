"""Counterfactual generators: one protocol, one engine, one registry of names.

Every generator implements :meth:`BaseGenerator.generate`. Gradient generators
(:class:`GenericGenerator`, :class:`ECCoGenerator`, :class:`ECCCoGenerator`,
:class:`REVISEGenerator`) run the batched
engine :func:`search_counterfactuals` that training and the explainers share; black-box
generators (:class:`GrowingSpheresGenerator`, derived from :class:`BaseBlackBoxGenerator`)
only ask the model for probabilities. :data:`GENERATORS` maps the names that
:class:`~sklearn_ct.CTClassifier` and :class:`~sklearn_ct.explainers.CounterfactualExplainer`
accept to the classes. The generators are also importable from :mod:`sklearn_ct` and
:mod:`sklearn_ct.explainers`.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from ._base import BaseBlackBoxGenerator, BaseGenerator, SearchResult, search_counterfactuals
from ._ecco import ECCoGenerator, ecco_energy_weight
from ._eccco import ECCCoGenerator, conformal_quantile, smooth_set_size
from ._generic import GenericGenerator
from ._growing_spheres import GrowingSpheresGenerator
from ._registry import GENERATORS, check_generator
from ._revise import VAE, REVISEGenerator

__all__ = [
    "GENERATORS",
    "VAE",
    "BaseBlackBoxGenerator",
    "BaseGenerator",
    "ECCCoGenerator",
    "ECCoGenerator",
    "GenericGenerator",
    "GrowingSpheresGenerator",
    "REVISEGenerator",
    "SearchResult",
    "check_generator",
    "conformal_quantile",
    "ecco_energy_weight",
    "search_counterfactuals",
    "smooth_set_size",
]
