"""Write an experiment's results to a folder: CSV tables, the text report, PNG figures."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import json
from pathlib import Path

__all__ = ["save_results"]


def _save_figure(fig, path, written):
    fig.savefig(path, dpi=90)
    written.append(path)


def save_results(result, output_dir, *, figures=True):
    """Write the results of :func:`~sklearn_ct.experiment.run_experiment` to a folder.

    Files: ``settings.json``, ``training.csv`` (one row per model),
    ``counterfactuals.csv`` (per-run values of every measure, model, setting and energy
    weight), ``robustness.csv`` (accuracy per model, attack and epsilon), the summary
    tables ``table1.csv``, ``validity.csv`` and ``robustness_summary.csv`` (and
    ``comparison.csv`` when objectives beyond the baseline and CT ran), the recourse
    results ``invalidation.csv`` (per-run invalidation rates) and
    ``invalidation_summary.csv`` (when the experiment computed them), the text
    ``report.txt``, and with ``figures`` the PNG figures ``explanations_<dataset>.png``
    (the paper's Figure 1, per synthetic data set), ``robustness.png`` and, with digits,
    ``digits_counterfactuals.png``.

    Parameters
    ----------
    result : ExperimentResult
        The experiment's results.
    output_dir : str or path-like
        Folder to write to; created if needed. Existing files of the same names are
        replaced.
    figures : bool, default=True
        Also draw the figures (needs matplotlib; skipped with a note if it is missing).

    Returns
    -------
    written : list of pathlib.Path
        The files written.
    notes : list of str
        Messages about skipped outputs (empty when everything was written).
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    written, notes = [], []
    path = out / "settings.json"
    path.write_text(json.dumps(dict(result.settings.to_dict(), timings=result.timings),
                               indent=2) + "\n")
    written.append(path)
    for name, frame in (("training", result.training),
                        ("counterfactuals", result.counterfactuals),
                        ("robustness", result.robustness), ("table1", result.table1),
                        ("validity", result.validity),
                        ("robustness_summary", result.robustness_summary),
                        ("invalidation", getattr(result, "invalidation", None)),
                        ("invalidation_summary",
                         getattr(result, "invalidation_summary", None))):
        if frame is None:
            continue
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    if set(result.comparison["model"]) - {"BL", "CT"}:
        path = out / "comparison.csv"
        result.comparison.to_csv(path, index=False)
        written.append(path)
    path = out / "report.txt"
    path.write_text(result.report() + "\n")
    written.append(path)
    if not figures:
        return written, notes
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        notes.append("matplotlib is not installed: no figures (pip install matplotlib).")
        return written, notes
    from ._figures import plot_digits, plot_explanations_2d, plot_robustness

    for name, data in result.data.items():
        if data.spec.kind == "synthetic":
            fig = plot_explanations_2d(data, result.models[name], result.settings)
            _save_figure(fig, out / f"explanations_{name}.png", written)
        elif data.spec.kind == "image":
            fig = plot_digits(data, result.models[name], result.settings)
            _save_figure(fig, out / "digits_counterfactuals.png", written)
    _save_figure(plot_robustness(result.robustness), out / "robustness.png", written)
    return written, notes
