"""Diversity of several counterfactuals of the same factual."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils._param_validation import StrOptions, validate_params

from ._validation import NON_NEGATIVE


def _as_sets(X_cf, name="X_cf"):
    """``X_cf`` as a float array of shape (n_rows, k, n_features).

    Accepts the arrays of ``CounterfactualExplainer(n_per_row=k).explain(X)`` and its
    DataFrames, whose rows are a factual's ``k`` candidates in a row (a two-level index).
    """
    index = getattr(X_cf, "index", None)
    if index is not None and getattr(index, "nlevels", 1) == 2:
        k = int(index.get_level_values(-1).nunique())
        arr = np.asarray(X_cf, dtype=np.float64)
        if arr.shape[0] % k:
            raise ValueError(f"{name} has {arr.shape[0]} rows, not a multiple of the "
                             f"{k} counterfactuals per factual of its index.")
        return arr.reshape(-1, k, arr.shape[1])
    try:
        arr = np.asarray(X_cf, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric.") from exc
    if arr.ndim != 3:
        raise ValueError(f"{name} must hold several counterfactuals per factual, with shape "
                         f"(n_samples, n_per_row, n_features); got shape {arr.shape}.")
    return arr


def _valid_mask(valid, shape):
    if valid is None:
        return np.ones(shape, dtype=bool)
    valid = np.asarray(valid, dtype=bool)
    if valid.shape != shape:
        raise ValueError(f"valid must have shape {shape} (one flag per counterfactual); got "
                         f"{valid.shape}.")
    return valid


def _pairs(k):
    a, b = np.triu_indices(k, 1)
    return a, b


def _per_row_mean(values, usable):
    """Mean of each row's usable pair values; NaN where a row has no usable pair."""
    count = usable.sum(axis=1)
    total = np.where(usable, values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _aggregate(per_row, aggregate):
    if not aggregate:
        return per_row
    finite = ~np.isnan(per_row)
    return float(per_row[finite].mean()) if finite.any() else float("nan")


@validate_params(
    {"X_cf": ["array-like"], "valid": [None, "array-like"],
     "norm": [StrOptions({"l1", "l2"})], "feature_weights": [None, "array-like"],
     "aggregate": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def counterfactual_diversity(X_cf, *, valid=None, norm="l1", feature_weights=None,
                             aggregate=True):
    """Compute the mean pairwise distance among each factual's counterfactuals.

    For a factual with counterfactuals :math:`x'_1, \\dots, x'_k`, the diversity is

    .. math:: \\frac{2}{k(k-1)} \\sum_{a < b} \\lVert s \\odot (x'_a - x'_b) \\rVert

    (Mothilal, Sharma and Tan, 2020, "Diversity" of DiCE), with per-feature factors
    :math:`s` (``feature_weights``). Zero means all counterfactuals coincide.

    Parameters
    ----------
    X_cf : array-like of shape (n_samples, n_per_row, n_features) or DataFrame
        Several counterfactuals per factual, e.g.
        ``CounterfactualExplainer(n_per_row=k).explain(X).counterfactuals`` (a DataFrame
        with ``k`` consecutive rows per factual is accepted).
    valid : array-like of bool, shape (n_samples, n_per_row), default=None
        Only pairs of valid counterfactuals count (e.g. ``explain(X).valid``); None uses
        every pair.
    norm : {"l1", "l2"}, default="l1"
        Norm of the difference.
    feature_weights : array-like of shape (n_features,), default=None
        Non-negative factors :math:`s` (e.g. ``1 / MAD``); None means all ones.
    aggregate : bool, default=True
        Return the mean over factuals (those with fewer than two counterfactuals to
        compare are left out; NaN if none is left) instead of one value per factual.

    Returns
    -------
    diversity : float or ndarray of shape (n_samples,)
        Mean, or per-factual values (NaN for factuals with fewer than two usable
        counterfactuals).

    See Also
    --------
    change_set_diversity : Whether counterfactuals change different features.

    References
    ----------
    Mothilal, Sharma and Tan (2020), "Explaining machine learning classifiers through
    diverse counterfactual explanations", FAT*.

    Examples
    --------
    >>> from sklearn_ct.metrics import counterfactual_diversity
    >>> counterfactual_diversity([[[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]]])
    2.0
    """
    sets = _as_sets(X_cf)
    n, k, d = sets.shape
    ok = _valid_mask(valid, (n, k))
    a, b = _pairs(k)
    diff = sets[:, a, :] - sets[:, b, :]                          # (n, n_pairs, d)
    if feature_weights is not None:
        w = np.asarray(feature_weights, dtype=np.float64)
        if w.shape != (d,) or (w < 0).any():
            raise ValueError(f"feature_weights must be {d} non-negative values; got "
                             f"{w.shape}.")
        diff = diff * w
    dist = (np.abs(diff).sum(axis=2) if norm == "l1"
            else np.sqrt((diff ** 2).sum(axis=2)))
    return _aggregate(_per_row_mean(dist, ok[:, a] & ok[:, b]), aggregate)


@validate_params(
    {"X": ["array-like"], "X_cf": ["array-like"], "valid": [None, "array-like"],
     "tol": [NON_NEGATIVE], "aggregate": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def change_set_diversity(X, X_cf, *, valid=None, tol=1e-5, aggregate=True):
    """Compute the share of pairs of a factual's counterfactuals that change other features.

    The *change set* of a counterfactual is the set of features it changes (by at least
    ``tol``). For each factual, this is the share of pairs :math:`a < b` of its
    counterfactuals with different change sets: 1 when each suggests acting on different
    features, 0 when all act on the same ones (however different the amounts). It is
    the pairwise version of DiCE's count diversity (Mothilal et al., 2020) at the level of
    whole change sets.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Factuals.
    X_cf : array-like of shape (n_samples, n_per_row, n_features) or DataFrame
        Several counterfactuals per factual (see :func:`counterfactual_diversity`).
    valid : array-like of bool, shape (n_samples, n_per_row), default=None
        Only pairs of valid counterfactuals count; None uses every pair.
    tol : float, default=1e-5
        Smallest absolute change that counts as a change (as in :func:`redundancy`).
    aggregate : bool, default=True
        Return the mean over factuals (those with fewer than two usable counterfactuals
        are left out) instead of one value per factual.

    Returns
    -------
    diversity : float or ndarray of shape (n_samples,)
        Mean, or per-factual shares (NaN for factuals with fewer than two usable
        counterfactuals).

    See Also
    --------
    counterfactual_diversity : Mean pairwise distance.

    Examples
    --------
    >>> from sklearn_ct.metrics import change_set_diversity
    >>> X = [[0.0, 0.0]]
    >>> change_set_diversity(X, [[[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 3.0]]])
    0.6666666666666666
    """
    sets = _as_sets(X_cf)
    n, k, d = sets.shape
    X = np.asarray(X, dtype=np.float64)
    if X.shape != (n, d):
        raise ValueError(f"X must have shape {(n, d)} to match X_cf; got {X.shape}.")
    ok = _valid_mask(valid, (n, k))
    changed = np.abs(sets - X[:, None, :]) >= tol                  # (n, k, d)
    a, b = _pairs(k)
    differ = (changed[:, a, :] != changed[:, b, :]).any(axis=2).astype(np.float64)
    return _aggregate(_per_row_mean(differ, ok[:, a] & ok[:, b]), aggregate)
