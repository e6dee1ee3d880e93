"""Plausibility selection, the forked training behind it, and the pool refresh cadence."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import copy

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

import sklearn_ct._classifier as classifier_module
from sklearn_ct._classifier import _search_bounds
from sklearn_ct import REFERENCE_PARAMS, CTClassifier
from sklearn_ct._constraints import direction_masks
from sklearn_ct._selection import judge_plausibility

PARAMS = dict(max_epochs=6, batch_size=32, lr=0.02, max_steps=10, hidden_layer_sizes=(16,),
              random_state=3)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=240, n_features=5, n_informative=3,
                               n_redundant=0, random_state=0)
    return X.astype(np.float32), y


def _force(monkeypatch, keep):
    calls = []

    def judge(*args, **kwargs):
        calls.append(args)
        return keep, {"forced": float(keep)}

    monkeypatch.setattr(classifier_module, "judge_plausibility", judge)
    return calls


def test_kept_twin_is_exactly_the_vanilla_model(data, monkeypatch):
    X, y = data
    calls = _force(monkeypatch, False)
    clf = CTClassifier(**PARAMS).fit(X, y)
    vanilla = CTClassifier(objective="vanilla", **PARAMS).fit(X, y)
    assert len(calls) == 1
    assert clf.selected_ == "vanilla"
    assert clf.selection_scores_ == {"forced": 0.0}
    np.testing.assert_array_equal(clf.predict_proba(X), vanilla.predict_proba(X))
    assert clf.n_iter_ == vanilla.n_iter_ == PARAMS["max_epochs"]


def test_kept_ct_network_is_the_one_trained_without_selection(data, monkeypatch):
    X, y = data
    _force(monkeypatch, True)
    clf = CTClassifier(**PARAMS).fit(X, y)
    plain = CTClassifier(selection=None, **PARAMS).fit(X, y)
    assert clf.selected_ == plain.selected_ == "ct"
    # Forking after the burn-in (weights, optimizer state, data order and random state
    # carried over) changes nothing in the CT network.
    np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))
    assert len(clf.history_) == PARAMS["max_epochs"]
    burnin = round(0.5 * PARAMS["max_epochs"])
    # The shared burn-in epochs come from the twin, which had no pool.
    assert clf.history_[burnin - 1].get("cf_mature") is None
    assert clf.history_[burnin, "cf_mature"] is not None


@pytest.mark.parametrize("params, runs, selected", [
    (dict(objective="vanilla"), False, "vanilla"),  # nothing to select from
    (dict(selection=None), False, "ct"),
    (dict(callbacks=[]), True, "vanilla"),  # an empty list is no callbacks
    (dict(burnin=1.0), False, "ct"),  # no epoch left for CT: nothing to compare
    # The methods CT is compared with are kept as published, without selection.
    (dict(objective="jem", sgld_steps=2, sgld_buffer_size=50), False, "ct"),
    (dict(objective="pgd", pgd_steps=2), False, "ct"),
    (dict(objective="adversarial"), True, "vanilla"),  # CT's ablations are selected
])
def test_when_selection_runs(data, monkeypatch, params, runs, selected):
    X, y = data
    calls = _force(monkeypatch, False)
    clf = CTClassifier(**{**PARAMS, **params}).fit(X, y)
    assert len(calls) == int(runs)
    assert clf.selected_ == selected
    if not runs:
        assert clf.selection_scores_ == {}


def test_user_callbacks_skip_selection(data, monkeypatch):
    from skorch.callbacks import Callback

    X, y = data
    calls = _force(monkeypatch, False)
    clf = CTClassifier(callbacks=[Callback()], **PARAMS).fit(X, y)
    assert calls == [] and clf.selected_ == "ct"


def test_selection_is_deterministic_and_leaves_global_rngs_alone(data):
    X, y = data
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    a = CTClassifier(**PARAMS).fit(X, y)
    b = CTClassifier(**PARAMS).fit(X, y)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state[1])
    assert a.selected_ == b.selected_
    assert a.selection_scores_ == b.selection_scores_
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def _bounds(clf):
    return _search_bounds(clf.domain_, torch.device("cpu"), *direction_masks(clf.mutability_))


def test_judge_keeps_an_identical_network(data):
    X, y = data
    clf = CTClassifier(objective="vanilla", **PARAMS).fit(X, y)
    module = clf.net_.module_
    keep, scores = judge_plausibility(module, copy.deepcopy(module), X, y, 2,
                                      bounds=_bounds(clf), random_state=0)
    assert keep
    for search in ("plain", "default"):
        for measure in ("ip", "knn", "ipstar", "cost"):
            assert scores[f"{search}_{measure}"] == pytest.approx(1.0)
        assert scores[f"{search}_valid_ct"] == scores[f"{search}_valid_twin"]
        assert scores[f"{search}_n"] > 0


def test_judge_rejects_a_network_whose_counterfactuals_move_away_from_the_data(data):
    X, y = data
    clf = CTClassifier(objective="vanilla", **{**PARAMS, "max_epochs": 30}).fit(X, y)
    twin = clf.net_.module_
    worse = copy.deepcopy(twin)
    with torch.no_grad():
        # Flatter logits: the target probability rises slowly, so the searches have to
        # travel further, away from the data, to reach their thresholds.
        worse.layers[-1].weight.mul_(0.25)
        worse.layers[-1].bias.mul_(0.25)
    keep, scores = judge_plausibility(worse, twin, X, y, 2, bounds=_bounds(clf),
                                      random_state=0)
    assert not keep
    assert scores["plain_cost"] > 1.0
    # And the other way round, the sharper network is not worse on every measure.
    keep_back, back = judge_plausibility(twin, worse, X, y, 2, bounds=_bounds(clf),
                                         random_state=0)
    assert back["plain_cost"] < 1.0


def test_judge_rejects_a_less_accurate_network(data):
    X, y = data
    clf = CTClassifier(objective="vanilla", **{**PARAMS, "max_epochs": 30}).fit(X, y)
    twin = clf.net_.module_
    flipped = copy.deepcopy(twin)
    with torch.no_grad():
        flipped.layers[-1].weight.copy_(flipped.layers[-1].weight.flip(0))
        flipped.layers[-1].bias.copy_(flipped.layers[-1].bias.flip(0))
    keep, scores = judge_plausibility(flipped, twin, X, y, 2, bounds=_bounds(clf),
                                      random_state=0)
    assert not keep
    assert scores["accuracy_ct"] < scores["accuracy_twin"] - 0.02


# -- pool refresh --------------------------------------------------------------------------


@pytest.mark.parametrize("refresh_steps, expected", [
    (None, [1, 2, 3, 4, 5, 6]),  # every epoch
    (8, [1, 2, 3, 4, 5, 6]),  # 240 rows / 32 = 8 batches: an epoch uses a pool up
    (9, [1, 3, 5]),  # 8 steps < 9: used for a second epoch, then 16 >= 9
    (17, [1, 4]),
])
def test_pool_refresh_cadence(data, refresh_steps, expected):
    X, y = data
    clf = CTClassifier(**{**PARAMS, **REFERENCE_PARAMS, "refresh_steps": refresh_steps})
    clf.fit(X, y)
    new_pools = [e for e in range(1, 7) if clf.history_[e - 1, "cf_time"] > 0]
    assert new_pools == expected
    # Reused pools are recorded with the statistics of the pool in use.
    assert all(clf.history_[e, "cf_mature"] is not None for e in range(6))


def test_auto_refresh_is_four_searches_worth_of_steps(data):
    X, y = data
    # max_steps=10: a new pool at least every 40 steps = every 5 epochs of 8 batches.
    clf = CTClassifier(**{**PARAMS, **REFERENCE_PARAMS, "refresh_steps": "auto"}).fit(X, y)
    new_pools = [e for e in range(1, 7) if clf.history_[e - 1, "cf_time"] > 0]
    assert new_pools == [1, 6]


def test_pool_draws_continue_across_partial_fit_segments(data):
    from sklearn_ct.callbacks import CounterfactualGeneration

    X, y = data
    clf = CTClassifier(**{**PARAMS, **REFERENCE_PARAMS}).fit(X, y)
    cb = dict(clf.net_.callbacks_)["counterfactuals"]
    assert isinstance(cb, CounterfactualGeneration)
    state = cb.rng_.bit_generator.state
    # Another segment of training continues the stream rather than restarting it.
    clf.net_.partial_fit(X, y.astype(np.int64), epochs=1)
    assert cb.rng_.bit_generator.state != state
    fresh = np.random.default_rng(cb.random_state).bit_generator.state
    assert cb.rng_.bit_generator.state != fresh
