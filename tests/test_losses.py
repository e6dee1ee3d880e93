"""CT loss terms and the point-mass protection of constrained features."""

import numpy as np
import pytest
import torch

from sklearn_ct._losses import (
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
