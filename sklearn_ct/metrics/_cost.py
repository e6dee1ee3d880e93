"""Cost (proximity) and sparsity of counterfactual explanations."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._validation import (
    NON_NEGATIVE,
    _check_2d,
    _check_feature_vector,
    _check_same_shape,
)


@validate_params(
    {"X_ref": ["array-like"],
     "zero_replacement": [None, Interval(numbers.Real, 0, None, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def median_absolute_deviation(X_ref, *, zero_replacement=1.0):
    """Compute the per-feature median absolute deviation (MAD) of reference data.

    :math:`\\mathrm{MAD}_d = \\operatorname{median}_i |x_{id} - \\operatorname{median}_j x_{jd}|`,
    unscaled (no 1.4826 consistency factor), as used by Wachter et al. (2017) to weight the L1
    cost of counterfactuals so that features on different scales are comparable.

    Parameters
    ----------
    X_ref : array-like of shape (n_samples, n_features)
        Reference data, typically the training set.
    zero_replacement : float or None, default=1.0
        Value used where the MAD is 0. A feature that takes one value in more than half of the
        rows (e.g. a mostly-zero one-hot column) has MAD 0, which would make any change to it
        infinitely costly. The default 1.0 falls back to the unweighted absolute difference for
        such features. None keeps the zeros (:func:`counterfactual_cost` then rejects them).

    Returns
    -------
    mad : ndarray of shape (n_features,)
        Median absolute deviation of each feature.

    See Also
    --------
    counterfactual_cost : Uses ``mad`` to compute the MAD-weighted L1 cost.

    Examples
    --------
    >>> from sklearn_ct.metrics import median_absolute_deviation
    >>> median_absolute_deviation([[1.0, 0.0], [2.0, 0.0], [4.0, 1.0]])
    array([1., 1.])
    """
    X_ref = _check_2d(X_ref, "X_ref")
    mad = np.median(np.abs(X_ref - np.median(X_ref, axis=0)), axis=0)
    if zero_replacement is not None:
        zero_replacement = float(zero_replacement)
        mad = np.where(mad == 0, zero_replacement, mad)
    return mad


@validate_params(
    {"X": ["array-like"], "X_cf": ["array-like"],
     "norm": [StrOptions({"l0", "l1", "l2", "linf"})],
     "feature_weights": [None, "array-like"], "mad": [None, "array-like"],
     "tol": [NON_NEGATIVE]},
    prefer_skip_nested_validation=True,
)
def counterfactual_cost(X, X_cf, *, norm="l1", feature_weights=None, mad=None, tol=1e-5):
    """Compute the distance between each factual and its counterfactual.

    The cost of a counterfactual is a proxy for the effort needed to act on it. Counterfactual
    Training reports the L1 distance (``norm="l1"``). With ``mad`` the per-feature differences
    are divided by the median absolute deviation, giving the MAD-weighted L1 distance of
    Wachter et al. (2017).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Factuals.
    X_cf : array-like of shape (n_samples, n_features)
        Counterfactuals, row ``i`` explaining ``X[i]``.
    norm : {"l0", "l1", "l2", "linf"}, default="l1"
        Norm of the (scaled) difference :math:`s_d |x'_d - x_d|`:

        - "l0": number of changed features, i.e. with :math:`|x'_d - x_d| \\geq` ``tol``
          (weighted count with ``feature_weights``);
        - "l1": :math:`\\sum_d s_d |x'_d - x_d|`;
        - "l2": :math:`(\\sum_d (s_d (x'_d - x_d))^2)^{1/2}`;
        - "linf": :math:`\\max_d s_d |x'_d - x_d|`.
    feature_weights : array-like of shape (n_features,), default=None
        Non-negative per-feature factors :math:`s_d` (e.g. to make some changes costlier).
        None means all ones.
    mad : array-like of shape (n_features,), default=None
        Strictly positive median absolute deviations; differences are divided by them
        (combined with ``feature_weights``: :math:`s_d = w_d / \\mathrm{MAD}_d`). Compute them
        on reference data with :func:`median_absolute_deviation`. Not allowed with
        ``norm="l0"``, where scaling has no effect.
    tol : float, default=1e-5
        Tolerance under which a feature counts as unchanged (``norm="l0"`` only); the same
        threshold as :func:`redundancy`.

    Returns
    -------
    cost : ndarray of shape (n_samples,)
        Cost of each counterfactual.

    See Also
    --------
    median_absolute_deviation : Per-feature MAD for the MAD-weighted L1 cost.
    redundancy : Fraction of unchanged features.

    Examples
    --------
    >>> from sklearn_ct.metrics import counterfactual_cost
    >>> counterfactual_cost([[0.0, 0.0]], [[3.0, -4.0]], norm="l2")
    array([5.])
    """
    X = _check_2d(X, "X")
    X_cf = _check_2d(X_cf, "X_cf")
    _check_same_shape(X, X_cf)
    tol = float(tol)
    n_features = X.shape[1]
    scale = np.ones(n_features)
    if feature_weights is not None:
        scale = scale * _check_feature_vector(feature_weights, n_features, "feature_weights")
    if mad is not None:
        if norm == "l0":
            raise ValueError("mad has no effect with norm='l0'; pass mad=None.")
        scale = scale / _check_feature_vector(mad, n_features, "mad", positive=True)

    diff = np.abs(X_cf - X)
    if norm == "l0":
        return (diff >= tol) @ scale
    diff *= scale
    if norm == "l1":
        return diff.sum(axis=1)
    if norm == "l2":
        # np.linalg.norm rescales internally and avoids overflow for huge differences.
        return np.linalg.norm(diff, axis=1)
    return diff.max(axis=1)


@validate_params(
    {"X": ["array-like"], "X_cf": ["array-like"], "tol": [NON_NEGATIVE]},
    prefer_skip_nested_validation=True,
)
def redundancy(X, X_cf, *, tol=1e-5):
    """Compute the fraction of features left unchanged by each counterfactual.

    A feature :math:`d` is unchanged when :math:`|x'_d - x_d| <` ``tol``; this is the
    ``redundancy`` measure of CounterfactualExplanations.jl (``tol=1e-5``). Higher values mean
    sparser counterfactuals, which are easier to act on.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Factuals.
    X_cf : array-like of shape (n_samples, n_features)
        Counterfactuals, row ``i`` explaining ``X[i]``.
    tol : float, default=1e-5
        Absolute tolerance below which a change is ignored.

    Returns
    -------
    redundancy : ndarray of shape (n_samples,)
        Share of unchanged features of each counterfactual, in [0, 1].

    See Also
    --------
    sparsity : Same quantity under its other common name.
    counterfactual_cost : ``norm="l0"`` counts the changed features instead.

    Examples
    --------
    >>> from sklearn_ct.metrics import redundancy
    >>> redundancy([[0.0, 0.0, 0.0, 0.0]], [[1.0, 0.0, 0.0, 1e-7]])
    array([0.75])
    """
    X = _check_2d(X, "X")
    X_cf = _check_2d(X_cf, "X_cf")
    _check_same_shape(X, X_cf)
    return (np.abs(X_cf - X) < float(tol)).mean(axis=1)


def sparsity(X, X_cf, *, tol=1e-5):
    """Compute the fraction of features left unchanged by each counterfactual.

    Synonym of :func:`redundancy` under the name used by much of the counterfactual
    explanation literature (higher is sparser).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Factuals.
    X_cf : array-like of shape (n_samples, n_features)
        Counterfactuals, row ``i`` explaining ``X[i]``.
    tol : float, default=1e-5
        Absolute tolerance below which a change is ignored.

    Returns
    -------
    sparsity : ndarray of shape (n_samples,)
        Share of unchanged features of each counterfactual, in [0, 1].

    See Also
    --------
    redundancy : The same function.

    Examples
    --------
    >>> from sklearn_ct.metrics import sparsity
    >>> sparsity([[0.0, 0.0]], [[1.0, 0.0]])
    array([0.5])
    """
    return redundancy(X, X_cf, tol=tol)
