"""The paper's test-time explainer: the template of the scorers and the evaluation protocol."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers

from sklearn.utils._param_validation import Interval, validate_params

from ..generators import ECCoGenerator
from ._explainer import CounterfactualExplainer

# Decision thresholds of the paper's final evaluation (reference spec 2.5): the
# plausibility results (IP, IP*) come from searches that stop at tau=0.95, the cost results
# from separate searches that stop at tau=0.5 (a counterfactual that is pushed deeper into
# the target class than needed costs more).
PLAUSIBILITY_THRESHOLD = 0.95
COST_THRESHOLD = 0.5


@validate_params(
    {"decision_threshold": [Interval(numbers.Real, 0, 1, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def default_explainer(decision_threshold=PLAUSIBILITY_THRESHOLD):
    """Return the paper's test-time explainer as an unfitted template.

    ECCo without distance penalty (``lambda_cost=0``, ``lambda_energy=1``), plain gradient
    descent with step 0.1, at most 50 steps, targets ``"opposite"`` (for more than two
    classes: a random class other than the predicted one), as in the final evaluation of
    Counterfactual Training (which also averaged over ``lambda_energy`` in
    ``{0.1, 0.5, 1, 5, 10}``).

    Parameters
    ----------
    decision_threshold : float, default=0.95
        Target probability at which the search stops; the paper uses 0.95 for
        plausibility and 0.5 for cost.

    Returns
    -------
    explainer : :class:`~sklearn_ct.explainers.CounterfactualExplainer`
        Template with ``estimator=None``; scorers and
        :func:`~sklearn_ct.metrics.evaluate_counterfactuals` clone it and set the estimator.

    See Also
    --------
    sklearn_ct.metrics.make_counterfactual_scorer : Scorers built on this template.

    Examples
    --------
    >>> from sklearn_ct.explainers import default_explainer
    >>> default_explainer(0.5).decision_threshold
    0.5
    """
    return CounterfactualExplainer(
        None,
        generator=ECCoGenerator(lambda_cost=0.0, lambda_energy=1.0),
        max_steps=50,
        decision_threshold=decision_threshold,
        step_size=0.1,
    )
