"""CTClassifier: the CT training loop, its semantics, determinism and input checks."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from sklearn_ct import REFERENCE_PARAMS, MLP, CTClassifier

FAST = dict(max_epochs=5, batch_size=16, lr=0.02, max_steps=20, random_state=0,
            **REFERENCE_PARAMS)


def _pool(clf):
    return dict(clf.net_.callbacks_)["counterfactuals"].last_pool_


def _weights(clf):
    return [p.detach().clone() for p in clf.net_.module_.parameters()]


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
