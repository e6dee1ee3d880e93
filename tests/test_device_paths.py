"""The device paths of the search, the explainer and training (issue 14).

On an accelerator, every value read back to the host stalls the device, so the search
reads its convergence state only every few steps there (``check_every``) and training
reads its per-batch records once per batch. These tests run the same code paths on the
CPU: the deferred search must give the eager search's results, and the host reads are
counted with :class:`~sklearn_ct._host_sync.HostSyncCounter` (torch's function mode sees
the same calls on every device). Tests that compare a GPU run with the CPU's skip without
one.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
import torch
from sklearn.frozen import FrozenEstimator
from torch import nn

from sklearn_ct import (
    REFERENCE_PARAMS,
    CTClassifier,
    ECCoGenerator,
    GenericGenerator,
    search_counterfactuals,
)
from sklearn_ct._host_sync import HostSyncCounter
from sklearn_ct._model import resolve_model
from sklearn_ct.explainers import CounterfactualExplainer
from sklearn_ct.explainers._mapping import Group
from sklearn_ct.generators import _base

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

FIELDS = ("counterfactuals", "converged", "n_iter", "target_proba", "nascent", "path")


def _mlp(n_features=4, n_classes=3, seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    module = nn.Sequential(nn.Linear(n_features, 16), nn.Tanh(), nn.Linear(16, n_classes))
    with torch.no_grad():
        module[2].weight.mul_(6.0)  # confident enough that searches converge
    return module.to(dtype)


class _ShiftedLatent(ECCoGenerator):
    """A latent generator whose decoder does not reproduce the factual."""

    latent_space = True

    def decode(self, state):
        return state + 1.0


def _assert_same(a, b):
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if x is None or y is None:
            assert x is None and y is None, name
        elif x.dtype in (torch.bool, torch.long):
            assert torch.equal(x, y), name
        else:
            # float64 throughout; the two runs only batch the rows differently.
            torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-12, msg=name)


def _case(name):
    g = torch.Generator().manual_seed(5)
    n, d = 90, 4
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    target = torch.randint(0, 3, (n,), generator=g)
    kw = dict(max_steps=40, decision_threshold=0.7, step_size=0.2, epsilon=0.3,
              return_path=True)
    gen = GenericGenerator(lambda_cost=0.05)
    if name == "ecco":
        gen = ECCoGenerator()
    elif name == "constraints":
        # Factuals partly outside the domain; monotone and immutable features.
        kw.update(lower=torch.full((d,), -1.0, dtype=torch.float64),
                  upper=torch.full((d,), 1.0, dtype=torch.float64),
                  can_increase=torch.tensor([True, True, False, False]),
                  can_decrease=torch.tensor([True, False, True, False]))
    elif name == "latent":
        gen = _ShiftedLatent()
        kw.update(lower=torch.full((d,), -0.5, dtype=torch.float64),
                  upper=torch.full((d,), 0.5, dtype=torch.float64))
    elif name == "groups":
        x[:, 1:4] = torch.nn.functional.one_hot(torch.randint(0, 3, (n,), generator=g),
                                                3).double()
        kw.update(groups=[Group(np.array([1, 2, 3]), None, False)], project_groups=True)
    elif name == "diverse":
        x = x.repeat_interleave(3, 0)
        target = target.repeat_interleave(3)
        kw.update(n_per_row=3, diversity_weight=0.5, start=x + 0.05 * torch.randn(
            x.shape, generator=g, dtype=torch.float64))
    return x, target, gen, kw


@pytest.mark.parametrize("name", ["generic", "ecco", "constraints", "latent", "groups",
                                  "diverse"])
@pytest.mark.parametrize("check_every", [2, 7, 100])
def test_deferred_checks_give_the_eager_search(name, check_every):
    module = _mlp()
    x, target, gen, kw = _case(name)
    eager = search_counterfactuals(module, x, target, gen, check_every=1, **kw)
    # Some rows stop early, some at 0 steps, some never: every write-back path is used.
    assert (eager.n_iter < kw["max_steps"]).any() and (eager.n_iter == kw["max_steps"]).any()
    deferred = search_counterfactuals(module, x, target, gen, check_every=check_every, **kw)
    _assert_same(eager, deferred)


def test_rows_at_their_target_and_outside_the_domain_are_returned_unchanged():
    # A row that stops at step 0 outside the domain returns its factual (not its clamp),
    # whether or not its stop is read back at once.
    module = nn.Linear(2, 2).double()
    with torch.no_grad():
        module.weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
        module.bias.zero_()
    x = torch.tensor([[5.0, 3.0], [-5.0, 0.0], [-0.5, 0.2]], dtype=torch.float64)
    kw = dict(max_steps=6, decision_threshold=0.9, lower=torch.full((2,), -1.0).double(),
              upper=torch.full((2,), 1.0).double())
    for k in (1, 4):
        res = search_counterfactuals(module, x, torch.tensor([1, 1, 1]), GenericGenerator(),
                                     check_every=k, **kw)
        assert res.n_iter[0] == 0 and res.converged[0]
        assert torch.equal(res.counterfactuals[0], x[0])
        assert (res.counterfactuals[1:].abs() <= 1).all()


def _host_reads(check_every, max_steps, epsilon=None):
    module = _mlp()
    x = torch.randn(50, 4, dtype=torch.float64)
    target = torch.randint(0, 3, (50,))
    with HostSyncCounter() as counter:
        # A threshold no row reaches: every row takes every step.
        search_counterfactuals(module, x, target, GenericGenerator(), max_steps=max_steps,
                               decision_threshold=1.0, epsilon=epsilon,
                               check_every=check_every)
    return counter


@pytest.mark.parametrize("epsilon", [None, 0.3])
def test_host_reads_per_step(epsilon):
    # The eager search reads once per step (twice while tracking the nascent point, whose
    # rows inside the ball it counts); the deferred one once per check_every steps.
    slope = {k: (_host_reads(k, 48, epsilon).syncs - _host_reads(k, 24, epsilon).syncs) / 24
             for k in (1, 8)}
    assert slope[1] == (1 if epsilon is None else 2)
    assert slope[8] == 1 / 8
    counter = _host_reads(8, 24, epsilon)
    assert counter.downloads == 0 and counter.uploads == 0


def _explain_data():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 5)
    module = _mlp(5, 3, seed=3, dtype=torch.float32)
    return X, module


def test_explainer_gives_the_same_results_with_deferred_checks(monkeypatch):
    X, module = _explain_data()
    explainer = CounterfactualExplainer(module, generator="ecco", max_steps=60,
                                        decision_threshold=0.8, mutability={0: "increase"},
                                        random_state=0).fit(X)
    eager = explainer.explain(X, return_path=True)
    monkeypatch.setitem(_base.CHECK_EVERY, "cpu", 5)
    deferred = explainer.explain(X, return_path=True)
    assert eager.valid.any() and not eager.valid.all()
    for key in eager:
        a, b = eager[key], deferred[key]
        if np.asarray(a).dtype.kind == "f":
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12, err_msg=key)
        else:
            np.testing.assert_array_equal(b, a, err_msg=key)


def test_explain_host_reads_do_not_grow_with_the_steps(monkeypatch):
    # With deferred checks, an explanation reads back a fixed number of values plus one
    # per check_every steps, whatever the number of rows.
    X, module = _explain_data()
    monkeypatch.setitem(_base.CHECK_EVERY, "cpu", 10)
    reads = {}
    for steps, n in ((20, 100), (80, 100), (80, 300)):
        explainer = CounterfactualExplainer(module, generator="generic", max_steps=steps,
                                            decision_threshold=0.999999,
                                            random_state=0).fit(X)
        with HostSyncCounter() as counter:
            explainer.explain(X[:n])
        reads[steps, n] = counter.syncs
    assert reads[80, 100] - reads[20, 100] == 6
    assert reads[80, 300] == reads[80, 100]


def _explainer_models():
    X, module = _explain_data()
    y = module(torch.as_tensor(X, dtype=torch.float32)).argmax(dim=1).numpy()
    clf = CTClassifier(objective="vanilla", hidden_layer_sizes=(16,), max_epochs=3,
                       random_state=0).fit(X.astype(np.float32), y)
    return X, {"module": module, "CTClassifier": FrozenEstimator(clf)}


def _host_rows(self, Z, Zt, todo, k):
    # The explainer before its factuals stayed on the device: the searched rows are
    # taken on the host and copied to the device by the generator.
    return Z[todo]


@pytest.mark.parametrize("model", ["module", "CTClassifier"])
@pytest.mark.parametrize("params", [
    dict(generator="generic"),
    dict(generator="ecco", target="random", n_per_row=3, mutability={0: "increase"}),
    dict(generator="revise", target=1, max_steps=20),
])
@pytest.mark.parametrize("check_every", [1, 8])
def test_explainer_keeps_its_factuals_on_the_device(monkeypatch, model, params,
                                                    check_every):
    # The factuals are copied to the device once, for their probabilities and the search;
    # the search's inputs go in one more copy and its results come back in one transfer.
    # Results are exactly those of the host path (the searched rows taken on the host).
    X, models = _explainer_models()
    monkeypatch.setitem(_base.CHECK_EVERY, "cpu", check_every)
    explainer = CounterfactualExplainer(models[model], max_steps=params.pop("max_steps", 40),
                                        decision_threshold=0.8, random_state=0,
                                        **params).fit(X)
    explainer.explain(X[:5])  # generators may keep constants on the device after a call
    with HostSyncCounter() as device:
        result = explainer.explain(X, return_path=True)
    with monkeypatch.context() as m:
        m.setattr(CounterfactualExplainer, "_search_rows", _host_rows)
        with HostSyncCounter() as host:
            expected = explainer.explain(X, return_path=True)
    for key in expected:
        np.testing.assert_array_equal(np.asarray(result[key]), np.asarray(expected[key]),
                                      err_msg=key)
    k = explainer.n_per_row
    searched = int((~result.already_target).sum()) * k
    assert searched
    # When some rows are already at their target, the device path sends the indices of
    # the searched rows instead of the rows themselves.
    index = searched < X.shape[0] * k
    assert device.uploads == host.uploads + index
    assert (host.bytes["upload"] - device.bytes["upload"]
            == searched * X.shape[1] * 8 - index * searched * 8)
    # Copies back: the factuals' logits, the search's results, the counterfactuals'
    # logits, and the path (requested).
    assert device.counts["cpu"] == host.counts["cpu"] == 4
    assert device.bytes["download"] == host.bytes["download"]


def test_deferred_search_regathers_without_host_reads():
    # Rows stop over many steps, so the working copies are re-gathered several times: the
    # eager search reads their indices back each time, the deferred one only reads its
    # count of stopped rows every check_every steps.
    module = _mlp()
    x, target, gen, kw = _case("generic")
    counts = {}
    for k in (1, 8):
        with HostSyncCounter() as counter:
            res = search_counterfactuals(module, x, target, gen, check_every=k, **kw)
        counts[k] = counter.counts
    assert len(torch.unique(res.n_iter)) > 8
    assert counts[1]["nonzero"] > 0
    assert counts[8]["nonzero"] == 0
    assert counts[8]["__int__"] == -(-kw["max_steps"] // 8)


@pytest.mark.parametrize("return_path", [False, True])
def test_generate_reads_its_results_back_in_one_transfer(return_path):
    # Arrays in: one copy to the device (factuals, targets, bounds and masks together)
    # and one back (every per-row field); factuals given as a float64 tensor on the
    # model's device are not copied again, and give the same arrays.
    model = resolve_model(_mlp(dtype=torch.float32))
    x, target, gen, kw = _case("constraints")
    kw.update(return_path=return_path)
    arrays = {key: v.numpy() if torch.is_tensor(v) else v for key, v in kw.items()}
    with HostSyncCounter() as host:
        expected = gen.generate(model, x.numpy(), target.numpy(), **arrays)
    with HostSyncCounter() as device:
        result = gen.generate(model, model.upload(x), target.numpy(), **arrays)
    for name in FIELDS:
        a, b = getattr(expected, name), getattr(result, name)
        assert type(a) is type(b), name
        if a is not None:
            assert a.dtype == b.dtype, name
            np.testing.assert_array_equal(b, a, err_msg=name)
    assert host.uploads == device.uploads == 1
    assert host.bytes["upload"] - device.bytes["upload"] == x.numel() * 8
    assert host.counts["cpu"] == device.counts["cpu"] == 1 + return_path


def test_model_probabilities_of_an_uploaded_batch():
    X, models = _explainer_models()
    for estimator in models.values():
        model = resolve_model(estimator)
        with HostSyncCounter() as counter:
            Zt = model.upload(X)
            proba = model.proba(Zt)
        np.testing.assert_array_equal(proba, model.proba(X))
        assert counter.uploads == 1 and counter.counts["cpu"] == 1
        assert model.upload(Zt) is Zt


def _ct(device="cpu", **params):
    # The reference's schedule (a CT step in every batch, a new pool every epoch), so that
    # the counts below are those of CT steps, not of the conventionally trained twin.
    params = {"max_epochs": 3, "batch_size": 32, **REFERENCE_PARAMS, **params}
    return CTClassifier(hidden_layer_sizes=(16,), n_counterfactuals=64, max_steps=10,
                        random_state=0, device=device, **params)


def test_training_reads_once_per_batch(monkeypatch):
    # The CT step reads its loss and every per-batch record back in one transfer; skorch
    # then reads the loss from the step's host copy (a CPU tensor on every device). The
    # per-epoch search reads a fixed number of values with deferred checks, so the
    # difference between two batch sizes is the per-batch count.
    monkeypatch.setitem(_base.CHECK_EVERY, "cpu", 10**6)
    rng = np.random.RandomState(0)
    X = rng.randn(256, 3).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    counts = {}
    for batch_size in (32, 64):
        with HostSyncCounter() as counter:
            model = _ct(batch_size=batch_size).fit(X, y)
        counts[batch_size] = counter.counts
        assert len(model.history_) == 3
    extra_batches = 3 * (256 // 32 - 256 // 64)
    per_batch = {key: (counts[32][key] - counts[64][key]) / extra_batches
                 for key in counts[32] | counts[64]}
    assert {key: v for key, v in per_batch.items() if v} == {"tolist": 1, "item": 1}


@cuda
def test_explainer_on_cuda_matches_the_cpu():
    X, module = _explain_data()
    kw = dict(generator="ecco", max_steps=60, decision_threshold=0.8, random_state=0)
    cpu = CounterfactualExplainer(module, **kw).fit(X).explain(X)
    gpu_module = _mlp(5, 3, seed=3, dtype=torch.float32).cuda()
    gpu = CounterfactualExplainer(gpu_module, **kw).fit(X).explain(X)
    again = CounterfactualExplainer(gpu_module, **kw).fit(X).explain(X)
    np.testing.assert_allclose(gpu.counterfactuals, cpu.counterfactuals, atol=1e-4)
    assert (gpu.valid == cpu.valid).mean() > 0.98
    for key in gpu:  # deterministic on the device
        np.testing.assert_array_equal(np.asarray(gpu[key]), np.asarray(again[key]))


@cuda
def test_training_on_cuda_matches_the_cpu():
    rng = np.random.RandomState(0)
    X = rng.randn(256, 3).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    cpu = _ct().fit(X, y)
    gpu = _ct("cuda").fit(X, y)
    again = _ct("cuda").fit(X, y)
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), atol=1e-3)
    np.testing.assert_array_equal(gpu.predict_proba(X), again.predict_proba(X))
