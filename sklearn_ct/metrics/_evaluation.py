"""The paper's counterfactual evaluation protocol: many runs, valid counterfactuals, % reduction.

:func:`evaluate_counterfactuals` compares fitted models on the same test data the way
Counterfactual Training (Altmeyer et al., SaTML 2026) builds its main table (reference spec
3.1): in every run it draws factual labels and targets, then for every model individuals
*predicted* as the factual label, explains each once, keeps the valid counterfactuals and
averages each measure per run. :func:`aggregate_runs` turns the per-run values into means
and, against a baseline model, the mean-of-ratios reduction with its spread and a percentile
interval of the per-run differences.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted

from .._model import encode_labels
from .._utils import SEED_MAX
from ..explainers._default import PLAUSIBILITY_THRESHOLD, default_explainer
from . import _registry
from ._implausibility import implausibility_mmd
from ._registry import Counterfactuals, accepts_random_state, check_measure_params, get_measure
from ._validation import VALIDITY_THRESHOLD, _as_float
from ._validity import counterfactual_validity

#: Measures understood by :func:`evaluate_counterfactuals`, by their labels (the metric
#: functions' names and ``"sparsity"`` are accepted too).
MEASURES = tuple(m.label for m in _registry.MEASURES.values() if m.label is not None)

# The reference sub-sampled each side of every IP* group to 100 rows (spec 3.1, ``ndiv``).
_DEFAULT_MEASURE_PARAMS = {"implausibility_mmd": {"max_samples": 100}}

_SUMMARY_COLUMNS = ["model", "measure", "mean", "std", "n_runs", "n_counterfactuals",
                    "n_valid", "reduction", "reduction_std", "ci_low", "ci_high",
                    "significant"]


def _check_measures(measures):
    if isinstance(measures, str):
        measures = (measures,)
    try:
        measures = [_label(m) for m in measures]
    except TypeError:
        raise TypeError(f"measures must be a sequence of measure names, got "
                        f"{measures!r}.") from None
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise ValueError(f"Unknown measure(s) {unknown}; expected names from {list(MEASURES)}.")
    if not measures:
        raise ValueError("measures must name at least one measure.")
    if len(set(measures)) != len(measures):
        raise ValueError(f"Duplicate measures in {measures}.")
    return measures


def _check_measure_params(measure_params, measures):
    params = {m: dict(_DEFAULT_MEASURE_PARAMS.get(m, {})) for m in measures}
    if measure_params is None:
        return params
    if not isinstance(measure_params, Mapping):
        raise TypeError(f"measure_params must be a dict {{measure: kwargs}}, got "
                        f"{type(measure_params).__name__}.")
    for key, kwargs in measure_params.items():
        name = _label(key)
        if name not in measures:
            raise ValueError(f"measure_params has an entry for {key!r}, which is not among "
                             f"the measures {measures}.")
        if name == "validity":
            raise ValueError("validity takes no measure_params; use validity_threshold.")
        if not isinstance(kwargs, Mapping):
            raise TypeError(f"measure_params[{key!r}] must be a dict of keyword arguments.")
        check_measure_params(get_measure(name), kwargs)
        if name == "invalidation_rate" and kwargs.get("kind", "noise") != "noise":
            # One set of alternative models cannot stand for the retrained versions of
            # every compared model.
            raise ValueError(
                "evaluate_counterfactuals measures the invalidation rate under noise only; "
                "for retraining, call invalidation_rate(model, X_cf, target, "
                "kind='retrain', ...) with each model's own retrained versions.")
        params[name].update(kwargs)
    return params


def _run_means(values, selected):
    """Mean of ``values`` over the ``selected`` entries of each run (row); NaN when none."""
    count = selected.sum(axis=1)
    total = np.where(selected, values, 0.0).sum(axis=1)
    return np.divide(total, count, out=np.full(count.shape, np.nan), where=count > 0)


def _draw_individuals(model, X, factual, classes, rng):
    """For every (run, individual), a row of ``X`` that ``model`` predicts as its factual label.

    Returns the row indices (-1 where the model predicts no row as that label) and the
    labels that could not be drawn.
    """
    predicted = encode_labels(model.predict(X), classes, unknown=-1)
    chosen = np.full(factual.shape, -1, dtype=np.int64)
    missing = []
    for k in range(len(classes)):  # a loop over classes, vectorized over runs and individuals
        mask = factual == k
        pool = np.flatnonzero(predicted == k)
        if pool.size == 0:
            if mask.any():
                missing.append(classes[k].item())
            continue
        chosen[mask] = pool[rng.randint(pool.size, size=int(mask.sum()))]
    return chosen, missing


def _label(name):
    """The protocol's label of a measure name (the name itself when it is unknown)."""
    measure = get_measure(name)
    return name if measure is None or measure.label is None else measure.label


def _per_counterfactual(measure, params, cfs, seed):
    """Values of a per-counterfactual measure for the unique (row, target) pairs."""
    measure = get_measure(measure)
    kwargs = dict(params)
    if accepts_random_state(measure.func):
        kwargs.setdefault("random_state", seed)
    return measure.values(cfs, kwargs)


def _mmd_per_run(cf, target, selected, inverse, *, Xf, y, params, seeds, sample=None):
    """IP* of each run: group-wise (by target) MMD of the run's counterfactuals, clamped at 0.

    The groups' samples are the ``sample`` counterfactuals of the run (default: the
    selected ones; the reference: all of them, valid or not). Every selected
    counterfactual gets the value of its target group and the run's value is the mean
    over them (the reference's size-weighted mean of group values); groups where the
    unbiased estimate is undefined (a single counterfactual) are left out, as NaN.
    """
    sample = selected if sample is None else sample
    values = np.full(selected.shape[0], np.nan)
    n_undefined = 0
    for r in range(selected.shape[0]):  # a loop over runs; each call is vectorized
        idx = inverse[r][sample[r]]
        keep = selected[r][sample[r]]
        if not keep.any():
            continue
        kwargs = dict(params)
        kwargs.setdefault("random_state", int(seeds[r]))
        with warnings.catch_warnings():
            # Undefined groups are counted and reported once for the whole evaluation.
            warnings.simplefilter("ignore", UserWarning)
            group = implausibility_mmd(cf[idx], Xf, y, target[idx], aggregate=False,
                                       **kwargs)
        group = group[keep]
        defined = ~np.isnan(group)
        n_undefined += int((~defined).any())
        if defined.any():
            # The reference clamps the unbiased estimate at 0 before averaging (spec 3.1).
            values[r] = np.maximum(group[defined], 0.0).mean()
    return values, n_undefined


_CONFIDENCE = [Interval(numbers.Real, 0, 1, closed="neither")]


@validate_params(
    {
        "models": "no_validation",  # a non-empty dict, checked with a dedicated message
        "X": ["array-like"],
        "y": ["array-like"],
        "explainer": "no_validation",  # one template or a list, checked below
        "n_individuals": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_runs": [Interval(numbers.Integral, 1, None, closed="left")],
        "baseline": "no_validation",  # any model name
        "measures": "no_validation",  # names, checked against the registry
        "valid_only": ["boolean"],
        "mmd_sample": [StrOptions({"all", "selected"})],
        "validity_threshold": VALIDITY_THRESHOLD,
        "redraw_labels": ["boolean"],
        "measure_params": [None, Mapping],
        "confidence": _CONFIDENCE,
        "random_state": ["random_state"],
        "return_raw": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def evaluate_counterfactuals(models, X, y, *, explainer=None, n_individuals=100, n_runs=100,
                             baseline=None,
                             measures=("validity", "cost", "implausibility",
                                       "implausibility_mmd"),
                             valid_only=True, mmd_sample="all", validity_threshold=None,
                             redraw_labels=True,
                             measure_params=None, confidence=0.99, random_state=None,
                             return_raw=False):
    """Compare the counterfactuals of several fitted models with the paper's protocol.

    Follows the evaluation of Counterfactual Training (Altmeyer et al., SaTML 2026). In
    each of ``n_runs`` runs:

    1. ``n_individuals`` factual labels are drawn uniformly from the classes of ``y``, and
       for each a target uniformly from the other classes;
    2. for every model separately, each individual is a row of ``X`` drawn uniformly among
       those the model *predicts* as the factual label (with replacement across runs);
    3. each (individual, model) gets one counterfactual towards its target;
    4. every measure is averaged over the run's valid counterfactuals (validity over all
       of them).

    The per-run values are then summarized by :func:`aggregate_runs`: mean and standard
    deviation over runs, and against ``baseline`` the reduction
    :math:`100\\,(1 - \\overline{r})` of the per-run ratios
    :math:`r = \\text{model} / \\text{baseline}` with ``"±"`` :math:`100\\,\\mathrm{sd}(r)`,
    the ``confidence`` percentile interval of the per-run differences and whether it
    excludes 0.

    Parameters
    ----------
    models : dict
        ``{name: fitted classifier}``, e.g. ``{"BL": baseline, "CT": ct}``; classifiers that
        the explainer can explain (:class:`~sklearn_ct.CTClassifier`, a pipeline ending in
        one, ...). They are wrapped in :class:`~sklearn.frozen.FrozenEstimator` and never
        modified.
    X : array-like of shape (n_samples, n_features)
        Test data: the pool of individuals and the plausibility reference. Numeric
        features; measures are computed in this feature space.
    y : array-like of shape (n_samples,)
        True labels of ``X``. Its classes are the factual labels and targets drawn.
    explainer : explainer, list of explainers or None, default=None
        Unfitted template(s), cloned per model with ``estimator=FrozenEstimator(model)``
        and fitted on ``(X, y)``. None is the paper's test-time explainer: ECCo with
        ``lambda_cost=0, lambda_energy=1``, 50 steps of size 0.1, threshold 0.95 (the
        paper's plausibility evaluation; its cost column came from a separate evaluation at
        threshold 0.5 with mutability constraints: pass such an explainer for cost).
        With a list (e.g. several ``lambda_energy`` values, as in the paper), every
        template explains the same individuals and the per-run values are averaged over
        templates.
    n_individuals : int, default=100
        Individuals per run and model (paper: 250 synthetic, 100 tabular, 25 MNIST).
    n_runs : int, default=100
        Number of runs (bootstrap rounds).
    baseline : str or None, default=None
        Name of the reference model for the comparison columns; None leaves them empty.
    measures : sequence of str, default=("validity", "cost", "implausibility", \
"implausibility_mmd")
        Any of ``"validity"``, ``"cost"`` (L1), ``"implausibility"`` (IP),
        ``"implausibility_mmd"`` (IP*), ``"redundancy"``, ``"ynn"`` and
        ``"invalidation_rate"`` (under Gaussian noise, :func:`invalidation_rate` with
        ``kind="noise"``; always over the valid counterfactuals, with the validity rule of
        ``validity_threshold``; lower is better).
    valid_only : bool, default=True
        Average the measures (and build IP*'s counterfactual sample) over valid
        counterfactuals only, as the paper's table does.
    mmd_sample : {"all", "selected"}, default="all"
        Which counterfactuals of a run form IP*'s sample of each target group: all of
        them, valid or not, as the reference did (spec section 3.1), or only those the
        measures are averaged over (the valid ones when ``valid_only``). Either way the
        run's IP* is the mean of the group values over the averaged counterfactuals.
        Building the sample from valid ones only favours a model with low validity less
        and lowers the CT-vs-baseline reduction when the baseline's validity is low (on
        Circ: 82.6 % instead of 92.4 %).
    validity_threshold : float or None, default=None
        None: a counterfactual is valid when the model predicts its target (argmax), the
        paper's validity measure; a float ``t``: target probability ``>= t``.
    redraw_labels : bool, default=True
        Redraw factual labels and targets in every run, as the paper's appendix describes.
        False draws them once for all runs (only individuals are redrawn), as the
        reference code does (spec quirk 6.2.21).
    measure_params : dict or None, default=None
        ``{measure: kwargs}`` for the metric functions, e.g.
        ``{"implausibility_mmd": {"length_scale": 0.5}}`` or ``{"invalidation_rate":
        {"noise_scale": 0.1 * X.std(axis=0)}}``. IP* defaults to
        ``max_samples=100`` (the reference's sub-sampling of each side of every group).
    confidence : float, default=0.99
        Coverage of the percentile interval of the per-run differences.
    random_state : int, RandomState instance or None, default=None
        Seeds all draws (labels, individuals, IP* sub-samples) and the explainers.
    return_raw : bool, default=False
        Also return the per-run values.

    Returns
    -------
    summary : pandas.DataFrame
        One row per (model, measure), in the order given, with columns ``model``,
        ``measure``, ``mean`` and ``std`` (over runs), ``n_runs`` (runs with a value),
        ``n_counterfactuals`` and ``n_valid`` (totals over runs and explainer templates),
        and, for models other than ``baseline``, ``reduction`` and ``reduction_std`` (in
        %), ``ci_low``, ``ci_high`` (interval of model minus baseline) and
        ``significant``.
    raw : pandas.DataFrame
        Only if ``return_raw``: one row per (model, explainer, measure, run) with columns
        ``model``, ``explainer`` (template index), ``measure``, ``run``, ``value``,
        ``n_counterfactuals`` and ``n_valid``.

    See Also
    --------
    aggregate_runs : The summary step on its own.
    make_counterfactual_scorer : Single-number scorers for model selection.

    Notes
    -----
    Counterfactual searches are batched: all (row, target) pairs a model needs over all
    runs are deduplicated and explained in one call per template (the explainer's result
    for a row does not depend on the rest of the batch), so the cost grows with the number
    of distinct test rows drawn, not with ``n_runs``.

    Deliberate differences from the reference implementation:

    * labels are redrawn per run by default (see ``redraw_labels``);
    * IP uses every target-class row of ``X`` instead of 1,000 draws with replacement
      (pass ``measure_params={"implausibility": {"max_reference": 1000}}`` for those);
    * IP* groups counterfactuals by target, where the reference grouped by factual label
      and target (spec quirk 6.2.16); like the reference it builds each group from all
      counterfactuals (``mmd_sample="all"``), averages over the valid ones, clamps the
      estimates at 0 and skips groups with a single counterfactual (one warning);
    * the interval uses plain differences model - baseline.

    Examples
    --------
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_ct import CTClassifier
    >>> from sklearn_ct.datasets import load_synthetic
    >>> from sklearn_ct.metrics import evaluate_counterfactuals
    >>> ds = load_synthetic("linearly_separable", n_samples=300, random_state=0)
    >>> scaler = StandardScaler().fit(ds.X_train)
    >>> X, X_test = scaler.transform(ds.X_train), scaler.transform(ds.X_test)
    >>> models = {name: CTClassifier(objective=name, max_epochs=5, random_state=0).fit(
    ...     X, ds.y_train) for name in ("vanilla", "full")}
    >>> summary = evaluate_counterfactuals(models, X_test, ds.y_test, n_individuals=10,
    ...                                    n_runs=5, baseline="vanilla", random_state=0)
    >>> summary[["model", "measure"]].head(2).values.tolist()
    [['vanilla', 'validity'], ['vanilla', 'cost']]
    """
    if not isinstance(models, Mapping) or not models:
        raise TypeError("models must be a non-empty dict {name: fitted classifier}.")
    names = list(models)
    if baseline is not None and baseline not in models:
        raise ValueError(f"baseline {baseline!r} is not one of the models {names}.")
    for name, model in models.items():
        try:
            check_is_fitted(model)
        except TypeError:
            raise TypeError(f"models[{name!r}] is not an estimator: {model!r}.") from None
        except NotFittedError as exc:
            raise NotFittedError(f"models[{name!r}] is not fitted: {exc}") from None
    measures = _check_measures(measures)
    params = _check_measure_params(measure_params, measures)
    if explainer is None:
        templates = [default_explainer(PLAUSIBILITY_THRESHOLD)]
    elif isinstance(explainer, (list, tuple)):
        templates = list(explainer)
        if not templates:
            raise ValueError("explainer must not be an empty list.")
    else:
        templates = [explainer]
    for template in templates:
        if not (hasattr(template, "fit") and hasattr(template, "explain")):
            raise TypeError(f"explainer must be an unfitted explainer template with fit and "
                            f"explain, got {template!r}.")

    Xf = _as_float(X, "X")
    if Xf.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {Xf.shape}.")
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != Xf.shape[0]:
        raise ValueError(f"y must be 1-D with one label per row of X ({Xf.shape[0]}), got "
                         f"shape {y.shape}.")
    classes = np.unique(y)
    n_classes = classes.size
    if n_classes < 2:
        raise ValueError(f"y must contain at least 2 classes to draw targets, got "
                         f"{classes.tolist()}.")

    rng = check_random_state(random_state)
    shape = (n_runs if redraw_labels else 1, n_individuals)
    factual = rng.randint(n_classes, size=shape)
    # Uniform over the other classes: shift by 1..K-1 modulo K.
    target = (factual + 1 + rng.randint(n_classes - 1, size=shape)) % n_classes
    factual = np.broadcast_to(factual, (n_runs, n_individuals))
    target = np.broadcast_to(target, (n_runs, n_individuals))
    model_seeds = rng.randint(SEED_MAX, size=len(names))
    template_seeds = rng.randint(SEED_MAX, size=len(templates))

    blocks = []
    n_undefined_mmd = 0
    for name, model, model_seed in zip(names, models.values(), model_seeds):
        model_rng = np.random.RandomState(model_seed)
        chosen, missing = _draw_individuals(model, X, factual, classes, model_rng)
        run_seeds = model_rng.randint(SEED_MAX, size=n_runs)
        if missing:
            warnings.warn(
                f"Model {name!r} predicts no row of X as class(es) {missing}; the "
                f"individuals with those factual labels are skipped for it.",
                UserWarning,
                stacklevel=2,
            )
        drawn = chosen >= 0
        # Deduplicate (row, target) pairs: each is explained once for all runs.
        key = chosen * n_classes + target
        unique, inverse = np.unique(key[drawn], return_inverse=True)
        inverse_full = np.full(chosen.shape, -1, dtype=np.int64)
        inverse_full[drawn] = inverse
        rows, t_idx = unique // n_classes, unique % n_classes
        n_ce = drawn.sum(axis=1)
        for e, (template, template_seed) in enumerate(zip(templates, template_seeds)):
            values, n_valid, n_undef = _evaluate_one(
                model, template, X=X, Xf=Xf, y=y, classes=classes, rows=rows, t_idx=t_idx,
                drawn=drawn, inverse=inverse_full, measures=measures, params=params,
                valid_only=valid_only, validity_threshold=validity_threshold,
                seed=None if random_state is None else int(template_seed),
                run_seeds=run_seeds, mmd_sample=mmd_sample)
            n_undefined_mmd += n_undef
            for measure in measures:
                blocks.append(pd.DataFrame({
                    "model": name, "explainer": e, "measure": measure,
                    "run": np.arange(n_runs), "value": values[measure],
                    "n_counterfactuals": n_ce, "n_valid": n_valid,
                }))
    if n_undefined_mmd:
        warnings.warn(
            f"IP* was undefined (a target group with a single counterfactual) for some "
            f"groups in {n_undefined_mmd} (run, model, explainer) evaluations; those groups "
            "are left out of the run means.",
            UserWarning,
            stacklevel=2,
        )
    raw = pd.concat(blocks, ignore_index=True)
    summary = aggregate_runs(raw, baseline, confidence=confidence)
    return (summary, raw) if return_raw else summary


def _evaluate_one(model, template, *, X, Xf, y, classes, rows, t_idx, drawn, inverse,
                  measures, params, valid_only, validity_threshold, seed, run_seeds,
                  mmd_sample="all"):
    """Explain the unique pairs of one model with one template; per-run values."""
    n_runs = drawn.shape[0]
    if rows.size == 0:
        # The model predicts none of y's classes on X: nothing to explain.
        empty = np.full(n_runs, np.nan)
        return {m: empty.copy() for m in measures}, np.zeros(n_runs, dtype=np.int64), 0
    explainer = clone(template)
    settings = {"estimator": FrozenEstimator(model)}
    if seed is not None and "random_state" in explainer.get_params(deep=False):
        settings["random_state"] = seed
    explainer.set_params(**settings).fit(X, y)
    target_labels = classes[t_idx]
    result = explainer.explain(_safe_indexing(X, rows), target=target_labels)
    cf_raw = result.counterfactuals
    cf = _as_float(cf_raw, "The counterfactuals")
    valid_unique = counterfactual_validity(model, cf_raw, target_labels,
                                           threshold=validity_threshold, aggregate=False)

    valid = np.zeros(drawn.shape, dtype=bool)
    valid[drawn] = valid_unique[inverse[drawn]]
    n_valid = valid.sum(axis=1)
    selected = valid if valid_only else drawn
    values = {}
    n_undefined = 0
    for measure in measures:
        spec = get_measure(measure)
        if measure == "validity":
            values[measure] = _run_means(valid.astype(np.float64), drawn)
        elif measure == "implausibility_mmd":
            values[measure], n_undefined = _mmd_per_run(
                cf, target_labels, selected, inverse, Xf=Xf, y=y, params=params[measure],
                seeds=run_seeds, sample=drawn if mmd_sample == "all" else selected)
        else:
            cfs = Counterfactuals(X=Xf[rows], X_cf=cf, X_cf_raw=cf_raw, target=target_labels,
                                  valid=valid_unique, model=model, X_ref=Xf, X_ref_raw=X,
                                  y_ref=y, validity_threshold=validity_threshold)
            per_ce = _per_counterfactual(measure, params[measure], cfs, int(run_seeds[0]))
            full = np.zeros(drawn.shape)
            full[drawn] = per_ce[inverse[drawn]]
            values[measure] = _run_means(full, valid if spec.valid_required else selected)
    return values, n_valid, n_undefined


@validate_params(
    {"raw": [pd.DataFrame], "baseline": "no_validation", "confidence": _CONFIDENCE},
    prefer_skip_nested_validation=True,
)
def aggregate_runs(raw, baseline=None, *, confidence=0.99):
    """Summarize per-run values into the paper's main-table statistics.

    For every (model, measure): the mean and standard deviation (``ddof=1``) over runs of
    the per-run values; rows sharing (model, measure, run), e.g. from several explainer
    settings, are averaged first, as the paper averages over ``lambda_energy``. Against a
    ``baseline`` model, per run :math:`r = v_{model} / v_{baseline}` and
    :math:`\\Delta = v_{model} - v_{baseline}`:

    * ``reduction`` :math:`= 100\\,(1 - \\mathrm{mean}(r))` (positive: the model's value is
      lower; the mean of ratios, not the ratio of means);
    * ``reduction_std`` :math:`= 100\\,\\mathrm{sd}(r)`, the "±" of the paper's table;
    * ``ci_low``, ``ci_high``: the central ``confidence`` percentile interval of
      :math:`\\Delta` (linear interpolation);
    * ``significant``: the interval excludes 0.

    Runs where either value is missing, or the ratio is not finite (baseline value 0),
    are left out of the corresponding statistics.

    Parameters
    ----------
    raw : pandas.DataFrame
        Per-run values with columns ``model``, ``measure``, ``run`` and ``value``;
        optional ``n_counterfactuals`` and ``n_valid`` are summed.
    baseline : str or None, default=None
        Reference model; None leaves the comparison columns empty (NaN, and
        ``significant`` False), as they are for the baseline's own rows.
    confidence : float, default=0.99
        Coverage of the percentile interval.

    Returns
    -------
    summary : pandas.DataFrame
        One row per (model, measure), in order of first appearance, with columns
        ``model``, ``measure``, ``mean``, ``std``, ``n_runs``, ``n_counterfactuals``,
        ``n_valid``, ``reduction``, ``reduction_std``, ``ci_low``, ``ci_high`` and
        ``significant`` (count columns are absent when ``raw`` lacks them).

    See Also
    --------
    evaluate_counterfactuals : Produces ``raw``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_ct.metrics import aggregate_runs
    >>> raw = pd.DataFrame({"model": ["BL", "BL", "CT", "CT"], "measure": "cost",
    ...                     "run": [0, 1, 0, 1], "value": [2.0, 4.0, 1.0, 3.0]})
    >>> aggregate_runs(raw, "BL").loc[1, ["mean", "reduction"]].tolist()
    [2.0, 37.5]
    """
    missing = [c for c in ("model", "measure", "run", "value") if c not in raw.columns]
    if missing:
        raise ValueError(f"raw lacks the column(s) {missing}; it needs model, measure, run "
                         "and value.")
    if raw.empty:
        raise ValueError("raw has no rows.")
    models = pd.unique(raw["model"])
    if baseline is not None and baseline not in set(models):
        raise ValueError(f"baseline {baseline!r} is not one of the models {list(models)}.")
    measures = pd.unique(raw["measure"])
    index = pd.MultiIndex.from_product([models, measures], names=["model", "measure"])

    values = pd.to_numeric(raw["value"], errors="raise").astype(np.float64)
    per_run = values.groupby([raw["model"], raw["measure"], raw["run"]]).mean()
    wide = per_run.unstack("run").reindex(index)  # (model, measure) x run

    out = pd.DataFrame(index=index)
    out["mean"] = wide.mean(axis=1)
    out["std"] = wide.std(axis=1, ddof=1)
    out["n_runs"] = wide.notna().sum(axis=1).astype(np.int64)
    for col in ("n_counterfactuals", "n_valid"):
        if col in raw.columns:
            counts = raw.groupby(["model", "measure"])[col].sum()
            out[col] = counts.reindex(index).fillna(0).astype(np.int64)
    for col in ("reduction", "reduction_std", "ci_low", "ci_high"):
        out[col] = np.nan
    out["significant"] = False

    if baseline is not None:
        base = wide.xs(baseline, level="model").reindex(index.get_level_values("measure"))
        base = base.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = wide / base
        ratio = ratio.where(np.isfinite(ratio))
        diff = wide - base
        alpha = 1.0 - confidence
        other = index.get_level_values("model") != baseline
        out.loc[other, "reduction"] = (100.0 * (1.0 - ratio.mean(axis=1)))[other]
        out.loc[other, "reduction_std"] = (100.0 * ratio.std(axis=1, ddof=1))[other]
        low = diff.quantile(alpha / 2, axis=1, interpolation="linear")
        high = diff.quantile(1 - alpha / 2, axis=1, interpolation="linear")
        out.loc[other, "ci_low"] = low[other]
        out.loc[other, "ci_high"] = high[other]
        out.loc[other, "significant"] = ((low > 0) | (high < 0))[other]
    out = out.reset_index()
    return out[[c for c in _SUMMARY_COLUMNS if c in out.columns]]
