"""CounterfactualExplainer: post-hoc counterfactual explanations as a transformer."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._constraints import (
    _feature_index,
    direction_masks,
    resolve_domain,
    resolve_mutability,
    row_bounds,
)
from .._model import encode_labels, is_fitted, resolve_model, split_pipeline
from .._utils import DEPRECATED, SEED_MAX, renamed_max_iter
from ._mapping import (
    DECREASING,
    IDENTITY,
    UNKNOWN,
    Group,
    Relation,
    check_invertible,
    column_values,
    compose,
    inverse,
    is_frame,
    relation,
    replace_columns,
)
from ..generators import GENERATORS, BaseGenerator, check_generator
from ._categorical import resolve_groups, snap
from ._targets import check_target_spec, resolve_targets

def _is_numeric_frame_or_array(X):
    if is_frame(X):
        from pandas.api.types import is_numeric_dtype

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
        from pandas.api.types import is_numeric_dtype

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


def _merge_rows(old, new, rows):
    """``old`` with the rows selected by the mask ``rows`` replaced by ``new``'s rows."""
    idx = np.flatnonzero(rows)
    if is_frame(old):
        import pandas as pd

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


def _numeric_block(X, columns):
    if is_frame(X):
        return X.iloc[:, columns].to_numpy(dtype=np.float64)
    return np.asarray(X[:, columns], dtype=np.float64)


class CounterfactualExplainer(OneToOneFeatureMixin, TransformerMixin,
                              BaseEstimator):
    """Counterfactual explanations for a fitted classifier, as a transformer.

    A counterfactual of a row ``x`` is a nearby point ``x'`` that the classifier assigns to
    a *target* class with probability at least ``decision_threshold``. ``transform(X)``
    returns one counterfactual per row, with the same columns as ``X``; :meth:`explain`
    also returns the targets, validity, number of steps and target probabilities, and the
    search path on request.

    All rows are searched at once. Gradient generators (:class:`~sklearn_ct.ECCoGenerator`,
    :class:`~sklearn_ct.GenericGenerator`, :class:`REVISEGenerator`) use the batched
    gradient search that :class:`~sklearn_ct.CTClassifier` uses during training and need a
    differentiable model; black-box generators (:class:`GrowingSpheresGenerator`) only
    call ``predict_proba`` and explain any classifier.

    Parameters
    ----------
    estimator : estimator or torch.nn.Module
        The classifier to explain: a :class:`~sklearn_ct.CTClassifier`, a skorch net, a
        ``torch.nn.Module`` returning logits, any classifier with ``predict_proba``
        (black-box generators only), or a :class:`~sklearn.pipeline.Pipeline` ending in one
        of those. **Fitting rule:** a fitted estimator is used as it is and never refitted
        or modified; an unfitted one is cloned and fitted on ``(X, y)`` in :meth:`fit`.
        Since :func:`~sklearn.base.clone` (e.g. inside a grid search) unfits estimators,
        wrap a pre-fitted model in :class:`~sklearn.frozen.FrozenEstimator` to keep it
        across clones. With a pipeline, counterfactuals are searched in the input space of
        its last step and mapped back with the preprocessing steps' ``inverse_transform``.
    generator : None, str or generator, default=None
        Counterfactual generator: ``None`` or ``"ecco"`` (:class:`~sklearn_ct.ECCoGenerator`),
        ``"generic"`` (:class:`~sklearn_ct.GenericGenerator`), ``"revise"``
        (:class:`REVISEGenerator`), ``"growing_spheres"`` (:class:`GrowingSpheresGenerator`)
        or an instance (cloned; tune it as ``generator__<param>``).
    target : "opposite", "random", label or array-like of labels, default="opposite"
        Target class of each counterfactual. ``"opposite"``: the other class for binary
        problems, otherwise a random class other than the predicted one. ``"random"``: a
        random class among all classes (rows that draw their predicted class are left as
        they are). A label: the same target for every row. An array: one label per row of
        the ``X`` passed to :meth:`transform`. Random draws are seeded by
        ``random_state`` and depend only on the row itself, not on the rest of the batch.
    max_steps : int, default=100
        Maximum number of search steps per row (the paper's evaluation uses 50). (It was
        called ``max_iter``, which is still accepted, with a ``FutureWarning``, until 0.3;
        in scikit-learn, ``max_iter`` bounds the iterations of ``fit``.)
    decision_threshold : float, default=0.5
        Target probability ``tau`` a counterfactual must reach to be valid.
    step_size : float, default=0.1
        Step size of the gradient search.
    mutability : None, dict or sequence, default=None
        Actionability constraints on the features of ``X`` (names when ``X`` is a
        DataFrame, else column indices): ``"none"`` (immutable), ``"increase"``,
        ``"decrease"`` or ``"both"``, as for :class:`~sklearn_ct.CTClassifier`. A
        constraint on a column that the preprocessing scales applies to the scaled column
        (positive scales keep the direction); one on a one-hot encoded categorical column
        applies to its whole group, which may only be ``"none"`` or ``"both"``. When the
        explained model is a ``CTClassifier`` trained with mutability constraints, those
        are enforced as well. Constraints hold exactly in the output.
    domain : None, "infer", tuple, dict or array-like, default="infer"
        Bounds of the numeric features of ``X``, in the formats of
        :class:`~sklearn_ct.CTClassifier`; ``"infer"`` uses
        ``[min(mean - 2 std, min), max(mean + 2 std, max)]`` of the data passed to
        :meth:`fit`. Categorical columns are not bounded (they stay valid categories).
    categorical_groups : None or list of lists, default=None
        Groups of columns of ``X`` that hold one-hot (dummy) encoded categories; each
        stays a valid one-hot vector (or all-zero, if such rows occur in the training
        data). Groups created by a ``OneHotEncoder`` in the pipeline are found
        automatically and need not be listed.
    classes : array-like, default=None
        Class labels of a bare ``torch.nn.Module`` (or a skorch net fitted without
        labels), in logit order; ``None`` uses ``range(n_logits)``. Ignored for models
        that know their classes.
    random_state : int, RandomState instance or None, default=None
        Seeds random targets and the random parts of generators (the REVISE autoencoder,
        Growing Spheres' candidates) whose own ``random_state`` is None.
    max_iter : int
        Deprecated alias of ``max_steps``: when set, its value is used, with a
        ``FutureWarning``. It will be removed in 0.3.

    Attributes
    ----------
    estimator_ : object
        The fitted estimator that is explained (``estimator`` itself when it was fitted).
    generator_ : generator
        The fitted generator.
    classes_ : ndarray of shape (n_classes,)
        Class labels of the model.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when ``X`` has string column names.
    mutability_ : ndarray of str, shape (`n_features_in_`,)
        Direction of every feature of ``X`` (groups expanded).
    domain_ : ndarray of shape (`n_features_in_`, 2)
        Bounds of every feature of ``X`` (infinite for categorical columns).

    See Also
    --------
    sklearn_ct.CTClassifier : Trains classifiers whose counterfactuals are plausible.
    sklearn_ct.search_counterfactuals : The batched gradient search.

    Notes
    -----
    **Constraints.** The search runs in the model's input space, where mutability is
    enforced by masking each step per direction and domain plus mutability by clamping to
    per-row bounds after every step. After mapping back, the output is projected in the
    feature space of ``X`` as well: immutable features are copied from the factual,
    monotone ones clipped at the factual value and numeric features clipped to the
    domain, so the constraints hold exactly (not only up to floating-point round-off of
    the preprocessing's ``inverse_transform``). Features that the search did not change
    are copied from the factual exactly. Monotone constraints need a known direction
    through the preprocessing (per-feature scalers with a positive scale); otherwise
    ``fit`` raises.

    **Categorical features.** One-hot columns are relaxed to ``[0, 1]`` during gradient
    search, then each group is snapped to its largest entry (as the reference
    implementation's evaluation does). Snapping can move a row back across the decision
    boundary, so rows that lose validity are searched again from the snapped point with
    all categorical groups fixed (up to ``max_steps`` more steps). Growing Spheres samples
    categories directly. Immutable groups never change.

    **Validity.** ``explain(X).valid`` is recomputed on the returned counterfactuals, after
    snapping and projection: the target probability must reach ``decision_threshold``.
    Rows whose predicted class already is the target are returned unchanged, flagged by
    ``already_target``, and are valid when their target probability reaches the
    threshold.

    **Precision.** On CPU the gradient search runs in float64 (a double-precision view of
    the model's parameters), so a row's counterfactual does not depend on the batch it is
    in; on accelerators it runs in float32.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from sklearn.frozen import FrozenEstimator
    >>> from sklearn_ct import CTClassifier
    >>> from sklearn_ct.explainers import CounterfactualExplainer
    >>> X, y = make_moons(200, noise=0.1, random_state=0)
    >>> clf = CTClassifier(objective="vanilla", max_epochs=20, random_state=0).fit(X, y)
    >>> explainer = CounterfactualExplainer(FrozenEstimator(clf), random_state=0).fit(X)
    >>> result = explainer.explain(X[:5])
    >>> result.counterfactuals.shape
    (5, 2)
    >>> bool(result.valid.all())
    True
    """

    _parameter_constraints = {
        "estimator": "no_validation",
        "generator": [None, StrOptions(set(GENERATORS)), BaseGenerator],
        "target": "no_validation",
        "max_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left"),
                     Hidden(StrOptions({DEPRECATED}))],
        "decision_threshold": [Interval(numbers.Real, 0, 1, closed="neither")],
        "step_size": [Interval(numbers.Real, 0, None, closed="neither")],
        "mutability": [None, dict, "array-like"],
        "domain": [None, StrOptions({"infer"}), dict, "array-like"],
        "categorical_groups": [None, list],
        "classes": [None, "array-like"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        *,
        generator=None,
        target="opposite",
        max_steps=100,
        decision_threshold=0.5,
        step_size=0.1,
        mutability=None,
        domain="infer",
        categorical_groups=None,
        classes=None,
        random_state=None,
        max_iter=DEPRECATED,
    ):
        self.estimator = estimator
        self.generator = generator
        self.target = target
        self.max_steps = max_steps
        self.decision_threshold = decision_threshold
        self.step_size = step_size
        self.mutability = mutability
        self.domain = domain
        self.categorical_groups = categorical_groups
        self.classes = classes
        self.random_state = random_state
        self.max_iter = max_iter

    # -- input validation ----------------------------------------------------------------

    def _check_X(self, X, *, reset, has_steps):
        """Validate ``X``; return ``(X_raw, validated)`` where ``X_raw`` feeds the model.

        Without preprocessing, the model needs numbers: ``X`` is validated as a float array.
        With a pipeline, ``X`` may hold strings (categorical columns); it is validated for
        shape, names and missing values, and passed on as it is when it is a DataFrame (a
        ``ColumnTransformer`` may select columns by name).
        """
        if not has_steps or _is_numeric_frame_or_array(X):
            Xv = validate_data(self, X, reset=reset, dtype=(np.float64, np.float32),
                               force_writeable=True)
        else:
            Xv = validate_data(self, X, reset=reset, dtype=None)
        X_raw = X if (has_steps and is_frame(X)) else Xv
        return X_raw, Xv

    # -- fit -----------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Prepare the explainer: fit the model if needed, the generator and constraints.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data, in the feature space of the estimator (a pipeline's input).
            It fits the estimator when it is not fitted yet, the generator (e.g. the
            REVISE autoencoder) and the inferred domain.
        y : array-like of shape (n_samples,), default=None
            Labels; required only when the estimator has to be fitted.

        Returns
        -------
        self : object
            Fitted explainer.
        """
        if self.estimator is None:
            # Templates (e.g. of scorers) leave the estimator unset until they are used.
            raise ValueError(
                "estimator is None: set the classifier to explain first, e.g. "
                "explainer.set_params(estimator=FrozenEstimator(model))."
            )
        steps0, _ = split_pipeline(self.estimator)
        has_steps = bool(steps0)
        X_raw, Xv = self._check_X(X, reset=True, has_steps=has_steps)
        if y is not None:
            y = np.asarray(y)
            if y.ndim != 1 and not (y.ndim == 2 and y.shape[1] == 1):
                raise ValueError(f"y should be a 1d array; got an array of shape {y.shape}.")
            y = y.reshape(-1)
            if y.shape[0] != Xv.shape[0]:
                raise ValueError(f"X and y have inconsistent numbers of samples: "
                                 f"{Xv.shape[0]} and {y.shape[0]}.")

        if is_fitted(self.estimator):
            self.estimator_ = self.estimator
        else:
            if y is None:
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the target y is "
                    f"None: the estimator {type(self.estimator).__name__} is not fitted, so "
                    "fit trains a clone of it on (X, y). Pass y, or a fitted estimator "
                    "(wrap it in sklearn.frozen.FrozenEstimator to survive clone())."
                )
            self.estimator_ = clone(self.estimator).fit(X_raw, y)

        renamed_max_iter(self.max_steps, self.max_iter, type(self).__name__, stacklevel=4)
        self._model = resolve_model(self.estimator_, self.classes)
        steps = self._model.steps
        for name, step in steps:
            check_invertible(step, [name])
        rng = check_random_state(self.random_state)
        self._seed, seed_gen = (int(s) for s in rng.randint(SEED_MAX, size=2))
        self._steps = steps
        Z = self._model.transform(X_raw)
        self._init_classes(Z)
        check_target_spec(self.target, self.classes_)

        # A seedable generator left unseeded follows the explainer's random_state, so that
        # fixing the explainer's random_state fixes everything.
        self.generator_ = check_generator(self.generator, random_state=seed_gen)
        if self.generator_.requires_gradients and not self._model.differentiable:
            raise ValueError(
                f"{type(self.generator_).__name__} needs a differentiable model (a torch "
                f"module, skorch net or CTClassifier), but the model to explain is a "
                f"{type(self._model.final).__name__}. Use a black-box generator, e.g. "
                "generator='growing_spheres'."
            )
        y_enc = None
        if y is not None:
            try:
                y_enc = encode_labels(y, self.classes_, what="y")
            except ValueError:
                y_enc = None
        self.generator_.fit(Z, y_enc)
        self._init_constraints(X_raw, Z)
        return self

    def _init_classes(self, Z):
        expected = getattr(self._model.final, "n_features_in_", None)
        if isinstance(expected, numbers.Integral) and expected != Z.shape[1]:
            where = " after the pipeline's preprocessing" if self._steps else ""
            raise ValueError(
                f"X has {Z.shape[1]} features{where}, but the model to explain is expecting "
                f"{expected} features as input."
            )
        try:
            proba = self._model.proba(Z[:2])
        except Exception as exc:  # noqa: BLE001 - report any model failure clearly
            raise ValueError(
                f"The model to explain could not be evaluated on the data (in its input "
                f"space, {Z.shape[1]} features): {type(exc).__name__}: {exc}"
            ) from None
        n_classes = proba.shape[1]
        classes = self._model.classes
        if classes is None:
            classes = np.arange(n_classes)
        if len(classes) != n_classes:
            raise ValueError(f"The model outputs {n_classes} logits, but {len(classes)} "
                             f"classes were given: {list(classes)}.")
        if n_classes < 2:
            raise ValueError("The model to explain must have at least 2 classes (2 logits); "
                             f"got {n_classes}.")
        self._model.classes = np.asarray(classes)
        self.classes_ = self._model.classes

    def _init_constraints(self, X_raw, Z):
        """Resolve mutability, domain and one-hot groups, in feature and model space."""
        p, d = self.n_features_in_, Z.shape[1]
        names = getattr(self, "feature_names_in_", None)
        numeric = _numeric_mask(X_raw)
        num_idx = np.flatnonzero(numeric)
        X_num = np.full((X_raw.shape[0], p), np.nan)
        X_num[:, num_idx] = _numeric_block(X_raw, num_idx)

        rel = Relation.identity(p)
        for _, step in self._steps:
            rel = compose(rel, relation(step, rel.n_out))
        if rel.n_out != d:
            raise ValueError(f"The preprocessing outputs {d} columns, but its structure "
                             f"accounts for {rel.n_out}; it cannot be inverted reliably.")
        raw_groups = resolve_groups(self.categorical_groups, X_num, names, numeric)
        model_groups = list(rel.groups)
        encoded = {g.source for g in rel.groups if g.source is not None}
        for g in raw_groups:
            # A declared group reaches model space verbatim only through identity steps;
            # then it is snapped there too (otherwise only in feature space).
            fed = [rel.links[j] for j in g.columns]
            if all(len(f) == 1 and next(iter(f.values())) == IDENTITY for f in fed):
                cols = np.array([next(iter(f)) for f in fed])
                model_groups.append(Group(cols, None, g.implicit))
        categorical = np.zeros(p, dtype=bool)
        categorical[list(encoded)] = True
        for g in raw_groups:
            categorical[g.columns] = True

        # Mutability in feature space (a group moves as a whole).
        dirs = resolve_mutability(self.mutability, p, names)
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
        self.mutability_ = dirs

        # Domain in feature space (numeric, non-categorical columns).
        X_dom = np.where(np.isnan(X_num), 0.0, X_num)
        bounds = resolve_domain(self.domain, X_dom, names)
        if isinstance(self.domain, dict):
            for key in self.domain:
                j = _feature_index(key, p, names, "domain")
                if not numeric[j] or j in encoded:
                    raise ValueError(f"domain refers to feature {key!r}, which is "
                                     "categorical; categorical features are not bounded.")
        bounds[~numeric | categorical] = [-np.inf, np.inf]
        for g in raw_groups:
            bounds[g.columns] = [0.0, 1.0]
        self.domain_ = bounds

        # Model space: masks per direction and bounds.
        can_inc, can_dec = np.ones(d, dtype=bool), np.ones(d, dtype=bool)
        lower, upper = np.full(d, -np.inf), np.full(d, np.inf)
        fed_by = np.zeros(d, dtype=int)
        for links in rel.links:
            for j in links:
                fed_by[j] += 1
        for i, direction in enumerate(dirs):
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
        self._map_bounds(X_raw, rel, numeric & ~categorical, fed_by, lower, upper)
        for g in model_groups:
            lower[g.columns] = np.maximum(lower[g.columns], 0.0)
            upper[g.columns] = np.minimum(upper[g.columns], 1.0)
        own = self._model.mutability
        if own is not None and len(own) == d:
            inc, dec = direction_masks(own)
            can_inc &= inc
            can_dec &= dec

        self._numeric = numeric
        self._num_idx = num_idx
        self._model_groups = model_groups
        # Declared groups, as positions in the numeric block of X.
        pos = {j: k for k, j in enumerate(num_idx)}
        self._raw_groups = [Group(np.array([pos[j] for j in g.columns]), None, g.implicit)
                            for g in raw_groups]
        self._all_group_cols = np.zeros(d, dtype=bool)
        for g in model_groups:
            self._all_group_cols[g.columns] = True
        for g in raw_groups:
            for j in g.columns:
                self._all_group_cols[list(rel.links[j])] = True
        links = np.zeros((p, d), dtype=bool)
        for i, fed in enumerate(rel.links):
            links[i, list(fed)] = True
        self._links = None if not self._steps else links
        raw_inc, raw_dec = direction_masks(dirs)
        self._raw_inc, self._raw_dec = raw_inc[num_idx], raw_dec[num_idx]
        self._raw_free = dirs != "none"
        self._can_inc, self._can_dec = can_inc, can_dec
        self._lower, self._upper = lower, upper

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
        low, high = self.domain_[:, 0], self.domain_[:, 1]
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
            rows[side] = self._model.transform(replace_columns(first, cols))[0]
        for i, j, s in pairs:
            lo_i, hi_i = np.isfinite(low[i]), np.isfinite(high[i])
            if s > 0:
                lower[j] = rows["low"][j] if lo_i else -np.inf
                upper[j] = rows["high"][j] if hi_i else np.inf
            else:
                lower[j] = rows["high"][j] if hi_i else -np.inf
                upper[j] = rows["low"][j] if lo_i else np.inf

    def _names(self, idx):
        names = getattr(self, "feature_names_in_", None)
        return [names[i] if names is not None else int(i) for i in idx]

    # -- search --------------------------------------------------------------------------

    def _max_steps(self):
        # The deprecated max_iter, when set, wins (fit has warned about it).
        return renamed_max_iter(self.max_steps, self.max_iter, type(self).__name__,
                                warn=False)

    def _search(self, Z, target, can_inc, can_dec, return_path):
        """Search from model-space rows ``Z``; returns (Z_cf, n_iter, path)."""
        try:
            res = self.generator_.generate(
                self._model, Z, target, max_steps=self._max_steps(),
                decision_threshold=self.decision_threshold, step_size=self.step_size,
                lower=self._lower, upper=self._upper, can_increase=can_inc,
                can_decrease=can_dec, groups=self._model_groups, return_path=return_path,
            )
        except RuntimeError as exc:
            raise ValueError(f"The counterfactual search failed while evaluating the model "
                             f"or generator: {exc}") from None
        return res.counterfactuals, res.n_iter, res.path

    def _to_feature_space(self, Zc, Z, X_raw):
        """Map model-space counterfactuals back to ``X``'s features, projecting exactly.

        Returns ``(V, back, changed_raw)``: the numeric columns of ``X`` as floats (after
        exact projection and snapping of declared groups), the inverse-transformed
        container (for categorical columns; None without preprocessing), and which
        features of ``X`` the search changed (the others are copied from the factual).
        """
        changed = Zc != Z
        if self._steps:
            back = inverse(self._steps, Zc, X_raw)
            changed_raw = (changed.astype(np.float32) @ self._links.T.astype(np.float32)) > 0
            V = _numeric_block(back, self._num_idx) if self._num_idx.size else np.zeros(
                (Zc.shape[0], 0))
        else:
            back = None
            changed_raw = changed
            V = Zc
        F = _numeric_block(X_raw, self._num_idx)
        V = np.where(changed_raw[:, self._num_idx], V, F)
        low, high = row_bounds(F, self.domain_[self._num_idx, 0],
                                self.domain_[self._num_idx, 1], self._raw_inc, self._raw_dec)
        V = np.clip(V, low, high)
        snap(V, self._raw_groups)
        return V, back, changed_raw

    def _assemble(self, V, back, changed_raw, X_raw, Xv):
        """Build the output container with ``X``'s columns.

        Returns ``(X_cf, raw)``: the output, and the same counterfactuals in the container
        the model's preprocessing expects (to re-check validity on exactly what is
        returned).
        """
        if self._numeric.all():
            dtype = Xv.dtype if Xv.dtype.kind == "f" else np.float64
            X_cf = V.astype(dtype, copy=False)
            if not self._steps:
                return X_cf, X_cf
            if is_frame(X_raw):
                cols = {j: X_cf[:, j] for j in range(X_cf.shape[1])}
                return X_cf, replace_columns(X_raw, cols)
            return X_cf, X_cf
        columns = {}
        for k, j in enumerate(self._num_idx):
            columns[int(j)] = V[:, k]
        for j in np.flatnonzero(~self._numeric):  # a loop over features, not samples
            take = changed_raw[:, j] & self._raw_free[j]
            columns[int(j)] = np.where(take, column_values(back, j), column_values(X_raw, j))
        out = replace_columns(X_raw, columns)
        if is_frame(out):
            for j in np.flatnonzero(~self._numeric):
                name = out.columns[j]
                try:
                    out[name] = out[name].astype(X_raw.dtypes.iloc[j])
                except (TypeError, ValueError):  # pragma: no cover - exotic dtypes
                    pass
        return out, out

    def _counterfactuals(self, Zc, Z, X_raw, Xv):
        """Feature-space counterfactuals and their model-space image and probabilities."""
        V, back, changed_raw = self._to_feature_space(Zc, Z, X_raw)
        X_cf, raw = self._assemble(V, back, changed_raw, X_raw, Xv)
        Zf = self._model.transform(raw)
        return X_cf, Zf, self._model.proba(Zf)

    def _explain(self, X, target, return_path):
        X_raw, Xv = self._check_X(X, reset=False, has_steps=bool(self._steps))
        n = Xv.shape[0]
        rows = np.arange(n)
        Z = self._model.transform(X_raw)
        predicted = self._model.proba(Z).argmax(axis=1)
        t = resolve_targets(target, self.classes_, predicted, Z, self._seed)
        already = predicted == t
        todo = ~already
        Zc = Z.copy()
        n_iter = np.zeros(n, dtype=np.int64)
        path = None
        if return_path:
            path = np.broadcast_to(Z, (self._max_steps() + 1,) + Z.shape).copy()
        if todo.any():
            Zs, it, pth = self._search(Z[todo], t[todo], self._can_inc, self._can_dec,
                                       return_path)
            Zc[todo] = Zs
            n_iter[todo] = it
            if return_path:
                path[:, todo] = pth
        snap(Zc, self._model_groups, rows=todo)
        X_cf, Zf, pf = self._counterfactuals(Zc, Z, X_raw, Xv)

        redo = todo & (pf[rows, t] < self.decision_threshold)
        if (self.generator_.continuous_categories and self._all_group_cols.any()
                and redo.any()):
            # Snapping may push a row back across the decision boundary. Search those rows
            # again from the snapped point, with every categorical group fixed.
            fixed = self._all_group_cols
            Z2, it2, _ = self._search(Zf[redo], t[redo], self._can_inc & ~fixed,
                                      self._can_dec & ~fixed, False)
            n_iter[redo] += it2
            sub_raw = X_raw.iloc[redo] if is_frame(X_raw) else X_raw[redo]
            X_new, Zf_new, pf_new = self._counterfactuals(Z2, Z[redo], sub_raw, Xv[redo])
            X_cf = _merge_rows(X_cf, X_new, redo)
            pf[redo] = pf_new

        target_proba = pf[rows, t]
        return Bunch(
            counterfactuals=X_cf,
            target=self.classes_[t],
            valid=target_proba >= self.decision_threshold,
            already_target=already,
            n_iter=n_iter,
            target_proba=target_proba,
            factual_prediction=self.classes_[predicted],
            prediction=self.classes_[pf.argmax(axis=1)],
            path=path,
        )

    # -- public API ----------------------------------------------------------------------

    def transform(self, X):
        """Return one counterfactual per row of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Factuals, with the features seen in :meth:`fit`.

        Returns
        -------
        X_cf : ndarray or DataFrame of shape (n_samples, n_features)
            One counterfactual per row, with the columns of ``X``. Numeric inputs give a
            float array of ``X``'s precision (a DataFrame with ``set_output``); a DataFrame
            with categorical (string) columns gives a DataFrame whose categorical columns
            keep their dtype and numeric columns are float64.
        """
        check_is_fitted(self)
        return self._explain(X, self.target, False).counterfactuals

    def explain(self, X, *, target=None, return_path=False):
        """Return counterfactuals with targets, validity, steps and probabilities.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Factuals.
        target : "opposite", "random", label or array-like, default=None
            Overrides the explainer's ``target`` for this call.
        return_path : bool, default=False
            Also return every iterate of the gradient search.

        Returns
        -------
        result : :class:`~sklearn.utils.Bunch`
            With keys

            counterfactuals : ndarray or DataFrame of shape (n_samples, n_features)
                As :meth:`transform`; a DataFrame (with ``X``'s index) when ``X`` is one.
            target : ndarray of shape (n_samples,)
                Target label per row.
            valid : ndarray of bool
                Whether the counterfactual's target probability reaches
                ``decision_threshold`` (computed on the returned counterfactuals).
            already_target : ndarray of bool
                Rows whose predicted class already is the target; returned unchanged.
            n_iter : ndarray of int
                Search steps (or black-box iterations) per row.
            target_proba : ndarray of float
                Target probability of each counterfactual.
            factual_prediction, prediction : ndarray of shape (n_samples,)
                Predicted labels of the factuals and of the counterfactuals.
            path : ndarray of shape (max_steps + 1, n_samples, n_model_features) or None
                Gradient-search iterates in the model's input space (after the
                pipeline's preprocessing; before categorical snapping), when
                ``return_path=True``. Rows that stop early repeat their last iterate.
        """
        check_is_fitted(self)
        target = self.target if target is None else target
        result = self._explain(X, target, bool(return_path))
        if is_frame(X) and not is_frame(result.counterfactuals):
            import pandas as pd

            result.counterfactuals = pd.DataFrame(
                result.counterfactuals, columns=X.columns, index=X.index)
        elif is_frame(X):
            result.counterfactuals.index = X.index
        return result

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.allow_nan = False
        try:
            tags.target_tags.required = not is_fitted(self.estimator)
        except TypeError:
            pass
        return tags
