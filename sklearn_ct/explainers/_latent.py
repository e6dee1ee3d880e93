"""Latent-space search that judges convergence on the point it returns.

The shared search (:func:`sklearn_ct._search.search_counterfactuals`) evaluates the model
on ``generator.decode(state)`` and clamps the decoded point to the per-row bounds only when
it stores the counterfactual. For latent-space generators the two can differ: a row may
stop because its *unclamped* decoded point reached the target while the returned,
clamped point did not; and a row that converges at step 0 is returned as the factual
itself rather than as its decoded latent code.

:class:`BoundedLatentGenerator` wraps a latent-space generator so that its ``decode``
already clamps to the row's bounds (the factual rides along in the search state, detached
from the gradient, to know the row's bounds), and the explainer replaces step-0
convergences by the decoded initial point.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import torch

from .._constraints import row_bounds
from .._generators import BaseGenerator


class BoundedLatentGenerator(BaseGenerator):
    """Private adapter: a latent generator whose decoded points respect per-row bounds.

    Parameters
    ----------
    generator : BaseGenerator
        Fitted latent-space generator.
    lower, upper : torch.Tensor of shape (n_features,)
        Domain bounds.
    can_increase, can_decrease : torch.Tensor of bool, shape (n_features,)
        Mutability masks.
    """

    latent_space = True

    def __init__(self, generator, lower, upper, can_increase, can_decrease):
        self.generator = generator
        self.lower = lower
        self.upper = upper
        self.can_increase = can_increase
        self.can_decrease = can_decrease

    def init_state(self, x):
        """Latent code of the factuals, followed by the factuals themselves."""
        z = self.generator.init_state(x)
        self._latent_dim = z.shape[1]
        return torch.cat([z, x], dim=1)

    def decode(self, state):
        """Decoded latent part, clamped to the bounds of each row's factual."""
        z = state[:, : self._latent_dim]
        # The factual is detached: it only sets the bounds, so its part of the state gets
        # a zero gradient and never moves.
        x = state[:, self._latent_dim:].detach()
        low, high = row_bounds(x, self.lower, self.upper, self.can_increase,
                               self.can_decrease)
        return torch.clamp(self.generator.decode(z), low, high)

    def objective(self, logits, target, x_cf, x, t, max_iter):
        """The wrapped generator's objective."""
        return self.generator.objective(logits, target, x_cf, x, t, max_iter)
