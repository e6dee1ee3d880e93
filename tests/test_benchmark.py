"""The real-data benchmark: statistics, the fixed plain search, a quick run and the CLI."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
import torch

from sklearn_ct.__main__ import main
from sklearn_ct.experiment import (
    BENCHMARK_MEASURES,
    BenchmarkSettings,
    paired_reduction,
    plain_search,
    run_benchmark,
)

QUICK = dict(n_seeds=1, n_factuals=25, max_rows=150, n_bootstrap=50,
             classifier_params=dict(max_epochs=15, max_steps=10))


def test_paired_reduction_matches_hand_computation():
    base = np.array([2.0, 4.0, 6.0, 8.0])
    treated = np.array([1.0, 3.0, 5.0, 7.0])
    red, low, high = paired_reduction(base, treated, n_bootstrap=200, random_state=0)
    assert red == pytest.approx(1 - 16 / 20)
    assert low <= red <= high
    # Every bootstrap sample of these pairs is an improvement.
    assert low > 0
    red, low, high = paired_reduction(base, base, n_bootstrap=50)
    assert (red, low, high) == (0.0, 0.0, 0.0)
    assert np.isnan(paired_reduction(np.zeros(0), np.zeros(0))[0])


def test_paired_reduction_resamples_within_groups():
    rng = np.random.default_rng(0)
    base = rng.uniform(1, 2, 60)
    treated = base * 0.9
    groups = np.repeat([0, 1, 2], 20)
    red, low, high = paired_reduction(base, treated, groups=groups, n_bootstrap=100)
    # A constant ratio gives the same reduction in every resample.
    assert red == pytest.approx(0.1) and low == pytest.approx(0.1) and high == pytest.approx(0.1)


def test_plain_search_on_a_linear_model_follows_the_weight_direction():
    torch.manual_seed(0)
    module = torch.nn.Linear(3, 2)
    X = np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 0.5]])
    with torch.no_grad():
        target = module(torch.as_tensor(X, dtype=torch.float32)).argmin(dim=1).numpy()
    X_cf, valid = plain_search(module, X, target, threshold=0.9, step_size=0.05,
                               lambda_cost=0.0, max_steps=10_000)
    assert valid.all()
    w = module.weight.detach().numpy().astype(np.float64)
    for i, t in enumerate(target):
        direction = w[t] - w[1 - t]
        step = X_cf[i] - X[i]
        # Cross-entropy of a linear model has a constant input gradient direction.
        cos = step @ direction / np.linalg.norm(step) / np.linalg.norm(direction)
        assert cos == pytest.approx(1.0, abs=1e-5)
        logits = w @ X_cf[i] + module.bias.detach().numpy()
        p = np.exp(logits - logits.max())
        p /= p.sum()
        assert p[t] >= 0.9
        # It stops at the first step past the threshold: one step back is below it.
        back = X_cf[i] - 0.05 * (p[t] - 1) * -direction
        lb = w @ back + module.bias.detach().numpy()
        pb = np.exp(lb - lb.max())
        assert (pb / pb.sum())[t] < 0.9


def test_settings_are_validated():
    with pytest.raises(ValueError, match="Unknown benchmark tasks"):
        BenchmarkSettings(tasks=("nope",))
    with pytest.raises(ValueError, match="vanilla"):
        BenchmarkSettings(objectives=("vanilla",))
    with pytest.raises(ValueError, match="Unknown objectives"):
        BenchmarkSettings(objectives=("nope",))
    with pytest.raises(ValueError, match="max_rows"):
        BenchmarkSettings(max_rows=10)
    with pytest.raises(ValueError, match="n_seeds"):
        BenchmarkSettings(n_seeds=0)


@pytest.fixture(scope="module")
def quick_result():
    return run_benchmark(["penguins", "frogs"], **QUICK)


def test_quick_benchmark_tables(quick_result):
    comp, tasks = quick_result.comparisons, quick_result.tasks
    assert len(comp) == 2 * 2  # tasks x explainers
    assert set(comp["explainer"]) == {"default", "plain"}
    for m in BENCHMARK_MEASURES:
        finite = comp[f"{m}_red"].notna()
        assert (comp.loc[finite, f"{m}_low"] <= comp.loc[finite, f"{m}_red"] + 1e-12).all()
        assert (comp.loc[finite, f"{m}_red"] <= comp.loc[finite, f"{m}_high"] + 1e-12).all()
    assert (comp["valid_baseline"].between(0, 1)).all()
    assert list(tasks["task"]) == ["penguins", "frogs"]
    assert (tasks["fit_ratio"] > 0).all()
    assert tasks["kept_ct"].between(0, 1).all()
    report = quick_result.report()
    assert "penguins" in report and "Averages over tasks" in report
    assert "plain gradient search (step 0.1, stop at p >= 0.9)" in report


def test_quick_benchmark_reductions_follow_from_the_records(quick_result):
    """The reported IP means are those of the paired, valid counterfactuals."""
    from sklearn_ct.experiment._benchmark import prepare_task
    from sklearn_ct.metrics import implausibility

    settings = quick_result.settings
    checked = 0
    for name in ("penguins", "frogs"):
        task = prepare_task(name, settings)
        recs = {r["model"]: r for r in quick_result.records if r["task"] == name}
        for explainer in ("default", "plain"):
            cb, vb = recs["vanilla"]["explanations"][explainer]
            cm, vm = recs["full"]["explanations"][explainer]
            both = vb & vm
            row = quick_result.comparisons.query(
                f"task == '{name}' and explainer == '{explainer}'").iloc[0]
            assert row["n_pairs"] == both.sum()
            if not both.any():
                continue
            t = task["target"][both]
            ip_b = implausibility(cb[both], task["Z_train"], task["y_train"], t)
            ip_m = implausibility(cm[both], task["Z_train"], task["y_train"], t)
            assert row["ip_red"] == pytest.approx(1 - ip_m.mean() / ip_b.mean())
            checked += 1
    assert checked >= 2


def test_benchmark_is_deterministic(quick_result):
    import pandas as pd

    again = run_benchmark(["penguins", "frogs"], **QUICK)
    pd.testing.assert_frame_equal(quick_result.comparisons, again.comparisons)
    timing = [c for c in quick_result.tasks.columns if "fit_" in c]
    pd.testing.assert_frame_equal(quick_result.tasks.drop(columns=timing),
                                  again.tasks.drop(columns=timing))


def test_saves_csv_report_and_settings(quick_result, tmp_path):
    written = quick_result.save(tmp_path)
    names = sorted(p.name for p in written)
    assert names == ["benchmark_averages.csv", "benchmark_comparisons.csv",
                     "benchmark_report.txt", "benchmark_settings.json",
                     "benchmark_tasks.csv"]


@pytest.mark.parametrize("argv, message", [
    (["benchmark", "--max-rows", "10"], "max_rows"),
    (["benchmark", "--objectives", "nope"], "invalid choice"),
    (["benchmark", "--tasks", "nope"], "invalid choice"),
    (["benchmark", "--seeds", "0"], "positive"),
    (["benchmark", "--plain-step-size", "0"], "positive number"),
    (["benchmark", "--plain-step-size", "nan"], "positive number"),
    (["benchmark", "--plain-max-steps", "0"], "positive"),
])
def test_cli_rejects_bad_arguments(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(argv + ["--output", str(tmp_path)])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_passes_the_plain_search_settings_on():
    """--plain-step-size / --plain-max-steps reach the settings (the step-size check)."""
    from sklearn_ct._cli import _benchmark_settings, _parser

    parser, *_ = _parser()
    args = parser.parse_args(["benchmark", "--plain-step-size", "0.02",
                              "--plain-max-steps", "2000"])
    settings = BenchmarkSettings(**_benchmark_settings(args))
    assert settings.plain_step_size == 0.02 and settings.plain_max_steps == 2000
    default = BenchmarkSettings(**_benchmark_settings(parser.parse_args(["benchmark"])))
    assert default.plain_step_size == 0.1 and default.plain_max_steps == 500
    for bad in (0.0, -0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="plain_step_size must be a positive finite"):
            BenchmarkSettings(plain_step_size=bad)
