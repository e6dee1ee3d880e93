"""Small helpers shared across the package: seeds, devices and the eval-mode switch."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib

import numpy as np
import torch

#: Exclusive upper bound of the seeds the package derives from a ``random_state``: every
#: seed fits a signed 32-bit integer, as numpy's legacy ``RandomState`` and torch accept.
SEED_MAX = np.iinfo(np.int32).max


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
