"""Command line: ``sklearn-ct experiment`` (also ``python -m sklearn_ct experiment``).

Runs the paper's experiment (:func:`sklearn_ct.experiment.run_experiment`), prints Table I,
its absolute means, the validity table and the robustness table next to the published
numbers and the recourse invalidation table, and writes CSV files and figures to the output
folder.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_OUTPUT = "sklearn_ct_results"
DEFAULT_BENCHMARK_OUTPUT = "sklearn_ct_benchmark"

#: Fewest training rows per data set that ``--train-rows`` accepts (the experiment's own
#: minimum, see :func:`sklearn_ct.experiment.experiment_settings`).
MIN_TRAIN_ROWS = 10


def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _positive(cast, noun):
    """An argparse type: ``cast(text)``, which must be positive and finite."""

    def parse(text):
        try:
            value = cast(text)
        except ValueError:
            value = None
        # An integer is always finite (and math.isfinite cannot take a huge one).
        if value is None or not (value > 0 and (cast is int or math.isfinite(value))):
            raise argparse.ArgumentTypeError(f"expected a positive {noun}, got {text!r}")
        return value

    parse.__name__ = f"positive {noun}"
    return parse


_positive_int = _positive(int, "integer")
_positive_float = _positive(float, "number")


def _train_rows(text):
    value = _integer(text)
    if value < MIN_TRAIN_ROWS:
        raise argparse.ArgumentTypeError(
            f"expected at least {MIN_TRAIN_ROWS} training rows, got {text!r}")
    return value


def _nonnegative_int(text):
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


# Every seed of the experiment is derived from this one by NumPy's SeedSequence, which
# takes non-negative integers of any size.
_seed = _nonnegative_int


def _n_jobs(text):
    value = _integer(text)
    if value == 0:
        raise argparse.ArgumentTypeError(
            "expected a positive number of jobs, or a negative one (-1: all cores, -2: all "
            "but one, ...), got '0'")
    return value


def _parser():
    from .experiment import DATASET_GROUPS, EXPERIMENT_DATASETS, OBJECTIVE_LABELS

    parser = argparse.ArgumentParser(
        prog="sklearn-ct",
        description="Counterfactual Training (CT) for scikit-learn: reproduce the paper's "
                    "CT-vs-baseline experiment.",
    )
    sub = parser.add_subparsers(dest="command")
    exp = sub.add_parser(
        "experiment",
        help="train baseline and CT models and compare them with the paper's tables",
        description="Train a baseline, a CT model and a CT model with the protected feature "
                    "per data set at the paper's settings; compare their counterfactuals "
                    "(IP, IP*, cost, validity) and robustness; print the paper's tables "
                    "next to the published numbers; write CSV files and figures.",
    )
    names = ", ".join(EXPERIMENT_DATASETS)
    exp.add_argument("--datasets", nargs="+", metavar="NAME",
                     help=f"data sets: {names}, or a group ({', '.join(DATASET_GROUPS)}); "
                          "paper short names work too (ls, circ, moon, ol). Default: the "
                          "preset's (quick: all but adult; full: all)")
    labels = ", ".join(f"{o} ({label})" for o, label in OBJECTIVE_LABELS.items())
    exp.add_argument("--objectives", nargs="+", metavar="NAME", choices=list(OBJECTIVE_LABELS),
                     help=f"training objectives to compare: {labels}. vanilla and full (the "
                          "baseline and CT) always run; add jem, pgd, adversarial or energy "
                          "to compare them with the same protocol (default: vanilla full)")
    size = exp.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="preset", action="store_const", const="quick",
                      help="quick run (default): all data sets but adult, 30 runs of "
                           "100/50/25 individuals (synthetic/tabular/digits)")
    size.add_argument("--full", dest="preset", action="store_const", const="full",
                      help="the paper's sizes: all data sets, 100 runs of 250/100/25 "
                           "individuals")
    exp.add_argument("--runs", type=_positive_int, metavar="N",
                     help="evaluation runs (bootstrap rounds) per data set")
    exp.add_argument("--individuals", type=_positive_int, metavar="N",
                     help="individuals per run and model (default: by preset and data kind)")
    exp.add_argument("--epochs", type=_positive_int, metavar="N",
                     help="training epochs (default: 100, the paper's)")
    exp.add_argument("--train-rows", type=_train_rows, metavar="N",
                     help="use at most N training rows per data set, N >= "
                          f"{MIN_TRAIN_ROWS} (default: all)")
    exp.add_argument("--refits", type=_nonnegative_int, metavar="N",
                     help="retrained versions of the baseline and of CT for the recourse "
                          "invalidation table (default: quick 0, full 5; 0 skips "
                          "retraining, the noise invalidation is still measured)")
    exp.add_argument("--zero-mutability-penalties", action="store_true", default=None,
                     help="train the synthetic protected CT models without the adversarial "
                          "and ridge terms, as the reference's records of the paper's cost "
                          "runs say (off by default, see doc/reproducing.rst)")
    exp.add_argument("--categorical-groups", action="store_true", default=None,
                     help="train the CT models of tabular data with their one-hot groups "
                          "kept valid at every search step (off by default, as in the "
                          "reference)")
    exp.add_argument("--categorical-snapping", choices=("end", "step"), default=None,
                     help="test-time handling of one-hot groups: snap once after the "
                          "search (end, default) or project after every step (step)")
    _add_run_options(exp, DEFAULT_OUTPUT, "CSV results and figures",
                     "parallel jobs across data sets and models")
    exp.add_argument("--no-figures", dest="figures", action="store_false",
                     help="do not draw figures")
    bench = sub.add_parser(
        "benchmark",
        help="compare CT with conventional training on real tabular data (default settings)",
        description="Train CTClassifier() and CTClassifier(objective='vanilla') with the "
                    "package defaults on the real-data benchmark tasks, explain the same "
                    "test rows with the default explainer and a fixed plain gradient search, "
                    "and print paired reductions of IP, kNN, IP* and cost with bootstrap "
                    "intervals; write CSV files.",
    )
    from .datasets import BENCHMARK_TASKS

    bench.add_argument("--tasks", nargs="+", metavar="NAME", choices=list(BENCHMARK_TASKS),
                       help=f"tasks (default: all {len(BENCHMARK_TASKS)}: "
                            f"{', '.join(BENCHMARK_TASKS)})")
    bench.add_argument("--quick", action="store_true",
                       help="a small run: 4 tasks, 1 seed, 60 factuals, at most 2000 rows")
    bench.add_argument("--seeds", type=_positive_int, metavar="N",
                       help="training seeds per model (default: 3)")
    bench.add_argument("--factuals", type=_positive_int, metavar="N",
                       help="test rows explained per task (default: 200)")
    bench.add_argument("--max-rows", type=_positive_int, metavar="N",
                       help="stratified sub-sample of each task, at least 50 rows "
                            "(default: all rows)")
    from ._classifier import OBJECTIVES

    bench.add_argument("--objectives", nargs="+", metavar="NAME",
                       choices=[o for o in OBJECTIVES if o != "vanilla"],
                       help="CTClassifier objectives compared with 'vanilla' (default: full)")
    bench.add_argument("--plain-step-size", type=_positive_float, metavar="H",
                       help="step size of the plain gradient search (default: 0.1)")
    bench.add_argument("--plain-max-steps", type=_positive_int, metavar="N",
                       help="step budget of the plain gradient search (default: 500)")
    bench.add_argument("--paper", action="store_true",
                       help="train CT with the reference implementation's behaviour "
                            "(selection=None, burnin=0, refresh_steps=None) instead of the "
                            "package defaults")
    _add_run_options(bench, DEFAULT_BENCHMARK_OUTPUT, "CSV results", "parallel fits")
    return parser, exp, bench


def _add_run_options(sub, output, written, jobs):
    """The options every sub-command that runs shares: seed, output, jobs, progress."""
    sub.add_argument("--seed", type=_seed, default=0, metavar="N",
                     help="random seed, a non-negative integer (default: 0)")
    sub.add_argument("--output", metavar="DIR", default=output,
                     help=f"folder for {written} (default: ./{output})")
    sub.add_argument("--n-jobs", type=_n_jobs, default=1, metavar="N",
                     help=f"{jobs} (default: 1; -1: all cores); each uses one torch thread")
    sub.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="progress bars (default: only when the output is a terminal)")


#: The benchmark's quick preset.
QUICK_BENCHMARK = dict(tasks=("german_credit", "penguins", "pima_diabetes", "hmda"), n_seeds=1,
                       n_factuals=60, max_rows=2000)

def _benchmark_settings(args):
    settings = dict(QUICK_BENCHMARK) if args.quick else {}
    if args.tasks:
        settings["tasks"] = tuple(args.tasks)
    for name, value in (("n_seeds", args.seeds), ("n_factuals", args.factuals),
                        ("max_rows", args.max_rows), ("plain_step_size", args.plain_step_size),
                        ("plain_max_steps", args.plain_max_steps)):
        if value is not None:
            settings[name] = value
    if args.objectives:
        settings["objectives"] = tuple(args.objectives)
    if args.paper:
        from ._classifier import REFERENCE_PARAMS

        settings["classifier_params"] = dict(REFERENCE_PARAMS)
    settings["random_state"] = args.seed
    return settings


def _benchmark(args, parser):
    import torch

    from .experiment import BenchmarkSettings, run_benchmark

    settings = _benchmark_settings(args)
    try:
        BenchmarkSettings(**settings)
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    problem = _check_output(os.fspath(args.output))
    if problem:
        parser.error(problem)
    torch.set_num_threads(1)
    progress = sys.stdout.isatty() if args.progress is None else args.progress
    result = run_benchmark(n_jobs=args.n_jobs, progress=progress,
                           log=lambda line: print(line, flush=True), **settings)
    print()
    print(result.report())
    written = result.save(args.output)
    print(f"Results ({len(written)} files) written to {args.output}/: "
          + ", ".join(p.name for p in written))
    return 0


def _check_output(path):
    """A message saying why results cannot be written to the folder ``path``, or None.

    The folder is created if it does not exist (the run would create it anyway), and a
    temporary file is written to it and removed, so that a run never fails at its end
    because its results cannot be saved.
    """
    if not path:
        return "argument --output: expected a folder, got an empty string"
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        return f"argument --output: {path!r} exists and is not a folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return f"argument --output: cannot write results to {path!r}: {reason}"
    return None


def _settings_overrides(args, datasets):
    return dict(
        datasets=datasets, n_runs=args.runs, n_individuals=args.individuals,
        max_epochs=args.epochs, max_train_rows=args.train_rows, n_refits=args.refits,
        zero_mutability_penalties=args.zero_mutability_penalties,
        objectives=args.objectives,
        categorical_groups=args.categorical_groups,
        categorical_snapping=args.categorical_snapping,
    )


def _validate(args, parser):
    """Check every argument before anything is trained; usage errors exit with status 2.

    Returns the resolved data sets (None for the preset's).
    """
    from .experiment import experiment_settings, resolve_datasets

    datasets = None
    if args.datasets:
        try:
            datasets = resolve_datasets(args.datasets)
        except ValueError as exc:
            parser.error(str(exc))
    try:
        experiment_settings(args.preset or "quick", **_settings_overrides(args, datasets))
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    problem = _check_output(os.fspath(args.output))
    if problem:
        parser.error(problem)
    return datasets


def _experiment(args, parser):
    import torch

    from .experiment import run_experiment, save_results

    datasets = _validate(args, parser)
    # Library code never sets threads; the command does: one thread is the fastest for
    # these small networks and keeps timings predictable on shared machines.
    torch.set_num_threads(1)
    progress = sys.stdout.isatty() if args.progress is None else args.progress
    tic = time.perf_counter()
    overrides = _settings_overrides(args, datasets)
    overrides.pop("datasets")
    result = run_experiment(
        datasets, preset=args.preset or "quick", random_state=args.seed, n_jobs=args.n_jobs,
        progress=progress, log=lambda line: print(line, flush=True), **overrides,
    )
    print()
    print(result.report())
    written, notes = save_results(result, args.output, figures=args.figures)
    print()
    for note in notes:
        print(note)
    print(f"Results ({len(written)} files) written to {args.output}/: "
          + ", ".join(p.name for p in written))
    print(f"Done in {time.perf_counter() - tic:.0f} s "
          f"(training {result.timings['training']:.0f} s, evaluation "
          f"{result.timings['evaluation']:.0f} s).")
    return 0


def main(argv=None):
    """Entry point of the ``sklearn-ct`` command.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments (None: ``sys.argv[1:]``). Without a sub-command, ``experiment`` is
        assumed.

    Returns
    -------
    status : int
        Exit status (0 on success).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, experiment_parser, benchmark_parser = _parser()
    if not argv or argv[0] not in ("experiment", "benchmark", "-h", "--help"):
        argv = ["experiment", *argv]
    args = parser.parse_args(argv)
    if args.command == "benchmark":
        return _benchmark(args, benchmark_parser)
    return _experiment(args, experiment_parser)
