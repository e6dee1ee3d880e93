"""What an explainer needs from the classifier it explains.

The explainers accept several kinds of models (a :class:`~sklearn_ct.CTClassifier`, a
skorch net, a bare ``torch.nn.Module`` returning logits, any scikit-learn classifier with
``predict_proba``, and a :class:`~sklearn.pipeline.Pipeline` ending in one of those). This
module reduces all of them to one small adapter, :class:`ModelAdapter`, with

* the preprocessing steps that lead from the features of ``X`` to the model's input
  space (empty unless the estimator is a pipeline),
* the differentiable logits module, when there is one (gradient-based generators need it),
* a ``predict_proba`` in model space (black-box generators and validity checks),
* the class labels.

It also holds the rule for *when* an estimator is fitted by the explainer (see
:func:`is_fitted`).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import copy

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._modules import module_device, module_logits


def unwrap(estimator):
    """Strip :class:`~sklearn.frozen.FrozenEstimator` wrappers (any depth)."""
    while isinstance(estimator, FrozenEstimator):
        estimator = estimator.estimator
    return estimator


def split_pipeline(estimator):
    """Split an estimator into ``(preprocessing steps, final model)``.

    A pipeline (possibly frozen, possibly nested as its own last step) gives its leading
    steps as a list of ``(name, transformer)`` pairs and its last step; anything else gives
    ``([], estimator)``. ``"passthrough"``/``None`` steps are dropped.
    """
    estimator = unwrap(estimator)
    steps = []
    while isinstance(estimator, Pipeline):
        steps += [
            (name, step)
            for name, step in estimator.steps[:-1]
            if step is not None and not (isinstance(step, str) and step == "passthrough")
        ]
        estimator = unwrap(estimator.steps[-1][1])
    return steps, estimator


def is_fitted(estimator):
    """Whether ``estimator`` is ready to use, following the explainer's fitting rule.

    A ``torch.nn.Module`` is always considered fitted (it has no ``fit``). A pipeline is
    fitted when all of its steps are. Anything else is asked through
    :func:`sklearn.utils.validation.check_is_fitted` (which honours
    ``__sklearn_is_fitted__``, e.g. of skorch nets and :class:`FrozenEstimator`).
    """
    estimator = unwrap(estimator)
    if isinstance(estimator, nn.Module):
        return True
    if isinstance(estimator, Pipeline):
        return all(
            is_fitted(step)
            for _, step in estimator.steps
            if step is not None and not (isinstance(step, str) and step == "passthrough")
        )
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    except TypeError:
        raise TypeError(
            "estimator must be a fitted or unfitted scikit-learn classifier (e.g. "
            "CTClassifier), a skorch net, a torch.nn.Module returning logits, or a "
            f"Pipeline ending in one of those; got {estimator!r}."
        ) from None
    return True


class _LogProbaModule(nn.Module):
    """Turn a module that outputs probabilities into one that outputs logits.

    skorch's ``NeuralNetClassifier`` with its default ``NLLLoss`` criterion expects the
    module to return probabilities; their logarithm is a valid set of logits
    (``softmax(log p) = p``).
    """

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, X):
        return torch.log(torch.clamp(self.module(X), min=1e-12))


class _BinaryLogitModule(nn.Module):
    """Two logits ``[0, z]`` from a single-logit binary module (``softmax`` = sigmoid)."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, X):
        z = self.module(X).reshape(X.shape[0], -1)[:, :1]
        return torch.cat([torch.zeros_like(z), z], dim=1)


class ModelAdapter:
    """Uniform view of the classifier an explainer explains (in model space).

    The logits module is looked up again on every :meth:`refresh` (through ``resolve``),
    so an explainer always explains the model's current state, e.g. after the model was
    trained further in place.

    Parameters
    ----------
    final : object
        The final model (a pipeline's last step, unwrapped).
    resolve : callable or None
        Returns ``(raw_module, logits_module, device)`` for the model's current state;
        None for models that only offer ``predict_proba``.
    classes : ndarray of shape (n_classes,) or None
        Class labels, in the order of the logits / probability columns.
    model_mutability : ndarray of str or None
        Mutability the model itself was trained with (a ``CTClassifier``'s
        ``mutability_``, in model space), or None.
    """

    def __init__(self, final, resolve, classes, model_mutability=None):
        self.final = final
        self.resolve = resolve
        self.classes = classes
        self.model_mutability = model_mutability
        self.module = None
        self.device = torch.device("cpu")
        self.refresh()

    @property
    def differentiable(self):
        return self.resolve is not None

    def refresh(self):
        """Look up the current module and update its double-precision copy.

        Searching in float64 makes a row's search independent of the other rows of its
        batch: float32 matrix products use batch-size dependent kernels, so float32 logits
        (and with them the step at which a row crosses the threshold) can change with the
        batch. The copy is used on CPU only. It is made once per module object and its
        values are refreshed from the module at every call (a cheap copy of the
        parameters and buffers), so it never goes stale. The explainer calls this once
        per ``fit`` and per ``transform``/``explain``.
        """
        if self.resolve is None:
            return
        raw, self.module, self.device = self.resolve()
        cache = getattr(self, "_cache", None)
        if self.device.type != "cpu":
            self._cache = None
            return
        if cache is None or cache[0] is not raw:
            try:
                copy64 = copy.deepcopy(self.module).double()
                copy64.requires_grad_(False)
                copy64.eval()
            except Exception:  # noqa: BLE001 - modules that cannot be copied or cast
                copy64 = None
            self._cache = (raw, copy64)
            return
        copy64 = cache[1]
        if copy64 is None:
            return
        with torch.no_grad():
            for dst, src in zip(
                list(copy64.parameters()) + list(copy64.buffers()),
                list(self.module.parameters()) + list(self.module.buffers()),
            ):
                if dst.shape != src.shape:  # the module was rebuilt in place
                    self._cache = None
                    return self.refresh()
                dst.copy_(src)

    def _float64_module(self):
        cache = getattr(self, "_cache", None)
        return None if cache is None else cache[1]

    def proba(self, Z, chunk_size=65536):
        """Class probabilities for model-space rows ``Z`` (float64 ndarray)."""
        Z = np.ascontiguousarray(Z, dtype=np.float64)
        if self.resolve is None:
            final = self.final
            names = getattr(final, "feature_names_in_", None)
            if names is not None and len(names) == Z.shape[1]:
                import pandas as pd

                # The model was fitted on a DataFrame: keep its feature names.
                Z = pd.DataFrame(Z, columns=names)
            return np.asarray(final.predict_proba(Z), dtype=np.float64)
        module64 = self._float64_module()
        if module64 is not None:
            with torch.no_grad():
                X64 = torch.from_numpy(Z)
                logits = torch.cat([module64(chunk) for chunk in torch.split(X64, chunk_size)]
                                   ) if Z.shape[0] else module64(X64)
            logits = logits.numpy()
        else:
            logits = module_logits(self.module, Z, self.device)
        logits = logits - logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def search_module(self):
        """``(module, dtype)`` for the gradient search: float64 on CPU, else float32."""
        module64 = self._float64_module()
        if module64 is not None:
            return module64, torch.float64
        return self.module, torch.float32

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_cache", None)
        state["module"] = None
        return state

    def __setstate__(self, state):
        # The module is looked up again by the next refresh(), which every explainer
        # call starts with (not here: the model may not be fully unpickled yet).
        self.__dict__.update(state)


def _skorch_logits_module(net):
    """The logits module of a fitted skorch net (wrapping probability outputs)."""
    module = net.module_
    try:
        from skorch import NeuralNetBinaryClassifier
    except ImportError:  # pragma: no cover - skorch is a dependency
        NeuralNetBinaryClassifier = ()
    if isinstance(net, NeuralNetBinaryClassifier):
        return _BinaryLogitModule(module)
    criterion = getattr(net, "criterion_", None)
    if isinstance(criterion, nn.NLLLoss):
        return _LogProbaModule(module)
    return module


class _ResolveModule:
    """``resolve`` for a bare ``torch.nn.Module`` (picklable, unlike a closure)."""

    def __init__(self, module):
        self.module = module

    def __call__(self):
        return self.module, self.module, module_device(self.module)


class _ResolveNet:
    """``resolve`` for a skorch net, held directly or as a model's ``net_``."""

    def __init__(self, owner, attribute):
        self.owner = owner
        self.attribute = attribute

    def __call__(self):
        net = getattr(self.owner, self.attribute) if self.attribute else self.owner
        return net.module_, _skorch_logits_module(net), torch.device(net.device)


def make_adapter(final, classes=None):
    """Build the :class:`ModelAdapter` of a fitted final model.

    Parameters
    ----------
    final : object
        Fitted final model (unwrapped).
    classes : array-like or None
        Labels given by the user (needed only for bare torch modules).

    Returns
    -------
    adapter : ModelAdapter
        The number of logits of a bare module is checked later, on data.
    """
    final = unwrap(final)
    if isinstance(final, nn.Module):
        return ModelAdapter(final, _ResolveModule(final),
                            None if classes is None else np.asarray(classes))
    net = getattr(final, "net_", None)
    if net is not None and hasattr(net, "module_"):
        # CTClassifier-like: the skorch net is held as a fitted attribute.
        return ModelAdapter(final, _ResolveNet(final, "net_"), np.asarray(final.classes_),
                            getattr(final, "mutability_", None))
    if hasattr(final, "module_") and isinstance(final.module_, nn.Module):
        # A skorch net used directly. Its classes_ exist only when it saw y in fit.
        own = getattr(final, "classes_", None)
        if classes is None and own is not None:
            classes = own
        return ModelAdapter(final, _ResolveNet(final, None),
                            None if classes is None else np.asarray(classes))
    if hasattr(final, "predict_proba"):
        return ModelAdapter(final, None, np.asarray(final.classes_))
    raise TypeError(
        "The model to explain must be a torch.nn.Module returning logits, a skorch net, "
        "a CTClassifier, or a classifier with predict_proba (black-box generators only); "
        f"got {type(final).__name__}."
    )
