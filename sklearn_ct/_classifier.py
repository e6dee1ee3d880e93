"""CTClassifier: counterfactual training as a scikit-learn classifier."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
import math
import numbers
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Hidden, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import ProgressBar
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from ._constraints import (
    check_domain_covers,
    direction_masks,
    resolve_domain,
    resolve_mutability,
)
from ._model import encode_labels, resolve_model, softmax
from ._modules import build_module, check_hidden_layer_sizes, check_logits_module
from ._net import CTNet
from ._sampling import SAMPLED_OBJECTIVES, sampling_callback
from ._selection import calibrate_intercepts, judge_plausibility, train_with_selection
from ._utils import DEPRECATED, SEED_MAX, atomic_fit, check_device, renamed_max_iter
from .callbacks import CounterfactualGeneration
from .explainers._categorical import resolve_groups
from .generators import BaseGenerator, check_generator
from .generators._registry import generator_names

#: The parameters with which :class:`CTClassifier` trains as the reference implementation
#: does, where the package's defaults deliberately differ (see doc/deviations.rst):
#: CT from the first epoch, a new counterfactual pool every epoch, and the CT network kept
#: whatever its explanations. ``CTClassifier(**REFERENCE_PARAMS)``.
REFERENCE_PARAMS = {"burnin": 0.0, "refresh_steps": None, "selection": None}

#: ``burnin="auto"``: the conventional share of the epochs grows from the first value, at
#: ``AUTO_BURNIN_BATCHES[1]`` or more mini-batches per epoch, to the second, at
#: ``AUTO_BURNIN_BATCHES[0]`` or fewer, linearly in between. Selection's fixed costs (the
#: fork and the judge's searches) and the pool searches do not shrink with the data, so on
#: small data CT fine-tunes a shorter tail to stay within about twice a conventional fit.
AUTO_BURNIN = (0.5, 0.8)
AUTO_BURNIN_BATCHES = (4, 16)

#: Which CT terms each objective keeps (energy differential, energy ridge, adversarial).
OBJECTIVES = {
    "full": (True, True, True),
    "energy": (True, True, False),
    "adversarial": (False, False, True),
    "vanilla": (False, False, False),
    # Alternatives CT is compared with; their pools come from sklearn_ct._sampling.
    "jem": (True, True, False),
    "pgd": (False, False, True),
}

def _search_bounds(domain, device, can_inc, can_dec):
    """Domain and mutability tensors of a constrained search on ``device``."""
    def tensor(values, dtype):
        return torch.as_tensor(np.asarray(values), dtype=dtype, device=device)

    return (tensor(domain[:, 0], torch.float32), tensor(domain[:, 1], torch.float32),
            tensor(can_inc, torch.bool), tensor(can_dec, torch.bool))

def _resolve_training_groups(categorical_groups, X, feature_names, mutability):
    """``categorical_groups`` as Group objects, each wholly immutable or wholly free."""
    numeric = np.ones(X.shape[1], dtype=bool)
    groups = resolve_groups(categorical_groups, np.asarray(X, dtype=np.float64),
                            feature_names, numeric)
    for g in groups:
        directions = set(mutability[g.columns])
        if directions & {"increase", "decrease"} or len(directions) > 1:
            names = [feature_names[j] if feature_names is not None else int(j)
                     for j in g.columns]
            raise ValueError(
                f"The one-hot group {names} must be wholly 'none' or wholly 'both' in "
                f"mutability; got {sorted(directions)}.")
    return groups


class CTClassifier(ClassifierMixin, BaseEstimator):
    """Neural-network classifier trained with Counterfactual Training (CT).

    CT (Altmeyer et al., SaTML 2026) generates counterfactual explanations of the model
    during training and penalises the model when they are implausible, i.e. when the model
    assigns them lower energy (higher target logit) than real samples of the target class.
    The objective per mini-batch is::

        CE(f(x), y)
          + lambda_div * mean[E(x+, y+) - E(x', y+)]            # contrastive divergence
          + lambda_reg * mean[E(x+, y+)**2 + E(x', y+)**2]      # energy ridge
          + lambda_adv * CE(f(x_AE), y_factual)                  # adversarial loss

    with ``E(x, y) = -logit_y(x)``, counterfactuals ``x'`` towards targets ``y+``, positive
    samples ``x+`` of the target class, and nascent counterfactuals ``x_AE`` (the last search
    iterate within ``adversarial_epsilon`` of the factual in L-inf norm), which act as
    adversarial examples. With every CT term switched off (``objective="vanilla"`` or all
    lambdas 0) this is plain cross-entropy training and no counterfactual is generated.

    The network is trained by a private skorch net held in ``net_``; counterfactuals are
    generated once per epoch, in one batched search, by the
    :class:`~sklearn_ct.callbacks.CounterfactualGeneration` callback.

    Parameters
    ----------
    module : None, torch.nn.Module subclass or instance, default=None
        Network returning logits. ``None`` builds :class:`~sklearn_ct.MLP` with
        ``hidden_layer_sizes`` and ``activation``. A class is instantiated with
        ``n_features`` and ``n_classes`` (when its constructor accepts them) and
        ``module_params``. An instance (e.g. a pretrained network to fine-tune) is copied,
        never changed.
    hidden_layer_sizes : tuple of int, default=(32,)
        Hidden layers of the default MLP (the paper uses one layer of 32 units); positive
        integers.
    activation : {"relu", "tanh", "logistic", "elu", "gelu"}, default="relu"
        Activation of the default MLP.
    module_params : dict, default=None
        Extra keyword arguments for the module class.
    objective : {"full", "energy", "adversarial", "vanilla", "jem", "pgd"}, \
default="full"
        Which CT terms to use: all of them (the paper's CT), only the energy terms
        (ablation "CD"), only the adversarial loss (ablation "AR"), or none (the
        baseline). Terms that the objective keeps are weighted by the lambdas below.
        Two objectives replace counterfactuals by the samples of the methods CT is
        compared with (no counterfactual search, no mutability constraints): ``"jem"``
        keeps the energy terms with negatives drawn by SGLD from the model's
        class-conditional density (JEM, Grathwohl et al. 2020; the ``sgld_*``
        parameters), and ``"pgd"`` keeps the adversarial loss with PGD attacks on every
        mini-batch (Madry et al. 2018; ``adversarial_epsilon`` and the ``pgd_*``
        parameters). See :ref:`objectives`.
    lambda_div : float, default=0.5
        Weight of the contrastive divergence (energy differential).
    lambda_reg : float, default=0.1
        Weight of the energy ridge penalty. Too small a value lets energies explode.
    lambda_adv : float, default=0.25
        Weight of the adversarial loss.
    generator : None, {"ecco", "ecco_conformal", "generic", "revise"} or generator \
instance, default=None
        Counterfactual generator used during training, one that searches along gradients
        (see :mod:`sklearn_ct.generators`). ``None`` is
        :class:`~sklearn_ct.generators.ECCoGenerator` with the paper's training settings
        (``lambda_cost=0.001, lambda_energy=5``); ``"generic"`` is
        :class:`~sklearn_ct.generators.GenericGenerator` with the reference's training
        weight ``lambda_cost=0.001`` (its explainer default is 0.1); ``"revise"`` is
        seeded from ``random_state``. Its parameters can be tuned as
        ``generator__<param>``. ``"ecco_conformal"``
        (:class:`~sklearn_ct.generators.ECCCoGenerator`) holds out its calibration rows
        (``calibration_size`` of the training data), which the network does not train on.
    n_counterfactuals : int, default=None
        Counterfactuals generated per epoch, for training rows drawn without replacement.
        ``None`` uses ``min(1000, n_samples)`` (the paper uses 1000 on synthetic and 5000
        on real data). A larger value than the number of training rows is clipped with a
        warning. At least one counterfactual is generated per mini-batch.
    burnin : "auto" or float, default="auto"
        Fraction of ``max_epochs`` trained conventionally before CT starts (the reference
        starts CT at once, ``burnin=0``). CT then fine-tunes the network, as the paper
        found it works as well as training with CT throughout, at a fraction of the extra
        cost; the shared conventional epochs are also where plausibility selection forks
        (see ``selection``). ``"auto"`` is 0.5 with 16 or more mini-batches per epoch
        (512 training rows at ``batch_size=32``) and rises linearly to 0.8 at 4 or fewer:
        on small data the fixed costs of selection and of the pool searches weigh more,
        and CT fine-tunes a shorter tail. Together with ``warm_start`` this fine-tunes an
        already trained network with CT.
    decision_threshold : float, default=0.5
        Target probability ``tau`` a counterfactual must reach to count as mature;
        immature ones are replaced by their positive sample (no energy differential).
    max_steps : int, default=30
        Maximum number of search steps ``T`` per counterfactual. (It was called
        ``max_iter``, which is still accepted, with a ``FutureWarning``, until 0.3; in
        scikit-learn, ``max_iter`` bounds the iterations of ``fit``, here ``max_epochs``.)
    step_size : float, default=0.1
        Gradient-descent step size of the counterfactual search (the reference's actual
        value; its documentation says 0.25 but that setting was never read).
    adversarial_epsilon : float, default=0.3
        L-inf radius that defines the nascent counterfactual used as adversarial example;
        with ``objective="pgd"``, the radius of the PGD attacks.
    sgld_steps : int, default=20
        ``objective="jem"``: SGLD steps per mini-batch (JEM's 20).
    sgld_step_size : float, default=1.0
        ``objective="jem"``: SGLD step size ``alpha``; each step moves by ``alpha / 2``
        times the gradient of the log-density ``logit_y(x)`` (JEM's 1).
    sgld_noise_std : float, default=0.01
        ``objective="jem"``: standard deviation of the SGLD noise (JEM's 0.01).
    sgld_buffer_size : int, default=10000
        ``objective="jem"``: chains kept in the persistent replay buffer (JEM's 10,000).
    sgld_reinit_rate : float, default=0.05
        ``objective="jem"``: probability that a chain restarts from uniform noise over the
        domain (JEM's 0.05).
    pgd_steps : int, default=10
        ``objective="pgd"``: steps of each PGD attack.
    pgd_step_size : float, default=None
        ``objective="pgd"``: size of each signed PGD step; None uses
        ``2.5 * adversarial_epsilon / pgd_steps``.
    mutability : None, dict or sequence, default=None
        Actionability constraints: ``{feature: direction}`` with direction ``"none"``
        (immutable), ``"increase"``, ``"decrease"`` or ``"both"``; features are named as
        in ``feature_names_in_`` (DataFrame input) or given by column index. Constrained
        features are masked in the search and protected in the positive samples
        (point-mass rule), so the model learns not to rely on them for recourse.
    categorical_groups : None, "auto" or list of lists, default=None
        One-hot (dummy) encoded categorical features among the columns of ``X``, as for
        :class:`~sklearn_ct.CounterfactualExplainer`: each group is a list of column
        names (DataFrame input) or indices, whose values are 0 or 1 with at most one 1
        per row. The training-time search then projects every group onto a valid
        one-hot vector after every step, so the counterfactuals whose energy CT compares
        with real data hold real categories (without groups, one-hot columns are searched
        as continuous values, as in the reference implementation). ``"auto"`` finds the
        groups by the feature names (:func:`~sklearn_ct.find_categorical_groups`): runs
        of columns named ``<feature>_<category>``, as a ``OneHotEncoder`` in a
        ``ColumnTransformer`` names them when the pipeline passes pandas DataFrames
        (``set_output(transform="pandas")``). A group's mutability must be ``"none"``
        or ``"both"``. The objectives without a counterfactual search (``"jem"``,
        ``"pgd"``, ``"vanilla"``) only record the groups (``categorical_groups_``), for
        the explainer.
    domain : None, "infer", tuple, dict or array-like, default="infer"
        Bounds for counterfactual features, enforced after every search step. ``"infer"``
        uses ``[min(mean - 2 std, min), max(mean + 2 std, max)]`` per feature of the
        training data (the reference's rule); a ``(low, high)`` pair applies to every
        feature; per-feature bounds as an ``(n_features, 2)`` array or a dict
        ``{feature: (low, high)}``; ``None`` for no bounds. Bounds that exclude every
        training value of a feature raise a ``ValueError``. Mutability wins over the
        domain: a factual outside it keeps its immutable features.
    max_epochs : int, default=100
        Number of training epochs.
    batch_size : int, default=32
        Mini-batch size.
    lr : float, default=1e-3
        Learning rate of the optimizer.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Optimizer of the network weights. ``torch.optim.Adam`` runs with its fused kernel
        (``fused=True``) where torch supports it; pass
        ``functools.partial(torch.optim.Adam, fused=False)`` for the unfused update.
    shuffle : bool, default=True
        Shuffle the training rows every epoch. (The reference does not shuffle; the
        counterfactual chunks are unrelated to the rows of a batch either way.)
    validation_fraction : float, default=None
        If set, this stratified fraction of the training data is held out and the
        history records ``valid_loss`` and ``valid_acc`` per epoch.
    callbacks : list of skorch callbacks or (name, callback) pairs, default=None
        Extra skorch callbacks, e.g. ``skorch.callbacks.EarlyStopping``. They are cloned.
    device : str, default="cpu"
        Torch device, e.g. ``"cuda"``; it must be available (checked before fitting).
    random_state : int, RandomState instance or None, default=None
        Controls weight initialisation, shuffling, the counterfactual pools and the
        validation split. Fixing it gives identical weights, predictions and training
        counterfactuals; the global torch and numpy RNGs are left untouched.
    verbose : int, default=0
        ``0`` is silent; ``1`` prints a table per epoch and skorch's progress bar.
    warm_start : bool, default=False
        Continue training the fitted network on the next ``fit`` (the optimizer state is
        not kept). Combine with ``objective`` and ``burnin`` to fine-tune with CT.
    selection : {"plausibility"} or None, default="plausibility"
        Keep the CT network only where it explains better than conventional training.
        Training forks after the burn-in into the CT network and its conventionally
        trained twin (exactly the model ``objective="vanilla"`` with the same
        ``random_state`` gives); both explain the same training rows with a plain
        gradient search (step 0.1, stopping at probability 0.9) and with the default
        explainer, and the CT network is kept
        unless its counterfactuals are further from the data of their target class (IP,
        5-nearest-neighbour distance or IP*), not significantly closer under the plain
        search (IP, one-sided 5 %), less often valid, or its training accuracy is lower
        by more than 5 points or by more points than the percentage by which its IP is
        lower (see :ref:`plausibility-selection`). Where the CT network fails, the
        *blend* halfway between the weights of the two is judged the same way and kept
        if it passes; otherwise the twin is kept. Each candidate's class intercepts are
        refitted on the training rows before it is judged (the output-layer biases of the
        package's network; a custom ``module`` is judged as trained). ``selected_`` says
        which was kept. ``None`` always keeps the CT network (the reference's
        behaviour). Selection needs CT's training-time search (the objectives
        ``"full"``, ``"energy"`` and ``"adversarial"``; the methods CT is compared with,
        ``"jem"`` and ``"pgd"``, are trained as published), epochs after the burn-in and
        no user ``callbacks``; otherwise it is skipped.
    refresh_steps : "auto", int or None, default="auto"
        Minimum number of training steps (mini-batches) that share one counterfactual
        pool. ``"auto"`` is ``4 * max_steps``, so that the search costs a fraction of the
        training also on small data sets, which have few mini-batches per epoch; on large
        ones this is every epoch. ``None`` draws a new pool every epoch (the reference).
    max_iter : int
        Deprecated alias of ``max_steps``: when set, its value is used, with a
        ``FutureWarning``. It will be removed in 0.3.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.
    net_ : skorch.NeuralNet
        The trained skorch network; ``net_.module_`` is the torch module.
    generator_ : BaseGenerator
        The fitted training-time generator.
    domain_ : ndarray of shape (`n_features_in_`, 2)
        Domain bounds used during training.
    mutability_ : ndarray of str, shape (`n_features_in_`,)
        Direction of every feature.
    categorical_groups_ : list of list of int
        Column indices of each one-hot group kept valid during training (empty without
        ``categorical_groups``).
    n_iter_ : int
        Number of epochs run in the last fit.
    selected_ : {"ct", "blend", "vanilla"}
        Which network was kept: the CT network, or (``selection="plausibility"``) the
        blend halfway between its weights and its conventionally trained twin's, or the
        twin; ``"vanilla"`` for ``objective="vanilla"``, and ``"ct"`` for a network
        trained with its ``objective`` without selection.
    selection_scores_ : dict
        The comparison behind ``selected_`` (ratios candidate / twin of IP, kNN, IP* and
        cost per search, validities, training accuracies, ``plain_ip_z``, the paired z
        statistic of the plain search's per-row IP reduction, and ``ct_weight``, the weight
        of CT's network in the candidate: 1 for the CT network, 0.5 for the blend, and
        ``intercept_shift``, the largest change of a class intercept by the refit); the
        kept candidate's, or the CT network's where the twin was kept; empty without
        selection.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : Multi-layer perceptron without CT.

    Notes
    -----
    Deliberate differences from the reference implementation (each is tested):

    * a factual that already meets ``decision_threshold`` counts as a mature
      counterfactual with zero steps (the reference counts it as immature; this only
      happens for ``decision_threshold < 0.5`` or more than two classes);
    * the ECCo energy penalty is kept for ``max_steps <= 12`` (see
      :func:`~sklearn_ct.generators.ecco_energy_weight`);
    * training rows are shuffled each epoch (``shuffle=True``);
    * PyTorch's default weight initialisation instead of Flux's Glorot-uniform.

    References
    ----------
    Altmeyer, Buszydlik, van Deursen and Liem (2026), "Counterfactual Training: Teaching
    Models Plausible and Actionable Explanations", IEEE SaTML.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from sklearn_ct import CTClassifier
    >>> X, y = make_moons(200, noise=0.1, random_state=0)
    >>> clf = CTClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        "module": [None, HasMethods(["forward"]), type],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions({"relu", "tanh", "logistic", "elu", "gelu"})],
        "module_params": [None, dict],
        "objective": [StrOptions(set(OBJECTIVES))],
        "lambda_div": [Interval(numbers.Real, 0, None, closed="left")],
        "lambda_reg": [Interval(numbers.Real, 0, None, closed="left")],
        "lambda_adv": [Interval(numbers.Real, 0, None, closed="left")],
        "generator": [None, StrOptions(generator_names(gradient_only=True)), BaseGenerator],
        "n_counterfactuals": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "burnin": [Interval(numbers.Real, 0, 1, closed="both"), StrOptions({"auto"})],
        "decision_threshold": [Interval(numbers.Real, 0, 1, closed="neither")],
        "max_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left"),
                     Hidden(StrOptions({DEPRECATED}))],
        "step_size": [Interval(numbers.Real, 0, None, closed="neither")],
        "adversarial_epsilon": [Interval(numbers.Real, 0, None, closed="left")],
        "sgld_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "sgld_step_size": [Interval(numbers.Real, 0, None, closed="neither")],
        "sgld_noise_std": [Interval(numbers.Real, 0, None, closed="left")],
        "sgld_buffer_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "sgld_reinit_rate": [Interval(numbers.Real, 0, 1, closed="both")],
        "pgd_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "pgd_step_size": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "mutability": [None, dict, "array-like"],
        "categorical_groups": [None, StrOptions({"auto"}), list],
        "domain": [None, StrOptions({"infer"}), dict, "array-like"],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "optimizer": [callable],
        "shuffle": ["boolean"],
        "validation_fraction": [None, Interval(numbers.Real, 0, 1, closed="neither")],
        "callbacks": [None, list],
        "device": "no_validation",
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "selection": [None, StrOptions({"plausibility"})],
        "refresh_steps": [None, StrOptions({"auto"}),
                          Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        module=None,
        hidden_layer_sizes=(32,),
        activation="relu",
        module_params=None,
        objective="full",
        lambda_div=0.5,
        lambda_reg=0.1,
        lambda_adv=0.25,
        generator=None,
        n_counterfactuals=None,
        burnin="auto",
        decision_threshold=0.5,
        max_steps=30,
        step_size=0.1,
        adversarial_epsilon=0.3,
        sgld_steps=20,
        sgld_step_size=1.0,
        sgld_noise_std=0.01,
        sgld_buffer_size=10000,
        sgld_reinit_rate=0.05,
        pgd_steps=10,
        pgd_step_size=None,
        mutability=None,
        categorical_groups=None,
        domain="infer",
        max_epochs=100,
        batch_size=32,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        shuffle=True,
        validation_fraction=None,
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
        warm_start=False,
        selection="plausibility",
        refresh_steps="auto",
        max_iter=DEPRECATED,
    ):
        self.module = module
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.module_params = module_params
        self.objective = objective
        self.lambda_div = lambda_div
        self.lambda_reg = lambda_reg
        self.lambda_adv = lambda_adv
        self.generator = generator
        self.n_counterfactuals = n_counterfactuals
        self.burnin = burnin
        self.decision_threshold = decision_threshold
        self.max_steps = max_steps
        self.step_size = step_size
        self.adversarial_epsilon = adversarial_epsilon
        self.sgld_steps = sgld_steps
        self.sgld_step_size = sgld_step_size
        self.sgld_noise_std = sgld_noise_std
        self.sgld_buffer_size = sgld_buffer_size
        self.sgld_reinit_rate = sgld_reinit_rate
        self.pgd_steps = pgd_steps
        self.pgd_step_size = pgd_step_size
        self.mutability = mutability
        self.categorical_groups = categorical_groups
        self.domain = domain
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.shuffle = shuffle
        self.validation_fraction = validation_fraction
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.selection = selection
        self.refresh_steps = refresh_steps
        self.max_iter = max_iter

    # -- helpers -------------------------------------------------------------------------

    def _effective_lambdas(self):
        """(lambda_div, lambda_reg, lambda_adv) after applying ``objective``."""
        keep = OBJECTIVES[self.objective]
        lambdas = (self.lambda_div, self.lambda_reg, self.lambda_adv)
        return tuple(float(lam) if k else 0.0 for lam, k in zip(lambdas, keep))

    def _user_callbacks(self):
        out = []
        for i, cb in enumerate(self.callbacks or []):
            if isinstance(cb, tuple):
                name, cb = cb
            else:
                name = f"{type(cb).__name__}_{i}"
            out.append((name, clone(cb)))
        return out

    def _burnin_epochs(self, n_rows):
        """Conventional epochs before CT: ``burnin`` of ``max_epochs`` (see ``AUTO_BURNIN``)."""
        burnin = self.burnin
        if isinstance(burnin, str):  # "auto"
            batch = n_rows if self.batch_size == -1 else self.batch_size
            n_batches = max(1, math.ceil(n_rows / max(1, batch)))
            low, high = AUTO_BURNIN
            few, many = AUTO_BURNIN_BATCHES
            burnin = low + (high - low) * min(1.0, max(0.0, (many - n_batches) / (many - few)))
        return round(burnin * self.max_epochs)

    def _n_counterfactuals(self, n_rows):
        """Pool size per epoch: ``n_counterfactuals``, ``min(1000, n)`` by default."""
        n_cf = self.n_counterfactuals
        if n_cf is None:
            return min(1000, n_rows)
        if n_cf > n_rows:
            warnings.warn(
                f"n_counterfactuals={n_cf} is larger than the number of training rows "
                f"({n_rows}); using {n_rows}.",
                UserWarning,
                stacklevel=5,  # here, fit, atomic_fit, _fit_context, the caller
            )
            return n_rows
        return n_cf

    # -- fit -----------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    @atomic_fit
    def fit(self, X, y):
        """Train the network with counterfactual training.

        A fit that raises leaves the estimator as it was: a fitted one keeps its model,
        an unfitted one stays unfitted. The module is checked once before training (one
        forward pass on a few rows must give finite floating-point logits of shape
        ``(n_rows, n_classes)``), and training that cannot make progress (every update
        of an epoch skipped for a non-finite loss, or non-finite predictions at the
        end) raises a ``ValueError``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (numeric; use a ``ColumnTransformer`` for categorical columns).
        y : array-like of shape (n_samples,)
            Target labels (any hashable labels, e.g. strings).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "net_")
        # Parameters that need no data are checked first, before anything is computed.
        device = check_device(self.device)
        hidden_layer_sizes = check_hidden_layer_sizes(self.hidden_layer_sizes)
        generator = check_generator(self.generator, gradient_only=True)
        X, y = validate_data(
            self, X, y, reset=not warm, dtype=(np.float64, np.float32), force_writeable=True
        )
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(
                "CTClassifier needs samples of at least 2 classes in the data; got 1 class "
                f"({classes[0]!r}). Counterfactuals need a class to move towards."
            )
        if warm and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start=True needs the same classes as the previous fit: "
                f"{self.classes_.tolist()}; got {classes.tolist()}."
            )
        y_enc = encode_labels(y, classes, what="y")
        X32 = X.astype(np.float32, copy=False)
        n_classes = classes.size
        feature_names = getattr(self, "feature_names_in_", None)
        domain = resolve_domain(self.domain, X, feature_names)
        check_domain_covers(domain, X, feature_names)
        mutability = resolve_mutability(self.mutability, X.shape[1], feature_names)
        groups = _resolve_training_groups(self.categorical_groups, X, feature_names,
                                          mutability)

        rng = check_random_state(self.random_state)
        seed_torch, seed_pool, seed_split = (int(s) for s in rng.randint(SEED_MAX, size=3))

        train_split = None
        X_train, y_train = X32, y_enc
        if self.validation_fraction is not None:
            X_train, X_val, y_train, y_val = train_test_split(
                X32, y_enc, test_size=self.validation_fraction, stratify=y_enc,
                random_state=seed_split,
            )
            train_split = predefined_split(Dataset(X_val, y_val))
        missing = np.setdiff1d(np.arange(n_classes), y_train)
        if missing.size:
            raise ValueError(
                f"Classes {classes[missing].tolist()} have no training rows left after the "
                "validation split; CT needs samples of every target class."
            )

        lambda_div, lambda_reg, lambda_adv = self._effective_lambdas()
        needs_cf = (lambda_div, lambda_reg, lambda_adv) != (0.0, 0.0, 0.0)
        max_steps = renamed_max_iter(self.max_steps, self.max_iter, type(self).__name__,
                                     stacklevel=5)
        # Resolved again now that the seeds are drawn: a generator whose random_state is
        # left at None (REVISE's VAE, ECCCo's calibration split) is seeded from the
        # estimator's, and one given by name gets its training parameters.
        generator = check_generator(self.generator, gradient_only=True,
                                    random_state=seed_split, training=True)
        generator.fit(X_train, y_train)
        held_out = getattr(generator, "calibration_rows_", None)
        if (needs_cf and held_out is not None and held_out.size < y_train.shape[0]
                and self.objective not in SAMPLED_OBJECTIVES):
            # Split conformal prediction (ECCCo): the generator calibrates on rows that
            # the network does not train on (when it had too few rows to split, it
            # calibrates on all of them and nothing is held out).
            keep = np.ones(y_train.shape[0], dtype=bool)
            keep[held_out] = False
            X_train, y_train = X_train[keep], y_train[keep]
            missing = np.setdiff1d(np.arange(n_classes), y_train)
            if missing.size:
                raise ValueError(
                    f"Classes {classes[missing].tolist()} have no training rows left once "
                    f"the generator's {held_out.size} calibration rows are held out; use "
                    "more data or a smaller generator__calibration_size."
                )
        burnin_epochs = self._burnin_epochs(X_train.shape[0])
        refresh_steps = 4 * max_steps if self.refresh_steps == "auto" else self.refresh_steps
        can_inc, can_dec = direction_masks(mutability)
        sampled = self.objective in SAMPLED_OBJECTIVES
        # The fork of plausibility selection needs CT's counterfactual search (not the
        # sampled pools of the methods CT is compared with, which are kept as published),
        # epochs left after the burn-in, and no user callbacks (which would see the fork's
        # extra train-begin and train-end events).
        select = (self.selection == "plausibility" and needs_cf and not sampled
                  and not self.callbacks and burnin_epochs < self.max_epochs)
        n_cf = (self._n_counterfactuals(X_train.shape[0]) if needs_cf and not sampled
                else None)

        def callbacks(ct, burnin):
            out = []
            if ct and sampled:
                out.append((self.objective, sampling_callback(
                    self.objective, n_classes, params=self.get_params(deep=False),
                    burnin_epochs=burnin, domain=domain, random_state=seed_pool)))
            elif ct:
                out.append((
                    "counterfactuals",
                    CounterfactualGeneration(
                        generator, n_classes, n_cf, burnin_epochs=burnin,
                        max_steps=max_steps, decision_threshold=self.decision_threshold,
                        step_size=self.step_size, adversarial_epsilon=self.adversarial_epsilon,
                        domain=domain, can_increase=can_inc, can_decrease=can_dec,
                        random_state=seed_pool, refresh_steps=refresh_steps,
                        **({"groups": groups} if groups else {}),
                    ),
                ))
            if self.verbose:
                out.append(("progress_bar", ProgressBar()))
            return out + self._user_callbacks()

        def make_net(module, ct, burnin=0):
            lambdas = (lambda_div, lambda_reg, lambda_adv) if ct else (0.0, 0.0, 0.0)
            return CTNet(
                module=module,
                criterion=torch.nn.CrossEntropyLoss,
                optimizer=self.optimizer,
                lr=self.lr,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                train_split=train_split,
                iterator_train__shuffle=self.shuffle,
                shuffle_seed=seed_torch,
                callbacks=callbacks(ct, burnin),
                device=device,
                verbose=int(self.verbose),
                lambda_div=lambdas[0],
                lambda_reg=lambdas[1],
                lambda_adv=lambdas[2],
            )

        cuda_devices = list(range(torch.cuda.device_count())) if device.type == "cuda" else []
        selected, scores = "ct" if needs_cf else "vanilla", {}
        # fork_rng: seed torch for this fit only, leaving the caller's global RNG untouched.
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(seed_torch)
            # The module is built inside the seeded block: its initial weights are part of
            # what random_state controls.
            if warm:
                # A copy: the fitted network stays as it is until this fit succeeds.
                module = copy.deepcopy(self.net_.module_)
            else:
                module = build_module(
                    self.module, X.shape[1], n_classes, self.module_params,
                    hidden_layer_sizes, self.activation,
                )
            module = module.to(device)
            check_logits_module(module, X_train, n_classes, device=device)
            if select:
                bounds = _search_bounds(domain, device, can_inc, can_dec)

                # The twin's side of the comparison is computed once for every candidate.
                cache = {}

                def judge(module_ct, module_twin):
                    return judge_plausibility(module_ct, module_twin, X_train, y_train,
                                              n_classes, bounds=bounds,
                                              random_state=seed_pool, cache=cache)

                def calibrate(candidate):
                    return calibrate_intercepts(candidate, X_train, y_train, n_classes)

                net, ct_weight, scores = train_with_selection(
                    lambda ct: make_net(copy.deepcopy(module) if ct else module, ct),
                    X_train, y_train, burnin_epochs=burnin_epochs,
                    max_epochs=self.max_epochs, judge=judge, calibrate=calibrate,
                    cuda_devices=cuda_devices)
                selected = ("ct" if ct_weight == 1.0
                            else "vanilla" if ct_weight == 0.0 else "blend")
            else:
                net = make_net(module, needs_cf, burnin_epochs)
                net.fit(X_train, y_train)
        check_logits_module(
            net.module_, X_train, n_classes, device=device, when="after training",
            hint="training diverged (e.g. too large a learning rate lr, or energies "
                 "that grew without bound, which a larger lambda_reg keeps in check)",
        )
        # Every fitted attribute is assigned here, once the fit has succeeded.
        self.classes_ = classes
        self.domain_ = domain
        self.mutability_ = mutability
        self.categorical_groups_ = [g.columns.tolist() for g in groups]
        # The explainer reads these (with their implicit categories) to treat the same
        # columns as categories when it explains this model.
        self._groups = groups
        self.generator_ = generator
        self.selected_ = selected
        self.selection_scores_ = scores
        self.net_ = net
        self.n_iter_ = len(net.history)
        return self

    # -- predict -------------------------------------------------------------------------

    def logits(self, X):
        """Raw network outputs, one column per class.

        ``-logits[:, k]`` is the energy of class ``k`` that CT shapes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        logits : ndarray of shape (n_samples, n_classes)
            Logits, columns ordered as ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32),
                          force_writeable=True)
        return resolve_model(self).logits(X)

    def decision_function(self, X):
        """Confidence scores with scikit-learn's conventions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the log-odds of ``classes_[1]`` (``logit_1 - logit_0``);
            otherwise the logits.
        """
        logits = self.logits(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X):
        """Class probabilities (softmax over the network's logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns ordered as ``classes_``.
        """
        return softmax(self.logits(X))

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self)
        return self.classes_[self.logits(X).argmax(axis=1)]

    @property
    def history_(self):
        """Per-epoch training history of the last fit (``net_.history``).

        Keys include ``train_loss``, ``train_acc``, ``loss_class``, ``loss_div``,
        ``loss_reg``, ``loss_adv``, ``n_skipped``, ``cf_mature`` (share of mature
        counterfactuals), ``cf_iter`` (mean search steps), ``cf_time`` and ``dur``; with
        ``objective="jem"``, ``sgld_energy`` (mean energy of the SGLD samples written back
        to the buffer), ``sgld_reinit`` (share of chains restarted from noise) and
        ``sgld_time`` instead of the ``cf_*`` keys; with ``objective="pgd"``,
        ``pgd_time``.
        """
        check_is_fitted(self)
        return self.net_.history

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
