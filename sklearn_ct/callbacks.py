"""skorch callbacks that drive counterfactual training.

These are **skorch** callbacks (``skorch.callbacks.Callback``), not scikit-learn's
``sklearn.callback`` objects. :class:`~sklearn_ct.CTClassifier` installs them itself; extra
skorch callbacks (early stopping, checkpoints, learning-rate schedules) can be passed through
its ``callbacks`` parameter. :class:`SGLDSampling` and :class:`PGDExamples` (defined in
``sklearn_ct._sampling``) feed the alternatives ``objective="jem"`` and ``objective="pgd"``.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import math
import time
import warnings

import numpy as np
import torch
from skorch.callbacks import Callback

from ._losses import POOL_INPUTS, protect_immutable
from ._sampling import PGDExamples, SGLDSampling
from ._utils import DEPRECATED, eval_mode, renamed_max_iter

__all__ = ["CounterfactualGeneration", "PGDExamples", "SGLDSampling"]


def split_sizes(n_items, n_chunks):
    """Sizes of ``n_chunks`` contiguous, near-equal chunks of ``n_items`` items.

    The first ``n_items % n_chunks`` chunks get one extra item (the reference's
    ``split_obs``).
    """
    base, extra = divmod(n_items, n_chunks)
    return [base + (i < extra) for i in range(n_chunks)]


class CounterfactualGeneration(Callback):
    """Generate the epoch's counterfactual pool and hand each mini-batch its chunk.

    At the start of every epoch after the burn-in (reference ``generate!``, spec 1.3):

    1. draw ``n_counterfactuals`` training rows without replacement;
    2. draw each row's target uniformly from the classes other than its current
       prediction (start-of-epoch weights);
    3. run one batched search (the generator's
       :meth:`~sklearn_ct.generators.BaseGenerator.generate`) and keep the nascent
       counterfactual (last iterate within ``adversarial_epsilon`` in L-inf), labelled
       with the factual's true label;
    4. draw one positive sample ``x+`` per counterfactual from the training rows whose
       true label is the target; counterfactuals that did not reach the threshold are
       replaced by their ``x+`` (zero energy differential);
    5. protect constrained features in ``x+`` (point-mass rule);
    6. split the pool into contiguous chunks, one per mini-batch of the epoch.

    The callback sets ``net.cf_batch_`` (a dict of tensors, or None) before each training
    batch; :class:`sklearn_ct._net.CTNet` reads it.

    Parameters
    ----------
    generator : BaseGenerator
        Fitted generator (objective of the search).
    n_classes : int
        Number of classes.
    n_counterfactuals : int
        Pool size per epoch; raised to the number of mini-batches if smaller (at least one
        counterfactual per batch, as in the reference) and capped at the number of rows.
    burnin_epochs : int, default=0
        Epochs of plain training before the first pool.
    max_steps : int, default=30
        Search budget ``T``.
    decision_threshold : float, default=0.5
        Threshold ``tau`` a counterfactual must reach to be mature.
    step_size : float, default=0.1
        Search step size.
    adversarial_epsilon : float, default=0.3
        L-inf radius for the nascent counterfactual.
    domain : ndarray of shape (n_features, 2), default=None
        Domain bounds.
    can_increase, can_decrease : ndarray of bool, shape (n_features,), default=None
        Mutability masks.
    random_state : int, default=0
        Seed of the pool's random draws.
    refresh_steps : int or None, default=None
        Minimum number of training steps (mini-batches) between two pools. None draws a new
        pool at the start of every epoch (the reference). Otherwise a pool is kept, and
        handed out again chunk by chunk, until at least this many steps have used it, so
        that small data sets (few mini-batches per epoch) do not spend most of their time
        searching: the staleness of a pool is then bounded in optimizer steps, as it is
        for the reference on its own data sets (one pool per 10-100 steps).
    groups : sequence of Group, default=()
        One-hot groups, projected onto valid one-hot vectors after every search step.
    max_iter : int
        Deprecated alias of ``max_steps``.

    Notes
    -----
    The random draws continue across consecutive ``partial_fit`` calls of the same net
    (they are seeded once, when skorch initializes the callback, not at every call), so
    a net trained in segments never repeats a pool; a segment starts with a new pool.
    """

    def __init__(
        self,
        generator,
        n_classes,
        n_counterfactuals,
        *,
        burnin_epochs=0,
        max_steps=30,
        decision_threshold=0.5,
        step_size=0.1,
        adversarial_epsilon=0.3,
        domain=None,
        can_increase=None,
        can_decrease=None,
        random_state=0,
        refresh_steps=None,
        groups=(),
        max_iter=DEPRECATED,
    ):
        self.generator = generator
        self.n_classes = n_classes
        self.n_counterfactuals = n_counterfactuals
        self.burnin_epochs = burnin_epochs
        self.max_steps = max_steps
        self.decision_threshold = decision_threshold
        self.step_size = step_size
        self.adversarial_epsilon = adversarial_epsilon
        self.domain = domain
        self.can_increase = can_increase
        self.can_decrease = can_decrease
        self.random_state = random_state
        self.refresh_steps = refresh_steps
        self.groups = groups
        self.max_iter = max_iter

    def initialize(self):
        """Seed the pool's draws and reset the epoch and step counters (once per net).

        Returns
        -------
        self : CounterfactualGeneration
        """
        self.rng_ = np.random.default_rng(self.random_state)
        self.epoch_ = 0
        self.steps_used_ = None
        self.chunks_ = None
        self.last_pool_ = None
        return super().initialize()

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.max_steps_ = renamed_max_iter(self.max_steps, self.max_iter,
                                           type(self).__name__)
        device = net.device
        if not hasattr(self, "rng_"):  # used without skorch's initialize()
            self.initialize()
        self.X_ = torch.as_tensor(np.asarray(X), dtype=torch.float32, device=device)
        y = np.asarray(y)
        self.y_ = torch.as_tensor(y, dtype=torch.long, device=device)
        self.class_rows_ = [np.flatnonzero(y == c) for c in range(self.n_classes)]
        d = self.X_.shape[1]
        dom = np.tile([-np.inf, np.inf], (d, 1)) if self.domain is None else self.domain
        self.lower_ = torch.as_tensor(dom[:, 0], dtype=torch.float32, device=device)
        self.upper_ = torch.as_tensor(dom[:, 1], dtype=torch.float32, device=device)
        ones = np.ones(d, dtype=bool)
        inc = ones if self.can_increase is None else self.can_increase
        dec = ones if self.can_decrease is None else self.can_decrease
        self.can_increase_ = torch.as_tensor(inc, dtype=torch.bool, device=device)
        self.can_decrease_ = torch.as_tensor(dec, dtype=torch.bool, device=device)
        if self.last_pool_ is not None:
            # A pool kept across partial_fit calls returns to the training device.
            self.last_pool_ = {k: v.to(device) for k, v in self.last_pool_.items()}

    def on_train_end(self, net, **kwargs):
        # Never keep training data (or the pool) inside a fitted, picklable estimator.
        self.X_ = self.y_ = self.chunks_ = None
        self.steps_used_ = None
        net.cf_batch_ = None
        # The last pool stays on the training device during the fit (no per-epoch copies);
        # a host copy is kept for inspection.
        if self.last_pool_ is not None:
            self.last_pool_ = {k: v.cpu() for k, v in self.last_pool_.items()}

    # -- the pool: how factuals, targets and positives are drawn -----------------------

    def _draw_factuals(self, n_batches):
        """Training rows to explain: ``n_counterfactuals`` without replacement.

        Raised to ``n_batches`` (at least one counterfactual per mini-batch) and capped at
        the number of rows.
        """
        n = self.X_.shape[0]
        n_cf = min(n, max(self.n_counterfactuals, n_batches))
        return torch.as_tensor(self.rng_.choice(n, size=n_cf, replace=False),
                               device=self.X_.device)

    def _draw_targets(self, predicted):
        """Uniform over the classes other than each row's prediction."""
        # Shift by 1..K-1 (mod K).
        shift = torch.as_tensor(
            self.rng_.integers(1, self.n_classes, size=predicted.shape[0]),
            device=predicted.device,
        )
        return (predicted + shift) % self.n_classes

    def _draw_positives(self, target):
        """One random training row of each row's target class (ground-truth labels)."""
        target = target.cpu().numpy()
        rows = np.empty(target.shape[0], dtype=np.int64)
        for c in range(self.n_classes):
            where = np.flatnonzero(target == c)
            if where.size:
                pool = self.class_rows_[c]
                rows[where] = pool[self.rng_.integers(0, pool.size, size=where.size)]
        return self.X_[torch.as_tensor(rows, device=self.X_.device)]

    def generate_pool(self, net, n_batches):
        """Draw the epoch's factuals, targets and positives, and run the search.

        Parameters
        ----------
        net : CTNet
            The network being trained.
        n_batches : int
            Number of mini-batches of the epoch (the pool has at least one row per batch).

        Returns
        -------
        pool : dict of torch.Tensor
            ``index`` (rows drawn), ``predicted``, ``target``, ``x_cf`` (mature
            counterfactuals, or the positive sample), ``x_pos`` (protected positives),
            ``x_ae`` (nascent counterfactuals), ``y_ae`` (their labels), ``mature``,
            ``n_iter``.
        """
        idx = self._draw_factuals(n_batches)
        x0, y_true = self.X_[idx], self.y_[idx]
        module = net.module_
        with torch.no_grad(), eval_mode(module):
            y_hat = module(x0).argmax(dim=1)
        target = self._draw_targets(y_hat)
        result = self.generator.generate(
            module,
            x0,
            target,
            max_steps=self.max_steps_,
            decision_threshold=self.decision_threshold,
            step_size=self.step_size,
            lower=self.lower_,
            upper=self.upper_,
            can_increase=self.can_increase_,
            can_decrease=self.can_decrease_,
            epsilon=self.adversarial_epsilon,
            # Real categories in every iterate: only passed with groups, so that a search
            # without them is the same call as before.
            **({"groups": self.groups, "project_groups": True} if self.groups else {}),
        )
        x_pos = self._draw_positives(target)
        mature = result.converged
        x_cf = torch.where(mature.unsqueeze(1), result.counterfactuals, x_pos)
        x_pos = protect_immutable(x_pos, x_cf, self.can_increase_, self.can_decrease_)
        return {
            "index": idx,
            "predicted": y_hat,
            "target": target,
            "x_cf": x_cf,
            "x_pos": x_pos,
            "x_ae": result.nascent,
            "y_ae": y_true,
            "mature": mature,
            "n_iter": result.n_iter,
        }

    def _pool_is_fresh(self, n_batches):
        """Whether the current pool may serve another epoch of ``n_batches`` steps."""
        if self.refresh_steps is None or self.chunks_ is None or self.steps_used_ is None:
            return False
        return self.steps_used_ < self.refresh_steps and len(self.chunks_) == n_batches

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        self.epoch_ += 1
        self.batch_idx_ = 0
        if self.epoch_ <= self.burnin_epochs:
            self.chunks_ = None
            for key in ("cf_mature", "cf_iter", "cf_time"):
                net.history.record(key, None)
            return
        n_batches = max(1, math.ceil(len(dataset_train) / net.batch_size))
        if self._pool_is_fresh(n_batches):
            # Reuse the pool: the same chunks go to the same positions of the epoch.
            self.steps_used_ += n_batches
            pool = self.last_pool_
            net.history.record("cf_mature", float(pool["mature"].float().mean()))
            net.history.record("cf_iter", float(pool["n_iter"].float().mean()))
            net.history.record("cf_time", 0.0)
            return
        tic = time.perf_counter()
        self.steps_used_ = n_batches
        pool = self.generate_pool(net, n_batches)
        sizes = split_sizes(pool["x_cf"].shape[0], n_batches)
        keys = ("target", "x_cf", "x_pos", "x_ae", "y_ae")
        parts = {k: torch.split(pool[k], sizes) for k in keys}
        self.chunks_ = [{k: parts[k][i] for k in keys} for i in range(n_batches)]
        for chunk in self.chunks_:
            # The targets of the positives and counterfactuals, stacked as the training
            # step gathers them (one index tensor per chunk and epoch, not per step).
            chunk["target_pair"] = torch.cat([chunk["target"], chunk["target"]]).unsqueeze(1)
            # The pool rows of the chunk, stacked in the order the step evaluates them.
            chunk["x_pool"] = torch.cat([chunk[k] for k in POOL_INPUTS])
        self.last_pool_ = pool
        net.history.record("cf_mature", float(pool["mature"].float().mean()))
        net.history.record("cf_iter", float(pool["n_iter"].float().mean()))
        net.history.record("cf_time", time.perf_counter() - tic)

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training and self.chunks_ is not None and self.batch_idx_ < len(self.chunks_):
            net.cf_batch_ = self.chunks_[self.batch_idx_]
            self.batch_idx_ += 1
        else:
            net.cf_batch_ = None

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        net.cf_batch_ = None

    def __getstate__(self):
        state = self.__dict__.copy()
        # Large per-fit tensors are not part of a fitted model.
        for key in ("X_", "y_", "chunks_", "last_pool_"):
            state.pop(key, None)
        return state


class _TrainingMetrics(Callback):
    """Deprecated: the CT network records its metrics itself (nothing to do here)."""

    def __init__(self):
        warnings.warn(
            "TrainingMetrics is deprecated since 0.1 and will be removed in 0.3: the CT "
            "network records train_acc, the loss terms and n_skipped itself (skorch's "
            "history.record_batch and PassthroughScoring); this callback does nothing.",
            FutureWarning,
            stacklevel=2,
        )


def __getattr__(name):
    # Deprecated names (PEP 562).
    if name == "TrainingMetrics":
        return _TrainingMetrics
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
