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
    lower = -inf if lower is None else lower.to(device=device, dtype=dtype)
    upper = inf if upper is None else upper.to(device=device, dtype=dtype)
    low, high = row_bounds(x, lower, upper, can_increase, can_decrease)
    mask_steps = not generator.latent_space and not bool((can_increase & can_decrease).all())

    state = generator.init_state(x).detach()
    x_cf = x.clone()
    n_iter = torch.zeros(n, dtype=torch.long, device=device)
    converged = torch.zeros(n, dtype=torch.bool, device=device)
    proba = torch.zeros(n, dtype=dtype, device=device)
    nascent = x.clone() if epsilon is not None else None
    path = [x_cf.clone()] if return_path else None
    active = torch.arange(n, device=device)

    was_training = module.training
    module.eval()
    try:
        for t in range(max_iter + 1):
            if active.numel() == 0:
                break
            last = t == max_iter
            s = state[active].requires_grad_(not last)
            with torch.set_grad_enabled(not last):
                xa = generator.decode(s)
                logits = module(xa)
                p = F.softmax(logits, dim=1).gather(1, target[active].unsqueeze(1)).squeeze(1)
                done = p.detach() >= decision_threshold
                proba[active] = p.detach()
                converged[active[done]] = True
                if last or bool(done.all()):
                    break
                keep = ~done
                loss = generator.objective(logits, target[active], xa, x[active], t, max_iter)
                # Summing per-row objectives gives every row the gradient of its own
                # objective: rows never interact, whatever the batch size.
                (grad,) = torch.autograd.grad(loss[keep].sum(), s)
            idx = active[keep]
            delta = torch.nan_to_num(-step_size * grad[keep], nan=0.0)
            if mask_steps:
                delta = _mask_step(delta, can_increase, can_decrease)
            new_state = s.detach()[keep] + delta
            new_x = generator.decode(new_state).detach()
            new_x = torch.clamp(new_x, low[idx], high[idx])
            if generator.latent_space:
                state[idx] = new_state
            else:
                state[idx] = new_x
            x_cf[idx] = new_x
            n_iter[idx] += 1
            if nascent is not None:
                inside = (new_x - x[idx]).abs().amax(dim=1) <= epsilon
                nascent[idx[inside]] = new_x[inside]
            if path is not None:
                path.append(x_cf.clone())
            active = idx
    finally:
        module.train(was_training)

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
