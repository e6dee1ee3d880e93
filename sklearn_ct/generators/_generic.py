"""The Generic (Wachter-style) gradient generator and its distance penalty."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseGenerator, penalty_doc


class _DistanceMixin:
    """L1 distance to the factual, optionally MAD-weighted (Wachter et al., 2017)."""

    def _fit(self, X, y):
        # The MAD weights of distance="mad_l1".
        if self.distance == "mad_l1":
            X = np.asarray(X, dtype=np.float64)
            mad = np.median(np.abs(X - np.median(X, axis=0)), axis=0)
            # Features with zero MAD (e.g. mostly-constant one-hot columns) would get an
            # infinite weight; fall back to the mean absolute deviation, then to 1.
            mean_ad = np.mean(np.abs(X - X.mean(axis=0)), axis=0)
            mad = np.where(mad > 0, mad, np.where(mean_ad > 0, mean_ad, 1.0))
            self.feature_weights_ = 1.0 / mad
        else:
            self.feature_weights_ = None

    def _distance(self, x_cf, x):
        diff = (x_cf - x).abs()
        weights = getattr(self, "feature_weights_", None)
        if weights is not None:
            diff = diff * torch.as_tensor(weights, dtype=diff.dtype, device=diff.device)
        elif self.distance == "mad_l1":
            raise RuntimeError(
                "The MAD-weighted distance needs the generator to be fitted on training "
                "data first (generator.fit(X))."
            )
        return diff.sum(dim=1)


class GenericGenerator(_DistanceMixin, BaseGenerator):
    """Wachter-style gradient counterfactual generator.

    Minimises ``CE(f(x'), y+) + lambda_cost * d(x', x)`` by gradient descent on ``x'``,
    where ``d`` is the L1 distance (the reference implementation's default) or the
    MAD-weighted L1 distance of Wachter et al. (2017).

    Parameters
    ----------
    lambda_cost : float, default=0.1
        Weight of the distance penalty.
    distance : {"l1", "mad_l1"}, default="l1"
        ``"mad_l1"`` divides each feature's absolute change by its median absolute
        deviation in the training data (learnt by :meth:`fit`).

    See Also
    --------
    ECCoGenerator : Adds an energy constraint that pulls counterfactuals towards
        high-density regions of the target class.

    References
    ----------
    Wachter, Mittelstadt and Russell (2017), "Counterfactual explanations without opening
    the black box", Harvard Journal of Law & Technology 31(2).
    """

    _parameter_constraints = {
        "lambda_cost": [Interval(numbers.Real, 0, None, closed="left")],
        "distance": [StrOptions({"l1", "mad_l1"})],
    }

    def __init__(self, lambda_cost=0.1, distance="l1"):
        self.lambda_cost = lambda_cost
        self.distance = distance

    @penalty_doc()
    def penalty(self, logits, target, x_cf, x, t, max_steps):
        """Distance penalty ``lambda_cost * d(x', x)``."""
        if self.lambda_cost == 0:
            return torch.zeros(x.shape[0], dtype=x_cf.dtype, device=x_cf.device)
        return self.lambda_cost * self._distance(x_cf, x)
