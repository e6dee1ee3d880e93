"""The paper's tables from the experiment's raw results, next to the published numbers.

* :func:`table_one`: Table I, CT's % reduction of IP, IP* (unconstrained) and cost (with
  the protected feature) relative to the baseline, with the spread over runs and the
  significance mark (99 % interval of the per-run differences excludes 0);
* :func:`validity_table`: share of valid counterfactuals in both settings;
* :func:`robustness_table`: clean accuracy and accuracy under FGSM and PGD at the largest
  epsilon;
* :func:`comparison_table`: every objective of the experiment (CT, JEM, PGD, the ablations)
  against the baseline: the reductions of Table I, validity, robustness and fit time.

Each returns a tidy :class:`pandas.DataFrame` of numbers; :func:`format_report` lays them
out as text, ours next to the paper's, with the absolute means behind Table I.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd

from ..metrics import aggregate_runs
from ._datasets import EXPERIMENT_DATASETS
from . import _paper

__all__ = ["table_one", "validity_table", "robustness_table", "comparison_table",
           "format_comparison", "format_report"]

#: Table I's columns: (measure, evaluation setting it comes from).
TABLE_ONE_COLUMNS = (("IP", "plausibility"), ("IP*", "plausibility"), ("Cost", "protected"))


def _summaries(raw):
    """``aggregate_runs`` per (data set, setting), stacked."""
    parts = []
    for (dataset, setting), group in raw.groupby(["dataset", "setting"], sort=False):
        summary = aggregate_runs(group, "BL")
        summary.insert(0, "setting", setting)
        summary.insert(0, "dataset", dataset)
        parts.append(summary)
    return pd.concat(parts, ignore_index=True)


def table_one(raw):
    """Table I: CT's % reduction vs the baseline, with the published values.

    Parameters
    ----------
    raw : pandas.DataFrame
        Per-run counterfactual results of
        :func:`~sklearn_ct.experiment.evaluate_explanations` (both settings).

    Returns
    -------
    table : pandas.DataFrame
        One row per (data set, measure) with ``dataset``, ``label``, ``measure``,
        ``setting``, ``reduction``, ``reduction_std`` (100 sd of the per-run ratios),
        ``significant``, ``mean_BL``, ``mean_CT``, ``n_runs`` and the paper's
        ``paper_dataset``, ``paper_reduction``, ``paper_std``, ``paper_significant`` (NaN
        where the paper has no comparable data set).
    """
    summary = _summaries(raw)
    rows = []
    for dataset in pd.unique(raw["dataset"]):
        spec = EXPERIMENT_DATASETS[dataset]
        for measure, setting in TABLE_ONE_COLUMNS:
            sel = summary[(summary["dataset"] == dataset) & (summary["setting"] == setting)
                          & (summary["measure"] == measure)].set_index("model")
            row = dict(dataset=dataset, label=spec.label, measure=measure, setting=setting,
                       reduction=np.nan, reduction_std=np.nan, significant=False,
                       mean_BL=np.nan, mean_CT=np.nan, n_runs=0)
            if not sel.empty:
                row.update(reduction=sel.loc["CT", "reduction"],
                           reduction_std=sel.loc["CT", "reduction_std"],
                           significant=bool(sel.loc["CT", "significant"]),
                           mean_BL=sel.loc["BL", "mean"], mean_CT=sel.loc["CT", "mean"],
                           n_runs=int(min(sel.loc["BL", "n_runs"], sel.loc["CT", "n_runs"])))
            paper = _paper.PAPER_TABLE_ONE.get(spec.paper_name, {}).get(measure)
            row.update(paper_dataset=spec.paper_name,
                       paper_reduction=paper[0] if paper else np.nan,
                       paper_std=paper[1] if paper else np.nan,
                       paper_significant=paper[2] if paper else np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def validity_table(raw):
    """Share of valid counterfactuals per model and setting, with the published values.

    Parameters
    ----------
    raw : pandas.DataFrame
        Per-run counterfactual results (both settings).

    Returns
    -------
    table : pandas.DataFrame
        One row per data set with ``dataset``, ``label``, ``CT``, ``BL`` (unconstrained,
        threshold 0.95), ``CT_protected``, ``BL_protected`` (protected feature, threshold
        0.5) and the paper's values as ``paper_<column>``.
    """
    valid = raw[raw["measure"] == "validity"]
    means = valid.groupby(["dataset", "setting", "model"], sort=False)["value"].mean()
    rows = []
    for dataset in pd.unique(raw["dataset"]):
        spec = EXPERIMENT_DATASETS[dataset]
        row = dict(dataset=dataset, label=spec.label)
        paper = _paper.PAPER_VALIDITY.get(spec.paper_name, (np.nan,) * 4)
        columns = (("CT", "plausibility", "CT"), ("BL", "plausibility", "BL"),
                   ("CT_protected", "protected", "CT"), ("BL_protected", "protected", "BL"))
        for (column, setting, model), published in zip(columns, paper):
            row[column] = means.get((dataset, setting, model), np.nan)
            row[f"paper_{column}"] = published
        rows.append(row)
    return pd.DataFrame(rows)


def robustness_table(robustness):
    """Clean and robust accuracy (largest epsilon) of baseline and CT, with the paper's.

    Parameters
    ----------
    robustness : pandas.DataFrame
        Results of :func:`~sklearn_ct.experiment.evaluate_robustness`.

    Returns
    -------
    table : pandas.DataFrame
        One row per data set with ``dataset``, ``label``, ``epsilon`` (the largest),
        ``accuracy_BL``, ``accuracy_CT``, ``fgsm_BL``, ``fgsm_CT``, ``pgd_BL``, ``pgd_CT``
        and the paper's values as ``paper_<column>`` (NaN where not published).
    """
    rows = []
    for dataset, group in robustness.groupby("dataset", sort=False):
        spec = EXPERIMENT_DATASETS[dataset]
        eps = group["epsilon"].max()
        row = dict(dataset=dataset, label=spec.label, epsilon=eps)
        paper = _paper.PAPER_ROBUSTNESS.get(spec.paper_name, {})
        for model_idx, model in enumerate(("BL", "CT")):
            mine = group[group["model"] == model]
            row[f"accuracy_{model}"] = mine.loc[mine["epsilon"] == 0, "accuracy"].mean()
            for attack in ("fgsm", "pgd"):
                sel = mine[(mine["attack"] == attack) & (mine["epsilon"] == eps)]
                row[f"{attack}_{model}"] = sel["accuracy"].mean()
            for column in ("accuracy", "fgsm", "pgd"):
                published = paper.get(column)
                row[f"paper_{column}_{model}"] = (published[model_idx] if published
                                                  else np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_table(raw, robustness, training):
    """Every objective against the baseline: Table I's reductions, validity, robustness.

    Parameters
    ----------
    raw : pandas.DataFrame
        Per-run counterfactual results (both settings) of
        :func:`~sklearn_ct.experiment.evaluate_explanations`.
    robustness : pandas.DataFrame
        Results of :func:`~sklearn_ct.experiment.evaluate_robustness`.
    training : pandas.DataFrame
        One row per fitted model with ``dataset``, ``model`` and ``fit_seconds``.

    Returns
    -------
    table : pandas.DataFrame
        One row per (data set, model), the baseline first, with ``dataset``, ``label``,
        ``model``, ``epsilon`` (the largest attack size); per measure ``m`` of Table I
        (``IP``, ``IP*``, ``Cost``) the columns ``m_reduction``, ``m_std``,
        ``m_significant`` (as in :func:`table_one`; NaN and False for the baseline) and
        ``m_mean``; ``validity`` (unconstrained, threshold 0.95) and
        ``validity_protected``; ``accuracy`` (clean), ``fgsm`` and ``pgd``
        (accuracy under attack at the largest epsilon); ``fit_seconds`` and ``fit_ratio``
        (fit time over the baseline's).
    """
    summary = _summaries(raw)
    valid = raw[raw["measure"] == "validity"].groupby(
        ["dataset", "setting", "model"], sort=False)["value"].mean()
    fit = training.set_index(["dataset", "model"])["fit_seconds"]
    rows = []
    for dataset in pd.unique(raw["dataset"]):
        spec = EXPERIMENT_DATASETS[dataset]
        models = list(pd.unique(raw.loc[raw["dataset"] == dataset, "model"]))
        models = ["BL"] + [m for m in models if m != "BL"]
        attacked = robustness[robustness["dataset"] == dataset]
        eps = attacked["epsilon"].max() if len(attacked) else np.nan
        for model in models:
            row = dict(dataset=dataset, label=spec.label, model=model, epsilon=eps)
            for measure, setting in TABLE_ONE_COLUMNS:
                sel = summary[(summary["dataset"] == dataset)
                              & (summary["setting"] == setting)
                              & (summary["measure"] == measure)
                              & (summary["model"] == model)]
                found = not sel.empty
                row[f"{measure}_reduction"] = sel["reduction"].iloc[0] if found else np.nan
                row[f"{measure}_std"] = sel["reduction_std"].iloc[0] if found else np.nan
                row[f"{measure}_significant"] = (bool(sel["significant"].iloc[0])
                                                 if found else False)
                row[f"{measure}_mean"] = sel["mean"].iloc[0] if found else np.nan
            row["validity"] = valid.get((dataset, "plausibility", model), np.nan)
            row["validity_protected"] = valid.get((dataset, "protected", model), np.nan)
            mine = attacked[attacked["model"] == model]
            row["accuracy"] = mine.loc[mine["epsilon"] == 0, "accuracy"].mean()
            for attack in ("fgsm", "pgd"):
                sel = mine[(mine["attack"] == attack) & (mine["epsilon"] == eps)]
                row[attack] = sel["accuracy"].mean()
            seconds = fit.get((dataset, model), np.nan)
            row["fit_seconds"] = seconds
            row["fit_ratio"] = seconds / fit.get((dataset, "BL"), np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


# -- text layout ------------------------------------------------------------------------


def _reduction_cell(value, std, significant):
    if value is None or not np.isfinite(value):
        return "n/a"
    std_text = f" ± {std:.2f}" if np.isfinite(std) else ""
    return f"{value:.2f}{std_text}{' *' if significant else ''}"


def _number(value, digits=2):
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _layout(header, rows, notes=()):
    """Plain-text table with left-aligned first column and right-aligned others."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for k, row in enumerate([header, *rows]):
        cells = [str(row[0]).ljust(widths[0])]
        cells += [str(c).rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.extend(notes)
    return "\n".join(lines)


def _dataset_label(spec):
    if spec.paper_name is None:
        return f"{spec.label} (a)"
    if spec.kind == "image":
        return f"{spec.label} (b)"
    return spec.label


def _footnotes(specs):
    notes = []
    if any(s.paper_name is None for s in specs):
        notes.append("(a) German credit is not in the paper: the paper's credit data set "
                     "(Cred, default of credit")
        notes.append("    card clients) is a different data set; no published number "
                     "applies.")
    if any(s.kind == "image" for s in specs):
        notes.append("(b) 8x8 digits stand in for the paper's MNIST (28x28); its "
                     "published numbers are shown for")
        notes.append("    orientation only.")
    return notes


def format_table_one(table):
    """Table I as text: ours next to the paper's, with an average row."""
    header = ["Data"]
    for measure, _ in TABLE_ONE_COLUMNS:
        header += [f"{measure} ours", f"{measure} paper"]
    rows = []
    specs = [EXPERIMENT_DATASETS[d] for d in pd.unique(table["dataset"])]
    for spec in specs:
        row = [_dataset_label(spec)]
        for measure, _ in TABLE_ONE_COLUMNS:
            r = table[(table["dataset"] == spec.name) & (table["measure"] == measure)].iloc[0]
            row.append(_reduction_cell(r["reduction"], r["reduction_std"], r["significant"]))
            if np.isfinite(r["paper_reduction"]):
                row.append(_reduction_cell(r["paper_reduction"], r["paper_std"],
                                           r["paper_significant"]))
            else:
                row.append("")
        rows.append(row)
    avg = ["Avg."]
    # The paper's average over the rows where both values exist, so that the two
    # averages cover the same data sets.
    comparable = table[table["paper_reduction"].notna() & table["reduction"].notna()]
    for measure, _ in TABLE_ONE_COLUMNS:
        avg.append(_number(table.loc[table["measure"] == measure, "reduction"].mean()))
        avg.append(_number(comparable.loc[comparable["measure"] == measure,
                                          "paper_reduction"].mean()))
    rows.append(avg)
    notes = [
        "% reduction of CT relative to the baseline (positive: CT lower/better); mean ± sd "
        "of the per-run ratios;",
        "* the 99 % interval of the per-run differences CT - BL excludes 0. IP, IP*: "
        "unconstrained models,",
        "threshold 0.95; Cost: protected feature immutable, threshold 0.5; valid "
        "counterfactuals only.",
        "Paper Avg.: over the data sets with a value in both columns; the paper's own "
        "average over its nine data sets is "
        + ", ".join(f"{m} {v:.2f}" for m, v in _paper.PAPER_TABLE_ONE_AVERAGE.items()) + ".",
        *_footnotes(specs),
    ]
    return _layout(header, rows, notes)


def format_means_table(table):
    """The absolute means behind Table I as text: CT / BL, ours and the paper's."""
    header = ["Data"]
    for measure, _ in TABLE_ONE_COLUMNS:
        header += [f"{measure} ours", f"{measure} paper"]
    rows = []
    for dataset in pd.unique(table["dataset"]):
        spec = EXPERIMENT_DATASETS[dataset]
        row = [_dataset_label(spec)]
        for measure, _ in TABLE_ONE_COLUMNS:
            r = table[(table["dataset"] == dataset) & (table["measure"] == measure)].iloc[0]
            digits = 3 if measure == "IP*" else 2
            row.append(f"{_number(r['mean_CT'], digits)} / {_number(r['mean_BL'], digits)}")
            paper = _paper.PAPER_MEANS.get(measure, {}).get(spec.paper_name)
            row.append(f"{paper[0]:.2f} / {paper[1]:.2f}" if paper else "")
        rows.append(row)
    notes = ["Mean over runs of the per-run means of valid counterfactuals, CT / BL; the "
             "paper's from its appendix.",
             "IP and cost are L1 distances in each data set's own units, so only data sets "
             "drawn alike compare."]
    return _layout(header, rows, notes)


def format_validity_table(table):
    """Validity table as text: ours / paper for each model and setting."""
    header = ["Data", "CT", "BL", "CT protected", "BL protected"]
    rows = []
    for _, r in table.iterrows():
        spec = EXPERIMENT_DATASETS[r["dataset"]]
        row = [_dataset_label(spec)]
        for column in header[1:]:
            key = column.replace(" ", "_")
            paper = r[f"paper_{key}"]
            cell = _number(r[key])
            if np.isfinite(paper):
                cell += f" / {paper:.2f}"
            row.append(cell)
        rows.append(row)
    notes = ["Share of valid counterfactuals, ours / paper. Unconstrained: threshold 0.95; "
             "protected: the protected",
             "feature immutable, threshold 0.5; valid = the model predicts the target."]
    return _layout(header, rows, notes)


def format_robustness_table(table):
    """Robustness table as text: ours / paper where the paper published a value."""
    header = ["Data", "acc BL", "acc CT", "FGSM BL", "FGSM CT", "PGD BL", "PGD CT"]
    keys = ["accuracy_BL", "accuracy_CT", "fgsm_BL", "fgsm_CT", "pgd_BL", "pgd_CT"]
    rows = []
    eps = table["epsilon"].max() if len(table) else np.nan
    for _, r in table.iterrows():
        spec = EXPERIMENT_DATASETS[r["dataset"]]
        row = [_dataset_label(spec)]
        for key in keys:
            cell = _number(r[key])
            paper = r[f"paper_{key}"]
            if np.isfinite(paper):
                cell += f" / {paper:.2f}"
            row.append(cell)
        rows.append(row)
    notes = [f"Test accuracy (clean) and under FGSM and PGD attacks at epsilon = {eps:.2f}, "
             "ours / paper. The paper's",
             "real-data values are read off its robustness figure (about ± 0.02); it "
             "publishes no robust accuracy for",
             "the synthetic data sets."]
    return _layout(header, rows, notes)


def format_comparison(table):
    """The comparison of objectives as text: one row per data set and model, averages.

    Parameters
    ----------
    table : pandas.DataFrame
        Result of :func:`comparison_table`.

    Returns
    -------
    text : str
        The table with a title and notes.
    """
    header = ["Data", "Model", "IP", "IP*", "Cost", "valid", "acc", "FGSM", "PGD", "fit x"]
    rows = []
    for dataset in pd.unique(table["dataset"]):
        part = table[table["dataset"] == dataset]
        for k, (_, r) in enumerate(part.iterrows()):
            row = [_dataset_label(EXPERIMENT_DATASETS[dataset]) if k == 0 else "",
                   r["model"]]
            for measure, _ in TABLE_ONE_COLUMNS:
                if r["model"] == "BL":
                    row.append("-")
                else:
                    row.append(_reduction_cell(r[f"{measure}_reduction"],
                                               r[f"{measure}_std"],
                                               r[f"{measure}_significant"]))
            row += [_number(r["validity"]), _number(r["accuracy"]), _number(r["fgsm"]),
                    _number(r["pgd"]), _number(r["fit_ratio"], 1)]
            rows.append(row)
    for k, model in enumerate(pd.unique(table["model"])):
        part = table[table["model"] == model]
        row = ["Avg." if k == 0 else "", model]
        for measure, _ in TABLE_ONE_COLUMNS:
            row.append("-" if model == "BL"
                       else _number(part[f"{measure}_reduction"].mean()))
        row += [_number(part[c].mean()) for c in ("validity", "accuracy", "fgsm", "pgd")]
        row.append(_number(part["fit_ratio"].mean(), 1))
        rows.append(row)
    eps = _number(table["epsilon"].max()) if len(table) else None
    notes = [
        "IP, IP*, Cost: % reduction relative to the baseline BL (positive: lower/better), "
        "mean ± sd of the per-run",
        "ratios, * where the 99 % interval of the per-run differences excludes 0 (Table "
        "I's protocol). CT: the paper's",
        "objective; JEM: energy terms with SGLD negatives; PGD: adversarial loss on PGD "
        "attacks; AR, CD: the",
        "paper's ablations. Cost compares protected twins where training uses "
        "mutability (CT, AR, CD).",
        "valid: share of valid counterfactuals (threshold 0.95); acc: clean test "
        "accuracy; FGSM, PGD: accuracy",
        "under attack at the largest epsilon" + (f" ({eps})" if eps else "")
        + "; fit x: fit time relative to BL.",
    ]
    return "Objectives compared with the baseline\n" + _layout(header, rows, notes)


def format_report(table1, validity, robustness, *, invalidation=None, settings=None):
    """All tables as one text report.

    Parameters
    ----------
    table1, validity, robustness : pandas.DataFrame
        Results of :func:`table_one`, :func:`validity_table` and :func:`robustness_table`.
    invalidation : pandas.DataFrame or None, default=None
        Result of :func:`~sklearn_ct.experiment.invalidation_table`; None leaves the
        recourse section out.
    settings : ExperimentSettings or None, default=None
        The experiment's settings, quoted in the notes of the recourse section.

    Returns
    -------
    report : str
        Table I, its absolute means, the validity and the robustness table, and the
        invalidation table when given, with titles and notes.
    """
    parts = [
        "Table I: CT vs baseline, % reduction (ours vs paper)",
        format_table_one(table1),
        "",
        "Absolute means behind Table I (CT / BL)",
        format_means_table(table1),
        "",
        "Validity of the counterfactuals",
        format_validity_table(validity),
        "",
        "Accuracy and robustness",
        format_robustness_table(robustness),
        "",
    ]
    if invalidation is not None and len(invalidation):
        from ._recourse import format_invalidation_table

        parts += [
            "Recourse invalidation under retraining and noise (not in the paper)",
            format_invalidation_table(
                invalidation,
                n_refits=None if settings is None else settings.n_refits,
                noise=None if settings is None else settings.invalidation_noise),
            "",
        ]
    parts.append(f"Paper: {_paper.PAPER_CITATION}.")
    return "\n".join(parts)
