"""The private skorch net (sklearn_ct._net): the CT training step and what a fit records."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
import torch
from sklearn.utils import check_random_state
from torch.utils.data import DataLoader, TensorDataset

from sklearn_ct import MLP, REFERENCE_PARAMS, CTClassifier, NonFiniteLossWarning
from sklearn_ct._net import CTNet

FAST = dict(max_epochs=5, batch_size=16, lr=0.02, max_steps=20, random_state=0,
            **REFERENCE_PARAMS)


def _weights(clf):
    return [p.detach().clone() for p in clf.net_.module_.parameters()]


def test_training_step_loss_matches_hand_computation(binary):
    X, y = binary
    clf = CTClassifier(**REFERENCE_PARAMS, max_epochs=1, lambda_div=0.7, lambda_reg=0.3, lambda_adv=0.2,
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
    net = CTClassifier(**REFERENCE_PARAMS, max_epochs=1, random_state=0).fit(X, y).net_
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
    clf = CTClassifier(**REFERENCE_PARAMS, max_epochs=1, random_state=0).fit(X, y)
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
    net = CTClassifier(**REFERENCE_PARAMS, max_epochs=1, batch_size=32, random_state=0).fit(X, y).net_
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


def test_history_records_every_term(binary):
    X, y = binary
    clf = CTClassifier(validation_fraction=0.2, **FAST).fit(X, y)
    keys = {"train_loss", "train_acc", "loss_class", "loss_div", "loss_reg", "loss_adv",
            "n_skipped", "cf_mature", "cf_iter", "cf_time", "dur", "valid_loss", "valid_acc"}
    assert keys <= set(clf.history_[-1])
    assert clf.n_iter_ == 5
    assert 0 <= clf.history_[-1, "train_acc"] <= 1


def test_recorded_terms_add_up_to_the_recorded_loss(binary):
    # Per batch and per epoch, the recorded terms are the step's own: skorch's train_loss
    # is the class loss plus the weighted terms (the epoch averages use the same weights).
    X, y = binary
    lambdas = dict(lambda_div=0.5, lambda_reg=0.1, lambda_adv=0.25)
    clf = CTClassifier(**lambdas, **FAST).fit(X, y)
    for epoch in clf.history_:
        for row in (*epoch["batches"], epoch):
            total = row["loss_class"] + sum(
                lam * row["loss_" + name[7:]] for name, lam in lambdas.items())
            assert row["train_loss"] == pytest.approx(total, rel=1e-5, abs=1e-7)
        sizes = [b["train_batch_size"] for b in epoch["batches"]]
        accs = [b["train_acc"] for b in epoch["batches"]]
        assert epoch["train_acc"] == pytest.approx(np.average(accs, weights=sizes))
        assert epoch["n_skipped"] == 0
    assert clf.history_[-1, "loss_div"] != 0


def test_epoch_averages_are_passthrough_scores_printed_last(binary):
    from skorch.callbacks import PassthroughScoring, PrintLog

    X, y = binary
    net = CTClassifier(objective="vanilla", max_epochs=1, verbose=1,
                       random_state=0).fit(X, y).net_
    callbacks = dict(net.callbacks_)
    for key in ("train_acc", "valid_acc", "loss_class", "loss_div", "loss_reg", "loss_adv"):
        assert isinstance(callbacks[key], PassthroughScoring)
    names = [name for name, _ in net.callbacks_]
    assert isinstance(callbacks["print_log"], PrintLog)
    assert names.index("print_log") > names.index("loss_adv")
    # No _best flags: the terms are records, not scores to select on.
    assert "loss_div_best" not in net.history[-1]
    # Silent fits do not format an epoch table nobody sees; they record the same keys.
    quiet = CTClassifier(objective="vanilla", max_epochs=1, random_state=0).fit(X, y).net_
    assert "print_log" not in dict(quiet.callbacks_)
    assert set(quiet.history[-1]) - {"dur"} == set(net.history[-1]) - {"dur"}


def test_non_finite_updates_are_counted(binary):
    X, y = binary
    clf = CTClassifier(**REFERENCE_PARAMS, max_epochs=1, random_state=0).fit(X, y)
    net = clf.net_
    net.history.new_epoch()
    net.history.new_batch()
    bad = torch.full((2, 2), float("inf"))
    net.cf_batch_ = {"x_pos": bad, "x_cf": -bad, "x_ae": bad, "target": torch.tensor([0, 1]),
                     "y_ae": torch.tensor([0, 1])}
    batch = (torch.zeros(4, 2), torch.tensor([0, 1, 0, 1]))
    with pytest.warns(NonFiniteLossWarning):
        step = net.train_step(batch)
    net.cf_batch_ = None
    net.notify("on_batch_end", batch=batch, training=True, **step)
    # A finite batch in the same epoch: the epoch made progress.
    net.history.new_batch()
    net.notify("on_batch_end", batch=batch, training=True, **net.train_step(batch))
    net.on_epoch_end(net)
    assert net.history[-1, "n_skipped"] == 1
    # An epoch whose every update was skipped cannot make progress: an error.
    net.history.new_epoch()
    net.history.new_batch()
    net.cf_batch_ = {"x_pos": bad, "x_cf": -bad, "x_ae": bad, "target": torch.tensor([0, 1]),
                     "y_ae": torch.tensor([0, 1])}
    with pytest.warns(NonFiniteLossWarning):
        step = net.train_step(batch)
    net.cf_batch_ = None
    net.notify("on_batch_end", batch=batch, training=True, **step)
    with pytest.raises(ValueError, match="Every update of epoch"):
        net.on_epoch_end(net)


def test_batch_statistics_come_from_the_training_batch_only():
    """Pool rows go through batch-norm layers with the running statistics (issue 9)."""
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                 torch.nn.ReLU(), torch.nn.Linear(4, 2))
    net = CTNet(module=module, criterion=torch.nn.CrossEntropyLoss, lr=0.0, max_epochs=1,
                batch_size=8, lambda_div=0.5, lambda_reg=0.1, lambda_adv=0.25)
    net.initialize()
    X = torch.randn(8, 3)
    y = torch.randint(0, 2, (8,))
    far = torch.full((2, 3), 50.0)  # pool rows far from the batch
    net.cf_batch_ = {"x_ae": far, "x_pos": far, "x_cf": far, "target": torch.tensor([0, 1]),
                     "y_ae": torch.tensor([1, 0])}
    bn = module[1]
    with torch.no_grad():
        expected = 0.1 * module[0](X).mean(dim=0)  # momentum 0.1, running mean 0
    net.train_step_single((X, y))
    torch.testing.assert_close(bn.running_mean, expected)
    assert bn.training  # the pool's eval mode is undone
