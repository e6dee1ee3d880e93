"""Invalidation rate: does recourse survive retraining of the model, or noise on the action?

A counterfactual that is valid today is only useful as *recourse* if it is still valid when
the person has acted on it. Two things can break it in between:

* the model changes: it is retrained with another seed or on new data from the same
  distribution, and the counterfactual falls on the other side of the new decision boundary
  (Pawelczyk, Broelemann and Kasneci, 2020: predictive multiplicity);
* the action is implemented imprecisely: the person ends up near, not at, the
  counterfactual. Dominguez-Olmedo, Karimi and Schölkopf (2022) study the worst case of
  such deviations within a ball; Pawelczyk, Datta, van den Heuvel, Kasneci and Lakkaraju
  (2023) measure the average case with Gaussian noise, which is what is computed here.

:func:`invalidation_rate` measures both as the share of valid counterfactuals that stop
being valid.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.frozen import FrozenEstimator
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._model import encode_labels, resolve_model
from .._utils import SEED_MAX
from ._validation import VALIDITY_THRESHOLD, _check_2d, _check_labels, _to_numpy

# Noise draws are evaluated in stacked chunks of at most this many numbers (rows x features
# x draws), to bound memory while keeping the number of model calls small.
_NOISE_CHUNK = 2**20


def _n_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _prepare_counterfactuals(X_cf, *, numeric):
    """Return ``(X_float or None, X_raw or None)`` for the model calls.

    Numeric input is validated as a finite 2-D float array; ``X_raw`` keeps a DataFrame so
    that models fitted on feature names see them. With ``numeric=False`` (retraining),
    non-numeric input (e.g. a DataFrame with string columns for a pipeline) is passed to
    the models as it is.
    """
    is_frame = hasattr(X_cf, "columns") and hasattr(X_cf, "iloc")
    if numeric:
        return _check_2d(X_cf, "X_cf"), (X_cf if is_frame else None)
    try:
        X = _check_2d(X_cf, "X_cf")
    except ValueError as exc:
        if "numeric" not in str(exc):
            raise
        if _n_rows(X_cf) == 0:
            raise ValueError("X_cf has 0 samples; at least one is required.") from None
        return None, X_cf
    return X, (X_cf if is_frame else None)


def _proba(model, X, X_raw):
    """Probabilities and column labels of ``model`` (a :class:`ModelAdapter`) on ``X_cf``."""
    if X is None:
        # Non-numeric input only reaches models with their own preprocessing.
        if not hasattr(model.estimator, "predict_proba"):
            raise ValueError("X_cf must be numeric for models without predict_proba.")
        return model.predict_proba(X_raw, X_raw), model.classes
    return model.predict_proba(X, X_raw), model.classes


def _valid_flags(proba, idx, threshold):
    """Validity of each row given its target column ``idx`` (-1: the model lacks it)."""
    known = idx >= 0
    col = np.where(known, idx, 0)
    if threshold is None:
        # Ties go to the first class, as numpy's argmax and scikit-learn's predict do.
        hit = proba.argmax(axis=1) == col
    else:
        hit = proba[np.arange(col.size), col] >= threshold
    return known & hit


def _target_columns(target, classes, n_classes):
    """Column of each target label for an alternative model; -1 where it has no such class.

    A model retrained on a bootstrap sample can miss a class; it then never predicts it, so
    every counterfactual towards that class is invalid under it (rather than an error).
    """
    return encode_labels(target, classes, "target", n_classes=n_classes, unknown=-1)


def _valid_under(model, X, X_raw, target, threshold):
    proba, classes = _proba(resolve_model(model), X, X_raw)
    return _valid_flags(proba, _target_columns(target, classes, proba.shape[1]), threshold)


def _random_state_params(estimator):
    """Names of all ``random_state`` parameters of ``estimator`` (nested ones included)."""
    try:
        params = estimator.get_params(deep=True)
    except AttributeError:
        return []
    return [k for k in params if k == "random_state" or k.endswith("__random_state")]


def _refit_models(estimator, X, y, *, n_models, bootstrap, rng):
    """Clones of ``estimator`` refitted with other seeds (and on bootstrap samples)."""
    base = estimator
    # clone() returns a FrozenEstimator itself and its fit does nothing: retrain the model
    # it wraps instead, otherwise every "retrained" model would be the original one.
    while isinstance(base, FrozenEstimator):
        base = base.estimator
    if not hasattr(base, "fit") or not hasattr(base, "get_params"):
        raise TypeError(
            f"kind='retrain' with X and y refits clones of the estimator, but a "
            f"{type(base).__name__} cannot be cloned and fitted; pass the alternative "
            "models as models=[...] instead."
        )
    seed_names = _random_state_params(base)
    if not seed_names and not bootstrap:
        warnings.warn(
            f"{type(base).__name__} has no random_state parameter and bootstrap=False: "
            "every refit sees the same data with the same settings, so the alternative "
            "models differ only by non-determinism of fit (if any).",
            UserWarning,
            # user -> validate_params wrapper -> invalidation_rate -> here
            stacklevel=4,
        )
    n = _n_rows(X)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y must be 1-D with one label per row of X ({n}), got shape "
                         f"{y.shape}.")
    models = []
    for seed in rng.randint(SEED_MAX, size=n_models):
        model = clone(base)
        if seed_names:
            model.set_params(**{name: int(seed) for name in seed_names})
        if bootstrap:
            # The bootstrap draw has its own stream, derived from the model's seed, so the
            # rows do not depend on how the estimator consumes its seed.
            rows = np.random.RandomState(seed).randint(n, size=n)
            model.fit(_safe_indexing(X, rows), y[rows])
        else:
            model.fit(X, y)
        models.append(model)
    return models


def _noise_invalid_share(model, X, X_raw, target_idx, threshold, scale, n_draws, rng):
    """Per-row share of ``n_draws`` Gaussian perturbations under which a row is invalid.

    ``model`` is the estimator's :class:`~sklearn_ct._model.ModelAdapter`.
    """
    n, d = X.shape
    invalid = np.zeros(n, dtype=np.int64)
    per_chunk = max(1, _NOISE_CHUNK // max(1, n * d))
    columns = None if X_raw is None else X_raw.columns
    done = 0
    while done < n_draws:
        k = min(per_chunk, n_draws - done)
        noisy = X[None] + scale * rng.standard_normal((k, n, d))
        noisy = noisy.reshape(k * n, d)
        raw = None
        if columns is not None:
            import pandas as pd

            raw = pd.DataFrame(noisy, columns=columns)
        proba = model.predict_proba(noisy, raw)
        valid = _valid_flags(proba, np.tile(target_idx, k), threshold).reshape(k, n)
        invalid += (~valid).sum(axis=0)
        done += k
    return invalid / n_draws


def _check_noise_scale(noise_scale, n_features):
    scale = np.asarray(_to_numpy(noise_scale), dtype=np.float64)
    if scale.ndim == 0:
        scale = np.full(n_features, float(scale))
    if scale.shape != (n_features,):
        raise ValueError(f"noise_scale must be a positive number or one value per feature "
                         f"({n_features}), got shape {scale.shape}.")
    if not np.all(np.isfinite(scale)) or np.any(scale < 0) or not np.any(scale > 0):
        raise ValueError("noise_scale must be finite and non-negative, with at least one "
                         "positive entry (a zero leaves that feature unperturbed).")
    return scale


@validate_params(
    {
        "estimator": "no_validation",
        "X_cf": "no_validation",
        "target": "no_validation",
        "kind": [StrOptions({"retrain", "noise"})],
        "models": [list, tuple, None],
        "X": ["array-like", None],
        "y": ["array-like", None],
        "n_models": [Interval(numbers.Integral, 1, None, closed="left")],
        "bootstrap": ["boolean"],
        "noise_scale": [Interval(numbers.Real, 0, None, closed="neither"), "array-like"],
        "n_draws": [Interval(numbers.Integral, 1, None, closed="left")],
        "threshold": VALIDITY_THRESHOLD,
        "aggregate": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def invalidation_rate(estimator, X_cf, target, *, kind="noise", models=None, X=None, y=None,
                      n_models=5, bootstrap=True, noise_scale=0.1, n_draws=100,
                      threshold=None, aggregate=True, random_state=None):
    """Compute the share of valid counterfactuals that stop being valid.

    Only counterfactuals that are valid under ``estimator`` count (an invalid one cannot
    be invalidated). Each is checked again under a perturbation, and its *invalidation
    rate* is the share of perturbations under which it is no longer valid:

    * ``kind="retrain"``: under alternative models, the same learner retrained with other
      seeds and, with ``bootstrap``, on bootstrap samples of the training data (model
      multiplicity; Pawelczyk, Broelemann and Kasneci, 2020). Pass the alternative models
      as ``models``, or the training data ``X, y`` to fit ``n_models`` of them here;
    * ``kind="noise"``: under Gaussian noise on the counterfactual,
      :math:`x' + \\varepsilon` with :math:`\\varepsilon \\sim N(0,
      \\mathrm{diag}(\\sigma^2))`, estimated with ``n_draws`` draws: the invalidation
      rate of Pawelczyk et al. (2023), an average-case counterpart of the worst-case
      deviations of Dominguez-Olmedo, Karimi and Schölkopf (2022).

    Read more in :ref:`metrics`.

    Parameters
    ----------
    estimator : estimator or torch.nn.Module
        The fitted classifier the counterfactuals were found for: any classifier with
        ``predict_proba`` (a :class:`~sklearn_ct.CTClassifier`, a Pipeline, ...), a skorch
        net or a torch module returning logits. With ``kind="retrain"`` and ``X, y`` it is
        cloned and refitted (a :class:`~sklearn.frozen.FrozenEstimator` is unwrapped
        first, so that the wrapped model is retrained); it is never modified.
    X_cf : array-like of shape (n_samples, n_features)
        Counterfactuals, in the input space of ``estimator``. ``kind="noise"`` needs
        numeric features; ``kind="retrain"`` takes whatever the models accept (e.g. a
        DataFrame with string columns for a pipeline).
    target : array-like of shape (n_samples,) or scalar
        Target class of each counterfactual (a label of ``estimator.classes_``; an integer
        logit index for models without ``classes_``). A scalar applies to every row.
    kind : {"noise", "retrain"}, default="noise"
        Which perturbation.
    models : list of estimators, default=None
        ``kind="retrain"`` only: fitted alternative models with ``predict_proba`` (or
        torch modules), e.g. trained on other data or by other people. A model that lacks
        a target class invalidates every counterfactual towards it.
    X : array-like of shape (n_train, n_features), default=None
        ``kind="retrain"`` only, instead of ``models``: training data for the refits.
    y : array-like of shape (n_train,), default=None
        Labels of ``X``.
    n_models : int, default=5
        Number of refits with ``X, y``. Ignored when ``models`` is given.
    bootstrap : bool, default=True
        Fit every refit on a bootstrap sample of ``(X, y)`` (drawn with replacement, same
        size) besides a new seed for every ``random_state`` parameter of the estimator.
        With ``False`` only the seeds change, which leaves deterministic learners (e.g.
        logistic regression) unchanged.
    noise_scale : float or array-like of shape (n_features,), default=0.1
        Standard deviation :math:`\\sigma` of the noise, for all features or per feature,
        in the units of ``X_cf``. Use per-feature values for features on different scales
        (e.g. ``0.1 * X_train.std(axis=0)``) and 0 for features that cannot deviate
        (immutable ones, one-hot columns).
    n_draws : int, default=100
        Noise draws per counterfactual; the Monte Carlo standard error of a row's rate is
        at most :math:`0.5 / \\sqrt{n_{draws}}`.
    threshold : float in (0, 1], default=None
        Validity rule, for ``estimator`` and the perturbed cases alike, as in
        :func:`counterfactual_validity`: None means the target is the predicted class
        (argmax); a float ``t`` means the target probability is at least ``t``.
    aggregate : bool, default=True
        Return the mean over the valid counterfactuals; otherwise one rate per row.
    random_state : int, RandomState instance or None, default=None
        Seeds the refits (their seeds and bootstrap samples) and the noise; an int makes
        the result reproducible.

    Returns
    -------
    rate : float or ndarray of shape (n_samples,)
        Mean invalidation rate of the valid counterfactuals, in [0, 1] (lower is better),
        or per row, with NaN for rows that are not valid under ``estimator``. NaN (with an
        :class:`~sklearn.exceptions.UndefinedMetricWarning`) when none is valid.

    See Also
    --------
    counterfactual_validity : Validity under the model itself.
    make_counterfactual_scorer : Use it in a grid search (``"neg_invalidation_noise"``).

    Notes
    -----
    For a linear model :math:`f(x) = w^\\top x + b` and the argmax rule, noise invalidates a
    counterfactual with margin :math:`m = w^\\top x' + b > 0` towards the positive class
    with probability :math:`\\Phi\\big(-m / \\sqrt{\\sum_d w_d^2 \\sigma_d^2}\\big)`, so the
    rate measures how far past the decision boundary a counterfactual lies, in units of the
    noise. A counterfactual right on the boundary is lost to half of all draws.

    ``kind="retrain"`` with ``X, y`` fits ``n_models`` models, which can take long for
    neural networks; fit them once and pass them as ``models`` to score several sets of
    counterfactuals.

    References
    ----------
    Pawelczyk, Broelemann and Kasneci (2020). On Counterfactual Explanations under
    Predictive Multiplicity. UAI.

    Dominguez-Olmedo, Karimi and Schölkopf (2022). On the Adversarial Robustness of Causal
    Algorithmic Recourse. ICML.

    Pawelczyk, Datta, van den Heuvel, Kasneci and Lakkaraju (2023). Probabilistically
    Robust Recourse: Navigating the Trade-offs between Costs and Robustness in Algorithmic
    Recourse. ICLR.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_ct.metrics import invalidation_rate
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> clf = LogisticRegression().fit(X, y)
    >>> X_cf = np.array([[0.05], [3.0]])  # just past the boundary, and far past it
    >>> invalidation_rate(clf, X_cf, target=1, noise_scale=1.0, n_draws=1000,
    ...                   aggregate=False, random_state=0).round(1)
    array([0.5, 0. ])
    >>> invalidation_rate(clf, X_cf, 1, kind="retrain", models=[clf], random_state=0)
    0.0
    """
    retrain_args = {"models": models, "X": X, "y": y}
    if kind == "noise":
        given = [name for name, value in retrain_args.items() if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)} only apply to kind='retrain'; "
                             "kind='noise' perturbs the counterfactuals instead.")
    else:
        if models is not None and (X is not None or y is not None):
            raise ValueError("Pass either the alternative models (models=[...]) or the "
                             "training data to refit them (X and y), not both.")
        if models is None and (X is None or y is None):
            raise ValueError("kind='retrain' needs the alternative models (models=[...]) "
                             "or the training data to refit the estimator on (X and y).")
        if models is not None and len(models) == 0:
            raise ValueError("models must hold at least one fitted model.")

    X_num, X_raw = _prepare_counterfactuals(X_cf, numeric=kind == "noise")
    n = _n_rows(X_cf) if X_num is None else X_num.shape[0]
    target = _check_labels(target, n, "target")
    model = resolve_model(estimator)
    proba, classes = _proba(model, X_num, X_raw)
    # Unknown targets are an error for the model itself (unlike for alternatives).
    target_idx = encode_labels(target, classes, "target", n_classes=proba.shape[1])
    valid = _valid_flags(proba, target_idx, threshold)
    rng = check_random_state(random_state)

    if kind == "noise":
        scale = _check_noise_scale(noise_scale, X_num.shape[1])
        rates = np.full(n, np.nan)
        if valid.any():
            X_valid = X_num[valid]
            raw_valid = None if X_raw is None else X_raw.iloc[np.flatnonzero(valid)]
            rates[valid] = _noise_invalid_share(
                model, X_valid, raw_valid, target_idx[valid], threshold, scale,
                n_draws, rng)
    else:
        if models is None:
            models = _refit_models(estimator, X, y, n_models=n_models, bootstrap=bootstrap,
                                   rng=rng)
        invalid = np.zeros(n)
        for model in models:
            invalid += ~_valid_under(model, X_num, X_raw, target, threshold)
        rates = np.where(valid, invalid / len(models), np.nan)

    if not aggregate:
        return rates
    if not valid.any():
        warnings.warn(
            f"None of the {n} counterfactuals is valid under the estimator, so their "
            "invalidation rate is undefined; returning nan.",
            UndefinedMetricWarning,
            stacklevel=3,  # past the validate_params wrapper
        )
        return float("nan")
    return float(rates[valid].mean())
