"""The batched gradient search shared by counterfactual training and the explainers.

All rows are searched together as one tensor. Each row stops as soon as the model's
softmax probability of its target reaches the decision threshold ``tau`` (or after
``max_iter`` steps); stopped rows are dropped from the active set, so converged rows cost
nothing. Every step is one forward/backward pass over the active rows: no Python loop runs
per sample.

Per step, for the active rows (reference semantics, spec section 2.1):

1. ``delta = -step_size * grad`` of the generator's per-row objective (NaN -> 0);
2. for feature-space generators, ``delta`` is masked per mutability direction
   (``increase``: max(delta, 0), ``decrease``: min(delta, 0), ``none``: 0);
3. the new iterate is clamped to per-row bounds that combine the domain with mutability
   relative to the factual (:func:`sklearn_ct._constraints.row_bounds`), so the
   constraints hold exactly after every step, also for latent-space generators;
4. the *nascent* counterfactual (the last iterate within an L-inf ball of radius
   ``epsilon`` around the factual; CT's adversarial example) is updated in place, so the
   path is never stored unless asked for.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ._constraints import row_bounds
from ._utils import eval_mode


@dataclass
class SearchResult:
    """Outcome of a batched counterfactual search (all tensors on the search device).

    Parameters
    ----------
    counterfactuals : torch.Tensor of shape (n, n_features)
        Final iterates.
    converged : torch.Tensor of bool, shape (n,)
        Whether the target probability reached the threshold (at the final iterate).
    n_iter : torch.Tensor of int64, shape (n,)
        Steps taken per row.
    target_proba : torch.Tensor of shape (n,)
        Softmax probability of the target at the final iterate.
    nascent : torch.Tensor of shape (n, n_features) or None
        Last iterate with ``||x' - x||_inf <= epsilon`` (the factual itself if the first
        step already leaves the ball); ``None`` when no ``epsilon`` was given.
    path : torch.Tensor of shape (max_iter + 1, n, n_features) or None
        All iterates (rows that stopped repeat their final value); only when requested.
    """

    counterfactuals: torch.Tensor
    converged: torch.Tensor
    n_iter: torch.Tensor
    target_proba: torch.Tensor
    nascent: torch.Tensor = None
    path: torch.Tensor = None


def _mask_step(delta, can_increase, can_decrease):
    # Gradient masking per direction, as in the reference: a feature that may only increase
    # keeps only positive steps, so its path is monotone (not just its end point).
    return torch.where(
        delta > 0, delta * can_increase.to(delta.dtype), delta * can_decrease.to(delta.dtype)
    )


def search_counterfactuals(
    module,
    x,
    target,
    generator,
    *,
    max_iter=30,
    decision_threshold=0.5,
    step_size=0.1,
    lower=None,
    upper=None,
    can_increase=None,
    can_decrease=None,
    epsilon=None,
    return_path=False,
):
    """Search counterfactuals for a batch of factuals with one batched gradient descent.

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
    max_iter : int, default=30
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
        Also return every iterate (memory ``O(max_iter * n * n_features)``).

    Returns
    -------
    result : SearchResult
    """
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

    state = generator.init_state(x).detach()
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
    s_act, x_act, t_act, cf_act = state, x, target, x
    low_act, high_act = low, high
    if generator.latent_space:
        # A latent search evaluates, and returns, decoded points within the bounds; the
        # decoder need not reproduce the factual, so a row that stops at step 0 returns
        # its bounded decoded point, not the factual.
        with torch.no_grad():
            cf_act = generator.decode(state)
            if bounded:
                cf_act = torch.clamp(cf_act, low, high)
    nascent_act = x.clone() if epsilon is not None else None
    stopped, n_stopped = None, 0
    # The working copies are updated in place once they are the search's own tensors
    # (not the caller's factuals or the generator's initial state): large searches are
    # dominated by memory traffic, and fresh (n, d) temporaries cost page faults.
    owned = False
    buffer = torch.empty_like(x) if epsilon is not None else None

    def _finish(sel, p, done, t):
        # Write back the working rows ``sel`` (bool mask, None for all) that stop after
        # ``t`` steps.
        if sel is None:
            idx, p_sel, done_sel, cf_sel = rows, p, done, cf_act
            nascent_sel = nascent_act
        else:
            where = sel.nonzero().squeeze(1)
            idx, p_sel, done_sel, cf_sel = rows[where], p[where], done[where], cf_act[where]
            nascent_sel = None if nascent_act is None else nascent_act[where]
        proba[idx] = p_sel
        converged[idx] = done_sel
        n_iter[idx] = t
        x_cf[idx] = cf_sel
        if nascent is not None:
            nascent[idx] = nascent_sel

    with eval_mode(module):
        for t in range(max_iter + 1):
            if rows.numel() == n_stopped:
                break
            last = t == max_iter
            s = s_act.detach().requires_grad_(not last)
            with torch.set_grad_enabled(not last):
                xa = generator.decode(s)
                if generator.latent_space and bounded:
                    # Judge convergence on the bounded point that is returned, not on the
                    # raw decoded one.
                    xa = torch.clamp(xa, low_act, high_act)
                logits = module(xa)
            with torch.no_grad():
                p = F.softmax(logits, dim=1).gather(1, t_act.unsqueeze(1)).squeeze(1)
                done = p >= decision_threshold
                if stopped is not None:
                    done &= ~stopped
            n_done = int(done.sum())
            if last or n_done + n_stopped == rows.numel():
                _finish(None if stopped is None else ~stopped, p, done, t)
                break
            if n_done:
                _finish(done, p, done, t)
                stopped = done if stopped is None else stopped | done
                n_stopped += n_done
            loss = generator.objective(logits, t_act, xa, x_act, t, max_iter)
            # Summing per-row objectives gives every row the gradient of its own
            # objective: rows never interact, whatever the batch size.
            (grad,) = torch.autograd.grad(loss.sum(), s)
            s_old = s.detach()
            if n_stopped and 8 * n_stopped >= rows.numel():
                keep = ~stopped
                rows, grad, s_old, x_act, t_act = (
                    rows[keep], grad[keep], s_old[keep], x_act[keep], t_act[keep]
                )
                if per_row_bounds:
                    low_act, high_act = low_act[keep], high_act[keep]
                if nascent_act is not None:
                    nascent_act = nascent_act[keep]
                stopped, n_stopped = None, 0
                owned = True
            # delta = nan_to_num(-step_size * grad), computed in the gradient's memory
            # (autograd returns a fresh tensor; an expanded one is copied first).
            delta = grad if grad.is_contiguous() else grad.contiguous()
            delta = delta.mul_(-step_size).nan_to_num_(nan=0.0)
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
            s_act = new_state if generator.latent_space else new_x
            cf_act = new_x
            if nascent_act is not None:
                diff = torch.sub(new_x, x_act, out=buffer[: new_x.shape[0]])
                inside = (diff.abs_().amax(dim=1) <= epsilon).nonzero().squeeze(1)
                if inside.numel() == new_x.shape[0]:
                    nascent_act.copy_(new_x)
                elif inside.numel():
                    nascent_act.index_copy_(0, inside, new_x.index_select(0, inside))
            if path is not None:
                snapshot = x_cf.clone()
                running = ~stopped if stopped is not None else slice(None)
                snapshot[rows[running]] = cf_act[running]
                path.append(snapshot)

    if path is not None:
        while len(path) < max_iter + 1:
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
