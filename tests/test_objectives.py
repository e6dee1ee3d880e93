"""The alternatives CT is compared with: JEM (SGLD), PGD adversarial training, ECCCo.

Each is checked against an independent truth: the SGLD step against a gradient written by
hand, the replay buffer's restarts against their rate, PGD against FGSM and the L-inf ball,
PGD training against the robustness of plain training, and the conformal penalty and sets
against brute-force computations and the coverage guarantee.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import inspect
import math
import pickle

import joblib
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import make_blobs, make_circles, make_moons
from sklearn.frozen import FrozenEstimator
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from sklearn_ct import MLP, CTClassifier, CounterfactualExplainer
from sklearn_ct._sampling import (
    PGDExamples,
    ReplayBuffer,
    SGLDSampling,
    _input_grad,
    pgd_examples,
    sgld_sample,
    sgld_step,
)
from sklearn_ct.generators import (
    ECCCoGenerator,
    ECCoGenerator,
    conformal_quantile,
    smooth_set_size,
)
from sklearn_ct.metrics import fgsm_attack, robust_accuracy

FAST = dict(max_epochs=4, batch_size=16, lr=0.02, random_state=0)


# -- a tiny model with a gradient written by hand -----------------------------------------

W1 = np.array([[0.8, -0.5], [0.3, 0.9], [-0.7, 0.2]])
B1 = np.array([0.1, -0.2, 0.05])
W2 = np.array([[1.2, -0.4, 0.6], [-0.9, 0.7, 0.3]])
B2 = np.array([0.0, 0.1])


def _tiny_module():
    """``f(x) = W2 tanh(W1 x + b1) + b2`` (2 features, 2 classes) in float64."""
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(),
                                 torch.nn.Linear(3, 2)).double()
    with torch.no_grad():
        for layer, w, b in ((module[0], W1, B1), (module[2], W2, B2)):
            layer.weight.copy_(torch.as_tensor(w))
            layer.bias.copy_(torch.as_tensor(b))
    return module


def _hand_grad_logit(x, y):
    """d f_y / d x of the tiny model, by the chain rule in NumPy."""
    h = np.tanh(x @ W1.T + B1)  # (n, 3)
    return ((W2[y] * (1.0 - h**2)) @ W1)  # (n, 2)


# -- SGLD -----------------------------------------------------------------------------------

def test_sgld_step_drift_is_half_the_step_times_the_log_density_gradient():
    module = _tiny_module()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 2))
    y = rng.integers(0, 2, 50)
    step = 0.7
    out = sgld_step(module, torch.as_tensor(x), torch.as_tensor(y), step_size=step,
                    noise_std=0.0)
    # log p(x | y) = logit_y(x) + const, so the drift is step / 2 * d logit_y / dx.
    np.testing.assert_allclose(out.numpy(), x + step / 2 * _hand_grad_logit(x, y),
                               rtol=1e-12, atol=1e-12)


def test_sgld_step_noise_has_the_given_std_and_bounds_hold():
    module = _tiny_module()
    n = 20000
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 2))
    y = rng.integers(0, 2, n)
    std = 0.3
    gen = torch.Generator().manual_seed(0)
    out = sgld_step(module, torch.as_tensor(x), torch.as_tensor(y), step_size=1.0,
                    noise_std=std, generator=gen).numpy()
    z = (out - x - 0.5 * _hand_grad_logit(x, y)) / std  # should be N(0, 1), independent
    assert abs(z.mean()) < 4 / math.sqrt(2 * n)
    assert abs(z.std() - 1.0) < 0.02
    assert abs(np.corrcoef(z[:, 0], z[:, 1])[0, 1]) < 0.03
    low = torch.full((2,), -0.5, dtype=torch.float64)
    high = torch.full((2,), 0.5, dtype=torch.float64)
    bounded = sgld_step(module, torch.as_tensor(x), torch.as_tensor(y), noise_std=std,
                        lower=low, upper=high, generator=gen).numpy()
    assert bounded.min() >= -0.5 and bounded.max() <= 0.5


def test_sgld_chain_is_repeated_steps_and_leaves_the_model_alone():
    module = _tiny_module().train()
    x = torch.randn(8, 2, dtype=torch.float64)
    y = torch.tensor([0, 1] * 4)
    chain = sgld_sample(module, x, y, n_steps=3, step_size=0.5, noise_std=0.1,
                        generator=torch.Generator().manual_seed(3))
    gen = torch.Generator().manual_seed(3)
    manual = x
    for _ in range(3):
        manual = sgld_step(module, manual, y, step_size=0.5, noise_std=0.1, generator=gen)
    torch.testing.assert_close(chain, manual, rtol=0, atol=0)
    assert module.training  # mode restored
    assert all(p.grad is None for p in module.parameters())


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "gelu"])
def test_closed_form_input_gradient_of_the_mlp_matches_autograd(activation):
    # SGLD and PGD use a hand-written vector-Jacobian product for the default MLP.
    module = MLP(3, 4, hidden_layer_sizes=(5, 6), activation=activation, dropout=0.2).eval()
    x = torch.randn(7, 3)
    weight = torch.randn(7, 4)
    got = _input_grad(module, x, lambda logits: weight)
    xr = x.clone().requires_grad_(True)
    (want,) = torch.autograd.grad((module(xr) * weight).sum(), xr)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_replay_buffer_reinitialises_at_the_given_rate_uniformly_in_the_box():
    low = torch.tensor([-1.0, 2.0])
    high = torch.tensor([1.0, 5.0])
    buf = ReplayBuffer(1000, 3, low, high, reinit_rate=0.05,
                       generator=torch.Generator().manual_seed(0))
    # Initialisation: uniform in the box, classes balanced round-robin.
    assert (buf.samples >= low).all() and (buf.samples <= high).all()
    np.testing.assert_allclose(buf.samples.mean(0).numpy(), [0.0, 3.5], atol=0.1)
    assert np.bincount(buf.classes.numpy()).tolist() == [334, 333, 333]
    # Chains written back far outside the box tell restarted from kept chains.
    buf.samples[:] = 100.0
    n = 200000
    x, target, index, reinit = buf.draw(n)
    rate = reinit.float().mean().item()
    assert abs(rate - 0.05) < 4 * math.sqrt(0.05 * 0.95 / n)
    assert torch.equal(x[~reinit], buf.samples[index[~reinit]])
    fresh = x[reinit]
    assert (fresh >= low).all() and (fresh <= high).all()
    # Uniform: mean and variance of U(low, high).
    np.testing.assert_allclose(fresh.mean(0).numpy(), [0.0, 3.5], atol=0.02)
    np.testing.assert_allclose(fresh.var(0).numpy(), [4 / 12, 9 / 12], rtol=0.05)
    assert torch.equal(target, buf.classes[index])
    buf.update(index[:5], torch.zeros(5, 2))
    assert (buf.samples[index[:5]] == 0).all()


def test_jem_objective_records_sgld_statistics_and_trains(blobs):
    X, y = blobs
    # No burn-in: every epoch samples, so every epoch records its SGLD statistics.
    clf = CTClassifier(objective="jem", sgld_steps=5, sgld_buffer_size=500, burnin=0.0,
                       **FAST).fit(X, y)
    h = clf.history_
    assert all(np.isfinite(h[:, "sgld_energy"]))
    assert all(t > 0 for t in h[:, "sgld_time"])
    # Over the epochs, restarts happen at the requested rate (15 batches of 16 per epoch).
    n_chains = len(X) * len(h)
    rate = np.mean(h[:, "sgld_reinit"])
    assert abs(rate - 0.05) < 4 * math.sqrt(0.05 * 0.95 / n_chains)
    # Energy terms only, no adversarial term, no counterfactual search.
    last = h[-1]
    assert last["loss_div"] != 0 and last["loss_reg"] != 0 and last["loss_adv"] == 0
    assert "cf_mature" not in last
    assert clf.score(X, y) > 0.8
    # The buffer and the training data are not kept in the fitted model.
    cb = dict(clf.net_.callbacks_)["jem"]
    assert cb.buffer_ is None and cb.X_ is None
    no_reinit = CTClassifier(objective="jem", sgld_steps=2, sgld_reinit_rate=0.0,
                             sgld_buffer_size=100, burnin=0.0, **FAST).fit(X, y)
    assert all(r == 0 for r in no_reinit.history_[:, "sgld_reinit"])


def test_jem_negatives_follow_the_model_density(blobs):
    # SGLD moves the negatives to where the model assigns their class a high logit: the
    # energy of the samples falls below that of their uniform starting points.
    X, y = blobs
    clf = CTClassifier(objective="vanilla", **{**FAST, "max_epochs": 10}).fit(X, y)
    module = clf.net_.module_
    low = torch.as_tensor(X.min(0), dtype=torch.float32)
    high = torch.as_tensor(X.max(0), dtype=torch.float32)
    buf = ReplayBuffer(300, 3, low, high, generator=torch.Generator().manual_seed(0))
    x0, target, _, _ = buf.draw(300)
    x = sgld_sample(module, x0, target, lower=low, upper=high,
                    generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        e0 = -module(x0).gather(1, target[:, None]).mean()
        e1 = -module(x).gather(1, target[:, None]).mean()
    assert e1 < e0 - 1.0


# -- PGD ------------------------------------------------------------------------------------

def _moons_model():
    X, y = make_moons(300, noise=0.1, random_state=0)
    clf = CTClassifier(objective="vanilla", max_epochs=30, lr=0.01, random_state=0).fit(X, y)
    return clf, X.astype(np.float32), y


def test_pgd_examples_stay_in_the_ball_and_beat_fgsm():
    clf, X, y = _moons_model()
    module = clf.net_.module_
    x, yt = torch.as_tensor(X), torch.as_tensor(y)
    eps = 0.2
    x_adv = pgd_examples(module, x, yt, epsilon=eps, n_steps=10,
                         generator=torch.Generator().manual_seed(0))
    assert (x_adv - x).abs().max().item() <= eps + 1e-6
    x_fgsm = torch.as_tensor(fgsm_attack(clf, X, y, epsilon=eps), dtype=torch.float32)
    with torch.no_grad():
        loss_pgd = F.cross_entropy(module(x_adv), yt, reduction="none")
        loss_fgsm = F.cross_entropy(module(x_fgsm), yt, reduction="none")
        loss_clean = F.cross_entropy(module(x), yt, reduction="none")
    assert loss_pgd.mean() >= loss_fgsm.mean()
    assert loss_fgsm.mean() > loss_clean.mean()
    # Row by row, PGD (iterated, projected) is at least as strong as FGSM on most rows.
    assert (loss_pgd >= loss_fgsm - 1e-4).float().mean() > 0.9
    # The domain clamp keeps the examples in the box as well.
    low = x.min(0).values
    high = x.max(0).values
    boxed = pgd_examples(module, x, yt, epsilon=eps, lower=low, upper=high,
                         generator=torch.Generator().manual_seed(0))
    assert (boxed >= low).all() and (boxed <= high).all()
    assert (boxed - x).abs().max().item() <= eps + 1e-6


def test_pgd_on_a_linear_model_reaches_the_fgsm_corner():
    # For a linear binary model the loss is monotone in a linear function of x: FGSM's
    # corner of the ball is the exact maximiser, and PGD must reach it on every row.
    module = torch.nn.Linear(2, 2)
    with torch.no_grad():
        module.weight.copy_(torch.tensor([[1.0, -2.0], [-1.0, 2.0]]))
        module.bias.zero_()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2)).astype(np.float32)
    y = rng.integers(0, 2, 100)
    x_adv = pgd_examples(module, torch.as_tensor(X), torch.as_tensor(y), epsilon=0.1,
                         n_steps=10, generator=torch.Generator().manual_seed(0))
    x_fgsm = fgsm_attack(module, X, y, epsilon=0.1)
    np.testing.assert_allclose(x_adv.numpy(), x_fgsm, atol=1e-5)


def test_pgd_objective_trains_on_batch_attacks(binary):
    X, y = binary
    clf = CTClassifier(objective="pgd", adversarial_epsilon=0.1, pgd_steps=3, **FAST)
    clf.fit(X, y)
    last = clf.history_[-1]
    assert last["loss_adv"] > 0 and last["loss_div"] == 0 and last["loss_reg"] == 0
    assert last["pgd_time"] > 0
    # Every mini-batch gets the attacks of its own rows, labelled with their labels.
    seen = []

    class Spy(PGDExamples):
        def make_chunk(self, net, Xi, yi):
            chunk = super().make_chunk(net, Xi, yi)
            seen.append((Xi.clone(), yi.clone(), chunk["x_ae"].clone(), chunk["y_ae"]))
            return chunk

    spy = Spy(0.1, n_steps=3)
    spy.on_train_begin(clf.net_, X=X.astype(np.float32), y=y)
    spy.on_epoch_begin(clf.net_)
    xb = torch.as_tensor(X[:16], dtype=torch.float32)
    yb = torch.as_tensor(y[:16])
    spy.on_batch_begin(clf.net_, batch=(xb, yb), training=True)
    xi, yi, x_ae, y_ae = seen[0]
    assert torch.equal(y_ae, yi)
    assert (x_ae - xi).abs().max() <= 0.1 + 1e-6
    spy.on_batch_end(clf.net_)
    assert clf.net_.cf_batch_ is None


@pytest.mark.slow
@pytest.mark.parametrize("make", [
    lambda s: make_moons(300, noise=0.1, random_state=s),
    lambda s: make_circles(300, noise=0.1, factor=0.3, random_state=s),
], ids=["moons", "circles"])
def test_pgd_training_is_more_robust_than_vanilla(make):
    X, y = make(0)
    X_test, y_test = make(1)
    eps = 0.3
    params = dict(max_epochs=50, lr=0.01, adversarial_epsilon=eps, pgd_steps=5,
                  random_state=0)
    robust = {}
    for objective in ("vanilla", "pgd"):
        clf = CTClassifier(objective=objective, **params).fit(X, y)
        assert clf.score(X_test, y_test) > 0.95
        robust[objective] = robust_accuracy(clf, X_test, y_test, attack="pgd", epsilon=eps,
                                            random_state=0)
    assert robust["pgd"] > robust["vanilla"] + 0.03, robust


# -- determinism and validation -------------------------------------------------------------

@pytest.mark.parametrize("objective", ["jem", "pgd"])
def test_sampled_objectives_are_deterministic_and_leave_global_rngs(blobs, objective):
    X, y = blobs
    params = dict(objective=objective, sgld_steps=3, sgld_buffer_size=200, pgd_steps=3,
                  **FAST)
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = CTClassifier(**params).fit(X, y)
    b = CTClassifier(**params).fit(X, y)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.history_[:, "train_loss"], b.history_[:, "train_loss"])
    c = CTClassifier(**{**params, "random_state": 1}).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


@pytest.mark.parametrize("objective", ["jem", "pgd"])
def test_sampled_objectives_keep_seeds_not_generators(blobs, objective):
    # Like the network's shuffle_seed: a fitted model holds the samplers' seed, no
    # torch.Generator, so that it pickles and hashes the same from call to call.
    X, y = blobs
    clf = CTClassifier(objective=objective, sgld_steps=3, sgld_buffer_size=200, pgd_steps=3,
                       **FAST).fit(X, y)
    sampler = dict(clf.net_.callbacks_)[objective]
    assert isinstance(sampler.random_state, int)
    assert not any(isinstance(v, torch.Generator) for v in vars(sampler).values())
    assert clf.net_.shuffle_seed is not None
    assert len({joblib.hash(clf) for _ in range(3)}) == 1
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    # A refit draws the same samples again (a new generator from the same seed).
    np.testing.assert_array_equal(clf.fit(X, y).predict_proba(X), restored.predict_proba(X))


class _FailInSecondEpoch(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            raise RuntimeError("the second epoch failed")


@pytest.mark.parametrize("objective", ["jem", "pgd", "ecco_conformal"])
def test_failed_fit_of_a_new_objective_leaves_the_model_untouched(blobs, objective):
    X, y = blobs
    params = ({"generator": "ecco_conformal"} if objective == "ecco_conformal"
              else {"objective": objective})
    clf = CTClassifier(sgld_steps=3, sgld_buffer_size=200, pgd_steps=3, **params,
                       **FAST).fit(X, y)
    before = clf.predict_proba(X)
    attrs = {k: v for k, v in vars(clf).items() if k.endswith("_")}
    # A refit on other data that fails in its second epoch, once the samplers (or ECCCo's
    # calibration) have run on the new data.
    with pytest.raises(RuntimeError, match="second epoch"):
        clf.set_params(callbacks=[_FailInSecondEpoch()]).fit(X + 1, y)
    assert {k: v for k, v in vars(clf).items() if k.endswith("_")}.keys() == attrs.keys()
    assert all(vars(clf)[k] is v for k, v in attrs.items())
    np.testing.assert_array_equal(clf.predict_proba(X), before)


@pytest.mark.parametrize("params", [
    dict(objective="sgld"), dict(sgld_steps=0), dict(sgld_step_size=0.0),
    dict(sgld_noise_std=-0.1), dict(sgld_buffer_size=0), dict(sgld_reinit_rate=1.5),
    dict(pgd_steps=0), dict(pgd_step_size=0.0), dict(pgd_step_size="auto"),
    dict(generator="eccco"),
])
def test_bad_objective_parameters_raise(binary, params):
    X, y = binary
    with pytest.raises(InvalidParameterError):
        CTClassifier(**params).fit(X, y)


@pytest.mark.parametrize("params", [
    dict(coverage=1.0), dict(coverage=0.0), dict(temperature=0.0), dict(kappa=-1.0),
    dict(lambda_conformal=-1.0), dict(calibration_size=0.0), dict(calibration_size=1.5),
])
def test_bad_eccco_parameters_raise(binary, params):
    X, y = binary
    with pytest.raises(InvalidParameterError):
        ECCCoGenerator(**params).fit(X, y)


def test_burnin_delays_the_samplers(binary):
    X, y = binary
    for objective, key in (("jem", "sgld_energy"), ("pgd", "pgd_time")):
        clf = CTClassifier(objective=objective, burnin=0.5, sgld_steps=2,
                           sgld_buffer_size=100, pgd_steps=2, **FAST).fit(X, y)
        values = clf.history_[:, key]
        assert values[:2] == [None, None] and all(v is not None for v in values[2:])
        assert clf.history_[0, "loss_adv"] == 0 and clf.history_[0, "loss_div"] == 0


def test_sampler_callbacks_accept_any_keyword():
    for cls in (SGLDSampling, PGDExamples):
        for name, method in inspect.getmembers(cls, inspect.isfunction):
            if name.startswith("on_"):
                params = inspect.signature(method).parameters.values()
                assert any(p.kind is p.VAR_KEYWORD for p in params), (cls, name)


# -- ECCCo ----------------------------------------------------------------------------------

def test_conformal_quantile_is_the_finite_sample_rank():
    scores = [0.3, 0.1, 0.7, 0.2, 0.9, 0.5, 0.4, 0.8, 0.6]  # n = 9
    # ceil((9 + 1) * 0.8) = 8th smallest of 0.1 ... 0.9.
    assert conformal_quantile(scores, 0.8) == pytest.approx(0.8)
    assert conformal_quantile(scores, 0.5) == pytest.approx(0.5)
    # Rank 10 > n: every label belongs to every set.
    assert conformal_quantile(scores, 0.95) == 1.0


def test_conformal_penalty_equals_brute_force_smooth_set_size():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [-1.0, 3.0, 0.0],
                           [0.0, 0.0, 4.0]], dtype=torch.float64)
    target = torch.tensor([0, 2, 1, 0])
    q_hat, temp, kappa = 0.55, 0.1, 1.0
    gen = ECCCoGenerator(temperature=temp, kappa=kappa)
    expected = []
    for row, t in zip(logits.tolist(), target.tolist()):
        exps = [math.exp(v) for v in row]
        proba = [e / sum(exps) for e in exps]
        size = sum(1.0 / (1.0 + math.exp(-(q_hat - (1.0 - p)) / temp)) for p in proba)
        expected.append(max(0.0, size - kappa) if proba[t] >= 0.5 else 0.0)
    got = gen.set_size_penalty(logits, target, q_hat)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    assert expected[0] > 0 and expected[1] == 0  # row 1 has not reached its target yet
    sizes = smooth_set_size(F.softmax(logits, 1), q_hat, temp)
    assert sizes.shape == (4,)
    # With a tiny temperature the smooth size tends to the hard set size.
    hard = ((1 - F.softmax(logits, 1)) <= q_hat).sum(1).double()
    torch.testing.assert_close(smooth_set_size(F.softmax(logits, 1), q_hat, 1e-6), hard)


def test_eccco_penalty_in_the_search_is_ecco_plus_the_weighted_set_size():
    clf, X, y = _moons_model()
    module = clf.net_.module_
    gen = ECCCoGenerator(lambda_conformal=2.0, random_state=0).fit(X, y)
    ecco = ECCoGenerator()
    q_hat = gen.calibrate(module)
    logits = module(torch.as_tensor(X[:20]))
    target = 1 - torch.as_tensor(y[:20])
    x = torch.as_tensor(X[:20])
    gen._q_hat = q_hat  # as generate() sets it for the duration of a search
    got = gen.penalty(logits, target, x + 0.1, x, 3, 30)
    del gen._q_hat
    want = (ecco.penalty(logits, target, x + 0.1, x, 3, 30)
            + 2.0 * gen.set_size_penalty(logits, target, q_hat))
    torch.testing.assert_close(got, want)
    with pytest.raises(RuntimeError, match="generate"):
        gen.penalty(logits, target, x, x, 0, 30)
    # Without the conformal term, the search is ECCo's.
    plain = ECCCoGenerator(lambda_conformal=0.0, random_state=0).fit(X, y)
    a = plain.generate(module, x, target, max_steps=20, decision_threshold=0.9)
    b = ecco.generate(module, x, target, max_steps=20, decision_threshold=0.9)
    torch.testing.assert_close(a.counterfactuals, b.counterfactuals)


def test_calibrated_sets_reach_the_requested_coverage_on_held_out_data():
    # A deliberately imperfect model on overlapping classes, so that sets vary in size.
    X, y = make_blobs(3000, centers=3, cluster_std=2.5, random_state=0)
    clf = CTClassifier(objective="vanilla", max_epochs=5, random_state=0).fit(X[:600],
                                                                             y[:600])
    rng = np.random.default_rng(0)
    pool_X, pool_y = X[600:], y[600:]
    for coverage in (0.8, 0.95):
        covered, sizes = [], []
        for rep in range(20):
            perm = rng.permutation(len(pool_y))
            cal, test = perm[:400], perm[400:]
            gen = ECCCoGenerator(coverage=coverage, calibration_size=0.999, random_state=rep)
            gen.fit(pool_X[cal], pool_y[cal])
            sets = gen.prediction_sets(clf, pool_X[test])
            covered.append(sets[np.arange(len(test)), pool_y[test]].mean())
            sizes.append(sets.sum(1).mean())
        # Split conformal: coverage >= 1 - alpha in expectation, and at most
        # 1 - alpha + 1 / (n + 1) (continuous scores); allow for the 20-split noise.
        assert np.mean(covered) >= coverage - 0.01, (coverage, np.mean(covered))
        assert np.mean(covered) <= coverage + 1 / 400 + 0.01
        assert 1.0 < np.mean(sizes) < 3.0


def test_eccco_holds_out_its_calibration_rows_in_training(binary):
    X, y = binary  # 200 rows
    clf = CTClassifier(generator="ecco_conformal", **FAST).fit(X, y)
    cal = clf.generator_.calibration_rows_
    assert len(cal) == 40  # 20 % of the rows
    assert np.bincount(y[cal]).tolist() == [20, 20]  # stratified
    rows_per_epoch = sum(b["train_batch_size"] for b in clf.history_[-1]["batches"])
    assert rows_per_epoch == 160
    again = CTClassifier(generator="ecco_conformal", **FAST).fit(X, y)
    np.testing.assert_array_equal(again.generator_.calibration_rows_, cal)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    # Other generators (and objectives without counterfactuals) train on every row.
    plain = CTClassifier(**FAST).fit(X, y)
    assert sum(b["train_batch_size"] for b in plain.history_[-1]["batches"]) == 200
    vanilla = CTClassifier(objective="vanilla", generator="ecco_conformal", **FAST).fit(X, y)
    assert sum(b["train_batch_size"] for b in vanilla.history_[-1]["batches"]) == 200


def test_eccco_in_the_explainer(binary):
    X, y = binary
    clf = CTClassifier(objective="vanilla", **FAST).fit(X[:100], y[:100])
    explainer = CounterfactualExplainer(FrozenEstimator(clf), generator="ecco_conformal",
                                        decision_threshold=0.9, random_state=0)
    explainer.fit(X[100:], y[100:])
    result = explainer.explain(X[:20])
    assert result.valid.mean() >= 0.9
    with pytest.raises(ValueError, match="requires y"):
        CounterfactualExplainer(FrozenEstimator(clf), generator="ecco_conformal").fit(X)
