"""One view of every classifier the package works with: :func:`resolve_model`.

Training, the explainers, the metrics and the scorers accept several kinds of models: a
:class:`~sklearn_ct.CTClassifier`, a skorch net, a bare ``torch.nn.Module`` returning logits,
any scikit-learn classifier with ``predict_proba``, a
:class:`~sklearn.frozen.FrozenEstimator` around one of those and a
:class:`~sklearn.pipeline.Pipeline` ending in one. :func:`resolve_model` reduces all of them
to one :class:`ModelAdapter` with

* the pipeline's preprocessing ``steps`` (empty without a pipeline) and the ``final`` model;
* the class labels, in the order of the logit (probability) columns;
* the differentiable *logits* module, when there is one. A skorch net whose module returns
  probabilities (``NLLLoss``, skorch's default criterion) is read through their logarithm,
  and a binary net's single logit ``z`` as the two logits ``[0, z]``, so that every
  consumer sees the same logits: the explainer's search, the attacks and the attributions;
* the mutability the model was trained with (a ``CTClassifier``'s ``mutability_``).

Precision policy: predictions (:meth:`ModelAdapter.logits`, :meth:`ModelAdapter.proba`)
are computed in float64 from the float32 weights, so that a row's prediction never depends
on the other rows of its batch (float32 matrix products use batch-size dependent kernels).
Gradient computations run in the precision of their inputs: the explainer's search asks
:meth:`ModelAdapter.search_module` for a float64 copy on CPU (float32 on accelerators);
training and the attacks use the model's own float32 module.

The module also holds the package's single softmax and label encoder.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
import numbers

import numpy as np
import pandas as pd
import torch
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNetBinaryClassifier
from torch import nn
from torch.func import functional_call

from ._utils import eval_mode, module_device

# -- numbers ------------------------------------------------------------------------------


def softmax(logits):
    """Row-wise softmax of a float64 array, computed stably (a new array).

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_classes)
        Logits.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Probabilities.
    """
    proba = logits - logits.max(axis=1, keepdims=True)
    np.exp(proba, out=proba)
    proba /= proba.sum(axis=1, keepdims=True)
    return proba


def encode_labels(labels, classes, what="target", n_classes=None, unknown="raise"):
    """Column index of every label, with a clear error for unknown labels.

    Parameters
    ----------
    labels : array-like
        Labels of any shape.
    classes : ndarray of shape (n_classes,) or None
        The model's labels, in column order (any order). None means the model has no
        labels: ``labels`` must then be integer column indices in ``[0, n_classes)``.
    what : str, default="target"
        Name of ``labels`` in error messages.
    n_classes : int, default=None
        Number of columns, to check indices when ``classes`` is None.
    unknown : "raise" or int, default="raise"
        What an unknown label gives: an error, or this index (e.g. -1).

    Returns
    -------
    idx : ndarray of int64, same shape as ``labels``
    """
    labels = np.asarray(labels.detach().cpu() if hasattr(labels, "detach") else labels)
    if classes is None:
        return _check_indices(labels, what, n_classes)
    classes = np.asarray(classes)
    flat = labels.reshape(-1)
    try:
        # Vectorised lookup in the sorted classes (any order, through the sorter).
        sorter = np.argsort(classes, kind="stable")
        pos = np.clip(np.searchsorted(classes, flat, sorter=sorter), 0, len(classes) - 1)
        idx = sorter[pos]
        idx = np.where(classes[idx] == flat, idx, -1).astype(np.int64)
    except TypeError:
        # Labels that do not compare with the classes (e.g. a str label for int classes).
        lookup = {}
        for i, c in enumerate(classes.tolist()):
            lookup.setdefault(c, i)
        idx = np.fromiter((lookup.get(v, -1) for v in flat.tolist()), dtype=np.int64,
                          count=flat.size)
    if (idx < 0).any() and unknown != "raise":
        idx[idx < 0] = unknown
    elif (idx < 0).any():
        bad = list(dict.fromkeys(v for v, i in zip(flat.tolist(), idx) if i < 0))
        shown = ", ".join(repr(v) for v in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise ValueError(
            f"Unknown {what} label {shown}{more}: not in the model's classes_ "
            f"{classes.tolist()}."
        )
    return idx.reshape(labels.shape)


def _check_indices(labels, what, n_classes):
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)
        else:
            raise ValueError(
                f"{what} must hold integer class indices when the model has no classes_ "
                f"attribute, got dtype {labels.dtype}."
            )
    labels = labels.astype(np.int64)
    if np.any(labels < 0) or (n_classes is not None and np.any(labels >= n_classes)):
        raise ValueError(
            f"{what} holds class indices outside [0, {n_classes}); the model has "
            f"{n_classes} logits."
        )
    return labels


# -- estimators -----------------------------------------------------------------------------


def _is_passthrough(step):
    return step is None or (isinstance(step, str) and step == "passthrough")


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
        steps += [(name, step) for name, step in estimator.steps[:-1]
                  if not _is_passthrough(step)]
        estimator = unwrap(estimator.steps[-1][1])
    return steps, estimator


def is_fitted(estimator):
    """Whether ``estimator`` is ready to use (the explainer's fitting rule).

    A ``torch.nn.Module`` is always considered fitted (it has no ``fit``). A pipeline is
    fitted when all of its steps are. Anything else is asked through
    :func:`sklearn.utils.validation.check_is_fitted` (which honours
    ``__sklearn_is_fitted__``, e.g. of skorch nets and :class:`FrozenEstimator`).
    """
    estimator = unwrap(estimator)
    if isinstance(estimator, nn.Module):
        return True
    if isinstance(estimator, Pipeline):
        return all(is_fitted(step) for _, step in estimator.steps if not _is_passthrough(step))
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


def to_dense(Z):
    """Dense float64 array from a transformer's output (sparse, DataFrame or array)."""
    if hasattr(Z, "toarray"):
        Z = Z.toarray()
    # Contiguous: torch cannot wrap arrays with negative strides (e.g. X[::-1]).
    return np.ascontiguousarray(Z, dtype=np.float64)


def forward(steps, X):
    """Transform ``X`` through the preprocessing ``steps`` into dense model space."""
    for _, step in steps:
        if not _is_passthrough(step):
            X = step.transform(X)
    return to_dense(X)


# -- logits modules -------------------------------------------------------------------------


class _LogProbaModule(nn.Module):
    """Logits from a module that outputs probabilities: ``softmax(log p) = p``."""

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


def _skorch_logits(net):
    """The logits module of a fitted skorch net (wrapping probability outputs)."""
    module = net.module_
    if isinstance(net, NeuralNetBinaryClassifier):
        return _BinaryLogitModule(module)
    if isinstance(getattr(net, "criterion_", None), nn.NLLLoss):
        return _LogProbaModule(module)
    return module


class _FromModule:
    """Looks up a bare module (picklable, unlike a closure)."""

    def __init__(self, module):
        self.module = module

    def __call__(self):
        return self.module, self.module, module_device(self.module)


class _FromNet:
    """Looks up a skorch net's current module, held directly or as a model's ``net_``."""

    def __init__(self, owner, attribute):
        self.owner = owner
        self.attribute = attribute

    def __call__(self):
        net = getattr(self.owner, self.attribute) if self.attribute else self.owner
        module = net.module_
        default = getattr(net, "device", None) or getattr(self.owner, "device", None) or "cpu"
        return module, _skorch_logits(net), module_device(module, default)


class ModelAdapter:
    """Uniform view of a classifier (see :func:`resolve_model`).

    The module is looked up on every use, so the adapter always sees the model's current
    state (e.g. after the model was trained further in place).

    Parameters
    ----------
    estimator : object
        The model as given, :class:`~sklearn.frozen.FrozenEstimator` removed.
    steps : list of (str, transformer)
        Preprocessing steps of a pipeline (empty otherwise).
    final : object
        The final model.
    lookup : callable or None
        Returns ``(raw_module, logits_module, device)``; None for models that only offer
        ``predict_proba``.
    classes : ndarray or None
        Class labels in column order, or None (a bare module: columns are the labels).
    mutability : ndarray of str or None
        Mutability the model was trained with (model space), or None.

    Attributes
    ----------
    differentiable : bool
        Whether the model exposes differentiable logits.
    """

    def __init__(self, estimator, steps, final, lookup, classes=None, mutability=None):
        self.estimator = estimator
        self.steps = steps
        self.final = final
        self._lookup = lookup
        self.classes = None if classes is None else np.asarray(classes)
        self.mutability = mutability
        self.differentiable = lookup is not None

    def _resolved(self):
        if self._lookup is None:
            raise TypeError(
                "Gradient-based computations need differentiable logits: pass a "
                "torch.nn.Module that returns logits, a fitted CTClassifier or a fitted "
                f"skorch net (or a Pipeline ending in one); got {type(self.final).__name__}."
            )
        return self._lookup()

    @property
    def module(self):
        """The differentiable logits module, as it is now (the model's own precision)."""
        return self._resolved()[1]

    @property
    def device(self):
        """Device of the module (CPU for models without one)."""
        return self._resolved()[2] if self.differentiable else torch.device("cpu")

    def transform(self, X):
        """Map ``X`` through the preprocessing steps into dense float64 model space."""
        return forward(self.steps, X)

    @property
    def n_features(self):
        """Number of model-space features the final model expects (None when unknown)."""
        expected = getattr(self.final, "n_features_in_", None)
        return int(expected) if isinstance(expected, numbers.Integral) else None

    def check_n_features(self, n_features):
        """Raise a clear error when the final model expects another number of features.

        Parameters
        ----------
        n_features : int
            Number of model-space features about to be passed to the model.
        """
        expected = self.n_features
        if expected is not None and expected != n_features:
            where = " after the pipeline's preprocessing" if self.steps else ""
            raise ValueError(
                f"X has {n_features} features{where}, but the model is expecting "
                f"{expected} features as input."
            )

    def _check_finite(self, values, what):
        # A model that returns NaN would make every consumer silently wrong (NaN target
        # probabilities count as invalid, argmax picks class 0): refuse it by name.
        finite = np.isfinite(values).all(axis=tuple(range(1, values.ndim)))
        if not finite.all():
            raise ValueError(
                f"The model {type(self.final).__name__} returned non-finite {what} (NaN or "
                f"inf) for {int((~finite).sum())} of {finite.size} rows."
            )
        return values

    def logits(self, Z, chunk_size=65536):
        """Logits of model-space rows ``Z`` as float64, without gradients.

        Computed in float64 from the weights (see the module's precision policy); modules
        that cannot run in float64 fall back to float32. A model that expects another
        number of features, fails on ``Z`` or returns non-finite logits raises a
        ``ValueError``.
        """
        _, module, device = self._resolved()
        if not torch.is_tensor(Z):
            Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim == 2:
            self.check_n_features(Z.shape[1])
        X64 = self.upload(Z)  # one copy to the device, also for the fallback
        with torch.no_grad(), eval_mode(module):
            try:
                state = {k: v.double() if v.is_floating_point() else v
                         for k, v in {**dict(module.named_parameters()),
                                      **dict(module.named_buffers())}.items()}
                out = [functional_call(module, state, (chunk,))
                       for chunk in torch.split(X64, chunk_size)]
            except RuntimeError:
                X32 = X64.to(torch.float32)
                try:
                    out = [module(chunk) for chunk in torch.split(X32, chunk_size)]
                except RuntimeError as exc:
                    raise ValueError(
                        f"The model {type(self.final).__name__} could not be evaluated on "
                        f"input of shape {tuple(Z.shape)}: {exc}"
                    ) from exc
        logits = torch.cat(out).double().cpu().numpy()
        if logits.ndim != 2:
            raise ValueError("The model must return logits of shape (n_samples, n_classes), "
                             f"got {logits.shape}.")
        return self._check_finite(logits, "logits")

    def upload(self, Z):
        """Model-space rows ``Z`` as a float64 tensor on the model's device.

        An array is copied once (keep the tensor to evaluate the same rows again without
        another transfer); a float64 tensor already on the device is returned as it is.

        Parameters
        ----------
        Z : ndarray or torch.Tensor of shape (n_samples, n_features)
            Rows in the model's input space.

        Returns
        -------
        Z : torch.Tensor of float64
        """
        device = self._resolved()[2]
        if torch.is_tensor(Z):
            return Z.to(device=device, dtype=torch.float64)
        return torch.as_tensor(np.ascontiguousarray(Z, dtype=np.float64), device=device)

    def proba(self, Z):
        """Class probabilities of model-space rows ``Z`` (float64).

        ``Z`` is an array, or for a differentiable model also a tensor from
        :meth:`upload` (then nothing is copied to the device).
        """
        if self.differentiable:
            if not torch.is_tensor(Z):
                Z = np.ascontiguousarray(Z, dtype=np.float64)
            return softmax(self.logits(Z))
        Z = np.ascontiguousarray(Z, dtype=np.float64)
        names = getattr(self.final, "feature_names_in_", None)
        if names is not None and len(names) == Z.shape[1]:
            # The model was fitted on a DataFrame: keep its feature names.
            Z = pd.DataFrame(Z, columns=names)
        proba = np.asarray(self.final.predict_proba(Z), dtype=np.float64)
        return self._check_finite(proba, "probabilities")

    def predict_proba(self, X, X_raw=None):
        """Class probabilities of rows ``X`` of the estimator's *input* space.

        An estimator with its own ``predict_proba`` is asked as a black box (a pipeline
        then applies its own preprocessing, to ``X_raw`` when given, e.g. a DataFrame);
        bare modules use :meth:`proba`.
        """
        own = getattr(self.estimator, "predict_proba", None)
        if own is not None and not isinstance(self.estimator, nn.Module):
            proba = np.asarray(own(X if X_raw is None else X_raw), dtype=np.float64)
            return self._check_finite(proba, "probabilities")
        return self.proba(self.transform(X))

    def search_module(self):
        """``(module, dtype)`` for a gradient search: a float64 copy on CPU, else float32.

        The float64 copy makes a row's search independent of the other rows of its batch
        (see the precision policy). It is made once per module object, and its values are
        copied from the module at every call, so it never goes stale.
        """
        raw, module, device = self._resolved()
        cache = self.__dict__.get("_copy64")
        if device.type != "cpu":
            return module, torch.float32
        if cache is None or cache[0] is not raw:
            try:
                copy64 = copy.deepcopy(module).double().requires_grad_(False).eval()
            except Exception:  # noqa: BLE001 - modules that cannot be copied or cast
                copy64 = None
            self._copy64 = cache = (raw, copy64)
        copy64 = cache[1]
        if copy64 is None:
            return module, torch.float32
        with torch.no_grad():
            for dst, src in zip([*copy64.parameters(), *copy64.buffers()],
                                [*module.parameters(), *module.buffers()]):
                if dst.shape != src.shape:  # the module was rebuilt in place
                    del self._copy64
                    return self.search_module()
                dst.copy_(src)
        return copy64, torch.float64

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_copy64", None)
        return state


def resolve_model(estimator, classes=None):
    """Build the :class:`ModelAdapter` of a fitted model.

    Parameters
    ----------
    estimator : object
        A fitted :class:`~sklearn_ct.CTClassifier` (or any object exposing a skorch net as
        ``net_``), a fitted skorch net, a ``torch.nn.Module`` returning logits, a fitted
        classifier with ``predict_proba``, a ``FrozenEstimator`` around one of those, a
        pipeline ending in one, or a :class:`ModelAdapter` (returned as it is).
    classes : array-like, default=None
        Class labels in logit order, for models that do not know their labels (a bare
        module, a skorch net fitted without them).

    Returns
    -------
    model : ModelAdapter
    """
    if isinstance(estimator, ModelAdapter):
        return estimator
    whole = unwrap(estimator)
    steps, final = split_pipeline(whole)
    if isinstance(final, nn.Module):
        return ModelAdapter(whole, steps, final, _FromModule(final), classes)
    net = getattr(final, "net_", None)
    if net is not None and isinstance(getattr(net, "module_", None), nn.Module):
        # CTClassifier-like: the skorch net is a fitted attribute, the labels are the model's.
        return ModelAdapter(whole, steps, final, _FromNet(final, "net_"),
                            getattr(final, "classes_", classes),
                            getattr(final, "mutability_", None))
    if isinstance(getattr(final, "module_", None), nn.Module):
        # A skorch net used directly; its classes_ exist only when it saw labels in fit.
        own = getattr(final, "classes_", None)
        return ModelAdapter(whole, steps, final, _FromNet(final, None),
                            own if classes is None and own is not None else classes)
    if hasattr(final, "fit") and not is_fitted(final):
        raise NotFittedError(f"This {type(final).__name__} instance is not fitted yet; call "
                             "'fit' before using it.")
    if hasattr(final, "predict_proba"):
        return ModelAdapter(whole, steps, final, None, getattr(final, "classes_", classes))
    raise TypeError(
        "The model must be a torch.nn.Module returning logits, a skorch net, a "
        "CTClassifier, or a classifier with predict_proba (e.g. in a Pipeline); got "
        f"{type(final).__name__}, which has no predict_proba."
    )
