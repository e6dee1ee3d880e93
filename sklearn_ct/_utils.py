"""Small helpers shared across the package: seeds, devices and the eval-mode switch."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import warnings

import numpy as np
import torch

#: Exclusive upper bound of the seeds the package derives from a ``random_state``: every
#: seed fits a signed 32-bit integer, as numpy's legacy ``RandomState`` and torch accept.
SEED_MAX = np.iinfo(np.int32).max

#: Default of the deprecated ``max_iter`` parameters (a value nobody passes).
DEPRECATED = "deprecated"


@contextlib.contextmanager
def eval_mode(module):
    """Put ``module`` in eval mode (dropout off) and restore its previous mode afterwards.

    Parameters
    ----------
    module : torch.nn.Module
        The module; its mode is restored even when the block raises.

    Yields
    ------
    module : torch.nn.Module
        The same module, in eval mode.
    """
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def check_device(device):
    """Turn a device specification into a ``torch.device``, with a clear error.

    Parameters
    ----------
    device : str or torch.device
        E.g. ``"cpu"`` or ``"cuda:0"``.

    Returns
    -------
    device : torch.device
    """
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"Unknown torch device {device!r}.") from None


def module_device(module, default="cpu"):
    """Device of a module: that of its first parameter, else of its first buffer.

    Parameters
    ----------
    module : torch.nn.Module
        The module.
    default : str or torch.device, default="cpu"
        Device of a module with neither parameters nor buffers (e.g. the ``device`` a skorch
        net was configured with).

    Returns
    -------
    device : torch.device
    """
    tensor = next(module.parameters(), None)
    if tensor is None:
        tensor = next(module.buffers(), None)
    return torch.device(default) if tensor is None else tensor.device


def module_dtype(module):
    """Floating dtype of a module's parameters (float32 when it has none)."""
    tensor = next(module.parameters(), None)
    if tensor is not None and tensor.is_floating_point():
        return tensor.dtype
    return torch.float32


def renamed_max_iter(max_steps, max_iter, where, warn=True, stacklevel=3):
    """The search budget, honouring the deprecated ``max_iter`` alias of ``max_steps``.

    scikit-learn's ``max_iter`` bounds the iterations of ``fit`` and is paired with the
    fitted ``n_iter_``; the package's ``max_iter`` bounded the steps of a counterfactual
    search instead, so it was renamed ``max_steps``. A ``max_iter`` that is set still
    wins, with a :class:`FutureWarning`, until it is removed.

    Parameters
    ----------
    max_steps : int
        The value of ``max_steps``.
    max_iter : int or "deprecated"
        The value of the deprecated ``max_iter``.
    where : str
        The class or function, for the warning.
    warn : bool, default=True
        Warn when ``max_iter`` is set (once per call that validates it, e.g. ``fit``).
    stacklevel : int, default=3
        Frames between the warning and the user's call.

    Returns
    -------
    max_steps : int
    """
    if isinstance(max_iter, str) and max_iter == DEPRECATED:
        return max_steps
    if not warn:
        return max_iter
    warnings.warn(
        f"'max_iter' of {where} was renamed 'max_steps' in 0.1 and will be removed in 0.3: "
        "it bounds the steps of each counterfactual search, not the iterations of fit. "
        f"Use max_steps={max_iter!r} instead.",
        FutureWarning,
        stacklevel=stacklevel,
    )
    return max_iter
