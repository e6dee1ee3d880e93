"""Command line: ``sklearn-ct experiment`` (also ``python -m sklearn_ct``)."""

import argparse
import sys

DATASETS = ("linearly_separable", "circles", "moons", "overlapping")


def _parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-ct",
        description="Counterfactual Training (CT) for scikit-learn: run the CT-vs-baseline "
                    "experiment.",
    )
    sub = parser.add_subparsers(dest="command")
    exp = sub.add_parser("experiment", help="train baseline and CT models and compare their "
                                            "counterfactual explanations")
    exp.add_argument("--datasets", nargs="+", default=["moons"], choices=DATASETS,
                     metavar="NAME", help=f"datasets, from {', '.join(DATASETS)} "
                                          "(default: moons)")
    exp.add_argument("--runs", type=int, default=1, help="independent runs (default: 1)")
    exp.add_argument("--epochs", type=int, default=100, help="training epochs (default: 100)")
    exp.add_argument("--seed", type=int, default=0, help="base random seed (default: 0)")
    exp.add_argument("--output", default=None,
                     help="write per-run results to this CSV file")
    return parser


def main(argv=None):
    """Entry point of the ``sklearn-ct`` command."""
    args = _parser().parse_args(argv)
    if args.command is None:
        args = _parser().parse_args(["experiment", *(argv or sys.argv[1:])])
    import pandas as pd
    import torch

    from ._experiment import run_experiment, summary_table

    # Library code never sets threads; the command does, for predictable speed on few cores.
    torch.set_num_threads(1)
    print(f"CT vs baseline on {', '.join(args.datasets)} ({args.runs} run(s), "
          f"{args.epochs} epochs):", flush=True)
    results = run_experiment(args.datasets, n_runs=args.runs, max_epochs=args.epochs,
                             random_state=args.seed)
    if args.output:
        results.to_csv(args.output, index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 30,
                           "display.float_format", "{:.3f}".format):
        print()
        print(summary_table(results).T.to_string())
    return 0
