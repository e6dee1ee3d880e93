"""The ``sklearn-ct experiment`` command and the examples."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from sklearn_ct._cli import main

ROOT = Path(__file__).resolve().parents[1]


TINY = ["--runs", "2", "--individuals", "8", "--epochs", "2", "--train-rows", "120"]


def test_experiment_command_prints_tables_and_writes_results(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["experiment", "--datasets", "ls", "circ", *TINY, "--output", str(out),
                 "--no-figures", "--refits", "1"]) == 0
    text = capsys.readouterr().out
    for piece in ("Table I", "IP ours", "IP paper", "IP* ours", "Cost ours", "Cost paper",
                  "Avg.", "Validity", "CT protected", "FGSM BL", "PGD CT",
                  "58.88 ± 0.37 *", "Recourse invalidation", "retrain CT", "noise BL",
                  "1 refits", "Results (", "Done in"):
        assert piece in text
    # No progress bars when the output is not a terminal (CI logs stay clean).
    assert "\r" not in text
    import pandas as pd

    table = pd.read_csv(out / "table1.csv")
    assert table["label"].tolist() == ["LS"] * 3 + ["Circ"] * 3
    assert not any(p.suffix == ".png" for p in out.iterdir())
    summary = pd.read_csv(out / "invalidation_summary.csv")
    assert set(summary["measure"]) == {"IR retrain", "IR noise"}


def test_default_command_is_the_experiment(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["--datasets", "moons", *TINY, "--no-figures"]) == 0
    assert (tmp_path / "sklearn_ct_results" / "report.txt").exists()
    assert "Moon" in capsys.readouterr().out


def test_refits_zero_skips_retraining(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["experiment", "--datasets", "moons", *TINY, "--output", str(out),
                 "--no-figures", "--refits", "0"]) == 0
    import pandas as pd

    summary = pd.read_csv(out / "invalidation_summary.csv")
    assert set(summary["measure"]) == {"IR noise"}
    text = capsys.readouterr().out
    assert "0 refits" in text and "retrain: n/a, no refits" in text
    with pytest.raises(SystemExit):
        main(["experiment", "--refits", "-1"])


def test_unknown_dataset_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["experiment", "--datasets", "cred"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Unknown data set 'cred'" in err and "german_credit" in err


@pytest.mark.parametrize("args, message", [
    (["--n-jobs", "0"], "argument --n-jobs"),
    (["--objectives", "sgld"], "argument --objectives: invalid choice"),
    (["--seed", "-1"], "argument --seed: expected a non-negative integer"),
    (["--train-rows", "5"], "argument --train-rows: expected at least 10"),
    (["--output", ""], "argument --output"),
    (["--output", "{file}"], "is not a folder"),
    (["--output", "{file}/results"], "cannot write results"),
])
def test_bad_options_are_usage_errors_before_training(args, message, tmp_path, capsys,
                                                      monkeypatch):
    import sklearn_ct.experiment

    def no_training(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("trained before validating the options")

    monkeypatch.setattr(sklearn_ct.experiment, "run_experiment", no_training)
    path = tmp_path / "a_file"
    path.write_text("x")
    args = [a.format(file=path) for a in args]
    with pytest.raises(SystemExit) as info:
        main(["experiment", "--datasets", "ls", *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and message in err


def test_output_folder_is_created_before_training(tmp_path, monkeypatch):
    import sklearn_ct.experiment

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(sklearn_ct.experiment, "run_experiment", stop)
    out = tmp_path / "new" / "results"
    with pytest.raises(Stop):
        main(["experiment", "--datasets", "ls", "--output", str(out)])
    assert out.is_dir() and not any(out.iterdir())


def test_module_entry_point_help():
    proc = subprocess.run([sys.executable, "-m", "sklearn_ct", "experiment", "--help"],
                          capture_output=True, text=True, check=True)
    for option in ("--datasets", "--full", "--quick", "--runs", "--output", "--n-jobs",
                   "--no-figures", "--progress", "--epochs", "--seed", "--refits"):
        assert option in proc.stdout


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_examples_run(script, monkeypatch):
    monkeypatch.setenv("SKLEARN_CT_EXAMPLE_QUICK", "1")
    monkeypatch.chdir(script.parent)
    os.environ.setdefault("MPLBACKEND", "Agg")
    runpy.run_path(str(script), run_name="__main__")
