"""Counterfactual generators: the objectives minimised by the batched search.

A generator is a small configuration object (a scikit-learn ``BaseEstimator``, so its
parameters appear as ``generator__<param>`` in grid searches). It does not run a search
itself: :func:`sklearn_ct._search.search_counterfactuals` runs one batched gradient search
for every generator, and asks the generator for

* the per-row objective at the current iterate (:meth:`BaseGenerator.objective`);
* the search state and how to decode it into feature space (:meth:`BaseGenerator.init_state`,
  :meth:`BaseGenerator.decode`), which is the identity for feature-space generators and
  lets latent-space generators (REVISE) share the engine;
* data-dependent state learnt from training data (:meth:`BaseGenerator.fit`), e.g. the
  per-feature MAD for a MAD-weighted distance.

Objectives are per row and summed over the batch before differentiation, so every row's
gradient depends on that row alone: a batch never couples its rows.
"""

import numbers

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions, validate_params



def energy(logits, target):
    """Energy of the target class, ``E(x, y) = -logit_y(x)`` (one value per row)."""
    return -logits.gather(1, target.unsqueeze(1)).squeeze(1)


class BaseGenerator(BaseEstimator):
    """Base class of counterfactual generators.

    Subclasses implement :meth:`penalty`; the class loss (cross-entropy of the model's
    logits towards the target) is common to all gradient-based generators.

    Attributes set by :meth:`fit` end with an underscore, as for estimators.
    """

    #: Whether the search state lives in a latent space (then mutability is enforced by
    #: projection in feature space rather than by masking the step).
    latent_space = False

    def fit(self, X, y=None):
        """Learn data-dependent state from training data (nothing by default).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Training data in model space.
        y : ndarray of shape (n_samples,), default=None
            Encoded labels.

        Returns
        -------
        self : object
        """
        return self

    def init_state(self, x):
        """Search state for factuals ``x`` (identity for feature-space generators).

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)
            Factuals.

        Returns
        -------
        state : torch.Tensor of shape (n, n_state)
            Initial search state.
        """
        return x.clone()

    def decode(self, state):
        """Map a search state to feature space (identity for feature-space generators).

        Parameters
        ----------
        state : torch.Tensor of shape (n, n_state)
            Search state.

        Returns
        -------
        x_cf : torch.Tensor of shape (n, n_features)
            Counterfactuals in feature space.
        """
        return state

    def objective(self, logits, target, x_cf, x, t, max_iter):
        """Per-row objective: class loss towards ``target`` plus :meth:`penalty`.

        Parameters
        ----------
        logits : torch.Tensor of shape (n, n_classes)
            Model logits at the current counterfactuals.
        target : torch.Tensor of int64, shape (n,)
            Target class indices.
        x_cf : torch.Tensor of shape (n, n_features)
            Current counterfactuals (feature space).
        x : torch.Tensor of shape (n, n_features)
            Factuals.
        t : int
            Number of search steps taken so far.
        max_iter : int
            Search budget ``T``.

        Returns
        -------
        loss : torch.Tensor of shape (n,)
        """
        loss = F.cross_entropy(logits, target, reduction="none")
        return loss + self.penalty(logits, target, x_cf, x, t, max_iter)

    def penalty(self, logits, target, x_cf, x, t, max_iter):
        """Per-row penalty added to the class loss (zero by default).

        Parameters
        ----------
        logits : torch.Tensor of shape (n, n_classes)
            Model logits at the current counterfactuals.
        target : torch.Tensor of int64, shape (n,)
            Target class indices.
        x_cf : torch.Tensor of shape (n, n_features)
            Current counterfactuals.
        x : torch.Tensor of shape (n, n_features)
            Factuals.
        t : int
            Number of search steps taken so far.
        max_iter : int
            Search budget ``T``.

        Returns
        -------
        penalty : torch.Tensor of shape (n,)
            Per-row penalty.
        """
        return torch.zeros(x.shape[0], dtype=x_cf.dtype, device=x_cf.device)


class _DistanceMixin:
    """L1 distance to the factual, optionally MAD-weighted (Wachter et al., 2017)."""

    def fit(self, X, y=None):
        """Learn the MAD weights when ``distance="mad_l1"``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Training data in model space.
        y : ndarray of shape (n_samples,), default=None
            Ignored.

        Returns
        -------
        self : object
            Fitted generator.
        """
        self._validate_params()
        self._fit_distance(X)
        return self

    def _fit_distance(self, X):
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

    def penalty(self, logits, target, x_cf, x, t, max_iter):
        """Distance penalty ``lambda_cost * d(x', x)``.

        Parameters
        ----------
        logits : torch.Tensor of shape (n, n_classes)
            Model logits at the current counterfactuals.
        target : torch.Tensor of int64, shape (n,)
            Target class indices.
        x_cf : torch.Tensor of shape (n, n_features)
            Current counterfactuals.
        x : torch.Tensor of shape (n, n_features)
            Factuals.
        t : int
            Number of search steps taken so far.
        max_iter : int
            Search budget ``T``.

        Returns
        -------
        penalty : torch.Tensor of shape (n,)
            Per-row penalty.
        """
        if self.lambda_cost == 0:
            return torch.zeros(x.shape[0], dtype=x_cf.dtype, device=x_cf.device)
        return self.lambda_cost * self._distance(x_cf, x)


def ecco_energy_weight(t, max_iter):
    """Decay of the ECCo energy penalty over the search, ``phi(t) = a (b + t + 1)^-0.9``.

    The reference uses ``b = round(T / 25)`` and ``a = b / 10``. For ``T <= 12`` this gives
    ``b = 0`` and switches the energy penalty off entirely, so that ECCo silently turns into
    the Generic generator (reference quirk 14). We use ``b = max(1, round(T / 25))``, which
    is identical for ``T >= 13`` and keeps the energy term for short searches.

    Parameters
    ----------
    t : int
        Number of search steps taken so far.
    max_iter : int
        Search budget ``T``.

    Returns
    -------
    weight : float
    """
    b = max(1, round(max_iter / 25))
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

    def penalty(self, logits, target, x_cf, x, t, max_iter):
        """Distance and energy penalties.

        Parameters
        ----------
        logits : torch.Tensor of shape (n, n_classes)
            Model logits at the current counterfactuals.
        target : torch.Tensor of int64, shape (n,)
            Target class indices.
        x_cf : torch.Tensor of shape (n, n_features)
            Current counterfactuals.
        x : torch.Tensor of shape (n, n_features)
            Factuals.
        t : int
            Number of search steps taken so far.
        max_iter : int
            Search budget ``T``.

        Returns
        -------
        penalty : torch.Tensor of shape (n,)
            Per-row penalty.
        """
        out = torch.zeros(x.shape[0], dtype=x_cf.dtype, device=x_cf.device)
        if self.lambda_cost:
            out = out + self.lambda_cost * self._distance(x_cf, x)
        if self.lambda_energy:
            e = energy(logits, target)
            phi = ecco_energy_weight(t, max_iter)
            out = out + self.lambda_energy * phi * (e + self.energy_reg * e**2)
        return out


@validate_params({"generator": [None, str, BaseGenerator]}, prefer_skip_nested_validation=True)
def check_generator(generator, default="ecco"):
    """Resolve a generator specification to a fresh generator instance.

    Parameters
    ----------
    generator : None, str or BaseGenerator
        ``None`` gives the ``default``; the strings ``"generic"`` and ``"ecco"`` give the
        generator with default parameters; an instance is cloned.
    default : str, default="ecco"
        Generator used for ``None``.

    Returns
    -------
    generator : BaseGenerator
        An unfitted copy.
    """
    from sklearn.base import clone

    if generator is None:
        generator = default
    if isinstance(generator, str):
        known = {"generic": GenericGenerator, "ecco": ECCoGenerator}
        key = generator.lower()
        if key not in known:
            raise ValueError(f"Unknown generator {generator!r}; expected one of {sorted(known)}.")
        return known[key]()
    return clone(generator)
