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

from .._model import encode_labels, is_fitted, resolve_model, split_pipeline
from .._utils import DEPRECATED, SEED_MAX, atomic_fit, renamed_max_iter
from ..generators import GENERATORS, BaseGenerator, check_generator
from ._categorical import snap
from ._dask import dask_explain, dask_kind, dask_transform
from ._feature_space import _FeatureSpace, is_numeric_input, merge_rows
from ._mapping import check_invertible, is_frame
from ._targets import check_target_spec, resolve_targets, row_uniform

#: Half-width of the uniform perturbation of the starting points of the second and further
#: candidates of a row, in standard deviations of each model-space feature.
START_SPREAD = 0.1


class CounterfactualExplainer(OneToOneFeatureMixin, TransformerMixin,
                              BaseEstimator):
    """Counterfactual explanations for a fitted classifier, as a transformer.

    A counterfactual of a row ``x`` is a nearby point ``x'`` that the classifier assigns to
    a *target* class with probability at least ``decision_threshold``. ``transform(X)``
    returns one counterfactual per row, with the same columns as ``X``; :meth:`explain`
    also returns the targets, validity, number of steps and target probabilities, and the
    search path on request.

    All rows are searched at once, by the generator's ``generate``. Gradient generators
    (:class:`~sklearn_ct.generators.ECCoGenerator`,
    :class:`~sklearn_ct.generators.GenericGenerator`,
    :class:`~sklearn_ct.generators.REVISEGenerator`) use the batched gradient search that
    :class:`~sklearn_ct.CTClassifier` uses during training and need a differentiable model;
    black-box generators (:class:`~sklearn_ct.generators.GrowingSpheresGenerator`) only
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
        Counterfactual generator: ``None`` or ``"ecco"``
        (:class:`~sklearn_ct.generators.ECCoGenerator`), ``"ecco_conformal"``
        (:class:`~sklearn_ct.generators.ECCCoGenerator`, which calibrates its conformal
        sets on part of the data given to :meth:`fit`, with ``y``: pass rows the model did
        not train on), ``"generic"``
        (:class:`~sklearn_ct.generators.GenericGenerator`), ``"revise"``
        (:class:`~sklearn_ct.generators.REVISEGenerator`), ``"growing_spheres"``
        (:class:`~sklearn_ct.generators.GrowingSpheresGenerator`), the names of
        :data:`~sklearn_ct.generators.GENERATORS`, or an instance (cloned; tune it as
        ``generator__<param>``).
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
        are enforced as well (and reported in ``mutability_``). Constraints hold exactly
        in the output, and win over the domain: a factual outside the domain keeps its
        immutable features and never moves a monotone one the wrong way.
    domain : None, "infer", tuple, dict or array-like, default="infer"
        Bounds of the numeric features of ``X``, in the formats of
        :class:`~sklearn_ct.CTClassifier`; ``"infer"`` uses
        ``[min(mean - 2 std, min), max(mean + 2 std, max)]`` of the data passed to
        :meth:`fit`. Categorical columns are not bounded (they stay valid categories).
        Bounds that exclude every training value of a feature raise a ``ValueError``.
    categorical_groups : None, "auto" or list of lists, default=None
        Groups of columns of ``X`` that hold one-hot (dummy) encoded categories; each
        stays a valid one-hot vector (or all-zero, if such rows occur in the training
        data). Groups created by a ``OneHotEncoder`` in the pipeline are found
        automatically and need not be listed. ``"auto"`` finds dummy columns of a
        DataFrame by their names, as :class:`~sklearn_ct.CTClassifier` does (see
        :func:`~sklearn_ct.find_categorical_groups`).
    categorical_snapping : {"end", "step"}, default="end"
        How gradient searches treat one-hot groups of the model's input. ``"end"``:
        relaxed to ``[0, 1]`` during the search and snapped to a category at the end
        (then searched again with the groups fixed if snapping broke validity).
        ``"step"``: projected onto a valid one-hot vector after every step, so every
        iterate holds real categories (as the reference evaluation does); categories
        then change only when one step makes another category the largest entry.
    n_per_row : int, default=1
        Counterfactuals per row. With ``k > 1``, :meth:`explain` returns ``k``
        counterfactuals per row and :meth:`transform` the best of them (see Notes). All
        ``n_rows * k`` candidates are searched in one batch: the first starts at the
        factual, the others at seeded perturbations of it, and gradient searches add a
        diversity term (``diversity_weight``); Growing Spheres returns the ``k`` nearest
        target-class points it sampled.
    diversity_weight : float, default=0.5
        Weight of the diversity term of gradient searches when ``n_per_row > 1``: each
        candidate's objective gains ``diversity_weight * mean_b 1 / (1 + ||x'_a -
        x'_b||_1)`` over the row's other candidates ``b`` (the kernel of DiCE's
        determinantal diversity; Mothilal, Sharma and Tan, 2020), fading linearly to 0
        by half of ``max_steps``. 0 keeps only the different starting points.
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
        Direction of every feature of ``X`` (groups expanded): ``mutability`` combined
        with the explained model's own training constraints on the model columns that
        come from one feature each, mapped back through the preprocessing (a feature whose
        direction through it is unknown is kept fixed; constraints on columns that mix
        several features are enforced by the search in model space).
    domain_ : ndarray of shape (`n_features_in_`, 2)
        Bounds of every feature of ``X`` (infinite for categorical columns).

    See Also
    --------
    sklearn_ct.CTClassifier : Trains classifiers whose counterfactuals are plausible.
    sklearn_ct.generators.search_counterfactuals : The batched gradient search.

    Notes
    -----
    **Constraints.** The search runs in the model's input space, where mutability is
    enforced by masking each step per direction and domain plus mutability by clamping to
    per-row bounds after every step. After mapping back, the searched rows are projected
    in the feature space of ``X`` as well: immutable features are copied from the
    factual, monotone ones clipped at the factual value and numeric features clipped to
    the domain (mutability first, so a factual outside the domain keeps its constraints),
    so the constraints hold exactly (not only up to floating-point round-off of the
    preprocessing's ``inverse_transform``). Features that the search did not change are
    copied from the factual exactly, and rows already at their target are the factuals.
    Monotone constraints need a known direction through the preprocessing (per-feature
    scalers with a positive scale); otherwise ``fit`` raises.

    **Categorical features.** One-hot columns are relaxed to ``[0, 1]`` during gradient
    search, then each group is snapped to its largest entry (as the reference
    implementation's evaluation does). Snapping can move a row back across the decision
    boundary, so rows that lose validity are searched again from the snapped point with
    all categorical groups fixed (up to ``max_steps`` more steps). Growing Spheres samples
    categories directly. Immutable groups never change.

    **Several counterfactuals per row.** With ``n_per_row=k > 1`` every row is searched
    ``k`` times in the same batch: candidate 0 from the factual, candidates 1 to ``k-1``
    from the factual plus a uniform perturbation of up to 0.1 standard deviations (of the
    training data, per model feature; seeded by ``random_state`` and keyed by the row's
    own values, so a row gets the same candidates in any batch), clamped to the
    constraints. Gradient searches add the diversity term, which depends on the row's
    other candidates only, so rows still do not interact. Every constraint holds for
    every candidate. :meth:`transform` returns the *best* candidate of each row: the
    valid ones first, among them the lowest L1 change in the model's input space; if none
    is valid, the one with the highest target probability; ties go to the lower candidate
    number (``explain(X).best`` holds its number). ``n_per_row=1`` is exactly the search
    without these additions.

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
        "categorical_groups": [None, StrOptions({"auto"}), list],
        "categorical_snapping": [StrOptions({"end", "step"})],
        "n_per_row": [Interval(numbers.Integral, 1, None, closed="left")],
        "diversity_weight": [Interval(numbers.Real, 0, None, closed="left")],
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
        categorical_snapping="end",
        n_per_row=1,
        diversity_weight=0.5,
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
        self.categorical_snapping = categorical_snapping
        self.n_per_row = n_per_row
        self.diversity_weight = diversity_weight
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
        if not has_steps or is_numeric_input(X):
            Xv = validate_data(self, X, reset=reset, dtype=(np.float64, np.float32),
                               force_writeable=True)
        else:
            Xv = validate_data(self, X, reset=reset, dtype=None)
        X_raw = X if (has_steps and is_frame(X)) else Xv
        return X_raw, Xv

    # -- fit -----------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    @atomic_fit
    def fit(self, X, y=None):
        """Prepare the explainer: fit the model if needed, the generator and constraints.

        A fit that raises leaves the explainer as it was (fitted or not).

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
            estimator = self.estimator
        else:
            if y is None:
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the target y is "
                    f"None: the estimator {type(self.estimator).__name__} is not fitted, so "
                    "fit trains a clone of it on (X, y). Pass y, or a fitted estimator "
                    "(wrap it in sklearn.frozen.FrozenEstimator to survive clone())."
                )
            estimator = clone(self.estimator).fit(X_raw, y)

        renamed_max_iter(self.max_steps, self.max_iter, type(self).__name__, stacklevel=5)
        model = resolve_model(estimator, self.classes)
        steps = model.steps
        for name, step in steps:
            check_invertible(step, [name])
        rng = check_random_state(self.random_state)
        seed, seed_gen = (int(s) for s in rng.randint(SEED_MAX, size=2))
        Z = model.transform(X_raw)
        classes = self._init_classes(model, Z)
        check_target_spec(self.target, classes)

        # A seedable generator left unseeded follows the explainer's random_state, so that
        # fixing the explainer's random_state fixes everything.
        generator = check_generator(self.generator, random_state=seed_gen)
        if generator.requires_gradients and not model.differentiable:
            raise ValueError(
                f"{type(generator).__name__} needs a differentiable model (a torch "
                f"module, skorch net or CTClassifier), but the model to explain is a "
                f"{type(model.final).__name__}. Use a black-box generator, e.g. "
                "generator='growing_spheres'."
            )
        y_enc = None
        if y is not None:
            try:
                y_enc = encode_labels(y, classes, what="y")
            except ValueError:
                y_enc = None
        generator.fit(Z, y_enc)
        space = _FeatureSpace(
            model, X_raw, Z, mutability=self.mutability, domain=self.domain,
            categorical_groups=self.categorical_groups,
            feature_names=getattr(self, "feature_names_in_", None),
        )
        # Every fitted attribute is assigned here, once the fit has succeeded.
        self.estimator_ = estimator
        self._model = model
        self._seed = seed
        self.classes_ = classes
        self.generator_ = generator
        self._space = space
        self.mutability_ = space.mutability
        self.domain_ = space.domain
        # Spread of the starting points of further candidates (n_per_row > 1).
        self._start_scale = START_SPREAD * np.asarray(Z, dtype=np.float64).std(axis=0)
        return self

    @staticmethod
    def _init_classes(model, Z):
        """Check the model on ``Z`` and return its classes (set on ``model`` too)."""
        model.check_n_features(Z.shape[1])
        try:
            proba = model.proba(Z[:2])
        except Exception as exc:  # noqa: BLE001 - report any model failure clearly
            raise ValueError(
                f"The model to explain could not be evaluated on the data (in its input "
                f"space, {Z.shape[1]} features): {type(exc).__name__}: {exc}"
            ) from None
        n_classes = proba.shape[1]
        classes = model.classes
        if classes is None:
            classes = np.arange(n_classes)
        if len(classes) != n_classes:
            raise ValueError(f"The model outputs {n_classes} logits, but {len(classes)} "
                             f"classes were given: {list(classes)}.")
        if n_classes < 2:
            raise ValueError("The model to explain must have at least 2 classes (2 logits); "
                             f"got {n_classes}.")
        model.classes = np.asarray(classes)
        return model.classes

    # -- search --------------------------------------------------------------------------

    def _max_steps(self):
        # The deprecated max_iter, when set, wins (fit has warned about it).
        return renamed_max_iter(self.max_steps, self.max_iter, type(self).__name__,
                                warn=False)

    def _search(self, Z, target, can_inc, can_dec, return_path, k=1, start=None):
        """Search from model-space rows ``Z``; returns (Z_cf, n_iter, path).

        With ``k > 1``, ``Z`` holds each factual ``k`` times in consecutive rows.
        """
        space = self._space
        options = {}
        if k > 1:
            options.update(n_per_row=k, diversity_weight=self.diversity_weight,
                           start=start)
        if self.categorical_snapping == "step" and space.model_groups:
            options.update(project_groups=True)
        try:
            res = self.generator_.generate(
                self._model, Z, target, max_steps=self._max_steps(),
                decision_threshold=self.decision_threshold, step_size=self.step_size,
                lower=space.lower, upper=space.upper, can_increase=can_inc,
                can_decrease=can_dec, groups=space.model_groups, return_path=return_path,
                **options,
            )
        except RuntimeError as exc:
            raise ValueError(f"The counterfactual search failed while evaluating the model "
                             f"or generator: {exc}") from None
        return res.counterfactuals, res.n_iter, res.path

    def _search_rows(self, Z, Zt, todo, k):
        """The factuals to search: ``Z[todo]``, on the model's device when it has one.

        ``Z`` holds every factual ``k`` times (consecutive rows) and ``Zt`` each once, on
        the device (or None). The package's gradient generators take the rows as a tensor
        and so need not copy them to the device again; other generators get arrays.
        """
        generate = type(self.generator_).generate
        if (Zt is None or not self.generator_.requires_gradients
                or not generate.__module__.startswith("sklearn_ct.")):
            return Z[todo]
        if todo.all():
            return Zt if k == 1 else Zt.repeat_interleave(k, dim=0)
        # Row i of Z is factual i // k: one index tensor selects them on the device.
        rows = np.flatnonzero(todo) // k
        return Zt.index_select(0, torch.as_tensor(rows, device=Zt.device))

    def _counterfactuals(self, Zc, Z, X_raw, Xv, searched=None):
        """Feature-space counterfactuals and their model-space image and probabilities."""
        X_cf, raw = self._space.to_features(Zc, Z, X_raw, Xv, searched)
        Zf = self._model.transform(raw)
        return X_cf, Zf, self._model.proba(Zf)

    def _starts(self, Z, k):
        """Starting points of a row's ``k`` candidates: the factual, then perturbations.

        The perturbations are uniform in ``+-START_SPREAD`` standard deviations per
        feature, keyed by the row's own values (not by its batch or partition); the
        engine clamps them to the row's constraints.
        """
        n, d = Z.shape
        noise = row_uniform(Z, self._seed ^ 0x5EED, k * d).reshape(n, k, d)
        noise[:, 0] = 0.0
        return (Z[:, None, :] + noise * self._start_scale).reshape(n * k, d)

    def _explain(self, X, target, return_path):
        space = self._space
        X_raw, Xv = self._check_X(X, reset=False, has_steps=bool(self._model.steps))
        expected = self._model.n_features
        if expected is not None and expected != space.lower.shape[0]:
            # The explained model is used as it is now; if it was refit in place on other
            # data, the constraints compiled in fit no longer describe its input.
            raise ValueError(
                f"The explained model now expects {expected} features (in its input "
                f"space), but the explainer was fitted for {space.lower.shape[0]}: the "
                "model was refit in place on other data; fit the explainer again."
            )
        n_rows = Xv.shape[0]
        k = self.n_per_row
        Z = self._model.transform(X_raw)
        # A differentiable model's factuals are copied to its device once: the same
        # tensor gives their probabilities and the search's starting rows.
        Zt = self._model.upload(Z) if self._model.differentiable else None
        predicted = self._model.proba(Z if Zt is None else Zt).argmax(axis=1)
        t = resolve_targets(target, self.classes_, predicted, Z, self._seed)
        already = predicted == t
        start = None
        if k > 1:
            # Every row becomes k consecutive candidates, all searched in one batch.
            rep = np.repeat(np.arange(n_rows), k)
            start = self._starts(Z, k)
            X_raw = X_raw.iloc[rep] if is_frame(X_raw) else X_raw[rep]
            Z, Xv, t, already_k = Z[rep], Xv[rep], t[rep], already[rep]
        else:
            already_k = already
        n = Z.shape[0]
        rows = np.arange(n)
        todo = ~already_k
        Zc = Z.copy()
        n_iter = np.zeros(n, dtype=np.int64)
        path = None
        if return_path:
            path = np.broadcast_to(Z, (self._max_steps() + 1,) + Z.shape).copy()
        if todo.any():
            Zs, it, pth = self._search(self._search_rows(Z, Zt, todo, k), t[todo],
                                       space.can_increase,
                                       space.can_decrease, return_path, k=k,
                                       start=None if start is None else start[todo])
            Zc[todo] = Zs
            n_iter[todo] = it
            if return_path:
                path[:, todo] = pth
        snap(Zc, space.model_groups, rows=todo)
        X_cf, Zf, pf = self._counterfactuals(Zc, Z, X_raw, Xv, todo)
        if k > 1:
            Zf = np.array(Zf, dtype=np.float64)  # updated below; ranks the candidates

        redo = todo & (pf[rows, t] < self.decision_threshold)
        if (self.generator_.continuous_categories and space.group_columns.any()
                and redo.any()):
            # Snapping may push a row back across the decision boundary. Search those rows
            # again from the snapped point, with every categorical group fixed.
            fixed = space.group_columns
            Z2, it2, _ = self._search(Zf[redo], t[redo], space.can_increase & ~fixed,
                                      space.can_decrease & ~fixed, False)
            n_iter[redo] += it2
            sub_raw = X_raw.iloc[redo] if is_frame(X_raw) else X_raw[redo]
            X_new, Zf_new, pf_new = self._counterfactuals(Z2, Z[redo], sub_raw, Xv[redo])
            X_cf = merge_rows(X_cf, X_new, redo)
            pf[redo] = pf_new
            if k > 1:
                Zf[redo] = Zf_new

        target_proba = pf[rows, t]
        valid = target_proba >= self.decision_threshold
        prediction = self.classes_[pf.argmax(axis=1)]
        if k == 1:
            return Bunch(
                counterfactuals=X_cf,
                target=self.classes_[t],
                valid=valid,
                already_target=already,
                n_iter=n_iter,
                target_proba=target_proba,
                factual_prediction=self.classes_[predicted],
                prediction=prediction,
                path=path,
            )
        # The best candidate of each row (what transform returns): valid ones first,
        # then the lowest L1 change in the model's input space; among invalid ones the
        # highest target probability; ties go to the first candidate.
        cost = np.abs(Zf - Z).sum(axis=1)
        score = np.where(valid, cost, -target_proba).reshape(n_rows, k)
        order = np.lexsort((np.broadcast_to(np.arange(k), (n_rows, k)), score,
                           ~valid.reshape(n_rows, k)), axis=-1)
        best = order[:, 0]
        if not is_frame(X_cf):
            X_cf = np.asarray(X_cf)
            X_cf = X_cf.reshape(n_rows, k, X_cf.shape[1])
        if path is not None:
            path = path.reshape(path.shape[0], n_rows, k, path.shape[2])
        return Bunch(
            counterfactuals=X_cf,
            target=self.classes_[t[::k]],
            valid=valid.reshape(n_rows, k),
            already_target=already,
            n_iter=n_iter.reshape(n_rows, k),
            target_proba=target_proba.reshape(n_rows, k),
            factual_prediction=self.classes_[predicted],
            prediction=prediction.reshape(n_rows, k),
            path=path,
            best=best,
        )

    # -- public API ----------------------------------------------------------------------

    def transform(self, X):
        """Return one counterfactual per row of ``X``.

        Parameters
        ----------
        X : array-like, DataFrame, Dask DataFrame or Dask array of shape \
(n_samples, n_features)
            Factuals, with the features seen in :meth:`fit`. A Dask collection is
            explained lazily, one task per partition (row chunk), on the Dask cluster in
            use; each row gives exactly its in-memory counterfactual.

        Returns
        -------
        X_cf : ndarray, DataFrame or Dask collection of shape (n_samples, n_features)
            One counterfactual per row (the best one when ``n_per_row > 1``), with the
            columns of ``X``. Numeric inputs give a float array of ``X``'s precision (a
            DataFrame with ``set_output``); a DataFrame with categorical (string) columns
            gives a DataFrame whose categorical columns keep their dtype and numeric
            columns are float64. Dask inputs give the same type (a Dask DataFrame with
            ``X``'s index and columns, or a Dask array).
        """
        check_is_fitted(self)
        if dask_kind(X) is not None:
            return dask_transform(self, X)
        result = self._explain(X, self.target, False)
        if self.n_per_row == 1:
            return result.counterfactuals
        take = np.arange(result.best.shape[0]) * self.n_per_row + result.best
        if is_frame(result.counterfactuals):
            out = result.counterfactuals.iloc[take]
            out.index = X.index if is_frame(X) else range(out.shape[0])
            return out
        return result.counterfactuals[np.arange(result.best.shape[0]), result.best]

    def explain(self, X, *, target=None, return_path=False):
        """Return counterfactuals with targets, validity, steps and probabilities.

        Parameters
        ----------
        X : array-like, DataFrame, Dask DataFrame or Dask array of shape \
(n_samples, n_features)
            Factuals. For a Dask collection every field of the result is a lazy Dask
            collection computed partition by partition. For a Dask DataFrame:
            ``counterfactuals`` a Dask DataFrame (with ``X``'s index, repeated per
            candidate when ``n_per_row > 1``), the other fields Dask Series on ``X``'s
            index (Dask DataFrames with one column per candidate for the fields of
            each counterfactual); for a Dask array, Dask arrays. They come from one
            task per partition, so compute them together
            (``dask.compute(*result.values())``) to run each search once.
        target : "opposite", "random", label or array-like, default=None
            Overrides the explainer's ``target`` for this call (Dask collections: not
            an array).
        return_path : bool, default=False
            Also return every iterate of the gradient search (not for Dask
            collections).

        Returns
        -------
        result : :class:`~sklearn.utils.Bunch`
            With keys

            counterfactuals : ndarray or DataFrame of shape (n_samples, n_features)
                As :meth:`transform`; a DataFrame (with ``X``'s index) when ``X`` is one.
                With ``n_per_row=k > 1``: an array of shape (n_samples, k, n_features),
                or a DataFrame of ``n_samples * k`` rows whose index has two levels,
                ``X``'s index and the candidate number ``"counterfactual"``.
            target : ndarray of shape (n_samples,)
                Target label per row.
            valid : ndarray of bool, shape (n_samples,) or (n_samples, k)
                Whether the counterfactual's target probability reaches
                ``decision_threshold`` (computed on the returned counterfactuals).
            already_target : ndarray of bool, shape (n_samples,)
                Rows whose predicted class already is the target; returned unchanged.
            n_iter : ndarray of int, shape (n_samples,) or (n_samples, k)
                Search steps (or black-box iterations) per counterfactual.
            target_proba : ndarray of float, shape (n_samples,) or (n_samples, k)
                Target probability of each counterfactual.
            factual_prediction : ndarray of shape (n_samples,)
                Predicted labels of the factuals.
            prediction : ndarray of shape (n_samples,) or (n_samples, k)
                Predicted labels of the counterfactuals.
            path : ndarray of shape (max_steps + 1, n_samples, n_model_features) or None
                Gradient-search iterates in the model's input space (after the
                pipeline's preprocessing; before categorical snapping), when
                ``return_path=True``; with ``k > 1`` of shape (max_steps + 1,
                n_samples, k, n_model_features). Rows that stop early repeat their last
                iterate.
            best : ndarray of int, shape (n_samples,)
                Only with ``k > 1``: the candidate that :meth:`transform` returns.
        """
        check_is_fitted(self)
        target = self.target if target is None else target
        if dask_kind(X) is not None:
            if return_path:
                raise ValueError("return_path=True is not available for Dask collections.")
            return dask_explain(self, X, target)
        result = self._explain(X, target, bool(return_path))
        k = self.n_per_row
        if is_frame(X):
            import pandas as pd

            index = X.index
            if k > 1:
                # One row per candidate: the factual's index, then the candidate number.
                index = pd.MultiIndex.from_arrays(
                    [np.repeat(X.index, k), np.tile(np.arange(k), X.shape[0])],
                    names=[X.index.name, "counterfactual"])
            if not is_frame(result.counterfactuals):
                cf = np.asarray(result.counterfactuals)
                result.counterfactuals = pd.DataFrame(
                    cf.reshape(-1, cf.shape[-1]), columns=X.columns, index=index)
            else:
                result.counterfactuals.index = index
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
