"""Run the whole experiment: prepare data, train, evaluate, and summarise.

:func:`run_experiment` trains the baseline, CT, and CT with the protected feature on every
data set, evaluates their counterfactuals in the paper's two settings and their robustness,
and returns an :class:`ExperimentResult` holding the raw results and the paper's tables.
Training and evaluation tasks run in parallel with joblib (``n_jobs``); every task's seed
is derived from the experiment's seed and the task's names, so results do not depend on
``n_jobs`` or on which other data sets run.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import time

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs

from .._classifier import CTClassifier
from ._datasets import prepare_dataset, resolve_datasets
from ._evaluation import evaluate_explanations, evaluate_robustness
from ._recourse import REFIT_MODELS, evaluate_invalidation, fit_refit, invalidation_table
from ._settings import experiment_settings
from ._tables import (
    comparison_table,
    format_comparison,
    format_report,
    robustness_table,
    table_one,
    validity_table,
)
from ._training import experiment_models, fit_model

__all__ = ["ExperimentResult", "run_experiment"]


class ExperimentResult:
    """Results of :func:`run_experiment`.

    Built by :func:`run_experiment`; the summary tables are computed from the raw results
    on construction.

    Parameters
    ----------
    settings : ExperimentSettings
        The settings the experiment ran with.
    data : dict
        Prepared data sets by name (:func:`~sklearn_ct.experiment.prepare_dataset`).
    models : dict
        Fitted models, ``{dataset: {"BL": ..., "CT": ..., "CT_protected": ...}}`` (and
        the other objectives' models, see
        :func:`~sklearn_ct.experiment.experiment_models`).
    training : pandas.DataFrame
        One row per model: fit time, training accuracy, share of mature training
        counterfactuals in the last epoch.
    counterfactuals : pandas.DataFrame
        Per-run counterfactual results of both evaluation settings
        (:func:`~sklearn_ct.experiment.evaluate_explanations`).
    robustness : pandas.DataFrame
        Accuracy per data set, model, attack and epsilon
        (:func:`~sklearn_ct.experiment.evaluate_robustness`).
    timings : dict
        Wall-clock seconds per stage (``"training"``, ``"evaluation"``, ``"total"``).
    invalidation : pandas.DataFrame or None, default=None
        Per-run invalidation rates of the baseline's and CT's counterfactuals
        (:func:`~sklearn_ct.experiment.evaluate_invalidation`).
    refits : dict or None, default=None
        Retrained models, ``{dataset: {"BL": [...], "CT": [...]}}``.

    Attributes
    ----------
    table1 : pandas.DataFrame
        The paper's Table I with the published values
        (:func:`~sklearn_ct.experiment.table_one`).
    validity : pandas.DataFrame
        Validity table (:func:`~sklearn_ct.experiment.validity_table`).
    robustness_summary : pandas.DataFrame
        Robustness summary (:func:`~sklearn_ct.experiment.robustness_table`).
    comparison : pandas.DataFrame
        Every objective against the baseline
        (:func:`~sklearn_ct.experiment.comparison_table`).
    invalidation_summary : pandas.DataFrame or None
        Invalidation table (:func:`~sklearn_ct.experiment.invalidation_table`).
    """

    def __init__(self, *, settings, data, models, training, counterfactuals, robustness,
                 timings, invalidation=None, refits=None):
        self.settings = settings
        self.data = data
        self.models = models
        self.training = training
        self.counterfactuals = counterfactuals
        self.robustness = robustness
        self.table1 = table_one(counterfactuals)
        self.validity = validity_table(counterfactuals)
        self.robustness_summary = robustness_table(robustness)
        self.comparison = comparison_table(counterfactuals, robustness, training)
        self.invalidation = invalidation
        self.invalidation_summary = (None if invalidation is None or invalidation.empty
                                     else invalidation_table(invalidation))
        self.refits = refits
        self.timings = timings

    def report(self):
        """The tables as text, ours next to the paper's.

        Returns
        -------
        report : str
            Table I, the absolute means behind it, the validity table, the robustness
            table and the invalidation table, with notes; with objectives beyond the
            baseline and CT, the comparison of all objectives.
        """
        report = format_report(self.table1, self.validity, self.robustness_summary,
                               invalidation=self.invalidation_summary,
                               settings=self.settings)
        if set(self.comparison["model"]) - {"BL", "CT"}:
            report += "\n\n" + format_comparison(self.comparison)
        return report

    def __repr__(self):
        return (f"ExperimentResult(datasets={list(self.data)}, "
                f"preset={self.settings.preset!r}, n_runs={self.settings.n_runs})")


_WARM_PROCESSES = set()


def _warm_up():
    """One tiny untimed fit per process, before the first timed one.

    The first fit of a process pays one-time costs (torch imports its compiler stack when
    the first optimizer is built, seconds on a loaded machine); they would be charged to
    whichever model happens to be fitted first and distort the fit-time ratios.
    """
    import os

    if os.getpid() in _WARM_PROCESSES:
        return
    X = np.arange(16, dtype=np.float64).reshape(8, 2)
    CTClassifier(objective="vanilla", max_epochs=1, batch_size=4, random_state=0).fit(
        X, np.arange(8) % 2)
    _WARM_PROCESSES.add(os.getpid())


def _task(func, args, single_thread):
    """Run one task; in a worker process, with one torch thread."""
    if single_thread:
        import torch

        # Workers share the machine's cores: one intra-op thread each avoids
        # oversubscription (and is the fastest setting for these small networks).
        torch.set_num_threads(1)
    return func(*args)


def _fit(func, args):
    """A training task, ``func(*args)`` (:func:`fit_model` or :func:`fit_refit`).

    Training tasks of both functions share one pool; each process makes its untimed
    warm-up fit before its first one.
    """
    _warm_up()
    return func(*args)


def _run_tasks(func, arglist, *, n_jobs, progress, desc):
    """Results of ``func(*args)`` for every args, in order, optionally with a progress bar."""
    single_thread = effective_n_jobs(n_jobs) != 1
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    results = parallel(delayed(_task)(func, args, single_thread) for args in arglist)
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(arglist), desc=desc, leave=False)
    return list(results)


def _evaluate(data, models, settings, kind, random_state, refits=None):
    if kind == "invalidation":
        return evaluate_invalidation(data, models, refits, settings, random_state)
    if kind == "robustness":
        return evaluate_robustness(data, models, settings, random_state)
    return evaluate_explanations(data, models, settings, kind, random_state)


def run_experiment(datasets=None, *, preset="quick", random_state=0, n_jobs=1,
                   progress=False, log=None, **settings):
    """Train baseline and CT models on the paper's data sets and compare them.

    Per data set, three models are trained once (MLP with 32 hidden units, Adam 1e-3, the
    paper's epochs, batch sizes, thresholds and penalties): the baseline ``"BL"``
    (cross-entropy only), ``"CT"`` and ``"CT_protected"`` (CT with the protected feature
    immutable). Then, on the test set:

    * the unconstrained evaluation compares the counterfactuals of BL and CT (threshold
      0.95): validity, IP, IP*, cost;
    * the protected evaluation compares BL and CT_protected with the protected feature
      immutable in the search (threshold 0.5): validity and cost;
    * the robustness evaluation computes the accuracy of BL and CT under FGSM and PGD
      attacks over the epsilon grid;
    * the recourse evaluation (not in the paper) computes the invalidation rate of the
      unconstrained counterfactuals of BL and CT under retraining (``n_refits`` retrained
      versions of each, new seed and bootstrap sample) and under Gaussian noise, see
      :func:`~sklearn_ct.experiment.evaluate_invalidation`.

    Counterfactual measures are averaged per run over valid counterfactuals, and CT's %
    reduction is the mean of the per-run ratios CT/BL (the paper's Table I).

    The ``objectives`` setting adds models to the same evaluations: ``"jem"`` (JEM),
    ``"pgd"`` (PGD adversarial training), ``"adversarial"`` and ``"energy"`` (the paper's
    ablations AR and CD, with protected twins for the cost column). Their reductions
    relative to the baseline, validity, robustness and fit time appear next to CT's in
    ``result.comparison``.

    Parameters
    ----------
    datasets : str, sequence of str or None, default=None
        Data sets (names, aliases or groups, see
        :func:`~sklearn_ct.experiment.resolve_datasets`); None uses the preset's.
    preset : {"quick", "full"}, default="quick"
        Evaluation sizes, see :func:`~sklearn_ct.experiment.experiment_settings`.
    random_state : int, default=0
        Seed of everything: model initialisation and training, the evaluation's draws.
    n_jobs : int or None, default=1
        Parallel jobs (joblib) across data sets and models; each worker uses one torch
        thread. ``-1`` uses all cores.
    progress : bool, default=False
        Show progress bars (tqdm).
    log : callable or None, default=None
        Called with one line of text per stage (e.g. ``print``); None is silent.
    **settings : dict
        Fields of :class:`~sklearn_ct.experiment.ExperimentSettings` to override, e.g.
        ``n_runs``, ``n_individuals``, ``max_epochs``, ``max_train_rows``,
        ``lambda_energies``, ``objectives``, ``n_refits``.

    Returns
    -------
    result : ExperimentResult
        Raw results, tables and fitted models.

    Examples
    --------
    >>> from sklearn_ct.experiment import run_experiment
    >>> result = run_experiment("ls", n_runs=2, n_individuals=10, max_epochs=2,
    ...                         max_train_rows=100, lambda_energies=[1.0])
    >>> result.table1[["label", "measure"]].values.tolist()
    [['LS', 'IP'], ['LS', 'IP*'], ['LS', 'Cost']]
    """
    if datasets is not None:
        settings["datasets"] = resolve_datasets(datasets)
    settings = experiment_settings(preset, **settings)
    log = log or (lambda line: None)
    seed = int(random_state)
    tic = time.perf_counter()

    data = {name: prepare_dataset(name, max_train_rows=settings.max_train_rows)
            for name in settings.datasets}
    names = experiment_models(settings.objectives)
    fit_args = [(data[name], model, settings, seed) for name in data for model in names]
    refit_args = [(data[name], model, settings, seed, k) for name in data
                  for model in REFIT_MODELS for k in range(settings.n_refits)]
    log(f"Training {len(fit_args)} models ({', '.join(names)}) and {len(refit_args)} "
        f"refits ({', '.join(REFIT_MODELS)}) on {len(data)} data set(s), "
        f"{settings.max_epochs} epochs ...")
    # One pool of tasks, so that parallel workers are busy with refits as well.
    tasks = [(fit_model, args) for args in fit_args] + [(fit_refit, args)
                                                       for args in refit_args]
    fitted = _run_tasks(_fit, tasks, n_jobs=n_jobs, progress=progress, desc="training")
    models = {name: {} for name in data}
    for (d, model, _, _), (clf, _) in zip(fit_args, fitted):
        models[d.spec.name][model] = clf
    refits = {name: {model: [] for model in REFIT_MODELS} for name in data}
    for (d, model, _, _, _), (clf, _) in zip(refit_args, fitted[len(fit_args):]):
        refits[d.spec.name][model].append(clf)
    training = pd.DataFrame([info for _, info in fitted[:len(fit_args)]])
    t_train = time.perf_counter() - tic

    kinds = ("plausibility", "protected", "robustness", "invalidation")
    # Only the recourse task needs the refits (no need to ship them to other workers).
    eval_args = [(data[name], models[name], settings, kind, seed,
                  refits[name] if kind == "invalidation" else None)
                 for name in data for kind in kinds]
    log(f"Evaluating: {settings.n_runs} runs per data set, energy weights "
        f"{list(settings.lambda_energies)}, {len(settings.epsilons)} attack sizes ...")
    evaluated = _run_tasks(_evaluate, eval_args, n_jobs=n_jobs, progress=progress,
                           desc="evaluation")
    counterfactuals = pd.concat([r for a, r in zip(eval_args, evaluated)
                                 if a[3] in ("plausibility", "protected")],
                                ignore_index=True)
    robustness = pd.concat([r for a, r in zip(eval_args, evaluated)
                            if a[3] == "robustness"], ignore_index=True)
    total = time.perf_counter() - tic
    timings = {"training": t_train, "evaluation": total - t_train, "total": total}
    invalidation = pd.concat([r for a, r in zip(eval_args, evaluated)
                              if a[3] == "invalidation"], ignore_index=True)
    return ExperimentResult(settings=settings, data=data, models=models, training=training,
                            counterfactuals=counterfactuals, robustness=robustness,
                            timings=timings, invalidation=invalidation, refits=refits)
