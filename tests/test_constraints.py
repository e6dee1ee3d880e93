"""Actionability constraints: their specifications (sklearn_ct._constraints) and the
explainer's compiled constraint space (sklearn_ct.explainers._feature_space)."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_ct._constraints import (
    direction_masks,
    infer_domain,
    resolve_domain,
    resolve_mutability,
    row_bounds,
)
from sklearn_ct._model import ModelAdapter
from sklearn_ct.explainers._feature_space import _FeatureSpace

# -- specifications ---------------------------------------------------------------------------


def test_mutability_by_name_index_or_sequence():
    names = np.array(["age", "income", "debt"])
    assert resolve_mutability({"age": "none", -1: "decrease"}, 3, names).tolist() == [
        "none", "both", "decrease"]
    assert resolve_mutability(["increase", "both", "none"], 3).tolist() == [
        "increase", "both", "none"]
    inc, dec = direction_masks(np.array(["none", "increase", "decrease", "both"]))
    assert inc.tolist() == [False, True, False, True]
    assert dec.tolist() == [False, False, True, True]
    with pytest.raises(ValueError, match="by name"):
        resolve_mutability({"age": "none"}, 3)
    with pytest.raises(ValueError, match="Unknown mutability direction 'up'"):
        resolve_mutability({0: "up"}, 3)
    with pytest.raises(ValueError, match="one direction per feature"):
        resolve_mutability(["none"], 3)


def test_domain_formats_and_the_reference_rule():
    X = np.array([[0.0, 10.0], [2.0, 10.0], [4.0, 10.0]])
    inferred = infer_domain(X)
    # [min(mean - 2 std, min), max(mean + 2 std, max)], sample std; a constant feature
    # keeps its value as both bounds.
    np.testing.assert_allclose(inferred, [[2 - 4.0, 2 + 4.0], [10.0, 10.0]])
    np.testing.assert_array_equal(resolve_domain("infer", X), inferred)
    np.testing.assert_array_equal(resolve_domain((0, 1), X), [[0, 1], [0, 1]])
    np.testing.assert_array_equal(resolve_domain({1: (None, 5)}, X),
                                  [[-np.inf, np.inf], [-np.inf, 5]])
    assert np.isinf(resolve_domain(None, X)).all()
    with pytest.raises(ValueError, match="low > high"):
        resolve_domain((1, 0), X)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_row_bounds_put_mutability_before_the_domain(as_tensor):
    x = np.array([[5.0, 0.5, 0.5, 0.5]])  # feature 0 lies outside the domain
    lower, upper = np.zeros(4), np.ones(4)
    inc = np.array([False, True, False, True])
    dec = np.array([False, False, True, True])
    args = (x, lower, upper, inc, dec)
    if as_tensor:
        args = tuple(torch.as_tensor(a) for a in args)
    low, high = row_bounds(*args)
    assert isinstance(low, torch.Tensor) == as_tensor
    low, high = np.asarray(low), np.asarray(high)
    # immutable: stays at the factual, even outside the domain; increase-only: [x, 1];
    # decrease-only: [0, x]; free: the domain.
    np.testing.assert_array_equal(low, [[5.0, 0.5, 0.0, 0.0]])
    np.testing.assert_array_equal(high, [[5.0, 1.0, 0.5, 1.0]])


# -- the compiled constraint space --------------------------------------------------------------


@pytest.fixture
def mixed():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"age": rng.normal(40, 10, 60), "income": rng.normal(3, 1, 60),
                      "job": rng.choice(["a", "b", "c"], 60)})
    pre = ColumnTransformer([("num", StandardScaler(), ["age", "income"]),
                             ("cat", OneHotEncoder(), ["job"])]).fit(X)
    model = ModelAdapter(X, [("pre", pre)], None, None)
    return X, model, model.transform(X)


def test_feature_space_compiles_constraints_into_model_space(mixed):
    X, model, Z = mixed
    space = _FeatureSpace(model, X, Z, mutability={"age": "increase", "job": "none"},
                          domain={"income": (0.0, None)}, categorical_groups=None,
                          feature_names=np.array(X.columns))
    assert space.mutability.tolist() == ["increase", "both", "none"]
    assert space.numeric.tolist() == [True, True, False]
    # Model columns: age, income (scaled), then the three one-hot columns of job.
    assert space.can_increase.tolist() == [True, True, False, False, False]
    assert space.can_decrease.tolist() == [False, True, False, False, False]
    assert [g.columns.tolist() for g in space.model_groups] == [[2, 3, 4]]
    assert space.group_columns.tolist() == [False, False, True, True, True]
    # income >= 0 in feature space is income >= (0 - mean) / scale in model space.
    scaler = model.steps[0][1].named_transformers_["num"]
    assert space.lower[1] == pytest.approx((0 - scaler.mean_[1]) / scaler.scale_[1])
    assert space.lower[2:].tolist() == [0.0] * 3 and space.upper[2:].tolist() == [1.0] * 3
    assert space.links.shape == (3, 5)


def test_feature_space_maps_back_exactly(mixed):
    X, model, Z = mixed
    space = _FeatureSpace(model, X, Z, mutability={"age": "none"}, domain=None,
                          categorical_groups=None, feature_names=np.array(X.columns))
    Zc = Z[:5].copy()
    Zc[:, 0] += 1.0  # the search may not do this (age is immutable): projected away
    Zc[:, 1] += 0.5
    Zc[:, 2:] = np.eye(3)[[1, 2, 0, 1, 2]]
    X_cf, raw = space.to_features(Zc, Z[:5], X.iloc[:5], X.iloc[:5].to_numpy())
    assert list(X_cf.columns) == list(X.columns)
    np.testing.assert_array_equal(X_cf["age"], X["age"][:5])  # exactly, not to round-off
    np.testing.assert_allclose(X_cf["income"], X["income"][:5] + 0.5 * X["income"].std(
        ddof=0), rtol=1e-12)
    assert X_cf["job"].tolist() == ["b", "c", "a", "b", "c"]


def test_feature_space_rejects_unenforceable_constraints(mixed):
    X, model, Z = mixed
    with pytest.raises(ValueError, match="one-hot encoded"):
        _FeatureSpace(model, X, Z, mutability={"job": "increase"}, domain=None,
                      categorical_groups=None, feature_names=np.array(X.columns))
    with pytest.raises(ValueError, match="categorical features are not bounded"):
        _FeatureSpace(model, X, Z, mutability=None, domain={"job": (0, 1)},
                      categorical_groups=None, feature_names=np.array(X.columns))
