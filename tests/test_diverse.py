"""Several diverse counterfactuals per row (``CounterfactualExplainer(n_per_row=k)``)."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_ct import CTClassifier
from sklearn_ct.datasets import load_german_credit, make_moons
from sklearn_ct.explainers import CounterfactualExplainer
from sklearn_ct.generators import (
    GenericGenerator,
    GrowingSpheresGenerator,
    search_counterfactuals,
)
from sklearn_ct.metrics import (
    change_set_diversity,
    counterfactual_diversity,
    get_scorer,
    make_counterfactual_scorer,
)

DATA = Path(__file__).parent / "data"


def _k1_module():
    # The script that wrote the reference also defines its cases (models, rows, settings).
    spec = importlib.util.spec_from_file_location("make_k1_reference",
                                                  DATA / "make_k1_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: The generators (and their settings) of the reference cases, used by the other tests too.
_GENERATORS = _k1_module().GENERATORS


def _reference():
    # Arrays and DataFrames only (no models, no pickles), by case name.
    return _k1_module().load(DATA / "k1_reference.npz")


@pytest.fixture(scope="module")
def k1_cases():
    return {c["case"]: c for c in _k1_module().cases()}


@pytest.mark.parametrize("name", sorted(_reference()))
def test_k1_is_bit_for_bit_the_previous_search(name, k1_cases):
    # tests/data/make_k1_reference.py stored these explanations with the code before
    # n_per_row existed; the default (one counterfactual per row) must not change them.
    cases = k1_cases
    case, ref = cases[name], _reference()[name]
    X_fit = case["X_fit"]
    if isinstance(X_fit, str):
        X_fit = load_german_credit().X_train
    explainer = CounterfactualExplainer(
        case["model"], generator=_GENERATORS[case["generator"]](), **case["params"]
    ).fit(X_fit)
    res = explainer.explain(case["X"])
    case = {**case, **ref}
    if isinstance(case["counterfactuals"], pd.DataFrame):
        pd.testing.assert_frame_equal(res.counterfactuals, case["counterfactuals"])
        pd.testing.assert_frame_equal(explainer.transform(case["X"]), case["transform"])
    else:
        np.testing.assert_array_equal(res.counterfactuals, case["counterfactuals"])
        np.testing.assert_array_equal(explainer.transform(case["X"]), case["transform"])
    np.testing.assert_array_equal(res.n_iter, case["n_iter"])
    np.testing.assert_array_equal(res.target_proba, case["target_proba"])
    np.testing.assert_array_equal(res.valid, case["valid"])


# -- several counterfactuals per row -------------------------------------------------------

K = 4


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(n_samples=600, random_state=0)
    clf = CTClassifier(max_epochs=30, random_state=0).fit(X[:400], y[:400])
    return X[:400], X[400:], clf


def _distinct_pairs(cf, tol=1e-6):
    pairs = list(itertools.combinations(range(cf.shape[1]), 2))
    dist = np.array([np.abs(cf[:, a] - cf[:, b]).max(axis=1) for a, b in pairs]).T
    return dist > tol


@pytest.mark.parametrize("generator", list(_GENERATORS))
def test_k4_on_moons_is_valid_and_distinct(moons, generator):
    # The acceptance bar: with k = 4 on the moons data and a trained (CT) model, at
    # least 90 % of the counterfactuals are valid and 90 % of the pairs distinct.
    X_fit, X, clf = moons
    explainer = CounterfactualExplainer(clf, generator=_GENERATORS[generator](),
                                        n_per_row=K, random_state=0).fit(X_fit)
    res = explainer.explain(X)
    assert res.counterfactuals.shape == (X.shape[0], K, 2)
    assert res.valid.mean() >= 0.9
    assert _distinct_pairs(res.counterfactuals).mean() >= 0.9
    # Validity is recomputed independently of the explainer.
    proba = clf.predict_proba(res.counterfactuals.reshape(-1, 2))
    target = np.searchsorted(clf.classes_, np.repeat(res.target, K))
    np.testing.assert_array_equal(proba[np.arange(target.size), target] >= 0.5,
                                  res.valid.reshape(-1))


def test_result_fields_gain_the_k_axis(moons):
    X_fit, X, clf = moons
    explainer = CounterfactualExplainer(clf, n_per_row=3, max_steps=20,
                                        random_state=0).fit(X_fit)
    res = explainer.explain(X[:7], return_path=True)
    assert res.counterfactuals.shape == (7, 3, 2)
    for key in ("valid", "n_iter", "target_proba", "prediction"):
        assert res[key].shape == (7, 3), key
    for key in ("target", "already_target", "factual_prediction", "best"):
        assert res[key].shape == (7,), key
    assert res.path.shape == (21, 7, 3, 2)
    # The path starts at each candidate's own starting point (candidate 0: the factual).
    np.testing.assert_array_equal(res.path[0, :, 0], X[:7])


def test_transform_returns_the_best_candidate(moons):
    # "Best": valid first, then the lowest L1 change (model space = feature space here),
    # then the highest target probability among invalid ones; brute force over the result.
    X_fit, X, clf = moons
    explainer = CounterfactualExplainer(clf, n_per_row=K, decision_threshold=0.9,
                                        max_steps=15, random_state=0).fit(X_fit)
    res = explainer.explain(X)
    out = explainer.transform(X)
    assert out.shape == X.shape
    for i in range(X.shape[0]):
        valid = res.valid[i]
        if valid.any():
            cost = np.where(valid, np.abs(res.counterfactuals[i] - X[i]).sum(axis=1), np.inf)
            j = int(np.argmin(cost))
        else:
            j = int(np.argmax(res.target_proba[i]))
        np.testing.assert_array_equal(out[i], res.counterfactuals[i, j])
        assert res.best[i] == j


def test_rows_are_explained_independently_of_their_batch(moons):
    # Starting points are keyed by each row's values: one row alone, a shuffled batch and
    # the whole batch give the same candidates (what lets partitions of a Dask frame be
    # explained separately).
    X_fit, X, clf = moons
    explainer = CounterfactualExplainer(clf, n_per_row=K, random_state=0).fit(X_fit)
    full = explainer.explain(X[:20]).counterfactuals
    perm = np.random.RandomState(0).permutation(20)
    shuffled = explainer.explain(X[:20][perm]).counterfactuals
    np.testing.assert_allclose(shuffled, full[perm], rtol=0, atol=1e-12)
    alone = explainer.explain(X[5:6]).counterfactuals
    np.testing.assert_allclose(alone[0], full[5], rtol=0, atol=1e-12)


def test_diversity_weight_spreads_the_candidates(moons):
    X_fit, X, clf = moons
    spread = []
    for weight in (0.0, 1.0):
        explainer = CounterfactualExplainer(clf, n_per_row=K, diversity_weight=weight,
                                            decision_threshold=0.95,
                                            random_state=0).fit(X_fit)
        spread.append(counterfactual_diversity(explainer.explain(X).counterfactuals))
    assert spread[1] > 1.5 * spread[0]


def _mixed(n=300, seed=0):
    rng = np.random.RandomState(seed)
    Xc = rng.normal(size=(n, 4))
    cat = rng.randint(0, 3, size=n)
    y = (Xc[:, 0] + Xc[:, 1] - 0.5 * Xc[:, 2] + (cat - 1) > 0).astype(int)
    return np.column_stack([Xc, np.eye(3)[cat]]), y


@pytest.mark.parametrize("generator", list(_GENERATORS))
@pytest.mark.parametrize("snapping", ["end", "step"])
def test_constraints_hold_for_every_candidate(generator, snapping):
    X, y = _mixed()
    clf = CTClassifier(objective="vanilla", max_epochs=20, random_state=0).fit(X, y)
    domain = {1: (-1.0, 1.5)}
    explainer = CounterfactualExplainer(
        clf, generator=_GENERATORS[generator](), n_per_row=3, diversity_weight=2.0,
        mutability={0: "increase", 2: "none", 3: "decrease"}, domain=domain,
        categorical_groups=[[4, 5, 6]], categorical_snapping=snapping, max_steps=40,
        random_state=0).fit(X)
    Xq = X[:40]
    cf = explainer.explain(Xq).counterfactuals
    assert cf.shape == (40, 3, 7)
    base = Xq[:, None, :]
    assert (cf[..., 0] >= base[..., 0]).all()
    np.testing.assert_array_equal(cf[..., 2], np.broadcast_to(base[..., 2], cf[..., 2].shape))
    assert (cf[..., 3] <= base[..., 3]).all()
    low, high = explainer.domain_[1]
    assert (low, high) == (-1.0, 1.5)
    in_domain = (cf[..., 1] >= low) & (cf[..., 1] <= high)
    changed = cf[..., 1] != base[..., 1]
    assert in_domain[changed].all()
    onehot = cf[..., 4:]
    assert np.isin(onehot, (0.0, 1.0)).all() and (onehot.sum(axis=2) == 1).all()


def test_dataframe_through_a_column_transformer():
    X, y = _mixed(200)
    frame = pd.DataFrame(X[:, :4], columns=list("abcd"))
    frame["colour"] = np.array(["red", "green", "blue"])[X[:, 4:].argmax(axis=1)]
    frame.index = pd.RangeIndex(100, 300, name="id")
    pre = ColumnTransformer([("num", StandardScaler(), list("abcd")),
                             ("cat", OneHotEncoder(sparse_output=False), ["colour"])])
    pipe = Pipeline([("pre", pre), ("clf", CTClassifier(objective="vanilla", max_epochs=15,
                                                        random_state=0))]).fit(frame, y)
    explainer = CounterfactualExplainer(pipe, n_per_row=3, mutability={"a": "none"},
                                        random_state=0).fit(frame)
    res = explainer.explain(frame.iloc[:10])
    cf = res.counterfactuals
    assert cf.shape == (30, 5)
    assert cf.index.names == ["id", "counterfactual"]
    assert list(cf.index[:4]) == [(100, 0), (100, 1), (100, 2), (101, 0)]
    np.testing.assert_array_equal(cf["a"].to_numpy(), np.repeat(frame["a"][:10], 3))
    assert set(cf["colour"]) <= {"red", "green", "blue"}
    best = explainer.transform(frame.iloc[:10])
    assert best.shape == (10, 5) and list(best.index) == list(frame.index[:10])
    pd.testing.assert_frame_equal(
        best, cf.iloc[np.arange(10) * 3 + res.best].set_axis(frame.index[:10]))


# -- the engine's diversity term -------------------------------------------------------------


def test_block_similarity_is_the_dice_kernel_by_hand():
    from sklearn_ct.generators._base import _block_similarity

    positions = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0],
                              [5.0, 5.0], [5.0, 5.0], [6.0, 5.0]], dtype=torch.float64)
    rows = torch.arange(6)
    sim = _block_similarity(positions, positions, rows, 3)
    # Row 0: distances 1 and 3 -> (1/2 + 1/4) / 2; row 2: 4 and 3 -> (1/5 + 1/4) / 2.
    expected = [(1 / 2 + 1 / 4) / 2, (1 / 2 + 1 / 5) / 2, (1 / 4 + 1 / 5) / 2,
                (1 + 1 / 2) / 2, (1 + 1 / 2) / 2, (1 / 2 + 1 / 2) / 2]
    np.testing.assert_allclose(sim.numpy(), expected)


def _linear(w, b):
    module = torch.nn.Linear(2, 2).double()
    with torch.no_grad():
        module.weight.copy_(torch.tensor([[0.0, 0.0], w], dtype=torch.float64))
        module.bias.copy_(torch.tensor([0.0, b], dtype=torch.float64))
    return module


def test_blocks_without_diversity_are_independent_searches():
    # Without the diversity term a block of k candidates is k separate searches from
    # their starting points: the same as searching each start on its own.
    module = _linear([1.0, 0.5], -1.0)
    x = torch.zeros(3, 2, dtype=torch.float64).repeat_interleave(2, dim=0)
    start = x + torch.tensor([[0.0, 0.0], [0.1, -0.2]] * 3, dtype=torch.float64)
    target = torch.ones(6, dtype=torch.long)
    gen = GenericGenerator()
    res = search_counterfactuals(module, x, target, gen, n_per_row=2, diversity_weight=0.0,
                                 start=start, max_steps=50)
    for i in range(6):
        one = search_counterfactuals(module, x[i:i + 1], target[i:i + 1], gen,
                                     start=start[i:i + 1], max_steps=50)
        np.testing.assert_allclose(res.counterfactuals[i].numpy(),
                                   one.counterfactuals[0].numpy(), rtol=0, atol=1e-12)


def test_projection_keeps_groups_one_hot_at_every_step():
    from sklearn_ct.explainers._mapping import Group

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(),
                                 torch.nn.Linear(8, 2)).double()
    x = torch.cat([torch.randn(20, 2, dtype=torch.float64),
                   torch.eye(3, dtype=torch.float64)[torch.arange(20) % 3]], dim=1)
    target = 1 - module(x).argmax(dim=1)
    groups = [Group(np.array([2, 3, 4]), None, False)]
    res = search_counterfactuals(module, x, target, GenericGenerator(lambda_cost=0.0),
                                 groups=groups, project_groups=True, return_path=True,
                                 max_steps=40, step_size=0.5, epsilon=0.3)
    for points in (res.path.reshape(-1, 5), res.counterfactuals, res.nascent):
        block = points[:, 2:].numpy()
        assert np.isin(block, (0.0, 1.0)).all() and (block.sum(axis=1) == 1).all()


# -- Growing Spheres: the k nearest valid candidates -----------------------------------------


def test_growing_spheres_returns_k_nearest_sorted_candidates(moons):
    X_fit, X, clf = moons
    gen = GrowingSpheresGenerator(n_candidates=100, sparse=False)
    explainer = CounterfactualExplainer(clf, generator=gen, n_per_row=K,
                                        random_state=0).fit(X_fit)
    res = explainer.explain(X[:30])
    assert res.valid.all()
    # In the search's metric (per-feature standard deviations), candidates come nearest
    # first, and they are distinct points.
    scale = explainer.generator_.scale_
    dist = np.sqrt((((res.counterfactuals - X[:30, None, :]) / scale) ** 2).sum(axis=2))
    assert (np.diff(dist, axis=1) >= 0).all()
    assert _distinct_pairs(res.counterfactuals).all()


# -- diversity measures ----------------------------------------------------------------------


def test_counterfactual_diversity_by_hand():
    cf = np.array([[[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]],
                   [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]])
    # Row 0: L1 distances 1, 2, 3 -> 2; L2: 1, 2, sqrt(5).
    np.testing.assert_allclose(counterfactual_diversity(cf, aggregate=False), [2.0, 0.0])
    np.testing.assert_allclose(counterfactual_diversity(cf, norm="l2", aggregate=False),
                               [(1 + 2 + np.sqrt(5)) / 3, 0.0])
    assert counterfactual_diversity(cf) == 1.0
    np.testing.assert_allclose(
        counterfactual_diversity(cf, feature_weights=[2.0, 0.0], aggregate=False), [4 / 3, 0])
    valid = np.array([[True, False, True], [True, False, False]])
    values = counterfactual_diversity(cf, valid=valid, aggregate=False)
    assert values[0] == 2.0 and np.isnan(values[1])
    assert counterfactual_diversity(cf, valid=valid) == 2.0


def test_change_set_diversity_by_hand():
    X = np.zeros((2, 3))
    cf = np.array([[[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 1.0, 1.0]],
                   [[1.0, 1.0, 0.0], [0.0, 0.0, 5.0], [0.0, 3.0, 0.0]]])
    # Row 0: sets {0}, {0}, {1,2}: 2 of 3 pairs differ; row 1: all differ.
    np.testing.assert_allclose(change_set_diversity(X, cf, aggregate=False), [2 / 3, 1.0])
    assert change_set_diversity(X, cf + 1e-7) == pytest.approx(5 / 6)
    frame = pd.DataFrame(cf.reshape(6, 3), index=pd.MultiIndex.from_product(
        [[10, 11], range(3)], names=["id", "counterfactual"]))
    np.testing.assert_allclose(change_set_diversity(X, frame, aggregate=False), [2 / 3, 1])
    with pytest.raises(ValueError, match="several counterfactuals"):
        counterfactual_diversity(cf[0])


def test_diversity_scorers_match_the_metrics(moons):
    X_fit, X, clf = moons
    y = clf.predict(X)
    template = CounterfactualExplainer(None, n_per_row=3, max_steps=30)
    for name, func in (("counterfactual_diversity", counterfactual_diversity),
                       ("change_set_diversity", change_set_diversity)):
        scorer = make_counterfactual_scorer(name, explainer=template, random_state=0)
        explainer = scorer._fitted_explainer(clf, X, y, _explainer_seed(0))
        res = explainer.explain(X)
        args = (res.counterfactuals,) if name == "counterfactual_diversity" else (
            X, res.counterfactuals)
        assert scorer(clf, X, y) == pytest.approx(func(*args, valid=res.valid))
    assert get_scorer("counterfactual_diversity")(clf, X, y) > 0
    with pytest.raises(ValueError, match="n_per_row >= 2"):
        make_counterfactual_scorer("counterfactual_diversity",
                                   explainer=CounterfactualExplainer(None))(clf, X, y)


def _explainer_seed(random_state):
    # The explainer seed a scorer with this random_state draws (second of its three).
    from sklearn.utils import check_random_state

    from sklearn_ct._utils import SEED_MAX

    return int(check_random_state(random_state).randint(SEED_MAX, size=3)[1])
