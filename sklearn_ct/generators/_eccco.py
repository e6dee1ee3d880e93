"""ECCCo: ECCo plus the smooth conformal set-size penalty, calibrated by split conformal."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from torch import nn

from .._model import resolve_model
from .._utils import SEED_MAX, eval_mode, module_device, module_dtype
from ._base import penalty_doc
from ._ecco import ECCoGenerator


def conformal_quantile(scores, coverage):
    """Threshold of split conformal prediction from calibration scores.

    With ``n`` non-conformity scores of held-out rows at their true labels, the threshold is
    the ``ceil((n + 1) * coverage)``-th smallest score; the sets
    ``{y : s(x, y) <= q}`` then contain the true label of a new exchangeable row with
    probability at least ``coverage`` (Vovk et al., 2005; Angelopoulos and Bates, 2023).
    When that rank exceeds ``n`` (too few rows for the coverage) every label must be in
    every set; the scores ``1 - p(y | x)`` are at most 1, so 1.0 is returned, which keeps
    the smooth set size differentiable.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Non-conformity scores of the calibration rows.
    coverage : float
        Requested coverage ``1 - alpha``, in (0, 1).

    Returns
    -------
    q_hat : float
        The threshold.
    """
    scores = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    n = scores.size
    if n == 0:
        raise ValueError("Conformal calibration needs at least one calibration row.")
    rank = math.ceil((n + 1) * coverage)
    return float(scores[rank - 1]) if rank <= n else 1.0


def smooth_set_size(proba, q_hat, temperature):
    """Smooth size of the conformal prediction sets (Stutz et al., 2022).

    Label ``k`` belongs to the set of ``x`` when its non-conformity score
    ``s(x, k) = 1 - p(k | x)`` is at most ``q_hat``; the smooth membership replaces that
    step by ``sigmoid((q_hat - s(x, k)) / temperature)``, and the smooth set size is its sum
    over labels.

    Parameters
    ----------
    proba : torch.Tensor of shape (n, n_classes)
        Predicted probabilities.
    q_hat : float
        Conformal threshold (:func:`conformal_quantile`).
    temperature : float
        Temperature ``T`` of the sigmoid (smaller: closer to the hard set size).

    Returns
    -------
    size : torch.Tensor of shape (n,)
        Smooth set size of every row.
    """
    return torch.sigmoid((q_hat - (1.0 - proba)) / temperature).sum(dim=1)


class ECCCoGenerator(ECCoGenerator):
    """Energy-constrained conformal counterfactual generator (ECCCo).

    ECCo's objective (class loss, distance and energy penalties, see
    :class:`ECCoGenerator`) plus ECCCo's penalty on the smooth size of the model's conformal
    prediction set at the counterfactual (Altmeyer et al., AAAI 2024):
    ``lambda_conformal * max(0, sum_k C_k(x') - kappa)`` with the smooth memberships
    ``C_k(x') = sigmoid((q_hat - (1 - p(k | x'))) / temperature)`` of Stutz et al. (2022).
    A large set means the model is uncertain at ``x'``; the penalty pulls counterfactuals
    to where the model is confidently, and only, the target. As in ECCCo, the penalty acts
    on rows whose target probability has reached 0.5 (before that, the class loss leads).

    The threshold ``q_hat`` comes from split conformal prediction: :meth:`fit` holds out
    ``calibration_size`` of its data as the calibration set, and every call of
    :meth:`generate` (every epoch, in training) computes the non-conformity scores
    ``1 - p(y | x)`` of the current model at those rows' true labels and takes their
    conformal quantile (:func:`conformal_quantile`), so the sets of the model being
    explained cover the true label with probability ``coverage``. The calibration rows
    should be rows the model did not train on: :class:`~sklearn_ct.CTClassifier` leaves
    them out of its training data, and a post-hoc explainer should be fitted on held-out
    data (e.g. a validation split).

    Parameters
    ----------
    lambda_cost : float, default=0.001
        Weight of the distance penalty.
    lambda_energy : float, default=5.0
        Weight of the energy penalty.
    energy_reg : float, default=1e-3
        Weight of the squared-energy regulariser inside the energy penalty.
    distance : {"l1", "mad_l1"}, default="l1"
        Distance used by the cost penalty.
    lambda_conformal : float, default=0.4
        Weight of the set-size penalty (ECCCo's 0.4).
    coverage : float, default=0.95
        Coverage ``1 - alpha`` of the conformal sets (ECCCo's 0.95).
    temperature : float, default=0.1
        Temperature ``T`` of the smooth set membership (ECCCo's 0.1).
    kappa : float, default=1.0
        Set size that is not penalised (ECCCo's 1: a singleton set is free).
    calibration_size : float or int, default=0.2
        Share (float in (0, 1)) or number (int) of the rows given to :meth:`fit` that are
        held out for calibration; stratified by label when every class has two rows.
    random_state : int, RandomState instance or None, default=None
        Seed of the calibration split.

    Attributes
    ----------
    calibration_rows_ : ndarray of int
        Rows of the data given to :meth:`fit` that form the calibration set.
    X_calibration_, y_calibration_ : ndarray
        The calibration set (inputs in model space, and encoded labels).
    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    See Also
    --------
    ECCoGenerator : Without the conformal penalty.
    conformal_quantile, smooth_set_size : The two pieces of the penalty.

    References
    ----------
    Altmeyer, Farmanbar, van Deursen and Liem (2024), "Faithful model explanations through
    energy-constrained conformal counterfactuals", AAAI.

    Stutz, Dvijotham, Cemgil and Doucet (2022), "Learning optimal conformal classifiers",
    ICLR.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from sklearn_ct import CTClassifier
    >>> from sklearn_ct.generators import ECCCoGenerator
    >>> X, y = make_moons(300, noise=0.1, random_state=0)
    >>> clf = CTClassifier(objective="vanilla", max_epochs=20, random_state=0).fit(X, y)
    >>> gen = ECCCoGenerator(random_state=0).fit(X, y)
    >>> q_hat = gen.calibrate(clf)
    >>> gen.prediction_sets(clf, X[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {
        **ECCoGenerator._parameter_constraints,
        "lambda_conformal": [Interval(numbers.Real, 0, None, closed="left")],
        "coverage": [Interval(numbers.Real, 0, 1, closed="neither")],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "kappa": [Interval(numbers.Real, 0, None, closed="left")],
        "calibration_size": [Interval(numbers.Real, 0, 1, closed="neither"),
                             Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, lambda_cost=0.001, lambda_energy=5.0, energy_reg=1e-3, distance="l1",
                 lambda_conformal=0.4, coverage=0.95, temperature=0.1, kappa=1.0,
                 calibration_size=0.2, random_state=None):
        super().__init__(lambda_cost=lambda_cost, lambda_energy=lambda_energy,
                         energy_reg=energy_reg, distance=distance)
        self.lambda_conformal = lambda_conformal
        self.coverage = coverage
        self.temperature = temperature
        self.kappa = kappa
        self.calibration_size = calibration_size
        self.random_state = random_state

    def _fit(self, X, y):
        super()._fit(X, y)
        if y is None:
            raise ValueError(
                "ECCCoGenerator requires y to be passed, but the target y is None: its "
                "conformal sets are calibrated on true labels; fit it (or the explainer) "
                "with y.")
        y = np.asarray(y)
        n = X.shape[0]
        size = self.calibration_size
        n_cal = size if isinstance(size, numbers.Integral) else max(1, round(size * n))
        rows = np.arange(n)
        if n_cal >= n:
            # Too few rows to split: calibrate on all of them (nothing is held out).
            cal = rows
        else:
            _, counts = np.unique(y, return_counts=True)
            stratify = y if counts.min() >= 2 and n_cal >= counts.size else None
            seed = check_random_state(self.random_state).randint(SEED_MAX)
            try:
                _, cal = train_test_split(rows, test_size=n_cal, stratify=stratify,
                                          random_state=seed)
            except ValueError:  # e.g. a split too small for stratification
                _, cal = train_test_split(rows, test_size=n_cal, random_state=seed)
            cal = np.sort(cal)
        self.calibration_rows_ = cal
        self.X_calibration_ = np.asarray(X[cal], dtype=np.float64)
        self.y_calibration_ = y[cal]

    # -- conformal prediction ------------------------------------------------------------

    def _proba(self, model, X):
        """Probabilities of ``model`` at ``X`` (a module: on its device, in its dtype)."""
        if isinstance(model, nn.Module):
            with torch.no_grad(), eval_mode(model):
                x = torch.as_tensor(X, dtype=module_dtype(model), device=module_device(model))
                return F.softmax(model(x), dim=1).double().cpu().numpy()
        return resolve_model(model).proba(X)

    def calibrate(self, model):
        """Conformal threshold ``q_hat`` of ``model`` on the calibration set.

        Parameters
        ----------
        model : torch.nn.Module, estimator or ModelAdapter
            The model (a logits module, or anything
            :func:`~sklearn_ct._model.resolve_model` accepts).

        Returns
        -------
        q_hat : float
            The ``coverage`` conformal quantile of the scores ``1 - p(y | x)`` of the
            calibration rows at their true labels.
        """
        if not hasattr(self, "X_calibration_"):
            raise RuntimeError("ECCCoGenerator must be fitted (on data with labels) before "
                               "it is used.")
        proba = self._proba(model, self.X_calibration_)
        y = np.asarray(self.y_calibration_)
        if y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= proba.shape[1]:
            raise ValueError("The calibration labels must be class indices of the model "
                             f"(0 to {proba.shape[1] - 1}).")
        scores = 1.0 - proba[np.arange(y.size), y]
        return conformal_quantile(scores, self.coverage)

    def prediction_sets(self, model, X, q_hat=None):
        """Conformal prediction sets of ``model`` at ``X``: ``{k : 1 - p(k | x) <= q_hat}``.

        Parameters
        ----------
        model : torch.nn.Module, estimator or ModelAdapter
            The model.
        X : array-like of shape (n, n_features)
            Inputs in the model's input space.
        q_hat : float, default=None
            Threshold; None calibrates ``model`` (:meth:`calibrate`).

        Returns
        -------
        sets : ndarray of bool, shape (n, n_classes)
            Membership of every label in every row's set.
        """
        if q_hat is None:
            q_hat = self.calibrate(model)
        proba = self._proba(model, np.asarray(X, dtype=np.float64))
        return (1.0 - proba) <= q_hat

    def set_size_penalty(self, logits, target, q_hat):
        """ECCCo's per-row penalty ``max(0, smooth set size - kappa)``.

        It is zero for rows whose target probability is below 0.5.

        Parameters
        ----------
        logits : torch.Tensor of shape (n, n_classes)
            Logits at the counterfactuals.
        target : torch.Tensor of int64, shape (n,)
            Target classes.
        q_hat : float
            Conformal threshold.

        Returns
        -------
        penalty : torch.Tensor of shape (n,)
            Unweighted penalty per row.
        """
        proba = F.softmax(logits, dim=1)
        size = smooth_set_size(proba, q_hat, self.temperature)
        active = (proba.detach().gather(1, target.unsqueeze(1)).squeeze(1) >= 0.5)
        return torch.clamp(size - self.kappa, min=0.0) * active.to(size.dtype)

    def generate(self, model, x, target, **kwargs):
        """Search counterfactuals; the conformal threshold is calibrated on ``model`` first.

        Parameters
        ----------
        model : torch.nn.Module, estimator or ModelAdapter
            The model (see :meth:`BaseGenerator.generate`).
        x : torch.Tensor or ndarray of shape (n, n_features)
            Factuals.
        target : torch.Tensor or ndarray of int, shape (n,)
            Target class per row.
        **kwargs : dict
            Keyword arguments of :meth:`BaseGenerator.generate`.

        Returns
        -------
        result : SearchResult
        """
        # The search's objective needs q_hat of the model as it is now (it changes every
        # epoch in training); it is set for the duration of this search only.
        self._q_hat = self.calibrate(model)
        try:
            return super().generate(model, x, target, **kwargs)
        finally:
            del self._q_hat

    @penalty_doc()
    def penalty(self, logits, target, x_cf, x, t, max_steps):
        """ECCo's distance and energy penalties plus the conformal set-size penalty."""
        out = super().penalty(logits, target, x_cf, x, t, max_steps)
        if self.lambda_conformal:
            q_hat = getattr(self, "_q_hat", None)
            if q_hat is None:
                raise RuntimeError("The conformal penalty is only defined during generate(), "
                                   "which calibrates it on the model.")
            out = out + self.lambda_conformal * self.set_size_penalty(logits, target, q_hat)
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
