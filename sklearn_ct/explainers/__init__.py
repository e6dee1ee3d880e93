"""Post-hoc counterfactual explanations for fitted classifiers.

:class:`CounterfactualExplainer` is a scikit-learn transformer: ``fit`` prepares it (fitting
the model when needed, the generator and the constraints), ``transform`` returns one
counterfactual per row with the columns of ``X``, and ``explain`` returns the richer result.

Generators, besides :class:`~sklearn_ct.GenericGenerator` and
:class:`~sklearn_ct.ECCoGenerator`:

- :class:`REVISEGenerator`: gradient search in the latent space of a VAE fitted in ``fit``;
- :class:`GrowingSpheresGenerator`: a black-box search that only needs ``predict_proba``
  (any classifier, e.g. a random forest); black-box generators derive from
  :class:`BaseBlackBoxGenerator`.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from ._explainer import GENERATORS, CounterfactualExplainer
from ._growing_spheres import BaseBlackBoxGenerator, BlackBoxResult, GrowingSpheresGenerator
from ._revise import VAE, REVISEGenerator

__all__ = [
    "GENERATORS",
    "VAE",
    "BaseBlackBoxGenerator",
    "BlackBoxResult",
    "CounterfactualExplainer",
    "GrowingSpheresGenerator",
    "REVISEGenerator",
]
