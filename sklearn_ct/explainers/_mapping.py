"""Mapping between the features of ``X`` and the model's input space.

When the explained estimator is a pipeline, counterfactuals are searched in *model space*
(after the preprocessing) and mapped back to the features of ``X``. Constraints are given
on the features of ``X`` and must be translated into model space for the search. This
module does both, for the steps whose structure it knows:

* ``ColumnTransformer`` (per sub-transformer, with ``remainder`` and dropped columns),
  nested ``Pipeline`` and ``FrozenEstimator``;
* per-feature scalers with a positive scale (``StandardScaler``, ``MinMaxScaler``,
  ``MaxAbsScaler``, ``RobustScaler``) and the identity (``"passthrough"``,
  ``FunctionTransformer()``): a raw feature becomes one model column, moving in the same
  direction, so ``"increase"``/``"decrease"`` keep their meaning;
* ``OneHotEncoder``: a raw categorical feature becomes a *group* of 0/1 columns;
* any other transformer: when it maps features one to one (``OneToOneFeatureMixin``) the
  column correspondence is known but not the direction; otherwise every input is treated as
  feeding every output.

The structure is a :class:`Relation`: for each input column, the output columns it feeds and
a sign (``IDENTITY``, ``INCREASING``, ``DECREASING`` or ``UNKNOWN``), plus the one-hot groups
created along the way. Relations of consecutive steps compose.

Mapping back uses each step's ``inverse_transform``; a ``ColumnTransformer`` (which has none)
is inverted sub-transformer by sub-transformer, and columns it drops keep the factual's
values.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from dataclasses import dataclass, field

import numpy as np
from sklearn.base import OneToOneFeatureMixin
from sklearn.compose import ColumnTransformer
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    RobustScaler,
    StandardScaler,
)

from .._model import _is_passthrough, to_dense

IDENTITY, INCREASING, DECREASING, UNKNOWN = 2, 1, -1, 0

_POSITIVE_SCALERS = (StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler)


@dataclass
class Group:
    """A one-hot group of columns.

    Attributes
    ----------
    columns : ndarray of int
        Columns of the group, in its space.
    source : int or None
        Input (raw) column the group encodes, when known.
    implicit : bool
        Whether an all-zero row is valid (an encoder with a dropped category): the dropped
        category then scores ``1 - sum(columns)`` when snapping.
    """

    columns: np.ndarray
    source: object = None
    implicit: bool = False


@dataclass
class Relation:
    """How the input columns of a transformation feed its output columns.

    Attributes
    ----------
    n_out : int
        Number of output columns.
    links : list of dict
        ``links[i]`` maps each output column fed by input ``i`` to a sign.
    groups : list of Group
        One-hot groups among the output columns (``source`` = input column).
    """

    n_out: int
    links: list
    groups: list = field(default_factory=list)

    @classmethod
    def identity(cls, n):
        return cls(n, [{i: IDENTITY} for i in range(n)])


def _combine(a, b):
    if a == UNKNOWN or b == UNKNOWN:
        return UNKNOWN
    if a == IDENTITY and b == IDENTITY:
        return IDENTITY
    return INCREASING if (a > 0) == (b > 0) else DECREASING


def compose(first, second):
    """Relation of ``second`` applied after ``first``."""
    links = []
    for fed in first.links:
        out = {}
        for mid, s1 in fed.items():
            for o, s2 in second.links[mid].items():
                s = _combine(s1, s2)
                # Two paths with different signs: the direction is no longer known.
                out[o] = s if out.get(o, s) == s else UNKNOWN
        links.append(out)
    # Which first-level inputs feed each mid column (to trace group sources back).
    mid_sources = [[] for _ in range(len(second.links))]
    for i, fed in enumerate(first.links):
        for mid in fed:
            mid_sources[mid].append(i)
    groups = []
    for g in first.groups:
        # A group survives only if the next step copies each of its columns verbatim to
        # one column of its own; anything else (e.g. scaling one-hot columns) leaves no
        # 0/1 group in model space.
        cols = []
        for c in g.columns:
            fed = second.links[c]
            if len(fed) != 1 or next(iter(fed.values())) != IDENTITY:
                break
            cols.append(next(iter(fed)))
        else:
            groups.append(Group(np.array(cols, dtype=int), g.source, g.implicit))
    for g in second.groups:
        sources = mid_sources[g.source] if g.source is not None else []
        groups.append(Group(g.columns, sources[0] if len(sources) == 1 else None,
                            g.implicit))
    return Relation(second.n_out, links, groups)


def _n_out(step, n_in):
    if hasattr(step, "get_feature_names_out"):
        try:
            return len(step.get_feature_names_out())
        except Exception:  # noqa: BLE001 - some transformers need input names
            pass
    return None


def relation(step, n_in):
    """The :class:`Relation` of a fitted transformer with ``n_in`` input columns."""
    if isinstance(step, FrozenEstimator):
        return relation(step.estimator, n_in)
    if _is_passthrough(step):
        return Relation.identity(n_in)
    if isinstance(step, Pipeline):
        rel = Relation.identity(n_in)
        for _, sub in step.steps:
            rel = compose(rel, relation(sub, rel.n_out))
        return rel
    if isinstance(step, ColumnTransformer):
        return _column_transformer_relation(step, n_in)
    if isinstance(step, FunctionTransformer) and step.func is None:
        return Relation.identity(n_in)
    if isinstance(step, _POSITIVE_SCALERS):
        # All of these divide by a non-negative scale (constant features get scale 1),
        # so every feature keeps its direction.
        return Relation(n_in, [{i: INCREASING} for i in range(n_in)])
    if isinstance(step, OneHotEncoder):
        # Output columns per input feature, after dropped and infrequent categories.
        counts = step._n_features_outs
        drop_idx = getattr(step, "drop_idx_", None)
        links, groups, start = [], [], 0
        for i, k in enumerate(counts):
            cols = np.arange(start, start + k)
            links.append({int(c): UNKNOWN for c in cols})
            implicit = drop_idx is not None and drop_idx[i] is not None
            groups.append(Group(cols, i, bool(implicit)))
            start += k
        return Relation(start, links, groups)
    n_out = _n_out(step, n_in)
    if isinstance(step, OneToOneFeatureMixin) and (n_out is None or n_out == n_in):
        return Relation(n_in, [{i: UNKNOWN} for i in range(n_in)])
    if n_out is None:
        raise ValueError(
            f"Cannot tell how many columns {type(step).__name__} outputs; it needs "
            "get_feature_names_out."
        )
    # Unknown structure: every input may feed every output.
    return Relation(n_out, [dict.fromkeys(range(n_out), UNKNOWN) for _ in range(n_in)])


def _ct_parts(ct):
    """``(transformer, input columns, output slice)`` of a fitted ColumnTransformer's parts.

    Dropped parts and parts without input or output columns are left out.
    """
    for name, trans, _ in ct.transformers_:
        if isinstance(trans, str) and trans == "drop":
            continue
        idx = list(ct._transformer_to_input_indices[name])
        sl = ct.output_indices_[name]
        if idx and sl.stop > sl.start:
            yield trans, idx, sl


def _column_transformer_relation(ct, n_in):
    n_out = max((sl.stop for sl in ct.output_indices_.values()), default=0)
    links = [{} for _ in range(n_in)]
    groups = []
    for trans, idx, sl in _ct_parts(ct):
        sub = relation(trans, len(idx))
        for local, fed in enumerate(sub.links):
            for o, s in fed.items():
                links[idx[local]][sl.start + o] = s
        for g in sub.groups:
            source = idx[g.source] if g.source is not None else None
            groups.append(Group(g.columns + sl.start, source, g.implicit))
    return Relation(n_out, links, groups)


def step_label(path):
    return "__".join(path)


def check_invertible(step, path):
    """Raise a clear error if a step (or a sub-step) cannot be inverted."""
    if isinstance(step, FrozenEstimator):
        return check_invertible(step.estimator, path)
    if _is_passthrough(step):
        return
    if isinstance(step, Pipeline):
        for name, sub in step.steps:
            check_invertible(sub, path + [name])
        return
    if isinstance(step, ColumnTransformer):
        for name, trans, _ in step.transformers_:
            if isinstance(trans, str):
                continue
            check_invertible(trans, path + [name])
        return
    if not hasattr(step, "inverse_transform"):
        raise ValueError(
            f"The preprocessing step '{step_label(path)}' ({type(step).__name__}) has no "
            "inverse_transform, so counterfactuals found in the model's input space cannot "
            "be mapped back to the features of X. Use invertible preprocessing steps, or "
            "explain the final model on the preprocessed data."
        )


# -- data containers ---------------------------------------------------------------------


def is_frame(X):
    return hasattr(X, "iloc") and hasattr(X, "columns")


def take_columns(X, idx):
    return X.iloc[:, idx] if is_frame(X) else X[:, idx]


def column_values(X, j):
    return X.iloc[:, j].to_numpy() if is_frame(X) else X[:, j]


def replace_columns(X, columns):
    """A copy of ``X`` with the columns in ``columns`` ({index: values}) replaced.

    DataFrames are rebuilt column by column, so a column may change dtype (an integer
    feature that receives continuous counterfactual values becomes float64).
    """
    if is_frame(X):
        import pandas as pd

        data = {}
        for j, name in enumerate(X.columns):
            data[name] = columns[j] if j in columns else X.iloc[:, j].to_numpy()
        return pd.DataFrame(data, index=X.index, columns=X.columns)
    values = list(columns.values())
    numeric = X.dtype.kind in "biuf" and all(
        np.asarray(v).dtype.kind in "biuf" for v in values
    )
    out = np.array(X, dtype=X.dtype if X.dtype.kind == "f" else (
        np.float64 if numeric else object), copy=True)
    for j, v in columns.items():
        out[:, j] = v
    return out


# -- inverse ----------------------------------------------------------------------------


def _inverse(step, Z, X_in):
    if isinstance(step, FrozenEstimator):
        return _inverse(step.estimator, Z, X_in)
    if _is_passthrough(step):
        return Z
    if isinstance(step, Pipeline):
        return inverse([(n, s) for n, s in step.steps], Z, X_in)
    if isinstance(step, ColumnTransformer):
        return _inverse_column_transformer(step, Z, X_in)
    return step.inverse_transform(Z)


def inverse(steps, Z, X):
    """Map model-space rows ``Z`` back to the features of the factuals ``X``.

    Parameters
    ----------
    steps : list of (name, transformer)
        Fitted preprocessing steps.
    Z : ndarray of shape (n, n_model_features)
        Model-space rows (one per factual).
    X : DataFrame or ndarray
        The factuals, in the input space of ``steps``; columns that the preprocessing
        drops keep these values.

    Returns
    -------
    X_back : same container kind as ``X``
    """
    steps = [(name, step) for name, step in steps if not _is_passthrough(step)]
    inputs = [X]
    for _, step in steps[:-1]:
        inputs.append(step.transform(inputs[-1]))
    for (_, step), X_in in zip(reversed(steps), reversed(inputs)):
        Z = _inverse(step, Z, X_in)
    return Z


def _inverse_column_transformer(ct, Z, X_in):
    Z = to_dense(Z) if not is_frame(Z) else Z.to_numpy()
    columns = {}
    for trans, idx, sl in _ct_parts(ct):
        sub = Z[:, sl]
        back = sub if _is_passthrough(trans) else _inverse(trans, sub, take_columns(X_in, idx))
        back = back.to_numpy() if is_frame(back) else np.asarray(back)
        for local, j in enumerate(idx):
            columns[j] = back[:, local]
    return replace_columns(X_in, columns)
