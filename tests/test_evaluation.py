"""Tests of the paper's evaluation protocol (evaluate_counterfactuals, aggregate_runs).

The aggregation formulas are checked on small hand-made tables. The protocol is checked
with a scripted explainer whose counterfactuals, validity and costs are known exactly, and
end to end with two tiny CT classifiers.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch

from sklearn_ct import CTClassifier
from sklearn_ct.datasets import load_synthetic
from sklearn_ct.explainers import CounterfactualExplainer
from sklearn_ct.metrics import (
    aggregate_runs,
    evaluate_counterfactuals,
    make_counterfactual_scorer,
)

SUMMARY_COLUMNS = ["model", "measure", "mean", "std", "n_runs", "n_counterfactuals",
                   "n_valid", "reduction", "reduction_std", "ci_low", "ci_high", "significant"]


def _raw(values, measure="cost"):
    """Tidy per-run table from ``{model: [value per run]}``."""
    return pd.DataFrame([
        {"model": model, "measure": measure, "run": run, "value": value}
        for model, runs in values.items() for run, value in enumerate(runs)
    ])


# -- aggregate_runs --------------------------------------------------------------------------


def test_aggregate_formulas_by_hand():
    raw = pd.concat([_raw({"BL": [2.0, 4.0, 5.0], "CT": [1.0, 3.0, 5.0]}, "cost"),
                     _raw({"BL": [1.0, 2.0, 4.0], "CT": [1.0, 2.0, 4.0]}, "ip")])
    out = aggregate_runs(raw, "BL").set_index(["model", "measure"])
    ct = out.loc[("CT", "cost")]
    assert ct["mean"] == pytest.approx(3.0)
    assert ct["std"] == pytest.approx(2.0)  # sample standard deviation (ddof=1)
    assert out.loc[("BL", "cost"), "std"] == pytest.approx(np.std([2.0, 4.0, 5.0], ddof=1))
    # Per-run ratios 0.5, 0.75, 1: reduction = (1 - mean ratio) * 100, "±" = 100 * sd.
    assert ct["reduction"] == pytest.approx(25.0)
    assert ct["reduction_std"] == pytest.approx(25.0)
    # The mean of ratios, not the ratio of means (1 - 3 / (11 / 3) = 18.2 %).
    assert ct["reduction"] != pytest.approx(100 * (1 - 3.0 / (11.0 / 3.0)))
    # Differences -1, -1, 0: the 99 % percentile interval (linear interpolation).
    assert ct["ci_low"] == pytest.approx(-1.0)
    assert ct["ci_high"] == pytest.approx(-0.01)
    assert bool(ct["significant"])
    same = out.loc[("CT", "ip")]
    assert same["reduction"] == 0 and same["reduction_std"] == 0
    assert same["ci_low"] == 0 and same["ci_high"] == 0 and not same["significant"]
    assert (out["n_runs"] == 3).all()


def test_aggregate_confidence_sets_the_percentiles():
    rng = np.random.RandomState(0)
    base, model = rng.uniform(1, 2, 20), rng.uniform(1, 2, 20)
    out = aggregate_runs(_raw({"BL": base, "CT": model}), "BL", confidence=0.5)
    np.testing.assert_allclose(out.loc[1, ["ci_low", "ci_high"]].to_numpy(dtype=float),
                               np.quantile(model - base, [0.25, 0.75]))


def test_aggregate_significance():
    rng = np.random.RandomState(0)
    base = 5 + rng.normal(0, 0.1, 100)
    raw = pd.concat([
        _raw({"BL": base, "better": base - 1 + rng.normal(0, 0.1, 100),
              "same": base + rng.normal(0, 0.1, 100)}),
    ])
    out = aggregate_runs(raw, "BL").set_index("model")
    assert out.loc["better", "significant"]
    assert out.loc["better", "ci_high"] < 0
    assert out.loc["better", "reduction"] == pytest.approx(20, abs=1)
    assert not out.loc["same", "significant"]
    assert out.loc["same", "ci_low"] < 0 < out.loc["same", "ci_high"]


def test_aggregate_structure_without_baseline():
    raw = _raw({"A": [1.0, 2.0], "B": [3.0, 4.0]})
    raw["n_counterfactuals"] = 10
    raw["n_valid"] = [9, 8, 7, 6]
    out = aggregate_runs(raw)
    assert list(out.columns) == SUMMARY_COLUMNS
    assert out[["model", "measure"]].values.tolist() == [["A", "cost"], ["B", "cost"]]
    assert out[["reduction", "reduction_std", "ci_low", "ci_high"]].isna().all().all()
    assert not out["significant"].any()
    assert out["n_valid"].tolist() == [17, 13]
    assert out["n_counterfactuals"].tolist() == [20, 20]
    # Without count columns the summary leaves them out.
    assert "n_valid" not in aggregate_runs(_raw({"A": [1.0]})).columns


def test_aggregate_baseline_rows_have_no_comparison():
    out = aggregate_runs(_raw({"CT": [1.0, 2.0], "BL": [2.0, 2.0]}), "BL")
    # Order of first appearance is kept; the baseline is not compared with itself.
    assert out["model"].tolist() == ["CT", "BL"]
    assert out.loc[1, ["reduction", "ci_low", "ci_high"]].isna().all()
    assert not out.loc[1, "significant"]


def test_aggregate_averages_rows_of_the_same_run_first():
    # Two explainer settings per run, as the paper's lambda_energy grid.
    raw = pd.DataFrame({
        "model": ["BL"] * 4 + ["CT"] * 4, "measure": "ip",
        "run": [0, 0, 1, 1] * 2, "explainer": [0, 1] * 4,
        "value": [1.0, 3.0, 2.0, 2.0, 1.0, 1.0, 1.0, 3.0],
    })
    out = aggregate_runs(raw, "BL").set_index("model")
    # Run means: BL 2, 2; CT 1, 2 -> ratios 0.5, 1.
    assert out.loc["CT", "mean"] == pytest.approx(1.5)
    assert out.loc["CT", "reduction"] == pytest.approx(25.0)
    assert out.loc["BL", "n_runs"] == 2


def test_aggregate_skips_missing_runs_and_non_finite_ratios():
    raw = _raw({"BL": [0.0, 2.0, 4.0, 1.0], "CT": [1.0, 1.0, np.nan, 1.0]})
    out = aggregate_runs(raw, "BL").set_index("model")
    assert out.loc["CT", "n_runs"] == 3 and out.loc["BL", "n_runs"] == 4
    assert out.loc["CT", "mean"] == pytest.approx(1.0)
    # Run 0 (baseline 0: infinite ratio) and run 2 (missing) are left out: ratios 0.5, 1.
    assert out.loc["CT", "reduction"] == pytest.approx(25.0)
    # Differences use every run with both values: 1, -1, 0.
    low, high = np.quantile([1.0, -1.0, 0.0], [0.005, 0.995])
    assert out.loc["CT", "ci_low"] == pytest.approx(low)
    assert out.loc["CT", "ci_high"] == pytest.approx(high)


@pytest.mark.parametrize("raw, kwargs, error, match", [
    (_raw({"A": [1.0]}).drop(columns="run"), {}, ValueError, "lacks the column"),
    (_raw({"A": [1.0]}), {"baseline": "B"}, ValueError, "baseline 'B'"),
    (_raw({"A": [1.0]}), {"confidence": 1.0}, ValueError, "confidence"),
    (_raw({"A": [1.0]}).iloc[:0], {}, ValueError, "no rows"),
    ([1, 2], {}, TypeError, "DataFrame"),
])
def test_aggregate_errors(raw, kwargs, error, match):
    with pytest.raises(error, match=match):
        aggregate_runs(raw, **kwargs)


# -- evaluate_counterfactuals with a scripted explainer --------------------------------------


class ScriptedExplainer(BaseEstimator):
    """Counterfactuals with known validity and cost, for a model whose boundary is x0 = 0.

    Rows with ``|x0| < 1`` move 1.5 across the boundary (valid, cost 1.5); the others move
    0.5 towards it and stay on their side (invalid, cost 0.5). ``x1`` never changes.
    """

    calls = []

    def __init__(self, estimator=None, random_state=None):
        self.estimator = estimator
        self.random_state = random_state

    def fit(self, X, y=None):
        self.estimator_ = self.estimator
        return self

    def transform(self, X):
        return self.explain(X).counterfactuals

    def explain(self, X, target=None):
        X = np.asarray(X, dtype=np.float64)
        ScriptedExplainer.calls.append(X.shape[0])
        x0 = X[:, 0]
        step = np.where(np.abs(x0) < 1, 1.5, 0.5)
        cf = X.copy()
        cf[:, 0] = x0 - np.sign(x0) * step
        return Bunch(counterfactuals=cf, target=np.asarray(target))


@pytest.fixture(scope="module")
def line():
    x0 = np.linspace(-3, 3, 60)  # symmetric, never 0
    X = np.column_stack([x0, np.zeros_like(x0)])
    y = (x0 > 0).astype(int)
    return X, y, LogisticRegression().fit(X, y)


def test_protocol_with_known_counterfactuals(line):
    X, y, model = line
    ScriptedExplainer.calls.clear()
    summary, raw = evaluate_counterfactuals(
        {"M": model}, X, y, explainer=ScriptedExplainer(), n_individuals=30, n_runs=20,
        measures=("validity", "cost", "redundancy", "implausibility"), random_state=0,
        return_raw=True)
    wide = raw.pivot(index="run", columns="measure", values="value")
    # The draws are individuals predicted as the factual label; a third of each class is
    # near the boundary, so validity varies per run.
    assert 0 < wide["validity"].min() < wide["validity"].max() < 1
    # Valid counterfactuals only: every valid one cost exactly 1.5 and kept x1.
    np.testing.assert_allclose(wide["cost"], 1.5)
    np.testing.assert_allclose(wide["redundancy"], 0.5)
    per_run = raw[raw.measure == "validity"].set_index("run")
    np.testing.assert_allclose(wide["validity"], per_run["n_valid"] / per_run["n_counterfactuals"])
    assert (per_run["n_counterfactuals"] == 30).all()
    assert summary.set_index("measure").loc["cost", "n_valid"] == per_run["n_valid"].sum()
    # All 600 draws were explained in one batch of distinct rows.
    assert len(ScriptedExplainer.calls) == 1 and ScriptedExplainer.calls[0] <= len(X)


def test_valid_only_filter(line):
    X, y, model = line
    kwargs = dict(explainer=ScriptedExplainer(), n_individuals=30, n_runs=20,
                  measures=("validity", "cost"), random_state=0, return_raw=True)
    _, raw_all = evaluate_counterfactuals({"M": model}, X, y, valid_only=False, **kwargs)
    wide = raw_all.pivot(index="run", columns="measure", values="value")
    # All counterfactuals: cost 1.5 for the valid share, 0.5 for the rest.
    np.testing.assert_allclose(wide["cost"], 0.5 + 1.0 * wide["validity"])
    _, raw_valid = evaluate_counterfactuals({"M": model}, X, y, valid_only=True, **kwargs)
    pd.testing.assert_series_equal(raw_valid[raw_valid.measure == "validity"]["value"],
                                   raw_all[raw_all.measure == "validity"]["value"])


def test_strict_validity_threshold(line):
    X, y, model = line
    kwargs = dict(explainer=ScriptedExplainer(), n_individuals=30, n_runs=5,
                  measures=("validity",), random_state=0)
    loose = evaluate_counterfactuals({"M": model}, X, y, **kwargs)
    strict = evaluate_counterfactuals({"M": model}, X, y, validity_threshold=0.999, **kwargs)
    assert strict.loc[0, "mean"] < loose.loc[0, "mean"]


def test_labels_redrawn_per_run_or_fixed(line):
    X, y, _ = line
    # A model that predicts only class 0: individuals with factual label 1 are skipped, so
    # the number of counterfactuals per run counts the label-0 draws.
    model = DummyClassifier(strategy="constant", constant=0).fit(X, y)
    counts = {}
    for redraw in (True, False):
        with pytest.warns(UserWarning, match="predicts no row of X as class"):
            _, raw = evaluate_counterfactuals(
                {"dummy": model}, X, y, explainer=ScriptedExplainer(), n_individuals=20,
                n_runs=10, measures=("validity",), redraw_labels=redraw, random_state=0,
                return_raw=True)
        counts[redraw] = raw["n_counterfactuals"].to_numpy()
    assert np.unique(counts[False]).size == 1
    assert np.unique(counts[True]).size > 1


def test_several_explainers_are_averaged_per_run(line):
    X, y, model = line
    summary, raw = evaluate_counterfactuals(
        {"M": model}, X, y, explainer=[ScriptedExplainer(), ScriptedExplainer()],
        n_individuals=10, n_runs=4, measures=("cost",), valid_only=False, random_state=0,
        return_raw=True)
    assert sorted(raw["explainer"].unique()) == [0, 1]
    assert len(raw) == 8
    pd.testing.assert_frame_equal(summary, aggregate_runs(raw))


def test_measure_params_reach_the_metrics(line):
    X, y, model = line
    kwargs = dict(explainer=ScriptedExplainer(), n_individuals=10, n_runs=3,
                  measures=("implausibility",), random_state=0)
    full = evaluate_counterfactuals({"M": model}, X, y, **kwargs)
    local = evaluate_counterfactuals({"M": model}, X, y,
                                     measure_params={"implausibility": {"n_neighbors": 1}},
                                     **kwargs)
    assert local.loc[0, "mean"] < full.loc[0, "mean"]
    with pytest.raises(ValueError, match="not among the measures"):
        evaluate_counterfactuals({"M": model}, X, y,
                                 measure_params={"cost": {"norm": "l2"}}, **kwargs)


def test_invalidation_rate_is_a_protocol_measure(line):
    X, y, model = line
    kwargs = dict(explainer=ScriptedExplainer(), n_individuals=30, n_runs=5,
                  measures=("validity", "invalidation_rate"), random_state=0,
                  return_raw=True)

    def rates(scale, **extra):
        _, raw = evaluate_counterfactuals(
            {"M": model}, X, y, measure_params={"invalidation": {"noise_scale": scale,
                                                                 "n_draws": 200}},
            **kwargs, **extra)
        return raw[raw.measure == "invalidation_rate"]["value"].to_numpy()

    # Valid counterfactuals lie 0.5 to 1.5 past the boundary x0 = 0: a tiny noise never
    # moves them back, a huge one (on x0 only) does half of the time.
    np.testing.assert_array_equal(rates([1e-6, 1e-6]), 0.0)
    np.testing.assert_allclose(rates([1e3, 0.0]), 0.5, atol=0.1)
    # Only valid counterfactuals can be invalidated, whatever valid_only says.
    np.testing.assert_array_equal(rates([1e3, 0.0], valid_only=False), rates([1e3, 0.0]))
    with pytest.raises(ValueError, match="under noise only"):
        evaluate_counterfactuals(
            {"M": model}, X, y, measures=("invalidation_rate",),
            measure_params={"invalidation_rate": {"kind": "retrain", "models": [model]}})


def test_evaluate_errors(line):
    X, y, model = line
    with pytest.raises(ValueError, match="baseline 'BL' is not one of the models"):
        evaluate_counterfactuals({"CT": model}, X, y, baseline="BL")
    with pytest.raises(NotFittedError, match="models\\['CT'\\] is not fitted"):
        evaluate_counterfactuals({"CT": LogisticRegression()}, X, y)
    with pytest.raises(ValueError, match="Unknown measure"):
        evaluate_counterfactuals({"CT": model}, X, y, measures=("plausibility",))
    with pytest.raises(ValueError, match="at least 2 classes"):
        evaluate_counterfactuals({"CT": model}, X, np.zeros(len(y)))
    with pytest.raises(TypeError, match="non-empty dict"):
        evaluate_counterfactuals({}, X, y)
    with pytest.raises(ValueError, match="n_runs"):
        evaluate_counterfactuals({"CT": model}, X, y, n_runs=0)
    with pytest.raises(TypeError, match="explainer must be"):
        evaluate_counterfactuals({"CT": model}, X, y, explainer="ecco")


# -- end to end with CT classifiers ---------------------------------------------------------


@pytest.fixture(scope="module")
def ct_models():
    ds = load_synthetic("linearly_separable", n_samples=400, random_state=0)
    scaler = StandardScaler().fit(ds.X_train)
    X, X_test = scaler.transform(ds.X_train), scaler.transform(ds.X_test)
    models = {
        objective: CTClassifier(objective=objective, max_epochs=10, batch_size=16, lr=0.02,
                                n_counterfactuals=40, max_steps=15,
                                random_state=0).fit(X, ds.y_train)
        for objective in ("vanilla", "full")
    }
    return models, X_test, ds.y_test


def test_end_to_end_two_ct_models(ct_models):
    models, X_test, y_test = ct_models
    measures = ("validity", "cost", "implausibility", "implausibility_mmd", "redundancy",
                "ynn")
    summary, raw = evaluate_counterfactuals(
        models, X_test, y_test, n_individuals=25, n_runs=10, baseline="vanilla",
        measures=measures, random_state=0, return_raw=True)
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert summary[["model", "measure"]].values.tolist() == [
        [model, measure] for model in ("vanilla", "full") for measure in measures]
    assert len(raw) == 2 * len(measures) * 10
    assert set(raw.columns) == {"model", "explainer", "measure", "run", "value",
                                "n_counterfactuals", "n_valid"}
    assert (summary["n_counterfactuals"] == 250).all()
    assert (summary["n_valid"] <= summary["n_counterfactuals"]).all()
    by = summary.set_index(["model", "measure"])
    for model in models:
        assert 0.5 < by.loc[(model, "validity"), "mean"] <= 1
        for measure in ("cost", "implausibility"):
            assert by.loc[(model, measure), "mean"] > 0
        assert by.loc[(model, "implausibility_mmd"), "mean"] >= 0  # clamped at 0
    baseline_rows = summary[summary.model == "vanilla"]
    assert baseline_rows["reduction"].isna().all()
    ct_cost = by.loc[("full", "cost")]
    assert np.isfinite(ct_cost["reduction"]) and ct_cost["ci_low"] <= ct_cost["ci_high"]
    # The summary means are the means of the per-run values.
    means = raw.groupby(["model", "measure"], sort=False)["value"].mean()
    np.testing.assert_allclose(by["mean"].to_numpy(), means.reindex(by.index).to_numpy())


def test_end_to_end_is_deterministic(ct_models):
    models, X_test, y_test = ct_models
    kwargs = dict(n_individuals=15, n_runs=5, baseline="vanilla", return_raw=True)
    first = evaluate_counterfactuals(models, X_test, y_test, random_state=1, **kwargs)
    second = evaluate_counterfactuals(models, X_test, y_test, random_state=1, **kwargs)
    for a, b in zip(first, second):
        pd.testing.assert_frame_equal(a, b)
    other = evaluate_counterfactuals(models, X_test, y_test, random_state=2, **kwargs)
    assert not np.allclose(first[1]["value"], other[1]["value"], equal_nan=True)


def test_end_to_end_explainer_template_is_used(ct_models):
    models, X_test, y_test = ct_models
    # A search of a single tiny step reaches almost nothing: validity drops.
    stuck = CounterfactualExplainer(None, max_steps=1, step_size=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # all-NaN runs are summarized silently
        summary = evaluate_counterfactuals(models, X_test, y_test, explainer=stuck,
                                           n_individuals=10, n_runs=3, baseline="vanilla",
                                           random_state=0)
    by = summary.set_index(["model", "measure"])
    assert by.loc[("full", "validity"), "mean"] == 0
    # No valid counterfactual: the valid-only measures are undefined in every run.
    assert np.isnan(by.loc[("full", "cost"), "mean"])
    assert by.loc[("full", "cost"), "n_runs"] == 0
    assert np.isnan(by.loc[("full", "cost"), "reduction"])
    assert not by.loc[("full", "cost"), "significant"]


def test_scorers_and_protocol_share_one_registry():
    from sklearn_ct.metrics._evaluation import MEASURES, _check_measures
    from sklearn_ct.metrics._registry import ALIASES, get_measure

    # Every measure of the protocol is a scorer metric, under its label or its name.
    for label in MEASURES:
        measure = get_measure(label)
        assert measure.label == label
        assert make_counterfactual_scorer(label)._measure is measure
        assert make_counterfactual_scorer(measure.name)._measure is measure
    assert _check_measures(["counterfactual_cost", "sparsity", "validity"]) == [
        "cost", "redundancy", "validity"]
    assert ALIASES["sparsity"] == "redundancy"
    with pytest.raises(ValueError, match="Unknown measure"):
        _check_measures(["robust_accuracy"])  # a model measure, not a counterfactual one
    with pytest.raises(TypeError, match="Unexpected keyword argument"):
        model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
        evaluate_counterfactuals({"M": model}, np.zeros((2, 1)), [0, 1],
                                 measure_params={"cost": {"lenght": 1}}, measures=("cost",))


def test_ipstar_sample_all_or_selected_counterfactuals():
    """IP* groups are built from all counterfactuals by default (the reference), and the
    run's value is the mean of the group values over the averaged (valid) ones."""
    from sklearn_ct.metrics import implausibility_mmd
    from sklearn_ct.metrics._evaluation import _mmd_per_run

    rng = np.random.default_rng(0)
    Xf = np.vstack([rng.normal(-2, 1, (40, 2)), rng.normal(2, 1, (40, 2))])
    y = np.repeat([0, 1], 40)
    cf = np.vstack([rng.normal(2, 1, (6, 2)), rng.normal(-2, 1, (6, 2))])
    target = np.array([1] * 6 + [0] * 6)
    drawn = np.ones((1, 12), dtype=bool)
    selected = drawn.copy()
    selected[0, [0, 1, 6]] = False  # three invalid counterfactuals
    inverse = np.arange(12)[None, :]
    kwargs = dict(Xf=Xf, y=y, params={}, seeds=[0])
    all_, _ = _mmd_per_run(cf, target, selected, inverse, sample=drawn, **kwargs)
    sel, _ = _mmd_per_run(cf, target, selected, inverse, **kwargs)

    def expected(rows):
        groups = implausibility_mmd(cf[rows], Xf, y, target[rows], aggregate=False,
                                    random_state=0)
        return groups

    g_all = expected(np.arange(12))
    assert all_[0] == pytest.approx(np.maximum(g_all[selected[0]], 0).mean())
    g_sel = expected(np.flatnonzero(selected[0]))
    assert sel[0] == pytest.approx(np.maximum(g_sel, 0).mean())
    assert all_[0] != pytest.approx(sel[0])
