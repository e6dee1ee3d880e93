"""Count the host round trips of torch code, on any device: :class:`HostSyncCounter`.

On an accelerator, every operation that brings a value back to the host (``.item()``,
``bool(tensor)``, ``.cpu()``, ``.tolist()``, ``nonzero``, boolean-mask indexing, ...)
waits for every kernel queued so far: the host stops queueing work while the device
drains, and the device idles while the host catches up. Counting these operations shows
where a device path would stall, and the count is the same on the CPU, where the
operations are cheap but go through the same calls. The counter is a
:class:`torch.overrides.TorchFunctionMode`, so it sees every call on tensors inside its
block (including the library's own) without touching the code under test.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from collections import Counter

import torch
from torch.overrides import TorchFunctionMode

#: Calls that read a tensor's value on the host (a device synchronisation on CUDA), by
#: the name the torch function mode reports.
SYNC_CALLS = frozenset({
    "item", "__bool__", "__int__", "__float__", "__index__", "tolist", "numpy",
    "__array__", "nonzero", "masked_select", "unique", "equal", "allclose",
})

#: Calls that copy a tensor to the host (a device-to-host transfer, also a
#: synchronisation).
DOWNLOAD_CALLS = frozenset({"cpu"})


def _is_mask(index):
    """Whether ``index`` (an indexing key) holds a boolean tensor (data-dependent shape)."""
    if isinstance(index, tuple):
        return any(_is_mask(i) for i in index)
    return torch.is_tensor(index) and index.dtype == torch.bool


def _to_host(args, kwargs):
    """Whether a ``Tensor.to`` call moves a tensor from an accelerator to the CPU."""
    if not (args and torch.is_tensor(args[0]) and args[0].device.type != "cpu"):
        return False
    for a in (*args[1:], kwargs.get("device")):
        if isinstance(a, (str, torch.device)) and torch.device(a).type == "cpu":
            return True
    return False


def _nbytes(args):
    """Size in bytes of the tensor that a call copies (its first argument)."""
    return args[0].nbytes if args and torch.is_tensor(args[0]) else 0


class HostSyncCounter(TorchFunctionMode):
    """Count host synchronisations and transfers of the torch calls in a ``with`` block.

    ``counts`` maps each call name to its number of calls; ``syncs`` is the total of
    host reads (synchronisations), ``downloads`` of device-to-host copies and
    ``uploads`` of host-to-device copies: tensors made from NumPy arrays or Python
    data with an explicit ``device`` (on the CPU too, where they would be copies on an
    accelerator). On the CPU, ``.cpu()`` and ``.numpy()`` count as the downloads they
    would be on an accelerator.

    Attributes
    ----------
    counts : collections.Counter
        Calls per name, for the synchronising and transferring calls only.
    bytes : collections.Counter
        Bytes copied, under ``"upload"`` (tensors made from host data) and
        ``"download"`` (``.cpu()`` and ``.to("cpu")``), to tell copies of a whole batch
        from those of a few values.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ct._host_sync import HostSyncCounter
    >>> x = torch.arange(4.0)
    >>> with HostSyncCounter() as counter:
    ...     _ = float(x.sum())
    ...     _ = x[x > 1]
    >>> counter.syncs
    2
    """

    def __init__(self):
        super().__init__()
        self.counts = Counter()
        self.bytes = Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name in SYNC_CALLS:
            self.counts[name] += 1
        elif name in DOWNLOAD_CALLS:
            self.counts["cpu"] += 1
            self.bytes["download"] += _nbytes(args)
        elif name == "to" and _to_host(args, kwargs):
            self.counts["to(cpu)"] += 1
            self.bytes["download"] += _nbytes(args)
        elif name in ("__getitem__", "__setitem__") and len(args) > 1 and _is_mask(args[1]):
            # Boolean-mask indexing sizes its result by the mask's count of True values.
            self.counts[name + "[mask]"] += 1
        elif name in ("as_tensor", "tensor") and (
                kwargs.get("device") is not None
                and not (args and torch.is_tensor(args[0]))):
            self.counts["upload"] += 1
            out = func(*args, **kwargs)
            self.bytes["upload"] += _nbytes((out,))
            return out
        return func(*args, **kwargs)

    @property
    def syncs(self):
        """Host reads: value reads, downloads and boolean-mask indexing."""
        return sum(v for k, v in self.counts.items() if k != "upload")

    @property
    def downloads(self):
        """Device-to-host copies (``.cpu()``, ``.to("cpu")``, ``.numpy()``, ``.tolist()``)."""
        return sum(self.counts[k] for k in ("cpu", "to(cpu)", "numpy", "tolist"))

    @property
    def uploads(self):
        """Tensors made from host data (host-to-device copies on an accelerator)."""
        return self.counts["upload"]

    def reset(self):
        """Forget the counts so far."""
        self.counts.clear()
        self.bytes.clear()
