"""CTClassifier: the CT training loop, its semantics, determinism and input checks."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from torch.utils.data import DataLoader, TensorDataset

from sklearn_ct import MLP, CTClassifier, NonFiniteLossWarning

FAST = dict(max_epochs=5, batch_size=16, lr=0.02, max_steps=20, random_state=0)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(240, centers=3, cluster_std=1.5, random_state=3)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def binary():
    X, y = make_blobs(200, centers=2, cluster_std=2.0, random_state=1)
    return StandardScaler().fit_transform(X), y


def _pool(clf):
    return dict(clf.net_.callbacks_)["counterfactuals"].last_pool_


def _weights(clf):
    return [p.detach().clone() for p in clf.net_.module_.parameters()]


# -- the loss --------------------------------------------------------------------------------

def test_training_step_loss_matches_hand_computation(binary):
    X, y = binary
    clf = CTClassifier(max_epochs=1, lambda_div=0.7, lambda_reg=0.3, lambda_adv=0.2,
                       random_state=0).fit(X, y)
    net = clf.net_
    g = torch.Generator().manual_seed(0)
    xb = torch.randn(8, 2, generator=g)
    yb = torch.randint(0, 2, (8,), generator=g)
    chunk = {
        "x_pos": torch.randn(5, 2, generator=g),
        "x_cf": torch.randn(5, 2, generator=g),
        "x_ae": torch.randn(5, 2, generator=g),
        "target": torch.tensor([0, 1, 1, 0, 1]),
        "y_ae": torch.tensor([1, 0, 0, 1, 1]),
    }
    with torch.no_grad():
        f = lambda x: net.module_(x).numpy().astype(np.float64)  # noqa: E731
        lb, lp, lc, la = f(xb), f(chunk["x_pos"]), f(chunk["x_cf"]), f(chunk["x_ae"])

    def ce(logits, labels):
        z = logits - logits.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        return -logp[np.arange(len(labels)), labels].mean()

    t = chunk["target"].numpy()
    e_pos = -lp[np.arange(5), t]
    e_cf = -lc[np.arange(5), t]
    expected = (ce(lb, yb.numpy()) + 0.7 * np.mean(e_pos - e_cf)
                + 0.3 * np.mean(e_pos**2 + e_cf**2) + 0.2 * ce(la, chunk["y_ae"].numpy()))
    net.cf_batch_ = chunk
    step = net.train_step_single((xb, yb))
    net.cf_batch_ = None
    assert step["loss"].item() == pytest.approx(expected, rel=1e-5)
    assert step["loss_div"].item() == pytest.approx(np.mean(e_pos - e_cf), rel=1e-5)


@pytest.mark.parametrize("lambdas", [
    (0.7, 0.3, 0.2), (0.5, 0.0, 0.0), (0.0, 0.3, 0.0), (0.0, 0.0, 0.4), (0.5, 0.1, 0.0),
])
def test_closed_form_gradient_matches_autograd(blobs, lambdas):
    # The default criterion takes the closed-form gradient of the CT loss; any other
    # criterion (here a trivial subclass) differentiates the _losses terms with autograd.
    X, y = blobs
    net = CTClassifier(max_epochs=1, random_state=0).fit(X, y).net_
    net.lambda_div, net.lambda_reg, net.lambda_adv = lambdas
    g = torch.Generator().manual_seed(1)
    batch = (torch.randn(9, 2, generator=g), torch.randint(0, 3, (9,), generator=g))
    chunk = {
        "x_pos": torch.randn(4, 2, generator=g),
        "x_cf": torch.randn(4, 2, generator=g),
        "x_ae": torch.randn(4, 2, generator=g),
        "target": torch.randint(0, 3, (4,), generator=g),
        "y_ae": torch.randint(0, 3, (4,), generator=g),
    }

    class _Criterion(torch.nn.CrossEntropyLoss):
        pass

    out = []
    for criterion in (net.criterion_, _Criterion()):
        net.criterion_ = criterion
        net.cf_batch_ = chunk
        net._zero_grad_optimizer()
        step = net.train_step_single(batch)
        out.append((step, [p.grad.clone() for p in net.module_.parameters()]))
    net.cf_batch_ = None
    (closed, g_closed), (auto, g_auto) = out
    for key in ("loss", "loss_class", "loss_div", "loss_reg", "loss_adv"):
        assert closed[key].item() == pytest.approx(auto[key].item(), rel=1e-5, abs=1e-7), key
    for a, b in zip(g_closed, g_auto):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert torch.equal(closed["y_pred"], auto["y_pred"].detach())


def test_non_finite_loss_skips_the_update(binary):
    X, y = binary
    clf = CTClassifier(max_epochs=1, random_state=0).fit(X, y)
    net = clf.net_
    before = _weights(clf)
    bad = torch.full((2, 2), float("inf"))
    net.cf_batch_ = {"x_pos": bad, "x_cf": -bad, "x_ae": bad, "target": torch.tensor([0, 1]),
                     "y_ae": torch.tensor([0, 1])}
    batch = (torch.zeros(4, 2), torch.tensor([0, 1, 0, 1]))
    with pytest.warns(NonFiniteLossWarning, match="skipped"):
        step = net.train_step(batch)
    net.cf_batch_ = None
    assert not torch.isfinite(step["loss"])
    for a, b in zip(before, _weights(clf)):
        assert torch.equal(a, b)
    # ...and a finite step does update.
    net.train_step(batch)
    assert any(not torch.equal(a, b) for a, b in zip(before, _weights(clf)))


def test_all_lambdas_zero_is_plain_training(binary):
    X, y = binary
    params = dict(max_epochs=4, batch_size=32, lr=5e-3, random_state=7)
    zero = CTClassifier(lambda_div=0, lambda_reg=0, lambda_adv=0, **params).fit(X, y)
    vanilla = CTClassifier(objective="vanilla", **params).fit(X, y)
    assert "counterfactuals" not in dict(zero.net_.callbacks_)
    assert "cf_mature" not in zero.history_[-1]
    for a, b in zip(_weights(zero), _weights(vanilla)):
        assert torch.equal(a, b)

    # An independent plain PyTorch loop with the same seeds gives the same weights. The
    # documented shuffling: one torch.randperm per epoch from a generator seeded like the
    # weights, then consecutive batches of that permutation (the last one smaller).
    seed = int(check_random_state(7).randint(np.iinfo(np.int32).max, size=3)[0])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = MLP(2, 2)
        Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)
        g = torch.Generator().manual_seed(seed)
        opt = torch.optim.Adam(module.parameters(), lr=5e-3)
        for _ in range(4):
            for rows in torch.randperm(len(Xt), generator=g).split(32):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(module(Xt[rows]), yt[rows]).backward()
                opt.step()
    for a, b in zip(_weights(zero), module.parameters()):
        torch.testing.assert_close(a, b.detach(), atol=1e-6, rtol=1e-5)


def test_in_memory_batches_match_dataloader(binary):
    from skorch.dataset import Dataset

    X, y = binary
    net = CTClassifier(max_epochs=1, batch_size=32, random_state=0).fit(X, y).net_
    index = np.arange(len(X), dtype=np.float32)[:, None]
    ds = Dataset(index, y)
    # Unshuffled: exactly DataLoader's batches (values, dtypes, sizes; last one smaller).
    ref = DataLoader(TensorDataset(torch.as_tensor(index), torch.as_tensor(y)), batch_size=32)
    got = list(net.get_iterator(ds, training=False))
    assert len(got) == len(ref) == 7
    for (xa, ya), (xb, yb) in zip(got, ref):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    # Shuffled: each epoch is a new permutation of all rows, rows keep their labels.
    it = net.get_iterator(ds, training=True)
    epochs = [torch.cat([xb[:, 0] for xb, _ in it]).long() for _ in range(2)]
    for order in epochs:
        assert torch.equal(order.sort().values, torch.arange(len(X)))
    assert not torch.equal(epochs[0], epochs[1])
    xb, yb = next(iter(it))
    assert np.array_equal(y[xb[:, 0].long().numpy()], yb.numpy())
    # Anything but a plain in-memory Dataset goes through skorch's DataLoader.
    assert isinstance(net.get_iterator(TensorDataset(torch.as_tensor(index))), DataLoader)


@pytest.mark.parametrize("objective, active", [
    ("full", (True, True, True)), ("energy", (True, True, False)),
    ("adversarial", (False, False, True)),
])
def test_objective_switches_terms(binary, objective, active):
    X, y = binary
    clf = CTClassifier(objective=objective, **FAST).fit(X, y)
    h = clf.history_[-1]
    for key, on in zip(("loss_div", "loss_reg", "loss_adv"), active):
        assert (h[key] != 0) == on, key
    assert h["cf_mature"] is not None  # the adversarial-only variant still needs counterfactuals


# -- the per-epoch pool ----------------------------------------------------------------------

def test_pool_semantics_multiclass(blobs):
    X, y = blobs
    eps = 0.2
    clf = CTClassifier(n_counterfactuals=150, adversarial_epsilon=eps, max_epochs=4, lr=0.02,
                       decision_threshold=0.9, max_steps=15, random_state=1).fit(X, y)
    pool = _pool(clf)
    idx = pool["index"].numpy()
    assert len(idx) == 150 and len(np.unique(idx)) == 150  # drawn without replacement
    target, predicted = pool["target"].numpy(), pool["predicted"].numpy()
    assert (target != predicted).all()
    # uniform over the *other* classes: every other class shows up for each prediction
    for c in range(3):
        assert set(target[predicted == c]) <= set(range(3)) - {c}
    assert len(set(zip(predicted, target))) >= 4
    # nascent counterfactuals lie in the epsilon ball, labelled with the true label
    X32 = X.astype(np.float32)
    assert (np.abs(pool["x_ae"].numpy() - X32[idx]).max(axis=1) <= eps + 1e-6).all()
    np.testing.assert_array_equal(pool["y_ae"].numpy(), y[idx])
    # positives are real training rows of the target class (no constraint here)
    x_pos = pool["x_pos"].numpy()
    for row, t in zip(x_pos, target):
        assert np.isclose(X32[y == t], row).all(axis=1).any()
    # immature counterfactuals are replaced by their positive sample
    mature = pool["mature"].numpy()
    assert (~mature).any() and mature.any()
    np.testing.assert_array_equal(pool["x_cf"].numpy()[~mature], x_pos[~mature])
    assert clf.history_[-1, "cf_mature"] == pytest.approx(mature.mean())


def test_pool_protects_immutable_and_monotone_features(binary):
    X, y = binary
    clf = CTClassifier(mutability={0: "none", 1: "increase"}, n_counterfactuals=100,
                       max_epochs=4, lr=0.02, random_state=0).fit(X, y)
    pool = _pool(clf)
    x0 = X.astype(np.float32)[pool["index"].numpy()]
    x_cf, x_pos = pool["x_cf"].numpy(), pool["x_pos"].numpy()
    mature = pool["mature"].numpy()
    assert mature.mean() > 0.5
    np.testing.assert_array_equal(x_cf[mature, 0], x0[mature, 0])  # never moved
    assert (x_cf[mature, 1] >= x0[mature, 1]).all()
    np.testing.assert_array_equal(x_pos[:, 0], x_cf[:, 0])  # point mass: no pull on x0
    assert (x_pos[:, 1] >= x_cf[:, 1]).all()  # never pulled down


def test_n_counterfactuals_at_least_one_per_batch(binary):
    X, y = binary
    clf = CTClassifier(n_counterfactuals=3, batch_size=20, max_epochs=1, random_state=0)
    clf.fit(X, y)
    assert len(_pool(clf)["index"]) == 10  # 200 rows / 20 = 10 mini-batches


def test_burnin_trains_conventionally_first(binary):
    X, y = binary
    clf = CTClassifier(burnin=0.5, max_epochs=4, lr=0.02, batch_size=32, random_state=0).fit(X, y)
    mature = clf.history_[:, "cf_mature"]
    assert mature[:2] == [None, None]
    assert all(m is not None for m in mature[2:])
    assert clf.history_[0, "loss_div"] == 0 and clf.history_[3, "loss_div"] != 0


def test_history_records_every_term(binary):
    X, y = binary
    clf = CTClassifier(validation_fraction=0.2, **FAST).fit(X, y)
    keys = {"train_loss", "train_acc", "loss_class", "loss_div", "loss_reg", "loss_adv",
            "n_skipped", "cf_mature", "cf_iter", "cf_time", "dur", "valid_loss", "valid_acc"}
    assert keys <= set(clf.history_[-1])
    assert clf.n_iter_ == 5
    assert 0 <= clf.history_[-1, "train_acc"] <= 1


# -- determinism -----------------------------------------------------------------------------

def test_same_random_state_same_model_and_counterfactuals(blobs):
    X, y = blobs
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = CTClassifier(**FAST).fit(X, y)
    b = CTClassifier(**FAST).fit(X, y)
    assert torch.equal(torch_state, torch.get_rng_state())  # caller's RNGs untouched
    assert np.array_equal(np_state, np.random.get_state()[1])
    for p, q in zip(_weights(a), _weights(b)):
        assert torch.equal(p, q)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    for key in ("index", "target", "x_cf", "x_pos", "x_ae"):
        assert torch.equal(_pool(a)[key], _pool(b)[key])
    c = CTClassifier(**{**FAST, "random_state": 1}).fit(X, y)
    assert not torch.equal(_pool(a)["index"], _pool(c)["index"])


# -- warm start ------------------------------------------------------------------------------

def test_warm_start_continues_from_fitted_weights(binary):
    X, y = binary
    clf = CTClassifier(objective="vanilla", warm_start=True, **FAST).fit(X, y)
    proba = clf.predict_proba(X)
    # Fine-tuning with CT at a negligible learning rate keeps the trained weights...
    clf.set_params(objective="full", lr=1e-12).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), proba, atol=1e-6)
    assert clf.history_[-1, "cf_mature"] is not None
    # ...while a cold start re-initialises them.
    cold = CTClassifier(objective="full", **{**FAST, "lr": 1e-12, "random_state": 5}).fit(X, y)
    assert np.abs(cold.predict_proba(X) - proba).max() > 1e-3
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X, np.where(y == 1, 2, y))


# -- input checks ----------------------------------------------------------------------------

@pytest.mark.parametrize("params, match", [
    (dict(decision_threshold=1.5), "decision_threshold"),
    (dict(decision_threshold=0.0), "decision_threshold"),
    (dict(max_steps=0), "max_steps"),
    (dict(max_steps=-3), "max_steps"),
    (dict(objective="best"), "objective"),
    (dict(lambda_reg=-1.0), "lambda_reg"),
    (dict(burnin=1.5), "burnin"),
    (dict(mutability={"age": "none"}), "age"),
    (dict(mutability={5: "none"}), "index 5"),
    (dict(mutability={0: "up"}), "direction 'up'"),
    (dict(mutability=["none"]), "one direction per feature"),
    (dict(domain=(1.0, -1.0)), "low > high"),
    (dict(domain={1: (2, 1)}), "low > high"),
    (dict(domain="auto"), "domain"),
    (dict(device="quantum"), "device"),
])
def test_bad_parameters_raise_clear_errors(binary, params, match):
    X, y = binary
    with pytest.raises((ValueError, TypeError), match=match):
        CTClassifier(**{**FAST, **params}).fit(X, y)


def test_bad_data_raises_clear_errors(binary):
    X, y = binary
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        CTClassifier(**FAST).fit(Xn, y)
    Xi = X.copy()
    Xi[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        CTClassifier(**FAST).fit(Xi, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        CTClassifier(**FAST).fit(X, np.zeros(len(y)))
    clf = CTClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(np.hstack([X, X]))
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(Xn)


def test_named_mutability_needs_feature_names(binary):
    X, y = binary
    with pytest.raises(ValueError, match="without feature names"):
        CTClassifier(mutability={"x1": "none"}, **FAST).fit(X, y)


def test_too_many_counterfactuals_are_clipped_with_a_warning(binary):
    X, y = binary
    with pytest.warns(UserWarning, match="larger than the number of training rows"):
        clf = CTClassifier(n_counterfactuals=10_000, **FAST).fit(X, y)
    assert len(_pool(clf)["index"]) == len(X)


def test_default_pool_size_needs_no_warning(binary):
    X, y = binary
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = CTClassifier(**FAST).fit(X, y)
    assert len(_pool(clf)["index"]) == len(X)  # min(1000, n_samples)


def test_verbose_prints_epoch_table(binary, capsys):
    X, y = binary
    CTClassifier(verbose=1, **FAST).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "cf_mature" in out


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fit_on_cuda(blobs):
    X, y = blobs
    gpu = CTClassifier(device="cuda", **FAST).fit(X, y)
    assert gpu.net_.module_.layers[0].weight.is_cuda
    assert gpu.score(X, y) > 0.8


# -- modules and callbacks -------------------------------------------------------------------

class _Linear(torch.nn.Module):
    def __init__(self, n_features, n_classes, scale=1.0):
        super().__init__()
        self.lin = torch.nn.Linear(n_features, n_classes)
        self.scale = scale

    def forward(self, X):
        return self.scale * self.lin(X)


def test_module_class_gets_shapes_and_params(blobs):
    X, y = blobs
    clf = CTClassifier(module=_Linear, module_params={"scale": 2.0}, **FAST).fit(X, y)
    assert isinstance(clf.net_.module_, _Linear)
    assert clf.net_.module_.lin.weight.shape == (3, 2)
    assert clf.net_.module_.scale == 2.0


def test_pretrained_module_instance_is_copied_not_changed(binary):
    X, y = binary
    pretrained = MLP(2, 2)
    before = [p.detach().clone() for p in pretrained.parameters()]
    clf = CTClassifier(module=pretrained, **FAST).fit(X, y)
    for a, b in zip(before, pretrained.parameters()):
        assert torch.equal(a, b)
    assert clf.net_.module_ is not pretrained
    with pytest.raises(ValueError, match="module_params"):
        CTClassifier(module=pretrained, module_params={"x": 1}, **FAST).fit(X, y)


def test_extra_skorch_callbacks_are_used_and_cloned(binary):
    from skorch.callbacks import EarlyStopping

    X, y = binary
    stopper = EarlyStopping(monitor="train_loss", patience=1, threshold=10.0)
    clf = CTClassifier(callbacks=[("stop", stopper)], **{**FAST, "max_epochs": 20}).fit(X, y)
    assert clf.n_iter_ < 20
    used = dict(clf.net_.callbacks_)["stop"]
    assert used is not stopper and used.misses_ > 0
    assert stopper.misses_ == 0  # the user's object is cloned, not mutated


def test_max_iter_is_a_deprecated_alias_of_max_steps():
    X, y = make_blobs(60, centers=2, random_state=0)
    new = CTClassifier(**{**FAST, "max_steps": 4}).fit(X, y)
    old = CTClassifier(**{**FAST, "max_steps": 30}, max_iter=4)
    with pytest.warns(FutureWarning, match="renamed 'max_steps'"):
        old.fit(X, y)
    assert new.history_[-1, "cf_iter"] == old.history_[-1, "cf_iter"]
    np.testing.assert_array_equal(new.predict_proba(X), old.predict_proba(X))
