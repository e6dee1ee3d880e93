"""Adversarial attacks (FGSM, PGD) and robust accuracy of differentiable classifiers."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._model import encode_labels, resolve_model
from .._utils import eval_mode, module_dtype
from ._validation import NON_NEGATIVE, POSITIVE_INT, _check_2d, _check_labels



def _prepare(model, X, y):
    """Resolve the model and validate ``X`` and the true labels ``y`` (as logit indices)."""
    model = resolve_model(model)
    module, device = model.module, model.device
    out_dtype = _output_dtype(X)
    X = _check_2d(X, "X")
    y = _check_labels(y, X.shape[0], "y")
    n_classes = model.logits(np.zeros((1, X.shape[1]))).shape[1]
    y_idx = encode_labels(y, model.classes, "y", n_classes=n_classes)
    return model, module, device, X, y_idx, out_dtype


def _output_dtype(X):
    dtype = getattr(X, "dtype", None)
    # Keep float32 inputs float32 (and torch.float32 tensors' numpy equivalent); anything else
    # (ints, lists, float64) is returned as float64.
    if dtype is not None and str(dtype).replace("torch.", "") == "float32":
        return np.float32
    return np.float64


def _check_clip(clip, n_features):
    """Validate ``clip`` as (low, high) scalars or per-feature arrays; return float64 arrays."""
    if clip is None:
        return None
    try:
        low, high = clip
    except (TypeError, ValueError) as exc:
        raise ValueError(f"clip must be None or a (low, high) pair, got {clip!r}.") from exc
    try:
        low = np.broadcast_to(np.asarray(low, dtype=np.float64), (n_features,)).copy()
        high = np.broadcast_to(np.asarray(high, dtype=np.float64), (n_features,)).copy()
    except ValueError as exc:
        raise ValueError(
            f"clip bounds must be scalars or arrays of shape ({n_features},)."
        ) from exc
    if np.isnan(low).any() or np.isnan(high).any() or np.any(low > high):
        raise ValueError("clip must satisfy low <= high for every feature (and contain no NaN).")
    return low, high


def _loss_grad_sign(module, x, y, dtype):
    """Sign of the gradient of the summed logit cross-entropy w.r.t. the float64 input ``x``.

    ``torch.autograd.grad`` differentiates w.r.t. the input only, so no ``.grad`` of the model
    parameters is touched (the attack has no side effects on the model).
    """
    x_in = x.detach().to(dtype).requires_grad_(True)
    # Summed (not averaged) loss: each row's gradient is independent of the batch size.
    loss = F.cross_entropy(module(x_in), y, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x_in)
    return grad.sign().to(torch.float64)


def _attack(model, X, y, *, n_steps, epsilon, step_size, random_start, clip, random_state,
            batch_size):
    """Shared loop of FGSM (one step of size epsilon, no start) and PGD."""
    epsilon, step_size = float(epsilon), float(step_size)
    _, module, device, X, y_idx, out_dtype = _prepare(model, X, y)
    # torch cannot wrap read-only arrays (joblib memmaps, pandas copy-on-write views) without
    # a warning; attacks only read X, so a writable copy is made only when needed.
    if not X.flags.writeable:
        X = X.copy()
    if not y_idx.flags.writeable:
        y_idx = y_idx.copy()
    clip = _check_clip(clip, X.shape[1])
    dtype = module_dtype(module)

    # Work on a float64 copy: the caller's X is never modified (the reference FGSM updated its
    # input in place, quirk 6.2.18), and the perturbation is not rounded to the model's float32.
    X_adv = X.copy()
    if random_start:
        # Drawn with numpy so the result does not depend on the device or the global torch RNG.
        X_adv += check_random_state(random_state).uniform(-epsilon, epsilon, size=X.shape)
    if clip is not None:
        low_t, high_t = (torch.as_tensor(v, device=device) for v in clip)

    with torch.enable_grad(), eval_mode(module):
        for start in range(0, X.shape[0], batch_size):
            x0 = torch.as_tensor(X[start:start + batch_size], device=device)
            x = torch.as_tensor(X_adv[start:start + batch_size], device=device)
            yb = torch.as_tensor(y_idx[start:start + batch_size], device=device)
            if clip is not None:
                x = torch.clamp(x, low_t, high_t)
            for _ in range(n_steps):
                x = x + step_size * _loss_grad_sign(module, x, yb, dtype)
                # Project onto the L-inf ball around the clean input, then onto the domain. As
                # both sets are boxes, clamping in this order lands in their intersection whenever
                # the clean input lies in the domain.
                x = torch.clamp(x, x0 - epsilon, x0 + epsilon)
                if clip is not None:
                    x = torch.clamp(x, low_t, high_t)
            X_adv[start:start + batch_size] = x.cpu().numpy()
    return X_adv.astype(out_dtype, copy=False)


@validate_params({"model": "no_validation", "X": ["array-like"], "y": "no_validation",
     "epsilon": [NON_NEGATIVE], "clip": "no_validation", "batch_size": [POSITIVE_INT]},
                 prefer_skip_nested_validation=True)
def fgsm_attack(model, X, y, *, epsilon=0.03, clip=None, batch_size=1024):
    """Generate fast gradient sign method (FGSM) adversarial examples.

    :math:`x_{adv} = x + \\epsilon \\, \\mathrm{sign}(\\nabla_x \\mathcal{L}(f(x), y))` with
    :math:`\\mathcal{L}` the cross-entropy of the logits and :math:`y` the true label
    (Goodfellow et al., 2015). The model is evaluated in eval mode; its state is restored.

    ``X`` is never modified: Counterfactual Training's reference FGSM updated its input in
    place (a quirk of that code), which is not reproduced here.

    Parameters
    ----------
    model : torch.nn.Module or fitted estimator
        A torch module returning logits, a fitted :class:`~sklearn_ct.CTClassifier` or a fitted
        skorch net.
    X : array-like of shape (n_samples, n_features)
        Clean inputs in the model's input space. Not modified.
    y : array-like of shape (n_samples,)
        True labels (labels of ``model.classes_``; integer logit indices for bare modules).
    epsilon : float, default=0.03
        L-inf size of the perturbation.
    clip : tuple (low, high) or None, default=None
        Domain to clamp the adversarial inputs to; scalars or per-feature arrays. None applies
        no clamping, as Counterfactual Training's evaluation did.
    batch_size : int, default=1024
        Rows per forward/backward pass.

    Returns
    -------
    X_adv : ndarray of shape (n_samples, n_features)
        Adversarial inputs, float32 for float32 input and float64 otherwise.

    See Also
    --------
    pgd_attack : Iterated, projected variant.
    robust_accuracy : Accuracy on attacked inputs.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ct.metrics import fgsm_attack
    >>> module = torch.nn.Linear(2, 2)
    >>> X_adv = fgsm_attack(module, [[0.0, 0.0]], [0], epsilon=0.1)
    >>> float(abs(X_adv).max())
    0.1
    """
    return _attack(model, X, y, n_steps=1, epsilon=epsilon, step_size=epsilon,
                   random_start=False, clip=clip, random_state=None, batch_size=batch_size)


@validate_params(
    {"model": "no_validation", "X": ["array-like"], "y": "no_validation",
     "epsilon": [NON_NEGATIVE], "clip": "no_validation", "batch_size": [POSITIVE_INT],
     "n_steps": [Interval(numbers.Integral, 0, None, closed="left")],
     "step_size": [NON_NEGATIVE], "random_start": ["boolean"],
     "random_state": ["random_state"]},
    prefer_skip_nested_validation=True,
)
def pgd_attack(model, X, y, *, epsilon=0.03, n_steps=40, step_size=0.01, random_start=True,
               clip=None, random_state=None, batch_size=1024):
    """Generate projected gradient descent (PGD) adversarial examples in an L-inf ball.

    Starting from :math:`x + u`, :math:`u \\sim U([-\\epsilon, \\epsilon]^D)`, take ``n_steps``
    steps :math:`x \\leftarrow \\Pi_{B_\\infty(x_0, \\epsilon)}(x + \\alpha \\,
    \\mathrm{sign}(\\nabla_x \\mathcal{L}(f(x), y)))` of the logit cross-entropy w.r.t. the
    true label (Madry et al., 2018), projecting onto the ball (and onto ``clip``) after each
    step, as Counterfactual Training's evaluation did (40 steps of 0.01).

    Parameters
    ----------
    model : torch.nn.Module or fitted estimator
        A torch module returning logits, a fitted :class:`~sklearn_ct.CTClassifier` or a fitted
        skorch net.
    X : array-like of shape (n_samples, n_features)
        Clean inputs in the model's input space. Not modified.
    y : array-like of shape (n_samples,)
        True labels (labels of ``model.classes_``; integer logit indices for bare modules).
    epsilon : float, default=0.03
        Radius of the L-inf ball.
    n_steps : int, default=40
        Number of gradient steps.
    step_size : float, default=0.01
        Size :math:`\\alpha` of each signed step.
    random_start : bool, default=True
        Whether to start from a uniform random point of the ball.
    clip : tuple (low, high) or None, default=None
        Domain to clamp to after the start and each step; scalars or per-feature arrays.
    random_state : int, RandomState instance or None, default=None
        Seed of the random start.
    batch_size : int, default=1024
        Rows attacked together.

    Returns
    -------
    X_adv : ndarray of shape (n_samples, n_features)
        Adversarial inputs with :math:`\\|x_{adv} - x\\|_\\infty \\leq \\epsilon`.

    See Also
    --------
    fgsm_attack : Single-step attack.
    robust_accuracy : Accuracy on attacked inputs.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_ct.metrics import pgd_attack
    >>> X = np.zeros((3, 2))
    >>> X_adv = pgd_attack(torch.nn.Linear(2, 2), X, [0, 1, 0], epsilon=0.05, random_state=0)
    >>> bool(np.abs(X_adv - X).max() <= 0.05)
    True
    """
    return _attack(model, X, y, n_steps=n_steps, epsilon=epsilon, step_size=step_size,
                   random_start=random_start, clip=clip, random_state=random_state,
                   batch_size=batch_size)


@validate_params(
    {"model": "no_validation", "X": ["array-like"], "y": "no_validation",
     "epsilon": [NON_NEGATIVE], "clip": "no_validation", "batch_size": [POSITIVE_INT],
     "attack": [StrOptions({"fgsm", "pgd"})],
     "n_steps": [Interval(numbers.Integral, 0, None, closed="left")],
     "step_size": [NON_NEGATIVE], "random_state": ["random_state"]},
    prefer_skip_nested_validation=True,
)
def robust_accuracy(model, X, y, *, attack="fgsm", epsilon=0.03, n_steps=40, step_size=0.01,
                    random_state=None, clip=None, batch_size=1024):
    """Compute the accuracy on adversarially perturbed inputs.

    The inputs are attacked w.r.t. their true labels with :func:`fgsm_attack` or
    :func:`pgd_attack`, then classified by the argmax of the logits. ``epsilon=0`` gives the
    clean accuracy.

    Parameters
    ----------
    model : torch.nn.Module or fitted estimator
        A torch module returning logits, a fitted :class:`~sklearn_ct.CTClassifier` or a fitted
        skorch net.
    X : array-like of shape (n_samples, n_features)
        Clean inputs in the model's input space. Not modified.
    y : array-like of shape (n_samples,)
        True labels (labels of ``model.classes_``; integer logit indices for bare modules).
    attack : {"fgsm", "pgd"}, default="fgsm"
        Attack to use.
    epsilon : float, default=0.03
        L-inf size of the perturbation. Counterfactual Training evaluated
        ``numpy.linspace(0, 0.1, 10)``.
    n_steps : int, default=40
        PGD steps (ignored by FGSM).
    step_size : float, default=0.01
        PGD step size (ignored by FGSM).
    random_state : int, RandomState instance or None, default=None
        Seed of the PGD random start.
    clip : tuple (low, high) or None, default=None
        Optional input domain, see :func:`pgd_attack`.
    batch_size : int, default=1024
        Rows attacked together.

    Returns
    -------
    accuracy : float
        Fraction of attacked inputs still classified as their true label.

    See Also
    --------
    fgsm_attack, pgd_attack : The attacks.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ct.metrics import robust_accuracy
    >>> module = torch.nn.Linear(1, 2)
    >>> with torch.no_grad():
    ...     _ = module.weight.copy_(torch.tensor([[-1.0], [1.0]]))
    ...     _ = module.bias.zero_()
    >>> X, y = [[-1.0], [-0.01], [0.01], [1.0]], [0, 0, 1, 1]
    >>> robust_accuracy(module, X, y, epsilon=0.0), robust_accuracy(module, X, y, epsilon=0.1)
    (1.0, 0.5)
    """
    if attack == "fgsm":
        X_adv = fgsm_attack(model, X, y, epsilon=epsilon, clip=clip, batch_size=batch_size)
    else:
        X_adv = pgd_attack(model, X, y, epsilon=epsilon, n_steps=n_steps, step_size=step_size,
                           clip=clip, random_state=random_state, batch_size=batch_size)
    # Re-derive the label indices (already validated by the attack) to score the predictions,
    # which are float64 like every prediction of the package (see sklearn_ct._model).
    model = resolve_model(model)
    y_idx = encode_labels(_check_labels(y, X_adv.shape[0], "y"), model.classes, "y")
    logits = model.logits(X_adv.astype(np.float64))
    return float((logits.argmax(axis=1) == y_idx).mean())
