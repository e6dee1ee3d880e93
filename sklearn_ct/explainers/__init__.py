"""Post-hoc counterfactual explanations for fitted classifiers.

:class:`CounterfactualExplainer` is a scikit-learn transformer: ``fit`` prepares it (fitting
the model when needed, the generator and the constraints), ``transform`` returns one
counterfactual per row with the columns of ``X``, and ``explain`` returns the richer result.
:func:`default_explainer` is the paper's test-time explainer, the template of the scorers
and of the evaluation protocol.

The generators live in :mod:`sklearn_ct.generators`; the ones the explainer adds to
training's generators are re-exported here:

- :class:`~sklearn_ct.generators.REVISEGenerator`: gradient search in the latent space of a
  VAE fitted in ``fit``;
- :class:`~sklearn_ct.generators.GrowingSpheresGenerator`: a black-box search that only
  needs ``predict_proba`` (any classifier, e.g. a random forest); black-box generators
  derive from :class:`~sklearn_ct.generators.BaseBlackBoxGenerator`.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

from ..generators import (
    GENERATORS,
    VAE,
    BaseBlackBoxGenerator,
    GrowingSpheresGenerator,
    REVISEGenerator,
    SearchResult,
)
from ._default import default_explainer
from ._explainer import CounterfactualExplainer

__all__ = [
    "GENERATORS",
    "VAE",
    "BaseBlackBoxGenerator",
    "CounterfactualExplainer",
    "GrowingSpheresGenerator",
    "REVISEGenerator",
    "default_explainer",
]


def __getattr__(name):
    # Deprecated names (PEP 562), importable with a FutureWarning until 0.3.
    if name == "BlackBoxResult":
        warnings.warn(
            "BlackBoxResult was merged into sklearn_ct.generators.SearchResult in 0.1 "
            "(every generator returns one) and will be removed in 0.3.",
            FutureWarning,
            stacklevel=2,
        )
        return SearchResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
