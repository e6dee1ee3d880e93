"""The skorch callbacks (sklearn_ct.callbacks): the per-epoch counterfactual pool."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import inspect
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_ct import REFERENCE_PARAMS, CTClassifier, callbacks
from sklearn_ct.callbacks import CounterfactualGeneration, split_sizes


def _pool(clf):
    return dict(clf.net_.callbacks_)["counterfactuals"].last_pool_


def test_pool_semantics_multiclass(blobs):
    X, y = blobs
    eps = 0.2
    clf = CTClassifier(**REFERENCE_PARAMS, n_counterfactuals=150, adversarial_epsilon=eps, max_epochs=4, lr=0.02,
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
    clf = CTClassifier(**REFERENCE_PARAMS, mutability={0: "none", 1: "increase"}, n_counterfactuals=100,
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
    clf = CTClassifier(**REFERENCE_PARAMS, n_counterfactuals=3, batch_size=20, max_epochs=1, random_state=0)
    clf.fit(X, y)
    assert len(_pool(clf)["index"]) == 10  # 200 rows / 20 = 10 mini-batches


def test_burnin_trains_conventionally_first(binary):
    X, y = binary
    clf = CTClassifier(**{**REFERENCE_PARAMS, "burnin": 0.5}, max_epochs=4, lr=0.02, batch_size=32, random_state=0).fit(X, y)
    mature = clf.history_[:, "cf_mature"]
    assert mature[:2] == [None, None]
    assert all(m is not None for m in mature[2:])
    assert clf.history_[0, "loss_div"] == 0 and clf.history_[3, "loss_div"] != 0


def test_split_sizes_give_the_extra_rows_to_the_first_chunks():
    # The reference's split_obs: the first n % k chunks are one longer.
    assert split_sizes(10, 3) == [4, 3, 3]
    assert split_sizes(23, 10) == [3, 3, 3] + [2] * 7
    assert split_sizes(6, 3) == [2, 2, 2]
    assert sum(split_sizes(1001, 34)) == 1001


class _ChunkSpy(Callback):
    """Records the chunk of the pool that each training batch of the last epoch gets."""

    def on_epoch_begin(self, net, **kwargs):
        self.chunks_ = []

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            self.chunks_.append(net.cf_batch_)


def test_each_batch_gets_its_contiguous_chunk_of_the_pool(binary):
    X, y = binary
    spy = _ChunkSpy()
    # 200 rows in batches of 20: 10 batches share 23 counterfactuals.
    clf = CTClassifier(**REFERENCE_PARAMS, n_counterfactuals=23, batch_size=20, max_epochs=2, random_state=0,
                       callbacks=[("spy", spy)]).fit(X, y)
    spy = dict(clf.net_.callbacks_)["spy"]
    assert [c["x_cf"].shape[0] for c in spy.chunks_] == [3, 3, 3] + [2] * 7
    pool = _pool(clf)
    for key in ("x_cf", "x_pos", "x_ae", "target", "y_ae"):
        assert torch.equal(torch.cat([c[key] for c in spy.chunks_]), pool[key])


def test_callback_methods_accept_any_keyword():
    # skorch passes every step output to the callbacks (skorch's tests/callbacks/test_all).
    for name, method in vars(CounterfactualGeneration).items():
        if name.startswith("on_"):
            params = inspect.signature(method).parameters.values()
            assert any(p.kind is p.VAR_KEYWORD for p in params), name


def test_max_iter_and_training_metrics_are_deprecated():
    with pytest.warns(FutureWarning, match="does nothing"):
        callbacks.TrainingMetrics()
    cb = CounterfactualGeneration(None, 2, 10, max_iter=5)
    with pytest.warns(FutureWarning, match="renamed 'max_steps'"):
        cb.on_train_begin(SimpleNamespace(device="cpu"), X=np.zeros((4, 2)),
                          y=np.array([0, 1, 0, 1]))
    assert cb.max_steps_ == 5
