"""The explainer's compiled constraint space: feature space <-> model space.

Counterfactuals are searched in *model space* (the input of the explained model, after a
pipeline's preprocessing) but constraints are given, and results returned, in the
*feature space* of ``X``. :class:`_FeatureSpace` is compiled once, in the explainer's
``fit``, from the training data and the user's constraint specifications; it holds both
sides of every constraint and maps counterfactuals back with an exact projection.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from .._constraints import (
    _feature_index,
    check_domain_covers,
    direction_masks,
    mask_directions,
    resolve_domain,
    resolve_mutability,
    row_bounds,
)
from ._categorical import resolve_groups, snap
from ._mapping import (
    DECREASING,
    IDENTITY,
    UNKNOWN,
    Group,
    Relation,
    column_values,
    compose,
    inverse,
    is_frame,
    relation,
    replace_columns,
)


def is_numeric_input(X):
    """Whether ``X`` (a DataFrame, an array or anything array-like) holds only numbers."""
    if is_frame(X):
        return all(is_numeric_dtype(dt) for dt in X.dtypes)
    arr = X if hasattr(X, "dtype") else None
    if arr is None:
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError):
            return False
    return arr.dtype.kind in "biuf"


def _numeric_mask(X):
    """Which columns of a validated container hold numbers."""
    if is_frame(X):
        return np.array([is_numeric_dtype(dt) for dt in X.dtypes], dtype=bool)
    if X.dtype.kind in "biuf":
        return np.ones(X.shape[1], dtype=bool)
    mask = np.zeros(X.shape[1], dtype=bool)
    for j in range(X.shape[1]):  # object arrays: a loop over features, not samples
        try:
            X[:, j].astype(np.float64)
            mask[j] = True
        except (TypeError, ValueError):
            pass
    return mask


def _numeric_block(X, columns):
    if is_frame(X):
        return X.iloc[:, columns].to_numpy(dtype=np.float64)
    return np.asarray(X[:, columns], dtype=np.float64)


def merge_rows(old, new, rows):
    """``old`` with the rows selected by the mask ``rows`` replaced by ``new``'s rows."""
    idx = np.flatnonzero(rows)
    if is_frame(old):
        data = {}
        for name in old.columns:
            col = old[name].to_numpy()
            upd = new[name].to_numpy()
            col = col.astype(np.result_type(col, upd) if col.dtype.kind in "biuf"
                             and upd.dtype.kind in "biuf" else object, copy=True)
            col[idx] = upd
            data[name] = pd.Series(col, index=old.index).astype(old[name].dtype)
        return pd.DataFrame(data, index=old.index, columns=old.columns)
    out = np.array(old, copy=True)
    out[idx] = np.asarray(new)
    return out


class _FeatureSpace:
    """Constraints in feature and model space, and the map from one to the other.

    Parameters
    ----------
    model : ModelAdapter
        The explained model (its preprocessing ``steps`` and trained ``mutability``).
    X_raw : DataFrame or ndarray of shape (n_samples, n_features)
        Training data in feature space, as the model's preprocessing takes it.
    Z : ndarray of shape (n_samples, n_model_features)
        The same data in model space.
    mutability, domain, categorical_groups
        The explainer's parameters of those names.
    feature_names : ndarray of str or None
        Names of the features of ``X`` (for specifications and messages).

    Attributes
    ----------
    mutability : ndarray of str, shape (n_features,)
        Direction of every feature of ``X`` (one-hot groups move as a whole): the
        explainer's own constraints combined with those the model was trained with,
        mapped back through the preprocessing.
    domain : ndarray of shape (n_features, 2)
        Bounds of every feature of ``X`` (infinite for categorical columns, ``[0, 1]`` for
        declared one-hot columns).
    numeric : ndarray of bool, shape (n_features,)
        Which columns of ``X`` hold numbers; the others are categories (strings).
    num_idx : ndarray of int
        Indices of the numeric columns of ``X`` (the *numeric block*).
    raw_groups : list of Group
        Declared one-hot groups, as positions in the numeric block.
    model_groups : list of Group
        One-hot groups in model space (created by a ``OneHotEncoder``, or declared groups
        that reach model space verbatim), snapped after the search.
    group_columns : ndarray of bool, shape (n_model_features,)
        Model columns that belong to a one-hot group (fixed when rows are searched again
        after snapping).
    links : ndarray of bool, shape (n_features, n_model_features) or None
        Which model columns each feature feeds; None without preprocessing.
    raw_inc, raw_dec : ndarray of bool
        Mutability masks of the numeric block.
    raw_free : ndarray of bool, shape (n_features,)
        Features that may change at all.
    can_increase, can_decrease : ndarray of bool, shape (n_model_features,)
        Mutability masks in model space, including the model's own training mutability.
    lower, upper : ndarray of shape (n_model_features,)
        Bounds in model space.
    """

    def __init__(self, model, X_raw, Z, *, mutability, domain, categorical_groups,
                 feature_names):
        self.model = model
        self.feature_names = feature_names
        p, d = X_raw.shape[1], Z.shape[1]
        self.numeric = _numeric_mask(X_raw)
        self.num_idx = np.flatnonzero(self.numeric)
        X_num = np.full((X_raw.shape[0], p), np.nan)
        X_num[:, self.num_idx] = _numeric_block(X_raw, self.num_idx)

        rel = Relation.identity(p)
        for _, step in model.steps:
            rel = compose(rel, relation(step, rel.n_out))
        if rel.n_out != d:
            raise ValueError(f"The preprocessing outputs {d} columns, but its structure "
                             f"accounts for {rel.n_out}; it cannot be inverted reliably.")
        raw_groups = resolve_groups(categorical_groups, X_num, feature_names, self.numeric)
        self.model_groups = list(rel.groups)
        encoded = {g.source for g in rel.groups if g.source is not None}
        for g in raw_groups:
            # A declared group reaches model space verbatim only through identity steps;
            # then it is snapped there too (otherwise only in feature space).
            fed = [rel.links[j] for j in g.columns]
            if all(len(f) == 1 and next(iter(f.values())) == IDENTITY for f in fed):
                cols = np.array([next(iter(f)) for f in fed])
                self.model_groups.append(Group(cols, None, g.implicit))
        # Groups the explained CTClassifier was trained with (in model space) are
        # categories here too, unless the preprocessing already made them groups.
        known = {int(j) for g in self.model_groups for j in g.columns}
        for g in getattr(model.final, "_groups", None) or ():
            if not known.intersection(int(j) for j in g.columns):
                self.model_groups.append(Group(np.asarray(g.columns), None, g.implicit))
        categorical = np.zeros(p, dtype=bool)
        categorical[list(encoded)] = True
        for g in raw_groups:
            categorical[g.columns] = True

        self.mutability = self._feature_mutability(
            mutability, raw_groups, encoded, self._trained_mutability(rel, categorical))
        self.domain = self._feature_domain(domain, X_num, raw_groups, encoded, categorical)
        self._model_constraints(X_raw, rel, categorical, d)

        # Declared groups, as positions in the numeric block of X.
        pos = {j: k for k, j in enumerate(self.num_idx)}
        self.raw_groups = [Group(np.array([pos[j] for j in g.columns]), None, g.implicit)
                           for g in raw_groups]
        self.group_columns = np.zeros(d, dtype=bool)
        for g in self.model_groups:
            self.group_columns[g.columns] = True
        for g in raw_groups:
            for j in g.columns:
                self.group_columns[list(rel.links[j])] = True
        links = np.zeros((p, d), dtype=bool)
        for i, fed in enumerate(rel.links):
            links[i, list(fed)] = True
        self.links = links if model.steps else None
        raw_inc, raw_dec = direction_masks(self.mutability)
        self.raw_inc, self.raw_dec = raw_inc[self.num_idx], raw_dec[self.num_idx]
        self.raw_free = self.mutability != "none"

    # -- compilation ---------------------------------------------------------------------

    def _names(self, idx):
        names = self.feature_names
        return [names[i] if names is not None else int(i) for i in idx]

    def _trained_mutability(self, rel, categorical):
        """The model's training mutability as masks on the features of ``X``, or None.

        The search enforces it in model space; the projection back to feature space
        needs it too, so that it wins over the domain there as well. A feature inherits
        the constraint of every model column that it alone feeds: a monotone one through
        a map of known sign keeps (or, for a decreasing map, swaps) its direction; through
        a map of unknown sign, or for a categorical feature, the feature is kept fixed. A
        column fed by several features constrains them jointly, which no per-feature
        direction expresses: it is left to the search.
        """
        own = self.model.mutability
        if own is None or len(own) != rel.n_out:
            return None
        model_inc, model_dec = direction_masks(own)
        fed_by = np.zeros(rel.n_out, dtype=int)
        for links in rel.links:
            for j in links:
                fed_by[j] += 1
        can_inc = np.ones(len(rel.links), dtype=bool)
        can_dec = np.ones(len(rel.links), dtype=bool)
        for i, links in enumerate(rel.links):
            for j, sign in links.items():
                if (model_inc[j] and model_dec[j]) or fed_by[j] > 1:
                    continue
                if not (model_inc[j] or model_dec[j]) or sign == UNKNOWN or categorical[i]:
                    can_inc[i] = can_dec[i] = False
                elif sign > 0:
                    can_inc[i] &= model_inc[j]
                    can_dec[i] &= model_dec[j]
                else:  # a decreasing map swaps the directions
                    can_inc[i] &= model_dec[j]
                    can_dec[i] &= model_inc[j]
        return can_inc, can_dec

    def _feature_mutability(self, mutability, raw_groups, encoded, trained=None):
        """Mutability in feature space (a one-hot group moves as a whole)."""
        dirs = resolve_mutability(mutability, len(self.numeric), self.feature_names)
        if trained is not None:
            can_inc, can_dec = direction_masks(dirs)
            dirs = mask_directions(can_inc & trained[0], can_dec & trained[1])
        for g in raw_groups:
            gd = set(dirs[g.columns])
            if gd & {"increase", "decrease"}:
                raise ValueError("categorical_groups columns can only be 'none' or 'both' in "
                                 f"mutability; got {sorted(gd)} for columns "
                                 f"{self._names(g.columns)}.")
            if "none" in gd:
                dirs[g.columns] = "none"
        for i in encoded:
            if dirs[i] in ("increase", "decrease"):
                raise ValueError(
                    f"Feature {self._names([i])[0]!r} is one-hot encoded (categorical); its "
                    f"mutability can only be 'none' or 'both', got {dirs[i]!r}."
                )
        return dirs

    def _feature_domain(self, domain, X_num, raw_groups, encoded, categorical):
        """Domain in feature space (numeric, non-categorical columns)."""
        p, names = len(self.numeric), self.feature_names
        bounds = resolve_domain(domain, np.where(np.isnan(X_num), 0.0, X_num), names)
        if isinstance(domain, dict):
            for key in domain:
                j = _feature_index(key, p, names, "domain")
                if not self.numeric[j] or j in encoded:
                    raise ValueError(f"domain refers to feature {key!r}, which is "
                                     "categorical; categorical features are not bounded.")
        bounds[~self.numeric | categorical] = [-np.inf, np.inf]
        for g in raw_groups:
            bounds[g.columns] = [0.0, 1.0]
        check_domain_covers(bounds, X_num, names)
        return bounds

    def _model_constraints(self, X_raw, rel, categorical, d):
        """Masks per direction and bounds in model space."""
        can_inc, can_dec = np.ones(d, dtype=bool), np.ones(d, dtype=bool)
        lower, upper = np.full(d, -np.inf), np.full(d, np.inf)
        fed_by = np.zeros(d, dtype=int)
        for links in rel.links:
            for j in links:
                fed_by[j] += 1
        for i, direction in enumerate(self.mutability):
            links = rel.links[i]
            if direction == "both" or not links:
                continue
            if direction == "none":
                for j in links:
                    can_inc[j] = can_dec[j] = False
                continue
            for j, s in links.items():
                if s == UNKNOWN or fed_by[j] > 1:
                    raise ValueError(
                        f"mutability {direction!r} on feature {self._names([i])[0]!r} cannot "
                        "be enforced: its direction is not preserved by the preprocessing "
                        "(only per-feature scalers with a positive scale are known to "
                        "preserve it)."
                    )
                up = (direction == "increase") != (s == DECREASING)
                can_inc[j] &= up
                can_dec[j] &= not up
        self._map_bounds(X_raw, rel, self.numeric & ~categorical, fed_by, lower, upper)
        for g in self.model_groups:
            lower[g.columns] = np.maximum(lower[g.columns], 0.0)
            upper[g.columns] = np.minimum(upper[g.columns], 1.0)
        own = self.model.mutability
        if own is not None and len(own) == d:
            inc, dec = direction_masks(own)
            can_inc &= inc
            can_dec &= dec
        self.can_increase, self.can_decrease = can_inc, can_dec
        self.lower, self.upper = lower, upper

    def _map_bounds(self, X_raw, rel, eligible, fed_by, lower, upper):
        """Transform feature-space bounds of elementwise monotone features to model space."""
        pairs = []
        for i in np.flatnonzero(eligible):
            links = rel.links[i]
            if len(links) != 1:
                continue
            (j, s), = links.items()
            if s != UNKNOWN and fed_by[j] == 1:
                pairs.append((i, j, s))
        if not pairs:
            return
        low, high = self.domain[:, 0], self.domain[:, 1]
        if not (np.isfinite(low[[i for i, _, _ in pairs]]).any()
                or np.isfinite(high[[i for i, _, _ in pairs]]).any()):
            return
        first = X_raw.iloc[:1] if is_frame(X_raw) else X_raw[:1]
        rows = {}
        for side, b in (("low", low), ("high", high)):
            cols = {}
            for i, _, _ in pairs:
                base = column_values(first, i).astype(np.float64)
                cols[i] = np.where(np.isfinite(b[i]), b[i], base)
            rows[side] = self.model.transform(replace_columns(first, cols))[0]
        for i, j, s in pairs:
            lo_i, hi_i = np.isfinite(low[i]), np.isfinite(high[i])
            if s > 0:
                lower[j] = rows["low"][j] if lo_i else -np.inf
                upper[j] = rows["high"][j] if hi_i else np.inf
            else:
                lower[j] = rows["high"][j] if hi_i else -np.inf
                upper[j] = rows["low"][j] if lo_i else np.inf

    # -- model space -> feature space ----------------------------------------------------

    def to_features(self, Zc, Z, X_raw, Xv, searched=None):
        """Map model-space counterfactuals back to the features of ``X``, exactly.

        Features the search did not change are copied from the factual; numeric features
        of the rows that were searched are projected onto the feature-space constraints
        and declared groups snapped. Rows that were not searched are the factuals.

        Parameters
        ----------
        Zc, Z : ndarray of shape (n, n_model_features)
            Counterfactuals and factuals in model space.
        X_raw : DataFrame or ndarray of shape (n, n_features)
            The factuals as given.
        Xv : ndarray of shape (n, n_features)
            The factuals validated (their dtype is the output's, for numeric input).
        searched : ndarray of bool, shape (n,), default=None
            The rows that were searched (all when None).

        Returns
        -------
        X_cf : ndarray or DataFrame
            Counterfactuals with the columns of ``X``.
        raw : ndarray or DataFrame
            The same, in the container the model's preprocessing expects (to re-check
            validity on exactly what is returned).
        """
        V, back, changed_raw = self._project(Zc, Z, X_raw, searched)
        return self._assemble(V, back, changed_raw, X_raw, Xv)

    def _project(self, Zc, Z, X_raw, searched=None):
        """Numeric block after the inverse map, projection and snapping.

        Returns ``(V, back, changed_raw)``: the numeric columns of ``X`` as floats, the
        inverse-transformed container (for categorical columns; None without
        preprocessing), and which features of ``X`` the search changed.
        """
        changed = Zc != Z
        if searched is not None:
            changed &= searched[:, None]
        if self.model.steps:
            back = inverse(self.model.steps, Zc, X_raw)
            changed_raw = (changed.astype(np.float32) @ self.links.T.astype(np.float32)) > 0
            V = _numeric_block(back, self.num_idx) if self.num_idx.size else np.zeros(
                (Zc.shape[0], 0))
        else:
            back = None
            changed_raw = changed
            V = Zc
        F = _numeric_block(X_raw, self.num_idx)
        V = np.where(changed_raw[:, self.num_idx], V, F)
        low, high = self.domain[self.num_idx, 0], self.domain[self.num_idx, 1]
        if not (self.raw_inc.all() and self.raw_dec.all()):
            # Mutability makes the bounds per row; without it the (d,) domain broadcasts
            # (the same clip, without two (n, d) arrays of bounds).
            low, high = row_bounds(F, low, high, self.raw_inc, self.raw_dec)
        # Rows that were not searched (already at their target) are the factuals, even
        # outside the domain; the others are projected, with mutability before the domain.
        rows = np.ones(F.shape[0], dtype=bool) if searched is None else searched
        V = np.where(rows[:, None], np.clip(V, low, high), F)
        snap(V, self.raw_groups, rows=rows)
        return V, back, changed_raw

    def _assemble(self, V, back, changed_raw, X_raw, Xv):
        """Build the output container with ``X``'s columns (see :meth:`to_features`)."""
        if self.numeric.all():
            dtype = Xv.dtype if Xv.dtype.kind == "f" else np.float64
            X_cf = V.astype(dtype, copy=False)
            if not self.model.steps:
                return X_cf, X_cf
            if is_frame(X_raw):
                cols = {j: X_cf[:, j] for j in range(X_cf.shape[1])}
                return X_cf, replace_columns(X_raw, cols)
            return X_cf, X_cf
        columns = {}
        for k, j in enumerate(self.num_idx):
            columns[int(j)] = V[:, k]
        for j in np.flatnonzero(~self.numeric):  # a loop over features, not samples
            take = changed_raw[:, j] & self.raw_free[j]
            columns[int(j)] = np.where(take, column_values(back, j), column_values(X_raw, j))
        out = replace_columns(X_raw, columns)
        if is_frame(out):
            for j in np.flatnonzero(~self.numeric):
                name = out.columns[j]
                try:
                    out[name] = out[name].astype(X_raw.dtypes.iloc[j])
                except (TypeError, ValueError):  # pragma: no cover - exotic dtypes
                    pass
        return out, out
