"""One-hot groups among a model's input columns: found from feature names, or declared.

:class:`~sklearn_ct.CTClassifier` and :class:`~sklearn_ct.CounterfactualExplainer` accept
``categorical_groups`` as lists of columns (names or indices) or as ``"auto"``. ``"auto"``
reads the feature names, so that a classifier at the end of a pipeline whose
``ColumnTransformer`` one-hot encodes categories and outputs pandas
(``set_output(transform="pandas")``) finds the groups without anyone counting columns.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils._param_validation import validate_params

__all__ = ["find_categorical_groups"]


def _group_key(names):
    """The shared ``<feature>_`` prefix of names, or None.

    The longest common prefix cut after its last underscore: ``"workclass_"`` for
    ``["workclass_Private", "workclass_State-gov"]``. A prefix that is empty or ends in
    ``"__"`` (only a ``ColumnTransformer``'s ``"cat__"``) names no feature.
    """
    prefix = names[0]
    for name in names[1:]:
        n = 0
        for a, b in zip(prefix, name):
            if a != b:
                break
            n += 1
        prefix = prefix[:n]
    cut = prefix.rfind("_")
    if cut < 0:
        return None
    key = prefix[: cut + 1]
    if key.endswith("__") or not key.strip("_"):
        return None
    return key


@validate_params(
    {"feature_names": ["array-like"], "X": [None, "array-like"]},
    prefer_skip_nested_validation=True,
)
def find_categorical_groups(feature_names, X=None):
    """Find one-hot encoded groups of columns from their names (and values).

    A group is a run of at least two consecutive columns named ``<feature>_<category>``
    with the same ``<feature>_`` prefix, which is how
    :class:`~sklearn.preprocessing.OneHotEncoder` names its output (``get_feature_names_out``,
    with or without a ``ColumnTransformer``'s ``"<transformer>__"`` prefix) and how
    :func:`pandas.get_dummies` names dummies. The prefix is the longest common prefix of
    the run's names, cut after its last underscore, so feature names and categories may
    contain underscores themselves. When ``X`` is given, a run must also hold only 0 and
    1 with at most one 1 per row; a column that breaks this ends the run.

    Parameters
    ----------
    feature_names : array-like of str, shape (n_features,)
        Column names, e.g. a classifier's ``feature_names_in_``.
    X : array-like of shape (n_samples, n_features), default=None
        Data with these columns, to check that the groups are one-hot encoded.

    Returns
    -------
    groups : list of list of int
        Column indices of each group, in column order.

    See Also
    --------
    sklearn_ct.CTClassifier : Uses this for ``categorical_groups="auto"``.

    Examples
    --------
    >>> from sklearn_ct import find_categorical_groups
    >>> find_categorical_groups(["age", "sex_F", "sex_M", "job_a_b", "job_c", "hours"])
    [[1, 2], [3, 4]]
    """
    names = [str(n) for n in np.asarray(feature_names, dtype=object)]
    values = None
    if X is not None:
        values = np.asarray(X, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != len(names):
            raise ValueError(f"X must have {len(names)} columns, one per feature name; got "
                             f"shape {values.shape}.")
        binary = np.isin(values, (0.0, 1.0)).all(axis=0)
    else:
        binary = np.ones(len(names), dtype=bool)

    def exclusive(cols):
        return values is None or (values[:, cols].sum(axis=1) <= 1).all()

    groups, j = [], 0
    while j < len(names):
        run, key = [j], None
        while binary[run[0]] and run[-1] + 1 < len(names):
            nxt = run[-1] + 1
            candidate = _group_key([names[c] for c in run + [nxt]])
            if (not binary[nxt] or candidate is None or (key is not None and candidate != key)
                    or not exclusive(run + [nxt])):
                break
            run.append(nxt)
            key = candidate
        if len(run) >= 2:
            groups.append(run)
        j = run[-1] + 1
    return groups
