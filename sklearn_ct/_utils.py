"""Small helpers shared across the package: seeds, devices, the eval-mode switch and
atomic fits."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import functools
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


def atomic_fit(fit):
    """Make a ``fit`` method atomic: when it raises, the estimator is left as it was.

    scikit-learn's estimators either fit or leave no trace. A fit sets attributes in
    several places (``validate_data`` sets ``n_features_in_`` and ``feature_names_in_``
    before anything else is checked), so the instance dictionary is saved on entry and
    put back when the fit raises: a fitted estimator keeps all of its fitted attributes
    (and therefore its predictions), a fresh one stays unfitted (``NotFittedError``). The
    fit itself must not change fitted objects in place (it builds new ones), so that
    restoring the attributes restores the model.

    Parameters
    ----------
    fit : callable
        The ``fit`` method (or any method that fits ``self``).

    Returns
    -------
    fit : callable
        The wrapped method.
    """
    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        saved = self.__dict__.copy()
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            # KeyboardInterrupt included: an interrupted generator fit (e.g. REVISE's
            # autoencoder) leaves nothing half-done either. skorch's convention, an
            # interrupt that ends training early, is handled inside the net and never
            # reaches here.
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    return wrapper


def check_device(device):
    """Turn a device specification into a ``torch.device``, with a clear error.

    A device whose backend is not available (``"cuda"`` on a machine or torch build
    without CUDA, ``"mps"`` without Metal) is refused here, before anything is fitted,
    rather than by torch in the middle of a fit.

    Parameters
    ----------
    device : str or torch.device
        E.g. ``"cpu"`` or ``"cuda:0"``.

    Returns
    -------
    device : torch.device
    """
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"Unknown torch device {device!r}.") from None
    available = {
        "cuda": torch.cuda.is_available,
        "mps": lambda: torch.backends.mps.is_available(),
    }.get(device.type)
    if available is not None and not available():
        raise ValueError(
            f"device={str(device)!r}, but torch reports that {device.type.upper()} is not "
            "available on this machine (or in this torch build); use device='cpu'."
        )
    if device.type == "cuda" and device.index is not None \
            and device.index >= torch.cuda.device_count():
        raise ValueError(
            f"device={str(device)!r}, but only {torch.cuda.device_count()} CUDA device(s) "
            "are visible."
        )
    return device


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
