"""Implausibility of counterfactuals relative to observed data of their target class."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions, validate_params

from ._mmd import DEFAULT_LENGTH_SCALE, mmd
from ._validation import (
    KERNEL,
    LENGTH_SCALE,
    POSITIVE_INT,
    _check_2d,
    _check_labels,
    _check_n_features,
)

_CDIST_METRICS = {"l1": "cityblock", "l2": "euclidean", "linf": "chebyshev"}

# Largest distance block (in float64 entries, 32 MiB) built at once by ``implausibility``; the
# rows of a target class are processed in chunks that respect it.
_MAX_BLOCK_ELEMENTS = 2 ** 22


def _check_reference(X_cf, X_ref, y_ref, target):
    X_cf = _check_2d(X_cf, "X_cf")
    X_ref = _check_2d(X_ref, "X_ref")
    _check_n_features(X_cf, X_ref, ("X_cf", "X_ref"))
    y_ref = _check_labels(y_ref, X_ref.shape[0], "y_ref")
    target = _check_labels(target, X_cf.shape[0], "target")
    return X_cf, X_ref, y_ref, target


def _class_rows(y_ref, label):
    rows = np.flatnonzero(y_ref == label)
    if rows.size == 0:
        raise ValueError(
            f"No reference rows have the target label {np.asarray(label).item()!r}; y_ref must "
            "contain every target class (check that target and y_ref use the same labels)."
        )
    return rows


@validate_params(
    {"X_cf": ["array-like"], "X_ref": ["array-like"], "y_ref": ["array-like"],
     "target": "no_validation", "metric": [StrOptions(set(_CDIST_METRICS))],
     "n_neighbors": [None, POSITIVE_INT], "max_reference": [None, POSITIVE_INT],
     "random_state": ["random_state"]},
    prefer_skip_nested_validation=True,
)
def implausibility(X_cf, X_ref, y_ref, target, *, metric="l1", n_neighbors=None,
                   max_reference=None, random_state=None):
    """Compute the mean distance of counterfactuals to data of their target class (IP).

    For a counterfactual :math:`x'` with target :math:`y^+` and the reference rows
    :math:`X^+ = \\{x \\in X_{ref} : y = y^+\\}` (ground-truth labels),

    .. math:: \\mathrm{IP}(x') = \\frac{1}{|X^+|} \\sum_{x \\in X^+} \\|x' - x\\|,

    the distance-based implausibility of Counterfactual Training (Altmeyer et al., 2024, 2026).
    Lower is more plausible.

    Parameters
    ----------
    X_cf : array-like of shape (n_samples, n_features)
        Counterfactuals.
    X_ref : array-like of shape (n_reference, n_features)
        Observed data, e.g. the test set.
    y_ref : array-like of shape (n_reference,)
        Ground-truth labels of ``X_ref``, in the same label space as ``target``.
    target : array-like of shape (n_samples,) or scalar
        Target label of each counterfactual.
    metric : {"l1", "l2", "linf"}, default="l1"
        Distance; Counterfactual Training uses L1.
    n_neighbors : int or None, default=None
        If given, average only over the ``n_neighbors`` nearest target-class rows (all of them
        when the class is smaller), a local variant. None averages over all of them, as in
        Counterfactual Training.
    max_reference : int or None, default=None
        None uses every target-class row. An int mimics the reference implementation, which
        draws ``min(max_reference, n_reference)`` rows *with replacement* from the target-class
        rows (it used 1000). Unlike the reference, which draws per counterfactual, one draw is
        made per target class and shared by its counterfactuals.
    random_state : int, RandomState instance or None, default=None
        Seed of the ``max_reference`` draws.

    Returns
    -------
    ip : ndarray of shape (n_samples,)
        Implausibility of each counterfactual.

    See Also
    --------
    implausibility_mmd : Distribution-level implausibility (IP*).

    Notes
    -----
    Computation is vectorized per target class and done in row chunks, so that no distance
    block exceeds about 4 million entries (32 MiB) whatever the sizes.

    Examples
    --------
    >>> from sklearn_ct.metrics import implausibility
    >>> X_ref = [[0.0, 0.0], [2.0, 0.0], [10.0, 10.0]]
    >>> implausibility([[1.0, 0.0]], X_ref, y_ref=[1, 1, 0], target=1)
    array([1.])
    """
    X_cf, X_ref, y_ref, target = _check_reference(X_cf, X_ref, y_ref, target)
    rng = check_random_state(random_state)

    ip = np.empty(X_cf.shape[0])
    # Loop over target classes only; everything inside is vectorized over rows.
    for label in np.unique(target):
        rows = np.flatnonzero(target == label)
        ref = X_ref[_class_rows(y_ref, label)]
        if max_reference is not None:
            n_draws = min(max_reference, X_ref.shape[0])
            ref = ref[rng.randint(0, ref.shape[0], size=n_draws)]
        k = ref.shape[0] if n_neighbors is None else min(n_neighbors, ref.shape[0])
        chunk = max(1, _MAX_BLOCK_ELEMENTS // ref.shape[0])
        for start in range(0, rows.size, chunk):
            part = rows[start:start + chunk]
            dist = cdist(X_cf[part], ref, _CDIST_METRICS[metric])
            if k < ref.shape[0]:
                dist = np.partition(dist, k - 1, axis=1)[:, :k]
            ip[part] = dist.mean(axis=1)
    return ip


@validate_params(
    {"X_cf": ["array-like"], "X_ref": ["array-like"], "y_ref": ["array-like"],
     "target": "no_validation", "length_scale": LENGTH_SCALE, "kernel": KERNEL,
     "unbiased": ["boolean"], "max_samples": [None, POSITIVE_INT], "aggregate": ["boolean"],
     "block_size": [POSITIVE_INT], "random_state": ["random_state"],
     "device": "no_validation"},
    prefer_skip_nested_validation=True,
)
def implausibility_mmd(X_cf, X_ref, y_ref, target, *, length_scale=DEFAULT_LENGTH_SCALE,
                       kernel="gaussian", unbiased=True, max_samples=None, aggregate=True,
                       block_size=1024, random_state=None, device=None):
    """Compute the MMD between counterfactuals and data of their target class (IP*).

    Counterfactuals are grouped by target class; for each group :math:`X'_c` the unbiased
    squared MMD to the reference rows :math:`X^+_c` whose ground-truth label is ``c`` is
    computed with :func:`mmd`. It measures whether the counterfactuals are distributed like real
    data of the target class, which single-point distances cannot capture. Lower is more
    plausible.

    Counterfactual Training grouped by (target, factual label, run, model, generator) and
    assigned each group's value to all its rows; call this function on the corresponding subsets
    to reproduce a finer grouping.

    Parameters
    ----------
    X_cf : array-like of shape (n_samples, n_features)
        Counterfactuals (the reference used all of them, valid or not).
    X_ref : array-like of shape (n_reference, n_features)
        Observed data, e.g. the test set.
    y_ref : array-like of shape (n_reference,)
        Ground-truth labels of ``X_ref``.
    target : array-like of shape (n_samples,) or scalar
        Target label of each counterfactual.
    length_scale : float or "median", default=5.0
        Kernel length scale, see :func:`mmd` for the choice of default. "median" is evaluated
        separately for each group.
    kernel : {"gaussian", "laplacian"}, default="gaussian"
        Kernel, see :func:`mmd`.
    unbiased : bool, default=True
        Unbiased (U-statistic) or biased estimate. Unbiased estimates are undefined for a group
        with a single counterfactual; such groups get NaN (as in the reference) with a warning.
    max_samples : int or None, default=None
        Sub-sample each side of each group to at most this many rows without replacement.
        Counterfactual Training used 100.
    aggregate : bool, default=True
        If True return the mean over counterfactuals of their group's value, i.e. the mean over
        groups weighted by group size, ignoring NaN groups (NaN if all are NaN). If False return
        the group value of each row.
    block_size : int, default=1024
        Tile size of the kernel sums, see :func:`mmd`.
    random_state : int, RandomState instance or None, default=None
        Seed of the sub-sampling.
    device : str or torch.device, default=None
        Torch device for the kernel sums; None means the CPU.

    Returns
    -------
    ip_star : float or ndarray of shape (n_samples,)
        Size-weighted mean MMD, or the value of each row's group. Values are not clamped; the
        reference clamped them at 0 before averaging (``np.maximum(ip_star, 0)``).

    See Also
    --------
    mmd : The underlying estimator.
    implausibility : Point-wise distance-based implausibility (IP).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ct.metrics import implausibility_mmd
    >>> rng = np.random.default_rng(0)
    >>> X_ref = np.vstack([rng.normal(-2, 1, (50, 2)), rng.normal(2, 1, (50, 2))])
    >>> y_ref = np.repeat([0, 1], 50)
    >>> near = implausibility_mmd(rng.normal(2, 1, (30, 2)), X_ref, y_ref, target=1)
    >>> far = implausibility_mmd(rng.normal(-2, 1, (30, 2)), X_ref, y_ref, target=1)
    >>> bool(near < far)
    True
    """
    # Validate the kernel up front: groups that are skipped never reach ``mmd``.
    X_cf, X_ref, y_ref, target = _check_reference(X_cf, X_ref, y_ref, target)
    rng = check_random_state(random_state)
    values = np.full(X_cf.shape[0], np.nan)
    singletons = []
    for label in np.unique(target):
        rows = np.flatnonzero(target == label)
        ref = X_ref[_class_rows(y_ref, label)]
        if unbiased and (rows.size < 2 or ref.shape[0] < 2):
            singletons.append(np.asarray(label).item())
            continue
        values[rows] = mmd(X_cf[rows], ref, length_scale=length_scale, kernel=kernel,
                           unbiased=unbiased, block_size=block_size, max_samples=max_samples,
                           random_state=rng, device=device)
    if singletons:
        warnings.warn(
            f"The unbiased MMD is undefined for target classes {singletons!r}, which have fewer "
            "than 2 counterfactuals or reference rows; their rows get NaN.",
            UserWarning,
            stacklevel=2,
        )
    if not aggregate:
        return values
    finite = ~np.isnan(values)
    return float(values[finite].mean()) if finite.any() else float("nan")
