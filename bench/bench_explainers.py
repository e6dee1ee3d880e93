"""Throughput of the counterfactual explainers, and the same task through DiCE.

Task: a baseline MLP (``CTClassifier(objective="vanilla")``, one hidden layer of 32 units)
on a 10-feature binary problem; one counterfactual per row towards the opposite class at
``tau = 0.5``, no constraints. For every generator of ``sklearn_ct.explainers`` the script
times ``explainer.explain(X)`` (everything a user pays for at transform time: validation,
targets, search, categorical handling and the final validity check; ``fit`` is timed
separately) on 1, 100 and 10,000 rows, and prints counterfactuals per second and validity
(target probability >= 0.5 under the model, on the returned points).

DiCE (``dice-ml``), if installed, solves the same task on the same model:

* ``method="gradient"`` (PyTorch backend, DiverseCF with one counterfactual, DiCE defaults
  except ``posthoc_sparsity_param=None``: DiCE's post-hoc sparsity pass is switched off,
  which only makes DiCE faster); DiCE works on min-max normalised features, so the model
  is wrapped to de-normalise its input, and DiCE's normalised output is mapped back;
* ``method="random"`` (scikit-learn backend on the CTClassifier itself).

DiCE explains one row at a time with Python loops, so it runs on a few rows only
(``--dice-gradient-rows``, ``--dice-random-rows``); its time per row is extrapolated
linearly to 100 and 10,000 rows (DiCE's cost is per row). Ratios are sklearn_ct's
counterfactuals per second over DiCE's at the same number of rows.

Run ``python bench/bench_explainers.py`` (a few minutes on two CPU cores; ``--no-dice``
skips DiCE). Results depend on the machine; torch uses one thread.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator

from sklearn_ct import CTClassifier, ECCoGenerator, GenericGenerator
from sklearn_ct.explainers import (
    CounterfactualExplainer,
    GrowingSpheresGenerator,
    REVISEGenerator,
)

N_FEATURES = 10
SIZES = (1, 100, 10_000)


def make_task(seed=0):
    X, y = make_classification(n_samples=12_000, n_features=N_FEATURES, n_informative=6,
                               random_state=seed)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    names = [f"x{i}" for i in range(N_FEATURES)]
    X_train = pd.DataFrame(X[:2000], columns=names)
    X_test = pd.DataFrame(X[2000:], columns=names)
    clf = CTClassifier(objective="vanilla", max_epochs=20, random_state=seed)
    clf.fit(X_train, y[:2000])
    return clf, X_train, y[:2000], X_test


def timed(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def bench_ours(clf, X_train, X_test):
    generators = {
        "generic": GenericGenerator(),
        "ecco": ECCoGenerator(),
        "revise": REVISEGenerator(),
        "growing_spheres": GrowingSpheresGenerator(),
    }
    rows = []
    for name, gen in generators.items():
        start = time.perf_counter()
        explainer = CounterfactualExplainer(FrozenEstimator(clf), generator=gen,
                                            random_state=0).fit(X_train)
        fit_time = time.perf_counter() - start
        for n in SIZES:
            X = X_test.iloc[:n]
            repeat = 20 if n == 1 else (5 if n <= 100 else 1)
            seconds, result = timed(lambda X=X: explainer.explain(X), repeat)
            rows.append(dict(method=name, rows=n, seconds=seconds, cf_per_s=n / seconds,
                             validity=float(result.valid.mean()),
                             mean_steps=float(result.n_iter.mean()), fit_s=fit_time))
    return rows


class _Denormalise(torch.nn.Module):
    """DiCE's gradient method feeds min-max normalised features to the model."""

    def __init__(self, module, low, high):
        super().__init__()
        self.module = module
        self.register_buffer("low", torch.as_tensor(low, dtype=torch.float32))
        self.register_buffer("span", torch.as_tensor(high - low, dtype=torch.float32))

    def forward(self, x):
        return torch.softmax(self.module(x * self.span + self.low), dim=-1)


def bench_dice(clf, X_train, y_train, X_test, n_gradient, n_random):
    try:
        import dice_ml
    except ImportError:
        print("dice-ml is not installed: skipping DiCE.")
        return []
    names = list(X_train.columns)
    data = dice_ml.Data(dataframe=X_train.assign(y=y_train), continuous_features=names,
                        outcome_name="y")
    # DiCE normalises with the training data's min and max.
    low, high = X_train.min().to_numpy(), X_train.max().to_numpy()
    rows = []

    def validity(cf, X):
        proba = clf.predict_proba(cf)
        target = 1 - clf.predict(X)
        return float((proba[np.arange(len(X)), target] >= 0.5).mean())

    if n_gradient:
        model = dice_ml.Model(model=_Denormalise(clf.net_.module_, low, high), backend="PYT")
        explainer = dice_ml.Dice(data, model, method="gradient")
        X = X_test.iloc[:n_gradient]
        start = time.perf_counter()
        res = explainer.generate_counterfactuals(X, total_CFs=1, desired_class="opposite",
                                                 posthoc_sparsity_param=None, verbose=False)
        seconds = time.perf_counter() - start
        cf = pd.concat([e.final_cfs_df for e in res.cf_examples_list])[names]
        cf = pd.DataFrame(cf.to_numpy(float) * (high - low) + low, columns=names)
        rows.append(dict(method="dice_gradient", rows=n_gradient, seconds=seconds,
                         cf_per_s=n_gradient / seconds, validity=validity(cf, X)))
    if n_random:
        model = dice_ml.Model(model=clf, backend="sklearn")
        explainer = dice_ml.Dice(data, model, method="random")
        X = X_test.iloc[:n_random]
        start = time.perf_counter()
        res = explainer.generate_counterfactuals(X, total_CFs=1, desired_class="opposite",
                                                 random_seed=0, verbose=False)
        seconds = time.perf_counter() - start
        found = [e.final_cfs_df for e in res.cf_examples_list]
        cf = pd.concat([f if f is not None and len(f) else X.iloc[[i]]
                        for i, f in enumerate(found)])[names]
        rows.append(dict(method="dice_random", rows=n_random, seconds=seconds,
                         cf_per_s=n_random / seconds, validity=validity(cf, X)))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-dice", action="store_true", help="skip DiCE")
    parser.add_argument("--dice-gradient-rows", type=int, default=3)
    parser.add_argument("--dice-random-rows", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")

    clf, X_train, y_train, X_test = make_task()
    print(f"Model: CTClassifier(objective='vanilla'), {N_FEATURES} features, "
          f"train accuracy {clf.score(X_train, y_train):.3f}; tau=0.5, max_steps=100.\n")
    ours = pd.DataFrame(bench_ours(clf, X_train, X_test))
    pd.set_option("display.width", 140)
    print("sklearn_ct explainers (explain() wall time; fit_s = explainer fit):")
    print(ours.to_string(index=False, float_format=lambda v: f"{v:,.4g}"))

    if args.no_dice:
        return
    dice = pd.DataFrame(bench_dice(clf, X_train, y_train, X_test,
                                   args.dice_gradient_rows, args.dice_random_rows))
    if dice.empty:
        return
    print(f"\nDiCE (measured on the first {args.dice_gradient_rows} / "
          f"{args.dice_random_rows} rows; per-row time extrapolated):")
    print(dice.to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
    print("\nThroughput ratio sklearn_ct / DiCE (counterfactuals per second), "
          "validity in brackets:")
    table = {}
    for _, d in dice.iterrows():
        for _, o in ours.iterrows():
            key = (o["method"], o["rows"])
            table.setdefault(key, {})[d["method"]] = (
                f"{o['cf_per_s'] / d['cf_per_s']:>9,.0f}x "
                f"[{o['validity']:.2f} vs {d['validity']:.2f}]")
    out = pd.DataFrame.from_dict(table, orient="index")
    out.index.names = ["generator", "rows"]
    print(out.to_string())


if __name__ == "__main__":
    main()
