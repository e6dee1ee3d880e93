"""The private skorch network that runs counterfactual training.

:class:`CTNet` is never exposed to users directly: :class:`~sklearn_ct.CTClassifier`
builds one in ``fit`` and keeps it as ``net_`` (composition; skorch nets themselves do not
pass scikit-learn's estimator checks). The counterfactual pool for each epoch is produced by
the :class:`~sklearn_ct.callbacks.CounterfactualGeneration` callback, which hands the
current mini-batch its chunk of the pool through ``net.cf_batch_``; the CT objective is
computed here, in skorch's documented override point :meth:`train_step_single`.
"""

import warnings

import torch
from skorch import NeuralNet
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from ._losses import adversarial_loss, energy_differential, energy_ridge


class NonFiniteLossWarning(RuntimeWarning):
    """Warning raised when a training step is skipped because its loss is not finite."""


class CTNet(NeuralNet):
    """skorch ``NeuralNet`` whose training step adds the CT loss terms.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    lambda_div, lambda_reg, lambda_adv : float
        Weights of the energy differential, the energy ridge and the adversarial loss.
    """

    def __init__(self, *args, lambda_div=0.0, lambda_reg=0.0, lambda_adv=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.lambda_div = lambda_div
        self.lambda_reg = lambda_reg
        self.lambda_adv = lambda_adv

    def _zero_grad_optimizer(self, set_to_none=None):
        # Gradients are set to None, not zero: when a non-finite loss skips the backward
        # pass, optimizers then leave every parameter (and Adam's moments) untouched.
        for name in self._optimizers:
            getattr(self, name + "_").zero_grad(set_to_none=True)

    def train_step_single(self, batch, **fit_params):
        """One training step: class loss plus the CT terms of this batch's chunk."""
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        chunk = getattr(self, "cf_batch_", None)
        Xi = to_tensor(Xi, device=self.device)
        zero = torch.zeros((), device=Xi.device)
        div = reg = adv = zero
        if chunk is None:
            y_pred = self.infer(Xi, **fit_params)
        else:
            # One forward pass over the batch and all CT inputs: fewer, larger matrix
            # products than four separate calls (this dominates on small models).
            n_b, n_c = Xi.shape[0], chunk["x_cf"].shape[0]
            logits = self.infer(
                torch.cat([Xi, chunk["x_pos"], chunk["x_cf"], chunk["x_ae"]]), **fit_params
            )
            y_pred, logits_pos, logits_cf, logits_ae = torch.split(
                logits, [n_b, n_c, n_c, n_c]
            )
            target = chunk["target"]
            if self.lambda_div:
                div = energy_differential(logits_pos, logits_cf, target)
            if self.lambda_reg:
                reg = energy_ridge(logits_pos, logits_cf, target)
            if self.lambda_adv:
                adv = adversarial_loss(logits_ae, chunk["y_ae"])
        loss_class = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss = (
            loss_class + self.lambda_div * div + self.lambda_reg * reg + self.lambda_adv * adv
        )
        skipped = not bool(torch.isfinite(loss))
        if skipped:
            warnings.warn(
                f"Non-finite CT loss ({loss.item()}) in epoch {len(self.history)}; the "
                "update of this mini-batch is skipped. Energies may be exploding: "
                "consider a larger lambda_reg.",
                NonFiniteLossWarning,
                stacklevel=2,
            )
        else:
            loss.backward()
        return {
            "loss": loss,
            "y_pred": y_pred,
            "loss_class": loss_class.detach(),
            "loss_div": div.detach(),
            "loss_reg": reg.detach(),
            "loss_adv": adv.detach(),
            "skipped": skipped,
        }
