"""Benchmark: fit time of every training objective relative to the baseline.

Run with ``python bench/bench_objectives.py`` (``--quick`` for fewer epochs, ``--epochs N``
to choose). Every objective is fitted side by side in one process with one torch thread,
at the experiment's settings of each data set (:func:`sklearn_ct.experiment.make_model`):

* LS: the paper's linearly separable setting (3,000 rows, batch 30, 1,000 counterfactuals
  per epoch, T=30);
* Adult: about 26,000 one-hot encoded rows, batch 1,000, 5,000 counterfactuals per epoch.

Objectives: ``vanilla`` (BL), ``full`` (CT), the ablations ``energy`` (CD) and
``adversarial`` (AR), and the alternatives ``jem`` (SGLD negatives, 20 steps per
mini-batch) and ``pgd`` (10-step PGD per mini-batch). The script prints seconds and the
ratio to the baseline; it asserts nothing about wall-clock time (shared machines vary).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time

import torch

from sklearn_ct.experiment import OBJECTIVE_LABELS, experiment_settings, make_model
from sklearn_ct.experiment import prepare_dataset

OBJECTIVES = ("vanilla", "full", "energy", "adversarial", "jem", "pgd")


def _fit_seconds(data, label, settings):
    clf = make_model(data, label, settings, random_state=0)
    tic = time.perf_counter()
    clf.fit(data.X_train, data.y_train)
    return time.perf_counter() - tic


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 epochs instead of 100")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs")
    parser.add_argument("--datasets", nargs="+", default=["linearly_separable", "adult"],
                        help="experiment data sets (default: linearly_separable adult)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    epochs = args.epochs or (10 if args.quick else 100)
    settings = experiment_settings("quick", max_epochs=epochs)
    data = {name: prepare_dataset(name) for name in args.datasets}
    # One throw-away fit: the first fit of a process pays one-time costs (kernels, caches).
    first = next(iter(data.values()))
    make_model(first, "BL", experiment_settings("quick", max_epochs=1), 0).fit(
        first.X_train, first.y_train)

    seconds = {name: {} for name in data}
    for name, d in data.items():
        for objective in OBJECTIVES:
            seconds[name][objective] = _fit_seconds(d, OBJECTIVE_LABELS[objective], settings)

    labels = [d.spec.label for d in data.values()]
    print(f"Fit time per objective, {epochs} epochs, one torch thread "
          f"(rows: {', '.join(f'{d.spec.label} {len(d.y_train)}' for d in data.values())})")
    header = f"{'objective':<20}" + "".join(f"{lab + ' s':>10}{lab + ' x':>9}"
                                             for lab in labels)
    print(header)
    print("-" * len(header))
    for objective in OBJECTIVES:
        line = f"{objective + ' (' + OBJECTIVE_LABELS[objective] + ')':<20}"
        for name in data:
            s, base = seconds[name][objective], seconds[name]["vanilla"]
            line += f"{s:10.2f}{s / base:8.2f}x"
        print(line)
    print("x: fit time relative to the baseline (vanilla) on the same data.")


if __name__ == "__main__":
    main()
