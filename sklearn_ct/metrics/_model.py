"""Resolution of the ``model`` argument shared by the model-dependent metrics.

Metrics accept several kinds of models, so this module turns any of them into what a metric
needs, in one place:

* a torch ``nn.Module`` that returns logits (targets are integer class indices);
* a fitted object exposing ``net_.module_`` (:class:`~sklearn_ct.CTClassifier`), whose
  ``classes_`` maps labels to logit columns;
* a fitted skorch net exposing ``module_``;
* for the metrics that only need predictions (validity, yNN), any fitted scikit-learn
  classifier with ``predict_proba`` and ``classes_``, e.g. a :class:`~sklearn.pipeline.Pipeline`.
"""

import contextlib

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ._validation import _to_numpy

# Rows per forward pass when a metric evaluates a module itself. Logits are small (n x K), so
# this only bounds the activations of the hidden layers.
_FORWARD_BATCH_SIZE = 8192


def _logit_module(model):
    """Return the torch module computing logits for ``model``, and its device.

    Parameters
    ----------
    model : torch.nn.Module or fitted estimator
        A module returning logits, an object exposing ``net_.module_`` (``CTClassifier``) or a
        skorch net exposing ``module_``.

    Returns
    -------
    module : torch.nn.Module
        The logits module.
    device : torch.device
        Device holding the module's parameters; inputs are moved there.
    """
    if isinstance(model, torch.nn.Module):
        module = model
    elif hasattr(model, "net_") and isinstance(getattr(model.net_, "module_", None),
                                               torch.nn.Module):
        module = model.net_.module_
    elif isinstance(getattr(model, "module_", None), torch.nn.Module):
        module = model.module_
    else:
        if hasattr(model, "fit"):
            # An unfitted CTClassifier or skorch net deserves "not fitted", not "wrong type".
            try:
                check_is_fitted(model)
            except NotFittedError:
                raise NotFittedError(
                    f"This {type(model).__name__} instance is not fitted yet; call 'fit' "
                    "before computing gradient-based metrics."
                ) from None
            except TypeError:
                pass
        raise TypeError(
            "Gradient-based metrics need differentiable logits: pass a torch.nn.Module that "
            "returns logits, a fitted CTClassifier (exposing net_.module_) or a fitted skorch "
            f"net (exposing module_); got {type(model).__name__}. For a Pipeline, pass its "
            "final step and inputs transformed by the preceding steps."
        )
    # The parameters are the ground truth for where the module lives; a ``device`` attribute
    # (CTClassifier, skorch) is only a fallback for parameter-free modules.
    tensor = next(module.parameters(), None)
    if tensor is None:
        tensor = next(module.buffers(), None)
    if tensor is not None:
        device = tensor.device
    else:
        device = torch.device(getattr(model, "device", None) or "cpu")
    return module, device


def _module_dtype(module):
    """Floating dtype of the module's parameters (float32 when it has none)."""
    tensor = next(module.parameters(), None)
    if tensor is not None and tensor.is_floating_point():
        return tensor.dtype
    return torch.float32


@contextlib.contextmanager
def _eval_mode(module):
    """Put ``module`` in eval mode (dropout off) and restore its previous mode afterwards."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def _classes(model):
    """Return ``model.classes_`` as an array, or None when the model has no labels."""
    classes = getattr(model, "classes_", None)
    # ``classes_`` of a skorch net can be a property that raises before fit; getattr already
    # turned that AttributeError into None.
    return None if classes is None else np.asarray(classes)


def _encode_labels(labels, classes, name, n_classes=None):
    """Map class labels to column indices.

    With ``classes`` (the model's ``classes_``) the labels are looked up there; without it the
    labels must already be integer indices in ``[0, n_classes)``.
    """
    labels = _to_numpy(labels)
    if classes is not None:
        # classes_ is sorted for sklearn/CTClassifier, but sorting here keeps the lookup valid for
        # any order (e.g. a skorch net given an explicit ``classes`` list).
        sorter = np.argsort(classes, kind="stable")
        try:
            pos = np.searchsorted(classes, labels, sorter=sorter)
        except TypeError as exc:
            raise ValueError(
                f"{name} labels of type {labels.dtype} cannot be compared with the model's "
                f"classes_ {classes.tolist()!r}."
            ) from exc
        pos = np.clip(pos, 0, len(classes) - 1)
        idx = sorter[pos]
        unknown = classes[idx] != labels
        if np.any(unknown):
            bad = np.unique(labels[unknown])[:5]
            raise ValueError(
                f"{name} contains labels not in the model's classes_ {classes.tolist()!r}: "
                f"{bad.tolist()!r}."
            )
        return idx.astype(np.int64)
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)
        else:
            raise ValueError(
                f"{name} must hold integer class indices when the model has no classes_ "
                f"attribute, got dtype {labels.dtype}."
            )
    labels = labels.astype(np.int64)
    if np.any(labels < 0) or (n_classes is not None and np.any(labels >= n_classes)):
        raise ValueError(
            f"{name} holds class indices outside [0, {n_classes}); the model has {n_classes} "
            "logits."
        )
    return labels


def _n_outputs(module, device, n_features):
    """Number of logits of ``module``, found with one zero input row."""
    x = torch.zeros(1, n_features, dtype=_module_dtype(module), device=device)
    with torch.no_grad(), _eval_mode(module):
        out = module(x)
    if out.ndim != 2:
        raise ValueError(
            "The model must return logits of shape (n_samples, n_classes), got "
            f"{tuple(out.shape)}."
        )
    return out.shape[1]


def _module_logits(module, device, X, batch_size=_FORWARD_BATCH_SIZE):
    """Logits of ``module`` on the numpy array ``X`` as a float64 numpy array (no gradients)."""
    dtype = _module_dtype(module)
    out = []
    with torch.no_grad(), _eval_mode(module):
        for start in range(0, X.shape[0], batch_size):
            xb = torch.as_tensor(X[start:start + batch_size], dtype=dtype, device=device)
            out.append(module(xb).detach().to("cpu", torch.float64).numpy())
    logits = np.concatenate(out, axis=0)
    if logits.ndim != 2:
        raise ValueError(
            f"The model must return logits of shape (n_samples, n_classes), got {logits.shape}."
        )
    return logits


def _predict_proba(model, X, X_raw=None):
    """Class probabilities of ``model`` on ``X``, with the labels of their columns.

    Models with ``predict_proba`` are used as black boxes (so a Pipeline applies its own
    preprocessing); bare modules are evaluated with a softmax over their logits.

    Parameters
    ----------
    model : estimator or torch.nn.Module
        Model to evaluate.
    X : ndarray of shape (n_samples, n_features)
        Validated input.
    X_raw : object, default=None
        Original input (e.g. a DataFrame) passed to ``predict_proba`` so that estimators fitted
        on feature names do not warn; defaults to ``X``.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Probabilities.
    classes : ndarray of shape (n_classes,) or None
        Labels of the columns, or None for bare modules (columns are class indices).
    """
    if hasattr(model, "predict_proba") and not isinstance(model, torch.nn.Module):
        proba = np.asarray(model.predict_proba(X if X_raw is None else X_raw), dtype=np.float64)
        return proba, _classes(model)
    module, device = _logit_module(model)
    logits = _module_logits(module, device, X)
    # Stable softmax in float64.
    logits = logits - logits.max(axis=1, keepdims=True)
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    return proba, _classes(model)
