"""The generator protocol, and the batched gradient engine that implements it.

A generator is a small configuration object (a scikit-learn ``BaseEstimator``, so its
parameters appear as ``generator__<param>`` in grid searches). Every generator answers one
call, :meth:`BaseGenerator.generate`: counterfactuals for a batch of factuals towards given
target classes, under domain bounds and mutability constraints, within a budget of search
steps. Training (:class:`~sklearn_ct.callbacks.CounterfactualGeneration`) and the explainer
(:class:`~sklearn_ct.explainers.CounterfactualExplainer`) only ever make that call.

*Gradient* generators (the default) implement it with one engine,
:func:`search_counterfactuals`, and only define what the engine asks them for:

* the per-row objective at the current iterate (:meth:`BaseGenerator.objective`, i.e. the
  class loss plus :meth:`BaseGenerator.penalty`);
* the search state and how to decode it into feature space (:meth:`BaseGenerator.init_state`,
  :meth:`BaseGenerator.decode`), the identity for feature-space generators, which lets
  latent-space generators (REVISE) share the engine;
* data-dependent state learnt from training data (:meth:`BaseGenerator.fit`).

*Black-box* generators (:class:`BaseBlackBoxGenerator`) override :meth:`~BaseGenerator.generate`
with a search of their own that only asks the model for probabilities.

The engine searches all rows together as one tensor. Each row stops as soon as the model's
softmax probability of its target reaches the decision threshold ``tau`` (or after
``max_steps`` steps); stopped rows are dropped from the active set, so converged rows cost
nothing. Per step, for the active rows (reference semantics, spec section 2.1):

1. ``delta = -step_size * grad`` of the generator's per-row objective (NaN -> 0);
2. for feature-space generators, ``delta`` is masked per mutability direction
   (``increase``: max(delta, 0), ``decrease``: min(delta, 0), ``none``: 0);
3. the new iterate is clamped to per-row bounds that combine the domain with mutability
   relative to the factual (:func:`sklearn_ct._constraints.row_bounds`), so the
   constraints hold exactly after every step, also for latent-space generators;
4. the *nascent* counterfactual (the last iterate within an L-inf ball of radius
   ``epsilon`` around the factual; CT's adversarial example) is updated in place, so the
   path is never stored unless asked for.

Objectives are per row and summed over the batch before differentiation, so every row's
gradient depends on that row alone: a batch never couples its rows.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import inspect
import numbers
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Hidden, Interval, StrOptions, validate_params
from sklearn.utils.validation import validate_data
from torch import nn

from .._constraints import row_bounds
from .._model import resolve_model
from .._utils import DEPRECATED, atomic_fit, eval_mode, renamed_max_iter

#: How often the search reads the convergence state back to the host, per device type
#: (see ``check_every`` in :func:`search_counterfactuals`); other devices use
#: :data:`DEFAULT_CHECK_EVERY`. On the CPU a host read costs nothing, so every step checks
#: (and the search stops the very step its last row converges).
CHECK_EVERY = {"cpu": 1}

#: Steps between host reads on accelerators: every read waits for the device to drain
#: its queue, so the search checks every few steps and freezes converged rows in between.
DEFAULT_CHECK_EVERY = 8


def default_check_every(device):
    """Steps between host reads of the search's convergence state on ``device``.

    Parameters
    ----------
    device : torch.device
        The search device.

    Returns
    -------
    check_every : int
        ``CHECK_EVERY[device.type]``, else :data:`DEFAULT_CHECK_EVERY`.
    """
    return CHECK_EVERY.get(torch.device(device).type, DEFAULT_CHECK_EVERY)


#: The parameters of the objective hooks the engine calls, shared by their docstrings.
_HOOK_PARAMETERS = """
Parameters
----------
logits : torch.Tensor of shape (n, n_classes)
    Model logits at the current counterfactuals.
target : torch.Tensor of int64, shape (n,)
    Target class indices.
x_cf : torch.Tensor of shape (n, n_features)
    Current counterfactuals (feature space).
x : torch.Tensor of shape (n, n_features)
    Factuals.
t : int
    Number of search steps taken so far.
max_steps : int
    Search budget ``T``.

Returns
-------
{returns}
"""


def penalty_doc(returns="penalty : torch.Tensor of shape (n,)\n    Per-row penalty."):
    """Complete the docstring of an objective hook with the shared parameter section.

    Parameters
    ----------
    returns : str, default="penalty : ..."
        The Returns entry.

    Returns
    -------
    decorator : callable
        Sets ``__doc__`` to the function's summary followed by the parameters.
    """
    def decorate(func):
        func.__doc__ = (inspect.cleandoc(func.__doc__) + "\n"
                        + _HOOK_PARAMETERS.format(returns=returns))
        return func

    return decorate


@dataclass
class SearchResult:
    """Outcome of a counterfactual search, one entry per row.

    Tensors on the search device when the factuals were tensors, NumPy arrays when they
    were arrays (see :meth:`BaseGenerator.generate`).

    Parameters
    ----------
    counterfactuals : torch.Tensor or ndarray of shape (n, n_features)
        Final iterates.
    converged : torch.Tensor or ndarray of bool, shape (n,)
        Whether the target probability reached the threshold (at the final iterate).
    n_iter : torch.Tensor or ndarray of int, shape (n,)
        Steps taken per row.
    target_proba : torch.Tensor or ndarray of shape (n,)
        Probability of the target at the final iterate.
    nascent : torch.Tensor or ndarray of shape (n, n_features) or None
        Last iterate with ``||x' - x||_inf <= epsilon`` (the factual itself if the first
        step already leaves the ball); ``None`` when no ``epsilon`` was given or the
        generator does not follow a path.
    path : torch.Tensor or ndarray of shape (max_steps + 1, n, n_features) or None
        All iterates (rows that stopped repeat their final value); only when requested.
    """

    counterfactuals: object
    converged: object
    n_iter: object
    target_proba: object
    nascent: object = None
    path: object = None


class BaseGenerator(BaseEstimator):
    """Base class of counterfactual generators.

    Every generator implements :meth:`generate`. Gradient generators inherit it, which
    runs the batched engine :func:`search_counterfactuals`, and implement :meth:`penalty`
    (and, in a latent space, :meth:`init_state` and :meth:`decode`); the class loss
    (cross-entropy of the model's logits towards the target) is common to all of them.
    Black-box generators derive from :class:`BaseBlackBoxGenerator` instead.

    Data-dependent state is learnt by :meth:`fit` (through :meth:`_fit`); attributes set
    there end with an underscore, as for estimators.
    """

    #: Whether the generator needs the model's gradients (a differentiable model).
    requires_gradients = True
    #: Whether the search state lives in a latent space (then mutability is enforced by
    #: projection in feature space rather than by masking the step).
    latent_space = False
    #: Whether one-hot columns are searched as continuous values (snapped to a category
    #: afterwards, when the explainer searches rows that the snapping invalidated again).
    continuous_categories = True

    _parameter_constraints = {}

    @_fit_context(prefer_skip_nested_validation=True)
    @atomic_fit
    def fit(self, X, y=None):
        """Learn data-dependent state from training data.

        A fit that raises leaves the generator as it was (fitted or not).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data in model space.
        y : array-like of shape (n_samples,), default=None
            Encoded labels (ignored by most generators).

        Returns
        -------
        self : object
            Fitted generator.
        """
        X = validate_data(self, X, dtype=(np.float64, np.float32))
        self._fit(X, y)
        return self

    def _fit(self, X, y):
        """Learn state from validated training data (nothing by default)."""

    def generate(self, model, x, target, *, max_steps=30, decision_threshold=0.5,
                 step_size=0.1, lower=None, upper=None, can_increase=None,
                 can_decrease=None, groups=(), epsilon=None, return_path=False,
                 n_per_row=1, diversity_weight=0.0, start=None, project_groups=False,
                 max_iter=DEPRECATED):
        """Search counterfactuals for a batch of factuals.

        Gradient generators run :func:`search_counterfactuals`. Tensors in give tensors
        out: the search runs on ``model`` as given (a logits module), on the device and
        in the precision of ``x``, as training does. Arrays in give arrays out: ``model``
        may be anything :func:`~sklearn_ct._model.resolve_model` accepts, and the search
        runs in its search precision (float64 on CPU); changes are added to the float64
        factuals, so features the search did not move are returned exactly. The inputs go
        to the model's device in one copy and the results come back in one. Such a model
        may also be given its factuals as a float64 tensor on its device (from
        :meth:`~sklearn_ct._model.ModelAdapter.upload`), which is not copied again; the
        results are arrays all the same.

        Parameters
        ----------
        model : torch.nn.Module, estimator or ModelAdapter
            The model: a module returning logits, or any model that
            :func:`~sklearn_ct._model.resolve_model` accepts.
        x : torch.Tensor or ndarray of shape (n, n_features)
            Factuals, in the model's input space.
        target : torch.Tensor or ndarray of int, shape (n,)
            Target class index per row.
        max_steps : int, default=30
            Maximum number of search steps ``T`` per row.
        decision_threshold : float, default=0.5
            A row stops once its target probability reaches this value ``tau``.
        step_size : float, default=0.1
            Step size of gradient generators.
        lower, upper : tensor or ndarray of shape (n_features,), default=None
            Domain bounds (unbounded when None).
        can_increase, can_decrease : tensor or ndarray of bool, shape (n_features,), \
default=None
            Mutability masks (all True when None); every returned point respects them.
        groups : sequence of Group, default=()
            One-hot groups among the columns. Gradient generators search them as
            continuous values in ``[0, 1]``, or keep them valid one-hot vectors at every
            step when ``project_groups`` is True.
        epsilon : float, default=None
            Radius of the L-inf ball of the nascent counterfactual; None skips it.
        return_path : bool, default=False
            Also return every iterate.
        n_per_row : int, default=1
            Several candidates per factual: ``x`` and ``target`` hold each factual
            ``n_per_row`` times in consecutive rows, and the result has one row per
            candidate. Gradient generators add the diversity term of
            :func:`search_counterfactuals` within each block; black-box generators return
            a factual's ``n_per_row`` best candidates.
        diversity_weight : float, default=0.0
            Weight of the diversity term (gradient generators, ``n_per_row > 1``).
        start : tensor or ndarray of shape (n, n_features), default=None
            Starting points of gradient searches (None: the factuals).
        project_groups : bool, default=False
            Project one-hot ``groups`` onto valid one-hot vectors after every step.
        max_iter : int
            Deprecated alias of ``max_steps``.

        Returns
        -------
        result : SearchResult
        """
        max_steps = renamed_max_iter(max_steps, max_iter, f"{type(self).__name__}.generate")
        kwargs = dict(max_steps=max_steps, decision_threshold=decision_threshold,
                      step_size=step_size, epsilon=epsilon, return_path=return_path)
        # Only non-default options are passed on, so that the default call is the same
        # engine call as before they existed.
        if n_per_row != 1 or diversity_weight:
            kwargs.update(n_per_row=n_per_row, diversity_weight=diversity_weight)
        if project_groups and len(groups):
            kwargs.update(groups=list(groups), project_groups=True)
        if isinstance(model, nn.Module) and torch.is_tensor(x):
            return search_counterfactuals(model, x, target, self, lower=lower, upper=upper,
                                          can_increase=can_increase,
                                          can_decrease=can_decrease, start=start, **kwargs)
        model = resolve_model(model)
        module, dtype = model.search_module()
        device = model.device
        host = not torch.is_tensor(x)
        # Everything the search needs from the host goes in one transfer (each copy to an
        # accelerator waits for its queue); factuals already on the device stay there.
        x64, target, lower, upper, can_increase, can_decrease, start = upload(
            [x if host else None, target, lower, upper, can_increase, can_decrease, start],
            device)
        if not host:
            x64 = x.to(device=device, dtype=torch.float64)

        def cast(a, dt=dtype):
            return None if a is None else a.to(dt)

        xt = cast(x64)
        res = search_counterfactuals(
            module, xt, cast(target, torch.long), self, lower=cast(lower),
            upper=cast(upper), can_increase=None if can_increase is None else can_increase != 0,
            can_decrease=None if can_decrease is None else can_decrease != 0,
            start=cast(start), **kwargs)
        return _download(res, xt, x64)

    def init_state(self, x):
        """Search state for factuals ``x`` (identity for feature-space generators).

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)
            Factuals.

        Returns
        -------
        state : torch.Tensor of shape (n, n_state)
            Initial search state.
        """
        return x.clone()

    def decode(self, state):
        """Map a search state to feature space (identity for feature-space generators).

        Parameters
        ----------
        state : torch.Tensor of shape (n, n_state)
            Search state.

        Returns
        -------
        x_cf : torch.Tensor of shape (n, n_features)
            Counterfactuals in feature space.
        """
        return state

    @penalty_doc(returns="loss : torch.Tensor of shape (n,)\n    Per-row objective.")
    def objective(self, logits, target, x_cf, x, t, max_steps):
        """Per-row objective: class loss towards ``target`` plus :meth:`penalty`."""
        loss = F.cross_entropy(logits, target, reduction="none")
        return loss + self.penalty(logits, target, x_cf, x, t, max_steps)

    @penalty_doc()
    def penalty(self, logits, target, x_cf, x, t, max_steps):
        """Per-row penalty added to the class loss (zero by default)."""
        return torch.zeros(x.shape[0], dtype=x_cf.dtype, device=x_cf.device)


class BaseBlackBoxGenerator(BaseGenerator):
    """Base class of generators that need only the model's probabilities.

    A black-box generator runs its own (vectorised) search in :meth:`generate`, asking
    the model only for class probabilities, so it explains any classifier, including
    non-differentiable ones such as random forests. It cannot train a
    :class:`~sklearn_ct.CTClassifier`, whose objective needs the nascent counterfactuals
    of a gradient path.
    """

    requires_gradients = False
    continuous_categories = False

    def generate(self, model, x, target, **kwargs):  # pragma: no cover - abstract
        """Search counterfactuals for a batch of factuals (to be implemented).

        Parameters
        ----------
        model : estimator, ModelAdapter or callable
            The model; see :meth:`BaseGenerator.generate`.
        x : ndarray of shape (n, n_features)
            Factuals (model space).
        target : ndarray of int, shape (n,)
            Target class indices.
        **kwargs : dict
            The keyword arguments of :meth:`BaseGenerator.generate`.

        Returns
        -------
        result : SearchResult
            Counterfactuals and per-row diagnostics (NumPy arrays).
        """
        raise NotImplementedError


def upload(arrays, device):
    """Copy host arrays to ``device`` in one transfer, as float64 tensors.

    Parameters
    ----------
    arrays : list of array-like or None
        Numbers that float64 holds exactly (values, bounds, labels, masks); None entries
        stay None.
    device : torch.device
        Destination.

    Returns
    -------
    tensors : list of torch.Tensor or None
        Views of one float64 tensor on ``device``, shaped as ``arrays``.
    """
    host = [None if a is None else np.asarray(a, dtype=np.float64) for a in arrays]
    present = [a.reshape(-1) for a in host if a is not None]
    if not present:
        return host
    flat = torch.as_tensor(np.concatenate(present), device=device)
    out, offset = [], 0
    for a in host:
        if a is None:
            out.append(None)
            continue
        out.append(flat[offset:offset + a.size].view(a.shape))
        offset += a.size
    return out


def _download(res, xt, x64):
    """A device search's result as NumPy arrays, read back in one transfer.

    The change of every point (exactly zero for untouched features) is added to the
    float64 factuals ``x64``, so that the search precision's round-off never leaks into
    features the search did not move; the per-row fields travel as extra columns.
    """
    def changed(points, base):
        return None if points is None else base + (points - xt).double()

    n, d = x64.shape
    blocks = [changed(res.counterfactuals, x64), changed(res.nascent, x64)]
    columns = [res.converged, res.n_iter, res.target_proba]
    host = torch.cat([b for b in blocks if b is not None]
                     + [c.double().unsqueeze(1) for c in columns], dim=1).cpu().numpy()
    cf = np.ascontiguousarray(host[:, :d])
    nascent = np.ascontiguousarray(host[:, d:2 * d]) if res.nascent is not None else None
    converged, n_iter, proba = (host[:, j] for j in range(host.shape[1] - 3, host.shape[1]))
    path = changed(res.path, x64[None])
    return SearchResult(
        counterfactuals=cf,
        converged=converged != 0,
        n_iter=n_iter.astype(np.int64),
        target_proba=np.ascontiguousarray(proba),
        nascent=nascent,
        path=None if path is None else path.cpu().numpy(),
    )


class _GroupProjection:
    """Project one-hot groups of a tensor onto valid one-hot vectors, in place.

    Each group becomes the unit vector of its largest entry (the first one on ties, as
    :func:`numpy.argmax` and the explainer's final snapping); a group with an implicit
    (dropped) category scores that category ``1 - sum(columns)``, ranked first, so it may
    become all zeros. The search calls this after every step: groups of consecutive
    columns (what encoders produce) are projected on views, without copies.
    """

    def __init__(self, groups, device):
        self.groups = []
        for g in groups:
            cols = np.asarray(g.columns, dtype=np.int64)
            span = None
            if cols.size and np.array_equal(cols, np.arange(cols[0], cols[0] + cols.size)):
                span = slice(int(cols[0]), int(cols[0]) + cols.size)
            self.groups.append((torch.as_tensor(cols, device=device), span,
                                bool(getattr(g, "implicit", False))))

    def __call__(self, z):
        for cols, span, implicit in self.groups:
            block = z[:, span] if span is not None else z.index_select(1, cols)
            top, best = block.max(dim=1, keepdim=True)
            onehot = torch.zeros_like(block).scatter_(1, best, 1.0)
            if implicit:
                # The dropped category wins ties, as it comes first.
                onehot.masked_fill_(1.0 - block.sum(dim=1, keepdim=True) >= top, 0.0)
            if span is not None:
                block.copy_(onehot)
            else:
                z[:, cols] = onehot
        return z


def _block_similarity(xa, positions, rows, k):
    """Mean DiCE-kernel similarity ``1 / (1 + L1)`` of each candidate to its block's others.

    ``xa`` (the working candidates ``rows``) carries the gradient; the other candidates'
    positions are constants, so every candidate's gradient still depends on its own
    iterate alone and the batch is searched as before.
    """
    siblings = positions.view(-1, k, positions.shape[1])[torch.div(rows, k,
                                                                   rounding_mode="floor")]
    dist = (xa.unsqueeze(1) - siblings).abs().sum(dim=2)
    others = torch.arange(k, device=xa.device) != (rows % k).unsqueeze(1)
    return (others.to(xa.dtype) / (1.0 + dist)).sum(dim=1) / (k - 1)


def _mask_step(delta, can_increase, can_decrease):
    # Gradient masking per direction, as in the reference: a feature that may only increase
    # keeps only positive steps, so its path is monotone (not just its end point).
    return torch.where(
        delta > 0, delta * can_increase.to(delta.dtype), delta * can_decrease.to(delta.dtype)
    )


@validate_params(
    {
        "module": [nn.Module],
        "x": [torch.Tensor],
        "target": [torch.Tensor],
        "generator": [BaseGenerator],
        "max_steps": [Interval(numbers.Integral, 0, None, closed="left")],
        "decision_threshold": [Interval(numbers.Real, 0, 1, closed="right")],
        "step_size": [Interval(numbers.Real, 0, None, closed="left")],
        "lower": [None, torch.Tensor],
        "upper": [None, torch.Tensor],
        "can_increase": [None, torch.Tensor],
        "can_decrease": [None, torch.Tensor],
        "epsilon": [None, Interval(numbers.Real, 0, None, closed="left")],
        "return_path": ["boolean"],
        "start": [None, torch.Tensor],
        "n_per_row": [Interval(numbers.Integral, 1, None, closed="left")],
        "diversity_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "groups": [list, tuple],
        "project_groups": ["boolean"],
        "check_every": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 0, None, closed="left"),
                     Hidden(StrOptions({DEPRECATED}))],
    },
    prefer_skip_nested_validation=True,
)
def search_counterfactuals(
    module,
    x,
    target,
    generator,
    *,
    max_steps=30,
    decision_threshold=0.5,
    step_size=0.1,
    lower=None,
    upper=None,
    can_increase=None,
    can_decrease=None,
    epsilon=None,
    return_path=False,
    start=None,
    n_per_row=1,
    diversity_weight=0.0,
    groups=(),
    project_groups=False,
    check_every=None,
    max_iter=DEPRECATED,
):
    """Search counterfactuals for a batch of factuals with one batched gradient descent.

    The engine of every gradient generator (see :meth:`BaseGenerator.generate`).

    Parameters
    ----------
    module : torch.nn.Module
        Differentiable model returning logits of shape (n, n_classes). It is put in
        eval mode for the search and restored afterwards; its parameters receive no
        gradient.
    x : torch.Tensor of shape (n, n_features)
        Factuals (float tensor on the model's device).
    target : torch.Tensor of int64, shape (n,)
        Target class index per row.
    generator : BaseGenerator
        Objective of the search.
    max_steps : int, default=30
        Maximum number of steps ``T``.
    decision_threshold : float, default=0.5
        A row stops once its target probability reaches this value ``tau``.
    step_size : float, default=0.1
        Gradient-descent step size (the reference's ``Descent(0.1)``).
    lower, upper : torch.Tensor of shape (n_features,), default=None
        Domain bounds (unbounded when None).
    can_increase, can_decrease : torch.Tensor of bool, shape (n_features,), default=None
        Mutability masks (all True when None).
    epsilon : float, default=None
        Radius of the L-inf ball for the nascent counterfactual; None skips tracking.
    return_path : bool, default=False
        Also return every iterate (memory ``O(max_steps * n * n_features)``).
    start : torch.Tensor of shape (n, n_features), default=None
        Starting points in feature space (None: the factuals). They are clamped to each
        row's bounds first, so they satisfy the constraints; latent-space generators start
        from the code of the starting point. Penalties still measure distances to ``x``.
    n_per_row : int, default=1
        Rows come in consecutive blocks of ``n_per_row`` candidates for the same factual
        (``x`` and ``target`` repeat within a block); only used by the diversity term.
    diversity_weight : float, default=0.0
        Weight ``w`` of the diversity term that is added to each candidate's objective
        when ``n_per_row > 1``: ``w * fade(t) * mean_b 1 / (1 + ||x'_a - x'_b||_1)``
        over the other candidates ``b`` of its block, at their current positions (a
        stopped candidate at its final one), which are constants in candidate ``a``'s
        objective. The similarity is the kernel of DiCE's determinantal diversity
        (Mothilal, Sharma and Tan, 2020); it pushes a block's candidates apart and
        weakens as they separate. ``fade(t) = max(0, 1 - 2 t / max_steps)`` switches it
        off by half the budget, so that the rest of the search only seeks the target.
    groups : sequence of Group, default=()
        One-hot groups among the columns; used when ``project_groups`` is True.
    project_groups : bool, default=False
        Project every group onto a valid one-hot vector (its largest entry; for groups
        with an implicit category, that category scores ``1 - sum``) after every step
        and at the start, so that every iterate the model sees, the nascent
        counterfactual and the result hold real categories. Latent-space generators
        evaluate the projected decoded point and pass gradients straight through the
        projection.
    check_every : int, default=None
        Steps between reads of the convergence state on the host (None: 1 on the CPU,
        8 on other devices).
        With 1, the search counts the rows that stop at every step, writes them back and
        stops as soon as none is left. With ``k > 1``, no step reads anything back except
        every ``k``-th: rows that reach the threshold in between are *frozen* (their step
        is zero, so they keep their final iterate) and their results are recorded on the
        device; on an accelerator this keeps the host queueing kernels instead of waiting
        for the device. Both give the same results; ``k > 1`` may spend up to ``k - 1``
        steps on rows that have all stopped.
    max_iter : int
        Deprecated alias of ``max_steps``.

    Returns
    -------
    result : SearchResult
    """
    max_steps = renamed_max_iter(max_steps, max_iter, "search_counterfactuals")
    x = x.detach()
    n, d = x.shape
    device, dtype = x.device, x.dtype
    target = target.to(device=device, dtype=torch.long)
    ones = torch.ones(d, dtype=torch.bool, device=device)
    can_increase = ones if can_increase is None else can_increase.to(device)
    can_decrease = ones if can_decrease is None else can_decrease.to(device)
    inf = torch.full((d,), float("inf"), dtype=dtype, device=device)
    lower = -inf if lower is None else lower.to(device=device, dtype=dtype).contiguous()
    upper = inf if upper is None else upper.to(device=device, dtype=dtype).contiguous()
    free = bool((can_increase & can_decrease).all())
    mask_steps = not generator.latent_space and not free
    if free:
        # Without mutability constraints the bounds are the same for every row: clamp
        # against the (d,) domain (broadcast), or not at all for an unbounded domain.
        low, high = lower, upper
        per_row_bounds = False
        bounded = bool(torch.isfinite(lower).any() or torch.isfinite(upper).any())
    else:
        low, high = row_bounds(x, lower, upper, can_increase, can_decrease)
        per_row_bounds = bounded = True

    project = _GroupProjection(groups, device) if project_groups and len(groups) else None
    init = x
    if start is not None:
        init = start.detach().to(device=device, dtype=dtype)
        if bounded:
            init = torch.clamp(init, low, high)
    if project is not None:
        init = project(init.clone())
    state = generator.init_state(init).detach()
    # Results for all rows: a row's entries are written once, when it stops.
    x_cf = x.clone()
    n_iter = torch.zeros(n, dtype=torch.long, device=device)
    converged = torch.zeros(n, dtype=torch.bool, device=device)
    proba = torch.zeros(n, dtype=dtype, device=device)
    nascent = x.clone() if epsilon is not None else None
    path = [x_cf.clone()] if return_path else None

    # Working copies of the rows still in the search (``rows`` are their indices). A row
    # that stops is written back at once and marked in ``stopped``; it stays in the
    # working copies, ignored, until enough rows have stopped to make re-gathering the
    # copies worthwhile. Rows never interact (per-row objectives, eval mode), so the
    # ignored rows change nothing for the others, and a step in which no row stops
    # costs no indexing at all.
    rows = torch.arange(n, device=device)
    s_act, x_act, t_act, cf_act = state, x, target, init
    t_col = t_act.unsqueeze(1)  # the targets as gather indices
    live = None  # ~stopped, when checks are not deferred (it changes only when rows stop)
    low_act, high_act = low, high
    if generator.latent_space:
        # A latent search evaluates, and returns, decoded points within the bounds; the
        # decoder need not reproduce the factual, so a row that stops at step 0 returns
        # its bounded decoded point, not the factual.
        with torch.no_grad():
            cf_act = generator.decode(state)
            if bounded:
                cf_act = torch.clamp(cf_act, low, high)
            if project is not None:
                cf_act = project(cf_act)
    diverse = n_per_row > 1 and diversity_weight > 0
    if diverse:
        if n % n_per_row:
            raise ValueError(f"The number of rows ({n}) must be a multiple of n_per_row "
                             f"({n_per_row}).")
        # Where every candidate currently is (a stopped one: its final point); the
        # diversity term of a candidate measures its distance to its block's others here.
        positions = cf_act.detach().clone()
    nascent_act = x.clone() if epsilon is not None else None
    stopped, n_stopped = None, 0
    # The working copies are updated in place once they are the search's own tensors
    # (not the caller's factuals or the generator's initial state): large searches are
    # dominated by memory traffic, and fresh (n, d) temporaries cost page faults.
    owned = False
    buffer = torch.empty_like(x) if epsilon is not None else None
    if check_every is None:
        check_every = default_check_every(device)
    deferred = check_every > 1
    if deferred:
        # Deferred checks (see check_every): a working row's results are recorded here
        # on the device when it stops, and written back at the next host read.
        stopped = torch.zeros(n, dtype=torch.bool, device=device)
        p_rec = torch.zeros(n, dtype=proba.dtype, device=device)
        it_rec = torch.zeros(n, dtype=torch.long, device=device)
        done_rec = torch.zeros(n, dtype=torch.bool, device=device)

    def _finish(sel, p, done, t, where=None):
        # Write back the working rows ``sel`` (bool mask, None for all) that stop after
        # ``t`` steps (an int, or a tensor of per-row steps); ``where``, when given, holds
        # the positions of ``sel``'s True entries. Copies by index (index_select,
        # index_copy_) cost less per call than ``[]`` indexing, which small searches feel.
        # The model may compute in another precision than the factuals (a float64 module
        # trained on float32 rows): results are kept in the factuals' precision.
        if sel is None and rows.numel() == n:
            # Every row, in place (``rows`` is still ``arange(n)``).
            proba.copy_(p)
            converged.copy_(done)
            if torch.is_tensor(t):
                n_iter.copy_(t)
            else:
                n_iter.fill_(t)
            x_cf.copy_(cf_act)
            if nascent is not None:
                nascent.copy_(nascent_act)
            return
        if sel is None:
            idx, p_sel, done_sel, cf_sel = rows, p, done, cf_act
            nascent_sel = nascent_act
        else:
            if where is None:
                where = sel.nonzero().squeeze(1)
            idx = rows.index_select(0, where)
            p_sel, done_sel = p.index_select(0, where), done.index_select(0, where)
            cf_sel = cf_act.index_select(0, where)
            nascent_sel = None if nascent_act is None else nascent_act.index_select(0, where)
            if torch.is_tensor(t):  # per-row steps (deferred checks)
                t = t.index_select(0, where)
        proba.index_copy_(0, idx, p_sel.to(proba.dtype))
        converged.index_copy_(0, idx, done_sel)
        if torch.is_tensor(t):
            n_iter.index_copy_(0, idx, t)
        else:
            n_iter.index_fill_(0, idx, t)
        x_cf.index_copy_(0, idx, cf_sel)
        if nascent is not None:
            nascent.index_copy_(0, idx, nascent_sel)

    seed = None  # the backward pass's seed (see below)
    with eval_mode(module):
        for t in range(max_steps + 1):
            if not deferred and rows.numel() == n_stopped:
                break
            last = t == max_steps
            s = s_act.detach().requires_grad_(not last)
            with torch.set_grad_enabled(not last):
                xa = generator.decode(s)
                if generator.latent_space and bounded:
                    # Judge convergence on the bounded point that is returned, not on the
                    # raw decoded one.
                    xa = torch.clamp(xa, low_act, high_act)
                if generator.latent_space and project is not None:
                    # The model sees real categories; the gradient passes straight through
                    # the projection to the latent code.
                    xa = xa + (project(xa.detach().clone()) - xa).detach()
                logits = module(xa)
            if diverse and not last:
                with torch.no_grad():
                    if stopped is None or deferred:
                        # (Frozen rows of a deferred search sit at their final point.)
                        positions[rows] = xa.detach()
                    else:
                        positions[rows[live]] = xa.detach()[live]
            with torch.no_grad():
                p = F.softmax(logits, dim=1).gather(1, t_col).squeeze(1)
                done = p >= decision_threshold
                if stopped is not None:
                    done &= ~stopped if deferred else live
            compact = False
            if deferred:
                with torch.no_grad():
                    if last:
                        # Every row still searching stops here, converged or not.
                        live = ~stopped
                        p_rec = torch.where(live, p.to(p_rec.dtype), p_rec)
                        it_rec.masked_fill_(live, t)
                        done_rec |= done
                        _finish(None, p_rec, done_rec, it_rec)
                        break
                    p_rec = torch.where(done, p.to(p_rec.dtype), p_rec)
                    it_rec.masked_fill_(done, t)
                    done_rec |= done
                    stopped |= done
                if t % check_every == 0:
                    n_stopped = int(stopped.sum())  # the only host read of the step
                    if n_stopped == rows.numel():
                        _finish(None, p_rec, done_rec, it_rec)
                        break
                    # At step 0 stopped rows may still lie outside their bounds (the
                    # factual itself): they leave at once, before the first update.
                    compact = n_stopped and (t == 0 or 8 * n_stopped >= rows.numel())
            else:
                n_done = int(done.count_nonzero())
                if last or n_done + n_stopped == rows.numel():
                    _finish(live, p, done, t)
                    break
                if n_done:
                    _finish(done, p, done, t)
                    stopped = done if stopped is None else stopped | done
                    # The rows still searching, kept for the steps until the next stop.
                    live = ~stopped
                    n_stopped += n_done
                compact = n_stopped and 8 * n_stopped >= rows.numel()
            loss = generator.objective(logits, t_act, xa, x_act, t, max_steps)
            fade = 1.0 - 2.0 * t / max_steps if diverse else 0.0
            if fade > 0:
                # The repulsion fades out by half the budget: near the threshold it could
                # otherwise balance the class loss and keep candidates from maturing.
                loss = loss + fade * diversity_weight * _block_similarity(
                    xa, positions, rows, n_per_row)
            # Differentiating the sum of the per-row objectives gives every row the
            # gradient of its own objective: rows never interact, whatever the batch
            # size. Seeding the backward pass with ones (what the sum's backward would
            # pass on) spares the sum and the scalar seed, a sizeable share of a small
            # search's step.
            if seed is None or seed.shape != loss.shape:
                seed = torch.ones_like(loss)
            (grad,) = torch.autograd.grad(loss, s, seed)
            s_old = s.detach()
            if compact:
                if deferred:
                    # The check above counted the stopped rows on the host, so one stable
                    # sort splits the working rows into those that go on and those that
                    # stopped (each in their order, as ``nonzero`` gives them) without
                    # another host read.
                    order = torch.argsort(stopped.to(torch.uint8), stable=True)
                    keep = order[:rows.numel() - n_stopped]
                    _finish(stopped, p_rec, done_rec, it_rec,
                            where=order[rows.numel() - n_stopped:])
                else:
                    # One host read for the indices, instead of one per boolean-mask index.
                    keep = live.nonzero().squeeze(1)

                def gather(a):
                    return a.index_select(0, keep)

                rows, grad, s_old, x_act, t_act = (
                    gather(rows), gather(grad), gather(s_old), gather(x_act), gather(t_act)
                )
                t_col = t_act.unsqueeze(1)
                if per_row_bounds:
                    low_act, high_act = gather(low_act), gather(high_act)
                if nascent_act is not None:
                    nascent_act = gather(nascent_act)
                if deferred:
                    p_rec, it_rec, done_rec = gather(p_rec), gather(it_rec), gather(done_rec)
                    stopped = torch.zeros_like(stopped[:rows.numel()])
                else:
                    stopped = live = None
                n_stopped = 0
                owned = True
            # delta = nan_to_num(-step_size * grad), computed in the gradient's memory
            # (autograd returns a fresh tensor; an expanded one is copied first).
            delta = grad if grad.is_contiguous() else grad.contiguous()
            delta = delta.mul_(-step_size).nan_to_num_(nan=0.0)
            if deferred:
                # Frozen rows do not move: their iterate, already within its bounds and
                # projected, is their result (clamping and projecting it again keep it).
                delta.masked_fill_(stopped.unsqueeze(1), 0.0)
            if mask_steps:
                delta = _mask_step(delta, can_increase, can_decrease)
            new_state = s_old.add_(delta) if owned else s_old + delta
            owned = True
            new_x = generator.decode(new_state).detach()
            if bounded:
                if generator.latent_space:
                    new_x = torch.clamp(new_x, low_act, high_act)
                else:  # new_x is the search's own iterate
                    new_x = new_x.clamp_(low_act, high_act)
            if project is not None:
                new_x = project(new_x)  # a tensor of the search's own (see above)
            s_act = new_state if generator.latent_space else new_x
            cf_act = new_x
            if nascent_act is not None:
                diff = torch.sub(new_x, x_act, out=buffer[: new_x.shape[0]])
                within = diff.abs_().amax(dim=1) <= epsilon
                if deferred:
                    # No host read: a masked copy (a frozen row copies its own value).
                    nascent_act.copy_(torch.where(within.unsqueeze(1), new_x, nascent_act))
                else:
                    inside = within.nonzero().squeeze(1)
                    if inside.numel() == new_x.shape[0]:
                        nascent_act.copy_(new_x)
                    elif inside.numel():
                        nascent_act.index_copy_(0, inside, new_x.index_select(0, inside))
            if path is not None:
                snapshot = x_cf.clone()
                if deferred:
                    snapshot[rows] = cf_act
                else:
                    running = live if live is not None else slice(None)
                    snapshot[rows[running]] = cf_act[running]
                path.append(snapshot)

    if path is not None:
        while len(path) < max_steps + 1:
            path.append(x_cf.clone())
        path = torch.stack(path)
    return SearchResult(
        counterfactuals=x_cf,
        converged=converged,
        n_iter=n_iter,
        target_proba=proba,
        nascent=nascent,
        path=path,
    )
