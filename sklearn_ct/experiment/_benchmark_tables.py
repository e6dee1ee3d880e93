"""Tables, report and files of the real-data benchmark (:func:`run_benchmark`)."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from ._benchmark import BENCHMARK_EXPLAINERS, BENCHMARK_MEASURES

__all__ = ["BenchmarkResult"]

_LABELS = {"ip": "IP", "knn": "kNN", "ipstar": "IP*", "cost": "cost"}


def _significance(low, high):
    """``+`` when the interval lies above 0 (better), ``-`` below 0 (worse), else blank."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return " "
    return "+" if low > 0 else ("-" if high < 0 else " ")


def _cell(red, low, high):
    if not np.isfinite(red):
        return "n/a"
    return f"{100 * red:6.1f}{_significance(low, high)}"


class BenchmarkResult:
    """Outcome of :func:`~sklearn_ct.experiment.run_benchmark`.

    Parameters
    ----------
    settings : BenchmarkSettings
        The settings of the run.
    comparisons : list of dict
        One record per (task, explainer, objective), see ``comparisons`` below.
    summaries : list of dict
        One record per (task, objective), see ``tasks`` below.
    records : list of dict
        Every fit with its counterfactuals.
    seconds : float
        Wall-clock time of the run.

    Attributes
    ----------
    settings : BenchmarkSettings
        The settings of the run.
    comparisons : pandas.DataFrame
        One row per (task, explainer, objective): validity of both models, the number of
        paired counterfactuals and, for IP, kNN, IP* and cost, both means, the reduction
        (positive: the objective is better) and its bootstrap interval.
    tasks : pandas.DataFrame
        One row per (task, objective): size, classes, majority share, test accuracy of
        both models and its change in points, median fit times and their ratio.
    records : list of dict
        Every fit with its counterfactuals (for custom analyses).
    seconds : float
        Wall-clock time of the run.
    """

    def __init__(self, *, settings, comparisons, summaries, records, seconds):
        self.settings = settings
        self.comparisons = pd.DataFrame(comparisons)
        self.tasks = pd.DataFrame(summaries)
        self.records = records
        self.seconds = seconds

    def averages(self):
        """Averages over tasks and the counts of significant changes.

        Returns
        -------
        summary : pandas.DataFrame
            Per (objective, explainer): the mean reduction of each measure, and how many
            tasks are significantly better (``n_better_<m>``) or worse (``n_worse_<m>``).
        """
        rows = []
        for (model, explainer), part in self.comparisons.groupby(["model", "explainer"],
                                                                  sort=False):
            row = dict(model=model, explainer=explainer, n_tasks=len(part),
                       valid_baseline=part["valid_baseline"].mean(),
                       valid_model=part["valid_model"].mean())
            for m in BENCHMARK_MEASURES:
                row[f"{m}_red"] = part[f"{m}_red"].mean()
                row[f"n_better_{m}"] = int((part[f"{m}_low"] > 0).sum())
                row[f"n_worse_{m}"] = int((part[f"{m}_high"] < 0).sum())
            rows.append(row)
        return pd.DataFrame(rows)

    def report(self):
        """The printed tables: per task and explainer, then the averages.

        Returns
        -------
        text : str
        """
        s = self.settings
        level = int(round(100 * s.confidence))
        lines = [
            f"Real-data benchmark: CTClassifier(objective=...) vs objective='vanilla', "
            f"{len(s.tasks)} tasks, {s.n_seeds} seeds, up to {s.n_factuals} factuals.",
            f"Reductions in % (positive = more plausible / cheaper than the baseline); "
            f"+/- : the {level} % bootstrap interval lies above / below 0.",
            "",
        ]
        tasks = self.tasks.set_index(["task", "model"])
        for model in s.objectives:
            for explainer in BENCHMARK_EXPLAINERS:
                title = (f"objective={model!r}, explainer: "
                         + ("package default" if explainer == "default" else
                            f"plain gradient search (step {s.plain_step_size:g}, "
                            f"stop at p >= {s.plain_threshold})"))
                lines += [title, _table(self.comparisons, tasks, model, explainer), ""]
        lines.append("Averages over tasks (mean reduction %, tasks better/worse):")
        avg = self.averages()
        for _, r in avg.iterrows():
            cells = "  ".join(
                f"{_LABELS[m]} {100 * r[f'{m}_red']:6.1f} ({r[f'n_better_{m}']}+/"
                f"{r[f'n_worse_{m}']}-)" for m in BENCHMARK_MEASURES)
            lines.append(f"  {r['model']:>11s} / {r['explainer']:<7s} {cells}  validity "
                         f"{r['valid_baseline']:.2f} -> {r['valid_model']:.2f}")
        for model in s.objectives:
            part = self.tasks[self.tasks["model"] == model]
            lines.append(
                f"  {model:>11s}: accuracy change {part['accuracy_change'].mean():+.2f} points "
                f"(worst {part['accuracy_change'].min():+.2f}); fit time ratio median "
                f"{part['fit_ratio'].median():.2f} (max {part['fit_ratio'].max():.2f})")
        lines.append(f"Done in {self.seconds:.0f} s.")
        return "\n".join(lines)

    def save(self, output_dir):
        """Write ``benchmark_comparisons.csv``, ``benchmark_tasks.csv``,
        ``benchmark_averages.csv``, ``benchmark_report.txt`` and ``benchmark_settings.json``.

        Parameters
        ----------
        output_dir : str or path-like
            Folder (created if needed).

        Returns
        -------
        written : list of pathlib.Path
        """
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in (("comparisons", self.comparisons), ("tasks", self.tasks),
                            ("averages", self.averages())):
            path = out / f"benchmark_{name}.csv"
            frame.to_csv(path, index=False, float_format="%.6g")
            written.append(path)
        path = out / "benchmark_report.txt"
        path.write_text(self.report() + "\n")
        written.append(path)
        path = out / "benchmark_settings.json"
        settings = asdict(self.settings)
        settings["seconds"] = round(self.seconds, 1)
        path.write_text(json.dumps(settings, indent=2, default=str) + "\n")
        written.append(path)
        return written

    def __repr__(self):
        return (f"BenchmarkResult(tasks={list(self.settings.tasks)}, "
                f"objectives={list(self.settings.objectives)}, "
                f"n_seeds={self.settings.n_seeds})")


def _table(comparisons, tasks, model, explainer):
    part = comparisons[(comparisons["model"] == model) & (comparisons["explainer"] == explainer)]
    header = (f"{'task':<17s} {'rows':>6s} {'acc BL->CT':>12s} {'valid BL/CT':>11s} "
              f"{'pairs':>5s} " + " ".join(f"{_LABELS[m]:>8s}" for m in BENCHMARK_MEASURES)
              + f" {'fit x':>6s} {'kept':>5s}")
    lines = [header, "-" * len(header)]
    for _, r in part.iterrows():
        t = tasks.loc[(r["task"], model)]
        cells = " ".join(f"{_cell(r[f'{m}_red'], r[f'{m}_low'], r[f'{m}_high']):>8s}"
                         for m in BENCHMARK_MEASURES)
        lines.append(
            f"{r['task']:<17s} {int(t['n_rows']):>6d} "
            f"{t['accuracy_baseline']:.3f}->{t['accuracy_model']:.3f} "
            f"{r['valid_baseline']:.2f}/{r['valid_model']:.2f} {r['n_pairs']:>5d} "
            f"{cells} {t['fit_ratio']:>6.2f} {t['kept_ct']:>5.2f}")
    means = " ".join(f"{100 * part[f'{m}_red'].mean():7.1f} " for m in BENCHMARK_MEASURES)
    lines.append("-" * len(header))
    lines.append(f"{'mean':<17s} {'':>6s} {'':>12s} {'':>11s} {'':>5s} {means}")
    return "\n".join(lines)
