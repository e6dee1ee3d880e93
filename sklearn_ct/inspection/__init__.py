"""Visual inspection of counterfactual explanations, with scikit-learn's Display API.

- :class:`CounterfactualDisplay`: what the counterfactuals of a few rows change, feature by
  feature, in the original units, with immutable features marked, categorical changes
  named and the target probability before and after;
- :class:`CounterfactualPathDisplay`: the decision surface of a two-feature model with
  factuals, counterfactuals and the paths of the counterfactual search (Figure 1 of the
  Counterfactual Training paper).

Like scikit-learn's displays (e.g. :class:`sklearn.inspection.DecisionBoundaryDisplay`),
each has a ``from_estimator`` class method that computes everything from a fitted
explainer or classifier, a ``from_explanation`` class method for precomputed
explanations, and a ``plot`` method returning the display, with the artists, the axes
(``ax_``) and the figure (``figure_``) as attributes. matplotlib is needed (``pip install
sklearn_ct[plot]``) and only imported when plotting.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from ._counterfactual_display import CounterfactualDisplay
from ._path_display import CounterfactualPathDisplay

__all__ = ["CounterfactualDisplay", "CounterfactualPathDisplay"]
