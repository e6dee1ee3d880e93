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
from sklearn_ct._selection import (
    blend_modules,
    calibrate_intercepts,
    intercept_offsets,
    judge_plausibility,
    output_bias,
)

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
    # Both candidates (the CT network, then the blend) were judged against the twin.
    assert len(calls) == 2
    assert clf.selected_ == "vanilla"
    # The scores reported are those of the CT network.
    assert clf.selection_scores_.keys() == {"forced", "ct_weight", "intercept_shift"}
    assert clf.selection_scores_["forced"] == 0.0 and clf.selection_scores_["ct_weight"] == 1.0
    np.testing.assert_array_equal(clf.predict_proba(X), vanilla.predict_proba(X))
    assert clf.n_iter_ == vanilla.n_iter_ == PARAMS["max_epochs"]


def test_kept_ct_network_is_the_one_trained_without_selection(data, monkeypatch):
    X, y = data
    calls = _force(monkeypatch, True)
    clf = CTClassifier(**PARAMS).fit(X, y)
    plain = CTClassifier(selection=None, **PARAMS).fit(X, y)
    assert clf.selected_ == plain.selected_ == "ct"
    assert len(calls) == 1  # the first candidate passed: no blend is judged
    assert clf.selection_scores_["ct_weight"] == 1.0
    # Forking after the burn-in (weights, optimizer state, data order and random state
    # carried over) changes nothing in the CT network; the kept network differs only by
    # its refitted class intercepts.
    kept, trained = clf.net_.module_.state_dict(), plain.net_.module_.state_dict()
    bias = "layers.2.bias"
    for key in kept:
        if key != bias:
            assert torch.equal(kept[key], trained[key]), key
    offsets = (kept[bias] - trained[bias]).double().numpy()
    assert abs(offsets.sum()) < 1e-5
    assert np.abs(offsets).max() == pytest.approx(clf.selection_scores_["intercept_shift"],
                                                  rel=1e-4, abs=1e-6)
    # The candidate was judged with these intercepts.
    np.testing.assert_array_equal(
        calls[0][0](torch.as_tensor(X)).detach().numpy(),
        clf.net_.module_(torch.as_tensor(X)).detach().numpy())
    assert len(clf.history_) == PARAMS["max_epochs"]
    # burnin="auto": 240 rows / 32 = 8 mini-batches per epoch, so 0.5 + 0.3 * (16 - 8) / 12
    # = 0.7 of the 6 epochs are conventional.
    burnin = 4
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
    assert len(calls) == (2 if runs else 0)  # the CT network and the blend
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


def test_kept_blend_lies_halfway_between_ct_and_twin(data, monkeypatch):
    X, y = data
    calls = []

    def judge(module, module_twin, *args, **kwargs):
        # Reject the CT network, accept the blend.
        calls.append(module)
        return len(calls) == 2, {"call": float(len(calls))}

    monkeypatch.setattr(classifier_module, "judge_plausibility", judge)
    clf = CTClassifier(**PARAMS).fit(X, y)
    ct = CTClassifier(selection=None, **PARAMS).fit(X, y)
    twin = CTClassifier(objective="vanilla", **PARAMS).fit(X, y)
    assert clf.selected_ == "blend"
    assert clf.selection_scores_.keys() == {"call", "ct_weight", "intercept_shift"}
    assert clf.selection_scores_["call"] == 2.0 and clf.selection_scores_["ct_weight"] == 0.5
    kept = clf.net_.module_.state_dict()
    a, b = ct.net_.module_.state_dict(), twin.net_.module_.state_dict()
    halfway = {key: (a[key].numpy() + b[key].numpy()) / 2 for key in kept}
    # The blend's intercepts are then refitted on the training rows.
    halfway["layers.2.bias"] = halfway["layers.2.bias"] + intercept_offsets(
        _logits(halfway, clf.net_.module_, X), y, 2).numpy()
    for key in kept:
        np.testing.assert_allclose(kept[key].numpy(), halfway[key], rtol=1e-5, atol=1e-6)
    # The judged blend is the network that was kept.
    np.testing.assert_array_equal(
        calls[1](torch.as_tensor(X)).detach().numpy(),
        clf.net_.module_(torch.as_tensor(X)).detach().numpy())
    assert clf.history_[-1, "cf_mature"] is not None  # it is the CT net's history


def _logits(state, module, X):
    """Logits of ``module``'s architecture with the weights ``state`` (arrays)."""
    net = copy.deepcopy(module)
    net.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    net.eval()
    with torch.no_grad():
        return net(torch.as_tensor(X))


@pytest.mark.parametrize("seed", range(4))
def test_intercept_offsets_match_a_general_purpose_minimiser(seed):
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    rng = np.random.default_rng(seed)
    n_classes = 2 + seed % 3
    y = rng.integers(0, n_classes, size=200)
    y[:n_classes] = np.arange(n_classes)  # every class occurs
    logits = rng.normal(scale=2.0, size=(200, n_classes)) + rng.normal(size=n_classes)
    offsets = intercept_offsets(torch.as_tensor(logits, dtype=torch.float32), y, n_classes)
    z = torch.as_tensor(logits, dtype=torch.float32).double().numpy()

    def loss(b):  # mean cross-entropy of z + b, written out
        return np.mean(logsumexp(z + b, axis=1) - (z + b)[np.arange(len(y)), y])

    ref = minimize(loss, np.zeros(n_classes), method="BFGS", options={"gtol": 1e-12}).x
    ref -= ref.mean()
    np.testing.assert_allclose(offsets.numpy(), ref, atol=1e-5)
    assert abs(float(offsets.sum())) < 1e-12
    # At the optimum the mean predicted probability of each class is its share.
    p = torch.softmax(torch.as_tensor(z) + offsets, dim=1).mean(dim=0).numpy()
    np.testing.assert_allclose(p, np.bincount(y, minlength=n_classes) / len(y), atol=1e-9)


def test_intercept_offsets_of_constant_logits_are_the_log_shares():
    # With the same logits for every row, the fitted probabilities are the class shares,
    # so the offsets are log(shares) minus the logits, centred.
    y = np.array([0] * 6 + [1] * 3 + [2])
    logits = torch.tensor([[0.5, -1.0, 2.0]]).repeat(len(y), 1)
    expected = np.log([0.6, 0.3, 0.1]) - np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(intercept_offsets(logits, y, 3).numpy(),
                               expected - expected.mean(), atol=1e-9)


def test_calibrate_intercepts_changes_the_output_bias_only(data):
    X, y = data
    clf = CTClassifier(selection=None, **PARAMS).fit(X, y)
    module = copy.deepcopy(clf.net_.module_).train()
    before = copy.deepcopy(module.state_dict())
    offsets = calibrate_intercepts(module, X, y, 2)
    assert module.training  # its mode is restored
    after = module.state_dict()
    assert output_bias(module) is module.layers[2].bias
    for key in after:
        if key == "layers.2.bias":
            np.testing.assert_allclose((after[key] - before[key]).numpy(), offsets, atol=1e-6)
        else:
            assert torch.equal(after[key], before[key])
    module.eval()
    with torch.no_grad():
        p = torch.softmax(module(torch.as_tensor(X)).double(), dim=1).mean(dim=0).numpy()
    np.testing.assert_allclose(p, np.bincount(y) / len(y), atol=1e-5)
    # Calibrating again changes (almost) nothing.
    assert np.abs(calibrate_intercepts(module, X, y, 2)).max() < 1e-5


def test_calibrate_intercepts_leaves_other_modules_alone(data):
    X, y = data
    module = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 2))
    before = copy.deepcopy(module.state_dict())
    assert output_bias(module) is None
    assert calibrate_intercepts(module, X, y, 2) is None
    for key, value in module.state_dict().items():
        assert torch.equal(value, before[key])


def test_blend_modules_interpolates_floating_state_only():
    torch.manual_seed(0)
    ct = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    with torch.no_grad():
        ct[1].running_mean.fill_(2.0)
        twin[1].running_mean.fill_(-2.0)
    ct[1].num_batches_tracked.fill_(7)
    twin[1].num_batches_tracked.fill_(3)
    before = {k: v.clone() for k, v in ct.state_dict().items()}
    for weight in (0.0, 0.25, 1.0):
        blend = blend_modules(ct, twin, weight)
        for key, value in blend.state_dict().items():
            if value.is_floating_point():
                expected = weight * ct.state_dict()[key] + (1 - weight) * twin.state_dict()[key]
                torch.testing.assert_close(value, expected)
        assert blend[1].num_batches_tracked.item() == 7  # CT's counter
        assert blend[1].running_mean.tolist() == [4 * weight - 2] * 4
    # The inputs are left as they were.
    for key, value in ct.state_dict().items():
        assert torch.equal(value, before[key])


def test_blend_modules_keeps_ct_extra_state():
    class WithExtraState(torch.nn.Linear):
        def __init__(self, tag):
            super().__init__(2, 2)
            self.tag = tag

        def get_extra_state(self):
            return {"tag": self.tag}

        def set_extra_state(self, state):
            self.tag = state["tag"]

    torch.manual_seed(0)
    ct, twin = WithExtraState("ct"), WithExtraState("twin")
    blend = blend_modules(ct, twin, 0.5)
    assert blend.tag == "ct"
    torch.testing.assert_close(blend.weight, (ct.weight + twin.weight) / 2)


def test_judge_searches_the_twin_once_for_several_candidates(data, monkeypatch):
    import sklearn_ct._selection as selection

    X, y = data
    clf = CTClassifier(objective="vanilla", **PARAMS).fit(X, y)
    module = clf.net_.module_
    other = CTClassifier(objective="vanilla", **{**PARAMS, "random_state": 4}).fit(X, y)
    searched = []
    explain = selection._explain
    monkeypatch.setattr(selection, "_explain",
                        lambda m, *a: searched.append(m) or explain(m, *a))
    cache = {}
    first = judge_plausibility(other.net_.module_, module, X, y, 2, bounds=_bounds(clf),
                               random_state=0, cache=cache)
    n_first = len(searched)
    assert n_first >= 2
    again = judge_plausibility(other.net_.module_, module, X, y, 2, bounds=_bounds(clf),
                               random_state=0, cache=cache)
    # The second call searched only the candidate, and came to the same scores.
    assert all(m is other.net_.module_ for m in searched[n_first:])
    assert len(searched) - n_first == n_first // 2
    assert again == first


def _bounds(clf):
    return _search_bounds(clf.domain_, torch.device("cpu"), *direction_masks(clf.mutability_))


def test_judge_does_not_keep_an_identical_network(data, monkeypatch):
    import sklearn_ct._selection as selection

    X, y = data
    clf = CTClassifier(objective="vanilla", **PARAMS).fit(X, y)
    module = clf.net_.module_
    # Without the evidence rule every check passes: the ratios are 1, the validities equal.
    monkeypatch.setattr(selection, "EVIDENCE_Z", -np.inf)
    keep, scores = judge_plausibility(module, copy.deepcopy(module), X, y, 2,
                                      bounds=_bounds(clf), random_state=0)
    assert keep
    for search in ("plain", "default"):
        for measure in ("ip", "knn", "ipstar", "cost"):
            assert scores[f"{search}_{measure}"] == pytest.approx(1.0)
        assert scores[f"{search}_valid_ct"] == scores[f"{search}_valid_twin"]
        assert scores[f"{search}_n"] > 0
    # A tie is no evidence of a gain: the twin is kept.
    assert scores["plain_ip_z"] == 0.0
    monkeypatch.setattr(selection, "EVIDENCE_Z", 1.645)
    keep, scores = judge_plausibility(module, copy.deepcopy(module), X, y, 2,
                                      bounds=_bounds(clf), random_state=0)
    assert not keep


@pytest.mark.parametrize("seed", range(5))
def test_paired_z_is_the_paired_t_statistic(seed):
    from scipy.stats import ttest_rel

    from sklearn_ct._selection import _paired_z

    rng = np.random.default_rng(seed)
    twin = rng.gamma(2.0, size=30 + 10 * seed)
    ct = twin * rng.uniform(0.8, 1.1, size=twin.size)
    # A reduction of CT's IP is a positive z: scipy's statistic of twin - ct.
    assert _paired_z(twin - ct) == pytest.approx(ttest_rel(twin, ct).statistic)


def test_paired_z_degenerate_cases():
    from sklearn_ct._selection import _paired_z

    assert _paired_z([]) == 0.0
    assert _paired_z([0.3]) == 0.0  # one row: no spread to judge by
    assert _paired_z([0.0, 0.0, 0.0]) == 0.0
    assert _paired_z([0.2, 0.2]) == np.inf  # the same gain on every row
    assert _paired_z([-0.2, -0.2]) == -np.inf


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


@pytest.mark.parametrize("drop, ip, rate, passes", [
    (0.0, 1.2, 1.0, True),  # no accuracy given up: nothing to pay for
    (-0.03, 1.0, 1.0, True),
    (0.02, 0.99, 1.0, False),  # 2 points for a 1 % shorter IP
    (0.02, 0.97, 1.0, True),  # 2 points for 3 %
    (0.03, 0.97, 1.0, True),  # the limit itself passes
    (0.02, 0.99, 2.0, True),  # a dearer exchange rate
    (0.01, 1.01, 1.0, False),  # less plausible and less accurate
    (0.01, np.nan, 1.0, False),  # no IP ratio to pay with
])
def test_accuracy_must_be_paid_for_by_plausibility(drop, ip, rate, passes, monkeypatch):
    import sklearn_ct._selection as selection

    monkeypatch.setattr(selection, "ACCURACY_PER_IP", rate)
    scores = {"accuracy_twin": 0.9, "accuracy_ct": 0.9 - drop, "plain_ip": ip}
    assert selection._pays_for_its_accuracy(scores, "plain") is passes


def test_judge_applies_the_accuracy_exchange_rate(data, monkeypatch):
    import sklearn_ct._selection as selection

    X, y = data
    ct = CTClassifier(selection=None, **{**PARAMS, "max_epochs": 12}).fit(X, y)
    twin = CTClassifier(objective="vanilla", **{**PARAMS, "max_epochs": 12}).fit(X, y)
    # Every other check passes, so the decision is the exchange rate's alone.
    monkeypatch.setattr(selection, "EVIDENCE_Z", -np.inf)
    monkeypatch.setattr(selection, "RATIO_LIMIT", np.inf)
    monkeypatch.setattr(selection, "VALIDITY_TOLERANCE", 1.0)
    monkeypatch.setattr(selection, "ACCURACY_TOLERANCE", 1.0)
    kept = {}
    for rate in (0.0, 1e6):
        monkeypatch.setattr(selection, "ACCURACY_PER_IP", rate)
        kept[rate], scores = judge_plausibility(ct.net_.module_, twin.net_.module_, X, y, 2,
                                                bounds=_bounds(ct), random_state=0)
    drop = scores["accuracy_twin"] - scores["accuracy_ct"]
    assert kept[0.0] == (drop <= 0)
    assert kept[1e6] == (drop <= 0 or scores["plain_ip"] < 1)


@pytest.mark.parametrize("n_rows, batch_size, burnin, expected", [
    (600, 32, "auto", 50),  # 19 mini-batches per epoch: half the epochs
    (512, 32, "auto", 50),  # 16
    (384, 32, "auto", 60),  # 12: 0.5 + 0.3 * 4 / 12
    (320, 32, "auto", 65),  # 10: 0.5 + 0.3 * 6 / 12
    (128, 32, "auto", 80),  # 4
    (60, 32, "auto", 80),  # 2: no more than 0.8
    (384, -1, "auto", 80),  # one batch per epoch
    (60, 32, 0.5, 50),  # a number is used as given
    (600, 32, 0.0, 0),
])
def test_auto_burnin_grows_on_small_data(n_rows, batch_size, burnin, expected):
    clf = CTClassifier(burnin=burnin, batch_size=batch_size, max_epochs=100)
    assert clf._burnin_epochs(n_rows) == expected


def test_auto_burnin_is_where_ct_starts(data):
    X, y = data  # 240 rows: 8 mini-batches of 32, burnin 0.7
    clf = CTClassifier(selection=None, **{**PARAMS, "max_epochs": 10}).fit(X, y)
    mature = [row.get("cf_mature") for row in clf.history_]
    assert mature[:7] == [None] * 7 and None not in mature[7:]
    with pytest.raises(ValueError, match="burnin"):
        CTClassifier(burnin="early").fit(X, y)


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


def test_judge_plain_search_is_the_benchmarks_plain_search():
    """The judge measures with the evaluation's search: same steps, same counterfactuals.

    The benchmark's plain search (:func:`sklearn_ct.experiment.plain_search`) is written
    out independently of the package's engine. On a confident network the judge's plain
    search must end where it ends on every row valid for both; a different step size
    (0.25, the judge's earlier one) ends elsewhere, since a fixed-step search overshoots
    the 0.9 contour by a step proportional to the gradient.
    """
    from sklearn_ct._modules import MLP
    from sklearn_ct._selection import SEARCHES, _explain
    from sklearn_ct.experiment import BenchmarkSettings, plain_search

    torch.manual_seed(0)
    module = MLP(5, 3, hidden_layer_sizes=(16,)).double().eval()
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(3.0)  # steep enough for the search to reach 0.9 in a few steps
    x = torch.randn(60, 5, dtype=torch.float64)
    t = torch.randint(0, 3, (60,))
    name, make_generator, settings = SEARCHES[0]
    assert name == "plain"
    bench = BenchmarkSettings()
    assert settings["decision_threshold"] == bench.plain_threshold
    ours, valid = _explain(module, x, t, make_generator(), settings, (None,) * 4)
    theirs, valid_theirs = plain_search(
        module, x.numpy(), t.numpy(), threshold=bench.plain_threshold,
        step_size=bench.plain_step_size, lambda_cost=bench.plain_lambda_cost,
        max_steps=settings["max_steps"])
    both = valid & valid_theirs
    assert both.sum() >= 40
    np.testing.assert_allclose(ours[both], theirs[both], atol=1e-10)
    coarse, valid_coarse = _explain(module, x, t, make_generator(),
                                    dict(settings, step_size=0.25), (None,) * 4)
    both = valid_coarse & valid_theirs
    assert np.abs(coarse[both] - theirs[both]).max() > 0.05
