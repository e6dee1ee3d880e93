"""Does recourse survive? Invalidation of the baseline's and CT's counterfactuals.

Not part of the paper: an extension asked by users of recourse methods. CT's
counterfactuals travel further into the target class (they are more plausible); the
question is whether they therefore also stay valid when the model is retrained, or when
the person implements them imprecisely. For every data set:

* **retraining**: the baseline and CT are each retrained ``n_refits`` times with the same
  settings, a new seed and a bootstrap sample of the training data (:func:`fit_refit`);
  a counterfactual's rate is the share of its model's refits under which it is no longer
  valid (Pawelczyk, Broelemann and Kasneci, 2020);
* **noise**: Gaussian noise with a standard deviation of ``invalidation_noise`` times
  each feature's training standard deviation (none on one-hot columns), ``invalidation_draws``
  draws per counterfactual (the average-case invalidation rate of Pawelczyk et al., 2023;
  Dominguez-Olmedo, Karimi and Schölkopf, 2022, study the worst case).

Counterfactuals come from the unconstrained test-time search of the main evaluation, at
both of its thresholds (0.95, where the paper measures plausibility, and 0.5, where it
measures cost), averaged over the energy weights; individuals are drawn per run as in
:func:`~sklearn_ct.metrics.evaluate_counterfactuals`, and rates are averaged per run over
the valid counterfactuals (valid: the model predicts the target).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator

from ..metrics import aggregate_runs, counterfactual_validity, invalidation_rate
from ..metrics._evaluation import _draw_individuals
from ._datasets import EXPERIMENT_DATASETS
from ._evaluation import explainer_templates
from ._training import make_model, model_seed

__all__ = ["REFIT_MODELS", "fit_refit", "noise_scale", "evaluate_invalidation",
           "invalidation_table", "format_invalidation_table"]

#: The models whose recourse is checked (each is retrained ``n_refits`` times).
REFIT_MODELS = ("BL", "CT")

#: Measure names in the raw results.
INVALIDATION_MEASURES = {"retrain": "IR retrain", "noise": "IR noise"}


def fit_refit(data, model, settings, random_state, index):
    """Retrain one model of one data set with a new seed on a bootstrap sample.

    Parameters
    ----------
    data : :class:`~sklearn.utils.Bunch`
        A prepared data set.
    model : {"BL", "CT"}
        Which model to retrain (same settings as in :func:`make_model`).
    settings : ExperimentSettings
        Experiment settings.
    random_state : int
        The experiment's seed.
    index : int
        Number of the refit; seeds the model and the bootstrap sample.

    Returns
    -------
    clf : :class:`~sklearn_ct.CTClassifier`
        The retrained classifier.
    info : dict
        ``dataset``, ``model``, ``refit`` (the index) and ``fit_seconds``.
    """
    seed = model_seed(random_state, data.spec.name, model, "refit", index)
    clf = make_model(data, model, settings, random_state).set_params(random_state=seed)
    n = len(data.y_train)
    rows = np.random.RandomState(seed).randint(n, size=n)
    tic = time.perf_counter()
    clf.fit(data.X_train[rows], data.y_train[rows])
    return clf, dict(dataset=data.spec.name, model=model, refit=int(index),
                     fit_seconds=time.perf_counter() - tic)


def noise_scale(data, settings):
    """Per-feature noise standard deviation: a fraction of each feature's training sd.

    One-hot columns get no noise: a perturbed dummy is not a category.

    Parameters
    ----------
    data : :class:`~sklearn.utils.Bunch`
        A prepared data set.
    settings : ExperimentSettings
        Experiment settings (``invalidation_noise``).

    Returns
    -------
    scale : ndarray of shape (n_features,)
        Standard deviations.
    """
    scale = settings.invalidation_noise * data.X_train.std(axis=0)
    for group in data.categorical_groups:
        scale[group] = 0.0
    return scale


def evaluate_invalidation(data, models, refits, settings, random_state):
    """Invalidation rates of the baseline's and CT's counterfactuals, per run.

    Parameters
    ----------
    data : :class:`~sklearn.utils.Bunch`
        A prepared data set.
    models : dict
        Fitted models by name; ``"BL"`` and ``"CT"`` are evaluated.
    refits : dict
        ``{"BL": [...], "CT": [...]}``: each model's retrained versions
        (:func:`fit_refit`); empty lists skip the retraining measure.
    settings : ExperimentSettings
        Experiment settings.
    random_state : int
        The experiment's seed.

    Returns
    -------
    raw : pandas.DataFrame
        ``dataset``, ``threshold`` (of the search), ``model``, ``lambda_energy``,
        ``measure`` (``"IR retrain"``, ``"IR noise"``), ``run``, ``value`` (mean rate over
        the run's valid counterfactuals), ``n_counterfactuals`` and ``n_valid``. The
        summary averages the energy weights per run, as the main evaluation does.
    """
    X, y = data.X_test, data.y_test
    classes = np.unique(y)
    n_classes = classes.size
    name = data.spec.name
    rng = np.random.RandomState(model_seed(random_state, name, "invalidation"))
    shape = (settings.n_runs, settings.individuals(data.spec.kind))
    factual = rng.randint(n_classes, size=shape)
    # Uniform over the other classes, as evaluate_counterfactuals draws them.
    target = (factual + 1 + rng.randint(n_classes - 1, size=shape)) % n_classes
    scale = noise_scale(data, settings)
    base = explainer_templates(data, settings, "plausibility")
    thresholds = (settings.plausibility_threshold, settings.cost_threshold)

    rows_out = []
    for model_name in REFIT_MODELS:
        model = models[model_name]
        alternatives = list(refits.get(model_name, ()))
        # A row of X predicted as each factual label (-1 where there is none), drawn as
        # evaluate_counterfactuals draws them.
        chosen, _ = _draw_individuals(
            model, X, factual, classes,
            np.random.RandomState(model_seed(random_state, name, model_name, "individuals")))
        drawn = chosen >= 0
        # Each (row, target) pair is explained once for all runs (the search of a row does
        # not depend on the rest of the batch).
        key = np.where(drawn, chosen * n_classes + target, -1)
        unique, inverse = np.unique(key[drawn], return_inverse=True)
        rows, t_idx = unique // n_classes, unique % n_classes
        index = np.full(shape, -1, dtype=np.int64)
        index[drawn] = inverse
        for threshold in thresholds:
            for e, template in enumerate(base):
                explainer = clone(template).set_params(
                    estimator=FrozenEstimator(model), decision_threshold=threshold,
                    random_state=0).fit(data.X_test, data.y_test)
                labels = classes[t_idx]
                cf = np.asarray(explainer.explain(X[rows], target=labels).counterfactuals)
                valid = counterfactual_validity(model, cf, labels, aggregate=False)
                per_pair = {"noise": invalidation_rate(
                    model, cf, labels, kind="noise", noise_scale=scale,
                    n_draws=settings.invalidation_draws, aggregate=False,
                    random_state=model_seed(random_state, name, model_name, threshold, e))}
                if alternatives:
                    per_pair["retrain"] = invalidation_rate(
                        model, cf, labels, kind="retrain", models=alternatives,
                        aggregate=False)
                valid_full = np.zeros(shape, dtype=bool)
                valid_full[drawn] = valid[index[drawn]]
                count = valid_full.sum(axis=1)
                for measure, rates in per_pair.items():
                    values = np.zeros(shape)
                    # Rates are NaN for invalid counterfactuals, which are left out.
                    values[drawn] = np.nan_to_num(rates[index[drawn]])
                    total = np.where(valid_full, values, 0.0).sum(axis=1)
                    run_mean = np.divide(total, count, out=np.full(count.shape, np.nan),
                                         where=count > 0)
                    rows_out.append(pd.DataFrame({
                        "dataset": name, "threshold": threshold, "model": model_name,
                        "lambda_energy": settings.lambda_energies[e],
                        "measure": INVALIDATION_MEASURES[measure],
                        "run": np.arange(settings.n_runs), "value": run_mean,
                        "n_counterfactuals": drawn.sum(axis=1), "n_valid": count,
                    }))
    return pd.concat(rows_out, ignore_index=True)


def invalidation_table(raw):
    """Mean invalidation rates of the baseline and CT, with CT's difference.

    Parameters
    ----------
    raw : pandas.DataFrame
        Results of :func:`evaluate_invalidation` (any number of data sets).

    Returns
    -------
    table : pandas.DataFrame
        One row per (data set, threshold, measure) with ``dataset``, ``label``,
        ``threshold``, ``measure``, ``mean_BL``, ``mean_CT`` (mean over runs),
        ``reduction`` (CT's % reduction, mean of the per-run ratios; NaN where the
        baseline's rate is 0), ``ci_low``, ``ci_high`` (99 % interval of the per-run
        differences CT - BL), ``significant`` (the interval excludes 0) and ``n_runs``.
    """
    rows = []
    for (dataset, threshold, measure), group in raw.groupby(
            ["dataset", "threshold", "measure"], sort=False):
        summary = aggregate_runs(group, "BL").set_index("model")
        row = dict(dataset=dataset, label=EXPERIMENT_DATASETS[dataset].label,
                   threshold=float(threshold), measure=measure,
                   mean_BL=summary.loc["BL", "mean"], mean_CT=summary.loc["CT", "mean"],
                   reduction=summary.loc["CT", "reduction"],
                   ci_low=summary.loc["CT", "ci_low"], ci_high=summary.loc["CT", "ci_high"],
                   significant=bool(summary.loc["CT", "significant"]),
                   n_runs=int(min(summary.loc["BL", "n_runs"], summary.loc["CT", "n_runs"])))
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(value):
    if value is None or not np.isfinite(value):
        return "n/a"
    # Rare invalidations should not print as a flat zero next to a significance mark.
    return "<0.001" if 0 < value < 0.0005 else f"{value:.3f}"


def format_invalidation_table(table, *, n_refits=None, noise=None):
    """The invalidation table as text: BL and CT per measure, per data set and threshold.

    Parameters
    ----------
    table : pandas.DataFrame
        Result of :func:`invalidation_table`.
    n_refits : int or None, default=None
        Refits per model, for the notes.
    noise : float or None, default=None
        Noise scale (fraction of each feature's sd), for the notes.

    Returns
    -------
    text : str
        The table with notes.
    """
    from ._tables import _layout

    header = ["Data", "tau", "retrain BL", "retrain CT", "noise BL", "noise CT"]
    rows = []
    for (dataset, threshold), group in table.groupby(["dataset", "threshold"], sort=False):
        group = group.set_index("measure")
        row = [EXPERIMENT_DATASETS[dataset].label, f"{threshold:.2f}"]
        for measure in INVALIDATION_MEASURES.values():
            if measure not in group.index:
                row += ["n/a", "n/a"]
                continue
            r = group.loc[measure]
            row += [_cell(r["mean_BL"]),
                    _cell(r["mean_CT"]) + (" *" if r["significant"] else "")]
        rows.append(row)
    refits = f"{n_refits} " if n_refits is not None else ""
    sd = f"{noise:g} x each feature's sd" if noise is not None else "Gaussian noise"
    retrain = (f"under the model's {refits}refits (new seed, bootstrap sample)"
               if n_refits != 0 else
               "n/a, no refits (the quick preset's default; --refits N or --full retrain "
               "each model)")
    notes = [
        "Share of valid counterfactuals that stop being valid (lower is better), mean over "
        "runs.",
        f"retrain: {retrain}.",
        f"noise: under Gaussian noise of {sd} (none on one-hot columns).",
        "tau: threshold of the unconstrained test-time search.",
        "*: the 99 % interval of the per-run differences CT - BL excludes 0.",
    ]
    return _layout(header, rows, notes)
