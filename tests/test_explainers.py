"""Tests of the post-hoc counterfactual explainers (sklearn_ct.explainers)."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures, StandardScaler

from sklearn_ct import CTClassifier, ECCoGenerator, GenericGenerator
from sklearn_ct.datasets import (
    load_german_credit,
    make_circles,
    make_linearly_separable,
    make_moons,
    make_overlapping,
)
from sklearn_ct.explainers import (
    CounterfactualExplainer,
    GrowingSpheresGenerator,
    REVISEGenerator,
)

# -- fixtures -----------------------------------------------------------------------------

_SYNTHETIC = {
    "linearly_separable": make_linearly_separable,
    "overlapping": make_overlapping,
    "circles": make_circles,
    "moons": make_moons,
}


@pytest.fixture(scope="module")
def synthetic():
    """A trained baseline MLP per synthetic data set (train on 600 rows, test 300).

    Validity of plain gradient search depends on the model: for far-away rows of the
    overlapping data a shallow model's gradients are too small to cross the boundary in
    100 steps of 0.1, and a very steep model on the circles has local optima that trap
    the search (the reference reports 51 % validity there). 80 epochs is in between.
    """
    out = {}
    for name, make in _SYNTHETIC.items():
        X, y = make(n_samples=900, random_state=0)
        clf = CTClassifier(objective="vanilla", max_epochs=80, random_state=0)
        out[name] = (X[:600], X[600:], clf.fit(X[:600], y[:600]))
    return out


def _mixed_data(n=400, seed=0):
    """Five numeric features with a three-category one-hot group in columns 5-7."""
    rng = np.random.RandomState(seed)
    Xc = rng.normal(size=(n, 5))
    cat = rng.randint(0, 3, size=n)
    onehot = np.eye(3)[cat]
    y = (Xc[:, 0] + Xc[:, 1] - 0.5 * Xc[:, 2] + (cat - 1) + 0.3 * rng.normal(size=n) > 0)
    return np.column_stack([Xc, onehot]), y.astype(int)


@pytest.fixture(scope="module")
def mixed():
    X, y = _mixed_data()
    clf = CTClassifier(objective="vanilla", max_epochs=30, random_state=0).fit(X, y)
    return X, y, clf


@pytest.fixture(scope="module")
def german():
    data = load_german_credit()
    pipe = Pipeline([
        ("preprocess", data.preprocessor),
        ("clf", CTClassifier(objective="vanilla", max_epochs=20, random_state=0)),
    ]).fit(data.X_train, data.y_train)
    return data, pipe


@pytest.fixture(scope="module")
def three_class():
    rng = np.random.RandomState(0)
    centers = np.array([[0, 0], [3, 0], [0, 3]])
    y = np.repeat(["a", "b", "c"], 100)
    X = centers[np.repeat([0, 1, 2], 100)] + 0.6 * rng.normal(size=(300, 2))
    clf = CTClassifier(objective="vanilla", max_epochs=30, random_state=0).fit(X, y)
    return X, y, clf


def _gen(name):
    # Small settings for the generators that need training or sampling.
    return {
        "generic": GenericGenerator(),
        "ecco": ECCoGenerator(),
        "revise": REVISEGenerator(max_epochs=20),
        "growing_spheres": GrowingSpheresGenerator(n_candidates=100),
    }[name]


ALL_GENERATORS = ["generic", "ecco", "revise", "growing_spheres"]


# -- validity on the paper's synthetic data ----------------------------------------------


@pytest.mark.parametrize("dataset", list(_SYNTHETIC))
@pytest.mark.parametrize("generator", ["generic", "ecco"])
def test_gradient_generators_reach_target(synthetic, dataset, generator):
    _, X_test, clf = synthetic[dataset]
    explainer = CounterfactualExplainer(
        FrozenEstimator(clf), generator=generator, max_steps=100, decision_threshold=0.5,
        random_state=0,
    ).fit(synthetic[dataset][0])
    result = explainer.explain(X_test)
    assert not result.already_target.any()
    assert result.valid.mean() >= 0.99
    # Validity is what the model says about the returned points.
    proba = clf.predict_proba(result.counterfactuals)
    targets = np.searchsorted(clf.classes_, result.target)
    np.testing.assert_allclose(proba[np.arange(len(X_test)), targets], result.target_proba,
                               atol=1e-6)


@pytest.mark.parametrize("generator", ["revise", "growing_spheres"])
def test_other_generators_reach_target(synthetic, generator):
    X_train, X_test, clf = synthetic["moons"]
    explainer = CounterfactualExplainer(FrozenEstimator(clf), generator=_gen(generator),
                                        random_state=0).fit(X_train)
    assert explainer.explain(X_test).valid.mean() >= 0.95


# -- closed-form results on a linear model ------------------------------------------------


def _linear_module(w, c):
    """Two-logit linear model with logit difference ``w . x + c`` (class 1 vs 0)."""
    lin = torch.nn.Linear(len(w), 2)
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.zero_()
        lin.weight[1] = torch.as_tensor(w)
        lin.bias[1] = c
    return lin


def test_class_loss_search_is_l2_projection_onto_boundary():
    # With the class loss only, the gradient w.r.t. x is -(1 - p) w: every step moves
    # along w, and the search stops at the first step past the level set p = tau, i.e.
    # at the L2 projection of x onto {w . x + c = logit(tau)} (up to one step).
    w, c, tau = np.array([2.0, 0.5]), -1.0, 0.7
    module = _linear_module(w, c)
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, -1, size=(40, 2))
    explainer = CounterfactualExplainer(
        module, generator=GenericGenerator(lambda_cost=0.0), step_size=0.01,
        max_steps=5000, decision_threshold=tau, domain=None, classes=["neg", "pos"],
    ).fit(X)
    result = explainer.explain(X)
    assert result.valid.all() and (result.target == "pos").all()
    moved = result.counterfactuals - X
    cos = (moved @ w) / (np.linalg.norm(moved, axis=1) * np.linalg.norm(w))
    np.testing.assert_allclose(cos, 1.0, atol=1e-9)
    logit_tau = np.log(tau / (1 - tau))
    projection = X + ((logit_tau - c - X @ w) / (w @ w))[:, None] * w
    one_step = 0.01 * np.linalg.norm(w)
    assert np.abs(result.counterfactuals - projection).max() <= one_step


def test_l1_generic_moves_only_the_most_influential_feature():
    # Minimal-L1 counterfactual to reach w . x' + c >= 0: move only the feature with the
    # largest |w_j|, by gap / w_j. Gradient descent on CE + lambda ||x' - x||_1 finds it
    # when (1 - tau) |w_j| > lambda (the big feature keeps moving) and |w_k| < lambda
    # for the others (the L1 pull wins; they only jitter by about one step).
    w, c, lam, step = np.array([0.05, 2.0, -0.04]), -1.0, 0.1, 0.01
    module = _linear_module(w, c)
    rng = np.random.RandomState(1)
    X = rng.uniform(-2, 0, size=(30, 3))
    X[:, 2] = rng.uniform(0, 2, size=30)
    explainer = CounterfactualExplainer(
        module, generator=GenericGenerator(lambda_cost=lam), step_size=step,
        max_steps=3000, domain=None,
    ).fit(X)
    result = explainer.explain(X)
    assert result.valid.all()
    expected = X.copy()
    expected[:, 1] = (-c - X[:, 0] * w[0] - X[:, 2] * w[2]) / w[1]
    moved = np.abs(result.counterfactuals - X)
    assert moved[:, [0, 2]].max() <= 2 * step * (1 + lam)
    np.testing.assert_allclose(result.counterfactuals[:, 1], expected[:, 1],
                               atol=step * w[1] * 2)


def test_growing_spheres_distance_close_to_optimum():
    # The closest point of the target class is the L2 projection onto the boundary; in
    # the standardised units of the search its distance is |w.x + c| / ||w * scale||.
    w, c = np.array([2.0, 0.5]), -1.0
    rng = np.random.RandomState(0)
    X_train = rng.normal(size=(200, 2))
    X = rng.uniform(-3, -1, size=(30, 2))
    explainer = CounterfactualExplainer(
        _linear_module(w, c), generator=GrowingSpheresGenerator(sparse=False),
        domain=None, random_state=0,
    ).fit(X_train)
    result = explainer.explain(X)
    scale = explainer.generator_.scale_
    dist = np.sqrt((((result.counterfactuals - X) / scale) ** 2).sum(axis=1))
    optimum = np.abs(X @ w + c) / np.linalg.norm(w * scale)
    assert result.valid.all()
    assert (dist >= optimum - 1e-9).all()
    assert (dist <= 1.25 * optimum).all()


# -- batches do not couple rows -----------------------------------------------------------


@pytest.mark.parametrize("generator", ALL_GENERATORS)
def test_batched_equals_row_by_row(synthetic, three_class, generator):
    X_train, X_test, clf = synthetic["circles"]
    explainer = CounterfactualExplainer(FrozenEstimator(clf), generator=_gen(generator),
                                        random_state=0).fit(X_train)
    X = X_test[:12]
    batch = explainer.explain(X)
    for i in range(len(X)):
        one = explainer.explain(X[i:i + 1])
        np.testing.assert_allclose(one.counterfactuals[0], batch.counterfactuals[i],
                                   rtol=0, atol=1e-9)
        assert one.n_iter[0] == batch.n_iter[i]
    # Random targets depend on the row, not on the batch.
    X3, _, clf3 = three_class
    explainer3 = CounterfactualExplainer(FrozenEstimator(clf3), generator=_gen(generator),
                                         random_state=0).fit(X3)
    full = explainer3.explain(X3[:20])
    part = explainer3.explain(X3[5:15][::-1])
    np.testing.assert_array_equal(full.target[5:15][::-1], part.target)
    np.testing.assert_allclose(full.counterfactuals[5:15][::-1], part.counterfactuals,
                               atol=1e-9)


# -- constraints: property tests for every generator ------------------------------------

_DIRECTIONS = ["none", "increase", "decrease", "both"]


@pytest.mark.parametrize("generator", ALL_GENERATORS)
@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    directions=st.lists(st.sampled_from(_DIRECTIONS), min_size=5, max_size=5),
    group_fixed=st.booleans(),
    quantiles=st.tuples(st.floats(0.0, 0.3), st.floats(0.7, 1.0)),
)
def test_constraints_hold(mixed, generator, directions, group_fixed, quantiles):
    X, _, clf = mixed
    mutability = dict(enumerate(directions))
    if group_fixed:
        mutability[6] = "none"  # one column of the group fixes the whole group
    low = np.quantile(X[:, :5], quantiles[0], axis=0)
    high = np.quantile(X[:, :5], quantiles[1], axis=0)
    domain = {j: (low[j], high[j]) for j in range(5)}
    explainer = CounterfactualExplainer(
        FrozenEstimator(clf), generator=_gen(generator), mutability=mutability,
        domain=domain, categorical_groups=[[5, 6, 7]], max_steps=50, random_state=0,
    ).fit(X)
    Xf = X[:40]
    cf = explainer.transform(Xf)
    dirs = np.array(directions)
    # Immutable: exactly unchanged. Monotone: only the allowed direction.
    np.testing.assert_array_equal(cf[:, :5][:, dirs == "none"], Xf[:, :5][:, dirs == "none"])
    assert (cf[:, :5][:, dirs == "increase"] >= Xf[:, :5][:, dirs == "increase"]).all()
    assert (cf[:, :5][:, dirs == "decrease"] <= Xf[:, :5][:, dirs == "decrease"]).all()
    # Domain: respected wherever the factual satisfies it or the feature is free.
    inside = (cf[:, :5] >= low) & (cf[:, :5] <= high)
    factual_inside = (Xf[:, :5] >= low) & (Xf[:, :5] <= high)
    assert (inside | (~factual_inside & (dirs != "both"))).all()
    # One-hot group: a valid one-hot vector, unchanged when fixed.
    group = cf[:, 5:8]
    assert np.isin(group, (0.0, 1.0)).all() and (group.sum(axis=1) == 1).all()
    if group_fixed:
        np.testing.assert_array_equal(group, Xf[:, 5:8])


@pytest.mark.parametrize("generator", ALL_GENERATORS)
@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_constraints_hold_through_column_transformer(german, generator, data):
    # Constraints on raw columns of a DataFrame, through scaling and one-hot encoding.
    credit, pipe = german
    numeric, categorical = credit.numeric_features, credit.categorical_features
    mutability = {c: data.draw(st.sampled_from(_DIRECTIONS), label=c) for c in numeric}
    mutability.update({c: data.draw(st.sampled_from(["none", "both"]), label=c)
                       for c in categorical})
    explainer = CounterfactualExplainer(
        FrozenEstimator(pipe), generator=_gen(generator), mutability=mutability,
        max_steps=50, random_state=0,
    ).fit(credit.X_train)
    X = credit.X_test.iloc[:30]
    cf = explainer.transform(X)
    low, high = explainer.domain_[:, 0], explainer.domain_[:, 1]
    for j, c in enumerate(X.columns):
        if mutability[c] == "none":
            np.testing.assert_array_equal(cf[c].to_numpy(), X[c].to_numpy())
        if c in numeric:
            moved = cf[c].to_numpy() - X[c].to_numpy()
            assert mutability[c] != "increase" or (moved >= 0).all()
            assert mutability[c] != "decrease" or (moved <= 0).all()
            inside = (X[c] >= low[j]) & (X[c] <= high[j])
            assert ((cf[c] >= low[j]) & (cf[c] <= high[j]))[inside].all()
        else:
            assert set(cf[c]) <= set(credit.X_train[c])


def test_groups_change_categories_when_useful(mixed):
    X, _, clf = mixed
    explainer = CounterfactualExplainer(
        FrozenEstimator(clf), generator="generic",
        mutability={0: "none", 1: "none", 2: "none", 3: "none", 4: "none"},
        categorical_groups=[[5, 6, 7]], random_state=0,
    ).fit(X)
    result = explainer.explain(X[:60])
    # Only the category can change: some rows are explained by switching it, and every
    # output is a valid one-hot vector whose validity was re-checked after snapping.
    assert (result.counterfactuals[:, 5:8] != X[:60, 5:8]).any(axis=1).sum() > 0
    assert (result.counterfactuals[:, 5:8].sum(axis=1) == 1).all()
    proba = clf.predict_proba(result.counterfactuals)[:, 1]
    expected_valid = np.where(result.target == 1, proba, 1 - proba) >= 0.5
    np.testing.assert_array_equal(result.valid, expected_valid)


# -- pipelines ----------------------------------------------------------------------------


def test_pipeline_with_scaler_on_dataframe(synthetic):
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(300, 3)) * [1, 10, 100] + [0, 50, 1000],
                     columns=["income", "age", "debt"])
    y = (X["income"] + (X["debt"] - 1000) / 100 > 0).astype(int)
    pipe = make_pipeline(StandardScaler(),
                         CTClassifier(objective="vanilla", max_epochs=30, random_state=0))
    pipe.fit(X, y)
    explainer = CounterfactualExplainer(
        FrozenEstimator(pipe), mutability={"age": "none", "debt": "decrease"},
        random_state=0,
    ).fit(X)
    explainer.set_output(transform="pandas")
    cf = explainer.transform(X.iloc[:50])
    assert isinstance(cf, pd.DataFrame)
    assert list(cf.columns) == list(X.columns)
    assert (cf.index == X.index[:50]).all()
    np.testing.assert_array_equal(cf["age"], X["age"].iloc[:50])
    assert (cf["debt"] <= X["debt"].iloc[:50]).all()
    result = explainer.explain(X.iloc[:50])
    assert result.valid.mean() >= 0.95
    np.testing.assert_array_equal(result.prediction[result.valid], result.target[result.valid])


def test_column_transformer_on_german_credit(german):
    data, pipe = german
    X = data.X_test.iloc[:80]
    explainer = CounterfactualExplainer(
        FrozenEstimator(pipe), generator="ecco",
        mutability={"age": "none", "purpose": "none", "duration_months": "decrease"},
        random_state=0,
    ).fit(data.X_train)
    result = explainer.explain(X)
    cf = result.counterfactuals
    assert isinstance(cf, pd.DataFrame) and list(cf.columns) == list(X.columns)
    assert (cf.index == X.index).all()
    pd.testing.assert_series_equal(cf["age"], X["age"].astype(np.float64))
    pd.testing.assert_series_equal(cf["purpose"], X["purpose"])
    assert (cf["duration_months"] <= X["duration_months"]).all()
    for column in data.categorical_features:
        assert cf[column].dtype == X[column].dtype
        assert set(cf[column]) <= set(data.X_train[column])
    assert result.valid.mean() > 0.5
    # transform gives the same counterfactuals; set_output keeps the columns.
    explainer.set_output(transform="pandas")
    out = explainer.transform(X)
    pd.testing.assert_frame_equal(out, cf)
    # The model's own verdict on the returned rows matches `valid`.
    proba = pipe.predict_proba(cf)
    t = np.searchsorted(pipe.classes_, result.target)
    np.testing.assert_array_equal(proba[np.arange(len(X)), t] >= 0.5, result.valid)


def test_column_transformer_categorical_mutability_and_errors(german):
    data, pipe = german
    explainer = CounterfactualExplainer(FrozenEstimator(pipe), random_state=0,
                                        mutability={"purpose": "increase"})
    with pytest.raises(ValueError, match="'purpose' is one-hot encoded"):
        explainer.fit(data.X_train)
    with pytest.raises(ValueError, match="'nope'"):
        CounterfactualExplainer(FrozenEstimator(pipe), mutability={"nope": "none"}).fit(
            data.X_train)
    X = data.X_test.iloc[:5].copy()
    X.loc[X.index[0], "credit_amount"] = np.nan
    explainer = CounterfactualExplainer(FrozenEstimator(pipe)).fit(data.X_train)
    with pytest.raises(ValueError, match="NaN"):
        explainer.transform(X)
    with pytest.raises(ValueError, match="missing:\n- foreign_worker"):
        explainer.transform(data.X_test.iloc[:5, :-1])


def test_black_box_generator_on_random_forest_pipeline(german):
    data, _ = german
    forest = make_pipeline(clone(data.preprocessor),
                           RandomForestClassifier(n_estimators=20, random_state=0))
    forest.fit(data.X_train, data.y_train)
    explainer = CounterfactualExplainer(
        FrozenEstimator(forest), generator=GrowingSpheresGenerator(n_candidates=100),
        mutability={"age": "none", "housing": "none"}, random_state=0,
    ).fit(data.X_train)
    X = data.X_test.iloc[:40]
    result = explainer.explain(X)
    cf = result.counterfactuals
    assert result.valid.mean() >= 0.9
    pd.testing.assert_series_equal(cf["housing"], X["housing"])
    np.testing.assert_array_equal(cf["age"], X["age"])
    for column in data.categorical_features:
        assert set(cf[column]) <= set(data.X_train[column])
    with pytest.raises(ValueError, match="differentiable"):
        CounterfactualExplainer(FrozenEstimator(forest), generator="ecco").fit(data.X_train)
    with pytest.raises(ValueError, match="return_path"):
        explainer.explain(X, return_path=True)


def test_step_without_inverse_transform_is_named():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 2))
    y = (X[:, 0] > 0).astype(int)
    pipe = Pipeline([("poly", PolynomialFeatures(2)),
                     ("clf", CTClassifier(objective="vanilla", max_epochs=2, random_state=0))])
    pipe.fit(X, y)
    with pytest.raises(ValueError, match="'poly' \\(PolynomialFeatures\\) has no "
                                         "inverse_transform"):
        CounterfactualExplainer(FrozenEstimator(pipe)).fit(X)


def test_monotone_through_unknown_direction_raises():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 2))
    y = (X[:, 0] > 0).astype(int)
    ct = ColumnTransformer([("ohe", OneHotEncoder(), [0])], remainder="passthrough")
    X2 = np.column_stack([rng.randint(0, 3, 100), X[:, 1]])
    pipe = make_pipeline(ct, CTClassifier(objective="vanilla", max_epochs=2,
                                          random_state=0)).fit(X2, y)
    with pytest.raises(ValueError, match="one-hot encoded"):
        CounterfactualExplainer(FrozenEstimator(pipe), mutability={0: "decrease"}).fit(X2)
    # The passthrough column keeps its direction.
    explainer = CounterfactualExplainer(FrozenEstimator(pipe), mutability={1: "decrease"},
                                        random_state=0).fit(X2)
    cf = explainer.transform(X2[:20])
    assert (cf[:, 1] <= X2[:20, 1]).all()
    assert np.isin(cf[:, 0], [0, 1, 2]).all()


# -- targets ------------------------------------------------------------------------------


def test_targets_and_already_target_rows(three_class):
    X, _, clf = three_class
    explainer = CounterfactualExplainer(FrozenEstimator(clf), random_state=0).fit(X)
    rows = X[::10]
    predicted = clf.predict(rows)
    result = explainer.explain(rows)  # "opposite": a random other class
    assert (result.target != predicted).all()
    assert set(result.target) <= {"a", "b", "c"} and len(set(result.target)) > 1
    assert result.valid.mean() >= 0.95
    again = clone(explainer).set_params(estimator=explainer.estimator).fit(X).explain(rows)
    np.testing.assert_array_equal(result.target, again.target)  # seeded

    result = explainer.explain(rows, target="b")
    assert (result.target == "b").all()
    np.testing.assert_array_equal(result.already_target, predicted == "b")
    np.testing.assert_array_equal(result.counterfactuals[result.already_target],
                                  rows[result.already_target])
    assert (result.n_iter[result.already_target] == 0).all()

    per_row = np.where(predicted == "a", "c", "a")
    result = explainer.explain(rows, target=per_row)
    np.testing.assert_array_equal(result.target, per_row)
    assert not result.already_target.any()

    result = explainer.explain(X, target="random")
    assert result.already_target.any() and not result.already_target.all()

    with pytest.raises(ValueError, match=r"Unknown target label 'z'.*\['a', 'b', 'c'\]"):
        explainer.explain(rows, target="z")
    with pytest.raises(ValueError, match="Unknown target label 'z'"):
        CounterfactualExplainer(FrozenEstimator(clf), target="z").fit(X)
    with pytest.raises(ValueError, match="one label per row"):
        explainer.explain(rows, target=["a", "b"])


def test_return_path(synthetic):
    X_train, X_test, clf = synthetic["moons"]
    explainer = CounterfactualExplainer(FrozenEstimator(clf), generator="generic",
                                        max_steps=30, random_state=0).fit(X_train)
    result = explainer.explain(X_test[:10], return_path=True)
    assert result.path.shape == (31, 10, 2)
    np.testing.assert_array_equal(result.path[0], X_test[:10])
    last = result.path[result.n_iter, np.arange(10)]
    np.testing.assert_allclose(last, result.counterfactuals)
    assert explainer.explain(X_test[:10]).path is None


# -- estimators: fitting rule, kinds of models -------------------------------------------


def test_fitted_estimators_are_used_as_they_are(synthetic):
    X_train, X_test, clf = synthetic["moons"]
    weights = [p.detach().clone() for p in clf.net_.module_.parameters()]
    plain = CounterfactualExplainer(clf, random_state=0).fit(X_train)  # no y needed
    assert plain.estimator_ is clf
    frozen = FrozenEstimator(clf)
    explainer = CounterfactualExplainer(frozen, random_state=0).fit(X_train, np.zeros(600))
    assert explainer.estimator_ is frozen
    for before, after in zip(weights, clf.net_.module_.parameters()):
        assert torch.equal(before, after)
    np.testing.assert_array_equal(plain.transform(X_test), explainer.transform(X_test))
    # Unfitted: a clone is fitted on (X, y); the parameter itself stays unfitted.
    unfitted = CTClassifier(objective="vanilla", max_epochs=3, random_state=0)
    explainer = CounterfactualExplainer(unfitted).fit(X_train, clf.predict(X_train))
    assert explainer.estimator_ is not unfitted and not hasattr(unfitted, "net_")
    with pytest.raises(ValueError, match="requires y to be passed"):
        CounterfactualExplainer(unfitted).fit(X_train)
    with pytest.raises(ValueError, match="estimator is None"):
        CounterfactualExplainer(None).fit(X_train)


def test_model_trained_further_in_place_is_picked_up(synthetic):
    # The explainer explains the model's current state: its cached double-precision copy
    # is refreshed from the model at every call.
    X_train, X_test, clf = synthetic["moons"]
    model = clone(clf).set_params(max_epochs=3).fit(X_train, clf.predict(X_train))
    explainer = CounterfactualExplainer(model, random_state=0).fit(X_train)
    before = explainer.transform(X_test[:10])
    model.set_params(warm_start=True, max_epochs=5).fit(X_train, clf.predict(X_train))
    after = explainer.transform(X_test[:10])
    fresh = CounterfactualExplainer(model, random_state=0).fit(X_train).transform(X_test[:10])
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, fresh)


def test_grid_search_over_generator_params(synthetic):
    X_train, _, clf = synthetic["moons"]

    def validity(est, X, y=None):
        return est.explain(X).valid.mean()

    search = GridSearchCV(
        CounterfactualExplainer(FrozenEstimator(clf), generator=GenericGenerator(),
                                max_steps=20, random_state=0),
        {"generator__lambda_cost": [0.0, 0.1], "decision_threshold": [0.5, 0.9]},
        scoring=validity, cv=2,
    ).fit(X_train[:200])
    assert set(search.best_params_) == {"generator__lambda_cost", "decision_threshold"}
    assert search.best_estimator_.estimator_.estimator is clf


class _Net(torch.nn.Module):
    def __init__(self, n_features=2, n_classes=2):
        super().__init__()
        self.layers = torch.nn.Sequential(torch.nn.Linear(n_features, 16), torch.nn.ReLU(),
                                          torch.nn.Linear(16, n_classes))

    def forward(self, X):
        return self.layers(X)


class _SoftmaxNet(_Net):
    def forward(self, X):
        return torch.softmax(self.layers(X), dim=-1)


def test_torch_module_and_skorch_net(synthetic):
    from skorch import NeuralNetClassifier

    X_train, X_test, clf = synthetic["moons"]
    y_train = clf.predict(X_train)
    module = clf.net_.module_
    explainer = CounterfactualExplainer(module, classes=clf.classes_, random_state=0)
    np.testing.assert_allclose(
        explainer.fit(X_train).transform(X_test),
        CounterfactualExplainer(FrozenEstimator(clf), random_state=0).fit(X_train)
        .transform(X_test))
    assert list(CounterfactualExplainer(module).fit(X_train).classes_) == [0, 1]
    with pytest.raises(ValueError, match="2 logits, but 3 classes"):
        CounterfactualExplainer(module, classes=["a", "b", "c"]).fit(X_train)

    # skorch's default classifier: the module outputs probabilities (NLLLoss).
    net = NeuralNetClassifier(_SoftmaxNet, max_epochs=30, lr=0.1, train_split=None,
                              verbose=0, iterator_train__shuffle=True)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net.fit(X_train.astype(np.float32), y_train)
    explainer = CounterfactualExplainer(net, random_state=0).fit(X_train)
    result = explainer.explain(X_test.astype(np.float32))
    assert result.counterfactuals.dtype == np.float32
    assert result.valid.mean() >= 0.95
    np.testing.assert_array_equal(
        net.predict(result.counterfactuals)[result.valid],
        result.target[result.valid])


def test_ct_classifier_mutability_is_enforced(synthetic):
    X_train, X_test, _ = synthetic["moons"]
    y = (X_train[:, 0] + X_train[:, 1] > 0.5).astype(int)
    clf = CTClassifier(max_epochs=5, n_counterfactuals=64, max_steps=10, random_state=0,
                       mutability={1: "none"}).fit(X_train, y)
    cf = CounterfactualExplainer(FrozenEstimator(clf), random_state=0).fit(X_train) \
        .transform(X_test)
    np.testing.assert_array_equal(cf[:, 1], X_test[:, 1])


def test_revise_vae_is_deterministic(synthetic):
    X_train, _, _ = synthetic["moons"]
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    a = REVISEGenerator(random_state=0).fit(X_train)
    assert torch.equal(state, torch.random.get_rng_state())  # global RNG untouched
    b = REVISEGenerator(random_state=0).fit(X_train)
    for pa, pb in zip(a.vae_.parameters(), b.vae_.parameters()):
        assert torch.equal(pa, pb)
    assert a.vae_.mu.out_features == 2 and a.vae_.decoder[0].out_features == 16
    # (VAE fitting time is measured in bench/bench_explainers.py, not asserted here.)
    x = torch.as_tensor(X_train[:5])
    assert np.abs(a.decode(a.init_state(x)).numpy() - X_train[:5]).mean() < 0.5
    # REVISE is a BaseGenerator: CTClassifier can use it during training too.
    clf = CTClassifier(generator=REVISEGenerator(max_epochs=2, random_state=0),
                       max_epochs=2, n_counterfactuals=32, max_steps=5, random_state=0)
    clf.fit(X_train, (X_train[:, 0] > 0.5).astype(int))


def test_pickle_and_errors(synthetic):
    X_train, X_test, clf = synthetic["moons"]
    explainer = CounterfactualExplainer(FrozenEstimator(clf), generator="revise",
                                        random_state=0).fit(X_train)
    restored = pickle.loads(pickle.dumps(explainer))
    np.testing.assert_allclose(restored.transform(X_test[:20]),
                               explainer.transform(X_test[:20]))
    X_nan = X_test[:5].copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        explainer.transform(X_nan)
    with pytest.raises(ValueError, match="NaN"):
        CounterfactualExplainer(FrozenEstimator(clf)).fit(X_nan)
    with pytest.raises(ValueError, match="X has 3 features"):
        explainer.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="expecting 2 features"):
        CounterfactualExplainer(FrozenEstimator(clf)).fit(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="feature 'income'"):
        CounterfactualExplainer(FrozenEstimator(clf), mutability={"income": "none"}).fit(
            X_train)
    with pytest.raises(ValueError, match="generator"):
        CounterfactualExplainer(FrozenEstimator(clf), generator="nope").fit(X_train)


def test_max_iter_is_a_deprecated_alias_of_max_steps(synthetic):
    X, clf = synthetic["moons"][1][:5], synthetic["moons"][2]
    new = CounterfactualExplainer(FrozenEstimator(clf), max_steps=3, random_state=0).fit(X)
    old = CounterfactualExplainer(FrozenEstimator(clf), max_iter=3, random_state=0)
    with pytest.warns(FutureWarning, match="renamed 'max_steps'"):
        old.fit(X)
    np.testing.assert_array_equal(old.transform(X), new.transform(X))
    assert old.explain(X, return_path=True).path.shape[0] == 4
