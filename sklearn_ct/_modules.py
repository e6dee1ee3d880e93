"""Default PyTorch networks."""

import torch
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
    import copy
    import inspect

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


def module_device(module):
    """Device of a module's first parameter (CPU for parameter-free modules)."""
    for p in module.parameters():
        return p.device
    return torch.device("cpu")


def module_logits(module, X, device="cpu", chunk_size=65536):
    """Evaluate a logits module on an array without gradients, in float64.

    Predictions are computed in double precision from the (float32) weights: float32
    matrix products use batch-size dependent kernels, so a row's float32 logits can change
    in the last bit with the other rows of the batch. In float64 those differences are
    far below anything that matters, and a row's prediction does not depend on its batch.
    Modules that cannot run in float64 fall back to float32.

    Parameters
    ----------
    module : torch.nn.Module
        Network returning logits.
    X : array-like of shape (n_samples, n_features)
        Inputs.
    device : str or torch.device, default="cpu"
        Device of the module.
    chunk_size : int, default=65536
        Rows per forward pass.

    Returns
    -------
    logits : ndarray of shape (n_samples, n_classes)
    """
    import numpy as np
    from torch.func import functional_call

    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            try:
                state = {k: v.double() if v.is_floating_point() else v
                         for k, v in {**dict(module.named_parameters()),
                                      **dict(module.named_buffers())}.items()}
                X64 = torch.as_tensor(np.asarray(X, dtype=np.float64), device=device)
                out = [functional_call(module, state, (chunk,))
                       for chunk in torch.split(X64, chunk_size)]
            except RuntimeError:
                X32 = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)
                out = [module(chunk) for chunk in torch.split(X32, chunk_size)]
    finally:
        module.train(was_training)
    return torch.cat(out).double().cpu().numpy()
