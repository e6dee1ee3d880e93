"""Faults during training (issue 10): NaN outputs, callbacks that raise, KeyboardInterrupt.

A fit that meets a fault either recovers (one non-finite loss: that update is skipped),
fails with a clear error and leaves the estimator as it was (a module that only returns
NaN, a callback that raises), or stops early with a usable model (KeyboardInterrupt, as
skorch does). A module checked at the start of fit never reaches training with NaN
output; one that turns NaN later makes every update of an epoch skip, which is an error.
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback
from torch import nn

from sklearn_ct import CTClassifier, NonFiniteLossWarning

FAST = dict(hidden_layer_sizes=(8,), batch_size=16, max_steps=5, n_counterfactuals=16,
            random_state=0)


def _data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1.0, 2.0, size=(n, 2))
    y = (X.sum(axis=1) > 1.0).astype(int)
    return X, y


class _NaNOnce(nn.Module):
    """Linear logits; the ``bad``-th forward pass in training mode returns NaN."""

    def __init__(self, n_features=2, n_classes=2, bad=3):
        super().__init__()
        self.lin = nn.Linear(n_features, n_classes)
        self.bad = bad
        self.calls = 0

    def forward(self, X):
        out = self.lin(X)
        if self.training:
            self.calls += 1
            if self.calls == self.bad:
                return out * float("nan")
        return out


class _NaNAlways(nn.Module):
    def __init__(self, n_features=2, n_classes=2):
        super().__init__()
        self.lin = nn.Linear(n_features, n_classes)

    def forward(self, X):
        return self.lin(X) * float("nan")


class _NaNFromEpochTwo(nn.Module):
    """Finite for the first epoch's updates, NaN for every training forward afterwards."""

    def __init__(self, n_features=2, n_classes=2, good=8):
        super().__init__()
        self.lin = nn.Linear(n_features, n_classes)
        self.good = good
        self.calls = 0

    def forward(self, X):
        out = self.lin(X)
        if self.training:
            self.calls += 1
            if self.calls > self.good:
                return out * float("nan")
        return out


class _RaiseAt(Callback):
    def __init__(self, epoch=2, exc=RuntimeError):
        self.epoch = epoch
        self.exc = exc

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) >= self.epoch:
            raise self.exc("boom in a user callback")


def _state(clf, X):
    attrs = {}
    for key, value in vars(clf).items():
        if key.endswith("_") and not key.startswith("_"):
            attrs[key] = value.tolist() if isinstance(value, np.ndarray) else (
                value if isinstance(value, (int, float, str)) else id(value))
    weights = [p.detach().clone() for p in clf.net_.module_.state_dict().values()]
    return attrs, weights, clf.predict_proba(X)


def _assert_same(before, clf, X):
    attrs, weights, proba = before
    now = _state(clf, X)
    assert now[0] == attrs
    assert all(torch.equal(a, b) for a, b in zip(weights, now[1]))
    np.testing.assert_array_equal(now[2], proba)


@pytest.mark.parametrize("objective", ["full", "vanilla"])
def test_nan_once_skips_one_update(objective):
    X, y = _data()
    clf = CTClassifier(module=_NaNOnce, objective=objective, max_epochs=15, lr=0.05, **FAST)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    nonfinite = [w for w in caught if issubclass(w.category, NonFiniteLossWarning)]
    assert len(nonfinite) == 1
    assert sum(clf.history_[:, "n_skipped"]) == 1
    for p in clf.net_.module_.parameters():
        assert torch.isfinite(p).all()
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    assert (clf.predict(X) == y).mean() > 0.8


@pytest.mark.parametrize("objective", ["full", "vanilla"])
def test_nan_always_is_an_error(objective):
    X, y = _data()
    clf = CTClassifier(module=_NaNAlways, objective=objective, max_epochs=3, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonFiniteLossWarning)
        with pytest.raises((ValueError, RuntimeError), match=r"(?i)(non-finite|nan)"):
            clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_epoch_of_skipped_updates_is_an_error():
    X, y = _data()
    clf = CTClassifier(module=_NaNFromEpochTwo, objective="vanilla", max_epochs=4, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonFiniteLossWarning)
        with pytest.raises((ValueError, RuntimeError), match=r"(?i)(non-finite|nan|skipped)"):
            clf.fit(X, y)


def test_nan_module_warning_does_not_blame_lambda_reg():
    X, y = _data()
    clf = CTClassifier(module=_NaNOnce, max_epochs=2, **FAST)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    messages = [str(w.message) for w in caught if issubclass(w.category, NonFiniteLossWarning)]
    assert messages and not any("lambda_reg" in m for m in messages)


def test_callback_raising_keeps_previous_model():
    X, y = _data()
    clf = CTClassifier(max_epochs=3, **FAST).fit(X, y)
    before = _state(clf, X)
    clf.set_params(callbacks=[_RaiseAt(2)])
    with pytest.raises(RuntimeError, match="boom in a user callback"):
        clf.fit(X + 1.0, np.where(y > 0, 3, 2))
    _assert_same(before, clf, X)


def test_callback_raising_leaves_fresh_estimator_unfitted():
    X, y = _data()
    clf = CTClassifier(max_epochs=3, callbacks=[_RaiseAt(1)], **FAST)
    with pytest.raises(RuntimeError, match="boom in a user callback"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_keyboard_interrupt_stops_and_model_is_usable():
    # skorch's convention: KeyboardInterrupt ends training early and fit returns.
    X, y = _data()
    clf = CTClassifier(max_epochs=10, callbacks=[_RaiseAt(2, KeyboardInterrupt)], **FAST)
    assert clf.fit(X, y) is clf
    assert clf.n_iter_ == 2
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.isfinite(proba).all()


def test_keyboard_interrupt_in_refit_keeps_a_usable_model():
    X, y = _data()
    clf = CTClassifier(max_epochs=3, **FAST).fit(X, y)
    clf.set_params(max_epochs=10, callbacks=[_RaiseAt(1, KeyboardInterrupt)])
    clf.fit(X, y)
    assert clf.n_iter_ == 1
    assert np.isfinite(clf.predict_proba(X)).all()
    np.testing.assert_array_equal(clf.classes_, [0, 1])
