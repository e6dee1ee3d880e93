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
  loss with respect to the logits (:meth:`CTNet._ct_loss_closed_form`), so that the loss
  terms add no autograd nodes.

Each of these is checked against the plain formulation in the tests (a torch training
loop, the autograd version of the loss).
"""

import math
import warnings

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import Dataset, unpack_data
from skorch.utils import to_tensor
from torch.utils.data import DataLoader

from ._losses import adversarial_loss, energy_differential, energy_ridge


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


class CTNet(NeuralNet):
    """skorch ``NeuralNet`` whose training step adds the CT loss terms.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    lambda_div, lambda_reg, lambda_adv : float
        Weights of the energy differential, the energy ridge and the adversarial loss.
    """

    #: Iterator arguments that :class:`TensorBatches` reproduces; any other argument (e.g.
    #: ``num_workers``, ``collate_fn``) falls back to skorch's ``DataLoader``.
    _FAST_ITERATOR_ARGS = frozenset({"batch_size", "shuffle", "generator"})

    def __init__(self, *args, lambda_div=0.0, lambda_reg=0.0, lambda_adv=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.lambda_div = lambda_div
        self.lambda_reg = lambda_reg
        self.lambda_adv = lambda_adv

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

    def get_iterator(self, dataset, training=False):
        """Batches of ``dataset``: :class:`TensorBatches` for plain in-memory arrays.

        Used when the dataset is a skorch ``Dataset`` of numeric arrays ``X`` and ``y``,
        the iterator is torch's ``DataLoader`` and only ``batch_size``, ``shuffle`` and
        ``generator`` are set; anything else goes through skorch's ``DataLoader``. The
        batches are the same rows in the same order as
        ``DataLoader(dataset, batch_size, shuffle, generator)`` would give when
        ``shuffle=False``; with ``shuffle=True`` each epoch uses one
        ``torch.randperm`` of ``generator``.
        """
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        iterator = self.iterator_train if training else self.iterator_valid
        fast = (
            type(dataset) is Dataset
            and iterator is DataLoader
            and set(kwargs) <= self._FAST_ITERATOR_ARGS
            and _is_numeric_array(dataset.X)
            and _is_numeric_array(dataset.y)
            and dataset.X.ndim >= 1
        )
        if not fast:
            return super().get_iterator(dataset, training=training)
        batch_size = kwargs.get("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = len(dataset)
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
        return state

    def _zero_grad_optimizer(self, set_to_none=None):
        # Gradients are set to None, not zero: when a non-finite loss skips the backward
        # pass, optimizers then leave every parameter (and Adam's moments) untouched.
        for name in self._optimizers:
            optimizer = getattr(self, name + "_")
            if type(optimizer).zero_grad is torch.optim.Optimizer.zero_grad:
                # What zero_grad(set_to_none=True) does, without its profiling wrapper.
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

    def _closed_form_gradient(self):
        """Whether the CT loss is plain mean cross-entropy plus the CT terms."""
        crit = self.criterion_
        return (
            type(crit) is torch.nn.CrossEntropyLoss
            and crit.weight is None
            and crit.reduction == "mean"
            and crit.ignore_index == -100
            and crit.label_smoothing == 0.0
        )

    def train_step_single(self, batch, **fit_params):
        """One training step: class loss plus the CT terms of this batch's chunk.

        The batch and the CT inputs of its chunk (nascent counterfactuals, positives,
        counterfactuals, in this order) go through the module in one forward pass.
        With the default criterion the gradient of the loss with respect to these
        logits is then written down in closed form (:meth:`_ct_loss_closed_form`) and
        back-propagated through the module with one ``backward`` call: the loss itself
        adds no autograd nodes, which are the main cost of a step of a small network.
        Any other criterion uses autograd throughout (:meth:`_ct_loss_autograd`); both
        give the same loss and gradients.
        """
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        chunk = getattr(self, "cf_batch_", None)
        Xi = to_tensor(Xi, device=self.device)
        device = Xi.device
        zero = self._cached(("zero", device), lambda: torch.zeros((), device=device))
        if chunk is None:
            y_pred = self.infer(Xi, **fit_params)
            loss = loss_class = self.get_loss(y_pred, yi, X=Xi, training=True)
            div = reg = adv = zero
            grad = None
        else:
            n_b = Xi.shape[0]
            logits = self.infer(
                torch.cat([Xi, chunk["x_ae"], chunk["x_pos"], chunk["x_cf"]]), **fit_params
            )
            if self._closed_form_gradient():
                y_pred = logits.detach()[:n_b]
                loss, loss_class, div, reg, adv, grad = self._ct_loss_closed_form(
                    logits.detach(), to_tensor(yi, device=device), chunk, n_b, zero
                )
            else:
                y_pred = logits[:n_b]
                loss, loss_class, div, reg, adv = self._ct_loss_autograd(
                    logits, yi, Xi, chunk, n_b, zero
                )
                grad = None
        value = loss.item()
        skipped = not math.isfinite(value)
        if skipped:
            warnings.warn(
                f"Non-finite CT loss ({value}) in epoch {len(self.history)}; the "
                "update of this mini-batch is skipped. Energies may be exploding: "
                "consider a larger lambda_reg.",
                NonFiniteLossWarning,
                stacklevel=2,
            )
        elif grad is None:
            loss.backward()
        else:
            logits.backward(grad)
        return {
            "loss": loss,
            "y_pred": y_pred,
            "loss_class": loss_class.detach(),
            "loss_div": div.detach(),
            "loss_reg": reg.detach(),
            "loss_adv": adv.detach(),
            "skipped": skipped,
        }

    def _ct_loss_autograd(self, logits, yi, Xi, chunk, n_b, zero):
        """CT loss terms of one step, differentiated by autograd (any criterion)."""
        n_c = chunk["x_cf"].shape[0]
        y_pred, logits_ae, logits_pos, logits_cf = torch.split(logits, [n_b, n_c, n_c, n_c])
        loss = loss_class = self.get_loss(y_pred, yi, X=Xi, training=True)
        div = reg = adv = zero
        target = chunk["target"]
        if self.lambda_div:
            div = energy_differential(logits_pos, logits_cf, target)
            loss = loss + self.lambda_div * div
        if self.lambda_reg:
            reg = energy_ridge(logits_pos, logits_cf, target)
            loss = loss + self.lambda_reg * reg
        if self.lambda_adv:
            adv = adversarial_loss(logits_ae, chunk["y_ae"])
            loss = loss + self.lambda_adv * adv
        return loss, loss_class, div, reg, adv

    def _ct_loss_closed_form(self, logits, yi, chunk, n_b, zero):
        """CT loss terms of one step and their gradient with respect to the logits.

        ``logits`` (detached) has the rows ``[batch, x_ae, x_pos, x_cf]``. With
        ``p = softmax(logits)``, the gradients are

        * batch rows: ``(p - onehot(y)) / n_batch`` (mean cross-entropy);
        * nascent rows: ``lambda_adv * (p - onehot(y_ae)) / n_chunk``;
        * positive and counterfactual rows, target column only, with ``z`` their target
          logit: ``lambda_div / n_chunk * (-1 for x+, +1 for x') +
          2 * lambda_reg / n_chunk * z``;

        and zero elsewhere. Rows whose term is switched off get a zero gradient and do
        not enter the loss, as with autograd.
        """
        device = logits.device
        n_c = chunk["x_cf"].shape[0]
        lam_div, lam_reg = float(self.lambda_div), float(self.lambda_reg)
        lam_adv = float(self.lambda_adv)
        div = reg = adv = zero
        with torch.no_grad():
            # Cross-entropy rows: the batch, plus the nascent counterfactuals if used.
            n_ce = n_b + n_c if lam_adv else n_b
            labels = torch.cat([yi, chunk["y_ae"]]) if lam_adv else yi
            log_p = torch.log_softmax(logits[:n_ce], dim=1)
            nll = -log_p.gather(1, labels.unsqueeze(1)).squeeze(1)
            loss = loss_class = nll[:n_b].mean()
            weight = self._cached(
                ("ce_weight", device, n_b, n_c, lam_adv),
                lambda: torch.cat([
                    torch.full((n_b, 1), 1.0 / n_b, device=device),
                    torch.full((n_c, 1), lam_adv / n_c, device=device),
                ])[:n_ce],
            )
            minus_one = self._cached(
                ("minus_one", device, n_ce), lambda: torch.full((n_ce, 1), -1.0, device=device)
            )
            grad_ce = log_p.exp_().scatter_add_(1, labels.unsqueeze(1), minus_one).mul_(weight)
            if lam_adv:
                adv = nll[n_b:].mean()
                loss = loss + lam_adv * adv
            grad = torch.zeros_like(logits)
            grad[:n_ce] = grad_ce
            if lam_div or lam_reg:
                pair = chunk.get("target_pair")
                if pair is None:
                    pair = torch.cat([chunk["target"], chunk["target"]]).unsqueeze(1)
                z = logits[n_b + n_c:].gather(1, pair)
                sign = self._cached(
                    ("sign", device, n_c),
                    lambda: torch.cat([
                        torch.full((n_c, 1), -1.0 / n_c, device=device),
                        torch.full((n_c, 1), 1.0 / n_c, device=device),
                    ]),
                )
                if lam_div:
                    div = (z[n_c:] - z[:n_c]).mean()
                    loss = loss + lam_div * div
                if lam_reg:
                    reg = z.square().sum() / n_c
                    loss = loss + lam_reg * reg
                grad[n_b + n_c:].scatter_(1, pair, lam_div * sign + (2 * lam_reg / n_c) * z)
        return loss, loss_class, div, reg, adv, grad
