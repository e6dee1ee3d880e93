"""Input validation shared by the metric functions.

The metrics take plain arrays (numpy, pandas or torch) rather than estimators, so they validate
their inputs themselves with error messages that name the offending argument. scikit-learn's
``check_array`` is not used because its messages refer to "Input X" and because the metrics must
also accept torch tensors (counterfactuals usually come straight out of a torch search loop).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

# Distances understood by the cost and implausibility metrics, mapped to SciPy ``cdist`` names.
_NORMS = ("l0", "l1", "l2", "linf")

#: Parameter constraints shared by the metric functions (scikit-learn's validate_params).
POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")
NON_NEGATIVE = Interval(numbers.Real, 0, None, closed="left")
LENGTH_SCALE = [Interval(numbers.Real, 0, np.inf, closed="neither"), StrOptions({"median"})]
KERNEL = [StrOptions({"gaussian", "laplacian"})]

#: The constraint of every validity threshold (``validity_threshold``, ``threshold``): None
#: (the argmax rule) or a probability the target must reach.
VALIDITY_THRESHOLD = [None, Interval(numbers.Real, 0, 1, closed="right")]


def _to_numpy(X):
    """Return ``X`` as a numpy array, detaching and moving torch tensors to the CPU."""
    # Duck-typed so that importing this module does not require torch to be imported first.
    if hasattr(X, "detach") and hasattr(X, "cpu"):
        X = X.detach().cpu().numpy()
    return np.asarray(X)


def _check_2d(X, name, *, dtype=np.float64, allow_empty=False):
    """Validate a 2-D finite numeric array and return it as ``dtype``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Input to check.
    name : str
        Argument name used in error messages.
    dtype : numpy dtype, default=np.float64
        Output dtype.
    allow_empty : bool, default=False
        Whether zero rows are accepted.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Validated copy (or view) of the input.
    """
    X = _to_numpy(X)
    if X.dtype == object or not (
        np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.bool_)
    ):
        raise ValueError(f"{name} must contain numeric values, got dtype {X.dtype}.")
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), got an array with "
            f"{X.ndim} dimension(s) and shape {X.shape}. Reshape a single sample with "
            "X.reshape(1, -1)."
        )
    if X.shape[1] == 0:
        raise ValueError(f"{name} has 0 features; at least one is required.")
    if X.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} has 0 samples; at least one is required.")
    X = X.astype(dtype, copy=False)
    if not np.all(np.isfinite(X)):
        kind = "NaN" if np.isnan(X).any() else "infinity"
        raise ValueError(f"{name} contains {kind}; all values must be finite.")
    return X


def _check_same_shape(X, X_cf, names=("X", "X_cf")):
    """Raise if the factuals and counterfactuals do not pair up row by row."""
    if X.shape != X_cf.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape (one counterfactual per "
            f"factual), got {X.shape} and {X_cf.shape}."
        )


def _check_n_features(X, Y, names):
    """Raise if two samples live in spaces of different dimension."""
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same number of features, got "
            f"{X.shape[1]} and {Y.shape[1]}."
        )


def _check_labels(y, n_samples, name):
    """Validate a label vector, broadcasting a scalar label to ``n_samples`` rows."""
    y = _to_numpy(y)
    if y.ndim == 0:
        # A single target for every counterfactual is the common case ("explain towards 1").
        y = np.full(n_samples, y.item(), dtype=y.dtype)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array, got shape {y.shape}.")
    if y.shape[0] != n_samples:
        raise ValueError(
            f"{name} has {y.shape[0]} entries but there are {n_samples} samples; they must "
            "match."
        )
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"{name} contains NaN.")
    return y


def _check_feature_vector(v, n_features, name, *, positive=False):
    """Validate a per-feature vector such as weights or MAD values."""
    v = _to_numpy(v).astype(np.float64, copy=False)
    if v.ndim != 1 or v.shape[0] != n_features:
        raise ValueError(
            f"{name} must be a 1-D array with one entry per feature ({n_features}), got shape "
            f"{v.shape}."
        )
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinity.")
    if positive and np.any(v <= 0):
        raise ValueError(f"{name} must be strictly positive.")
    if not positive and np.any(v < 0):
        raise ValueError(f"{name} must be non-negative.")
    return v


def _as_float(X, name):
    """``X`` as a float64 array, with a clear error for non-numeric (categorical) data."""
    try:
        return np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be numeric to compute distances between factuals, counterfactuals "
            "and reference data (encode categorical features upstream, e.g. in a Pipeline)."
        ) from exc
