"""The ``sklearn-ct experiment`` command and the examples."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from sklearn_ct._cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_experiment_command_prints_table(tmp_path, capsys):
    out = tmp_path / "results.csv"
    assert main(["experiment", "--datasets", "linearly_separable", "--epochs", "2",
                 "--output", str(out)]) == 0
    text = capsys.readouterr().out
    for row in ("accuracy BL", "accuracy CT", "validity CT", "IP BL", "IP CT", "IP -%",
                "IP* -%", "cost -%"):
        assert row in text
    import pandas as pd

    results = pd.read_csv(out)
    assert set(results["model"]) == {"BL", "CT"}
    assert len(results) == 2


def test_module_entry_point_help():
    proc = subprocess.run([sys.executable, "-m", "sklearn_ct", "experiment", "--help"],
                          capture_output=True, text=True, check=True)
    assert "--datasets" in proc.stdout


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_examples_run(script, monkeypatch):
    monkeypatch.setenv("SKLEARN_CT_EXAMPLE_QUICK", "1")
    monkeypatch.chdir(script.parent)
    os.environ.setdefault("MPLBACKEND", "Agg")
    runpy.run_path(str(script), run_name="__main__")
