"""Black-box counterfactual generators, which only need ``predict_proba``."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from .._constraints import row_bounds
from .._utils import SEED_MAX


@dataclass
class BlackBoxResult:
    """Outcome of a black-box search (NumPy arrays, one entry per row).

    Parameters
    ----------
    counterfactuals : ndarray of shape (n, n_features)
        Returned points (model space).
    converged : ndarray of bool, shape (n,)
        Whether a point reaching the decision threshold was found.
    n_iter : ndarray of int, shape (n,)
        Search iterations (sampled shells) per row.
    target_proba : ndarray of shape (n,)
        Target probability at the returned point.
    """

    counterfactuals: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    target_proba: np.ndarray


class BaseBlackBoxGenerator(BaseEstimator):
    """Base class of generators that need only the model's ``predict_proba``.

    Unlike gradient generators (:class:`~sklearn_ct.BaseGenerator`), which define an
    objective for the shared gradient search, a black-box generator runs its own
    (vectorised) search in :meth:`generate`. Such generators explain any classifier,
    including non-differentiable ones such as random forests.
    """

    def fit(self, X, y=None):
        """Learn data-dependent state from training data (nothing by default).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Training data in model space.
        y : ndarray of shape (n_samples,), default=None
            Encoded labels.

        Returns
        -------
        self : object
            Fitted generator.
        """
        return self

    def generate(self, predict_proba, x, target, *, max_iter, decision_threshold, lower,
                 upper, can_increase, can_decrease, groups=()):  # pragma: no cover
        """Search counterfactuals for a batch of factuals (to be implemented).

        Parameters
        ----------
        predict_proba : callable
            Maps an array of shape (m, n_features) to class probabilities.
        x : ndarray of shape (n, n_features)
            Factuals (model space).
        target : ndarray of int, shape (n,)
            Target class indices.
        max_iter : int
            Iteration budget.
        decision_threshold : float
            Target probability a counterfactual must reach.
        lower, upper : ndarray of shape (n_features,)
            Domain bounds.
        can_increase, can_decrease : ndarray of bool, shape (n_features,)
            Mutability masks; every returned point must respect them and the bounds.
        groups : sequence of Group, default=()
            One-hot groups, which must stay valid one-hot vectors.

        Returns
        -------
        result : BlackBoxResult
            Counterfactuals and per-row diagnostics.
        """
        raise NotImplementedError


def _row_bounds(x, lower, upper, can_increase, can_decrease):
    # The same rule as the gradient search (one source of truth): mutability takes
    # precedence over the domain, relative to each factual.
    low, high = row_bounds(*(torch.as_tensor(np.asarray(a)) for a in
                             (x, lower, upper, can_increase, can_decrease)))
    return low.numpy(), high.numpy()


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
    >>> from sklearn_ct.explainers import CounterfactualExplainer, GrowingSpheresGenerator
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

    def fit(self, X, y=None):
        """Learn the per-feature scale of the sampling.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Training data in model space.
        y : ndarray of shape (n_samples,), default=None
            Ignored.

        Returns
        -------
        self : object
            Fitted generator.
        """
        self._validate_params()
        X = np.asarray(X, dtype=np.float64)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def generate(self, predict_proba, x, target, *, max_iter, decision_threshold, lower,
                 upper, can_increase, can_decrease, groups=()):
        """Search counterfactuals for a batch of factuals.

        Parameters
        ----------
        predict_proba : callable
            Maps an array of shape (m, n_features) to class probabilities (m, n_classes).
        x : ndarray of shape (n, n_features)
            Factuals (model space).
        target : ndarray of int, shape (n,)
            Target class indices.
        max_iter : int
            Maximum number of sampled balls and shells per row.
        decision_threshold : float
            A candidate is a counterfactual when its target probability reaches this.
        lower, upper : ndarray of shape (n_features,)
            Domain bounds.
        can_increase, can_decrease : ndarray of bool, shape (n_features,)
            Mutability masks.
        groups : sequence of Group, default=()
            One-hot groups among the columns.

        Returns
        -------
        result : BlackBoxResult
            Counterfactuals (the closest target-class point found, after the sparsity
            step; for rows where none was found, the candidate with the highest target
            probability), with per-row convergence, iterations and target probability.
        """
        if not hasattr(self, "scale_"):
            raise RuntimeError("GrowingSpheresGenerator needs to be fitted "
                               "(generator.fit(X)) before it can search.")
        x = np.asarray(x, dtype=np.float64)
        n, d = x.shape
        out = BlackBoxResult(x.copy(), np.zeros(n, dtype=bool), np.zeros(n, dtype=int),
                             np.zeros(n))
        if n == 0:
            return out
        seed = int(check_random_state(self.random_state).randint(SEED_MAX))
        plan = _Plan(self, d, lower, upper, can_increase, can_decrease, groups, seed)
        # Rows are processed in chunks only to bound memory (rows x candidates x features).
        chunk = max(1, int(4_000_000 // max(1, self.n_candidates * d)))
        for start in range(0, n, chunk):
            sl = slice(start, start + chunk)
            res = plan.run(predict_proba, x[sl], target[sl], max_iter, decision_threshold)
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

    def run(self, predict_proba, x, target, max_iter, tau):
        gen = self.gen
        m, d = x.shape
        rows = np.arange(m)
        low, high = _row_bounds(x, self.lower, self.upper, self.can_inc, self.can_dec)
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
        for it in range(max_iter):
            act = np.flatnonzero(~done)
            if act.size == 0:
                break
            r_in = np.where(shrinking[act], 0.0, a0[act])
            r_out = np.where(shrinking[act], eta[act], a0[act] + eta[act])
            cand = self._candidates(x[act], low[act], high[act], r_in, r_out, it)
            M = cand.shape[1]
            proba = predict_proba(cand.reshape(-1, d))
            pt = proba.reshape(act.size, M, -1)[
                np.arange(act.size)[:, None], np.arange(M)[None, :], target[act][:, None]]
            n_iter[act] += 1
            dist = np.sqrt(((((cand - x[act][:, None, :]) / self.scale)) ** 2).sum(-1))
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
            # Phase transitions (Laugel et al.): halve the ball while it holds target
            # points, then grow shells of width eta until one does.
            shr = shrinking[act]
            halve = shr & has & (halvings[act] < gen.max_halvings)
            eta[act[halve]] /= 2.0
            halvings[act[halve]] += 1
            to_grow = shr & ~halve
            a0[act[to_grow & ~has]] = eta[act[to_grow & ~has]]
            shrinking[act[to_grow]] = False
            done[act[to_grow & has]] = True     # halving budget spent; keep the best
            grow = ~shr
            done[act[grow & has]] = True
            a0[act[grow & ~has]] += eta[act[grow & ~has]]
        if gen.sparse:
            best, best_p = self._sparsify(predict_proba, x, best, best_p, target, found, tau)
        return BlackBoxResult(best, found, n_iter, best_p)

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
