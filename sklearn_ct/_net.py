"""The private skorch network that runs counterfactual training.

:class:`CTNet` is never exposed to users directly: :class:`~sklearn_ct.CTClassifier`
builds one in ``fit`` and keeps it as ``net_`` (composition; skorch nets themselves do not
pass scikit-learn's estimator checks). The counterfactual pool for each epoch is produced by
the :class:`~sklearn_ct.callbacks.CounterfactualGeneration` callback, which hands the
current mini-batch its chunk of the pool through ``net.cf_batch_``; the CT objective is
computed here, in skorch's documented override point :meth:`train_step_single`.

Small models trained with small mini-batches (the paper's 30 rows) spend most of their time
in per-batch bookkeeping rather than in arithmetic, so :class:`CTNet` trims skorch's
per-batch machinery without changing what a fit computes:

* :meth:`CTNet.get_iterator` serves in-memory array data through :class:`TensorBatches`,
  which moves the data to ``net.device`` once per fit and slices mini-batches out of one
  permuted copy per epoch, instead of indexing and collating rows one by one (and copying
  every batch to the device);
* :meth:`CTNet.notify` only calls callbacks that implement the event, so the default
  callbacks that do nothing per batch cost nothing per batch;
* the default optimizer, ``torch.optim.Adam``, runs its fused kernel
  (:meth:`CTNet.initialize_optimizer`);
* the CT step runs the batch and its chunk of the pool through the module in one forward
  pass and, with the default criterion, back-propagates the closed-form gradient of the
  loss with respect to the logits (:meth:`sklearn_ct._losses.CTLoss.closed_form`), so that
  the loss terms add no autograd nodes.

Each of these is checked against the plain formulation in the tests (a torch training
loop, the definition of the loss). Per batch, the step's accuracy and loss terms are
recorded with skorch's ``history.record_batch`` and averaged per epoch by
:class:`~skorch.callbacks.PassthroughScoring`, as skorch does for ``train_loss``.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import math
import warnings

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, PassthroughScoring, PrintLog
from skorch.dataset import Dataset, unpack_data
from skorch.utils import to_tensor
from torch.utils.data import DataLoader

from ._losses import POOL_INPUTS, TERMS, CTLoss


#: What a training step records per batch besides skorch's train_loss (and the accuracy).
_STEP_RECORDS = ("loss_class", *("loss_" + term for term in TERMS))


class NonFiniteLossWarning(RuntimeWarning):
    """Warning raised when a training step is skipped because its loss is not finite."""


class TensorBatches:
    """Mini-batches of in-memory tensors: a ``DataLoader`` without per-row collation.

    Iterating yields ``(X[rows], y[rows])`` for consecutive slices of ``batch_size`` rows
    (the last batch may be smaller). With ``shuffle=True`` each pass first draws one
    permutation ``torch.randperm(n, generator=generator)`` and gathers the permuted data
    once, so that every batch is a view; with ``shuffle=False`` the rows keep their order.
    A fixed ``generator`` seed therefore fixes the order of every epoch.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, ...)
        Inputs (already on the training device).
    y : torch.Tensor of shape (n_samples,) or None
        Targets (same device), or None.
    batch_size : int
        Rows per batch.
    shuffle : bool, default=False
        Draw a new permutation for every pass.
    generator : torch.Generator, default=None
        Source of the permutations (a CPU generator); None uses torch's global RNG.
    """

    def __init__(self, X, y, batch_size, shuffle=False, generator=None):
        self.X = X
        self.y = y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return math.ceil(self.X.shape[0] / self.batch_size)

    def __iter__(self):
        n, X, y = self.X.shape[0], self.X, self.y
        if self.shuffle:
            perm = torch.randperm(n, generator=self.generator).to(X.device)
            X = X[perm]
            y = None if y is None else y[perm]
        for start in range(0, n, self.batch_size):
            stop = start + self.batch_size
            yield X[start:stop], (None if y is None else y[start:stop])


def _is_numeric_array(data):
    if isinstance(data, torch.Tensor):
        return True
    return isinstance(data, np.ndarray) and data.dtype.kind in "biuf"


def _as_device_tensor(data, device):
    if isinstance(data, torch.Tensor):
        return data.to(device)
    return torch.as_tensor(np.asarray(data), device=device)


def _implements(callback, method_name):
    """Whether ``callback.<method_name>`` does anything (is not skorch's no-op)."""
    if method_name in getattr(callback, "__dict__", {}):  # patched on the instance
        return True
    if not isinstance(callback, Callback):
        return True
    return getattr(type(callback), method_name, None) is not getattr(Callback, method_name, None)


def _has_batch_norm(module):
    """Whether ``module`` has layers whose train-mode output depends on the whole batch."""
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in module.modules())


@contextlib.contextmanager
def _batch_norm_eval(module):
    """Batch-norm layers of ``module`` in eval mode (running statistics), the rest as is."""
    layers = [m for m in module.modules()
              if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.training]
    for m in layers:
        m.eval()
    try:
        yield module
    finally:
        for m in layers:
            m.train()


class CTNet(NeuralNet):
    """skorch ``NeuralNet`` whose training step adds the CT loss terms.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    lambda_div, lambda_reg, lambda_adv : float
        Weights of the energy differential, the energy ridge and the adversarial loss.
    shuffle_seed : int, default=None
        Seed of the order of the training rows: each fit draws its permutations from a
        new ``torch.Generator`` with this seed (unless ``iterator_train__generator`` is
        given). Keeping the seed rather than a generator among the net's parameters
        keeps a fitted net's pickle, and ``joblib.hash``, the same from call to call.
    """

    #: Iterator arguments that :class:`TensorBatches` reproduces; any other argument (e.g.
    #: ``num_workers``, ``collate_fn``) falls back to skorch's ``DataLoader``.
    _FAST_ITERATOR_ARGS = frozenset({"batch_size", "shuffle", "generator"})

    def __init__(self, *args, lambda_div=0.0, lambda_reg=0.0, lambda_adv=0.0,
                 shuffle_seed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lambda_div = lambda_div
        self.lambda_reg = lambda_reg
        self.lambda_adv = lambda_adv
        self.shuffle_seed = shuffle_seed

    # -- optimizer -----------------------------------------------------------------------

    def initialize_optimizer(self, *args, **kwargs):
        """Initialise the optimizer; plain ``torch.optim.Adam`` uses its fused kernel.

        ``torch.optim.Adam`` (the class itself, without ``fused`` or ``foreach``
        arguments) is created with ``fused=True`` where torch supports it for the
        parameters: the same update rule, computed in one kernel per step instead of a
        dozen small tensor operations per parameter, which is a sizeable share of a step
        of a small network. Results agree with the unfused update to float32 rounding.
        Any other optimizer, or ``functools.partial(torch.optim.Adam, fused=False)``, is
        used as given.
        """
        if self.optimizer is not torch.optim.Adam:
            return super().initialize_optimizer(*args, **kwargs)
        opt_args, opt_kwargs = self.get_params_for_optimizer(
            "optimizer", self.get_all_learnable_params()
        )
        if "fused" not in opt_kwargs and "foreach" not in opt_kwargs:
            try:
                self.optimizer_ = torch.optim.Adam(*opt_args, fused=True, **opt_kwargs)
                return self
            except (RuntimeError, ValueError, TypeError):
                pass  # e.g. a device or dtype without a fused kernel
        self.optimizer_ = torch.optim.Adam(*opt_args, **opt_kwargs)
        return self

    # -- per-batch machinery -------------------------------------------------------------

    def initialize(self):
        """Initialize the net; a new fit also starts a new order of the training rows."""
        self.__dict__.pop("_shuffle_generator_", None)
        return super().initialize()

    def shuffle_generator(self):
        """The generator of the training-row permutations, made from ``shuffle_seed``.

        One generator per fit, kept across ``partial_fit`` calls (a net trained in
        segments sees the same orders as one trained at once) and left out of pickles,
        like every per-fit cache.
        """
        gen = self.__dict__.get("_shuffle_generator_")
        if gen is None:
            gen = self._shuffle_generator_ = torch.Generator().manual_seed(
                int(self.shuffle_seed))
        return gen

    def get_iterator(self, dataset, training=False):
        """Batches of ``dataset``: :class:`TensorBatches` for plain in-memory arrays.

        Used when the dataset is a skorch ``Dataset`` of numeric arrays ``X`` and ``y``,
        the iterator is torch's ``DataLoader`` and only ``batch_size``, ``shuffle`` and
        ``generator`` are set; anything else goes through skorch's ``DataLoader``. The
        batches are the same rows in the same order as
        ``DataLoader(dataset, batch_size, shuffle, generator)`` would give when
        ``shuffle=False``; with ``shuffle=True`` each epoch uses one
        ``torch.randperm`` of ``generator`` (made from ``shuffle_seed`` when set).
        """
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        iterator = self.iterator_train if training else self.iterator_valid
        if training and self.shuffle_seed is not None and "generator" not in kwargs:
            kwargs["generator"] = self.shuffle_generator()
        fast = (
            type(dataset) is Dataset
            and iterator is DataLoader
            and set(kwargs) <= self._FAST_ITERATOR_ARGS
            and _is_numeric_array(dataset.X)
            and _is_numeric_array(dataset.y)
            and dataset.X.ndim >= 1
        )
        batch_size = kwargs.get("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = len(dataset)
        if not fast:
            # skorch's own get_iterator, with the generator made above.
            return iterator(dataset, **{**kwargs, "batch_size": batch_size})
        return TensorBatches(
            _as_device_tensor(dataset.X, self.device),
            _as_device_tensor(dataset.y, self.device),
            max(1, batch_size),
            shuffle=bool(kwargs.get("shuffle", False)),
            generator=kwargs.get("generator"),
        )

    def notify(self, method_name, **cb_kwargs):
        """Call ``method_name`` on the net and on every callback that implements it."""
        getattr(self, method_name)(self, **cb_kwargs)
        # The cache holds the callback objects themselves, so it notices any change of
        # ``callbacks_`` (re-initialisation, set_params, in-place edits).
        callbacks = tuple(cb for _, cb in self.callbacks_)
        cache = self.__dict__.get("_listeners_")
        if cache is None or cache[0] != callbacks:
            cache = (callbacks, {})
            self._listeners_ = cache
        listeners = cache[1].get(method_name)
        if listeners is None:
            listeners = [cb for cb in callbacks if _implements(cb, method_name)]
            cache[1][method_name] = listeners
        for cb in listeners:
            getattr(cb, method_name)(self, **cb_kwargs)

    def __getstate__(self):
        state = super().__getstate__()
        # Per-fit caches are not part of a fitted model.
        state.pop("_listeners_", None)
        state.pop("_constants_", None)
        state.pop("_shuffle_generator_", None)
        return state

    def _zero_grad_optimizer(self, set_to_none=None):
        # skorch's documented way to choose how gradients are reset (see its docstring).
        # They are set to None, not zero: when a non-finite loss skips the backward pass,
        # optimizers then leave every parameter (and Adam's moments) untouched. Done here
        # directly rather than through Optimizer.zero_grad, whose profiling wrapper costs
        # about 4% of a small network's fit.
        for name in self._optimizers:
            optimizer = getattr(self, name + "_")
            if type(optimizer).zero_grad is torch.optim.Optimizer.zero_grad:
                for group in optimizer.param_groups:
                    for param in group["params"]:
                        param.grad = None
            else:
                optimizer.zero_grad(set_to_none=True)

    # -- the CT step ---------------------------------------------------------------------

    def _cached(self, key, make):
        # Small constant tensors reused across steps (keyed by device, sizes, lambdas).
        cache = self.__dict__.setdefault("_constants_", {})
        value = cache.get(key)
        if value is None:
            value = cache[key] = make()
        return value

    def train_step_single(self, batch, **fit_params):
        """One training step: class loss plus the CT terms of this batch's chunk.

        The batch and the CT inputs of its chunk (:data:`~sklearn_ct._losses.POOL_INPUTS`)
        go through the module in one forward pass. With the default criterion the
        gradient of the loss with respect to these logits is then written down in closed
        form (:meth:`~sklearn_ct._losses.CTLoss.closed_form`) and back-propagated through
        the module with one ``backward`` call: the loss itself adds no autograd nodes,
        which are the main cost of a step of a small network. Any other criterion uses
        autograd on the definition (:class:`~sklearn_ct._losses.CTLoss`); both give the
        same loss and gradients.
        """
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        chunk = getattr(self, "cf_batch_", None)
        Xi = to_tensor(Xi, device=self.device)
        device = Xi.device
        zero = self._cached(("zero", device), lambda: torch.zeros((), device=device))
        ct_loss = CTLoss(self.lambda_div, self.lambda_reg, self.lambda_adv)
        grad = None
        if chunk is None:
            y_pred = self.infer(Xi, **fit_params)
            loss = loss_class = self.get_loss(y_pred, yi, X=Xi, training=True)
            terms = {}
        else:
            n_b = Xi.shape[0]
            pool = chunk.get("x_pool")
            if pool is None:
                pool = torch.cat([chunk[k] for k in POOL_INPUTS])
            if self._cached(("batch_norm", id(self.module_)),
                            lambda: _has_batch_norm(self.module_)):
                # Batch statistics belong to the training batch: the pool rows are
                # normalised with the running statistics and do not update them.
                logits_b = self.infer(Xi, **fit_params)
                with _batch_norm_eval(self.module_):
                    logits = torch.cat([logits_b, self.infer(pool, **fit_params)])
            else:
                # One forward pass for the batch and its pool rows.
                logits = self.infer(torch.cat([Xi, pool]), **fit_params)
            closed = self._cached(("closed_form", id(self.criterion_)),
                                  lambda: ct_loss.has_closed_form(self.criterion_))
            if closed:
                y_pred = logits.detach()[:n_b]
                loss, loss_class, terms, grad = ct_loss.closed_form(
                    logits.detach(), to_tensor(yi, device=device), chunk, n_b, self._cached)
            else:
                n_c = chunk["x_cf"].shape[0]
                y_pred, *pool = torch.split(logits, [n_b] + [n_c] * len(POOL_INPUTS))
                loss_class = self.get_loss(y_pred, yi, X=Xi, training=True)
                loss, terms = ct_loss(loss_class, dict(zip(POOL_INPUTS, pool)), chunk)
        # Everything a batch records is read back in one transfer: on an accelerator each
        # read waits for the device, and this one is needed anyway (a non-finite loss
        # skips the update). The accuracy's count of correct predictions goes along.
        # One stack and one cast: on the CPU, where reads cost nothing, this bookkeeping is
        # on the hot path of every step. (The loss terms are scalars of ours; a custom
        # criterion's loss may have shape (1,).)
        yt = None if yi is None else to_tensor(yi, device=device)
        values = torch.stack([loss.detach().reshape(()), loss_class.detach().reshape(()),
                              *(terms.get(name, zero).detach() for name in TERMS)])
        values = values.to(torch.float64)
        if yt is not None and y_pred.dim() == 2 and yt.shape == y_pred.shape[:1]:
            correct = (y_pred.detach().argmax(dim=1) == yt).sum()
            values = torch.cat([values, correct.to(torch.float64).reshape(1)])
        host = values.tolist()
        value = host[0]
        records = dict(zip(_STEP_RECORDS, host[1:1 + len(_STEP_RECORDS)]))
        if len(host) > 1 + len(_STEP_RECORDS):
            records["n_correct"] = int(host[-1])
        skipped = not math.isfinite(value)
        if skipped:
            outputs = y_pred if chunk is None else logits
            if bool(torch.isfinite(outputs).all()):
                # Finite logits, non-finite loss: the squared energies overflowed.
                cause = "Energies may be exploding: consider a larger lambda_reg."
            else:
                cause = ("The module returned non-finite logits (NaN or inf) for this "
                         "mini-batch: check the module and the data (too large a "
                         "learning rate can also make the weights diverge).")
            warnings.warn(
                f"Non-finite CT loss ({value}) in epoch {len(self.history)}; the "
                f"update of this mini-batch is skipped. {cause}",
                NonFiniteLossWarning,
                stacklevel=2,
            )
        elif grad is None:
            loss.backward()
        else:
            logits.backward(grad)
        # skorch reads ``step["loss"].item()`` after the update: a host copy of the value
        # read above, so that it does not wait for the device a second time.
        step = {"loss": torch.tensor(value, dtype=loss.dtype), "y_pred": y_pred,
                "loss_class": loss_class.detach(), "skipped": skipped,
                "host_records": records}
        for name in TERMS:
            step["loss_" + name] = terms.get(name, zero).detach()
        return step

    # -- what a fit records --------------------------------------------------------------

    def get_default_callbacks(self):
        """skorch's default callbacks, and the epoch averages of the CT step's records.

        Every batch records (:meth:`on_batch_end`) its accuracy and the CT loss terms with
        ``history.record_batch``; :class:`~skorch.callbacks.PassthroughScoring` averages
        them per epoch with batch-size weights, as skorch does for ``train_loss``.
        The epoch table (:class:`~skorch.callbacks.PrintLog`) is only there with
        ``verbose``: skorch's formats it every epoch even when it prints nothing, which
        costs about 5 % of a small network's fit.
        """
        defaults = [(name, cb) for name, cb in super().get_default_callbacks()
                    if name != "print_log"]
        averages = [(key, PassthroughScoring(key, lower_is_better=None, on_train=True))
                    for key in ("train_acc", *_STEP_RECORDS)]
        averages.append(("valid_acc", PassthroughScoring("valid_acc", lower_is_better=None)))
        # PrintLog last, so that it prints the epoch's averages.
        return defaults + averages + ([("print_log", PrintLog())] if self.verbose else [])

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **step):
        """Record the batch's accuracy, CT loss terms and whether its update was skipped."""
        record = self.history.record_batch
        y = batch[1]
        host = step.get("host_records") or {}
        if y_pred is not None and y is not None:
            correct = host.get("n_correct")
            if correct is None:
                y = torch.as_tensor(y, device=y_pred.device)
                correct = int((y_pred.argmax(dim=1) == y).sum())
            record("train_acc" if training else "valid_acc", correct / len(y))
        if training:
            for key in _STEP_RECORDS:
                if key in host:
                    record(key, host[key])
                elif key in step:
                    record(key, float(step[key]))
            record("skipped", bool(step.get("skipped", False)))

    def on_epoch_end(self, net, **kwargs):
        """Record ``n_skipped``, the updates skipped for a non-finite loss in the epoch.

        Raises
        ------
        ValueError
            If every update of the epoch was skipped: training cannot make progress, and
            going on would return an untrained model as if it were fitted.
        """
        flags = [b["skipped"] for b in self.history[-1]["batches"] if "skipped" in b]
        n_skipped = sum(flags)
        self.history.record("n_skipped", n_skipped)
        if flags and n_skipped == len(flags):
            raise ValueError(
                f"Every update of epoch {len(self.history)} was skipped: the training loss "
                f"was non-finite (NaN or inf) in all {len(flags)} mini-batches, so training "
                "cannot make progress (see the NonFiniteLossWarning for the cause)."
            )
