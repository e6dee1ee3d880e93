"""REVISE: counterfactual search in the latent space of a variational autoencoder."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from torch import nn

from .._utils import SEED_MAX
from ._generic import GenericGenerator


class VAE(nn.Module):
    """Small Gaussian variational autoencoder (the architecture of the reference).

    Encoder ``Linear(D, h) -> sigmoid -> (mu, log sigma)`` with two ``Linear(h, L)``
    heads; decoder ``Linear(L, h) -> tanh -> Linear(h, D)``.

    Parameters
    ----------
    n_features : int
        Input dimension ``D``.
    latent_dim : int
        Latent dimension ``L``.
    hidden_size : int
        Hidden width ``h``.
    """

    def __init__(self, n_features, latent_dim, hidden_size):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(n_features, hidden_size), nn.Sigmoid())
        self.mu = nn.Linear(hidden_size, latent_dim)
        self.log_sigma = nn.Linear(hidden_size, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_size), nn.Tanh(), nn.Linear(hidden_size, n_features)
        )

    def encode(self, X):
        """Encode inputs into the approximate posterior.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_features)
            Inputs.

        Returns
        -------
        mu, log_sigma : torch.Tensor of shape (n, latent_dim)
            Mean and log standard deviation of the approximate posterior.
        """
        h = self.hidden(X)
        return self.mu(h), self.log_sigma(h)

    def decode(self, z):
        """Decode latent codes.

        Parameters
        ----------
        z : torch.Tensor of shape (n, latent_dim)
            Latent codes.

        Returns
        -------
        X : torch.Tensor of shape (n, n_features)
            Reconstructions.
        """
        return self.decoder(z)

    def loss(self, X, noise):
        """Compute the batch loss: squared reconstruction error plus KL to N(0, I).

        Both terms are summed over dimensions and averaged over rows, which is the
        negative evidence lower bound of a unit-variance Gaussian decoder (up to
        constants and a factor 1/2 on the reconstruction).

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_features)
            Batch of inputs.
        noise : torch.Tensor of shape (n, latent_dim)
            Standard normal noise for the reparameterised sample ``mu + sigma * noise``.

        Returns
        -------
        loss : torch.Tensor
            Scalar loss.
        """
        mu, log_sigma = self.encode(X)
        z = mu + torch.exp(log_sigma) * noise
        recon = ((self.decode(z) - X) ** 2).sum(dim=1)
        kl = 0.5 * (torch.exp(2 * log_sigma) + mu**2 - 1 - 2 * log_sigma).sum(dim=1)
        return (recon + kl).mean()


class REVISEGenerator(GenericGenerator):
    """REVISE generator: gradient search in the latent space of a VAE.

    REVISE (Joshi et al., 2019) searches a latent code ``z`` of a variational autoencoder
    fitted on the training data and returns the decoded point, so that counterfactuals stay
    close to the data manifold. The per-row objective is
    ``CE(f(dec(z)), y+) + lambda_cost * ||dec(z) - x||_1``, minimised by the same batched
    gradient search as the other generators, starting from the encoder mean of the
    factual. The VAE is fitted by :meth:`fit` (called by the explainer's ``fit`` on the
    model-space training data, or by :class:`~sklearn_ct.CTClassifier` when used as its
    training generator).

    Read more in the docstring of :class:`~sklearn_ct.explainers.CounterfactualExplainer`.

    Parameters
    ----------
    lambda_cost : float, default=0.1
        Weight of the L1 distance between the decoded counterfactual and the factual.
    latent_dim : int, default=None
        Latent dimension; None uses the reference's rule (2 for at most two features,
        otherwise 4).
    hidden_size : int, default=None
        Hidden width; None uses 16 for at most two features, otherwise 32.
    max_epochs : int, default=100
        Training epochs of the VAE.
    batch_size : int, default=50
        Mini-batch size of the VAE training.
    lr : float, default=1e-3
        Adam learning rate.
    random_state : int, RandomState instance or None, default=None
        Seeds the VAE's initialisation, shuffling and noise. The explainer sets it from its
        own ``random_state`` when left None. The global torch RNG is never touched.

    Attributes
    ----------
    vae_ : VAE
        The fitted autoencoder (trained on standardised data).
    mean_ : ndarray of shape (n_features,)
        Mean of the training data (the VAE works on standardised features).
    scale_ : ndarray of shape (n_features,)
        Standard deviation of the training data (1 for constant features).

    See Also
    --------
    sklearn_ct.GenericGenerator : The same objective searched in feature space.

    Notes
    -----
    Deliberate differences from the reference implementation:

    * the search starts from the encoder *mean* and the latent state is never re-sampled
      (the reference samples ``z = mu + sigma * eps`` after every step), so the search is
      deterministic;
    * mutability and domain are enforced: every decoded iterate is clamped to the
      per-row bounds in feature space (the reference ignores mutability in latent space);
    * the VAE is fitted on standardised features and its loss sums the squared error over
      features (the reference adds an L2 penalty of 0.01 on the decoder weights; here
      there is none).

    References
    ----------
    Joshi, Koyejo, Vijitbenjaronk, Kim and Ghosh (2019), "Towards realistic individual
    recourse and actionable explanations in black-box decision making systems",
    arXiv:1907.09615.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ct.generators import REVISEGenerator
    >>> X = np.random.RandomState(0).normal(size=(200, 2))
    >>> gen = REVISEGenerator(max_epochs=5, random_state=0).fit(X)
    >>> gen.vae_.mu.out_features
    2
    """

    latent_space = True

    _parameter_constraints = {
        "lambda_cost": [Interval(numbers.Real, 0, None, closed="left")],
        "latent_dim": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "hidden_size": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, lambda_cost=0.1, latent_dim=None, hidden_size=None, max_epochs=100,
                 batch_size=50, lr=1e-3, random_state=None):
        self.lambda_cost = lambda_cost
        self.latent_dim = latent_dim
        self.hidden_size = hidden_size
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state

    # GenericGenerator's distance machinery reads ``distance``; REVISE uses plain L1.
    distance = "l1"

    def _fit(self, X, y):
        # The VAE, on standardised training data (model space).
        X = np.asarray(X, dtype=np.float64)
        n, d = X.shape
        latent = self.latent_dim or (2 if d <= 2 else 4)
        hidden = self.hidden_size or (16 if d <= 2 else 32)
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        scale = np.where(std > 0, std, 1.0)
        Xs = torch.as_tensor((X - mean) / scale, dtype=torch.float32)
        seed = int(check_random_state(self.random_state).randint(SEED_MAX))
        gen = torch.Generator().manual_seed(seed)
        # fork_rng: the VAE's initialisation uses the global RNG; seed it for this block
        # only, so the caller's global torch RNG state is left untouched.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            vae = VAE(d, latent, hidden)
        opt = torch.optim.Adam(vae.parameters(), lr=self.lr)
        bs = min(self.batch_size, n)
        vae.train()
        for _ in range(self.max_epochs):
            order = torch.randperm(n, generator=gen)
            for start in range(0, n, bs):
                batch = Xs[order[start:start + bs]]
                noise = torch.randn(batch.shape[0], latent, generator=gen)
                opt.zero_grad()
                loss = vae.loss(batch, noise)
                loss.backward()
                opt.step()
        vae.eval()
        for p in vae.parameters():
            p.requires_grad_(False)
        # Assigned once the autoencoder is trained (a fitted generator is replaced whole).
        self.mean_, self.scale_, self.vae_ = mean, scale, vae
        self._tensors = {}

    def _standardisation(self, like):
        key = (like.device, like.dtype)
        if key not in getattr(self, "_tensors", {}):
            self._tensors = {key: (torch.as_tensor(self.mean_, dtype=like.dtype,
                                                   device=like.device),
                                   torch.as_tensor(self.scale_, dtype=like.dtype,
                                                   device=like.device))}
        # The VAE follows the search's device and precision. Converting float32 weights to
        # float64 and back is exact, so this never changes the fitted model.
        self.vae_.to(device=like.device, dtype=like.dtype)
        return self._tensors[key]

    def init_state(self, x):
        """Return the initial latent codes: the encoder mean of the factuals.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)
            Factuals (model space).

        Returns
        -------
        z : torch.Tensor of shape (n, latent_dim)
            Encoder means (deterministic, unlike the reference's sampled codes).
        """
        if not hasattr(self, "vae_"):
            raise RuntimeError("REVISEGenerator needs to be fitted (generator.fit(X)) "
                               "before it can search.")
        mean, scale = self._standardisation(x)
        with torch.no_grad():
            mu, _ = self.vae_.encode((x - mean) / scale)
        return mu

    def decode(self, state):
        """Map latent codes to feature space.

        Parameters
        ----------
        state : torch.Tensor of shape (n, latent_dim)
            Latent codes.

        Returns
        -------
        x : torch.Tensor of shape (n, n_features)
            Decoded points (in the scale of the training data).
        """
        mean, scale = self._standardisation(state)
        return self.vae_.decode(state) * scale + mean

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_tensors", None)
        return state
