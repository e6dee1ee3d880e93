"""Explaining Dask collections partition by partition.

A fitted :class:`~sklearn_ct.CounterfactualExplainer` is a plain picklable object, so it
can travel to Dask workers and explain each partition (or row chunk) there. Rows are
explained exactly as in memory: random targets and the starting points of further
candidates are keyed by each row's own values, and the search never couples rows, so
neither the partitioning nor the worker changes a row's counterfactuals.

Dask is imported only when a Dask collection is passed.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
import threading
import uuid

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

#: Fields of ``explain`` with one value per row, and those with one per counterfactual.
_ROW_FIELDS = ("target", "already_target", "factual_prediction")
_CF_FIELDS = ("valid", "n_iter", "target_proba", "prediction")


def dask_kind(X):
    """``"frame"`` for a Dask DataFrame, ``"array"`` for a Dask array, else None.

    Checked without importing Dask, so that in-memory inputs never pay for it.
    """
    module = type(X).__module__ or ""
    if not module.startswith("dask"):
        return None
    if hasattr(X, "map_partitions") and hasattr(X, "columns"):
        return "frame"
    if hasattr(X, "map_blocks") and hasattr(X, "chunks"):
        return "array"
    return None


def _output_meta(explainer, meta):
    """An empty frame with the columns and dtypes ``transform`` gives for ``meta``."""
    numeric = [is_numeric_dtype(dt) for dt in meta.dtypes]
    if all(numeric):
        # As in memory: float32 stays float32, anything else becomes float64.
        dtype = np.float32 if all(dt == np.float32 for dt in meta.dtypes) else np.float64
        return pd.DataFrame({c: pd.Series(dtype=dtype) for c in meta.columns})
    return pd.DataFrame({c: pd.Series(dtype=np.float64 if num else meta[c].dtype)
                         for c, num in zip(meta.columns, numeric)})


class _PartitionTask:
    """The explainer's work on one partition, as a picklable callable for Dask.

    Dask names tasks by hashing their arguments, which a fitted torch model does not
    allow deterministically; each call of ``transform``/``explain`` gets its own token
    instead (so two calls never share tasks by mistake).
    """

    def __init__(self, explainer, method, target=None):
        self.explainer = explainer
        self.method = method
        self.target = target
        self.token = uuid.uuid4().hex
        self._local = threading.local()

    def __dask_tokenize__(self):
        return ("sklearn_ct", self.method, self.token)

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_local"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def _explainer(self):
        # A search reuses buffers of the model (its float64 view), so threads of one
        # worker must not share a model: each thread explains with its own copy.
        own = getattr(self._local, "explainer", None)
        if own is None:
            own = self._local.explainer = copy.deepcopy(self.explainer)
        return own

    def __call__(self, part):
        if self.method == "explain":
            return _explain_part(part, self._explainer(), self.target)
        out = self._explainer().transform(part)
        if self.method == "transform_frame" and not isinstance(out, pd.DataFrame):
            out = pd.DataFrame(np.asarray(out), columns=part.columns, index=part.index)
        return np.asarray(out) if self.method == "transform_array" else out


def _check_array(X, explainer):
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-d Dask array, got {X.ndim} dimensions.")
    if X.shape[1] != explainer.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(explainer).__name__} is "
                         f"expecting {explainer.n_features_in_} features as input.")
    # Rows are explained in chunks of whole rows.
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


def dask_transform(explainer, X):
    """``transform`` of a Dask DataFrame or array, lazily, one partition per task."""
    if dask_kind(X) == "frame":
        return X.map_partitions(_PartitionTask(explainer, "transform_frame"),
                                meta=_output_meta(explainer, X._meta))
    X = _check_array(X, explainer)
    dtype = X.dtype if X.dtype == np.float32 else np.float64
    return X.map_blocks(_PartitionTask(explainer, "transform_array"), dtype=dtype)


def _explain_part(part, explainer, target):
    res = explainer.explain(part, target=target)
    res._index = part.index if isinstance(part, pd.DataFrame) else None
    cf = res.counterfactuals
    if isinstance(cf, pd.DataFrame) and explainer.n_per_row > 1:
        # Dask frames have no MultiIndex: keep the factual's index (repeated per
        # candidate, in candidate order).
        cf = cf.droplevel(-1)
    res.counterfactuals = cf
    return res


def _field(res, name):
    return res[name]


def _pandas_field(res, name):
    """A field as a pandas Series (one value per row) or a frame (one column per
    candidate), on the partition's index."""
    value = res[name]
    if value.ndim == 2:
        return pd.DataFrame(value, index=res._index)
    return pd.Series(value, index=res._index, name=name)


def dask_explain(explainer, X, target):
    """``explain`` of a Dask collection: a Bunch of lazy Dask collections.

    Each partition is explained by one task; every field of the result is taken from
    that task's output, so computing the fields together (``dask.compute``) runs each
    search once. For a Dask DataFrame the fields are Dask Series (one value per row) or
    DataFrames (one column per candidate) on ``X``'s index; for a Dask array, Dask
    arrays.
    """
    import dask
    import dask.array as da
    import dask.dataframe as dd
    from sklearn.utils import Bunch

    if not (isinstance(target, str) or np.ndim(target) == 0):
        raise ValueError("target per row is not supported for Dask collections; use "
                         "'opposite', 'random' or one label for all rows.")
    k = explainer.n_per_row
    kind = dask_kind(X)
    if kind == "array":
        X = _check_array(X, explainer)
        parts = list(X.to_delayed().ravel())
        sizes = X.chunks[0]
        n_features = X.shape[1]
    else:
        parts = list(X.to_delayed())
        sizes = [np.nan] * len(parts)
        n_features = len(X.columns)
    task = _PartitionTask(explainer, "explain", target)
    results = [dask.delayed(task, pure=True)(part) for part in parts]
    get = dask.delayed(_field, pure=True)

    def array(name, per_cf, dtype):
        if kind == "frame":
            # Dask DataFrame in, Dask pandas objects out: a Series per field, or a frame
            # with one column per candidate, on X's index.
            pandas = dask.delayed(_pandas_field, pure=True)
            if per_cf and k > 1:
                meta = pd.DataFrame({j: pd.Series(dtype=dtype) for j in range(k)})
            else:
                meta = pd.Series(dtype=dtype, name=name)
            return dd.from_delayed([pandas(r, name) for r in results], meta=meta,
                                   verify_meta=False)
        shape = (lambda m: (m, k)) if (per_cf and k > 1) else (lambda m: (m,))
        return da.concatenate([da.from_delayed(get(r, name), shape=shape(m), dtype=dtype)
                               for r, m in zip(results, sizes)], axis=0)

    classes = explainer.classes_
    out = Bunch()
    if kind == "frame":
        meta = _output_meta(explainer, X._meta)
        out.counterfactuals = dd.from_delayed([get(r, "counterfactuals") for r in results],
                                              meta=meta, verify_meta=False)
    else:
        dtype = X.dtype if X.dtype == np.float32 else np.float64
        shape = (lambda m: (m, k, n_features)) if k > 1 else (lambda m: (m, n_features))
        out.counterfactuals = da.concatenate(
            [da.from_delayed(get(r, "counterfactuals"), shape=shape(m), dtype=dtype)
             for r, m in zip(results, sizes)], axis=0)
    out.target = array("target", False, classes.dtype)
    out.already_target = array("already_target", False, bool)
    out.factual_prediction = array("factual_prediction", False, classes.dtype)
    out.valid = array("valid", True, bool)
    out.n_iter = array("n_iter", True, np.int64)
    out.target_proba = array("target_proba", True, np.float64)
    out.prediction = array("prediction", True, classes.dtype)
    out.path = None
    if k > 1:
        out.best = array("best", False, np.int64)
    return out
