"""Default PyTorch networks."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
import inspect
import numbers

import numpy as np
import torch
from torch import nn

from ._utils import eval_mode

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}


class MLP(nn.Module):
    """Multi-layer perceptron returning logits (no softmax).

    The paper's model for every dataset is ``MLP(n_features, n_classes, (32,))``.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_classes : int
        Number of classes (output logits; two logits for binary problems, as in the
        reference, so that probabilities are a softmax over classes).
    hidden_layer_sizes : tuple of int, default=(32,)
        Width of each hidden layer; ``()`` gives a linear model.
    activation : {"relu", "tanh", "logistic", "elu", "gelu"}, default="relu"
        Hidden-layer activation.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    """

    def __init__(self, n_features, n_classes, hidden_layer_sizes=(32,), activation="relu",
                 dropout=0.0):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"Unknown activation {activation!r}; expected one of {sorted(_ACTIVATIONS)}."
            )
        layers = []
        width = n_features
        for size in check_hidden_layer_sizes(hidden_layer_sizes):
            layers += [nn.Linear(width, size), _ACTIVATIONS[activation]()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        """Compute the logits.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        logits : torch.Tensor of shape (n_samples, n_classes)
            Unnormalised class scores.
        """
        return self.layers(X)


def check_hidden_layer_sizes(hidden_layer_sizes):
    """Validate the widths of hidden layers: a sequence of positive integers.

    Torch would refuse a negative width with an unrelated message, build a constant model
    from a zero width, and ``int`` would silently truncate a fractional one.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int
        Width of every hidden layer (may be empty).

    Returns
    -------
    sizes : tuple of int
    """
    try:
        sizes = tuple(hidden_layer_sizes)
    except TypeError:
        sizes = None
    if sizes is None or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, (bool, np.bool_)) and s >= 1
        for s in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must be a sequence of positive integers (the width of "
            f"every hidden layer, e.g. (32,)); got {hidden_layer_sizes!r}."
        )
    return tuple(int(s) for s in sizes)


def check_logits_module(module, X, n_classes, *, device="cpu", when="at the start of fit",
                        hint="it cannot be trained or used for predictions"):
    """Check that ``module`` maps rows of ``X`` to finite logits, one per class.

    One forward pass on a few rows, in eval mode and without gradients, so that a module
    that does not fit the problem is refused with a message naming it, instead of
    failing inside the loss with an index error, or training silently with the wrong
    number of outputs.

    Parameters
    ----------
    module : torch.nn.Module
        The network (on ``device``).
    X : ndarray of shape (n_samples, n_features)
        Rows to evaluate (the first 8 are used), as the network is trained on them.
    n_classes : int
        Number of classes, hence of logits.
    device : str or torch.device, default="cpu"
        Device of the module.
    when : str, default="at the start of fit"
        When the check runs, for the messages.
    hint : str, default="it cannot be trained or used for predictions"
        What non-finite logits mean at this point, for the message.

    Raises
    ------
    ValueError
        If the forward pass fails, or its output is not a floating tensor of shape
        ``(n_rows, n_classes)`` with finite values.
    """
    name = type(module).__name__
    x = torch.as_tensor(np.ascontiguousarray(X[:8], dtype=np.float32), device=device)
    shape = tuple(x.shape)
    # A module may draw random numbers in its forward pass; the check must not shift the
    # seeded draws of the fit that follows.
    devices = [torch.device(device).index or 0] if torch.device(device).type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad(), eval_mode(module):
            out = module(x)
    except Exception as exc:  # noqa: BLE001 - any failure of user code, named clearly
        raise ValueError(
            f"The module {name} failed {when} on input of shape {shape} ({shape[1]} "
            f"features): {type(exc).__name__}: {exc}"
        ) from exc
    expected = (shape[0], n_classes)
    if not torch.is_tensor(out):
        raise ValueError(f"The module {name} must return a tensor of logits; it returned "
                         f"a {type(out).__name__} {when}.")
    if tuple(out.shape) != expected:
        raise ValueError(
            f"The module {name} returned an output of shape {tuple(out.shape)} for input of "
            f"shape {shape}; expected logits of shape {expected}, one column per class "
            f"({n_classes} classes)."
        )
    if not out.is_floating_point():
        raise ValueError(f"The module {name} returned logits of dtype {out.dtype}; they must "
                         "be floating point (e.g. torch.float32).")
    if not bool(torch.isfinite(out).all()):
        raise ValueError(
            f"The module {name} returned non-finite logits (NaN or inf) {when}, on training "
            f"rows: {hint}."
        )


def build_module(module, n_features, n_classes, module_params, hidden_layer_sizes, activation):
    """Instantiate the network for a fit.

    ``module`` may be None (the default :class:`MLP`), an ``nn.Module`` subclass (called with
    ``n_features``/``n_classes`` when its constructor accepts them, plus ``module_params``),
    or an ``nn.Module`` instance (deep-copied, so that ``fit`` never changes a parameter).
    """
    params = dict(module_params or {})
    if module is None:
        return MLP(n_features, n_classes, hidden_layer_sizes=hidden_layer_sizes,
                   activation=activation, **params)
    if isinstance(module, nn.Module):
        if params:
            raise ValueError("module_params can only be used with a module class, not an "
                             "instance.")
        return copy.deepcopy(module)
    if isinstance(module, type) and issubclass(module, nn.Module):
        sig = inspect.signature(module.__init__).parameters
        accepts_kwargs = any(p.kind == p.VAR_KEYWORD for p in sig.values())
        for name, value in (("n_features", n_features), ("n_classes", n_classes)):
            if name in sig or accepts_kwargs:
                params.setdefault(name, value)
        return module(**params)
    raise TypeError(
        "module must be None, a torch.nn.Module subclass or a torch.nn.Module instance; "
        f"got {module!r}."
    )
