"""Growing Spheres: the black-box generator, which only needs the model's probabilities."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from torch import nn

from .._constraints import row_bounds
from .._model import resolve_model
from .._utils import DEPRECATED, SEED_MAX, renamed_max_iter
from ._base import BaseBlackBoxGenerator, SearchResult


class GrowingSpheresGenerator(BaseBlackBoxGenerator):
    """Growing Spheres: model-agnostic counterfactuals by sampling growing shells.

    Growing Spheres (Laugel et al., 2018) draws candidate points uniformly in spheres
    around the factual: first in a ball whose radius is halved while it still contains
    points of the target class, then in shells of growing radius until one does. The
    closest such point is kept, and a feature-selection step then resets changed features
    to their factual values, smallest change first, as long as the target is still
    reached (sparsity). It only calls ``predict_proba``, so it explains any classifier.

    All rows are searched together: each iteration evaluates the candidates of every
    active row in one ``predict_proba`` call. Distances are measured in units of each
    feature's standard deviation in the training data (learnt by :meth:`fit`), and the
    same random candidate directions are used by every row at a given iteration, so a
    row's result does not depend on the other rows of the batch.

    Constraints: immutable features are never sampled; monotone features only move in
    their allowed direction; candidates are clipped to the domain; a one-hot group is one
    coordinate of the sphere and switches to another category (uniformly drawn) when its
    displacement exceeds ``sqrt(2) / 2``, half the distance between two categories.

    Parameters
    ----------
    n_candidates : int, default=200
        Candidates drawn per row and iteration.
    first_radius : float, default=1.0
        Radius of the first ball, in standard deviations; it is also the width of the
        growing shells (after halving).
    max_halvings : int, default=10
        Maximum number of times the first radius is halved.
    sparse : bool, default=True
        Run the feature-selection step.
    random_state : int, RandomState instance or None, default=None
        Seeds the candidate draws. The explainer sets it from its own ``random_state``
        when left None.

    Attributes
    ----------
    scale_ : ndarray of shape (n_features,)
        Per-feature standard deviation of the training data (1 for constant features).

    See Also
    --------
    sklearn_ct.GenericGenerator : Gradient-based search for differentiable models.

    References
    ----------
    Laugel, Lesot, Marsala, Renard and Detyniecki (2018), "Comparison-based inverse
    classification for interpretability in machine learning", IPMU.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_ct.explainers import CounterfactualExplainer
    >>> from sklearn_ct.generators import GrowingSpheresGenerator
    >>> X, y = make_classification(200, n_features=4, random_state=0)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    >>> explainer = CounterfactualExplainer(
    ...     forest, generator=GrowingSpheresGenerator(), random_state=0).fit(X)
    >>> bool(explainer.explain(X[:5]).valid.all())
    True
    """

    _parameter_constraints = {
        "n_candidates": [Interval(numbers.Integral, 1, None, closed="left")],
        "first_radius": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_halvings": [Interval(numbers.Integral, 0, None, closed="left")],
        "sparse": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, n_candidates=200, first_radius=1.0, max_halvings=10, sparse=True,
                 random_state=None):
        self.n_candidates = n_candidates
        self.first_radius = first_radius
        self.max_halvings = max_halvings
        self.sparse = sparse
        self.random_state = random_state

    def _fit(self, X, y):
        # The per-feature scale of the sampling.
        std = np.asarray(X, dtype=np.float64).std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)

    def generate(self, model, x, target, *, max_steps=30, decision_threshold=0.5,
                 step_size=None, lower=None, upper=None, can_increase=None,
                 can_decrease=None, groups=(), epsilon=None, return_path=False,
                 n_per_row=1, diversity_weight=None, start=None, project_groups=None,
                 max_iter=DEPRECATED):
        """Search counterfactuals for a batch of factuals.

        Parameters
        ----------
        model : estimator, ModelAdapter or callable
            The model: anything :func:`~sklearn_ct._model.resolve_model` accepts, or a
            function mapping an array of shape (m, n_features) to class probabilities.
        x : ndarray of shape (n, n_features)
            Factuals (model space).
        target : ndarray of int, shape (n,)
            Target class indices.
        max_steps : int, default=30
            Maximum number of sampled balls and shells per row.
        decision_threshold : float, default=0.5
            A candidate is a counterfactual when its target probability reaches this.
        step_size : None
            Unused (there are no gradient steps).
        lower, upper : ndarray of shape (n_features,), default=None
            Domain bounds (unbounded when None).
        can_increase, can_decrease : ndarray of bool, shape (n_features,), default=None
            Mutability masks (all True when None).
        groups : sequence of Group, default=()
            One-hot groups among the columns.
        epsilon : None
            Unused: a sampled search has no path, hence no nascent counterfactual.
        return_path : bool, default=False
            Must be False (there is no path).
        n_per_row : int, default=1
            Candidates per factual: ``x`` and ``target`` hold each factual ``n_per_row``
            times in consecutive rows. The search then keeps, per factual, the
            ``n_per_row`` closest target-class points it sampled (then, for factuals
            with fewer, the most promising others), each made sparse on its own, and
            grows its shells until it has found that many.
        diversity_weight, start, project_groups : None
            Unused: sampled candidates are diverse by construction, the search starts at
            the factual, and categories are sampled as valid categories.
        max_iter : int
            Deprecated alias of ``max_steps``.

        Returns
        -------
        result : SearchResult
            Counterfactuals (the closest target-class point found, after the sparsity
            step; for rows where none was found, the candidate with the highest target
            probability), with per-row convergence, iterations and target probability
            (NumPy arrays).
        """
        max_steps = renamed_max_iter(max_steps, max_iter, f"{type(self).__name__}.generate")
        if return_path:
            raise ValueError(f"return_path=True is only available for gradient-based "
                             f"generators, not {type(self).__name__}.")
        if not hasattr(self, "scale_"):
            raise RuntimeError("GrowingSpheresGenerator needs to be fitted "
                               "(generator.fit(X)) before it can search.")
        # A probability function is used as it is; any model is asked through its adapter.
        predict_proba = (model if callable(model) and not isinstance(model, nn.Module)
                         else resolve_model(model).proba)
        x = np.asarray(x.detach().cpu() if torch.is_tensor(x) else x, dtype=np.float64)
        target = np.asarray(target.detach().cpu() if torch.is_tensor(target) else target)
        n, d = x.shape
        lower = np.full(d, -np.inf) if lower is None else lower
        upper = np.full(d, np.inf) if upper is None else upper
        ones = np.ones(d, dtype=bool)
        can_increase = ones if can_increase is None else can_increase
        can_decrease = ones if can_decrease is None else can_decrease
        out = SearchResult(x.copy(), np.zeros(n, dtype=bool), np.zeros(n, dtype=int),
                           np.zeros(n))
        if n == 0:
            return out
        seed = int(check_random_state(self.random_state).randint(SEED_MAX))
        plan = _Plan(self, d, lower, upper, can_increase, can_decrease, groups, seed)
        if n_per_row > 1:
            return plan.run_blocks(predict_proba, x, target, max_steps, decision_threshold,
                                   n_per_row)
        # Rows are processed in chunks only to bound memory (rows x candidates x features).
        chunk = max(1, int(4_000_000 // max(1, self.n_candidates * d)))
        for start in range(0, n, chunk):
            sl = slice(start, start + chunk)
            res = plan.run(predict_proba, x[sl], target[sl], max_steps, decision_threshold)
            for name in ("counterfactuals", "converged", "n_iter", "target_proba"):
                getattr(out, name)[sl] = getattr(res, name)
        return out


class _Plan:
    """Precomputed layout of one Growing Spheres search (units, masks, scales)."""

    def __init__(self, gen, d, lower, upper, can_increase, can_decrease, groups, seed):
        self.gen = gen
        self.d = d
        self.lower = np.asarray(lower, dtype=np.float64)
        self.upper = np.asarray(upper, dtype=np.float64)
        self.can_inc = np.asarray(can_increase, dtype=bool)
        self.can_dec = np.asarray(can_decrease, dtype=bool)
        self.seed = seed
        in_group = np.zeros(d, dtype=bool)
        # Free groups are sampled as one coordinate each; fixed ones never change.
        self.groups = []
        for g in groups:
            in_group[g.columns] = True
            if (self.can_inc[g.columns] | self.can_dec[g.columns]).all():
                self.groups.append(g)
        free = (self.can_inc | self.can_dec) & ~in_group
        self.cont = np.flatnonzero(free)
        scale = np.asarray(gen.scale_, dtype=np.float64).copy()
        scale[in_group] = 1.0
        self.scale = scale
        # Units (a continuous feature or a whole group) for the sparsity step.
        units = [np.array([j]) for j in self.cont] + [g.columns for g in self.groups]
        self.unit_mask = np.zeros((len(units), d), dtype=bool)
        for u, cols in enumerate(units):
            self.unit_mask[u, cols] = True
        self.dim = len(units)

    def _draws(self, it):
        rng = np.random.default_rng([self.seed, it])
        M = self.gen.n_candidates
        dirs = rng.standard_normal((M, max(self.dim, 1)))
        dirs /= np.maximum(np.linalg.norm(dirs, axis=1, keepdims=True), 1e-300)
        u = rng.random(M)
        v = rng.random((M, len(self.groups)))
        return dirs[:, : self.dim], u, v

    def _candidates(self, x, low, high, r_in, r_out, it):
        """Uniform candidates in the shells ``r_in <= |delta| <= r_out`` (per row)."""
        dirs, u, v = self._draws(it)
        dim = max(self.dim, 1)
        # Radius with density proportional to r^(dim-1) inside the shell, computed relative
        # to the outer radius to avoid overflow in high dimension.
        ratio = np.where(r_out > 0, r_in / np.where(r_out > 0, r_out, 1.0), 0.0) ** dim
        frac = ratio[:, None] + u[None, :] * (1.0 - ratio[:, None])
        radius = r_out[:, None] * frac ** (1.0 / dim)                     # (m, M)
        disp = radius[:, :, None] * dirs[None, :, :]                       # (m, M, dim)
        cand = np.repeat(x[:, None, :], dirs.shape[0], axis=1)             # (m, M, d)
        nc = self.cont.size
        if nc:
            step = disp[:, :, :nc] * self.scale[self.cont]
            inc_only = self.can_inc[self.cont] & ~self.can_dec[self.cont]
            dec_only = self.can_dec[self.cont] & ~self.can_inc[self.cont]
            step = np.where(inc_only, np.abs(step), np.where(dec_only, -np.abs(step), step))
            cand[:, :, self.cont] += step
        for k, g in enumerate(self.groups):
            switch = np.abs(disp[:, :, nc + k]) >= np.sqrt(0.5)            # (m, M)
            if not switch.any():
                continue
            block = x[:, g.columns]
            scores = np.column_stack([1.0 - block.sum(1), block]) if g.implicit else block
            current = scores.argmax(axis=1)                                # (m,)
            n_cat = scores.shape[1]
            if n_cat < 2:
                continue
            other = (current[:, None] + 1 + np.floor(v[None, :, k] * (n_cat - 1))
                     .astype(int)) % n_cat                                 # (m, M)
            new = np.where(switch, other, current[:, None])
            onehot = np.eye(n_cat)[new]                                    # (m, M, n_cat)
            cand[:, :, g.columns] = onehot[:, :, 1:] if g.implicit else onehot
        return np.clip(cand, low[:, None, :], high[:, None, :])

    def _shell(self, predict_proba, x, low, high, target, act, it, eta, a0, shrinking):
        """Candidates of the active rows' current ball or shell, their target
        probabilities and their scaled distances to the factual."""
        r_in = np.where(shrinking[act], 0.0, a0[act])
        r_out = np.where(shrinking[act], eta[act], a0[act] + eta[act])
        cand = self._candidates(x[act], low[act], high[act], r_in, r_out, it)
        M = cand.shape[1]
        pt = predict_proba(cand.reshape(-1, x.shape[1])).reshape(act.size, M, -1)[
            np.arange(act.size)[:, None], np.arange(M)[None, :], target[act][:, None]]
        dist = np.sqrt((((cand - x[act][:, None, :]) / self.scale) ** 2).sum(-1))
        return cand, pt, dist

    def _advance(self, act, has, enough, eta, a0, shrinking, halvings, done):
        """Phase transitions of the active rows (Laugel et al.), in place.

        While shrinking, the ball is halved as long as this iteration's candidates hold
        enough target points (``has``) and the halving budget lasts; then shells of
        width ``eta`` grow until enough target points have been found (``enough``).
        """
        shr = shrinking[act]
        halve = shr & has & (halvings[act] < self.gen.max_halvings)
        eta[act[halve]] /= 2.0
        halvings[act[halve]] += 1
        to_grow = shr & ~halve
        a0[act[to_grow & ~has]] = eta[act[to_grow & ~has]]
        shrinking[act[to_grow]] = False
        done[act[to_grow & has]] = True     # halving budget spent; keep the best
        grow = ~shr
        done[act[grow & enough]] = True
        a0[act[grow & ~enough]] += eta[act[grow & ~enough]]

    def run(self, predict_proba, x, target, max_steps, tau):
        gen = self.gen
        m = x.shape[0]
        rows = np.arange(m)
        low, high = row_bounds(x, self.lower, self.upper, self.can_inc, self.can_dec)
        p0 = predict_proba(x)[rows, target]
        best = x.copy()
        best_p = p0.copy()
        best_dist = np.where(p0 >= tau, 0.0, np.inf)
        found = p0 >= tau
        done = found.copy() | (self.dim == 0)
        n_iter = np.zeros(m, dtype=int)
        eta = np.full(m, float(gen.first_radius))
        a0 = np.zeros(m)
        shrinking = np.ones(m, dtype=bool)
        halvings = np.zeros(m, dtype=int)
        for it in range(max_steps):
            act = np.flatnonzero(~done)
            if act.size == 0:
                break
            cand, pt, dist = self._shell(predict_proba, x, low, high, target, act, it,
                                         eta, a0, shrinking)
            n_iter[act] += 1
            enemy = pt >= tau
            has = enemy.any(axis=1)
            j = np.where(enemy, dist, np.inf).argmin(axis=1)
            closer = has & (dist[np.arange(act.size), j] < best_dist[act])
            upd = act[closer]
            best[upd] = cand[closer, j[closer]]
            best_p[upd] = pt[closer, j[closer]]
            best_dist[upd] = dist[closer, j[closer]]
            found[act[has]] = True
            # Rows that never found the target keep their most promising candidate.
            jp = pt.argmax(axis=1)
            better = ~found[act] & (pt[np.arange(act.size), jp] > best_p[act])
            best[act[better]] = cand[better, jp[better]]
            best_p[act[better]] = pt[better, jp[better]]
            self._advance(act, has, has, eta, a0, shrinking, halvings, done)
        if gen.sparse:
            best, best_p = self._sparsify(predict_proba, x, best, best_p, target, found, tau)
        return SearchResult(best, found, n_iter, best_p)

    def run_blocks(self, predict_proba, x, target, max_steps, tau, k):
        """Search ``k`` candidates per factual; ``x`` repeats each factual ``k`` times."""
        n, d = x.shape
        if n % k:
            raise ValueError(f"The number of rows ({n}) must be a multiple of n_per_row "
                             f"({k}).")
        out = SearchResult(x.copy(), np.zeros(n, dtype=bool), np.zeros(n, dtype=int),
                           np.zeros(n))
        xf, tf = x[::k], target[::k]
        # Chunks of factuals bound the memory of (factuals x candidates x features).
        chunk = max(1, int(4_000_000 // max(1, self.gen.n_candidates * d)))
        for start in range(0, xf.shape[0], chunk):
            sl = slice(start, start + chunk)
            res = self._run_k(predict_proba, xf[sl], tf[sl], max_steps, tau, k)
            block = slice(start * k, (start + res.converged.shape[0]) * k)
            for name in ("counterfactuals", "converged", "n_iter", "target_proba"):
                getattr(out, name)[block] = getattr(res, name)
        return out

    def _run_k(self, predict_proba, x, target, max_steps, tau, k):
        """Growing Spheres keeping the ``k`` best candidates of every factual.

        A candidate's rank: valid ones (target probability ``>= tau``) first, closest
        first; then invalid ones, most probable first; empty slots last. The phases are
        those of :meth:`run`, with "the sphere holds a target point" read as "holds
        ``k``": the ball is halved while it holds ``k`` target-class candidates, and the
        shells grow until ``k`` have been found in all.
        """
        gen = self.gen
        m, d = x.shape
        low, high = row_bounds(x, self.lower, self.upper, self.can_inc, self.can_dec)
        p0 = predict_proba(x)[np.arange(m), target]
        pts = np.repeat(x[:, None, :], k, axis=1)                          # (m, k, d)
        prob = np.repeat(p0[:, None], k, axis=1)
        rank = np.full((m, k), 2.0)                                        # 2: empty
        key = np.zeros((m, k))
        rank[:, 0] = np.where(p0 >= tau, 0.0, 1.0)
        key[:, 0] = np.where(p0 >= tau, 0.0, -p0)
        done = (rank == 0).sum(axis=1) >= 1
        done |= self.dim == 0
        n_iter = np.zeros(m, dtype=int)
        eta = np.full(m, float(gen.first_radius))
        a0 = np.zeros(m)
        shrinking = np.ones(m, dtype=bool)
        halvings = np.zeros(m, dtype=int)
        for it in range(max_steps):
            act = np.flatnonzero(~done)
            if act.size == 0:
                break
            cand, pt, dist = self._shell(predict_proba, x, low, high, target, act, it,
                                         eta, a0, shrinking)
            n_iter[act] += 1
            enemy = pt >= tau
            # Merge the kept slots with this iteration's candidates; a stable sort keeps
            # earlier slots first on ties.
            all_pts = np.concatenate([pts[act], cand], axis=1)
            all_prob = np.concatenate([prob[act], pt], axis=1)
            all_rank = np.concatenate([rank[act], np.where(enemy, 0.0, 1.0)], axis=1)
            all_key = np.concatenate([key[act], np.where(enemy, dist, -pt)], axis=1)
            order = np.lexsort((all_key, all_rank), axis=-1)[:, :k]
            take = np.arange(act.size)[:, None]
            pts[act] = all_pts[take, order]
            prob[act] = all_prob[take, order]
            rank[act] = all_rank[take, order]
            key[act] = all_key[take, order]
            n_found = (rank[act] == 0).sum(axis=1)
            self._advance(act, enemy.sum(axis=1) >= k, n_found >= k, eta, a0, shrinking,
                          halvings, done)
        found = rank == 0
        flat_x = np.repeat(x, k, axis=0)
        best, best_p = pts.reshape(m * k, d), prob.reshape(m * k)
        if gen.sparse:
            best, best_p = self._sparsify(predict_proba, flat_x, best, best_p,
                                          np.repeat(target, k), found.reshape(-1), tau)
        return SearchResult(best, found.reshape(-1), np.repeat(n_iter, k), best_p)

    def _sparsify(self, predict_proba, x, best, best_p, target, found, tau):
        """Reset changed units to the factual, smallest change first, while still valid."""
        if self.dim == 0 or not found.any():
            return best, best_p
        rows = np.flatnonzero(found)
        cur = best[rows].copy()
        cur_p = best_p[rows].copy()
        change = np.abs((cur - x[rows]) / self.scale)                       # (r, d)
        unit_change = np.where(self.unit_mask[None, :, :], change[:, None, :], 0.0).max(-1)
        order = np.argsort(unit_change, axis=1, kind="stable")              # (r, U)
        for k in range(self.dim):
            u = order[:, k]
            moved = unit_change[np.arange(rows.size), u] > 0
            if not moved.any():
                continue
            reset = self.unit_mask[u] & moved[:, None]
            trial = np.where(reset, x[rows], cur)
            p = predict_proba(trial)[np.arange(rows.size), target[rows]]
            keep = moved & (p >= tau)
            cur[keep] = trial[keep]
            cur_p[keep] = p[keep]
        best = best.copy()
        best_p = best_p.copy()
        best[rows] = cur
        best_p[rows] = cur_p
        return best, best_p
