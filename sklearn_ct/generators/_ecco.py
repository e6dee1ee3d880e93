"""ECCo: the energy-constrained gradient generator (CT's training-time generator)."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from .._losses import energy
from .._utils import DEPRECATED, renamed_max_iter
from ._base import BaseGenerator, penalty_doc
from ._generic import _DistanceMixin


def ecco_energy_weight(t, max_steps=None, max_iter=DEPRECATED):
    """Decay of the ECCo energy penalty over the search, ``phi(t) = a (b + t + 1)^-0.9``.

    The reference uses ``b = round(T / 25)`` and ``a = b / 10``. For ``T <= 12`` this gives
    ``b = 0`` and switches the energy penalty off entirely, so that ECCo silently turns into
    the Generic generator (reference quirk 14). We use ``b = max(1, round(T / 25))``, which
    is identical for ``T >= 13`` and keeps the energy term for short searches.

    Parameters
    ----------
    t : int
        Number of search steps taken so far.
    max_steps : int
        Search budget ``T``.
    max_iter : int
        Deprecated alias of ``max_steps``.

    Returns
    -------
    weight : float
    """
    max_steps = renamed_max_iter(max_steps, max_iter, "ecco_energy_weight")
    if max_steps is None:
        raise TypeError("ecco_energy_weight() needs the search budget max_steps.")
    b = max(1, round(max_steps / 25))
    a = b / 10
    return a * (b + t + 1) ** -0.9


class ECCoGenerator(_DistanceMixin, BaseGenerator):
    """Energy-constrained counterfactual generator (ECCo).

    ECCCo (Altmeyer et al., AAAI 2024) without its conformal term: besides the class loss
    and a distance penalty it minimises the energy of the target class at the
    counterfactual, ``E(x', y+) = -logit_{y+}(x')``, which moves counterfactuals into
    regions the model itself associates strongly with the target. The per-row objective is
    ``CE + lambda_cost * d(x', x) + lambda_energy * phi(t) * (E + 1e-3 * E**2)`` with the
    reference's decaying weight :func:`ecco_energy_weight`. The defaults are the paper's
    training-time settings.

    Parameters
    ----------
    lambda_cost : float, default=0.001
        Weight of the distance penalty (the paper's test-time evaluations use 0).
    lambda_energy : float, default=5.0
        Weight of the energy penalty.
    energy_reg : float, default=1e-3
        Weight of the squared-energy regulariser inside the energy penalty.
    distance : {"l1", "mad_l1"}, default="l1"
        Distance used by the cost penalty (see :class:`GenericGenerator`).

    See Also
    --------
    GenericGenerator : Without the energy constraint.

    References
    ----------
    Altmeyer, Farmanbar, van Deursen and Liem (2024), "Faithful model explanations through
    energy-constrained conformal counterfactuals", AAAI.
    """

    _parameter_constraints = {
        "lambda_cost": [Interval(numbers.Real, 0, None, closed="left")],
        "lambda_energy": [Interval(numbers.Real, 0, None, closed="left")],
        "energy_reg": [Interval(numbers.Real, 0, None, closed="left")],
        "distance": [StrOptions({"l1", "mad_l1"})],
    }

    def __init__(self, lambda_cost=0.001, lambda_energy=5.0, energy_reg=1e-3, distance="l1"):
        self.lambda_cost = lambda_cost
        self.lambda_energy = lambda_energy
        self.energy_reg = energy_reg
        self.distance = distance

    @penalty_doc()
    def penalty(self, logits, target, x_cf, x, t, max_steps):
        """Distance and energy penalties."""
        # Terms are only added when present: the search runs this every step, and a
        # zero start would add an op (and a backward node) without changing a gradient.
        out = None
        if self.lambda_cost:
            out = self.lambda_cost * self._distance(x_cf, x)
        if self.lambda_energy:
            e = energy(logits, target)
            phi = ecco_energy_weight(t, max_steps)
            term = self.lambda_energy * phi * (e + self.energy_reg * e**2)
            out = term if out is None else out + term
        if out is None:
            out = torch.zeros(x.shape[0], dtype=x_cf.dtype, device=x_cf.device)
        return out
