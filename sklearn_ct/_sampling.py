"""Negatives and adversarial examples for the objectives that search no counterfactuals.

Counterfactual Training (CT) borrows its two extra terms from two older families of
training methods, and :class:`~sklearn_ct.CTClassifier` offers those as objectives of their
own, so that CT can be compared with them by the same estimator and the same benchmark:

* ``objective="jem"``: joint energy-based training (JEM; Grathwohl et al., 2020). The
  energy differential and the energy ridge of CT's loss are kept, but their negatives are
  samples drawn by stochastic-gradient Langevin dynamics (SGLD) from the model's own
  class-conditional density ``p(x | y) ~ exp(logit_y(x))``, started from a persistent
  replay buffer, instead of counterfactuals of training rows (:class:`SGLDSampling`);
* ``objective="pgd"``: adversarial training with projected gradient descent (PGD; Madry
  et al., 2018). The adversarial loss of CT's objective is kept, but its examples are PGD
  attacks on the rows of each mini-batch in an L-inf ball, instead of nascent
  counterfactuals (:class:`PGDExamples`).

Both are skorch callbacks that, like :class:`~sklearn_ct.callbacks.CounterfactualGeneration`,
hand each training mini-batch its chunk of pool rows through ``net.cf_batch_``; the
training step (:class:`~sklearn_ct._net.CTNet`) and the loss
(:mod:`sklearn_ct._losses`) are the same for every objective. Unlike CT, which searches once
per epoch, both generate for every mini-batch, at the current weights, as JEM and PGD
training do.

The sampler and the attack are plain functions (:func:`sgld_step`, :func:`sgld_sample`,
:func:`pgd_examples`) and a small buffer class (:class:`ReplayBuffer`); all randomness comes
from a ``torch.Generator`` that the callbacks make at the start of every fit from their
``random_state`` (a seed drawn from the estimator's) and drop at its end, as the network
does with its ``shuffle_seed``.

References
----------
Grathwohl, Wang, Jacobsen, Duvenaud, Norouzi and Swersky (2020), "Your classifier is
secretly an energy based model and you should treat it like one", ICLR.

Welling and Teh (2011), "Bayesian learning via stochastic gradient Langevin dynamics",
ICML.

Madry, Makelov, Schmidt, Tsipras and Vladu (2018), "Towards deep learning models resistant
to adversarial attacks", ICLR.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import time

import numpy as np
import torch
import torch.nn.functional as F
from skorch.callbacks import Callback
from torch import nn

from ._modules import MLP
from ._utils import eval_mode

__all__ = ["PGDExamples", "ReplayBuffer", "SGLDSampling", "pgd_examples", "sgld_sample",
           "sgld_step"]

#: The objectives whose pool rows come from this module, and the callback of each.
SAMPLED_OBJECTIVES = ("jem", "pgd")


def _clamp(x, lower, upper):
    if lower is None and upper is None:
        return x
    return torch.clamp(x, lower, upper)


# Derivatives of the default MLP's activations, from the pre-activation ``z`` and the
# output ``a`` (GELU and ELU are left to autograd).
_DERIVATIVES = {
    nn.ReLU: lambda z, a: (z > 0).to(z.dtype),
    nn.Tanh: lambda z, a: 1.0 - a * a,
    nn.Sigmoid: lambda z, a: a * (1.0 - a),
}


def _closed_form_layers(module):
    """The layers of a default :class:`~sklearn_ct.MLP` whose input gradient is written by
    hand (Linear, ReLU/tanh/sigmoid, Dropout in eval mode), or None."""
    if type(module) is not MLP:
        return None
    layers = list(module.layers)
    for layer in layers:
        if isinstance(layer, nn.Dropout):
            if module.training:
                return None
        elif not isinstance(layer, nn.Linear) and type(layer) not in _DERIVATIVES:
            return None
    return layers


def _input_grad(module, x, logit_grad):
    """Gradient w.r.t. ``x`` of ``sum(logit_grad(logits) * logits)``, ``logit_grad`` held
    constant: the vector-Jacobian product of the module at ``x``.

    SGLD and PGD take 10-20 gradient steps per mini-batch on small networks, where
    autograd's bookkeeping costs several times the arithmetic. For the default MLP the
    product is written down by hand (one forward pass keeping the activations' derivatives,
    then the transposed layers in reverse order), which gives the same gradient as
    autograd (tested); any other module uses autograd. Rows never interact, so each row
    gets the gradient of its own term.
    """
    layers = _closed_form_layers(module)
    if layers is None:
        x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            logits = module(x)
            weight = logit_grad(logits.detach())
            (grad,) = torch.autograd.grad((logits * weight).sum(), x)
        return grad
    with torch.no_grad():
        h, backward = x, []
        for layer in layers:
            if isinstance(layer, nn.Linear):
                backward.append((True, layer.weight))
                h = F.linear(h, layer.weight, layer.bias)
            elif not isinstance(layer, nn.Dropout):
                out = layer(h)
                backward.append((False, _DERIVATIVES[type(layer)](h, out)))
                h = out
        grad = logit_grad(h)
        for linear, factor in reversed(backward):
            grad = grad @ factor if linear else grad * factor
    return grad


def _onehot(target, like):
    return torch.zeros_like(like).scatter_(1, target.unsqueeze(1), 1.0)


def sgld_step(module, x, target, *, step_size=1.0, noise_std=0.01, lower=None, upper=None,
              generator=None):
    """One step of stochastic-gradient Langevin dynamics on ``p(x | y) ~ exp(logit_y(x))``.

    ``x' = clamp(x + step_size / 2 * grad_x log p(x | y) + noise_std * eps)`` with
    ``eps ~ N(0, I)`` and ``grad_x log p(x | y) = grad_x logit_y(x) = -grad_x E(x, y)``
    for the energy ``E(x, y) = -logit_y(x)`` that CT uses. With ``noise_std**2 =
    step_size`` this is the Langevin step of Welling and Teh (2011); JEM decouples the two
    and uses a much smaller noise (step size 1, noise 0.01), which is the default.

    Parameters
    ----------
    module : torch.nn.Module
        Model returning logits; evaluated as it is (put it in eval mode first).
    x : torch.Tensor of shape (n, n_features)
        Current samples.
    target : torch.Tensor of int64, shape (n,)
        Class whose conditional density each row samples.
    step_size : float, default=1.0
        Step size ``alpha``; the drift is ``alpha / 2`` times the gradient.
    noise_std : float, default=0.01
        Standard deviation of the Gaussian noise.
    lower, upper : torch.Tensor of shape (n_features,), default=None
        Box the samples are clamped to after the step (no clamping when None).
    generator : torch.Generator, default=None
        Source of the noise (on ``x``'s device); None uses torch's global RNG.

    Returns
    -------
    x_new : torch.Tensor of shape (n, n_features)
        The samples after the step (detached).
    """
    # d logit_y / dx: the vector-Jacobian product with the one-hot vector of y.
    grad = _input_grad(module, x.detach(), lambda logits: _onehot(target, logits))
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    x_new = x.detach() + (0.5 * step_size) * grad + noise_std * noise
    return _clamp(x_new, lower, upper).detach()


def sgld_sample(module, x, target, *, n_steps=20, step_size=1.0, noise_std=0.01, lower=None,
                upper=None, generator=None):
    """Run ``n_steps`` SGLD steps (:func:`sgld_step`) from ``x``, in eval mode.

    Parameters
    ----------
    module : torch.nn.Module
        Model returning logits. It is put in eval mode for the chain and restored; its
        parameters receive no gradient.
    x : torch.Tensor of shape (n, n_features)
        Starting points.
    target : torch.Tensor of int64, shape (n,)
        Class of every chain.
    n_steps : int, default=20
        Number of steps (JEM: 20 per training iteration).
    step_size : float, default=1.0
        Step size (JEM: 1).
    noise_std : float, default=0.01
        Noise standard deviation (JEM: 0.01).
    lower, upper : torch.Tensor of shape (n_features,), default=None
        Box the chains are clamped to after every step.
    generator : torch.Generator, default=None
        Source of the noise.

    Returns
    -------
    samples : torch.Tensor of shape (n, n_features)
        The chains' final states (detached).
    """
    x = x.detach()
    with eval_mode(module):
        for _ in range(n_steps):
            x = sgld_step(module, x, target, step_size=step_size, noise_std=noise_std,
                          lower=lower, upper=upper, generator=generator)
    return x


class ReplayBuffer:
    """Persistent SGLD chains with a class each, reinitialised at a fixed rate (JEM).

    The buffer holds ``size`` samples, initialised uniformly in the box ``[lower, upper]``,
    with classes assigned round-robin so that every class has the same share of chains
    (JEM's class-conditional sampling). :meth:`draw` picks chains uniformly at random and
    restarts each, independently with probability ``reinit_rate``, from a fresh uniform
    point; :meth:`update` writes the chains back after sampling. Restarts keep the buffer
    from collapsing onto a few modes of the model's density.

    Parameters
    ----------
    size : int
        Number of stored chains (JEM: 10,000).
    n_classes : int
        Number of classes.
    lower, upper : torch.Tensor of shape (n_features,)
        Finite box of the uniform initialisation.
    reinit_rate : float, default=0.05
        Probability that a drawn chain restarts from uniform noise (JEM: 0.05).
    generator : torch.Generator, default=None
        Source of all random draws (on the box's device).

    Attributes
    ----------
    samples : torch.Tensor of shape (size, n_features)
        The chains.
    classes : torch.Tensor of int64, shape (size,)
        Class of every chain.
    """

    def __init__(self, size, n_classes, lower, upper, *, reinit_rate=0.05, generator=None):
        if not (torch.isfinite(lower).all() and torch.isfinite(upper).all()):
            raise ValueError("The replay buffer needs a finite box to draw uniform samples "
                             "from.")
        self.lower = lower
        self.upper = upper
        self.reinit_rate = float(reinit_rate)
        self.generator = generator
        self.samples = self.uniform(int(size))
        self.classes = torch.arange(int(size), device=lower.device) % int(n_classes)

    def uniform(self, n):
        """``n`` points drawn uniformly from the box.

        Parameters
        ----------
        n : int
            Number of points.

        Returns
        -------
        points : torch.Tensor of shape (n, n_features)
        """
        u = torch.rand((n, self.lower.shape[0]), generator=self.generator,
                       device=self.lower.device, dtype=self.lower.dtype)
        return self.lower + u * (self.upper - self.lower)

    def draw(self, n):
        """Starting points of ``n`` chains: buffer entries, some restarted from noise.

        Parameters
        ----------
        n : int
            Number of chains.

        Returns
        -------
        x : torch.Tensor of shape (n, n_features)
            Starting points.
        target : torch.Tensor of int64, shape (n,)
            Class of every chain.
        index : torch.Tensor of int64, shape (n,)
            Buffer positions of the chains (for :meth:`update`).
        reinit : torch.Tensor of bool, shape (n,)
            Which chains were restarted from uniform noise.
        """
        device = self.samples.device
        index = torch.randint(self.samples.shape[0], (n,), generator=self.generator,
                              device=device)
        reinit = torch.rand(n, generator=self.generator, device=device) < self.reinit_rate
        x = self.samples[index]
        x = torch.where(reinit.unsqueeze(1), self.uniform(n), x)
        return x, self.classes[index], index, reinit

    def update(self, index, x):
        """Write chains back to their buffer positions.

        Parameters
        ----------
        index : torch.Tensor of int64, shape (n,)
            Positions returned by :meth:`draw`.
        x : torch.Tensor of shape (n, n_features)
            The chains after sampling.
        """
        self.samples[index] = x.detach().to(self.samples.dtype)


def pgd_examples(module, x, y, *, epsilon, n_steps=10, step_size=None, random_start=True,
                 lower=None, upper=None, generator=None):
    """Adversarial examples by projected gradient ascent of the loss in an L-inf ball.

    From a uniform random point of the ball ``||x' - x||_inf <= epsilon`` (or from ``x``
    itself), ``n_steps`` times ``x' <- clamp(P(x' + step_size * sign(grad_x' CE(f(x'),
    y))))``, where ``P`` projects onto the ball and the clamp onto ``[lower, upper]``
    (Madry et al., 2018). Rows do not interact (summed loss, eval mode), so each row's
    example is the same in any batch.

    Parameters
    ----------
    module : torch.nn.Module
        Model returning logits. It is put in eval mode and restored; its parameters
        receive no gradient.
    x : torch.Tensor of shape (n, n_features)
        Clean inputs.
    y : torch.Tensor of int64, shape (n,)
        Their true labels.
    epsilon : float
        Radius of the ball.
    n_steps : int, default=10
        Number of signed gradient steps.
    step_size : float, default=None
        Size of each step; None uses ``2.5 * epsilon / n_steps`` (the rule of thumb of
        Madry et al.'s robustness library: enough to cross the ball from a random start).
    random_start : bool, default=True
        Start from a uniform random point of the ball (Madry et al.) rather than ``x``.
    lower, upper : torch.Tensor of shape (n_features,), default=None
        Domain to clamp the examples to (none when None). Clamping after the projection
        keeps the examples in the intersection of the ball and the domain whenever ``x``
        lies in the domain.
    generator : torch.Generator, default=None
        Source of the random start (on ``x``'s device).

    Returns
    -------
    x_adv : torch.Tensor of shape (n, n_features)
        Adversarial examples (detached).
    """
    x = x.detach()
    epsilon = float(epsilon)
    if step_size is None:
        step_size = 2.5 * epsilon / max(1, n_steps)
    x_adv = x
    if random_start:
        u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        x_adv = _clamp(x + epsilon * (2.0 * u - 1.0), lower, upper)
    with eval_mode(module):
        for _ in range(n_steps):
            # The gradient of the summed cross-entropy w.r.t. the logits is
            # softmax(logits) - onehot(y); its product with the module's Jacobian is the
            # gradient w.r.t. the input.
            grad = _input_grad(module, x_adv.detach(),
                               lambda logits: F.softmax(logits, dim=1) - _onehot(y, logits))
            x_adv = x_adv.detach() + step_size * grad.sign()
            x_adv = torch.minimum(torch.maximum(x_adv, x - epsilon), x + epsilon)
            x_adv = _clamp(x_adv, lower, upper)
    return x_adv.detach()


class _BatchPool(Callback):
    """Shared plumbing of the per-batch pools: burn-in, device data, the chunk hand-over.

    Subclasses implement ``make_chunk`` (the pool rows of one training mini-batch) and
    name the per-epoch history keys in ``records``.
    """

    #: History keys recorded per epoch (None during the burn-in).
    records = ()

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        device = torch.device(net.device)
        self.device_ = device
        self.epoch_ = 0
        self.active_ = False
        self.generator_ = torch.Generator(device=device).manual_seed(int(self.random_state))
        X = np.asarray(X, dtype=np.float32)
        d = X.shape[1]
        dom = np.tile([-np.inf, np.inf], (d, 1)) if self.domain is None else self.domain
        self.lower_ = torch.as_tensor(dom[:, 0], dtype=torch.float32, device=device)
        self.upper_ = torch.as_tensor(dom[:, 1], dtype=torch.float32, device=device)
        self._setup(net, X, np.asarray(y))

    def _setup(self, net, X, y):
        """Per-fit state from the training data (nothing by default)."""

    def on_epoch_begin(self, net, **kwargs):
        self.epoch_ += 1
        self.active_ = self.epoch_ > self.burnin_epochs
        self.stats_ = {}
        self.time_ = 0.0

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if not (training and self.active_):
            net.cf_batch_ = None
            return
        tic = time.perf_counter()
        Xi, yi = batch
        Xi = torch.as_tensor(Xi, device=self.device_)
        yi = torch.as_tensor(yi, device=self.device_)
        net.cf_batch_ = self.make_chunk(net, Xi, yi)
        self.time_ += time.perf_counter() - tic

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        net.cf_batch_ = None

    def _accumulate(self, key, total, count):
        old = self.stats_.get(key, (0.0, 0))
        self.stats_[key] = (old[0] + float(total), old[1] + int(count))

    def on_epoch_end(self, net, **kwargs):
        for key in self.records:
            if not self.active_:
                net.history.record(key, None)
            elif key.endswith("_time"):
                net.history.record(key, self.time_)
            else:
                total, count = self.stats_.get(key, (0.0, 0))
                net.history.record(key, total / count if count else None)

    def on_train_end(self, net, **kwargs):
        net.cf_batch_ = None
        # A fitted net keeps the seed, not the generator (as with CTNet's shuffle_seed):
        # each fit makes a new one, and nothing unpicklable stays behind.
        self.generator_ = None
        self._teardown()

    def _teardown(self):
        """Drop per-fit data (nothing by default)."""

    @staticmethod
    def _chunk(target, x_cf, x_pos, x_ae, y_ae):
        return {"target": target, "x_cf": x_cf, "x_pos": x_pos, "x_ae": x_ae, "y_ae": y_ae}


class SGLDSampling(_BatchPool):
    """Negatives for JEM-style training: SGLD samples from a persistent replay buffer.

    Before every training mini-batch of ``n`` rows (after the burn-in), ``n`` chains are
    drawn from the :class:`ReplayBuffer` (each restarted from uniform noise with
    probability ``reinit_rate``), moved by ``n_steps`` steps of :func:`sgld_sample` on the
    class-conditional density of their class ``y+`` at the current weights, and written
    back. The batch's chunk pairs each sample ``x^`` (the negative, in the role of CT's
    counterfactual) with a random training row ``x+`` of class ``y+`` (the positive), so
    that CT's energy differential ``E(x+, y+) - E(x^, y+)`` and energy ridge train the
    model as JEM's contrastive divergence does. There is no adversarial term.

    The buffer starts uniform in the box ``domain`` (JEM: uniform over the pixel range
    ``[-1, 1]``) and every step is clamped to it; infinite bounds fall back to the range of
    the training data. See the user guide for how this adapts JEM to tabular data.

    The history records per epoch ``sgld_energy`` (mean energy ``E(x^, y+)`` of the
    samples written back to the buffer), ``sgld_reinit`` (share of chains restarted from
    noise) and ``sgld_time`` (seconds spent sampling).

    Parameters
    ----------
    n_classes : int
        Number of classes.
    buffer_size : int, default=10000
        Number of persistent chains (JEM: 10,000).
    reinit_rate : float, default=0.05
        Probability that a drawn chain restarts from uniform noise (JEM: 0.05).
    n_steps : int, default=20
        SGLD steps per mini-batch (JEM: 20).
    step_size : float, default=1.0
        SGLD step size; the drift is ``step_size / 2`` times the gradient of the
        log-density (JEM: 1).
    noise_std : float, default=0.01
        Standard deviation of the SGLD noise (JEM: 0.01).
    burnin_epochs : int, default=0
        Epochs of plain training before sampling starts.
    domain : ndarray of shape (n_features, 2), default=None
        Box of the initialisation and of the chains.
    random_state : int, default=0
        Seed of the buffer, the restarts, the noise and the positives.
    """

    records = ("sgld_energy", "sgld_reinit", "sgld_time")

    def __init__(self, n_classes, *, buffer_size=10000, reinit_rate=0.05, n_steps=20,
                 step_size=1.0, noise_std=0.01, burnin_epochs=0, domain=None,
                 random_state=0):
        self.n_classes = n_classes
        self.buffer_size = buffer_size
        self.reinit_rate = reinit_rate
        self.n_steps = n_steps
        self.step_size = step_size
        self.noise_std = noise_std
        self.burnin_epochs = burnin_epochs
        self.domain = domain
        self.random_state = random_state

    def _setup(self, net, X, y):
        device = self.device_
        # JEM samples images in their known pixel range; tabular features have no such
        # range, so infinite domain bounds fall back to the training data's range.
        data_low = torch.as_tensor(X.min(axis=0), device=device)
        data_high = torch.as_tensor(X.max(axis=0), device=device)
        self.lower_ = torch.where(torch.isfinite(self.lower_), self.lower_, data_low)
        self.upper_ = torch.where(torch.isfinite(self.upper_), self.upper_, data_high)
        self.X_ = torch.as_tensor(X, device=device)
        # Training rows sorted by class, so that a positive of class c is drawn as
        # start[c] + floor(u * count[c]) without a loop over classes.
        order = np.argsort(y, kind="stable")
        counts = np.bincount(y, minlength=self.n_classes)
        self.rows_by_class_ = torch.as_tensor(order, device=device)
        self.class_start_ = torch.as_tensor(np.concatenate([[0], np.cumsum(counts)[:-1]]),
                                            device=device)
        self.class_count_ = torch.as_tensor(counts, device=device)
        self.buffer_ = ReplayBuffer(self.buffer_size, self.n_classes, self.lower_, self.upper_,
                                    reinit_rate=self.reinit_rate, generator=self.generator_)

    def _draw_positives(self, target):
        u = torch.rand(target.shape[0], generator=self.generator_, device=self.device_)
        count = self.class_count_[target]
        offset = torch.minimum((u * count).long(), count - 1)
        return self.X_[self.rows_by_class_[self.class_start_[target] + offset]]

    def make_chunk(self, net, Xi, yi):
        """Pool rows of one mini-batch: SGLD negatives and real positives of their class.

        Parameters
        ----------
        net : CTNet
            The network being trained.
        Xi : torch.Tensor of shape (n, n_features)
            The mini-batch (its size sets the number of chains).
        yi : torch.Tensor of shape (n,)
            Its labels (unused).

        Returns
        -------
        chunk : dict of torch.Tensor
            ``target``, ``x_cf`` (the samples), ``x_pos``, ``x_ae`` and ``y_ae`` (unused
            by the JEM objective, which has no adversarial term).
        """
        module = net.module_
        n = Xi.shape[0]
        x0, target, index, reinit = self.buffer_.draw(n)
        x = sgld_sample(module, x0, target, n_steps=self.n_steps, step_size=self.step_size,
                        noise_std=self.noise_std, lower=self.lower_, upper=self.upper_,
                        generator=self.generator_)
        self.buffer_.update(index, x)
        with torch.no_grad(), eval_mode(module):
            energy = -module(x).gather(1, target.unsqueeze(1))
        self._accumulate("sgld_energy", energy.sum(), n)
        self._accumulate("sgld_reinit", reinit.sum(), n)
        x_pos = self._draw_positives(target)
        return self._chunk(target, x, x_pos, x, target)

    def _teardown(self):
        # Never keep training data or the buffer inside a fitted, picklable estimator.
        self.X_ = self.buffer_ = self.rows_by_class_ = None

    def __getstate__(self):
        state = self.__dict__.copy()
        for key in ("X_", "buffer_", "rows_by_class_", "generator_"):
            state.pop(key, None)
        return state


class PGDExamples(_BatchPool):
    """Adversarial examples for Madry-style training: PGD attacks on every mini-batch.

    Before every training mini-batch (after the burn-in), :func:`pgd_examples` attacks its
    rows w.r.t. their labels at the current weights, from a random start in the L-inf ball
    of radius ``epsilon``, and the chunk labels each example with its row's label: CT's
    adversarial loss ``CE(f(x_adv), y)`` then trains the model on them. There are no
    energy terms.

    Examples are clamped to ``domain`` (when given), as CT's nascent counterfactuals are.
    The history records ``pgd_time`` (seconds spent attacking) per epoch.

    Parameters
    ----------
    epsilon : float
        Radius of the L-inf ball.
    n_steps : int, default=10
        PGD steps per mini-batch.
    step_size : float, default=None
        Size of each signed step; None uses ``2.5 * epsilon / n_steps``.
    burnin_epochs : int, default=0
        Epochs of plain training before the attacks start.
    domain : ndarray of shape (n_features, 2), default=None
        Bounds the examples are clamped to.
    random_state : int, default=0
        Seed of the random starts.
    """

    records = ("pgd_time",)

    def __init__(self, epsilon, *, n_steps=10, step_size=None, burnin_epochs=0, domain=None,
                 random_state=0):
        self.epsilon = epsilon
        self.n_steps = n_steps
        self.step_size = step_size
        self.burnin_epochs = burnin_epochs
        self.domain = domain
        self.random_state = random_state

    def make_chunk(self, net, Xi, yi):
        """Pool rows of one mini-batch: its PGD examples, labelled with its labels.

        Parameters
        ----------
        net : CTNet
            The network being trained.
        Xi : torch.Tensor of shape (n, n_features)
            The mini-batch.
        yi : torch.Tensor of shape (n,)
            Its labels.

        Returns
        -------
        chunk : dict of torch.Tensor
            ``x_ae`` (the examples) and ``y_ae`` (the labels); ``target``, ``x_cf`` and
            ``x_pos`` are placeholders (the PGD objective has no energy terms).
        """
        yi = yi.long()
        x_adv = pgd_examples(net.module_, Xi.float(), yi, epsilon=self.epsilon,
                             n_steps=self.n_steps, step_size=self.step_size,
                             lower=self.lower_, upper=self.upper_, generator=self.generator_)
        return self._chunk(yi, x_adv, x_adv, x_adv, yi)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("generator_", None)
        return state


def sampling_callback(objective, n_classes, *, params, burnin_epochs, domain, random_state):
    """The pool callback of a sampled objective (``"jem"`` or ``"pgd"``).

    Parameters
    ----------
    objective : {"jem", "pgd"}
        The objective.
    n_classes : int
        Number of classes.
    params : dict
        The estimator's parameters (``sgld_*``, ``pgd_*``, ``adversarial_epsilon``).
    burnin_epochs : int
        Epochs before the pool starts.
    domain : ndarray of shape (n_features, 2)
        Domain bounds.
    random_state : int
        Seed.

    Returns
    -------
    callback : SGLDSampling or PGDExamples
    """
    common = dict(burnin_epochs=burnin_epochs, domain=domain, random_state=random_state)
    if objective == "jem":
        return SGLDSampling(
            n_classes, buffer_size=params["sgld_buffer_size"],
            reinit_rate=params["sgld_reinit_rate"], n_steps=params["sgld_steps"],
            step_size=params["sgld_step_size"], noise_std=params["sgld_noise_std"], **common)
    if objective == "pgd":
        return PGDExamples(params["adversarial_epsilon"], n_steps=params["pgd_steps"],
                           step_size=params["pgd_step_size"], **common)
    raise ValueError(f"Objective {objective!r} has no sampling callback.")
