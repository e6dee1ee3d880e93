"""Tests of the counterfactual scorers (sklearn_ct.metrics._scorer).

Scores are checked against the metric functions applied by hand to an explainer's output,
and the scorers are exercised in scikit-learn's model-selection tools (multi-metric grid
search with refit, cross_validate, parallel workers, pipelines, explainers as estimators).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import get_scorer as sklearn_get_scorer
from sklearn.metrics import get_scorer_names as sklearn_get_scorer_names
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ct import CTClassifier, ECCoGenerator
from sklearn_ct.datasets import load_synthetic
from sklearn_ct.explainers import CounterfactualExplainer
from sklearn_ct.metrics import (
    CounterfactualScorer,
    counterfactual_cost,
    counterfactual_validity,
    get_scorer,
    get_scorer_names,
    implausibility,
    implausibility_mmd,
    make_counterfactual_scorer,
    make_scoring,
    redundancy,
    robust_accuracy,
    ynn,
)

OUR_NAMES = ["counterfactual_validity", "neg_counterfactual_cost", "neg_implausibility",
             "neg_implausibility_mmd", "redundancy", "robust_accuracy", "ynn"]


def _tiny_ct(**params):
    defaults = dict(max_epochs=5, batch_size=16, lr=0.02, n_counterfactuals=40, max_steps=15,
                    random_state=0)
    return CTClassifier(**{**defaults, **params})


def _paper_explainer(estimator, threshold):
    """The scorers' default explainer, built by hand."""
    return CounterfactualExplainer(
        FrozenEstimator(estimator), generator=ECCoGenerator(lambda_cost=0.0, lambda_energy=1.0),
        max_steps=50, decision_threshold=threshold, random_state=0,
    )


def l2_cost(X, X_cf):
    """A custom metric (module level so that it pickles)."""
    return np.linalg.norm(X_cf - X, axis=1)


def row_count(X, X_cf):
    return float(X.shape[0])


@pytest.fixture(scope="module")
def data():
    ds = load_synthetic("linearly_separable", n_samples=300, random_state=0)
    scaler = StandardScaler().fit(ds.X_train)
    return scaler.transform(ds.X_train), ds.y_train, scaler.transform(ds.X_test), ds.y_test


@pytest.fixture(scope="module")
def fitted(data):
    X, y, _, _ = data
    return {objective: _tiny_ct(objective=objective).fit(X, y)
            for objective in ("vanilla", "full")}


@pytest.fixture(scope="module")
def three_class():
    X, y = make_blobs(150, centers=3, cluster_std=1.5, random_state=0)
    X = StandardScaler().fit_transform(X)
    return X, y, _tiny_ct(objective="vanilla", max_epochs=10).fit(X, y)


# -- values and signs ------------------------------------------------------------------------


def _by_hand(name, clf, X, y):
    """The value the scorer ``name`` must return, from the metric functions."""
    if name == "robust_accuracy":
        return robust_accuracy(clf, X, y, epsilon=0.03)
    threshold = 0.5 if name in ("neg_counterfactual_cost", "redundancy") else 0.95
    result = _paper_explainer(clf, threshold).fit(X, y).explain(X)
    cf, target = result.counterfactuals, result.target
    valid = counterfactual_validity(clf, cf, target, aggregate=False)
    if name == "counterfactual_validity":
        return valid.mean()
    cf_v, X_v, t_v = cf[valid], X[valid], target[valid]
    values = {
        "neg_counterfactual_cost": lambda: -counterfactual_cost(X_v, cf_v).mean(),
        "neg_implausibility": lambda: -implausibility(cf_v, X, y, t_v).mean(),
        "neg_implausibility_mmd": lambda: -implausibility_mmd(cf_v, X, y, t_v),
        "ynn": lambda: ynn(clf, cf_v, t_v, X),
        "redundancy": lambda: redundancy(X_v, cf_v).mean(),
    }
    return values[name]()


@pytest.mark.parametrize("name", OUR_NAMES)
def test_scorer_equals_metric_on_explainer_output(data, fitted, name):
    _, _, X_test, y_test = data
    clf = fitted["full"]
    score = get_scorer(name)(clf, X_test, y_test)
    assert isinstance(score, float)
    assert score == pytest.approx(_by_hand(name, clf, X_test, y_test), rel=1e-12, abs=1e-12)
    if name.startswith("neg_"):
        assert score <= 0


def test_cost_uses_threshold_half_and_plausibility_095(data, fitted):
    _, _, X_test, y_test = data
    clf = fitted["vanilla"]
    cost_05 = _by_hand("neg_counterfactual_cost", clf, X_test, y_test)
    explained = _paper_explainer(clf, 0.95).fit(X_test, y_test).explain(X_test)
    cost_095 = -counterfactual_cost(X_test, explained.counterfactuals).mean()
    # Searching to 0.95 goes further than to 0.5, so the two defaults are distinguishable.
    assert cost_095 < cost_05
    assert get_scorer("neg_counterfactual_cost")(clf, X_test, y_test) == pytest.approx(cost_05)


@pytest.mark.parametrize("metric", ["cost", "implausibility", "ynn"])
def test_greater_is_better_flips_the_sign(data, fitted, metric):
    _, _, X_test, y_test = data
    natural = make_counterfactual_scorer(metric, random_state=0)
    flipped = make_counterfactual_scorer(metric, random_state=0,
                                         greater_is_better=not natural._sign > 0)
    clf = fitted["full"]
    assert flipped(clf, X_test, y_test) == pytest.approx(-natural(clf, X_test, y_test))


def test_metric_functions_and_aliases_are_accepted():
    assert repr(make_counterfactual_scorer(counterfactual_cost)) == repr(
        make_counterfactual_scorer("cost"))
    assert make_counterfactual_scorer("validity")._measure.name == "counterfactual_validity"
    assert make_counterfactual_scorer("sparsity")._measure.name == "redundancy"


def test_metric_kwargs_are_forwarded(data, fitted):
    _, _, X_test, y_test = data
    clf = fitted["full"]
    l2 = make_counterfactual_scorer("cost", norm="l2")(clf, X_test, y_test)
    l1 = make_counterfactual_scorer("cost")(clf, X_test, y_test)
    assert -l2 < -l1  # the L2 norm of a 2-D change is smaller than its L1 norm
    clean = make_counterfactual_scorer("robust_accuracy", epsilon=0.0)(clf, X_test, y_test)
    assert clean == clf.score(X_test, y_test)
    attacked = make_counterfactual_scorer("robust_accuracy", attack="pgd", epsilon=5.0,
                                          random_state=0)
    assert attacked(clf, X_test, y_test) < clean
    with pytest.raises(ValueError, match="'attack' parameter"):
        make_counterfactual_scorer("robust_accuracy", attack="bogus")(clf, X_test, y_test)


def test_custom_metric(data, fitted):
    _, _, X_test, y_test = data
    clf = fitted["full"]
    scorer = make_counterfactual_scorer(l2_cost, greater_is_better=False, random_state=0)
    result = _paper_explainer(clf, 0.5).fit(X_test, y_test).explain(X_test)
    valid = counterfactual_validity(clf, result.counterfactuals, result.target,
                                    aggregate=False)
    expected = -l2_cost(X_test[valid], result.counterfactuals[valid]).mean()
    assert scorer(clf, X_test, y_test) == pytest.approx(expected)
    assert "l2_cost" in repr(scorer)
    restored = pickle.loads(pickle.dumps(scorer))
    assert restored(clf, X_test, y_test) == scorer(clf, X_test, y_test)


def test_strict_validity_threshold(data, fitted):
    _, _, X_test, y_test = data
    clf = fitted["vanilla"]
    explainer = CounterfactualExplainer(None, max_steps=3, decision_threshold=0.95)
    loose = make_counterfactual_scorer("validity", explainer=explainer)(clf, X_test, y_test)
    strict = make_counterfactual_scorer("validity", explainer=explainer,
                                        validity_threshold=0.9)(clf, X_test, y_test)
    result = clone(explainer).set_params(estimator=FrozenEstimator(clf)).fit(
        X_test, y_test).explain(X_test)
    assert strict == counterfactual_validity(clf, result.counterfactuals, result.target,
                                             threshold=0.9)
    assert strict <= loose


def test_n_samples_subsamples_the_fold_but_not_the_reference(data, fitted):
    _, _, X_test, y_test = data
    count = make_counterfactual_scorer(row_count, n_samples=7, valid_only=False,
                                       random_state=0)
    assert count(fitted["full"], X_test, y_test) == 7.0
    everything = make_counterfactual_scorer(row_count, valid_only=False)
    assert everything(fitted["full"], X_test, y_test) == float(len(X_test))
    # The reference of IP is the whole fold: one counterfactual's IP is its mean distance
    # to all target-class rows.
    ip = make_counterfactual_scorer("implausibility", n_samples=1, random_state=0)
    assert np.isfinite(ip(fitted["full"], X_test, y_test))


# -- determinism, pickling, no side effects --------------------------------------------------


def test_deterministic_given_random_state(three_class):
    X, y, clf = three_class
    scorer = make_counterfactual_scorer("implausibility", n_samples=40, random_state=3)
    other = make_counterfactual_scorer("implausibility", n_samples=40, random_state=5)
    first = scorer(clf, X, y)
    other(clf, X, y)
    # Identical whatever ran in between (no shared random stream).
    assert scorer(clf, X, y) == first
    assert make_counterfactual_scorer("implausibility", n_samples=40,
                                      random_state=3)(clf, X, y) == first
    # Multi-class targets are drawn by the explainer, seeded by the scorer.
    seeded = make_counterfactual_scorer("counterfactual_validity", random_state=1)
    assert seeded(clf, X, y) == seeded(clf, X, y)


def test_pickle_roundtrip(data, fitted):
    _, _, X_test, y_test = data
    for name in OUR_NAMES:
        scorer = get_scorer(name)
        restored = pickle.loads(pickle.dumps(scorer))
        assert repr(restored) == repr(scorer)
    scorer = make_counterfactual_scorer("implausibility_mmd", n_samples=30, random_state=2,
                                        length_scale=1.0)
    restored = pickle.loads(pickle.dumps(scorer))
    assert restored(fitted["full"], X_test, y_test) == scorer(fitted["full"], X_test, y_test)


def _state(clf):
    return ({k: v.clone() for k, v in clf.net_.module_.state_dict().items()},
            clf.net_.module_.training, clf.get_params(deep=False), dict(vars(clf)))


def test_scorers_do_not_modify_the_estimator(data, fitted):
    _, _, X_test, y_test = data
    clf = fitted["full"]
    weights, training, params, attributes = _state(clf)
    proba = clf.predict_proba(X_test)
    X_copy = X_test.copy()
    for name in OUR_NAMES:
        get_scorer(name)(clf, X_test, y_test)
    weights_after, training_after, params_after, attributes_after = _state(clf)
    assert training_after == training
    assert params_after == params
    assert attributes_after.keys() == attributes.keys()
    for key, value in weights.items():
        assert torch.equal(value, weights_after[key])
    np.testing.assert_array_equal(clf.predict_proba(X_test), proba)
    np.testing.assert_array_equal(X_test, X_copy)


# -- model selection -------------------------------------------------------------------------


def test_multimetric_grid_search_refits_on_plausibility(data):
    X, y, _, _ = data
    scoring = {
        "accuracy": "accuracy",
        "plausibility": get_scorer("neg_implausibility"),
        "cost": make_counterfactual_scorer("cost", n_samples=40, random_state=0),
        "validity": get_scorer("counterfactual_validity"),
    }
    search = GridSearchCV(_tiny_ct(), {"objective": ["vanilla", "full"]}, scoring=scoring,
                          refit="plausibility", cv=2).fit(X, y)
    results = search.cv_results_
    means = results["mean_test_plausibility"]
    assert np.all(np.isfinite(means)) and np.all(means < 0)
    assert search.best_index_ == int(np.argmax(means))
    assert search.best_params_ == results["params"][int(np.argmax(means))]
    for key in ("accuracy", "cost", "validity"):
        assert f"mean_test_{key}" in results
    assert np.all(results["mean_test_cost"] < 0)
    assert np.all((results["mean_test_validity"] >= 0) & (results["mean_test_validity"] <= 1))
    # The refitted model scores like the best candidate's objective says.
    assert search.best_estimator_.objective == search.best_params_["objective"]


def test_make_scoring_with_names_in_cross_validate(data):
    X, y, _, _ = data
    scoring = make_scoring({"accuracy": "accuracy", "plausibility": "neg_implausibility",
                            "cost": "neg_counterfactual_cost",
                            "validity": "counterfactual_validity",
                            "robust_accuracy": "robust_accuracy"})
    assert isinstance(scoring["plausibility"], CounterfactualScorer)
    cv = cross_validate(_tiny_ct(objective="vanilla"), X, y, cv=2, scoring=scoring)
    for key in scoring:
        assert cv[f"test_{key}"].shape == (2,)
        assert np.all(np.isfinite(cv[f"test_{key}"]))
    assert np.all(cv["test_plausibility"] < 0) and np.all(cv["test_cost"] < 0)
    assert np.all(cv["test_robust_accuracy"] <= 1)


def test_parallel_grid_search_equals_sequential(data):
    X, y, _, _ = data
    scoring = make_scoring(["accuracy", "neg_implausibility", "neg_counterfactual_cost"])
    grid = {"lr": [0.01, 0.05]}
    estimator = _tiny_ct(objective="vanilla")
    sequential = GridSearchCV(estimator, grid, scoring=scoring, refit=False, cv=2).fit(X, y)
    parallel = GridSearchCV(estimator, grid, scoring=scoring, refit=False, cv=2,
                            n_jobs=2).fit(X, y)
    for name in scoring:
        for split in range(2):
            key = f"split{split}_test_{name}"
            np.testing.assert_allclose(parallel.cv_results_[key],
                                       sequential.cv_results_[key], rtol=1e-10)


def test_explainer_as_estimator(data, fitted):
    X, y, X_test, y_test = data
    clf = fitted["full"]
    explainer = _paper_explainer(clf, 0.95).fit(X, y)
    # A fitted explainer is used as it is (its own settings, its own fit).
    result = explainer.explain(X_test)
    valid = counterfactual_validity(clf, result.counterfactuals, result.target,
                                    aggregate=False)
    expected = -implausibility(result.counterfactuals[valid], X_test, y_test,
                               result.target[valid]).mean()
    scorer = get_scorer("neg_implausibility")
    assert scorer(explainer, X_test, y_test) == pytest.approx(expected)
    assert get_scorer("robust_accuracy")(explainer, X_test, y_test) == robust_accuracy(
        clf, X_test, y_test)
    # ... and explainer settings can be tuned with the scorers.
    search = GridSearchCV(explainer, {"generator__lambda_energy": [0.1, 5.0]},
                          scoring={"ip": scorer, "cost": get_scorer("neg_counterfactual_cost")},
                          refit="ip", cv=2).fit(X, y)
    assert search.best_index_ == int(np.argmax(search.cv_results_["mean_test_ip"]))


def test_pipeline_estimator(data):
    ds = load_synthetic("linearly_separable", n_samples=300, random_state=0)
    X, y = ds.X_train, ds.y_train  # not standardized: the pipeline does it
    pipe = make_pipeline(StandardScaler(), _tiny_ct(objective="vanilla")).fit(X, y)
    X_test, y_test = ds.X_test, ds.y_test
    scores = {name: get_scorer(name)(pipe, X_test, y_test) for name in OUR_NAMES}
    assert all(np.isfinite(v) for v in scores.values())
    # Counterfactuals come back in the pipeline's input space: costs are in raw units.
    result = CounterfactualExplainer(
        FrozenEstimator(pipe), generator=ECCoGenerator(lambda_cost=0.0, lambda_energy=1.0),
        max_steps=50, decision_threshold=0.5, random_state=0).fit(X_test, y_test).explain(
            X_test)
    valid = counterfactual_validity(pipe, result.counterfactuals, result.target,
                                    aggregate=False)
    expected = -counterfactual_cost(X_test[valid], result.counterfactuals[valid]).mean()
    assert scores["neg_counterfactual_cost"] == pytest.approx(expected)
    # Robust accuracy attacks the final model in its (standardized) input space.
    scaled = pipe[0].transform(X_test)
    assert scores["robust_accuracy"] == robust_accuracy(pipe[-1], scaled, y_test)
    cv = cross_validate(make_pipeline(StandardScaler(), _tiny_ct(objective="vanilla")), X, y,
                        cv=2, scoring=make_scoring(["accuracy", "neg_implausibility"]))
    assert np.all(np.isfinite(cv["test_neg_implausibility"]))


def test_dataframe_input(data):
    X, y, X_test, y_test = data
    frame, frame_test = (pd.DataFrame(a, columns=["a", "b"]) for a in (X, X_test))
    clf = _tiny_ct(objective="vanilla").fit(frame, y)
    for name in ("neg_implausibility", "ynn", "neg_counterfactual_cost", "robust_accuracy"):
        with warnings.catch_warnings():
            # e.g. "X does not have valid feature names": frames must stay frames.
            warnings.simplefilter("error")
            on_frame = get_scorer(name)(clf, frame_test, y_test)
        assert np.isfinite(on_frame)


# -- no valid counterfactual -----------------------------------------------------------------


def _stuck_explainer():
    # One step of 1e-9: no counterfactual can cross the decision boundary.
    return CounterfactualExplainer(None, max_steps=1, step_size=1e-9)


def test_no_valid_counterfactual_gives_nan_with_warning(data, fitted):
    _, _, X_test, y_test = data
    clf = fitted["vanilla"]
    scorer = make_counterfactual_scorer("implausibility", explainer=_stuck_explainer())
    with pytest.warns(UndefinedMetricWarning, match="No counterfactual .* is valid"):
        assert np.isnan(scorer(clf, X_test, y_test))
    worst = make_counterfactual_scorer("cost", explainer=_stuck_explainer(),
                                       no_valid_score=-1e6)
    with pytest.warns(UndefinedMetricWarning):
        assert worst(clf, X_test, y_test) == -1e6
    validity = make_counterfactual_scorer("validity", explainer=_stuck_explainer())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert validity(clf, X_test, y_test) == 0.0
    # Without the valid-only filter the metric is defined.
    everything = make_counterfactual_scorer("cost", explainer=_stuck_explainer(),
                                            valid_only=False)
    assert everything(clf, X_test, y_test) == pytest.approx(0.0, abs=1e-6)


def test_grid_search_ranks_undefined_candidates_last(data, fitted):
    X, y, _, _ = data
    explainer = CounterfactualExplainer(FrozenEstimator(fitted["vanilla"]), max_steps=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", UserWarning)  # GridSearchCV's non-finite warning
        search = GridSearchCV(explainer, {"step_size": [1e-9, 5.0]},
                              scoring=get_scorer("neg_implausibility"), cv=2).fit(X, y)
    means = search.cv_results_["mean_test_score"]
    assert np.isnan(means[0]) and np.isfinite(means[1])
    assert search.best_params_ == {"step_size": 5.0}


# -- names, errors, repr ---------------------------------------------------------------------


def test_get_scorer_and_names():
    names = get_scorer_names()
    assert set(OUR_NAMES) <= set(names)
    assert set(sklearn_get_scorer_names()) <= set(names)
    assert names == sorted(names)
    assert repr(get_scorer("accuracy")) == repr(sklearn_get_scorer("accuracy"))
    assert get_scorer("neg_log_loss")._sign == -1
    scorer = get_scorer("neg_implausibility")
    assert get_scorer(scorer) is scorer
    assert get_scorer(None) is None
    # A new object per call, like scikit-learn's get_scorer.
    assert get_scorer("neg_implausibility") is not get_scorer("neg_implausibility")


def test_unknown_scorer_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="Did you mean 'neg_implausibility'") as info:
        get_scorer("neg_implausability")
    for name in OUR_NAMES:
        assert name in str(info.value)
    assert "get_scorer_names" in str(info.value)
    with pytest.raises(ValueError, match="not a valid scoring value"):
        make_scoring({"x": "no_such_scorer"})


def test_make_scoring_forms_and_errors():
    from_list = make_scoring(["accuracy", "ynn"])
    assert list(from_list) == ["accuracy", "ynn"]
    custom = make_counterfactual_scorer("cost", n_samples=5)
    assert make_scoring({"c": custom})["c"] is custom
    with pytest.raises(TypeError, match="dict or a list"):
        make_scoring("accuracy")
    with pytest.raises(ValueError, match="Duplicate"):
        make_scoring(["ynn", "ynn"])
    with pytest.raises(TypeError, match="scorer name or a callable"):
        make_scoring({"x": 3})


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(metric="plausibility"), ValueError, "Unknown counterfactual metric 'plausibility'"),
    (dict(metric=3), TypeError, "'metric' parameter"),
    (dict(metric="cost", n_samples=0), ValueError, "n_samples"),
    (dict(metric="cost", validity_threshold=1.5), ValueError, "validity_threshold"),
    (dict(metric="cost", greater_is_better="yes"), ValueError, "greater_is_better"),
    (dict(metric="cost", no_valid_score=None), ValueError, "no_valid_score"),
    (dict(metric="cost", explainer="ecco"), TypeError, "'explainer' parameter"),
    (dict(metric="cost", lenght_scale=1.0), TypeError, "lenght_scale"),
    (dict(metric="implausibility_mmd", aggregate=False), TypeError, "aggregate"),
    (dict(metric="validity", threshold=0.9), TypeError, "threshold"),
])
def test_invalid_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_counterfactual_scorer(**kwargs)


def test_labels_are_required_where_needed(data, fitted):
    _, _, X_test, _ = data
    for name in ("neg_implausibility", "neg_implausibility_mmd", "robust_accuracy"):
        with pytest.raises(ValueError, match="needs the true labels y"):
            get_scorer(name)(fitted["full"], X_test)
    # Validity and cost do not need them.
    assert np.isfinite(get_scorer("neg_counterfactual_cost")(fitted["full"], X_test))


def test_repr():
    assert repr(get_scorer("neg_counterfactual_cost")) == (
        "make_counterfactual_scorer('counterfactual_cost', greater_is_better=False, "
        "random_state=0)")
    scorer = make_counterfactual_scorer("implausibility_mmd", n_samples=50, valid_only=False,
                                        no_valid_score=-1.0, length_scale=0.5)
    assert repr(scorer) == (
        "make_counterfactual_scorer('implausibility_mmd', greater_is_better=False, "
        "n_samples=50, valid_only=False, no_valid_score=-1.0, length_scale=0.5)")
    with_explainer = make_counterfactual_scorer("cost", explainer=_stuck_explainer())
    assert "explainer=CounterfactualExplainer(" in repr(with_explainer)
