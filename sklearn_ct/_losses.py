"""The terms of the Counterfactual Training objective (paper eq. 1, spec section 1.4).

With energies ``E(x, y+) = -logit_{y+}(x)`` (logits, not log-probabilities):

* contrastive divergence ``div = mean_i E(x+_i, y+_i) - E(x'_i, y+_i)``: minimising it lowers
  the energy of real target-class samples ``x+`` and raises that of counterfactuals ``x'``;
* energy ridge ``reg = mean_i E(x+_i, y+_i)**2 + E(x'_i, y+_i)**2``: keeps energies bounded;
* adversarial loss ``adv = mean_i CE(f(x_AE_i), y_i)``: the nascent counterfactual labelled
  with its factual's true label.

The reference computes ``div`` and ``reg`` through an n-by-n matrix product and takes its
diagonal; gathering the target logits is the same number in O(n).
"""

import torch
import torch.nn.functional as F


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
