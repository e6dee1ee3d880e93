"""The Counterfactual Training objective (paper eq. 1, spec section 1.4), defined once.

With energies ``E(x, y+) = -logit_{y+}(x)`` (logits, not log-probabilities), the loss of a
mini-batch ``(x, y)`` and its chunk of the epoch's counterfactual pool is
``CE(f(x), y) + lambda_div * div + lambda_reg * reg + lambda_adv * adv`` with the terms

* contrastive divergence ``div = mean_i E(x+_i, y+_i) - E(x'_i, y+_i)``: minimising it lowers
  the energy of real target-class samples ``x+`` and raises that of counterfactuals ``x'``;
* energy ridge ``reg = mean_i E(x+_i, y+_i)**2 + E(x'_i, y+_i)**2``: keeps energies bounded;
* adversarial loss ``adv = mean_i CE(f(x_AE_i), y_i)``: the nascent counterfactual labelled
  with its factual's true label.

:meth:`CTLoss.__call__` is the definition (differentiated by autograd).
:meth:`CTLoss.closed_form` computes the same loss together with its gradient with respect to
the logits, written down by hand, so that a training step adds no autograd nodes for the
loss; the tests check it against the definition.

The reference computes ``div`` and ``reg`` through an n-by-n matrix product and takes its
diagonal; gathering the target logits is the same number in O(n).

Adding a term: name it in :data:`TERMS`, give :class:`CTLoss` its weight and its definition
in :meth:`CTLoss.terms`; pool rows it needs are named in :data:`POOL_INPUTS` (the training
step evaluates them in the same forward pass as the batch). Without a closed form for it,
:meth:`CTLoss.has_closed_form` is False and training uses the definition.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import torch
import torch.nn.functional as F

#: The CT terms after the class loss, in the order they are added; the training history
#: records each per epoch as ``loss_<term>``.
TERMS = ("div", "reg", "adv")

#: The rows of a pool chunk that go through the model with the batch, in this order:
#: nascent counterfactuals, positive samples, counterfactuals.
POOL_INPUTS = ("x_ae", "x_pos", "x_cf")


def energy(logits, target):
    """Energy of the target class, ``E(x, y) = -logit_y(x)`` (one value per row)."""
    return -logits.gather(1, target.unsqueeze(1)).squeeze(1)


def energy_differential(logits_pos, logits_cf, target):
    """Mean of ``E(x+, y+) - E(x', y+)`` over counterfactuals."""
    return (energy(logits_pos, target) - energy(logits_cf, target)).mean()


def energy_ridge(logits_pos, logits_cf, target):
    """Mean of ``E(x+, y+)**2 + E(x', y+)**2`` over counterfactuals."""
    return (energy(logits_pos, target) ** 2 + energy(logits_cf, target) ** 2).mean()


def adversarial_loss(logits_ae, y_factual):
    """Cross-entropy of nascent counterfactuals against their factuals' true labels."""
    return F.cross_entropy(logits_ae, y_factual)


class CTLoss:
    """The CT terms of a training step, weighted.

    Parameters
    ----------
    lambda_div, lambda_reg, lambda_adv : float, default=0.0
        Weights of the energy differential, the energy ridge and the adversarial loss; a
        term with weight 0 is not computed.
    """

    def __init__(self, lambda_div=0.0, lambda_reg=0.0, lambda_adv=0.0):
        self.lambda_div = lambda_div
        self.lambda_reg = lambda_reg
        self.lambda_adv = lambda_adv

    @property
    def weights(self):
        """``{term: weight}`` for every term of :data:`TERMS`."""
        return {"div": self.lambda_div, "reg": self.lambda_reg, "adv": self.lambda_adv}

    def terms(self, logits, chunk):
        """The value of every active term (the definition, for autograd).

        Parameters
        ----------
        logits : dict of torch.Tensor
            Logits of the pool rows, by :data:`POOL_INPUTS` name.
        chunk : dict of torch.Tensor
            The batch's chunk of the pool (``target``, ``y_ae``, ...).

        Returns
        -------
        terms : dict of torch.Tensor
            ``{term: value}`` for the terms with a non-zero weight.
        """
        out = {}
        if self.lambda_div:
            out["div"] = energy_differential(logits["x_pos"], logits["x_cf"], chunk["target"])
        if self.lambda_reg:
            out["reg"] = energy_ridge(logits["x_pos"], logits["x_cf"], chunk["target"])
        if self.lambda_adv:
            out["adv"] = adversarial_loss(logits["x_ae"], chunk["y_ae"])
        return out

    def __call__(self, class_loss, logits, chunk):
        """The loss of a step: ``class_loss`` plus the weighted terms.

        Parameters
        ----------
        class_loss : torch.Tensor
            The criterion's loss on the mini-batch.
        logits : dict of torch.Tensor
            Logits of the pool rows, by :data:`POOL_INPUTS` name.
        chunk : dict of torch.Tensor
            The batch's chunk of the pool.

        Returns
        -------
        loss : torch.Tensor
            The total loss.
        terms : dict of torch.Tensor
            The unweighted active terms.
        """
        terms = self.terms(logits, chunk)
        weights = self.weights
        loss = class_loss
        for name, value in terms.items():
            loss = loss + weights[name] * value
        return loss, terms

    def has_closed_form(self, criterion):
        """Whether :meth:`closed_form` applies: plain mean cross-entropy, the known terms."""
        return (
            type(criterion) is torch.nn.CrossEntropyLoss
            and criterion.weight is None
            and criterion.reduction == "mean"
            and criterion.ignore_index == -100
            and criterion.label_smoothing == 0.0
            and type(self) is CTLoss
        )

    def closed_form(self, logits, yi, chunk, n_b, cached):
        """The loss of a step and its gradient with respect to the logits.

        ``logits`` (detached) has the rows ``[batch, x_ae, x_pos, x_cf]``. With
        ``p = softmax(logits)``, the gradients are

        * batch rows: ``(p - onehot(y)) / n_batch`` (mean cross-entropy);
        * nascent rows: ``lambda_adv * (p - onehot(y_ae)) / n_chunk``;
        * positive and counterfactual rows, target column only, with ``z`` their target
          logit: ``lambda_div / n_chunk * (-1 for x+, +1 for x') +
          2 * lambda_reg / n_chunk * z``;

        and zero elsewhere. Rows whose term is switched off get a zero gradient and do
        not enter the loss, as with autograd.

        Parameters
        ----------
        logits : torch.Tensor of shape (n_batch + 3 * n_chunk, n_classes)
            Detached logits of the batch and the chunk's rows.
        yi : torch.Tensor of int64, shape (n_batch,)
            Labels of the batch.
        chunk : dict of torch.Tensor
            The batch's chunk of the pool.
        n_b : int
            Rows of the batch.
        cached : callable
            ``cached(key, make)``: a constant tensor, made once per key (see
            :class:`~sklearn_ct._net.CTNet`).

        Returns
        -------
        loss, loss_class : torch.Tensor
            The total and the class loss.
        terms : dict of torch.Tensor
            The unweighted active terms.
        grad : torch.Tensor
            Gradient of ``loss`` with respect to ``logits``.
        """
        # The constants follow the logits' dtype (a float64 module trains too), and are
        # cached per dtype.
        device, dtype = logits.device, logits.dtype
        n_c = chunk["x_cf"].shape[0]
        lam_div, lam_reg = float(self.lambda_div), float(self.lambda_reg)
        lam_adv = float(self.lambda_adv)
        terms = {}
        # A step of a small network is a few dozen tiny tensor operations, each costing
        # more in dispatch than in arithmetic: the weights and signs below are cached per
        # (sizes, lambdas), and every term is one reduction.
        with torch.no_grad():
            # Cross-entropy rows: the batch, plus the nascent counterfactuals if used.
            n_ce = n_b + n_c if lam_adv else n_b
            labels = (torch.cat([yi, chunk["y_ae"]]) if lam_adv else yi).unsqueeze(1)
            log_p = torch.log_softmax(logits[:n_ce], dim=1)
            weight = cached(
                ("ce_weight", device, dtype, n_b, n_c, lam_adv),
                lambda: torch.cat([
                    torch.full((n_b, 1), 1.0 / n_b, device=device, dtype=dtype),
                    torch.full((n_c, 1), lam_adv / n_c, device=device, dtype=dtype),
                ])[:n_ce],
            )
            minus_one = cached(
                ("minus_one", device, dtype, n_ce),
                lambda: torch.full((n_ce, 1), -1.0, device=device, dtype=dtype),
            )
            picked = log_p.gather(1, labels)
            loss = loss_class = picked[:n_b].sum().neg_().div_(n_b)
            grad = torch.zeros_like(logits)
            torch.exp(log_p, out=grad[:n_ce]).scatter_add_(1, labels, minus_one).mul_(weight)
            if lam_adv:
                terms["adv"] = adv = picked[n_b:].sum().neg_().div_(n_c)
                loss = loss + lam_adv * adv
            if lam_div or lam_reg:
                pair = chunk.get("target_pair")
                if pair is None:
                    pair = torch.cat([chunk["target"], chunk["target"]]).unsqueeze(1)
                z = logits[n_b + n_c:].gather(1, pair)
                # -1/n_c for x+, +1/n_c for x': div is their weighted sum, and lam_div
                # times them is the gradient of lam_div * div.
                sign = cached(
                    ("sign", device, dtype, n_c),
                    lambda: torch.cat([
                        torch.full((n_c, 1), -1.0 / n_c, device=device, dtype=dtype),
                        torch.full((n_c, 1), 1.0 / n_c, device=device, dtype=dtype),
                    ]),
                )
                if lam_div:
                    terms["div"] = div = torch.vdot(sign.view(-1), z.view(-1))
                    loss = loss + lam_div * div
                if lam_reg:
                    terms["reg"] = reg = torch.vdot(z.view(-1), z.view(-1)).div_(n_c)
                    loss = loss + lam_reg * reg
                coef = cached(("coef", device, dtype, n_c, lam_div), lambda: sign * lam_div)
                # d loss / d z = lam_div * sign + 2 * lam_reg / n_c * z. (Not fused into
                # torch.add(..., alpha=): its multiply-add rounds differently, and training
                # would no longer reproduce earlier results bit for bit.)
                grad[n_b + n_c:].scatter_(1, pair, coef + z * (2 * lam_reg / n_c))
        return loss, loss_class, terms, grad


def protect_immutable(x_pos, x_cf, can_increase, can_decrease):
    """Point-mass protection of constrained features in the positive samples.

    The energy differential pulls counterfactuals ``x'`` towards positive samples ``x+``.
    Where a feature may not move in the direction of that pull, ``x+`` takes the
    counterfactual's value, so the model is not taught to rely on that feature (paper
    section 3.2, reference ``protect_immutable!``):

    * ``none``: ``x+_j := x'_j``;
    * ``increase``: ``x+_j := max(x'_j, x+_j)`` (a smaller ``x+_j`` would pull ``x'_j`` down);
    * ``decrease``: ``x+_j := min(x'_j, x+_j)``;
    * ``both``: unchanged.

    Parameters
    ----------
    x_pos, x_cf : torch.Tensor of shape (n, n_features)
        Positive samples and (mature) counterfactuals.
    can_increase, can_decrease : torch.Tensor of bool, shape (n_features,)
        Mutability masks.

    Returns
    -------
    x_pos : torch.Tensor of shape (n, n_features)
        Protected positive samples (a new tensor).
    """
    out = torch.where(can_increase, x_pos, torch.minimum(x_pos, x_cf))
    out = torch.where(can_decrease, out, torch.maximum(out, x_cf))
    return out
