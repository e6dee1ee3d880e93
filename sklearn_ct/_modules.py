"""Default PyTorch networks."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
import inspect

from torch import nn

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
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, int(size)), _ACTIVATIONS[activation]()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = int(size)
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
