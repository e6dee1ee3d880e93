"""The generators package: the generate protocol, the batched engine and the registry."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestClassifier
from torch import nn

from sklearn_ct import ECCoGenerator, GenericGenerator, ecco_energy_weight, search_counterfactuals
from sklearn_ct._constraints import direction_masks
from sklearn_ct._model import resolve_model
from sklearn_ct.generators import (
    GENERATORS,
    BaseBlackBoxGenerator,
    BaseGenerator,
    GrowingSpheresGenerator,
    REVISEGenerator,
    SearchResult,
    check_generator,
)
from sklearn_ct.generators._registry import generator_names


def _linear(weight, bias):
    lin = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        lin.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    return lin


def _mlp(n_features=4, n_classes=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_features, 16), nn.Tanh(), nn.Linear(16, n_classes))


def test_first_step_matches_hand_gradient():
    # Two-logit linear model: d CE / dx = sum_k (p_k - 1[k = t]) w_k. One Generic step with
    # L1 cost at x' = x (|.| has zero subgradient at 0) is x - eta * that gradient.
    W = np.array([[1.0, -2.0], [-0.5, 1.5]])
    b = np.array([0.2, -0.1])
    x = np.array([[0.3, -0.4]])
    logits = W @ x[0] + b
    p = np.exp(logits - logits.max())
    p /= p.sum()
    grad = (p - np.array([0.0, 1.0])) @ W
    res = search_counterfactuals(
        _linear(W, b), torch.tensor(x, dtype=torch.float32), torch.tensor([1]),
        GenericGenerator(lambda_cost=0.5), max_steps=1, decision_threshold=0.99, step_size=0.1,
    )
    np.testing.assert_allclose(res.counterfactuals.numpy()[0], x[0] - 0.1 * grad, atol=1e-6)
    assert res.n_iter.item() == 1


def test_l1_cost_gradient_after_first_step():
    # From the second step on the L1 cost adds lambda * sign(x' - x) to the gradient.
    W = np.array([[0.0, 0.0], [1.0, 0.0]])
    x = torch.zeros(1, 2)
    gen = GenericGenerator(lambda_cost=0.2)
    res = search_counterfactuals(_linear(W, [0.0, 0.0]), x, torch.tensor([1]), gen,
                                 max_steps=2, decision_threshold=0.999, step_size=0.1)
    # step 1: p1 = 0.5 -> x1 = 0.1 * 0.5 = 0.05; step 2: p1 = sigmoid(0.05)
    x1 = 0.05
    p1 = 1 / (1 + np.exp(-x1))
    x2 = x1 - 0.1 * ((p1 - 1.0) * 1.0 + 0.2 * 1.0)
    np.testing.assert_allclose(res.counterfactuals[0, 0].item(), x2, atol=1e-6)
    assert res.counterfactuals[0, 1].item() == 0.0


def test_rows_stop_at_threshold_and_report_probability():
    module = _mlp()
    x = torch.randn(64, 4)
    target = torch.randint(0, 3, (64,))
    res = search_counterfactuals(module, x, target, GenericGenerator(lambda_cost=0.0),
                                 max_steps=200, decision_threshold=0.7, step_size=0.2,
                                 return_path=True)
    with torch.no_grad():
        p = torch.softmax(module(res.counterfactuals), 1).gather(1, target[:, None])[:, 0]
    np.testing.assert_allclose(p.numpy(), res.target_proba.numpy(), atol=1e-6)
    assert torch.equal(res.converged, p >= 0.7)
    # A converged row stopped at its first iterate above the threshold.
    path_p = torch.softmax(module(res.path.reshape(-1, 4)), 1).reshape(201, 64, 3)
    path_p = path_p.gather(2, target[None, :, None].expand(201, 64, 1))[..., 0].detach()
    for i in np.flatnonzero(res.converged.numpy()):
        first = int(np.argmax(path_p[:, i].numpy() >= 0.7))
        assert first == res.n_iter[i].item()


def test_factual_already_at_target_is_converged_with_zero_steps():
    # Deliberate deviation from the reference (quirk 10): such a factual is a mature
    # counterfactual of itself.
    W = np.array([[0.0, 0.0], [1.0, 0.0]])
    x = torch.tensor([[5.0, 1.0], [-5.0, 1.0]])
    res = search_counterfactuals(_linear(W, [0.0, 0.0]), x, torch.tensor([1, 1]),
                                 GenericGenerator(), max_steps=5, decision_threshold=0.9)
    assert res.converged.tolist() == [True, False]
    assert res.n_iter.tolist() == [0, 5]
    assert torch.equal(res.counterfactuals[0], x[0])


@pytest.mark.parametrize("generator", [GenericGenerator(lambda_cost=0.05), ECCoGenerator()])
def test_batch_does_not_couple_rows(generator):
    module = _mlp(seed=1)
    x = torch.randn(40, 4)
    target = torch.randint(0, 3, (40,))
    kw = dict(max_steps=40, decision_threshold=0.8, step_size=0.1, epsilon=0.3)
    batch = search_counterfactuals(module, x, target, generator, **kw)
    for i in range(0, 40, 7):
        single = search_counterfactuals(module, x[i:i + 1], target[i:i + 1], generator, **kw)
        torch.testing.assert_close(single.counterfactuals[0], batch.counterfactuals[i],
                                   atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(single.nascent[0], batch.nascent[i], atol=1e-5, rtol=1e-5)
        assert single.n_iter.item() == batch.n_iter[i].item()


def test_nascent_is_last_path_iterate_inside_epsilon_ball():
    module = _mlp(seed=2)
    x = torch.randn(50, 4)
    target = torch.randint(0, 3, (50,))
    eps = 0.25
    res = search_counterfactuals(module, x, target, ECCoGenerator(), max_steps=30,
                                 decision_threshold=0.9, step_size=0.1, epsilon=eps,
                                 return_path=True)
    dist = (res.path - x[None]).abs().amax(dim=2)  # (T+1, n)
    for i in range(50):
        steps = res.n_iter[i].item()
        inside = np.flatnonzero(dist[: steps + 1, i].numpy() <= eps)
        expected = res.path[inside[-1], i]  # t = 0 (the factual) always qualifies
        torch.testing.assert_close(res.nascent[i], expected)


def test_ecco_energy_weight_matches_reference_schedule():
    # Published values (spec 2.2): T=30 -> phi(0)=0.0536, phi(29)=0.0045; T=50 -> phi(0)=0.074
    assert ecco_energy_weight(0, 30) == pytest.approx(0.0536, abs=5e-5)
    assert ecco_energy_weight(29, 30) == pytest.approx(0.0045, abs=5e-5)
    assert ecco_energy_weight(0, 50) == pytest.approx(0.074, abs=5e-4)
    assert ecco_energy_weight(3, 100) == pytest.approx(0.4 * 8 ** -0.9)


def test_ecco_energy_kept_for_short_searches():
    # Deliberate deviation (quirk 14): the reference's weight is 0 for T <= 12.
    assert ecco_energy_weight(0, 5) == pytest.approx(0.1 * 2 ** -0.9)
    gen = ECCoGenerator(lambda_cost=0.0, lambda_energy=5.0)
    logits = torch.tensor([[1.0, 2.0]])
    pen = gen.penalty(logits, torch.tensor([1]), torch.zeros(1, 2), torch.zeros(1, 2), 0, 5)
    e = -2.0
    assert pen.item() == pytest.approx(5.0 * ecco_energy_weight(0, 5) * (e + 1e-3 * e**2))


directions = st.sampled_from(["both", "increase", "decrease", "none"])


@settings(max_examples=25, deadline=None)
@given(
    dirs=st.lists(directions, min_size=4, max_size=4),
    seed=st.integers(0, 10_000),
    low=st.floats(-3, -0.5),
    high=st.floats(0.5, 3),
    use_ecco=st.booleans(),
)
def test_constraints_hold_for_every_row(dirs, seed, low, high, use_ecco):
    gen = torch.Generator().manual_seed(seed)
    module = _mlp(seed=seed % 7)
    x = torch.rand(30, 4, generator=gen) * 4 - 2  # some factuals outside the domain
    target = torch.randint(0, 3, (30,), generator=gen)
    inc, dec = (torch.as_tensor(m) for m in direction_masks(np.array(dirs, dtype=object)))
    lower = torch.full((4,), low)
    upper = torch.full((4,), high)
    generator = ECCoGenerator() if use_ecco else GenericGenerator(lambda_cost=0.01)
    res = search_counterfactuals(module, x, target, generator, max_steps=25,
                                 decision_threshold=0.95, step_size=0.5, lower=lower,
                                 upper=upper, can_increase=inc, can_decrease=dec, epsilon=0.3,
                                 return_path=True)
    for cf in (res.counterfactuals, res.nascent, *res.path):
        delta = cf - x
        for j, d in enumerate(dirs):
            if d == "none":
                assert torch.equal(cf[:, j], x[:, j])
            if d == "increase":
                assert (delta[:, j] >= 0).all()
            if d == "decrease":
                assert (delta[:, j] <= 0).all()
            # A feature that moved lies in the domain; only a factual value already
            # outside the domain can stay outside (mutability takes precedence).
            moved = cf[:, j] != x[:, j]
            assert (cf[moved, j] >= low - 1e-6).all() and (cf[moved, j] <= high + 1e-6).all()


def test_mad_weighted_l1_penalty_brute_force():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(31, 3)) * [1.0, 5.0, 0.1]
    gen = GenericGenerator(lambda_cost=0.3, distance="mad_l1").fit(X)
    x = torch.tensor(X[:4], dtype=torch.float32)
    x_cf = x + torch.tensor(rng.normal(size=(4, 3)), dtype=torch.float32)
    pen = gen.penalty(None, None, x_cf, x, 0, 10).numpy()
    for i in range(4):
        expected = 0.0
        for j in range(3):
            col = X[:, j]
            mad = np.median(np.abs(col - np.median(col)))
            expected += abs(float(x_cf[i, j]) - float(x[i, j])) / mad
        assert pen[i] == pytest.approx(0.3 * expected, rel=1e-5)
    with pytest.raises(RuntimeError, match="fitted"):
        GenericGenerator(distance="mad_l1").penalty(None, None, x_cf, x, 0, 10)


class _ShiftedLatent(ECCoGenerator):
    """A latent generator whose decoder does not reproduce the factual."""

    latent_space = True

    def decode(self, state):
        return state + 1.0


def test_latent_search_reports_the_bounded_point_it_returns():
    module = _mlp(n_features=3, n_classes=2, seed=4)
    x = torch.randn(60, 3)
    lower, upper = torch.full((3,), -0.5), torch.full((3,), 0.5)
    with torch.no_grad():
        start_class = module(torch.clamp(x + 1.0, lower, upper)).argmax(1)
    # half the rows already reach their target at the (bounded, decoded) starting point
    target = torch.where(torch.arange(60) < 30, start_class, 1 - start_class)
    res = search_counterfactuals(module, x, target, _ShiftedLatent(), max_steps=20,
                                 decision_threshold=0.5, step_size=0.2, lower=lower,
                                 upper=upper)
    cf = res.counterfactuals
    assert (cf >= -0.5).all() and (cf <= 0.5).all()
    with torch.no_grad():
        p = torch.softmax(module(cf), 1).gather(1, target[:, None])[:, 0]
    torch.testing.assert_close(p, res.target_proba)
    assert torch.equal(res.converged, p >= 0.5)
    # rows that stop at once return their bounded decoded point, never the factual
    start = res.n_iter == 0
    assert start.any()
    torch.testing.assert_close(cf[start], torch.clamp(x[start] + 1.0, lower, upper))


# -- the generate protocol ------------------------------------------------------------------


def test_generate_with_tensors_is_the_engine():
    module, x = _mlp(), torch.randn(40, 4)
    target = torch.randint(0, 3, (40,))
    gen = ECCoGenerator()
    kw = dict(max_steps=15, decision_threshold=0.6, step_size=0.2, epsilon=0.3)
    a = gen.generate(module, x, target, **kw)
    b = search_counterfactuals(module, x, target, gen, **kw)
    for name in ("counterfactuals", "converged", "n_iter", "target_proba", "nascent"):
        assert torch.equal(getattr(a, name), getattr(b, name))


def test_generate_with_arrays_searches_in_float64_and_keeps_unchanged_features():
    module = _mlp()
    x = np.random.default_rng(0).normal(size=(30, 4))
    target = np.arange(30) % 3
    can = np.array([True, True, True, False])  # the last feature is immutable
    res = GenericGenerator().generate(module, x, target, max_steps=20, can_increase=can,
                                      can_decrease=can, return_path=True)
    assert isinstance(res.counterfactuals, np.ndarray)
    assert res.counterfactuals.dtype == np.float64
    assert np.array_equal(res.counterfactuals[:, 3], x[:, 3])  # exactly, not to round-off
    assert res.path.shape == (21, 30, 4)
    # The same search on the model's float64 copy, through the engine.
    module64, dtype = resolve_model(module).search_module()
    assert dtype == torch.float64
    ref = search_counterfactuals(module64, torch.as_tensor(x), torch.as_tensor(target),
                                 GenericGenerator(), max_steps=20,
                                 can_increase=torch.as_tensor(can),
                                 can_decrease=torch.as_tensor(can))
    np.testing.assert_array_equal(res.n_iter, ref.n_iter.numpy())
    np.testing.assert_allclose(res.counterfactuals, ref.counterfactuals.numpy(), atol=1e-12)


def test_black_box_generate_takes_a_model_or_a_probability_function():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    gen = GrowingSpheresGenerator(random_state=0).fit(X)
    target = 1 - forest.predict(X[:10])
    a = gen.generate(forest, X[:10], target, max_steps=20)
    b = gen.generate(forest.predict_proba, X[:10], target, max_steps=20)
    assert isinstance(a, SearchResult) and a.nascent is None and a.path is None
    np.testing.assert_array_equal(a.counterfactuals, b.counterfactuals)
    assert a.converged.all()
    with pytest.raises(ValueError, match="return_path"):
        gen.generate(forest, X[:2], target[:2], return_path=True)


def test_one_base_class_for_every_generator():
    for cls in GENERATORS.values():
        assert issubclass(cls, BaseGenerator)
    assert issubclass(GrowingSpheresGenerator, BaseBlackBoxGenerator)
    assert not GrowingSpheresGenerator.requires_gradients
    assert REVISEGenerator.requires_gradients and REVISEGenerator.latent_space


def test_a_new_generator_is_one_class():
    # A subclass that only defines a penalty runs on the engine, through generate.
    class Nearest(BaseGenerator):
        def penalty(self, logits, target, x_cf, x, t, max_steps):
            return (x_cf - x).square().sum(dim=1)

    module, x = _mlp(), torch.randn(8, 4)
    res = Nearest().fit(x.numpy()).generate(module, x, torch.zeros(8, dtype=torch.long),
                                            max_steps=5)
    assert res.counterfactuals.shape == x.shape


# -- the registry ---------------------------------------------------------------------------


def test_check_generator_resolves_names_and_instances():
    assert isinstance(check_generator(None), ECCoGenerator)
    assert isinstance(check_generator("Generic"), GenericGenerator)
    gen = GenericGenerator(lambda_cost=0.5)
    resolved = check_generator(gen)
    assert resolved is not gen and resolved.lambda_cost == 0.5
    # Unseeded generators follow the caller's seed; seeded ones keep theirs.
    assert check_generator("revise", random_state=3).random_state == 3
    assert check_generator(REVISEGenerator(random_state=1), random_state=3).random_state == 1
    with pytest.raises(ValueError, match="Unknown generator 'dice'"):
        check_generator("dice")


def test_training_accepts_gradient_generators_only():
    assert isinstance(check_generator("revise", gradient_only=True), REVISEGenerator)
    # The names come from the registry: a new generator is one entry in GENERATORS, and
    # this test needs no change.
    gradient = sorted(name for name, cls in GENERATORS.items() if cls.requires_gradients)
    assert {"ecco", "generic", "revise"} <= set(gradient)
    assert "growing_spheres" not in gradient
    assert sorted(generator_names(gradient_only=True)) == gradient
    expected = re.escape(f"expected one of {gradient}")
    with pytest.raises(ValueError, match=expected):
        check_generator("growing_spheres", gradient_only=True)
    with pytest.raises(ValueError, match="does not search along gradients"):
        check_generator(GrowingSpheresGenerator(), gradient_only=True)


# -- deprecations ---------------------------------------------------------------------------


def test_max_iter_is_a_deprecated_alias_of_max_steps():
    module, x = _mlp(), torch.randn(5, 4)
    target = torch.zeros(5, dtype=torch.long)
    new = search_counterfactuals(module, x, target, GenericGenerator(), max_steps=3,
                                 decision_threshold=0.999)
    with pytest.warns(FutureWarning, match="renamed 'max_steps'"):
        old = search_counterfactuals(module, x, target, GenericGenerator(), max_iter=3,
                                     decision_threshold=0.999)
    assert torch.equal(new.counterfactuals, old.counterfactuals)
    with pytest.warns(FutureWarning, match="renamed 'max_steps'"):
        assert ecco_energy_weight(2, max_iter=30) == ecco_energy_weight(2, 30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GenericGenerator().generate(module, x, target, max_steps=3)


def test_black_box_result_is_a_deprecated_alias():
    import sklearn_ct.explainers as explainers

    with pytest.warns(FutureWarning, match="SearchResult"):
        assert explainers.BlackBoxResult is SearchResult


def test_generators_named_for_training_use_the_reference_training_weights():
    from sklearn_ct.generators import check_generator

    assert check_generator("generic").lambda_cost == 0.1  # explaining
    assert check_generator("generic", training=True).lambda_cost == 0.001  # training
    assert check_generator("ecco", training=True).get_params() == ECCoGenerator().get_params()
    # An instance is used as given.
    gen = GenericGenerator(lambda_cost=0.3)
    assert check_generator(gen, training=True).lambda_cost == 0.3


def test_ctclassifier_trains_generic_with_the_reference_weight_and_seeds_revise():
    from sklearn.datasets import make_moons

    from sklearn_ct import CTClassifier, REVISEGenerator

    X, y = make_moons(120, noise=0.1, random_state=0)
    params = dict(max_epochs=2, batch_size=32, max_steps=5, random_state=0, selection=None)
    clf = CTClassifier(generator="generic", **params).fit(X, y)
    assert clf.generator_.lambda_cost == 0.001
    state = np.random.get_state()
    a = CTClassifier(generator=REVISEGenerator(max_epochs=3), **params).fit(X, y)
    b = CTClassifier(generator=REVISEGenerator(max_epochs=3), **params).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert np.array_equal(np.random.get_state()[1], state[1])
