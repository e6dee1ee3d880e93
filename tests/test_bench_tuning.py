"""The per-task oracle of ``bench/bench_tuning.py``, on hand-made benchmark outcomes."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import pandas as pd
import pytest

from sklearn_ct import REFERENCE_PARAMS, CTClassifier
from sklearn_ct.experiment import BenchmarkSettings


@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("bench/bench_tuning.py")


def _comparisons(task, red, *, worse=None, better=()):
    """Both explainers' rows of one task: every measure reduced by ``red`` (a fraction)
    with an interval around 0, except ``worse`` = (explainer, measure), whose interval lies
    below 0, and ``better``, those whose interval lies above 0."""
    rows = []
    for explainer in ("default", "plain"):
        row = {"task": task, "explainer": explainer, "model": "full"}
        for measure in ("ip", "knn", "ipstar"):
            low, high = -0.01, 0.01
            if (explainer, measure) == worse:
                low, high = -0.2, -0.1
            elif (explainer, measure) in better:
                low, high = 0.01, 0.2
            row.update({f"{measure}_red": red, f"{measure}_low": low, f"{measure}_high": high})
        rows.append(row)
    return rows


def _run(parts, accuracy):
    comparisons = pd.DataFrame([row for part in parts for row in part])
    tasks = pd.DataFrame({"task": list(accuracy), "accuracy_change": list(accuracy.values()),
                          "fit_ratio": 1.5})
    return comparisons, tasks


def test_oracle_takes_the_largest_admissible_gain(bench):
    runs = {
        # the largest plain IP gain on "a", but the default explainer's kNN is worse
        "big": _run([_comparisons("a", 0.30, worse=("default", "knn")),
                     _comparisons("b", -0.10)], {"a": 0.0, "b": 0.0}),
        # second largest on "a", admissible and significant on plain IP
        "mid": _run([_comparisons("a", 0.20, better=[("plain", "ip")]),
                     _comparisons("b", 0.50)], {"a": -2.0, "b": -2.5}),
        "small": _run([_comparisons("a", 0.05), _comparisons("b", -0.02)],
                      {"a": 0.0, "b": 0.0}),
    }
    table = bench.outcome_table(runs)
    admissible = table.set_index(["setting", "task"])["admissible"]
    assert not admissible[("big", "a")]
    assert admissible[("mid", "a")]          # 2 points lower: at the limit, admissible
    assert not admissible[("mid", "b")]      # 2.5 points lower: not
    best = bench.oracle(table, "plain_ip").set_index("task")
    assert best.loc["a", "setting"] == "mid"
    assert best.loc["a", "plain_ip"] == pytest.approx(20.0)
    assert best.loc["a", "plain_ip_sig"] and not best.loc["a", "plain_knn_sig"]
    # "b": the only gain is inadmissible, the others are losses: the conventional model
    assert best.loc["b", "setting"] == "vanilla"
    assert (best.loc["b", list(bench.COLUMNS)] == 0).all()
    assert "mean: plain_ip  10.0 (1+)" in "  mean: " + bench.summary_line(best.reset_index())


def test_oracle_never_prefers_a_loss_to_the_conventional_model(bench):
    runs = {"s": _run([_comparisons("a", -0.01)], {"a": 0.0})}
    best = bench.oracle(bench.outcome_table(runs), "default_ipstar")
    assert best.loc[0, "setting"] == "vanilla"
    with pytest.raises(ValueError, match="key must be one of"):
        bench.oracle(bench.outcome_table(runs), "ip")


def test_report_names_every_setting_and_marks_inadmissible_ones(bench):
    runs = {"one": _run([_comparisons("a", 0.1)], {"a": 0.0}),
            "two": _run([_comparisons("a", 0.2, worse=("plain", "ipstar"))], {"a": 0.0})}
    text = bench.report(bench.outcome_table(runs))
    assert "10.0 " in text and "20.0x" in text
    assert "Oracle maximising plain_ip per task" in text


def test_settings_are_valid_classifier_settings(bench):
    grid = bench.settings_grid()
    assert grid["default"] == {} and grid["reference"] == REFERENCE_PARAMS
    for name, params in grid.items():
        BenchmarkSettings(classifier_params=params)
        clf = CTClassifier().set_params(**params)
        for key, value in params.items():
            assert clf.get_params()[key] == value, name
    # one change at a time against the defaults, with selection and without it
    assert grid["nosel"] == {"selection": None}
    for name, change in bench.CHANGES.items():
        assert len(change) == 1 and grid[name] == change
        assert grid[f"{name}-nosel"] == {"selection": None, **change}
    assert len(grid) == 3 + 2 * len(bench.CHANGES)
