"""The one registry of counterfactual measures, shared by the scorers and the evaluation.

Each :class:`Measure` says how to compute one quality measure of a set of counterfactuals
(:class:`Counterfactuals`): per counterfactual (cost, redundancy, IP, yNN, invalidation
rate) or for the set as a whole (validity, IP*), which way is better and at which decision
threshold the paper searched for it. :class:`~sklearn_ct.metrics.CounterfactualScorer` and
:func:`~sklearn_ct.metrics.evaluate_counterfactuals` both look measures up here, under their
function names (``"counterfactual_cost"``), their labels in the evaluation's tables
(``"cost"``) or an alias (``"sparsity"``).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import inspect
from typing import Callable, NamedTuple

import numpy as np
from sklearn.utils import _safe_indexing

from ..explainers._default import COST_THRESHOLD, PLAUSIBILITY_THRESHOLD
from ._adversarial import robust_accuracy
from ._cost import counterfactual_cost, redundancy
from ._diversity import change_set_diversity, counterfactual_diversity
from ._implausibility import implausibility, implausibility_mmd
from ._invalidation import invalidation_rate
from ._validity import counterfactual_validity
from ._ynn import ynn


class Counterfactuals(NamedTuple):
    """Counterfactuals and what their measures are computed against.

    ``X``, ``X_cf`` and ``target`` hold the counterfactuals to measure (one row each);
    ``X_ref``/``y_ref`` are the reference data of the plausibility measures;
    ``validity_threshold`` is the caller's validity rule (None: argmax).
    """

    X: np.ndarray  # factuals (float)
    X_cf: np.ndarray  # counterfactuals (float)
    X_cf_raw: object  # counterfactuals as the explainer returned them (e.g. a DataFrame)
    target: np.ndarray  # target labels
    valid: np.ndarray  # validity flags (bool)
    model: object  # the explained classifier
    X_ref: np.ndarray  # reference data (float)
    X_ref_raw: object  # reference data as given
    y_ref: object  # true labels of the reference data (or None)
    validity_threshold: object = None  # the caller's validity rule (None: argmax)

    def subset(self, rows):
        """The counterfactuals selected by the boolean mask ``rows`` (same reference)."""
        return self._replace(
            X=self.X[rows], X_cf=self.X_cf[rows], target=self.target[rows],
            X_cf_raw=_safe_indexing(self.X_cf_raw, np.flatnonzero(rows)),
            valid=self.valid[rows])


class Measure(NamedTuple):
    """One counterfactual quality measure.

    Attributes
    ----------
    name : str
        The name of its metric function (the scorers' name).
    label : str or None
        Its name in :func:`~sklearn_ct.metrics.evaluate_counterfactuals` (None: not one of
        the protocol's measures).
    func : callable
        The public metric function; its signature, minus ``reserved``, defines the
        keyword arguments a caller may pass.
    greater_is_better : bool
        Direction of the measure.
    decision_threshold : float
        Threshold of the paper's test-time search for this measure.
    reserved : tuple of str
        Arguments the callers fill in themselves.
    values : callable or None
        ``values(cfs, kwargs)``: one value per counterfactual; None for measures of a
        whole set.
    aggregate : callable or None
        ``aggregate(cfs, kwargs)``: the value of a set (the mean of ``values`` when None).
    filtered : bool
        Computed on valid counterfactuals only, when the caller asks for that.
    needs_y : bool
        Needs the true labels of the reference data.
    uses_counterfactuals : bool
        False for measures of the model itself (robust accuracy), computed on the data.
    valid_required : bool
        Defined for valid counterfactuals only (the invalidation rate), whatever the
        caller's choice of ``valid_only``.
    sets : bool
        Measured on each factual's set of counterfactuals (an explainer with
        ``n_per_row >= 2``): ``X_cf`` has shape (n, n_per_row, n_features) and ``valid``
        (n, n_per_row); the values are one per factual.
    """

    name: str
    label: object
    func: Callable
    greater_is_better: bool
    decision_threshold: float
    reserved: tuple
    values: object = None
    aggregate: object = None
    filtered: bool = True
    needs_y: bool = False
    uses_counterfactuals: bool = True
    valid_required: bool = False
    sets: bool = False

    def score(self, cfs, kwargs):
        """The measure of the set ``cfs`` (one float)."""
        if self.aggregate is not None:
            return self.aggregate(cfs, kwargs)
        values = np.asarray(self.values(cfs, kwargs), dtype=np.float64)
        if self.sets:
            # Factuals with fewer than two counterfactuals to compare have no value.
            values = values[~np.isnan(values)]
            return float(values.mean()) if values.size else float("nan")
        return float(np.mean(values))


def _cost(cfs, kwargs):
    return counterfactual_cost(cfs.X, cfs.X_cf, **kwargs)


def _redundancy(cfs, kwargs):
    return redundancy(cfs.X, cfs.X_cf, **kwargs)


def _implausibility(cfs, kwargs):
    return implausibility(cfs.X_cf, cfs.X_ref, cfs.y_ref, cfs.target, **kwargs)


def _ynn(cfs, kwargs):
    return ynn(cfs.model, cfs.X_cf_raw, cfs.target, cfs.X_ref_raw, aggregate=False, **kwargs)


def _invalidation(cfs, kwargs):
    if kwargs.get("kind", "noise") == "retrain" and kwargs.get("models") is None:
        # Refitting here would train on the scoring (or test) data, and once per candidate
        # and fold; only fixed alternative models make sense.
        raise ValueError(
            "The invalidation_rate measure with kind='retrain' needs fixed alternative "
            "models: make_counterfactual_scorer('invalidation_rate', kind='retrain', "
            "models=[...]). A scorer only sees the scoring fold, so it cannot retrain the "
            "estimator on its training data."
        )
    # NaN for the counterfactuals that are not valid under the model (valid_required).
    return invalidation_rate(cfs.model, cfs.X_cf_raw, cfs.target,
                             threshold=cfs.validity_threshold, aggregate=False, **kwargs)


def _diversity(cfs, kwargs):
    return counterfactual_diversity(cfs.X_cf, valid=cfs.valid, aggregate=False, **kwargs)


def _change_sets(cfs, kwargs):
    return change_set_diversity(cfs.X, cfs.X_cf, valid=cfs.valid, aggregate=False,
                                **kwargs)


def _validity(cfs, kwargs):
    return float(cfs.valid.mean())


def _implausibility_mmd(cfs, kwargs):
    return float(implausibility_mmd(cfs.X_cf, cfs.X_ref, cfs.y_ref, cfs.target,
                                    aggregate=True, **kwargs))


#: Every counterfactual quality measure, by function name, in the protocol's order.
MEASURES = {m.name: m for m in (
    # Validity is defined by the caller's validity threshold, so the function's own
    # ``threshold`` is not a separate knob.
    Measure("counterfactual_validity", "validity", counterfactual_validity, True,
            PLAUSIBILITY_THRESHOLD, ("model", "X_cf", "target", "threshold", "aggregate"),
            aggregate=_validity, filtered=False),
    Measure("counterfactual_cost", "cost", counterfactual_cost, False, COST_THRESHOLD,
            ("X", "X_cf"), values=_cost),
    Measure("implausibility", "implausibility", implausibility, False,
            PLAUSIBILITY_THRESHOLD, ("X_cf", "X_ref", "y_ref", "target"),
            values=_implausibility, needs_y=True),
    Measure("implausibility_mmd", "implausibility_mmd", implausibility_mmd, False,
            PLAUSIBILITY_THRESHOLD, ("X_cf", "X_ref", "y_ref", "target", "aggregate"),
            aggregate=_implausibility_mmd, needs_y=True),
    Measure("redundancy", "redundancy", redundancy, True, COST_THRESHOLD, ("X", "X_cf"),
            values=_redundancy),
    Measure("ynn", "ynn", ynn, True, PLAUSIBILITY_THRESHOLD,
            ("model", "X_cf", "target", "X_ref", "aggregate"), values=_ynn),
    Measure("robust_accuracy", None, robust_accuracy, True, PLAUSIBILITY_THRESHOLD,
            ("model", "X", "y"), filtered=False, needs_y=True, uses_counterfactuals=False),
    # Measured on the plausibility-threshold counterfactuals (0.95): ones that stop at 0.5
    # sit just past the decision boundary, where their fate under noise depends more on
    # how far the search's last step overshot than on the model. Validity follows the
    # caller's validity threshold; alternative models are fixed (X and y are reserved).
    Measure("invalidation_rate", "invalidation_rate", invalidation_rate, False,
            PLAUSIBILITY_THRESHOLD,
            ("estimator", "X_cf", "target", "X", "y", "threshold", "aggregate"),
            values=_invalidation, valid_required=True),
    # Diversity of several counterfactuals per factual; ``valid`` marks which of a
    # factual's counterfactuals count (all of them unless the caller filters).
    Measure("counterfactual_diversity", None, counterfactual_diversity, True,
            COST_THRESHOLD, ("X_cf", "valid", "aggregate"), values=_diversity,
            filtered=False, sets=True),
    Measure("change_set_diversity", None, change_set_diversity, True, COST_THRESHOLD,
            ("X", "X_cf", "valid", "aggregate"), values=_change_sets, filtered=False,
            sets=True),
)}

#: Other names of the measures: the protocol's labels and common synonyms.
ALIASES = {
    **{m.label: m.name for m in MEASURES.values() if m.label not in (None, m.name)},
    "sparsity": "redundancy",
    "invalidation": "invalidation_rate",
}


def get_measure(name):
    """The :class:`Measure` of a name, label or alias, or None when it is unknown."""
    return MEASURES.get(ALIASES.get(name, name))


def measure_of_function(func):
    """The :class:`Measure` whose metric function is ``func``, or None."""
    return next((m for m in MEASURES.values() if m.func is func), None)


def check_measure_params(measure, params, name=None):
    """Reject keyword arguments the metric function does not take (early, with a hint).

    Parameters
    ----------
    measure : Measure
        The measure.
    params : dict
        Keyword arguments for its function.
    name : str, default=None
        Name in the message (the measure's own by default).
    """
    try:
        signature = inspect.signature(measure.func)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return
    parameters = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    allowed = [p for p in parameters if p not in measure.reserved]
    if measure.name is None:
        # Custom metrics take (X, X_cf) positionally.
        allowed = allowed[2:]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise TypeError(
            f"Unexpected keyword argument(s) {unknown} for the metric "
            f"{name or measure.name}; it accepts {allowed}."
        )


def accepts_random_state(func):
    """Whether the metric function has a ``random_state`` parameter."""
    try:
        return "random_state" in inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False
