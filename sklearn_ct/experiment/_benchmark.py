"""The real-data benchmark: CT against conventional training on tabular tasks nobody tuned for.

Where :func:`~sklearn_ct.experiment.run_experiment` reproduces the paper on its data sets at
its (tuned) settings, :func:`run_benchmark` asks the question a user asks: with *default*
settings, does ``CTClassifier()`` give more plausible counterfactuals than
``CTClassifier(objective="vanilla")`` on my data? It runs every task of
:data:`~sklearn_ct.datasets.BENCHMARK_TASKS` (or a chosen subset) with the same protocol:

1. stratified train/test split (70/30, fixed seed), the task's preprocessor (z-scores and
   one-hot columns) fitted on the training rows; models see the preprocessed matrix;
2. per training seed, the baseline and each compared objective trained with the package
   defaults (the same ``random_state`` for both);
3. the same test factuals and targets for every model and seed (``n_factuals`` rows, each
   with a target drawn uniformly from the classes other than its true label); rows a model
   already predicts as the target are not explained for that model;
4. counterfactuals from **two** explainers, so that a gain can be credited to the model and
   not to the explainer: the package's default
   :class:`~sklearn_ct.explainers.CounterfactualExplainer` and a fixed plain gradient
   search written out in this module (:func:`plain_search`: Wachter-style descent on
   cross-entropy plus a small L1 cost, stopping at target probability 0.9);
5. per counterfactual: cost (L1 distance to the factual), IP (mean L1 distance to the
   training rows of the target class), the local plausibility kNN (mean L1 distance to the
   5 nearest of them); per model and seed the distribution-level IP* (MMD to the target
   class);
6. *paired* comparisons: only factuals whose counterfactual is valid under both models
   enter; the reduction is ``1 - mean(CT) / mean(baseline)`` over all pairs of all seeds,
   with a percentile bootstrap interval (99 % by default) from resampling the pairs.

Everything is seeded: the same call gives the same tables.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.model_selection import train_test_split

from .._classifier import OBJECTIVES
from .._model import resolve_model
from ..datasets import BENCHMARK_TASKS, load_benchmark_task
from ..metrics import implausibility, implausibility_mmd
from ._training import model_seed

__all__ = [
    "BENCHMARK_EXPLAINERS",
    "BENCHMARK_MEASURES",
    "BenchmarkSettings",
    "paired_reduction",
    "plain_search",
    "prepare_task",
    "run_benchmark",
]

#: The two explainers every model is judged with.
BENCHMARK_EXPLAINERS = ("default", "plain")

#: Explanation-quality measures compared per task (lower is better for all of them).
BENCHMARK_MEASURES = ("ip", "knn", "ipstar", "cost")


@dataclass(frozen=True)
class BenchmarkSettings:
    """Settings of :func:`run_benchmark`.

    Parameters
    ----------
    tasks : tuple of str
        Task names (keys of :data:`~sklearn_ct.datasets.BENCHMARK_TASKS`).
    n_seeds : int, default=3
        Training seeds per model.
    n_factuals : int, default=200
        Test rows explained per task (fewer if the test set is smaller).
    max_rows : int or None, default=None
        Stratified sub-sample of each task to at most this many rows (None: all rows).
    test_size : float, default=0.3
        Share of each task held out for the factuals.
    objectives : tuple of str, default=("full",)
        ``CTClassifier`` objectives compared with ``objective="vanilla"``.
    classifier_params : dict, default={}
        Extra ``CTClassifier`` parameters for every model (the defaults otherwise).
    plain_threshold : float, default=0.9
        Target probability at which :func:`plain_search` stops.
    plain_step_size, plain_lambda_cost, plain_max_steps : float, float, int
        The plain search's step size (0.1, the step of the reference's searches), L1
        weight (0.01) and budget (500 steps). A fixed-step search ends past the 0.9
        contour by up to one step, proportional to the model's gradient there; a smaller
        step with a larger budget measures the contour itself (see the step-size check
        in doc/benchmark.rst).
    n_neighbors : int, default=5
        Neighbours of the local plausibility measure.
    n_bootstrap : int, default=1000
        Bootstrap resamples for the per-counterfactual measures (IP* uses a fifth of them,
        each resample recomputing an MMD).
    confidence : float, default=0.99
        Level of the bootstrap intervals.
    ipstar_reference : int, default=500
        At most this many target-class training rows enter each MMD.
    random_state : int, default=0
        Seed of the splits, the factuals, the targets and the bootstrap; training seeds
        are derived from it and the task name.
    """

    tasks: tuple = field(default_factory=lambda: tuple(BENCHMARK_TASKS))
    n_seeds: int = 3
    n_factuals: int = 200
    max_rows: object = None
    test_size: float = 0.3
    objectives: tuple = ("full",)
    classifier_params: dict = field(default_factory=dict)
    plain_threshold: float = 0.9
    plain_step_size: float = 0.1
    plain_lambda_cost: float = 0.01
    plain_max_steps: int = 500
    n_neighbors: int = 5
    n_bootstrap: int = 1000
    confidence: float = 0.99
    ipstar_reference: int = 500
    random_state: int = 0

    def __post_init__(self):
        unknown = sorted(set(self.tasks) - set(BENCHMARK_TASKS))
        if unknown:
            raise ValueError(
                f"Unknown benchmark tasks {unknown}; expected names from "
                f"{list(BENCHMARK_TASKS)}.")
        if not self.tasks:
            raise ValueError("The benchmark needs at least one task.")
        if "vanilla" in self.objectives:
            raise ValueError("objectives are compared with objective='vanilla'; do not list "
                             "'vanilla' among them.")
        unknown = sorted(set(self.objectives) - set(OBJECTIVES))
        if unknown:
            raise ValueError(f"Unknown objectives {unknown}; expected some of "
                             f"{[o for o in OBJECTIVES if o != 'vanilla']}.")
        for name in ("n_seeds", "n_factuals", "n_bootstrap", "plain_max_steps", "n_neighbors"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got "
                                 f"{getattr(self, name)!r}.")
        if not (self.plain_step_size > 0 and np.isfinite(self.plain_step_size)):
            raise ValueError(f"plain_step_size must be a positive finite number, got "
                             f"{self.plain_step_size!r}.")
        if self.max_rows is not None and int(self.max_rows) < 50:
            raise ValueError(f"max_rows must be at least 50 (or None), got {self.max_rows!r}.")
        if not 0 < self.test_size < 1:
            raise ValueError(f"test_size must be in (0, 1), got {self.test_size!r}.")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {self.confidence!r}.")

    @property
    def models(self):
        """The trained models of a seed: the baseline first."""
        return ("vanilla",) + tuple(self.objectives)


# -- data ---------------------------------------------------------------------------------


def prepare_task(name, settings):
    """Load, split and preprocess one task, and draw its factuals and targets.

    Parameters
    ----------
    name : str
        Task name.
    settings : BenchmarkSettings
        Benchmark settings.

    Returns
    -------
    task : dict
        ``name``, ``Z_train``, ``y_train``, ``Z_test``, ``y_test`` (float32 model-space
        matrices and int labels), ``X_factual``, ``y_factual``, ``target`` (the explained
        test rows), ``n_classes``, ``n_rows``, ``n_features``, ``majority_share``.
    """
    rs = settings.random_state
    bunch = load_benchmark_task(name, max_rows=settings.max_rows, random_state=rs)
    y = np.asarray(bunch.target)
    X_train, X_test, y_train, y_test = train_test_split(
        bunch.data, y, test_size=settings.test_size, stratify=y, random_state=rs)
    pre = bunch.preprocessor
    Z_train = np.asarray(pre.fit_transform(X_train), dtype=np.float32)
    Z_test = np.asarray(pre.transform(X_test), dtype=np.float32)
    n_classes = int(bunch.n_classes)
    rng = np.random.default_rng(model_seed(rs, name, "factuals"))
    rows = rng.choice(len(y_test), size=min(settings.n_factuals, len(y_test)), replace=False)
    y_factual = y_test[rows]
    target = (y_factual + rng.integers(1, n_classes, size=rows.size)) % n_classes
    return dict(
        name=name, Z_train=Z_train, y_train=y_train, Z_test=Z_test, y_test=y_test,
        X_factual=Z_test[rows], y_factual=y_factual, target=target, n_classes=n_classes,
        n_rows=int(len(y)), n_features=int(Z_train.shape[1]),
        majority_share=float(np.bincount(y).max() / len(y)),
    )


# -- the fixed plain search ---------------------------------------------------------------


def plain_search(module, X, target, *, threshold=0.9, step_size=0.1, lambda_cost=0.01,
                 max_steps=500):
    """Wachter-style gradient counterfactuals, independent of the package's search engine.

    Plain gradient descent on ``CE(f(x'), target) + lambda_cost * ||x' - x||_1`` for all
    rows at once; a row stops (keeps its iterate) once the softmax probability of its
    target reaches ``threshold``. No constraints, no energy term: the same procedure for
    every model, so differences between models come from the models.

    Parameters
    ----------
    module : torch.nn.Module
        Network returning logits.
    X : ndarray of shape (n, n_features)
        Factuals.
    target : ndarray of int, shape (n,)
        Target class indices.
    threshold, step_size, lambda_cost : float
        Stopping probability, step size and L1 weight.
    max_steps : int
        Step budget.

    Returns
    -------
    X_cf : ndarray of shape (n, n_features)
        Counterfactuals.
    valid : ndarray of bool, shape (n,)
        Whether the target probability reached ``threshold``.
    """
    param = next(module.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None else torch.float32
    x0 = torch.as_tensor(np.asarray(X), dtype=dtype, device=device)
    t = torch.as_tensor(np.asarray(target), dtype=torch.long, device=device)
    x = x0.clone()
    done = torch.zeros(x.shape[0], dtype=torch.bool, device=device)
    was_training = module.training
    module.eval()
    try:
        for _ in range(max_steps + 1):
            x.requires_grad_(True)
            logits = module(x)
            p = F.softmax(logits.detach(), dim=1).gather(1, t.unsqueeze(1)).squeeze(1)
            done |= p >= threshold
            if bool(done.all()):
                break
            loss = F.cross_entropy(logits, t, reduction="sum")
            loss = loss + lambda_cost * (x - x0).abs().sum()
            (grad,) = torch.autograd.grad(loss, x)
            with torch.no_grad():
                x = torch.where(done.unsqueeze(1), x, x - step_size * grad)
        with torch.no_grad():
            p = F.softmax(module(x), dim=1).gather(1, t.unsqueeze(1)).squeeze(1)
    finally:
        module.train(was_training)
    return x.detach().cpu().numpy().astype(np.float64), (p >= threshold).cpu().numpy()


# -- training and explaining one model ----------------------------------------------------


def _classifier(objective, seed, settings):
    from .._classifier import CTClassifier

    return CTClassifier(objective=objective, random_state=seed, **settings.classifier_params)


def _explain(clf, task, settings):
    """Counterfactuals of the task's factuals under both explainers."""
    from ..explainers import CounterfactualExplainer

    X0, target = task["X_factual"], task["target"]
    todo = clf.predict(X0) != target
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = CounterfactualExplainer(clf, target=target, random_state=0)
        res = explainer.fit(task["Z_train"], task["y_train"]).explain(X0)
    out["default"] = (np.asarray(res.counterfactuals, dtype=np.float64),
                      np.asarray(res.valid, dtype=bool) & todo)
    module = resolve_model(clf).module
    X_cf, valid = plain_search(
        module, X0, target, threshold=settings.plain_threshold,
        step_size=settings.plain_step_size, lambda_cost=settings.plain_lambda_cost,
        max_steps=settings.plain_max_steps)
    out["plain"] = (X_cf, valid & todo)
    return out, todo


def fit_and_explain(task, model, seed_index, settings):
    """Train one model of one seed and explain the task's factuals with it.

    Returns
    -------
    record : dict
        ``task``, ``model``, ``seed``, ``fit_seconds``, ``accuracy``, ``todo`` (rows not
        already at their target) and ``explanations`` (``{explainer: (X_cf, valid)}``).
    """
    seed = model_seed(settings.random_state, task["name"], "seed", seed_index)
    clf = _classifier(model, seed, settings)
    tic = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(task["Z_train"], task["y_train"])
    fit_seconds = time.perf_counter() - tic
    accuracy = float(np.mean(clf.predict(task["Z_test"]) == task["y_test"]))
    explanations, todo = _explain(clf, task, settings)
    return dict(task=task["name"], model=model, seed=seed_index, fit_seconds=fit_seconds,
                accuracy=accuracy, todo=todo, explanations=explanations,
                kept_ct=getattr(clf, "selected_", "ct") != "vanilla",
                ct_weight={"ct": 1.0, "vanilla": 0.0}.get(
                    getattr(clf, "selected_", "ct"),
                    getattr(clf, "selection_scores_", {}).get("ct_weight", np.nan)),
                selection_scores=dict(getattr(clf, "selection_scores_", {})))


# -- statistics ---------------------------------------------------------------------------


def paired_reduction(baseline, treated, *, groups=None, n_bootstrap=1000, confidence=0.99,
                     random_state=0):
    """Relative reduction ``1 - mean(treated) / mean(baseline)`` with a bootstrap interval.

    Parameters
    ----------
    baseline, treated : ndarray of shape (n,)
        Paired values (row ``i`` of both belongs to the same factual and seed).
    groups : ndarray of shape (n,), default=None
        Resampling strata (e.g. the seed): pairs are resampled within each group.
    n_bootstrap : int, default=1000
        Bootstrap resamples.
    confidence : float, default=0.99
        Level of the percentile interval.
    random_state : int, default=0
        Seed of the resampling.

    Returns
    -------
    reduction, low, high : float
        Point estimate and interval (NaN without pairs). Positive means ``treated`` is
        lower (better).
    """
    baseline = np.asarray(baseline, dtype=np.float64)
    treated = np.asarray(treated, dtype=np.float64)
    if baseline.size == 0:
        return np.nan, np.nan, np.nan
    groups = np.zeros(baseline.size, dtype=int) if groups is None else np.asarray(groups)
    rng = np.random.default_rng(random_state)
    strata = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    idx = np.concatenate([
        s[rng.integers(0, s.size, size=(n_bootstrap, s.size))] for s in strata], axis=1)
    boot = 1.0 - treated[idx].mean(axis=1) / baseline[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(boot, [alpha, 1.0 - alpha])
    return 1.0 - treated.mean() / baseline.mean(), float(low), float(high)


def _ipstar(X_cf, target, task, settings, rng_seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = implausibility_mmd(
            X_cf, task["Z_train"], task["y_train"], target,
            max_samples=settings.ipstar_reference, random_state=rng_seed)
    return max(float(value), 0.0) if np.isfinite(value) else np.nan


def _ipstar_reduction(pairs, task, settings, seed):
    """IP* reduction over seeds (mean of per-seed MMDs) with a bootstrap interval."""
    def stat(sample):
        bl = np.nanmean([_ipstar(b, t, task, settings, seed) for b, _, t in sample])
        ct = np.nanmean([_ipstar(c, t, task, settings, seed) for _, c, t in sample])
        return bl, ct, (1.0 - ct / bl if bl > 0 else np.nan)

    usable = [p for p in pairs if p[0].shape[0] >= 2]
    if not usable:
        return np.nan, np.nan, np.nan, np.nan, np.nan
    bl, ct, red = stat(usable)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(max(20, settings.n_bootstrap // 5)):
        sample = []
        for b, c, t in usable:
            i = rng.integers(0, b.shape[0], size=b.shape[0])
            sample.append((b[i], c[i], t[i]))
        boots.append(stat(sample)[2])
    alpha = (1.0 - settings.confidence) / 2.0
    low, high = np.nanquantile(boots, [alpha, 1.0 - alpha])
    return red, float(low), float(high), bl, ct


def compare_models(task, records, baseline, model, explainer, settings):
    """Paired comparison of ``model`` against ``baseline`` for one task and explainer.

    Returns
    -------
    row : dict
        Validity of both models, the number of pairs, and for every measure of
        :data:`BENCHMARK_MEASURES` the means of both models, the reduction and its
        interval (``<measure>_red``, ``<measure>_low``, ``<measure>_high``).
    """
    by_seed = {}
    for rec in records:
        if rec["model"] in (baseline, model):
            by_seed.setdefault(rec["seed"], {})[rec["model"]] = rec
    X0, target = task["X_factual"], task["target"]
    ref, y_ref = task["Z_train"], task["y_train"]
    per_cf = {m: ([], []) for m in ("ip", "knn", "cost")}
    groups, set_pairs, valid_b, valid_m = [], [], [], []
    for seed, pair in sorted(by_seed.items()):
        cb, vb = pair[baseline]["explanations"][explainer]
        cm, vm = pair[model]["explanations"][explainer]
        valid_b.append(vb[pair[baseline]["todo"]].mean() if pair[baseline]["todo"].any()
                       else np.nan)
        valid_m.append(vm[pair[model]["todo"]].mean() if pair[model]["todo"].any()
                       else np.nan)
        both = vb & vm
        if not both.any():
            continue
        for side, X_cf in ((0, cb[both]), (1, cm[both])):
            t = target[both]
            per_cf["cost"][side].append(np.abs(X_cf - X0[both]).sum(axis=1))
            per_cf["ip"][side].append(implausibility(X_cf, ref, y_ref, t))
            per_cf["knn"][side].append(
                implausibility(X_cf, ref, y_ref, t, n_neighbors=settings.n_neighbors))
        groups.append(np.full(int(both.sum()), seed))
        set_pairs.append((cb[both], cm[both], target[both]))
    row = dict(task=task["name"], explainer=explainer, model=model,
               valid_baseline=float(np.nanmean(valid_b)),
               valid_model=float(np.nanmean(valid_m)),
               n_pairs=int(sum(g.size for g in groups)))
    groups = np.concatenate(groups) if groups else np.zeros(0, dtype=int)
    boot_seed = model_seed(settings.random_state, task["name"], explainer, model)
    for name, (b, m) in per_cf.items():
        b = np.concatenate(b) if b else np.zeros(0)
        m = np.concatenate(m) if m else np.zeros(0)
        red, low, high = paired_reduction(
            b, m, groups=groups, n_bootstrap=settings.n_bootstrap,
            confidence=settings.confidence, random_state=boot_seed)
        row.update({f"{name}_baseline": float(b.mean()) if b.size else np.nan,
                    f"{name}_model": float(m.mean()) if m.size else np.nan,
                    f"{name}_red": red, f"{name}_low": low, f"{name}_high": high})
    red, low, high, bl, ct = _ipstar_reduction(set_pairs, task, settings, boot_seed)
    row.update(ipstar_baseline=bl, ipstar_model=ct, ipstar_red=red, ipstar_low=low,
               ipstar_high=high)
    return row


def _task_summary(task, records, model):
    """Accuracy and fit-time comparison of ``model`` against the baseline for one task."""
    acc = {m: [r["accuracy"] for r in records if r["model"] == m] for m in ("vanilla", model)}
    fit = {r["seed"]: {} for r in records}
    for r in records:
        fit[r["seed"]][r["model"]] = r["fit_seconds"]
    ratios = [f[model] / f["vanilla"] for f in fit.values() if model in f and "vanilla" in f]
    return dict(
        task=task["name"], model=model, n_rows=task["n_rows"],
        n_features=task["n_features"], n_classes=task["n_classes"],
        majority_share=task["majority_share"],
        accuracy_baseline=float(np.mean(acc["vanilla"])),
        accuracy_model=float(np.mean(acc[model])),
        accuracy_change=100.0 * (np.mean(acc[model]) - np.mean(acc["vanilla"])),
        fit_seconds_baseline=float(np.median([f["vanilla"] for f in fit.values()])),
        fit_seconds_model=float(np.median([f[model] for f in fit.values() if model in f])),
        fit_ratio=float(np.median(ratios)),
        # Share of seeds whose CT network (or a blend with its twin) was kept by
        # plausibility selection, and the mean weight of CT's network in the kept one.
        kept_ct=float(np.mean([r["kept_ct"] for r in records if r["model"] == model])),
        ct_weight=float(np.mean([r["ct_weight"] for r in records if r["model"] == model])),
    )


# -- the run ------------------------------------------------------------------------------


def _job(task, model, seed_index, settings, single_thread):
    if single_thread:
        # Workers share the machine's cores: one intra-op thread each.
        torch.set_num_threads(1)
    return fit_and_explain(task, model, seed_index, settings)


def run_benchmark(tasks=None, *, n_jobs=1, progress=False, log=None, **settings):
    """Compare CT with conventional training on the real-data benchmark tasks.

    Parameters
    ----------
    tasks : sequence of str, default=None
        Task names (None: all of :data:`~sklearn_ct.datasets.BENCHMARK_TASKS`).
    n_jobs : int, default=1
        Parallel jobs over (task, seed, model) fits (joblib; each uses one torch thread).
        Results do not depend on it.
    progress : bool, default=False
        Show a progress bar (``tqdm``).
    log : callable, default=None
        Called with one line of text per finished task.
    **settings
        Fields of :class:`BenchmarkSettings` (``n_seeds``, ``n_factuals``, ``max_rows``,
        ``objectives``, ``classifier_params``, ...).

    Returns
    -------
    result : :class:`~sklearn_ct.experiment.BenchmarkResult`
        Per-task comparisons (``result.comparisons``, ``result.tasks``) and the raw fits.
    """
    from ._benchmark_tables import BenchmarkResult

    if tasks is not None:
        settings["tasks"] = tuple(tasks)
    settings = BenchmarkSettings(**settings)
    tic = time.perf_counter()
    prepared = [prepare_task(name, settings) for name in settings.tasks]
    jobs = [(task, model, s) for task in prepared for s in range(settings.n_seeds)
            for model in settings.models]
    single_thread = effective_n_jobs(n_jobs) != 1
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_job)(task, model, s, settings, single_thread) for task, model, s in jobs)
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(jobs), desc="benchmark fits", leave=False)
    records = list(results)
    comparisons, summaries = [], []
    for task in prepared:
        recs = [r for r in records if r["task"] == task["name"]]
        for model in settings.objectives:
            summaries.append(_task_summary(task, recs, model))
            for explainer in BENCHMARK_EXPLAINERS:
                comparisons.append(compare_models(task, recs, "vanilla", model, explainer,
                                                  settings))
        if log is not None:
            log(f"{task['name']}: done")
    return BenchmarkResult(settings=replace(settings), comparisons=comparisons,
                           summaries=summaries, records=records,
                           seconds=time.perf_counter() - tic)
