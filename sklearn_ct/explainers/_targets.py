"""Target classes of counterfactuals.

A row's random target class must not depend on which other rows are in the batch:
explaining rows one by one or all together has to give the same counterfactuals. It is
therefore derived from a hash of the row's own values and the explainer's seed, never from
a sequential random stream. (Growing Spheres keeps its draws batch-independent its own way:
every row uses the same candidate directions at a given iteration.)
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers

import numpy as np

from .._model import encode_labels

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(h):
    # SplitMix64 finaliser: a fast bijective mixing of 64-bit integers (wrap-around
    # arithmetic is intended).
    with np.errstate(over="ignore"):
        h = h + np.uint64(0x9E3779B97F4A7C15)
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def row_hash(Z, seed):
    """One 64-bit hash per row of a float array, mixed with ``seed``.

    Parameters
    ----------
    Z : ndarray of shape (n, d)
        Rows (as float64 values; ``-0.0`` is treated as ``0.0``).
    seed : int
        Seed of the explainer.

    Returns
    -------
    h : ndarray of uint64, shape (n,)
    """
    Z = np.ascontiguousarray(np.asarray(Z, dtype=np.float64) + 0.0)
    bits = Z.view(np.uint64).reshape(Z.shape)
    h = np.full(Z.shape[0], np.uint64(seed) & _MASK64, dtype=np.uint64)
    # One mixing round per column (a loop over features, vectorised over rows).
    for j in range(Z.shape[1]):
        h = _splitmix64(h ^ bits[:, j])
    return _splitmix64(h)


def check_target_spec(target, classes):
    """Validate a ``target`` parameter against the classes (at fit time)."""
    if isinstance(target, str) and target in ("opposite", "random"):
        return
    if target is None:
        raise ValueError("target must be 'opposite', 'random', a class label or an array "
                         "of labels (one per row); got None.")
    arr = np.asarray(target, dtype=object if isinstance(target, str) else None)
    if arr.ndim > 1:
        raise ValueError(f"target must be a label or a 1-d array of labels; got an array "
                         f"of shape {arr.shape}.")
    encode_labels(arr, classes)


def resolve_targets(target, classes, predicted, Z, seed):
    """Target class index for every row.

    Parameters
    ----------
    target : "opposite", "random", label or array-like of labels
        ``"opposite"``: for two classes the other class; for more, a random class other
        than the predicted one. ``"random"``: a random class among all classes (rows
        whose draw is their predicted class are already at the target).
    classes : ndarray of shape (n_classes,)
    predicted : ndarray of int, shape (n,)
        Predicted class indices of the factuals.
    Z : ndarray of shape (n, d)
        Model-space factuals, which key the per-row random draws.
    seed : int

    Returns
    -------
    target : ndarray of int64, shape (n,)
    """
    n, k = predicted.shape[0], classes.shape[0]
    if isinstance(target, str) and target in ("opposite", "random"):
        if target == "opposite" and k == 2:
            return 1 - predicted
        h = row_hash(Z, seed)
        if target == "random":
            return (h % np.uint64(k)).astype(np.int64)
        draw = (h % np.uint64(k - 1)).astype(np.int64)
        # Skip the predicted class: draws in [0, k-1) shift up past it.
        return draw + (draw >= predicted)
    if isinstance(target, str) or np.ndim(target) == 0 or isinstance(target, numbers.Number):
        return np.full(n, encode_labels(np.array([target], dtype=object), classes)[0])
    labels = np.asarray(target)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(
            f"target given per row must have one label per row of X ({n}); got shape "
            f"{labels.shape}."
        )
    return encode_labels(labels, classes)


def row_uniform(Z, seed, n_draws):
    """Uniform draws in ``[-1, 1)`` keyed by each row's values, not by its batch.

    Parameters
    ----------
    Z : ndarray of shape (n, d)
        Rows that key the draws (as in :func:`row_hash`).
    seed : int
        Seed of the explainer.
    n_draws : int
        Draws per row.

    Returns
    -------
    u : ndarray of shape (n, n_draws)
        The same values for a row whatever the other rows of ``Z`` are.
    """
    h = row_hash(Z, seed)
    counter = np.arange(1, n_draws + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        bits = _splitmix64(h[:, None] ^ (counter * np.uint64(0x9E3779B97F4A7C15))[None, :])
    # The top 53 bits as a double in [0, 1).
    return (bits >> np.uint64(11)).astype(np.float64) * 2.0 ** -53 * 2.0 - 1.0
