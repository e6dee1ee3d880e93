"""Actionability constraints: per-feature mutability and domain bounds.

Both the training-time search (:class:`~sklearn_ct.CTClassifier`) and the post-hoc explainers
resolve user-facing constraint specifications through this module, so that a constraint means
exactly the same thing everywhere.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, validate_params

#: Directions a feature may move in, and what each allows (can_increase, can_decrease).
DIRECTIONS = {
    "both": (True, True),
    "increase": (True, False),
    "decrease": (False, True),
    "none": (False, False),
}


def _feature_index(key, n_features, feature_names, what):
    """Map a feature name or integer index to a column index, with a clear error."""
    if isinstance(key, str):
        if feature_names is None:
            raise ValueError(
                f"{what} refers to feature {key!r} by name, but the estimator was fitted "
                "on data without feature names (a numpy array); use column indices, or "
                "fit on a pandas DataFrame."
            )
        names = list(feature_names)
        if key not in names:
            raise ValueError(
                f"{what} refers to feature {key!r}, which is not among the features seen "
                f"in fit: {names}."
            )
        return names.index(key)
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        idx = int(key)
        if not -n_features <= idx < n_features:
            raise ValueError(
                f"{what} refers to feature index {idx}, but the data has {n_features} "
                "features."
            )
        return idx % n_features
    raise TypeError(
        f"{what} keys must be feature names (str) or column indices (int); got "
        f"{key!r} of type {type(key).__name__}."
    )


def resolve_mutability(mutability, n_features, feature_names=None):
    """Turn a mutability specification into one direction string per feature.

    Parameters
    ----------
    mutability : None, dict or sequence
        ``None`` lets every feature move freely. A dict maps feature names (when the
        estimator saw a DataFrame) or column indices to one of ``"none"``,
        ``"increase"``, ``"decrease"`` or ``"both"``; unlisted features are ``"both"``.
        A sequence of length ``n_features`` gives the direction of every feature.
    n_features : int
        Number of features.
    feature_names : array-like of str, default=None
        Names of the features seen in fit, to resolve names.

    Returns
    -------
    directions : ndarray of str, shape (n_features,)
        The direction of each feature.
    """
    directions = np.full(n_features, "both", dtype=object)
    if mutability is None:
        return directions
    if isinstance(mutability, dict):
        items = mutability.items()
    elif isinstance(mutability, str):
        raise TypeError(
            "mutability must be None, a dict {feature: direction} or a sequence with "
            f"one direction per feature; got the string {mutability!r}."
        )
    else:
        seq = list(mutability)
        if len(seq) != n_features:
            raise ValueError(
                f"mutability given as a sequence must have one direction per feature "
                f"({n_features}); got {len(seq)}."
            )
        items = enumerate(seq)
    for key, direction in items:
        idx = _feature_index(key, n_features, feature_names, "mutability")
        if not isinstance(direction, str) or direction not in DIRECTIONS:
            raise ValueError(
                f"Unknown mutability direction {direction!r} for feature {key!r}; "
                f"expected one of {sorted(DIRECTIONS)}."
            )
        directions[idx] = direction
    return directions


def direction_masks(directions):
    """Boolean masks ``(can_increase, can_decrease)`` for an array of directions."""
    can_inc = np.array([DIRECTIONS[d][0] for d in directions], dtype=bool)
    can_dec = np.array([DIRECTIONS[d][1] for d in directions], dtype=bool)
    return can_inc, can_dec


def mask_directions(can_increase, can_decrease):
    """Directions from masks, the inverse of :func:`direction_masks`.

    Parameters
    ----------
    can_increase, can_decrease : array-like of bool, shape (n_features,)
        Which features may increase and which may decrease.

    Returns
    -------
    directions : ndarray of str, shape (n_features,)
        ``"both"``, ``"increase"``, ``"decrease"`` or ``"none"`` per feature.
    """
    names = {moves: name for name, moves in DIRECTIONS.items()}
    return np.array([names[(bool(i), bool(d))] for i, d in zip(can_increase, can_decrease)],
                    dtype=object)


@validate_params(
    {"X": ["array-like"], "n_std": [Interval(numbers.Real, 0, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def infer_domain(X, n_std=2.0):
    """Per-feature domain bounds inferred from data, as in the reference implementation.

    The bounds are ``[min(mean - n_std * std, min(X)), max(mean + n_std * std, max(X))]``
    per feature, with the sample standard deviation: wide enough to contain every
    observed value, and a margin beyond it for features with little spread. The
    reference code uses ``n_std=2`` (its appendix says 3; the code is what ran).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training data.
    n_std : float, default=2.0
        Width of the margin in standard deviations.

    Returns
    -------
    domain : ndarray of shape (n_features, 2)
        Lower and upper bound of every feature.
    """
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    std = X.std(axis=0, ddof=1) if X.shape[0] > 1 else np.zeros(X.shape[1])
    low = np.minimum(mean - n_std * std, X.min(axis=0))
    high = np.maximum(mean + n_std * std, X.max(axis=0))
    return np.column_stack([low, high])


def resolve_domain(domain, X, feature_names=None):
    """Turn a domain specification into an array of per-feature bounds.

    Parameters
    ----------
    domain : None, "infer", tuple, dict or array-like
        ``None``: unbounded. ``"infer"``: :func:`infer_domain` on ``X``. A pair
        ``(low, high)`` of scalars: the same bounds for every feature. A pair of
        arrays ``(low, high)`` or an array of shape ``(n_features, 2)``: bounds per
        feature. A dict ``{feature: (low, high)}``: bounds for the listed features
        (names or indices), the others unbounded; ``None`` for one side leaves it open.
    X : ndarray of shape (n_samples, n_features)
        Training data (used by ``"infer"`` and for the number of features).
    feature_names : array-like of str, default=None
        Names of the features, to resolve dict keys.

    Returns
    -------
    bounds : ndarray of shape (n_features, 2)
        Lower and upper bounds (``-inf``/``inf`` where open).
    """
    n_features = X.shape[1]
    bounds = np.tile([-np.inf, np.inf], (n_features, 1))
    if domain is None:
        return bounds
    if isinstance(domain, str):
        if domain != "infer":
            raise ValueError(f"domain must be None, 'infer', bounds or a dict; got {domain!r}.")
        return infer_domain(X)
    if isinstance(domain, dict):
        for key, pair in domain.items():
            idx = _feature_index(key, n_features, feature_names, "domain")
            low, high = _as_pair(pair, f"domain[{key!r}]")
            bounds[idx] = [low, high]
    else:
        arr = np.asarray(domain, dtype=np.float64)
        if arr.shape == (2,):
            bounds[:] = arr
        elif arr.shape == (2, n_features) and n_features != 2:
            bounds = arr.T.copy()
        elif arr.shape == (n_features, 2):
            bounds = arr.copy()
        else:
            raise ValueError(
                "domain must be a (low, high) pair, a pair of per-feature arrays, or an "
                f"array of shape (n_features, 2) = ({n_features}, 2); got shape {arr.shape}."
            )
    if np.isnan(bounds).any():
        raise ValueError("domain bounds must not be NaN (use None or +-inf for open sides).")
    bad = np.flatnonzero(bounds[:, 0] > bounds[:, 1])
    if bad.size:
        j = bad[0]
        name = feature_names[j] if feature_names is not None else j
        raise ValueError(
            f"domain has low > high for feature {name!r}: ({bounds[j, 0]}, {bounds[j, 1]})."
        )
    return bounds


def check_domain_covers(bounds, X, feature_names=None):
    """Refuse domain bounds that exclude the data of a feature altogether.

    A counterfactual search starts at the factual and is clamped into the domain after
    every step. Where the bounds of a feature do not even overlap the range of its
    training data, every counterfactual is pinned at a bound, far from any real sample,
    so such a domain is a mistake (typically bounds given in the wrong units or for
    unscaled data). Bounds that only cut part of the range are allowed.

    Parameters
    ----------
    bounds : ndarray of shape (n_features, 2)
        Resolved bounds (see :func:`resolve_domain`); infinite bounds never fail.
    X : ndarray of shape (n_samples, n_features)
        Training data; NaN entries (non-numeric columns) are ignored.
    feature_names : array-like of str, default=None
        Names of the features, for the message.

    Raises
    ------
    ValueError
        Naming every feature whose bounds exclude its data, with both ranges.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.shape[0] == 0:
        return
    missing = np.isnan(X)
    lo = np.where(missing, np.inf, X).min(axis=0)
    hi = np.where(missing, -np.inf, X).max(axis=0)
    observed = ~missing.all(axis=0)
    bad = np.flatnonzero(observed & ((hi < bounds[:, 0]) | (lo > bounds[:, 1])))
    if bad.size:
        parts = [
            f"{feature_names[j] if feature_names is not None else int(j)!r}: domain "
            f"({bounds[j, 0]:g}, {bounds[j, 1]:g}), data in [{lo[j]:g}, {hi[j]:g}]"
            for j in bad[:10]
        ]
        more = f" (and {bad.size - 10} more)" if bad.size > 10 else ""
        raise ValueError(
            f"The domain excludes the training data of feature(s) {'; '.join(parts)}{more}. "
            "Counterfactuals would all be pinned at a bound; give bounds in the units of "
            "the data the model sees (e.g. after scaling), or domain='infer'."
        )


def _as_pair(pair, what):
    try:
        low, high = pair
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a (low, high) pair; got {pair!r}.") from None
    low = -np.inf if low is None else float(low)
    high = np.inf if high is None else float(high)
    return low, high


def row_bounds(x, lower, upper, can_increase, can_decrease):
    """Per-row bounds combining the domain with mutability relative to the factual.

    Mutability takes precedence over the domain: an immutable feature stays at its
    factual value even if that lies outside the domain, and a monotone feature is
    bounded by its factual value on the forbidden side.

    Parameters
    ----------
    x : torch.Tensor or ndarray of shape (n, d)
        Factuals.
    lower, upper : torch.Tensor or ndarray of shape (d,)
        Domain bounds.
    can_increase, can_decrease : torch.Tensor or ndarray of bool, shape (d,)
        Mutability masks.

    Returns
    -------
    low, high : torch.Tensor or ndarray of shape (n, d)
        Tensors for a tensor ``x``, arrays for an array (the same rule either way).
    """
    if not torch.is_tensor(x):
        # Writable arrays: torch does not wrap read-only ones (pandas' copy-on-write views).
        low, high = row_bounds(*(torch.as_tensor(np.require(a, requirements="W")) for a in
                                 (x, lower, upper, can_increase, can_decrease)))
        return low.numpy(), high.numpy()
    low = lower.expand_as(x)
    high = upper.expand_as(x)
    # A feature that may not decrease never goes below x; one that may not increase never
    # goes above x. Taking max/min with x on *both* bounds keeps low <= high even when x
    # lies outside the domain.
    low = torch.where(can_decrease, low, torch.maximum(low, x))
    high = torch.where(can_decrease, high, torch.maximum(high, x))
    high = torch.where(can_increase, high, torch.minimum(high, x))
    low = torch.where(can_increase, low, torch.minimum(low, x))
    return low.contiguous(), high.contiguous()
