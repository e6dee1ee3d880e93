"""Scorers: counterfactual quality metrics with scikit-learn's ``scorer(estimator, X, y)`` API.

scikit-learn's :func:`~sklearn.metrics.make_scorer` hands its metric only ``(y_true, y_pred)``,
but the cost and plausibility of counterfactuals need ``X``. The scorers here are therefore
objects with ``__call__(estimator, X, y)``: they explain the scoring fold with an explainer
(a clone of a template, wrapped around the frozen estimator), compute a metric on the result
and return it with scikit-learn's sign convention (greater is better; costs are negated and
named ``neg_...``). They work wherever ``scoring=`` is accepted, including multi-metric
dictionaries in :class:`~sklearn.model_selection.GridSearchCV` and
:func:`~sklearn.model_selection.cross_validate`.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import difflib
import numbers
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import get_scorer_names as _sklearn_get_scorer_names
from sklearn.utils import _safe_indexing, check_random_state

from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    validate_parameter_constraints,
)

from .._model import resolve_model
from .._utils import SEED_MAX
from ..explainers._default import COST_THRESHOLD, default_explainer
from ._registry import (
    ALIASES,
    MEASURES,
    Counterfactuals,
    Measure,
    accepts_random_state,
    check_measure_params,
    get_measure,
    measure_of_function,
)
from ._validation import VALIDITY_THRESHOLD, _as_float
from ._validity import counterfactual_validity

class _CustomValues:
    """Per-counterfactual values of a user's metric ``func(X, X_cf, **kwargs)``."""

    def __init__(self, func):
        self.func = func

    def __call__(self, cfs, kwargs):
        value = np.asarray(self.func(cfs.X, cfs.X_cf, **kwargs), dtype=np.float64)
        if value.ndim == 0:
            return value
        if value.shape != (cfs.X.shape[0],):
            raise ValueError(
                f"The metric {_func_name(self.func)} must return a float or one value per "
                f"counterfactual ({cfs.X.shape[0]}), got shape {value.shape}."
            )
        return value


def _func_name(func):
    return getattr(func, "__name__", None) or repr(func)


def _resolve_metric(metric):
    """Return the :class:`~sklearn_ct.metrics._registry.Measure` of a name or a callable."""
    if isinstance(metric, str):
        measure = get_measure(metric)
        if measure is None:
            known = sorted(set(MEASURES) | set(ALIASES))
            raise ValueError(
                f"Unknown counterfactual metric {metric!r}; expected one of {known} or a "
                "callable metric(X, X_cf, **kwargs)."
            )
        return measure
    measure = measure_of_function(metric)
    if measure is not None:
        return measure
    return Measure(None, None, metric, True, COST_THRESHOLD, (), values=_CustomValues(metric))


# -- helpers --------------------------------------------------------------------------------


def _is_explainer(estimator):
    """Whether ``estimator`` is a (fitted) explainer rather than a classifier."""
    return hasattr(estimator, "explain") and hasattr(estimator, "transform")


class CounterfactualScorer:
    """Score an estimator by the quality of its counterfactual explanations.

    Calling the scorer as ``scorer(estimator, X, y)`` explains the rows of ``X`` with a clone
    of ``explainer`` wrapped around :class:`~sklearn.frozen.FrozenEstimator` ``(estimator)``
    and fitted on ``(X, y)``, computes ``metric`` on the counterfactuals and returns it with
    scikit-learn's sign convention: greater is better, so costs and implausibilities are
    negated. If ``estimator`` is itself a fitted explainer (it has ``explain`` and
    ``transform``, e.g. a :class:`~sklearn_ct.explainers.CounterfactualExplainer` being
    tuned in a grid search), it is used as it is. The estimator is never modified.

    Use :func:`make_counterfactual_scorer` to build one, or :func:`get_scorer` for the
    predefined ones.

    Parameters
    ----------
    metric : str or callable
        One of ``"counterfactual_validity"`` (alias ``"validity"``),
        ``"counterfactual_cost"`` (``"cost"``), ``"implausibility"``,
        ``"implausibility_mmd"``, ``"ynn"``, ``"redundancy"`` (``"sparsity"``),
        ``"robust_accuracy"``, ``"invalidation_rate"`` (``"invalidation"``),
        ``"counterfactual_diversity"`` or ``"change_set_diversity"`` (of each row's
        ``n_per_row`` counterfactuals); the functions of the same names in
        :mod:`sklearn_ct.metrics` are accepted too. Any other callable is a custom metric
        ``metric(X, X_cf, **metric_params)`` returning one value per counterfactual (they
        are averaged) or a float.
    explainer : explainer or None, default=None
        Unfitted template, cloned for every call, e.g.
        ``CounterfactualExplainer(None, generator="generic", max_steps=30)``. None uses the
        paper's test-time explainer (see :func:`make_counterfactual_scorer`) with the
        metric's default decision threshold.
    greater_is_better : bool or None, default=None
        Whether a larger metric value is better; if False the value is negated. None uses
        the metric's natural direction (False for cost, implausibility and IP*; True
        otherwise and for custom metrics).
    n_samples : int or None, default=None
        Explain (and, for ``robust_accuracy``, attack) at most this many rows of the
        scoring fold, drawn without replacement; the plausibility reference always uses the
        whole fold. None uses every row.
    valid_only : bool, default=True
        Compute the metric on valid counterfactuals only, as the paper does (ignored by
        ``counterfactual_validity`` and ``robust_accuracy``; ``invalidation_rate`` is
        always computed on valid counterfactuals).
    validity_threshold : float or None, default=None
        When a counterfactual is valid: None means the model's predicted class (argmax) is
        the target, the paper's validity measure; a float ``t`` requires target probability
        ``>= t`` (e.g. the explainer's ``decision_threshold`` for "strict" validity).
    no_valid_score : float, default=nan
        Returned (as is, not negated) when ``valid_only=True`` and no counterfactual is
        valid, with an :class:`~sklearn.exceptions.UndefinedMetricWarning`.
    random_state : int, RandomState instance or None, default=None
        Seeds the row sub-sample, the explainer (its ``random_state`` is overridden unless
        this is None) and the random parts of the metric (IP* sub-sampling, the PGD start).
        An int makes every call deterministic and independent of the order of calls.
    metric_params : dict or None, default=None
        Keyword arguments of the metric function, e.g. ``{"epsilon": 0.1}`` for
        ``robust_accuracy``.

    See Also
    --------
    make_counterfactual_scorer : Build a scorer.
    get_scorer : Predefined scorers by name.
    evaluate_counterfactuals : The paper's evaluation protocol over many runs.

    Notes
    -----
    The plausibility metrics use the scoring fold's own ``(X, y)`` as reference data, which
    keeps scorers stateless and free of leakage; distances are measured in the feature
    space of ``X`` (for a pipeline: before its preprocessing), so standardize features
    beforehand for the distances to be comparable. In a multi-metric ``scoring`` dict each
    counterfactual scorer runs its own search.

    Examples
    --------
    >>> from sklearn_ct.metrics import CounterfactualScorer
    >>> CounterfactualScorer("implausibility", random_state=0)
    make_counterfactual_scorer('implausibility', greater_is_better=False, random_state=0)
    """

    _parameter_constraints = {
        "metric": [str, callable],
        "explainer": [None, HasMethods(["fit", "explain"])],
        "greater_is_better": [None, "boolean"],
        "n_samples": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "valid_only": ["boolean"],
        "validity_threshold": VALIDITY_THRESHOLD,
        "no_valid_score": [numbers.Real],
        "random_state": ["random_state"],
        "metric_params": [None, dict],
    }

    def __init__(self, metric, *, explainer=None, greater_is_better=None, n_samples=None,
                 valid_only=True, validity_threshold=None, no_valid_score=np.nan,
                 random_state=None, metric_params=None):
        self.metric = metric
        self.explainer = explainer
        self.greater_is_better = greater_is_better
        self.n_samples = n_samples
        self.valid_only = valid_only
        self.validity_threshold = validity_threshold
        self.no_valid_score = no_valid_score
        self.random_state = random_state
        self.metric_params = metric_params
        validate_parameter_constraints(
            self._parameter_constraints, self.__dict__, caller_name=type(self).__name__)
        self._measure = _resolve_metric(metric)
        check_measure_params(self._measure, metric_params or {},
                             name=self._measure.name or _func_name(metric))

    @property
    def _sign(self):
        better = self._measure.greater_is_better if self.greater_is_better is None else bool(
            self.greater_is_better)
        return 1.0 if better else -1.0

    def __repr__(self):
        name = self._measure.name
        metric = repr(name) if name is not None else _func_name(self.metric)
        args = [metric, f"greater_is_better={self._sign > 0}"]
        defaults = dict(explainer=None, n_samples=None, valid_only=True,
                        validity_threshold=None, random_state=None)
        for key, default in defaults.items():
            value = getattr(self, key)
            if value is not default and value != default:
                args.append(f"{key}={value!r}")
        if not (isinstance(self.no_valid_score, float) and np.isnan(self.no_valid_score)):
            args.append(f"no_valid_score={self.no_valid_score!r}")
        args += [f"{k}={v!r}" for k, v in (self.metric_params or {}).items()]
        return f"make_counterfactual_scorer({', '.join(args)})"

    def _accept_sample_weight(self):
        # Asked by scikit-learn's search estimators when fit gets sample_weight: the
        # counterfactual metrics are unweighted.
        return False

    def _template(self):
        if self.explainer is not None:
            return self.explainer
        template = default_explainer(self._measure.decision_threshold)
        if self._measure.sets:
            template.set_params(n_per_row=DEFAULT_N_PER_ROW)
        return template

    def __call__(self, estimator, X, y=None):
        """Score ``estimator`` on the fold ``(X, y)``.

        Parameters
        ----------
        estimator : estimator
            Fitted classifier (e.g. :class:`~sklearn_ct.CTClassifier` or a pipeline ending
            in one) or fitted explainer.
        X : array-like of shape (n_samples, n_features)
            Scoring fold; explained, and the plausibility reference.
        y : array-like of shape (n_samples,), default=None
            True labels of ``X``; required by ``implausibility``, ``implausibility_mmd``
            and ``robust_accuracy``.

        Returns
        -------
        score : float
            Metric value, negated when ``greater_is_better`` is False.
        """
        spec = self._measure
        if y is None and spec.needs_y:
            raise ValueError(f"The {spec.name} scorer needs the true labels y of the "
                             "scoring data; got y=None.")
        n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
        rng = check_random_state(self.random_state)
        sub_seed, explainer_seed, metric_seed = (int(s) for s in rng.randint(SEED_MAX,
                                                                             size=3))
        rows = np.arange(n_rows)
        if self.n_samples is not None and n_rows > self.n_samples:
            rows = np.sort(check_random_state(sub_seed).choice(n_rows, self.n_samples,
                                                               replace=False))
        X_sub = _safe_indexing(X, rows)
        params = dict(self.metric_params or {})
        if "random_state" not in params and accepts_random_state(spec.func):
            params["random_state"] = None if self.random_state is None else metric_seed

        if not spec.uses_counterfactuals:
            # Model-level metrics (robust accuracy) work in the model's input space.
            model = resolve_model(estimator.estimator_ if _is_explainer(estimator)
                                  else estimator)
            # A writable float copy: torch warns on read-only arrays, which pandas frames
            # (copy-on-write) and joblib's memory-mapped folds in parallel searches give.
            X_model = np.array(model.transform(X_sub), dtype=np.float64)
            y_sub = _safe_indexing(np.asarray(y), rows)
            return self._sign * float(spec.func(model, X_model, y_sub, **params))

        explainer = self._fitted_explainer(estimator, X, y, explainer_seed)
        model = explainer.estimator_ if hasattr(explainer, "estimator_") else estimator
        result = explainer.explain(X_sub)
        if spec.sets:
            return self._score_sets(spec, model, X_sub, result, params)
        X_cf_raw, target = result.counterfactuals, np.asarray(result.target)
        valid = counterfactual_validity(model, X_cf_raw, target,
                                        threshold=self.validity_threshold, aggregate=False)
        # The invalidation rate is only defined for valid counterfactuals (valid_required).
        selected = (valid if (self.valid_only and spec.filtered) or spec.valid_required
                    else np.ones_like(valid))
        if spec.filtered and not selected.any():
            warnings.warn(
                f"No counterfactual of the {valid.size} explained rows is valid, so "
                f"{spec.name or _func_name(self.metric)} of valid counterfactuals is "
                f"undefined; returning no_valid_score={self.no_valid_score!r}.",
                UndefinedMetricWarning,
                stacklevel=2,
            )
            return float(self.no_valid_score)
        cfs = Counterfactuals(
            X=_as_float(X_sub, "X"), X_cf=_as_float(X_cf_raw, "The counterfactuals"),
            X_cf_raw=X_cf_raw, target=target, valid=valid, model=model,
            X_ref=_as_float(X, "X"), X_ref_raw=X, y_ref=None if y is None else np.asarray(y),
            validity_threshold=self.validity_threshold,
        )
        return self._sign * spec.score(cfs.subset(selected), params)

    def _score_sets(self, spec, model, X_sub, result, params):
        """A measure of each row's several counterfactuals (diversity), signed."""
        valid = np.asarray(result.valid)
        if valid.ndim != 2 or valid.shape[1] < 2:
            raise ValueError(
                f"The {spec.name} scorer needs several counterfactuals per row: use an "
                "explainer with n_per_row >= 2, e.g. make_counterfactual_scorer("
                f"{spec.name!r}, explainer=CounterfactualExplainer(None, n_per_row=4)).")
        k = valid.shape[1]
        X_f = _as_float(X_sub, "X")
        # One row per counterfactual (explain gives a DataFrame so, or an array (n, k, p)).
        flat = result.counterfactuals
        if not hasattr(flat, "iloc"):
            flat = np.asarray(flat).reshape(-1, np.shape(flat)[-1])
        target = np.repeat(np.asarray(result.target), k)
        valid = counterfactual_validity(model, flat, target, threshold=self.validity_threshold,
                                        aggregate=False).reshape(-1, k)
        cfs = Counterfactuals(
            X=X_f, X_cf=_as_float(flat, "The counterfactuals").reshape(X_f.shape[0], k, -1),
            X_cf_raw=result.counterfactuals, target=target,
            valid=valid if self.valid_only else np.ones_like(valid), model=model,
            X_ref=None, X_ref_raw=None, y_ref=None)
        score = spec.score(cfs, params)
        if np.isnan(score):
            warnings.warn(
                f"No row has two valid counterfactuals to compare, so {spec.name} is "
                f"undefined; returning no_valid_score={self.no_valid_score!r}.",
                UndefinedMetricWarning, stacklevel=3)
            return float(self.no_valid_score)
        return self._sign * score

    def _fitted_explainer(self, estimator, X, y, seed):
        if _is_explainer(estimator):
            return estimator
        explainer = clone(self._template())
        params = {"estimator": FrozenEstimator(estimator)}
        if self.random_state is not None and "random_state" in explainer.get_params(
                deep=False):
            params["random_state"] = seed
        return explainer.set_params(**params).fit(X, y)


def make_counterfactual_scorer(metric, *, explainer=None, greater_is_better=None,
                               n_samples=None, valid_only=True, validity_threshold=None,
                               no_valid_score=np.nan, random_state=None, **metric_kwargs):
    """Make a scorer from a counterfactual quality metric.

    The scorer has the ``scorer(estimator, X, y)`` signature that
    :class:`~sklearn.model_selection.GridSearchCV`,
    :func:`~sklearn.model_selection.cross_validate` and friends accept. For each call it
    fits a clone of ``explainer`` around the frozen ``estimator`` on the scoring fold,
    explains the fold and returns the metric with scikit-learn's sign convention (greater
    is better).

    The default explainer is the paper's test-time one (Altmeyer et al., 2026): ECCo
    without distance penalty (``lambda_cost=0, lambda_energy=1``), step size 0.1, at most
    50 steps, with decision threshold **0.95** for validity, implausibility, IP*, yNN and
    the invalidation rate (the paper's plausibility evaluation; counterfactuals that stop
    at 0.5 lie just past the decision boundary, where a point exactly on it would be lost
    to half of all noise draws) and **0.5** for cost, redundancy and custom
    metrics (the paper's cost evaluation: pushing a counterfactual deeper into the target
    class than needed inflates its cost).

    Parameters
    ----------
    metric : str or callable
        ``"counterfactual_validity"`` (alias ``"validity"``), ``"counterfactual_cost"``
        (``"cost"``, L1 distance by default), ``"implausibility"`` (IP),
        ``"implausibility_mmd"`` (IP*), ``"ynn"``, ``"redundancy"`` (``"sparsity"``),
        ``"robust_accuracy"`` (no counterfactuals; FGSM by default),
        ``"invalidation_rate"`` (Gaussian noise by default; ``kind="retrain"`` needs fixed
        ``models=[...]``, since a scorer cannot retrain the estimator on its training
        data), ``"counterfactual_diversity"`` and ``"change_set_diversity"`` (of several
        counterfactuals per row: the default explainer searches 4, a template needs
        ``n_per_row >= 2``), one of the functions of those names, or a custom
        ``metric(X, X_cf, **metric_kwargs)`` returning one value per counterfactual or a
        float.
    explainer : explainer or None, default=None
        Unfitted explainer template (its ``estimator`` is replaced), e.g.
        ``CounterfactualExplainer(None, decision_threshold=0.9, mutability={0: "none"})``.
        None uses the default described above.
    greater_is_better : bool or None, default=None
        Whether larger metric values are better; False negates them. None uses the metric's
        direction: False for cost, implausibility and IP*, True for the others.
    n_samples : int or None, default=None
        Explain at most this many rows of each fold (a seeded draw without replacement),
        for speed. The plausibility reference is always the whole fold.
    valid_only : bool, default=True
        Average over valid counterfactuals only, as the paper does.
    validity_threshold : float or None, default=None
        None: valid means predicted as the target (argmax), the paper's validity measure.
        A float ``t``: target probability ``>= t``.
    no_valid_score : float, default=nan
        Score returned when no counterfactual is valid (with an
        :class:`~sklearn.exceptions.UndefinedMetricWarning`). NaN makes
        :class:`~sklearn.model_selection.GridSearchCV` rank the candidate last (it warns
        about non-finite scores) while ``cross_validate`` keeps the NaN visible; pass e.g.
        ``-1e6`` for a finite worst score.
    random_state : int, RandomState instance or None, default=None
        Seeds the row draw, the explainer and the metric's random parts; an int makes the
        scorer deterministic.
    **metric_kwargs : dict
        Keyword arguments of the metric function, e.g. ``norm="l2"`` for the cost,
        ``length_scale=0.5`` for IP*, ``attack="pgd", epsilon=0.1`` for robust accuracy.

    Returns
    -------
    scorer : CounterfactualScorer
        Callable ``scorer(estimator, X, y) -> float``.

    See Also
    --------
    get_scorer : Predefined scorers by name.
    make_scoring : Build a multi-metric ``scoring`` dict from names.

    Examples
    --------
    >>> from sklearn_ct.metrics import make_counterfactual_scorer
    >>> make_counterfactual_scorer("cost", n_samples=100)
    make_counterfactual_scorer('counterfactual_cost', greater_is_better=False, n_samples=100)
    >>> make_counterfactual_scorer("robust_accuracy", epsilon=0.1)
    make_counterfactual_scorer('robust_accuracy', greater_is_better=True, epsilon=0.1)
    """
    return CounterfactualScorer(
        metric, explainer=explainer, greater_is_better=greater_is_better,
        n_samples=n_samples, valid_only=valid_only, validity_threshold=validity_threshold,
        no_valid_score=no_valid_score, random_state=random_state,
        metric_params=metric_kwargs or None,
    )


# -- named scorers ----------------------------------------------------------------------------

# Predefined scorers use a fixed seed: every candidate of a search is then scored with the
# same random draws (common random numbers), and results are reproducible, as with
# scikit-learn's own (deterministic) scorers.
_SCORER_METRICS = {
    "counterfactual_validity": "counterfactual_validity",
    "neg_counterfactual_cost": "counterfactual_cost",
    "neg_implausibility": "implausibility",
    "neg_implausibility_mmd": "implausibility_mmd",
    "ynn": "ynn",
    "redundancy": "redundancy",
    "robust_accuracy": "robust_accuracy",
    "neg_invalidation_noise": "invalidation_rate",
    "counterfactual_diversity": "counterfactual_diversity",
    "change_set_diversity": "change_set_diversity",
}

# Metric options of the predefined scorers that differ from the metric's defaults. The
# retraining kind of invalidation_rate has no predefined scorer: it needs alternative
# models that a scorer cannot train (it only sees the scoring fold).
_SCORER_PARAMS = {
    "neg_invalidation_noise": {"kind": "noise"},
}

#: Counterfactuals per row of the default explainer of the diversity scorers.
DEFAULT_N_PER_ROW = 4


def get_scorer_names():
    """Get the names of all available scorers: sklearn_ct's and scikit-learn's.

    Returns
    -------
    names : list of str
        Sorted names accepted by :func:`get_scorer`.

    See Also
    --------
    get_scorer : Get a scorer by name.

    Examples
    --------
    >>> from sklearn_ct.metrics import get_scorer_names
    >>> "neg_implausibility" in get_scorer_names(), "accuracy" in get_scorer_names()
    (True, True)
    """
    return sorted(set(_SCORER_METRICS) | set(_sklearn_get_scorer_names()))


def get_scorer(scoring):
    """Get a scorer from its name, falling back to scikit-learn's scorers.

    sklearn_ct's names are ``"counterfactual_validity"``, ``"neg_counterfactual_cost"``,
    ``"neg_implausibility"``, ``"neg_implausibility_mmd"``, ``"ynn"``, ``"redundancy"``,
    ``"robust_accuracy"`` (FGSM, ``epsilon=0.03``), ``"neg_invalidation_noise"``
    (:func:`invalidation_rate` under Gaussian noise of scale 0.1, negated),
    ``"counterfactual_diversity"`` and ``"change_set_diversity"`` (4 counterfactuals per
    row). They use the defaults of :func:`make_counterfactual_scorer` with
    ``random_state=0``. Any other string is looked up with
    :func:`sklearn.metrics.get_scorer`.

    scikit-learn's search and validation tools only resolve scikit-learn's names, so pass
    sklearn_ct's scorers as objects: ``scoring={"acc": "accuracy", "ip":
    get_scorer("neg_implausibility")}``, or build the whole dict with :func:`make_scoring`.

    Parameters
    ----------
    scoring : str, callable or None
        Scorer name. A callable (e.g. a scorer) or None is returned as is.

    Returns
    -------
    scorer : callable
        A new scorer object (never shared between calls).

    See Also
    --------
    get_scorer_names : All accepted names.
    make_counterfactual_scorer : Scorers with other settings.

    Examples
    --------
    >>> from sklearn_ct.metrics import get_scorer
    >>> get_scorer("neg_implausibility")
    make_counterfactual_scorer('implausibility', greater_is_better=False, random_state=0)
    >>> get_scorer("accuracy")
    make_scorer(accuracy_score, response_method='predict')
    """
    if not isinstance(scoring, str):
        return scoring
    if scoring in _SCORER_METRICS:
        return CounterfactualScorer(_SCORER_METRICS[scoring], random_state=0,
                                    metric_params=_SCORER_PARAMS.get(scoring))
    try:
        return _sklearn_get_scorer(scoring)
    except ValueError:
        pass
    close = difflib.get_close_matches(scoring, get_scorer_names(), n=3)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(
        f"{scoring!r} is not a valid scoring value.{hint} sklearn_ct scorers: "
        f"{sorted(_SCORER_METRICS)}; scikit-learn scorers: see "
        "sklearn_ct.metrics.get_scorer_names() (or sklearn.metrics.get_scorer_names())."
    )


def make_scoring(scoring):
    """Build a multi-metric ``scoring`` dict, resolving sklearn_ct's scorer names.

    scikit-learn's ``GridSearchCV(scoring=...)`` and ``cross_validate(scoring=...)``
    resolve string names with :func:`sklearn.metrics.get_scorer`, which does not know
    sklearn_ct's scorers. This maps every name through :func:`get_scorer` instead.

    Parameters
    ----------
    scoring : dict, list or tuple
        ``{key: name or scorer}``, or a sequence of names (each its own key).

    Returns
    -------
    scorers : dict
        ``{key: scorer object}``, ready for ``scoring=``.

    See Also
    --------
    get_scorer : Resolve one name.

    Examples
    --------
    >>> from sklearn_ct.metrics import make_scoring
    >>> scoring = make_scoring({"accuracy": "accuracy", "plausibility": "neg_implausibility"})
    >>> sorted(scoring)
    ['accuracy', 'plausibility']
    """
    if isinstance(scoring, dict):
        items = scoring.items()
    elif isinstance(scoring, (list, tuple)):
        if not all(isinstance(name, str) for name in scoring):
            raise TypeError("A scoring list or tuple must contain scorer names (str); use a "
                            "dict to name scorer objects.")
        if len(set(scoring)) != len(scoring):
            raise ValueError(f"Duplicate scorer names in {list(scoring)!r}.")
        items = ((name, name) for name in scoring)
    else:
        raise TypeError(f"scoring must be a dict or a list of names, got "
                        f"{type(scoring).__name__}.")
    scorers = {}
    for key, value in items:
        if not isinstance(key, str):
            raise TypeError(f"Scoring keys must be str, got {key!r}.")
        if not (isinstance(value, str) or callable(value)):
            raise TypeError(f"scoring[{key!r}] must be a scorer name or a callable scorer, "
                            f"got {value!r}.")
        scorers[key] = get_scorer(value)
    return scorers
