"""The CT objective (sklearn_ct._losses): its terms, its closed form, the point-mass rule."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sklearn_ct._losses import (
    POOL_INPUTS,
    TERMS,
    CTLoss,
    adversarial_loss,
    energy_differential,
    energy_ridge,
    protect_immutable,
)


def test_energy_terms_hand_computed():
    logits_pos = torch.tensor([[1.0, 3.0], [0.5, -1.0], [2.0, 0.0]])
    logits_cf = torch.tensor([[0.0, 1.0], [1.5, 0.0], [4.0, 1.0]])
    target = torch.tensor([1, 0, 0])
    # E = -logit[target]: E(x+) = [-3, -0.5, -2], E(x') = [-1, -1.5, -4]
    assert energy_differential(logits_pos, logits_cf, target).item() == pytest.approx(
        ((-3 + 1) + (-0.5 + 1.5) + (-2 + 4)) / 3)
    assert energy_ridge(logits_pos, logits_cf, target).item() == pytest.approx(
        ((9 + 1) + (0.25 + 2.25) + (4 + 16)) / 3)


def test_adversarial_loss_is_mean_cross_entropy():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 0])
    expected = np.mean([np.log(1 + np.exp(-2.0)), np.log(1 + np.exp(1.0))])
    assert adversarial_loss(logits, y).item() == pytest.approx(expected, rel=1e-6)


def _masks(*dirs):
    table = {"both": (1, 1), "increase": (1, 0), "decrease": (0, 1), "none": (0, 0)}
    inc = torch.tensor([bool(table[d][0]) for d in dirs])
    dec = torch.tensor([bool(table[d][1]) for d in dirs])
    return inc, dec


@pytest.mark.parametrize(
    "direction, x_pos, x_cf, expected",
    [
        ("none", 5.0, 2.0, 2.0),        # difference zeroed
        ("none", -1.0, 2.0, 2.0),
        ("increase", 1.0, 2.0, 2.0),    # x+ below x' would pull x' down: raised to x'
        ("increase", 3.0, 2.0, 3.0),    # pulls up: allowed
        ("decrease", 3.0, 2.0, 2.0),    # x+ above x' would pull x' up: lowered to x'
        ("decrease", 1.0, 2.0, 1.0),
        ("both", 7.0, 2.0, 7.0),
        ("both", -7.0, 2.0, -7.0),
    ],
)
def test_protect_immutable_cases(direction, x_pos, x_cf, expected):
    inc, dec = _masks(direction)
    out = protect_immutable(torch.tensor([[x_pos]]), torch.tensor([[x_cf]]), inc, dec)
    assert out.item() == expected


def test_protect_immutable_is_per_feature_and_copies():
    inc, dec = _masks("none", "increase", "decrease", "both")
    x_pos = torch.tensor([[1.0, 1.0, 1.0, 1.0], [3.0, 3.0, 3.0, 3.0]])
    x_cf = torch.full((2, 4), 2.0)
    out = protect_immutable(x_pos, x_cf, inc, dec)
    assert out.tolist() == [[2.0, 2.0, 1.0, 1.0], [2.0, 3.0, 2.0, 3.0]]
    assert x_pos[0, 0].item() == 1.0  # the input is not modified


# -- the definition and its closed form ------------------------------------------------------


def _step_inputs(seed, n_b=7, n_c=5, n_classes=3):
    g = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(n_b + 3 * n_c, n_classes, generator=g)  # float32, as in training
    y = torch.randint(0, n_classes, (n_b,), generator=g)
    chunk = {"x_cf": torch.zeros(n_c, 1), "target": torch.randint(0, n_classes, (n_c,),
                                                                   generator=g),
             "y_ae": torch.randint(0, n_classes, (n_c,), generator=g)}
    return logits, y, chunk, n_b, n_c


def _cache():
    store = {}

    def cached(key, make):
        if key not in store:
            store[key] = make()
        return store[key]

    return cached


@pytest.mark.parametrize("lambdas", [
    (0.7, 0.3, 0.2), (0.5, 0.0, 0.0), (0.0, 0.3, 0.0), (0.0, 0.0, 0.4), (0.0, 0.0, 0.0),
])
@pytest.mark.parametrize("seed", [0, 1])
def test_closed_form_is_the_gradient_of_the_definition(lambdas, seed):
    logits, y, chunk, n_b, n_c = _step_inputs(seed)
    ct = CTLoss(*lambdas)
    # The definition, differentiated by autograd.
    leaf = logits.clone().requires_grad_(True)
    batch, *pool = torch.split(leaf, [n_b] + [n_c] * len(POOL_INPUTS))
    loss, terms = ct(F.cross_entropy(batch, y), dict(zip(POOL_INPUTS, pool)), chunk)
    loss.backward()
    # The closed form.
    c_loss, c_class, c_terms, grad = ct.closed_form(logits, y, chunk, n_b, _cache())
    assert c_loss.item() == pytest.approx(loss.item(), rel=1e-5)
    assert c_class.item() == pytest.approx(F.cross_entropy(logits[:n_b], y).item(), rel=1e-5)
    assert set(c_terms) == set(terms) == {t for t, lam in zip(TERMS, lambdas) if lam}
    for name in terms:
        assert c_terms[name].item() == pytest.approx(terms[name].item(), rel=1e-5)
    torch.testing.assert_close(grad, leaf.grad, rtol=1e-5, atol=1e-7)


def test_closed_form_only_for_plain_cross_entropy():
    ct = CTLoss(0.5, 0.1, 0.25)
    assert ct.has_closed_form(torch.nn.CrossEntropyLoss())
    assert not ct.has_closed_form(torch.nn.CrossEntropyLoss(label_smoothing=0.1))
    assert not ct.has_closed_form(torch.nn.NLLLoss())

    class WithAnotherTerm(CTLoss):
        pass

    # A loss with terms of its own has no closed form until it writes one.
    assert not WithAnotherTerm().has_closed_form(torch.nn.CrossEntropyLoss())
