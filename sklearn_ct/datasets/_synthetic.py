"""The four synthetic two-dimensional data sets used in the Counterfactual Training paper.

The recipes follow the reference experiments (linearly separable and overlapping Gaussian
blobs, circles with an almost point-like inner class, and moons), re-implemented with NumPy.
The reference draws its points with Julia's random number generator, so the exact points
cannot be reproduced; the distributions are the same.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._common import _check_n_samples, _check_test_size, _split, _split_bunch

__all__ = [
    "SYNTHETIC_DATASETS",
    "load_synthetic",
    "make_circles",
    "make_linearly_separable",
    "make_moons",
    "make_overlapping",
]

#: Canonical names of the synthetic data sets, in the order of the paper.
SYNTHETIC_DATASETS = ("linearly_separable", "overlapping", "circles", "moons")

# Short names used in the paper's tables and in the reference configuration files.
_SYNTHETIC_ALIASES = {
    "ls": "linearly_separable",
    "lin_sep": "linearly_separable",
    "ol": "overlapping",
    "over": "overlapping",
    "circ": "circles",
    "moon": "moons",
}

# Minimum distance between the two blob centres. The reference draws both centres uniformly
# in the box; for an unlucky draw they nearly coincide and "linearly separable" becomes
# false. With ``cluster_std=0.5`` a distance of 4 is 8 standard deviations: the two classes'
# projections onto the line through the centres overlap with probability far below 1e-6
# even for 100,000 points, so the set is separable for every seed in practice. For the
# overlapping set (``cluster_std=2``) the classes still overlap substantially.
_MIN_CENTER_DISTANCE = 4.0
_MAX_CENTER_DRAWS = 1000


def _class_sizes(n_samples):
    """Balanced class sizes; an odd extra sample goes to class 0."""
    n_class1 = n_samples // 2
    return n_samples - n_class1, n_class1


def _stack_and_shuffle(X0, X1, rng):
    """Concatenate the two classes, label them 0 and 1 and shuffle the rows."""
    X = np.concatenate([X0, X1]).astype(np.float64, copy=False)
    y = np.concatenate(
        [np.zeros(len(X0), dtype=np.int64), np.ones(len(X1), dtype=np.int64)]
    )
    # Shuffled with the same generator so that one ``random_state`` fixes everything and
    # any contiguous slice (e.g. a first-80 % training set) contains both classes.
    order = rng.permutation(len(y))
    return X[order], y[order]


def _check_non_negative(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or value < 0:
        raise ValueError(f"{name} must be a non-negative number; got {value!r}.")
    return float(value)


def _make_two_blobs(n_samples, cluster_std, center_box, min_center_distance, random_state):
    n_samples = _check_n_samples(n_samples)
    cluster_std = _check_non_negative(cluster_std, "cluster_std")
    min_center_distance = _check_non_negative(min_center_distance, "min_center_distance")
    low, high = (float(v) for v in center_box)
    if not low < high:
        raise ValueError(f"center_box must satisfy low < high; got {center_box!r}.")
    # Two points in a square can be at most one diagonal apart; asking for more (or for
    # nearly that much) would make the rejection loop below never terminate.
    if min_center_distance >= (high - low) * np.sqrt(2.0):
        raise ValueError(
            f"min_center_distance={min_center_distance} cannot be reached inside "
            f"center_box={center_box!r}."
        )

    rng = check_random_state(random_state)
    for _ in range(_MAX_CENTER_DRAWS):
        centers = rng.uniform(low, high, size=(2, 2))
        if np.linalg.norm(centers[0] - centers[1]) >= min_center_distance:
            break
    else:  # pragma: no cover - only reachable for distances close to the box diagonal
        raise RuntimeError(
            f"Could not draw two centres at least {min_center_distance} apart in "
            f"{_MAX_CENTER_DRAWS} attempts; lower min_center_distance."
        )

    n0, n1 = _class_sizes(n_samples)
    X0 = centers[0] + cluster_std * rng.standard_normal((n0, 2))
    X1 = centers[1] + cluster_std * rng.standard_normal((n1, 2))
    return _stack_and_shuffle(X0, X1, rng)


def make_linearly_separable(
    n_samples=4500,
    *,
    cluster_std=0.5,
    center_box=(-10.0, 10.0),
    min_center_distance=_MIN_CENTER_DISTANCE,
    random_state=None,
):
    """Generate two well separated isotropic Gaussian blobs in two dimensions.

    This is the *LS* (linearly separable) data set of the Counterfactual Training paper,
    equivalent to ``make_blobs(n_samples, 2, centers=2, cluster_std=0.5,
    center_box=(-10, 10))`` in the reference implementation: both centres are drawn
    uniformly at random in the square ``center_box`` x ``center_box``. Unlike the
    reference, pairs of centres closer than ``min_center_distance`` are redrawn so that the
    classes are linearly separable for every seed.

    Parameters
    ----------
    n_samples : int, default=4500
        Total number of points. Classes are balanced: ``n_samples // 2`` points in class 1
        and the rest (one more if ``n_samples`` is odd) in class 0.

    cluster_std : float, default=0.5
        Standard deviation of each coordinate within a blob.

    center_box : tuple of float, default=(-10.0, 10.0)
        Bounds ``(low, high)`` of the box in which the centres are drawn.

    min_center_distance : float, default=4.0
        Minimum Euclidean distance between the two centres; centre pairs that are closer
        are rejected and redrawn. With the default ``cluster_std`` this is eight standard
        deviations, which makes the classes linearly separable in practice.

    random_state : int, RandomState instance or None, default=None
        Determines the centres, the points and the row order. Pass an int for
        reproducible output across multiple function calls.
        See :term:`Glossary <random_state>`.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
        The generated points, in shuffled order.

    y : ndarray of shape (n_samples,), dtype int64
        The class (0 or 1) of each point; class 0 belongs to the first centre drawn.

    See Also
    --------
    make_overlapping : The same blobs with a larger spread, so that the classes overlap.
    sklearn.datasets.make_blobs : General isotropic Gaussian blobs.

    Examples
    --------
    >>> from sklearn_ct.datasets import make_linearly_separable
    >>> X, y = make_linearly_separable(100, random_state=0)
    >>> X.shape, y.shape
    ((100, 2), (100,))
    >>> int(y.sum())
    50
    """
    return _make_two_blobs(
        n_samples, cluster_std, center_box, min_center_distance, random_state
    )


def make_overlapping(
    n_samples=4500,
    *,
    cluster_std=2.0,
    center_box=(-10.0, 10.0),
    min_center_distance=_MIN_CENTER_DISTANCE,
    random_state=None,
):
    """Generate two overlapping isotropic Gaussian blobs in two dimensions.

    This is the *OL* (overlapping) data set of the Counterfactual Training paper: the
    recipe of :func:`make_linearly_separable` with a within-blob standard deviation of 2
    instead of 0.5, so that the two classes overlap.

    Parameters
    ----------
    n_samples : int, default=4500
        Total number of points. Classes are balanced: ``n_samples // 2`` points in class 1
        and the rest (one more if ``n_samples`` is odd) in class 0.

    cluster_std : float, default=2.0
        Standard deviation of each coordinate within a blob.

    center_box : tuple of float, default=(-10.0, 10.0)
        Bounds ``(low, high)`` of the box in which the centres are drawn.

    min_center_distance : float, default=4.0
        Minimum Euclidean distance between the two centres; closer pairs are redrawn so
        that the two classes never collapse onto each other.

    random_state : int, RandomState instance or None, default=None
        Determines the centres, the points and the row order. Pass an int for
        reproducible output across multiple function calls.
        See :term:`Glossary <random_state>`.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
        The generated points, in shuffled order.

    y : ndarray of shape (n_samples,), dtype int64
        The class (0 or 1) of each point; class 0 belongs to the first centre drawn.

    See Also
    --------
    make_linearly_separable : The same blobs with a small spread.

    Examples
    --------
    >>> from sklearn_ct.datasets import make_overlapping
    >>> X, y = make_overlapping(101, random_state=0)
    >>> X.shape, int((y == 0).sum()), int((y == 1).sum())
    ((101, 2), 51, 50)
    """
    return _make_two_blobs(
        n_samples, cluster_std, center_box, min_center_distance, random_state
    )


def make_circles(n_samples=4500, *, noise=0.15, factor=0.01, random_state=None):
    """Generate a large circle around a small inner circle in two dimensions.

    This is the *Circ* data set of the Counterfactual Training paper. Class 0 lies on the
    unit circle and class 1 on a circle of radius ``factor``; with the default
    ``factor=0.01`` the inner class is essentially a Gaussian blob at the origin. Angles are
    drawn uniformly at random in :math:`[0, 2\\pi)` and Gaussian noise with standard
    deviation ``noise`` is added to both coordinates.

    Parameters
    ----------
    n_samples : int, default=4500
        Total number of points. Classes are balanced: ``n_samples // 2`` points in class 1
        (inner) and the rest (one more if ``n_samples`` is odd) in class 0 (outer).

    noise : float, default=0.15
        Standard deviation of the Gaussian noise added to each coordinate.

    factor : float, default=0.01
        Radius of the inner circle relative to the outer (unit) circle, in ``[0, 1)``.

    random_state : int, RandomState instance or None, default=None
        Determines the angles, the noise and the row order. Pass an int for reproducible
        output across multiple function calls.
        See :term:`Glossary <random_state>`.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
        The generated points, in shuffled order.

    y : ndarray of shape (n_samples,), dtype int64
        0 for the outer circle, 1 for the inner circle.

    See Also
    --------
    sklearn.datasets.make_circles : Same semantics with evenly spaced angles.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ct.datasets import make_circles
    >>> X, y = make_circles(1000, random_state=0)
    >>> radius = np.linalg.norm(X, axis=1)
    >>> bool(radius[y == 1].mean() < radius[y == 0].mean())
    True
    """
    n_samples = _check_n_samples(n_samples)
    noise = _check_non_negative(noise, "noise")
    factor = _check_non_negative(factor, "factor")
    if factor >= 1.0:
        raise ValueError(f"factor must be in [0, 1); got {factor!r}.")

    rng = check_random_state(random_state)
    n0, n1 = _class_sizes(n_samples)
    t0 = rng.uniform(0.0, 2.0 * np.pi, size=n0)
    t1 = rng.uniform(0.0, 2.0 * np.pi, size=n1)
    X0 = np.column_stack([np.cos(t0), np.sin(t0)])
    X1 = factor * np.column_stack([np.cos(t1), np.sin(t1)])
    X0 += noise * rng.standard_normal(X0.shape)
    X1 += noise * rng.standard_normal(X1.shape)
    return _stack_and_shuffle(X0, X1, rng)


def make_moons(n_samples=4500, *, noise=0.1, xshift=1.0, yshift=0.3, random_state=None):
    """Generate two interleaving half circles in two dimensions.

    This is the *Moon* data set of the Counterfactual Training paper, following the
    reference implementation (which differs slightly from
    :func:`sklearn.datasets.make_moons`): for angles :math:`t` drawn uniformly at random in
    :math:`[0, \\pi]`, class 0 points are :math:`(\\cos t, \\sin t)` (the upper unit
    semicircle) and class 1 points are :math:`(x_{shift} - \\cos t, y_{shift} - \\sin t)`
    (a lower semicircle centred at ``(xshift, yshift)``). Gaussian noise with standard
    deviation ``noise`` is added to both coordinates.

    Parameters
    ----------
    n_samples : int, default=4500
        Total number of points. Classes are balanced: ``n_samples // 2`` points in class 1
        and the rest (one more if ``n_samples`` is odd) in class 0.

    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to each coordinate.

    xshift : float, default=1.0
        Horizontal position of the centre of the lower (class 1) semicircle.

    yshift : float, default=0.3
        Vertical position of the centre of the lower (class 1) semicircle.

    random_state : int, RandomState instance or None, default=None
        Determines the angles, the noise and the row order. Pass an int for reproducible
        output across multiple function calls.
        See :term:`Glossary <random_state>`.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
        The generated points, in shuffled order.

    y : ndarray of shape (n_samples,), dtype int64
        0 for the upper semicircle, 1 for the lower semicircle.

    See Also
    --------
    sklearn.datasets.make_moons : Evenly spaced angles and a lower moon centred at
        ``(1, 0.5)``.

    Notes
    -----
    Because :math:`E[\\cos t] = 0` and :math:`E[\\sin t] = 2/\\pi` for :math:`t` uniform on
    :math:`[0, \\pi]`, the class means are :math:`(0, 2/\\pi)` for class 0 and
    :math:`(x_{shift}, y_{shift} - 2/\\pi)` for class 1.

    Examples
    --------
    >>> from sklearn_ct.datasets import make_moons
    >>> X, y = make_moons(1000, random_state=0)
    >>> X.shape, int(y.sum())
    ((1000, 2), 500)
    """
    n_samples = _check_n_samples(n_samples)
    noise = _check_non_negative(noise, "noise")
    xshift, yshift = float(xshift), float(yshift)

    rng = check_random_state(random_state)
    n0, n1 = _class_sizes(n_samples)
    t0 = rng.uniform(0.0, np.pi, size=n0)
    t1 = rng.uniform(0.0, np.pi, size=n1)
    X0 = np.column_stack([np.cos(t0), np.sin(t0)])
    X1 = np.column_stack([xshift - np.cos(t1), yshift - np.sin(t1)])
    X0 += noise * rng.standard_normal(X0.shape)
    X1 += noise * rng.standard_normal(X1.shape)
    return _stack_and_shuffle(X0, X1, rng)


_GENERATORS = {
    "linearly_separable": make_linearly_separable,
    "overlapping": make_overlapping,
    "circles": make_circles,
    "moons": make_moons,
}

_DESCRIPTIONS = {
    "linearly_separable": (
        "Linearly separable (LS): two Gaussian blobs with standard deviation 0.5 whose "
        "centres are drawn uniformly in [-10, 10]^2 and at least 4 apart."
    ),
    "overlapping": (
        "Overlapping (OL): two Gaussian blobs with standard deviation 2.0 whose centres "
        "are drawn uniformly in [-10, 10]^2 and at least 4 apart."
    ),
    "circles": (
        "Circles (Circ): class 0 on the unit circle, class 1 on a circle of radius 0.01 "
        "(essentially a blob at the origin), Gaussian noise with standard deviation 0.15."
    ),
    "moons": (
        "Moons (Moon): class 0 = (cos t, sin t), class 1 = (1 - cos t, 0.3 - sin t) with "
        "t uniform on [0, pi], Gaussian noise with standard deviation 0.1."
    ),
}


def _resolve_synthetic_name(name):
    """Map a synthetic data set name or alias to its canonical name, or return None."""
    if not isinstance(name, str):
        return None
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = _SYNTHETIC_ALIASES.get(key, key)
    return key if key in _GENERATORS else None


def load_synthetic(name, *, n_samples=4500, test_size=0.2, random_state=42, as_frame=False):
    """Load one of the paper's synthetic data sets, split into training and test sets.

    The rows are generated in random order, so the first ``round((1 - test_size) *
    n_samples)`` rows form the training set and the remaining rows the test set, as in the
    reference implementation (3,600 training rows, of which it uses 600 for validation, and
    900 test rows by default). Feature ``x1`` is the protected (immutable) feature in the
    paper's mutability experiments.

    Parameters
    ----------
    name : {"linearly_separable", "overlapping", "circles", "moons"}
        The data set. The short names used in the paper are accepted as aliases:
        ``"ls"``, ``"ol"``, ``"circ"`` and ``"moon"``.

    n_samples : int, default=4500
        Total number of points, training and test sets together.

    test_size : float, default=0.2
        Fraction of the points in the test set, strictly between 0 and 1.

    random_state : int, RandomState instance or None, default=42
        Seed of the generator, see the ``make_*`` functions. The default gives the same
        data set on every call.
        See :term:`Glossary <random_state>`.

    as_frame : bool, default=False
        If True, ``X_train`` and ``X_test`` are DataFrames with columns ``"x1"`` and
        ``"x2"`` and ``y_train`` and ``y_test`` are Series named ``"y"``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        X_train, X_test : ndarray of shape (n_train, 2) and (n_test, 2), or DataFrame
            The training and test points (float64).
        y_train, y_test : ndarray of shape (n_train,) and (n_test,), or Series
            The training and test labels (int64, 0 or 1).
        feature_names : list of str
            ``["x1", "x2"]``.
        numeric_features : list of str
            ``["x1", "x2"]``.
        categorical_features : list of str
            Empty list.
        immutable_features : list of str
            ``["x1"]``, the feature protected in the paper.
        name : str
            Canonical name of the data set.
        DESCR : str
            Description of the data set.

    See Also
    --------
    load_dataset : Load any data set of this module by name.

    Examples
    --------
    >>> from sklearn_ct.datasets import load_synthetic
    >>> ds = load_synthetic("moons")
    >>> ds.X_train.shape, ds.X_test.shape
    ((3600, 2), (900, 2))
    >>> ds.immutable_features
    ['x1']
    """
    canonical = _resolve_synthetic_name(name)
    if canonical is None:
        aliases = ", ".join(repr(a) for a in _SYNTHETIC_ALIASES)
        raise ValueError(
            f"Unknown synthetic data set {name!r}; expected one of "
            f"{SYNTHETIC_DATASETS} or an alias ({aliases})."
        )
    test_size = _check_test_size(test_size)
    X, y = _GENERATORS[canonical](n_samples, random_state=random_state)
    feature_names = ["x1", "x2"]
    if as_frame:
        X = pd.DataFrame(X, columns=feature_names)
        y = pd.Series(y, name="y")
    # The rows are already shuffled, so a contiguous split is a random split.
    split = _split(X, y, test_size=test_size, shuffle=False, random_state=None)
    y_train, y_test = split[2], split[3]
    descr = (
        f"{_DESCRIPTIONS[canonical]}\n\n"
        f"{len(y_train):,} training and {len(y_test):,} test points, classes balanced "
        "overall. Feature x1 is immutable in the paper's mutability experiments. "
        "Generated with NumPy following the recipe of the Counterfactual Training "
        "reference implementation; the exact points of the paper (drawn with Julia's "
        "random number generator) cannot be reproduced."
    )
    return _split_bunch(split, feature_names=feature_names, immutable=["x1"], name=canonical,
                        DESCR=descr)
