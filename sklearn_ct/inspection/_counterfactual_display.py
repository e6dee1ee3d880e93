"""CounterfactualDisplay: what a counterfactual changes, feature by feature."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import os

import numpy as np
from sklearn.utils._optional_dependencies import check_matplotlib_support

from .._model import unwrap
from ._common import (
    column_index,
    columns,
    feature_names,
    fitted_explainer,
    is_frame,
    target_proba,
)

# Changes smaller than this (relative to the value) are round-off, not changes; the
# explainer copies unchanged features exactly, but precomputed counterfactuals may not.
_RTOL, _ATOL = 1e-9, 1e-12


def _format(value):
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def _common_prefix(names):
    prefix = os.path.commonprefix(list(names))
    return prefix.rstrip("_=: ")


def _group_values(block, names, prefix):
    """Category of each row of a one-hot block: the name of its active column."""
    start = len(prefix)
    labels = []
    for name in names:
        label = name[start:].lstrip("_=: ") if prefix else name
        labels.append(label or name)
    labels = np.asarray(labels, dtype=object)
    block = np.asarray(block, dtype=np.float64)
    active = block.argmax(axis=1)
    values = labels[active].copy()
    # An all-zero row is a dropped (reference) category.
    values[block.max(axis=1) <= 0.5] = "(other)"
    return values


def _prepare(X, X_cf, names, immutable, categorical_groups):
    """Display features: columns of ``X``, with one-hot groups collapsed into one each.

    Returns ``(factual, counterfactual, names, immutable_mask, categorical_mask)`` with
    object arrays of shape (n_rows, n_display_features); numbers stay numbers.
    """
    names = feature_names(X, names)
    if X_cf.shape != X.shape:
        raise ValueError(f"The counterfactuals have shape {X_cf.shape}, but X has "
                         f"{X.shape}: pass the rows that were explained.")
    cols, cf_cols = columns(X), columns(X_cf)
    groups = []
    for g in categorical_groups or []:
        idx = [column_index(k, names, "categorical_groups") for k in g]
        if len(idx) < 2:
            raise ValueError(f"A categorical group needs at least 2 columns, got {g!r}.")
        groups.append(idx)
    first = {g[0]: g for g in groups}
    grouped = {j for g in groups for j in g}

    fixed = np.zeros(len(names), dtype=bool)
    if immutable is not None:
        spec = np.asarray(immutable)
        if spec.dtype == bool and spec.shape == (len(names),):
            fixed = spec.copy()
        else:
            for key in immutable:
                fixed[column_index(key, names, "immutable")] = True

    out_f, out_cf, out_names, out_fixed, out_cat = [], [], [], [], []
    for j, name in enumerate(names):
        if j in first:
            g = first[j]
            member = [names[k] for k in g]
            prefix = _common_prefix(member)
            fact_block = np.column_stack([cols[k] for k in g])
            cf_block = np.column_stack([cf_cols[k] for k in g])
            out_f.append(_group_values(fact_block, member, prefix))
            out_cf.append(_group_values(cf_block, member, prefix))
            out_names.append(prefix or "/".join(member))
            out_fixed.append(bool(fixed[g].any()))
            out_cat.append(True)
        elif j in grouped:
            continue
        else:
            numeric = cols[j].dtype.kind in "biuf" and cf_cols[j].dtype.kind in "biuf"
            if numeric:
                out_f.append(cols[j].astype(np.float64))
                out_cf.append(cf_cols[j].astype(np.float64))
            else:
                out_f.append(cols[j].astype(object))
                out_cf.append(cf_cols[j].astype(object))
            out_names.append(name)
            out_fixed.append(bool(fixed[j]))
            out_cat.append(not numeric)
    factual = np.empty((X.shape[0], len(out_names)), dtype=object)
    counterfactual = np.empty_like(factual)
    for k in range(len(out_names)):
        factual[:, k] = out_f[k]
        counterfactual[:, k] = out_cf[k]
    return (factual, counterfactual, np.asarray(out_names, dtype=object),
            np.asarray(out_fixed), np.asarray(out_cat))


def _row_labels(X):
    if is_frame(X):
        return [str(i) for i in X.index]
    return [str(i) for i in range(X.shape[0])]


def _immutable_from_explainer(explainer):
    """Immutable features of ``X`` according to the explainer (and a bare CT model)."""
    fixed = np.asarray(getattr(explainer, "mutability_", ())) == "none"
    model = unwrap(getattr(explainer, "estimator_", None))
    own = getattr(model, "mutability_", None)
    # A CTClassifier explained without preprocessing enforces its own constraints on the
    # same columns; through a pipeline its columns are not those of X.
    if own is not None and len(own) == len(fixed):
        fixed |= np.asarray(own) == "none"
    return fixed


class CounterfactualDisplay:
    """What counterfactual explanations change: feature deltas in original units.

    A horizontal bar per feature and explained row shows the change
    ``counterfactual - factual`` in the units of ``X``; each bar is annotated with the old
    and new value. Categorical features (string columns, or declared one-hot groups,
    which are collapsed into one feature) have no numeric delta: their change is named,
    ``old → new``. Immutable features are marked. The title (one row) or the legend
    (several rows) gives the target probability before and after.

    Use :meth:`from_estimator` or :meth:`from_explanation` to create one. All parameters
    are stored as attributes.

    Read more in :ref:`displays`.

    Parameters
    ----------
    factual : ndarray of shape (n_rows, n_features)
        Factual values per (display) feature, numbers in original units or category
        names; object dtype.
    counterfactual : ndarray of shape (n_rows, n_features)
        Counterfactual values, likewise.
    feature_names : ndarray of str of shape (n_features,)
        Feature names.
    target : ndarray of shape (n_rows,)
        Target class of each counterfactual.
    proba_before : ndarray of shape (n_rows,) or None, default=None
        Target probability of the factuals.
    proba_after : ndarray of shape (n_rows,) or None, default=None
        Target probability of the counterfactuals.
    immutable : ndarray of bool of shape (n_features,) or None, default=None
        Which features are immutable.
    categorical : ndarray of bool of shape (n_features,) or None, default=None
        Which features are categorical (compared by equality; no delta).
    row_labels : list of str or None, default=None
        Names of the rows in the legend (default: their positions).

    Attributes
    ----------
    deltas_ : ndarray of shape (n_rows, n_shown)
        Drawn changes ``counterfactual - factual`` of the shown features (NaN for
        categorical ones).
    features_ : ndarray of str of shape (n_shown,)
        Names of the shown features, top to bottom.
    bars_ : list of matplotlib BarContainer
        One container per row; bar ``k`` belongs to ``features_[k]``.
    annotations_ : list of matplotlib Text
        The ``old → new`` labels of the changed features.
    immutable_spans_ : list of matplotlib Rectangle
        Shaded bands behind the immutable features.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    CounterfactualPathDisplay : Counterfactuals and their search paths on a 2-D surface.
    sklearn_ct.explainers.CounterfactualExplainer : Computes the explanations.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_ct.explainers import CounterfactualExplainer
    >>> from sklearn_ct.inspection import CounterfactualDisplay
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [3.0, 2.0], [4.0, 3.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> explainer = CounterfactualExplainer(
    ...     clf, generator="growing_spheres", mutability={1: "none"},
    ...     random_state=0).fit(X)
    >>> display = CounterfactualDisplay.from_estimator(explainer, X[:1])
    >>> display.features_.tolist()
    ['x0', 'x1']
    >>> bool(display.deltas_[0, 0] > 0), float(display.deltas_[0, 1])
    (True, 0.0)
    >>> plt.close("all")
    """

    def __init__(self, *, factual, counterfactual, feature_names, target,
                 proba_before=None, proba_after=None, immutable=None, categorical=None,
                 row_labels=None):
        self.factual = factual
        self.counterfactual = counterfactual
        self.feature_names = feature_names
        self.target = target
        self.proba_before = proba_before
        self.proba_after = proba_after
        self.immutable = immutable
        self.categorical = categorical
        self.row_labels = row_labels

    # -- helpers -----------------------------------------------------------------------

    def _masks(self):
        n_features = len(self.feature_names)
        immutable = (np.zeros(n_features, dtype=bool) if self.immutable is None
                     else np.asarray(self.immutable, dtype=bool))
        categorical = (np.zeros(n_features, dtype=bool) if self.categorical is None
                       else np.asarray(self.categorical, dtype=bool))
        return immutable, categorical

    def _changes(self, categorical):
        """``(deltas, changed)`` for all features."""
        fact = np.asarray(self.factual, dtype=object)
        cf = np.asarray(self.counterfactual, dtype=object)
        deltas = np.full(fact.shape, np.nan)
        changed = np.zeros(fact.shape, dtype=bool)
        for k in range(fact.shape[1]):  # a loop over features
            if categorical[k]:
                changed[:, k] = fact[:, k] != cf[:, k]
            else:
                a, b = fact[:, k].astype(np.float64), cf[:, k].astype(np.float64)
                deltas[:, k] = b - a
                changed[:, k] = ~np.isclose(b, a, rtol=_RTOL, atol=_ATOL)
        return deltas, changed

    def _select(self, features, changed, immutable):
        names = [str(n) for n in self.feature_names]
        if isinstance(features, str):
            if features == "all":
                return np.arange(len(names))
            if features == "changed":
                return np.flatnonzero(changed.any(axis=0) | immutable)
            raise ValueError(f"features must be 'changed', 'all' or a list of features, "
                             f"got {features!r}.")
        return np.array([column_index(f, names, "features") for f in features], dtype=int)

    def _row_text(self, i):
        target = np.asarray(self.target)[i]
        before = None if self.proba_before is None else np.asarray(self.proba_before)[i]
        after = None if self.proba_after is None else np.asarray(self.proba_after)[i]
        if before is not None and after is not None:
            return f"p({target}): {before:.2f} → {after:.2f}"
        if after is not None:
            return f"p({target}) = {after:.2f}"
        return f"target {target}"

    # -- plotting ----------------------------------------------------------------------

    def plot(self, ax=None, *, features="changed", bar_kw=None, text_kw=None):
        """Plot the changes.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; None creates a figure and axes.
        features : "changed", "all" or list of str or int, default="changed"
            Features to show: ``"changed"`` shows those changed in any row plus the
            immutable ones (to show what was held fixed); ``"all"`` shows every feature;
            a list selects by name or position, in that order.
        bar_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.barh`.
        text_kw : dict, default=None
            Keyword arguments for the ``old → new`` annotations
            (:meth:`matplotlib.axes.Axes.annotate`).

        Returns
        -------
        display : CounterfactualDisplay
            Object that stores the computed values and the artists.
        """
        check_matplotlib_support("CounterfactualDisplay.plot")
        import matplotlib.pyplot as plt

        immutable, categorical = self._masks()
        deltas, changed = self._changes(categorical)
        shown = self._select(features, changed, immutable)
        n_rows = deltas.shape[0]
        if ax is None:
            _, ax = plt.subplots(figsize=(7.0, 1.2 + 0.45 * max(len(shown), 1) *
                                          max(1, 0.6 * n_rows)))
        y = np.arange(len(shown), dtype=float)
        height = 0.8 / n_rows
        fact = np.asarray(self.factual, dtype=object)
        cf = np.asarray(self.counterfactual, dtype=object)
        labels = self.row_labels or [str(i) for i in range(n_rows)]

        self.immutable_spans_ = []
        for pos, k in enumerate(shown):
            if immutable[k]:
                self.immutable_spans_.append(
                    ax.axhspan(pos - 0.5, pos + 0.5, color="0.9", zorder=0, linewidth=0))
        self.bars_, self.annotations_ = [], []
        text_defaults = dict(fontsize=8, va="center", textcoords="offset points")
        for i in range(n_rows):
            offset = (i - (n_rows - 1) / 2) * height
            widths = np.nan_to_num(deltas[i, shown])
            kwargs = dict(height=height, color=f"C{i}", label=(
                f"row {labels[i]}: {self._row_text(i)}" if n_rows > 1 else None))
            kwargs.update(bar_kw or {})
            self.bars_.append(ax.barh(y + offset, widths, **kwargs))
            for pos, k in enumerate(shown):
                if not changed[i, k]:
                    continue
                text = f"{_format(fact[i, k])} → {_format(cf[i, k])}"
                x = widths[pos]
                # Right of positive bars, left of negative ones; categorical labels
                # start at the axis.
                side = 1 if x >= 0 else -1
                kw = dict(text_defaults, xytext=(4 * side, 0),
                          ha="left" if side > 0 else "right")
                if categorical[k]:
                    kw["bbox"] = dict(boxstyle="round,pad=0.2", fc="white", ec=f"C{i}",
                                      lw=0.8)
                kw.update(text_kw or {})
                self.annotations_.append(ax.annotate(text, (x, y[pos] + offset), **kw))
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(y)
        tick_labels = [str(self.feature_names[k]) + (" (immutable)" if immutable[k] else "")
                       for k in shown]
        ax.set_yticklabels(tick_labels)
        for tick, k in zip(ax.get_yticklabels(), shown):
            if immutable[k]:
                tick.set_color("0.45")
        ax.set_ylim(len(shown) - 0.5, -0.5)  # first feature on top
        ax.set_xlabel("change: counterfactual - factual (original units)")
        # Room for the annotations beside the longest bars.
        finite = np.nan_to_num(deltas[:, shown]) if len(shown) else np.zeros(1)
        lo, hi = min(finite.min(), 0.0), max(finite.max(), 0.0)
        span = (hi - lo) or 1.0
        ax.set_xlim(lo - 0.35 * span, hi + 0.35 * span)
        if n_rows == 1:
            ax.set_title(f"Counterfactual: {self._row_text(0)}")
        else:
            ax.set_title("Counterfactual changes")
            # Outside the axes: inside, the legend would hide annotations of long bars.
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      borderaxespad=0.0)
        self.deltas_ = deltas[:, shown]
        self.features_ = np.asarray([self.feature_names[k] for k in shown], dtype=object)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    # -- constructors --------------------------------------------------------------------

    @classmethod
    def from_explanation(cls, result, X, *, estimator=None, feature_names=None,
                         immutable=None, categorical_groups=None, ax=None,
                         features="changed", bar_kw=None, text_kw=None):
        """Plot the changes of precomputed counterfactual explanations.

        Parameters
        ----------
        result : :class:`~sklearn.utils.Bunch`
            The result of :meth:`CounterfactualExplainer.explain
            <sklearn_ct.explainers.CounterfactualExplainer.explain>` for ``X`` (or any
            Bunch with ``counterfactuals`` and ``target``, and optionally
            ``target_proba``), in the feature space of ``X``.
        X : array-like or DataFrame of shape (n_rows, n_features)
            The explained rows (a few: one group of bars per row).
        estimator : estimator, default=None
            The explained classifier; if given, the factuals' target probability is shown
            too.
        feature_names : list of str, default=None
            Names of the columns (default: the DataFrame's, or ``x0, x1, ...``).
        immutable : list of str or int, or array of bool, default=None
            Immutable columns, marked in the plot.
        categorical_groups : list of lists of str or int, default=None
            One-hot column groups of ``X``, each shown as one categorical feature named
            by the common prefix of its columns.
        ax : matplotlib Axes, default=None
            Axes to plot on; None creates a figure and axes.
        features : "changed", "all" or list, default="changed"
            Features to show, see :meth:`plot`.
        bar_kw : dict, default=None
            Keyword arguments for the bars.
        text_kw : dict, default=None
            Keyword arguments for the annotations.

        Returns
        -------
        display : CounterfactualDisplay
            The display, plotted.
        """
        check_matplotlib_support(f"{cls.__name__}.from_explanation")
        X_cf = result.counterfactuals
        if not hasattr(X, "shape"):
            X = np.asarray(X)
        if not hasattr(X_cf, "shape"):
            X_cf = np.asarray(X_cf)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (rows to explain), got shape {X.shape}.")
        factual, counterfactual, names, fixed, categorical = _prepare(
            X, X_cf, feature_names, immutable, categorical_groups)
        target = np.asarray(result.target)
        if target.shape != (X.shape[0],):
            raise ValueError(f"result.target has shape {target.shape}; expected one "
                             f"target per row of X ({X.shape[0]}).")
        after = getattr(result, "target_proba", None)
        before = None
        if estimator is not None:
            before = target_proba(estimator, X, target)
        display = cls(factual=factual, counterfactual=counterfactual, feature_names=names,
                      target=target, proba_before=before,
                      proba_after=None if after is None else np.asarray(after),
                      immutable=fixed, categorical=categorical, row_labels=_row_labels(X))
        return display.plot(ax=ax, features=features, bar_kw=bar_kw, text_kw=text_kw)

    @classmethod
    def from_estimator(cls, estimator, X, *, target=None, feature_names=None,
                       immutable=None, categorical_groups=None, random_state=None,
                       ax=None, features="changed", bar_kw=None, text_kw=None):
        """Explain rows and plot what their counterfactuals change.

        Parameters
        ----------
        estimator : explainer or classifier
            A fitted :class:`~sklearn_ct.explainers.CounterfactualExplainer` (its
            constraints, generator and threshold are used, and its immutable features
            and one-hot groups are marked), or a fitted classifier, explained with a
            default explainer (ECCo, threshold 0.5, no bounds). For control over the
            search, pass an explainer.
        X : array-like or DataFrame of shape (n_rows, n_features)
            The rows to explain (a few: one group of bars per row).
        target : label, array-like or str, default=None
            Target of the counterfactuals, passed to ``explain`` (None: the explainer's).
        feature_names : list of str, default=None
            Names of the columns (default: the DataFrame's, or ``x0, x1, ...``).
        immutable : list of str or int, or array of bool, default=None
            Immutable columns; None takes those of the explainer (``mutability_`` equal
            to ``"none"``, and those of a CTClassifier explained without preprocessing).
        categorical_groups : list of lists of str or int, default=None
            One-hot column groups of ``X``; None takes the explainer's.
        random_state : int, RandomState instance or None, default=None
            Seeds the default explainer (ignored when an explainer is given).
        ax : matplotlib Axes, default=None
            Axes to plot on; None creates a figure and axes.
        features : "changed", "all" or list, default="changed"
            Features to show, see :meth:`plot`.
        bar_kw : dict, default=None
            Keyword arguments for the bars.
        text_kw : dict, default=None
            Keyword arguments for the annotations.

        Returns
        -------
        display : CounterfactualDisplay
            The display, plotted.
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        explainer = fitted_explainer(estimator, X, random_state=random_state,
                                     caller=f"{cls.__name__}.from_estimator")
        result = explainer.explain(X, target=target)
        if immutable is None:
            immutable = _immutable_from_explainer(explainer)
        if categorical_groups is None:
            categorical_groups = getattr(explainer, "categorical_groups", None)
        return cls.from_explanation(
            result, X, estimator=explainer.estimator_, feature_names=feature_names,
            immutable=immutable, categorical_groups=categorical_groups, ax=ax,
            features=features, bar_kw=bar_kw, text_kw=text_kw)
