"""One-hot groups: declaring, validating and snapping them.

Gradient search treats one-hot columns as continuous (a relaxation: the search may leave
a group at, say, ``[0.3, 0.6, 0.1]``; domain bounds keep every column in ``[0, 1]``). At
the end each group is *snapped* to the category with the largest value, as the reference
implementation's evaluation does, so the output always holds valid categories; the
explainer then re-checks validity, and searches again with the snapped groups fixed for
rows that the snapping pushed back across the decision boundary.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np

from .._constraints import _feature_index
from .._groups import find_categorical_groups
from ._mapping import Group


def snap(Z, groups, rows=None):
    """Snap one-hot groups of ``Z`` to their argmax, in place.

    Parameters
    ----------
    Z : ndarray of shape (n, d)
        Rows to snap (modified in place).
    groups : list of Group
        Groups of columns of ``Z``. For a group with an ``implicit`` (dropped) category,
        that category scores ``1 - sum(columns)`` and wins by giving an all-zero row.
    rows : ndarray of bool or None
        Rows to snap (all when None).

    Returns
    -------
    Z : ndarray
    """
    sel = np.arange(Z.shape[0]) if rows is None else np.flatnonzero(rows)
    if sel.size == 0:
        return Z
    for g in groups:
        sub = Z[np.ix_(sel, g.columns)]
        if g.implicit:
            scores = np.column_stack([1.0 - sub.sum(axis=1), sub])
        else:
            scores = sub
        # argmax breaks ties towards the first column: deterministic.
        best = scores.argmax(axis=1)
        onehot = np.zeros_like(scores)
        onehot[np.arange(sel.size), best] = 1.0
        Z[np.ix_(sel, g.columns)] = onehot[:, 1:] if g.implicit else onehot
    return Z


def resolve_groups(categorical_groups, X_num, feature_names, numeric):
    """Resolve the user's ``categorical_groups`` into :class:`Group` objects.

    Parameters
    ----------
    categorical_groups : None, "auto" or list of lists
        Groups of columns of ``X`` (names or indices) holding one-hot (dummy) encoded
        categories; ``"auto"`` finds them by the feature names
        (:func:`~sklearn_ct.find_categorical_groups`).
    X_num : ndarray of shape (n_samples, n_features)
        Training data with numeric columns as float (others NaN), to validate groups.
    feature_names : ndarray of str or None
    numeric : ndarray of bool, shape (n_features,)
        Which columns of ``X`` are numeric.

    Returns
    -------
    groups : list of Group
        In the column space of ``X``; ``implicit`` is True when some training rows have
        no active column (a dropped reference category).
    """
    if categorical_groups is None:
        return []
    if isinstance(categorical_groups, str) and categorical_groups == "auto":
        if feature_names is None:
            warnings.warn("categorical_groups='auto' finds one-hot groups by the feature "
                          "names of a DataFrame; X has none, so no group was found.",
                          UserWarning,
                          # here, _FeatureSpace or CTClassifier's helper, fit, atomic_fit,
                          # _fit_context, the caller
                          stacklevel=6)
            return []
        categorical_groups = find_categorical_groups(feature_names, X_num)
    if isinstance(categorical_groups, (str, bytes)) or not hasattr(
        categorical_groups, "__iter__"
    ):
        raise TypeError("categorical_groups must be a list of lists of columns; got "
                        f"{categorical_groups!r}.")
    groups, seen = [], set()
    n_features = X_num.shape[1]
    for k, cols in enumerate(categorical_groups):
        if isinstance(cols, (str, bytes)) or not hasattr(cols, "__iter__"):
            raise TypeError(f"categorical_groups[{k}] must be a list of columns; got "
                            f"{cols!r}.")
        idx = [_feature_index(c, n_features, feature_names, "categorical_groups")
               for c in cols]
        if len(idx) < 1 or len(set(idx)) != len(idx):
            raise ValueError(f"categorical_groups[{k}] must list distinct columns; got "
                             f"{list(cols)!r}.")
        if seen.intersection(idx):
            raise ValueError(f"categorical_groups[{k}] shares columns with another group.")
        seen.update(idx)
        if not numeric[idx].all():
            raise ValueError(f"categorical_groups[{k}] must hold numeric 0/1 (dummy) "
                             "columns; string categories are one-hot encoded by a "
                             "OneHotEncoder in the pipeline instead.")
        block = X_num[:, idx]
        sums = block.sum(axis=1)
        if not (np.isin(block, (0.0, 1.0)).all() and (sums <= 1).all()):
            raise ValueError(
                f"categorical_groups[{k}] columns {list(cols)!r} are not one-hot encoded "
                "in X: every value must be 0 or 1, with at most one 1 per row."
            )
        implicit = bool((sums == 0).any()) or len(idx) == 1
        groups.append(Group(np.asarray(idx, dtype=int), None, implicit))
    return groups
