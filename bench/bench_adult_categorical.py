"""Where the cost of Adult's protected counterfactuals goes: numeric and one-hot parts.

Trains the experiment's baseline and its CT model with ``age`` protected, the latter once
as the reference does (one-hot columns searched as continuous values during training) and
once with ``categorical_groups`` (groups projected onto real categories at every step),
then explains the same test rows with the experiment's protected test-time explainer
(``age`` immutable, threshold 0.5, ECCo without distance penalty, 50 steps) under both
``categorical_snapping`` modes. For the valid counterfactuals it reports the mean L1 cost
split into the numeric and the one-hot columns and the share that changes a category.
It also trains the unconstrained CT model both ways and reports FGSM accuracy with all
columns attacked and with only the numeric ones.

Usage::

    python bench/bench_adult_categorical.py            # 600 test rows, 100 epochs
    python bench/bench_adult_categorical.py --quick    # 200 test rows, 20 epochs

The numbers in doc/reproducing.rst come from the full run.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time

import numpy as np
import torch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 rows, 20 epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from sklearn.base import clone

    from sklearn_ct.experiment import experiment_settings, prepare_dataset
    from sklearn_ct.experiment._evaluation import explainer_templates
    from sklearn_ct.experiment._training import make_model
    from sklearn_ct.metrics import fgsm_attack

    torch.set_num_threads(1)
    data = prepare_dataset("adult")
    n_rows = 200 if args.quick else 600
    epochs = 20 if args.quick else 100
    onehot = np.zeros(data.X_train.shape[1], dtype=bool)
    for g in data.categorical_groups:
        onehot[g] = True
    X = data.X_test[:n_rows]

    models, unprotected = {}, {}
    for label, model, groups in (("BL", "BL", False), ("CT", "CT_protected", False),
                                 ("CT groups", "CT_protected", True),
                                 ("CT", "CT", False), ("CT groups", "CT", True)):
        settings = experiment_settings("full", datasets=["adult"], max_epochs=epochs,
                                       categorical_groups=groups)
        tic = time.perf_counter()
        clf = make_model(data, model, settings, args.seed).fit(data.X_train, data.y_train)
        (unprotected if model == "CT" else models)[label] = clf
        print(f"trained {label} ({model}) in {time.perf_counter() - tic:.0f} s", flush=True)
    unprotected["BL"] = models["BL"]

    # Robustness: the experiment's FGSM at epsilon = 0.1 on every column, and the same
    # attack with the one-hot columns left as they are (only the numeric ones perturbed;
    # FGSM moves each column on its own, so this is the attack restricted to them).
    print(f"\nFGSM accuracy at epsilon = 0.1 on {len(data.y_test)} test rows "
          "(unconstrained models)")
    print(f"{'model':<11}{'clean':>7}{'all columns':>13}{'numeric only':>14}")
    for label in ("BL", "CT", "CT groups"):
        clf = unprotected[label]
        adv = fgsm_attack(clf, data.X_test, data.y_test, epsilon=0.1)
        numeric_only = np.where(onehot, data.X_test, adv)
        print(f"{label:<11}{clf.score(data.X_test, data.y_test):7.2f}"
              f"{clf.score(adv, data.y_test):13.2f}"
              f"{clf.score(numeric_only, data.y_test):14.2f}")

    print(f"\nProtected setting, {n_rows} test rows, lambda_energy=1; mean over valid "
          "counterfactuals")
    print(f"{'model':<11}{'snapping':<10}{'valid':>7}{'cost':>7}{'numeric':>9}"
          f"{'one-hot':>9}{'changes a category':>20}")
    for snapping in ("end", "step"):
        settings = experiment_settings("full", datasets=["adult"],
                                       lambda_energies=(1.0,),
                                       categorical_snapping=snapping)
        template = explainer_templates(data, settings, "protected")[0]
        for label, model in models.items():
            explainer = clone(template).set_params(estimator=model,
                                                   random_state=args.seed).fit(data.X_train)
            res = explainer.explain(X)
            ok = res.valid & ~res.already_target
            delta = np.abs(res.counterfactuals[ok] - X[ok])
            num = delta[:, ~onehot].sum(axis=1).mean()
            cat = delta[:, onehot].sum(axis=1).mean()
            flips = (delta[:, onehot].sum(axis=1) > 0).mean()
            print(f"{label:<11}{snapping:<10}{res.valid.mean():7.2f}{num + cat:7.2f}"
                  f"{num:9.2f}{cat:9.2f}{flips:20.2f}")


if __name__ == "__main__":
    main()
