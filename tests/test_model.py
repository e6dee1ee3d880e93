"""The model adapter (sklearn_ct._model): one view of every kind of model the package takes."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import pickle

import numpy as np
import pytest
import torch
from scipy.special import softmax as scipy_softmax
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetBinaryClassifier, NeuralNetClassifier
from torch import nn

from sklearn_ct import CTClassifier
from sklearn_ct._model import encode_labels, resolve_model, softmax
from sklearn_ct.explainers import CounterfactualExplainer
from sklearn_ct.metrics import integrated_gradients, robust_accuracy

X, Y = make_classification(120, n_features=4, n_informative=3, n_redundant=0,
                           random_state=0)
X = X.astype(np.float32)


def _mlp(n_out, last=None):
    torch.manual_seed(0)
    layers = [nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, n_out)]
    return nn.Sequential(*layers, *([last] if last is not None else []))


def _skorch(net_cls, module, y, **kwargs):
    net = net_cls(module, max_epochs=5, lr=0.05, train_split=None, verbose=0, **kwargs)
    return net.fit(X, y)


def _ct():
    return CTClassifier(objective="vanilla", max_epochs=5, random_state=0).fit(X, Y)


#: Every kind of model the adapter accepts: name -> (builder, differentiable).
KINDS = {
    "ctclassifier": (_ct, True),
    "frozen": (lambda: FrozenEstimator(_ct()), True),
    "pipeline": (lambda: make_pipeline(
        StandardScaler(), CTClassifier(objective="vanilla", max_epochs=5, random_state=0)
    ).fit(X, Y), True),
    "bare_module": (lambda: _mlp(2), True),
    "skorch_cross_entropy": (lambda: _skorch(
        NeuralNetClassifier, _mlp(2), Y.astype(np.int64), criterion=nn.CrossEntropyLoss),
        True),
    # skorch's default criterion (NLLLoss) wants a module that returns probabilities.
    "skorch_nll": (lambda: _skorch(
        NeuralNetClassifier, _mlp(2, nn.Softmax(dim=-1)), Y.astype(np.int64)), True),
    "skorch_binary": (lambda: _skorch(
        NeuralNetBinaryClassifier, _mlp(1), Y.astype(np.float32)), True),
    "random_forest": (lambda: RandomForestClassifier(n_estimators=10, random_state=0).fit(
        X, Y), False),
}


@pytest.fixture(scope="module", params=sorted(KINDS))
def kind(request):
    builder, differentiable = KINDS[request.param]
    return request.param, builder(), differentiable


def _reference_proba(name, model):
    """What the model itself says the probabilities are."""
    if name == "bare_module":
        with torch.no_grad():
            return scipy_softmax(model(torch.as_tensor(X)).double().numpy(), axis=1)
    return model.predict_proba(X)


def test_proba_matches_the_models_own(kind):
    name, model, differentiable = kind
    resolved = resolve_model(model)
    assert resolved.differentiable is differentiable
    # In the estimator's input space, and in model space after the preprocessing steps.
    expected = _reference_proba(name, model)
    np.testing.assert_allclose(resolved.predict_proba(X), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(resolved.proba(resolved.transform(X)), expected, rtol=1e-5,
                               atol=1e-6)
    assert resolved.classes is None if name == "bare_module" else (
        resolved.classes.tolist() == [0, 1])


def test_logits_are_the_models_logits(kind):
    # softmax(logits) is the model's probability for every kind; a net whose module returns
    # probabilities is read through their logarithm (without it, softmax(p) != p).
    name, model, differentiable = kind
    resolved = resolve_model(model)
    if not differentiable:
        with pytest.raises(TypeError, match="differentiable logits"):
            resolved.logits(X)
        return
    Z = resolved.transform(X)
    logits = resolved.logits(Z)
    assert logits.dtype == np.float64 and logits.shape == (len(X), 2)
    np.testing.assert_allclose(softmax(logits), _reference_proba(name, model), rtol=1e-5,
                               atol=1e-6)
    with torch.no_grad():
        module_out = resolved.module(torch.as_tensor(Z, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(module_out, logits, rtol=1e-4, atol=1e-5)


def test_gradient_metrics_read_the_explainers_logits(kind):
    # robust_accuracy at epsilon=0 is the accuracy of the model's own predictions, for every
    # kind the explainer accepts (a binary skorch net used to raise here).
    name, model, differentiable = kind
    if not differentiable:
        return
    resolved = resolve_model(model)
    Z = resolved.transform(X)
    predicted = resolved.proba(Z).argmax(axis=1)
    assert robust_accuracy(resolved, Z, Y, epsilon=0.0) == pytest.approx(np.mean(predicted == Y))
    assert robust_accuracy(resolved, Z, Y, epsilon=0.5) <= np.mean(predicted == Y)


def test_integrated_gradients_on_log_probabilities():
    # IG's completeness: attributions sum to F(x) - F(baseline) for the explained logit F.
    # For a net whose module returns probabilities, F is the log-probability the explainer
    # searches on, not the probability itself.
    net = KINDS["skorch_nll"][0]()
    attributions = integrated_gradients(net, X[:10], target=1, n_steps=400)
    log_p = np.log(net.predict_proba(X[:10])[:, 1])
    log_p0 = np.log(net.predict_proba(np.zeros((1, 4), dtype=np.float32))[:, 1])
    np.testing.assert_allclose(attributions.sum(axis=1), log_p - log_p0, atol=1e-3)


def test_explainer_and_metrics_share_the_adapter():
    net = KINDS["skorch_binary"][0]()
    explainer = CounterfactualExplainer(FrozenEstimator(net), random_state=0).fit(X)
    result = explainer.explain(X[:20])
    resolved = resolve_model(net)
    np.testing.assert_allclose(result.target_proba, resolved.proba(
        np.asarray(result.counterfactuals))[np.arange(20), result.target])


def test_search_module_follows_the_live_module():
    module = _mlp(2)
    resolved = resolve_model(module)
    copy64, dtype = resolved.search_module()
    assert dtype == torch.float64 and copy64 is not module
    with torch.no_grad():
        module[0].weight.add_(1.0)
    copy64_again, _ = resolved.search_module()
    assert copy64_again is copy64
    torch.testing.assert_close(copy64[0].weight.float(), module[0].weight)
    # The cached copy is not pickled; the adapter rebuilds it.
    clone = pickle.loads(pickle.dumps(resolved))
    assert "_copy64" not in clone.__dict__
    assert clone.search_module()[1] == torch.float64


def test_resolve_model_errors():
    with pytest.raises(NotFittedError):
        resolve_model(CTClassifier())
    with pytest.raises(TypeError, match="predict_proba"):
        resolve_model(object())
    resolved = resolve_model(_mlp(2))
    assert resolve_model(resolved) is resolved


def test_encode_labels():
    classes = np.array(["b", "a", "c"])  # any order
    assert encode_labels(["a", "c", "b"], classes).tolist() == [1, 2, 0]
    assert encode_labels(np.array([[1, 0]]), np.array([0, 1])).tolist() == [[1, 0]]
    with pytest.raises(ValueError, match=r"Unknown target label 'z'.*\['b', 'a', 'c'\]"):
        encode_labels(["a", "z"], classes)
    with pytest.raises(ValueError, match="Unknown y label 1"):
        encode_labels([1], classes, what="y")  # does not compare with str classes
    assert encode_labels([2.0, 0.0], None, n_classes=3).tolist() == [2, 0]
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        encode_labels([3], None, n_classes=3)


def test_softmax_is_stable():
    logits = np.array([[1000.0, 1000.0], [-5.0, 5.0]])
    np.testing.assert_allclose(softmax(logits), scipy_softmax(logits, axis=1))
