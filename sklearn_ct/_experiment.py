"""CT-vs-baseline experiment on the paper's data (the package's main job).

Trains a baseline (plain cross-entropy) and a CT model per dataset at the paper's settings
(spec sections 4.3-4.4), generates test-time counterfactuals for both with the paper's
test-time generator (ECCo without distance penalty), and reports accuracy, validity,
implausibility (IP: mean L1 distance to target-class test data), IP* (MMD to target-class
test data) and cost (L1 distance to the factual) of valid counterfactuals.
"""

import time

import numpy as np
import pandas as pd
import torch

from ._classifier import CTClassifier
from ._generators import ECCoGenerator
from ._search import search_counterfactuals
from .datasets import load_synthetic
from .metrics import counterfactual_cost, implausibility, implausibility_mmd

#: Paper settings per synthetic dataset (spec 4.4): training threshold and ridge weight.
PAPER_SETTINGS = {
    "linearly_separable": dict(decision_threshold=0.5, lambda_reg=0.01),
    "circles": dict(decision_threshold=0.5, lambda_reg=0.5),
    "moons": dict(decision_threshold=0.9, lambda_reg=0.25),
    "overlapping": dict(decision_threshold=0.5, lambda_reg=0.25),
}


def _test_counterfactuals(clf, X, n, rng, *, max_iter, decision_threshold, lambda_energy):
    idx = rng.choice(len(X), size=min(n, len(X)), replace=False)
    y_hat = clf.logits(X[idx]).argmax(axis=1)
    target = (y_hat + rng.integers(1, len(clf.classes_), size=len(idx))) % len(clf.classes_)
    res = search_counterfactuals(
        clf.net_.module_,
        torch.as_tensor(X[idx], dtype=torch.float32, device=clf.net_.device),
        torch.as_tensor(target, device=clf.net_.device),
        ECCoGenerator(lambda_cost=0.0, lambda_energy=lambda_energy),
        max_iter=max_iter,
        decision_threshold=decision_threshold,
        lower=torch.as_tensor(clf.domain_[:, 0], dtype=torch.float32),
        upper=torch.as_tensor(clf.domain_[:, 1], dtype=torch.float32),
    )
    cf = res.counterfactuals.cpu().numpy().astype(np.float64)
    return X[idx], cf, target, res.converged.cpu().numpy()


def run_experiment(datasets=("moons",), *, n_runs=1, n_train=3000, max_epochs=100,
                   n_counterfactuals=1000, n_explain=250, eval_max_iter=50,
                   eval_threshold=0.95, lambda_energy=1.0, random_state=0, verbose=True):
    """Train baseline and CT models and evaluate their counterfactuals.

    Parameters
    ----------
    datasets : sequence of str, default=("moons",)
        Synthetic datasets (see :func:`sklearn_ct.datasets.load_synthetic`).
    n_runs : int, default=1
        Independent runs (data draw, training and evaluation seeds).
    n_train : int, default=3000
        Training rows (the paper uses 3000).
    max_epochs : int, default=100
        Training epochs.
    n_counterfactuals : int, default=1000
        Counterfactuals per epoch during CT.
    n_explain : int, default=250
        Test rows explained per model and run.
    eval_max_iter, eval_threshold : int, float, default=50, 0.95
        Test-time search budget and threshold (the paper's).
    lambda_energy : float, default=1.0
        Energy weight of the test-time ECCo generator.
    random_state : int, default=0
        Base seed.
    verbose : bool, default=True
        Print progress.

    Returns
    -------
    results : pandas.DataFrame
        One row per (dataset, run, model).
    """
    rows = []
    for name in datasets:
        settings = PAPER_SETTINGS[name]
        for run in range(n_runs):
            seed = random_state + run
            data = load_synthetic(name, random_state=seed)
            X, y = data.X_train[:n_train], data.y_train[:n_train]
            for model, objective in (("BL", "vanilla"), ("CT", "full")):
                tic = time.perf_counter()
                clf = CTClassifier(
                    objective=objective, max_epochs=max_epochs, batch_size=30,
                    n_counterfactuals=n_counterfactuals, max_iter=30, random_state=seed,
                    **settings,
                ).fit(X, y)
                fit_time = time.perf_counter() - tic
                rng = np.random.default_rng(seed)
                x, cf, target, valid = _test_counterfactuals(
                    clf, data.X_test, n_explain, rng, max_iter=eval_max_iter,
                    decision_threshold=eval_threshold, lambda_energy=lambda_energy,
                )
                row = dict(dataset=name, run=run, model=model,
                           accuracy=clf.score(data.X_test, data.y_test),
                           validity=valid.mean(), fit_seconds=fit_time)
                if valid.any():
                    row["IP"] = implausibility(cf[valid], data.X_test, data.y_test,
                                               target[valid]).mean()
                    row["IP*"] = implausibility_mmd(cf[valid], data.X_test, data.y_test,
                                                    target[valid], random_state=seed)
                    row["cost"] = counterfactual_cost(x[valid], cf[valid]).mean()
                rows.append(row)
                if verbose:
                    print(f"  {name:<20} run {run}  {model}: "
                          f"acc={row['accuracy']:.3f} validity={row['validity']:.2f} "
                          f"IP={row.get('IP', np.nan):.3f} ({fit_time:.1f}s)", flush=True)
    return pd.DataFrame(rows)


def summary_table(results):
    """Mean per dataset and model, plus CT's % reduction of IP, IP* and cost."""
    cols = ["accuracy", "validity", "IP", "IP*", "cost", "fit_seconds"]
    means = results.groupby(["dataset", "model"])[cols].mean().unstack("model")
    table = pd.DataFrame(index=means.index)
    for col in cols:
        for model in ("BL", "CT"):
            table[f"{col} {model}"] = means[(col, model)]
    for col in ("IP", "IP*", "cost"):
        table[f"{col} -%"] = 100 * (1 - means[(col, "CT")] / means[(col, "BL")])
    return table
