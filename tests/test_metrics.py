"""Tests for sklearn_ct.metrics.

Every metric is checked against a brute-force reference written with explicit Python loops on
small random data, plus hand-computed cases and the error messages for bad input.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import cdist, pdist
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from sklearn_ct.metrics import (
    counterfactual_cost,
    counterfactual_validity,
    fgsm_attack,
    implausibility,
    implausibility_mmd,
    integrated_gradients,
    median_absolute_deviation,
    median_pairwise_distance,
    mmd,
    pgd_attack,
    protected_feature_sensitivity,
    redundancy,
    robust_accuracy,
    sparsity,
    ynn,
)
from sklearn_ct.metrics import _implausibility
from sklearn_ct._model import resolve_model

torch.set_num_threads(1)

HYPOTHESIS = settings(max_examples=25, deadline=None)


# --------------------------------------------------------------------------------------------
# helpers: brute-force references (explicit loops) and tiny models
# --------------------------------------------------------------------------------------------

def _loop_norm(diff, norm):
    """Norm of a list of already scaled absolute differences, with a Python loop."""
    if norm == "l1":
        return sum(diff)
    if norm == "l2":
        return math.sqrt(sum(d * d for d in diff))
    if norm == "linf":
        return max(diff)
    raise AssertionError(norm)


def _brute_cost(X, X_cf, norm, weights=None, mad=None, tol=1e-5):
    n, d = X.shape
    out = []
    for i in range(n):
        if norm == "l0":
            out.append(sum((1.0 if weights is None else weights[j])
                           for j in range(d) if abs(X_cf[i, j] - X[i, j]) >= tol))
            continue
        diff = []
        for j in range(d):
            s = 1.0 if weights is None else weights[j]
            if mad is not None:
                s /= mad[j]
            diff.append(s * abs(X_cf[i, j] - X[i, j]))
        out.append(_loop_norm(diff, norm))
    return np.array(out)


def _loop_median(values):
    v = sorted(values)
    k = len(v)
    return v[k // 2] if k % 2 else 0.5 * (v[k // 2 - 1] + v[k // 2])


def _loop_dist(a, b, metric):
    return _loop_norm([abs(a[j] - b[j]) for j in range(len(a))], metric)


def _brute_kernel(a, b, length_scale, kernel):
    sq = sum((a[j] - b[j]) ** 2 for j in range(len(a)))
    if kernel == "gaussian":
        return math.exp(-sq / (2 * length_scale ** 2))
    return math.exp(-math.sqrt(sq) / length_scale)


def _brute_mmd(X, Y, length_scale, kernel="gaussian", unbiased=True):
    n, m = len(X), len(Y)
    kxx = sum(_brute_kernel(X[i], X[j], length_scale, kernel)
              for i in range(n) for j in range(n) if (i != j or not unbiased))
    kyy = sum(_brute_kernel(Y[i], Y[j], length_scale, kernel)
              for i in range(m) for j in range(m) if (i != j or not unbiased))
    kxy = sum(_brute_kernel(X[i], Y[j], length_scale, kernel)
              for i in range(n) for j in range(m))
    if unbiased:
        return kxx / (n * (n - 1)) + kyy / (m * (m - 1)) - 2 * kxy / (n * m)
    return kxx / n ** 2 + kyy / m ** 2 - 2 * kxy / (n * m)


def _dense_mmd(X, Y, length_scale):
    """Unblocked numpy reference: the three full Gaussian kernel matrices in float64."""
    kxx = np.exp(-cdist(X, X, "sqeuclidean") / (2 * length_scale ** 2))
    kyy = np.exp(-cdist(Y, Y, "sqeuclidean") / (2 * length_scale ** 2))
    kxy = np.exp(-cdist(X, Y, "sqeuclidean") / (2 * length_scale ** 2))
    n, m = len(X), len(Y)
    return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1))
            + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())


def _linear(weight, bias=None, dtype=torch.float64):
    """nn.Linear with the given weights (rows = classes)."""
    weight = torch.as_tensor(np.asarray(weight), dtype=dtype)
    module = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None).to(dtype)
    with torch.no_grad():
        module.weight.copy_(weight)
        if bias is not None:
            module.bias.copy_(torch.as_tensor(bias, dtype=dtype))
    return module


def _mlp(n_features=3, n_classes=3, seed=0, activation=torch.nn.Tanh):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(n_features, 8), activation(),
                               torch.nn.Linear(8, n_classes)).double()


def _same_shape_pair(max_rows=6, max_cols=5):
    """Hypothesis strategy for (X, X_cf) of equal shape with some exactly unchanged entries."""
    @st.composite
    def strategy(draw):
        n = draw(st.integers(1, max_rows))
        d = draw(st.integers(1, max_cols))
        # A grid of round values keeps MADs away from subnormal numbers (whose reciprocals
        # overflow) while still producing exact ties.
        elems = st.integers(-100, 100).map(lambda v: v / 10)
        X = draw(arrays(np.float64, (n, d), elements=elems))
        X_cf = draw(arrays(np.float64, (n, d), elements=elems))
        keep = draw(arrays(np.bool_, (n, d)))
        return X, np.where(keep, X, X_cf)
    return strategy()


# --------------------------------------------------------------------------------------------
# cost, MAD, redundancy
# --------------------------------------------------------------------------------------------

@HYPOTHESIS
@given(pair=_same_shape_pair(), norm=st.sampled_from(["l0", "l1", "l2", "linf"]),
       weighted=st.booleans())
def test_cost_matches_brute_force(pair, norm, weighted):
    X, X_cf = pair
    weights = np.linspace(0.5, 2.0, X.shape[1]) if weighted else None
    expected = _brute_cost(X, X_cf, norm, weights)
    got = counterfactual_cost(X, X_cf, norm=norm, feature_weights=weights)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@HYPOTHESIS
@given(pair=_same_shape_pair(), norm=st.sampled_from(["l1", "l2", "linf"]))
def test_mad_weighted_cost_matches_brute_force(pair, norm):
    X, X_cf = pair
    mad = median_absolute_deviation(np.vstack([X, X_cf]))
    np.testing.assert_allclose(counterfactual_cost(X, X_cf, norm=norm, mad=mad),
                               _brute_cost(X, X_cf, norm, mad=mad), rtol=1e-12, atol=1e-12)


def test_cost_hand_computed():
    X = np.array([[0.0, 0.0, 0.0]])
    X_cf = np.array([[3.0, -4.0, 1e-6]])
    assert counterfactual_cost(X, X_cf, norm="l1")[0] == pytest.approx(7.000001)
    assert counterfactual_cost(X, X_cf, norm="l2")[0] == pytest.approx(math.sqrt(25 + 1e-12))
    assert counterfactual_cost(X, X_cf, norm="linf")[0] == 4.0
    # 1e-6 is below the default tolerance 1e-5 but above 1e-7.
    assert counterfactual_cost(X, X_cf, norm="l0")[0] == 2
    assert counterfactual_cost(X, X_cf, norm="l0", tol=1e-7)[0] == 3
    # Wachter: |3|/2 + |-4|/4 + 1e-6/1.
    mad = np.array([2.0, 4.0, 1.0])
    assert counterfactual_cost(X, X_cf, mad=mad)[0] == pytest.approx(2.5 + 1e-6)


@HYPOTHESIS
@given(X=arrays(np.float64, st.tuples(st.integers(1, 9), st.integers(1, 4)),
                elements=st.sampled_from([-2.0, -0.5, 0.0, 1.0, 3.0, 7.5])))
def test_median_absolute_deviation_matches_brute_force(X):
    expected = []
    for j in range(X.shape[1]):
        col = [X[i, j] for i in range(X.shape[0])]
        med = _loop_median(col)
        mad = _loop_median([abs(v - med) for v in col])
        expected.append(1.0 if mad == 0 else mad)
    np.testing.assert_allclose(median_absolute_deviation(X), expected)


def test_median_absolute_deviation_zero_guard():
    X = np.array([[0.0, 1.0], [0.0, 2.0], [0.0, 4.0], [1.0, 8.0]])
    np.testing.assert_array_equal(median_absolute_deviation(X), [1.0, 1.5])
    np.testing.assert_array_equal(median_absolute_deviation(X, zero_replacement=0.25),
                                  [0.25, 1.5])
    raw = median_absolute_deviation(X, zero_replacement=None)
    assert raw[0] == 0
    with pytest.raises(ValueError, match="mad must be strictly positive"):
        counterfactual_cost(X, X + 1, mad=raw)


@HYPOTHESIS
@given(pair=_same_shape_pair(), tol=st.sampled_from([0.0, 1e-5, 0.5, 3.0]))
def test_redundancy_matches_brute_force(pair, tol):
    X, X_cf = pair
    n, d = X.shape
    expected = [sum(abs(X_cf[i, j] - X[i, j]) < tol for j in range(d)) / d for i in range(n)]
    np.testing.assert_allclose(redundancy(X, X_cf, tol=tol), expected)
    np.testing.assert_allclose(sparsity(X, X_cf, tol=tol), expected)
    # Unweighted l0 counts exactly the features redundancy does not.
    np.testing.assert_allclose(counterfactual_cost(X, X_cf, norm="l0", tol=tol),
                               d * (1 - np.asarray(expected)), atol=1e-12)


def test_cost_errors():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="same shape"):
        counterfactual_cost(X, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="same shape"):
        redundancy(X, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="'norm' parameter"):
        counterfactual_cost(X, X, norm="l3")
    with pytest.raises(ValueError, match="X_cf contains NaN"):
        counterfactual_cost(X, np.array([[0.0, np.nan]] * 3))
    with pytest.raises(ValueError, match="X contains infinity"):
        counterfactual_cost(np.array([[0.0, np.inf]] * 3), X)
    with pytest.raises(ValueError, match="2-D array"):
        counterfactual_cost(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="feature_weights must be a 1-D array"):
        counterfactual_cost(X, X, feature_weights=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="feature_weights must be non-negative"):
        counterfactual_cost(X, X, feature_weights=[1.0, -2.0])
    with pytest.raises(ValueError, match="mad has no effect"):
        counterfactual_cost(X, X, norm="l0", mad=[1.0, 1.0])
    with pytest.raises(ValueError, match="'tol' parameter"):
        redundancy(X, X, tol=-1.0)
    with pytest.raises(ValueError, match="numeric"):
        counterfactual_cost(np.array([["a", "b"]]), np.array([["a", "b"]]))


def test_cost_accepts_torch_and_lists():
    X = [[0.0, 1.0]]
    X_cf = torch.tensor([[1.0, 1.0]], requires_grad=True)
    np.testing.assert_allclose(counterfactual_cost(X, X_cf), [1.0])


# --------------------------------------------------------------------------------------------
# validity and model resolution
# --------------------------------------------------------------------------------------------

@pytest.fixture
def three_class_linear():
    """Logits = W x: class k has logit x_k (identity), so probabilities are a softmax of x."""
    return _linear(np.eye(3))


def test_validity_argmax_vs_threshold_hand_computed(three_class_linear):
    X_cf = np.array([
        [2.0, 1.0, 0.0],    # argmax 0, p0 = e^2/(e^2+e+1) = 0.665
        [0.0, 5.0, 0.0],    # argmax 1, p1 = e^5/(e^5+2) = 0.9867
        [0.0, 0.0, 0.1],    # argmax 2, p2 = 0.356 (argmax, but below 0.5)
        [1.0, 0.0, 0.0],    # argmax 0, target 1 -> invalid in both variants
    ])
    target = np.array([0, 1, 2, 1])
    p = np.exp(X_cf) / np.exp(X_cf).sum(axis=1, keepdims=True)
    assert p[0, 0] == pytest.approx(0.6652, abs=1e-4)
    assert p[2, 2] == pytest.approx(0.3559, abs=1e-4)
    got = counterfactual_validity(three_class_linear, X_cf, target, aggregate=False)
    np.testing.assert_array_equal(got, [True, True, True, False])
    np.testing.assert_array_equal(
        counterfactual_validity(three_class_linear, X_cf, target, threshold=0.5,
                                aggregate=False), [True, True, False, False])
    np.testing.assert_array_equal(
        counterfactual_validity(three_class_linear, X_cf, target, threshold=0.95,
                                aggregate=False), [False, True, False, False])
    assert counterfactual_validity(three_class_linear, X_cf, target) == 0.75
    assert counterfactual_validity(three_class_linear, X_cf, target, threshold=0.95) == 0.25


def test_validity_binary_variants_coincide_at_one_half():
    rng = np.random.default_rng(1)
    module = _linear([[0.0, 0.0], [1.5, -2.0]])
    X_cf = rng.normal(size=(50, 2))
    target = rng.integers(0, 2, 50)
    np.testing.assert_array_equal(
        counterfactual_validity(module, X_cf, target, aggregate=False),
        counterfactual_validity(module, X_cf, target, threshold=0.5, aggregate=False))


def test_validity_sklearn_string_labels_matches_loop():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2)) + np.repeat([[0, 0], [3, 0], [0, 3]], 30, axis=0)
    y = np.repeat(["cat", "dog", "eel"], 30)
    clf = LogisticRegression().fit(X, y)
    X_cf = rng.normal(scale=2.0, size=(40, 2))
    target = rng.choice(["cat", "dog", "eel"], 40)
    proba = clf.predict_proba(X_cf)
    expected_argmax, expected_thr = [], []
    for i in range(40):
        k = list(clf.classes_).index(target[i])
        expected_argmax.append(clf.classes_[np.argmax(proba[i])] == target[i])
        expected_thr.append(proba[i, k] >= 0.7)
    np.testing.assert_array_equal(counterfactual_validity(clf, X_cf, target, aggregate=False),
                                  expected_argmax)
    assert counterfactual_validity(clf, X_cf, target, threshold=0.7) == pytest.approx(
        np.mean(expected_thr))
    with pytest.raises(ValueError, match="not in the model's classes_"):
        counterfactual_validity(clf, X_cf, "fox")


def test_model_resolution_net_wrapper_and_skorch_like(three_class_linear):
    # A CTClassifier-like object: labels in classes_, logits in net_.module_.
    wrapped = SimpleNamespace(net_=SimpleNamespace(module_=three_class_linear),
                              classes_=np.array(["a", "b", "c"]), device="cpu")
    skorch_like = SimpleNamespace(module_=three_class_linear)
    for model in (three_class_linear, wrapped, skorch_like):
        resolved = resolve_model(model)
        assert resolved.module is three_class_linear
        assert resolved.device == torch.device("cpu")
    X_cf = np.array([[0.0, 3.0, 0.0], [0.0, 0.0, 3.0]])
    assert counterfactual_validity(wrapped, X_cf, ["b", "b"]) == 0.5
    assert counterfactual_validity(skorch_like, X_cf, [1, 1]) == 0.5
    with pytest.raises(ValueError, match="outside \\[0, 3\\)"):
        counterfactual_validity(three_class_linear, X_cf, [1, 3])
    with pytest.raises(ValueError, match="integer class indices"):
        counterfactual_validity(three_class_linear, X_cf, ["b", "b"])


def test_model_resolution_errors():
    clf = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(TypeError, match="differentiable logits"):
        fgsm_attack(clf, [[0.0]], [0])
    with pytest.raises(NotFittedError):
        fgsm_attack(LogisticRegression(), [[0.0]], [0])


def test_validity_errors(three_class_linear):
    X_cf = np.zeros((2, 3))
    with pytest.raises(ValueError, match="threshold"):
        counterfactual_validity(three_class_linear, X_cf, 0, threshold=1.5)
    with pytest.raises(ValueError, match="target has 3 entries"):
        counterfactual_validity(three_class_linear, X_cf, [0, 1, 2])
    with pytest.raises(ValueError, match="X_cf contains NaN"):
        counterfactual_validity(three_class_linear, [[np.nan, 0, 0]], 0)


# --------------------------------------------------------------------------------------------
# implausibility (IP)
# --------------------------------------------------------------------------------------------

def _ip_data(seed=0, n_cf=13, n_ref=40, d=3):
    rng = np.random.default_rng(seed)
    X_ref = rng.normal(size=(n_ref, d))
    y_ref = rng.choice(["a", "b", "c"], n_ref)
    X_cf = rng.normal(size=(n_cf, d))
    target = rng.choice(["a", "b", "c"], n_cf)
    return X_cf, X_ref, y_ref, target


def _brute_ip(X_cf, X_ref, y_ref, target, metric, k=None):
    out = []
    for i in range(len(X_cf)):
        dists = [_loop_dist(X_cf[i], X_ref[j], metric)
                 for j in range(len(X_ref)) if y_ref[j] == target[i]]
        dists = sorted(dists)[:k] if k is not None else dists
        out.append(sum(dists) / len(dists))
    return np.array(out)


@pytest.mark.parametrize("metric", ["l1", "l2", "linf"])
@pytest.mark.parametrize("k", [None, 1, 4, 1000])
def test_implausibility_matches_brute_force(metric, k):
    X_cf, X_ref, y_ref, target = _ip_data()
    got = implausibility(X_cf, X_ref, y_ref, target, metric=metric, n_neighbors=k)
    np.testing.assert_allclose(got, _brute_ip(X_cf, X_ref, y_ref, target, metric, k),
                               rtol=1e-12)


def test_implausibility_hand_computed():
    X_ref = [[0.0, 0.0], [2.0, 0.0], [10.0, 10.0]]
    ip = implausibility([[1.0, 0.0], [1.0, 1.0]], X_ref, y_ref=[1, 1, 0], target=[1, 0])
    np.testing.assert_allclose(ip, [1.0, 18.0])


def test_implausibility_blocked_equals_unblocked(monkeypatch):
    X_cf, X_ref, y_ref, target = _ip_data(seed=3, n_cf=50, n_ref=60)
    full = implausibility(X_cf, X_ref, y_ref, target)
    # Force chunks of a single row (block of 7 entries < one row of distances).
    monkeypatch.setattr(_implausibility, "_MAX_BLOCK_ELEMENTS", 7)
    np.testing.assert_allclose(implausibility(X_cf, X_ref, y_ref, target), full, rtol=1e-14)


def test_implausibility_max_reference_draws_with_replacement():
    X_cf, X_ref, y_ref, target = _ip_data(seed=5)
    got = implausibility(X_cf, X_ref, y_ref, target, max_reference=25, random_state=7)
    # Same draws as documented: one per target class (sorted labels), min(25, n_reference)
    # indices with replacement into that class's rows.
    rng = np.random.RandomState(7)
    expected = np.empty(len(X_cf))
    for label in sorted(set(target)):
        ref = X_ref[y_ref == label]
        ref = ref[rng.randint(0, len(ref), size=25)]
        for i in np.flatnonzero(target == label):
            expected[i] = np.mean([_loop_dist(X_cf[i], r, "l1") for r in ref])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_array_equal(
        got, implausibility(X_cf, X_ref, y_ref, target, max_reference=25, random_state=7))


def test_implausibility_errors():
    X_cf, X_ref, y_ref, _ = _ip_data()
    with pytest.raises(ValueError, match="No reference rows have the target label 'z'"):
        implausibility(X_cf, X_ref, y_ref, "z")
    with pytest.raises(ValueError, match="'metric' parameter"):
        implausibility(X_cf, X_ref, y_ref, "a", metric="cosine")
    with pytest.raises(ValueError, match="same number of features"):
        implausibility(X_cf[:, :2], X_ref, y_ref, "a")
    with pytest.raises(ValueError, match="y_ref has 3 entries"):
        implausibility(X_cf, X_ref, y_ref[:3], "a")
    with pytest.raises(ValueError, match="'n_neighbors' parameter"):
        implausibility(X_cf, X_ref, y_ref, "a", n_neighbors=0)


# --------------------------------------------------------------------------------------------
# MMD and IP*
# --------------------------------------------------------------------------------------------

@HYPOTHESIS
@given(seed=st.integers(0, 2 ** 16), n=st.integers(2, 7), m=st.integers(2, 7),
       d=st.integers(1, 4), length_scale=st.sampled_from([0.3, 1.0, 5.0]),
       kernel=st.sampled_from(["gaussian", "laplacian"]), unbiased=st.booleans(),
       block_size=st.integers(1, 8))
def test_mmd_matches_brute_force(seed, n, m, d, length_scale, kernel, unbiased, block_size):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = rng.normal(loc=0.5, size=(m, d))
    expected = _brute_mmd(X.tolist(), Y.tolist(), length_scale, kernel, unbiased)
    got = mmd(X, Y, length_scale=length_scale, kernel=kernel, unbiased=unbiased,
              block_size=block_size)
    assert got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("block_size", [1, 7, 50, 97, 4096])
def test_mmd_blocked_equals_dense(block_size):
    rng = np.random.default_rng(0)
    # Data far from the origin: stresses the ||x||^2 + ||y||^2 - 2 x.y cancellation.
    X = rng.normal(size=(120, 4)) + 100.0
    Y = rng.normal(loc=0.3, size=(97, 4)) + 100.0
    assert mmd(X, Y, length_scale=1.5, block_size=block_size) == pytest.approx(
        _dense_mmd(X, Y, 1.5), abs=1e-10)


def test_mmd_identical_samples_near_zero():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    # With X == Y the unbiased statistic is 2 (S - n^2) / (n^2 (n - 1)) for S = sum of K_xx:
    # non-positive and no smaller than -2 / (n - 1).
    value = mmd(X, X, length_scale=1.0)
    assert -2 / (len(X) - 1) <= value <= 0
    assert mmd(X, X, length_scale=1.0, unbiased=False) == pytest.approx(0.0, abs=1e-12)
    # Two independent samples of one distribution: the estimate is close to 0 (its standard
    # deviation here is ~1e-3) and far below that of a shifted sample.
    same = mmd(X, rng.normal(size=(200, 3)), length_scale=1.0)
    shifted = mmd(X, rng.normal(loc=1.0, size=(200, 3)), length_scale=1.0)
    assert abs(same) < 0.02
    assert shifted > 10 * abs(same)


def test_mmd_far_apart_samples_approach_kernel_bound():
    rng = np.random.default_rng(0)
    X = rng.normal(scale=0.01, size=(30, 2))
    Y0 = rng.normal(scale=0.01, size=(30, 2))
    values = [mmd(X, Y0 + shift, length_scale=1.0) for shift in (0.5, 1.0, 2.0, 4.0, 8.0)]
    assert np.all(np.diff(values) > 0)
    # At a distance of 8 length scales the cross term vanishes (exp(-32)) and the within-sample
    # terms are ~1 (spread 0.01 << 1), so the estimate reaches the bound 2.
    assert values[-1] == pytest.approx(2.0, abs=1e-3)
    assert values[-1] <= 2.0


def test_median_heuristic():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(25, 3)), rng.normal(size=(18, 3))
    assert median_pairwise_distance(X) == pytest.approx(np.median(pdist(X)), rel=1e-15)
    pooled = np.vstack([X, Y])
    med = np.median(pdist(pooled))
    assert median_pairwise_distance(X, Y) == pytest.approx(med, rel=1e-15)
    explicit = mmd(X, Y, length_scale=med)
    assert mmd(X, Y, length_scale="median") == pytest.approx(explicit, abs=1e-14)
    # Sub-sampled median: reproducible and computed on max_samples distinct rows.
    sub = median_pairwise_distance(X, Y, max_samples=10, random_state=0)
    idx = np.random.RandomState(0).choice(len(pooled), size=10, replace=False)
    assert sub == np.median(pdist(pooled[idx]))


def test_mmd_max_samples_subsamples_each_side():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(40, 2)), rng.normal(size=(30, 2))
    assert mmd(X, Y, max_samples=40) == mmd(X, Y)
    state = np.random.RandomState(3)
    ix = state.choice(40, size=12, replace=False)
    iy = state.choice(30, size=12, replace=False)
    assert mmd(X, Y, max_samples=12, random_state=3) == pytest.approx(
        _brute_mmd(X[ix].tolist(), Y[iy].tolist(), 5.0), abs=1e-12)


def test_mmd_default_length_scale_is_reference_code_value():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(6, 2)), rng.normal(size=(5, 2))
    assert mmd(X, Y) == pytest.approx(_brute_mmd(X.tolist(), Y.tolist(), 5.0), abs=1e-12)


def test_mmd_errors():
    X = np.zeros((3, 2))
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="'length_scale' parameter"):
            mmd(X, X, length_scale=bad)
    with pytest.raises(ValueError, match="'length_scale' parameter"):
        mmd(X, X, length_scale="mean")
    with pytest.raises(ValueError, match="'kernel' parameter"):
        mmd(X, X, kernel="rbf")
    with pytest.raises(ValueError, match="same number of features"):
        mmd(X, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="Y contains NaN"):
        mmd(X, np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="at least 2 samples"):
        mmd(X[:1], X)
    assert mmd(X[:1], X + 100, unbiased=False, length_scale=1.0) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="'block_size' parameter"):
        mmd(X, X, block_size=0)
    with pytest.raises(ValueError, match="median pairwise distance is 0"):
        mmd(X, X, length_scale="median")


def test_implausibility_mmd_groups_by_target():
    rng = np.random.default_rng(0)
    X_ref = rng.normal(size=(60, 2))
    y_ref = np.repeat(["a", "b", "c"], 20)
    X_cf = rng.normal(size=(9, 2))
    target = np.array(["a"] * 5 + ["b"] * 3 + ["c"])
    with pytest.warns(UserWarning, match="undefined for target classes \\['c'\\]"):
        rows = implausibility_mmd(X_cf, X_ref, y_ref, target, length_scale=1.0,
                                  aggregate=False)
    va = _brute_mmd(X_cf[:5].tolist(), X_ref[:20].tolist(), 1.0)
    vb = _brute_mmd(X_cf[5:8].tolist(), X_ref[20:40].tolist(), 1.0)
    np.testing.assert_allclose(rows[:8], [va] * 5 + [vb] * 3, atol=1e-12)
    assert np.isnan(rows[8])
    with pytest.warns(UserWarning):
        agg = implausibility_mmd(X_cf, X_ref, y_ref, target, length_scale=1.0)
    # Mean over groups weighted by group size, NaN groups ignored.
    assert agg == pytest.approx((5 * va + 3 * vb) / 8, abs=1e-12)
    with pytest.raises(ValueError, match="'kernel' parameter"):
        implausibility_mmd(X_cf, X_ref, y_ref, target, kernel="poly")


def test_implausibility_mmd_max_samples_and_ranking():
    rng = np.random.default_rng(1)
    X_ref = np.vstack([rng.normal(-2, 1, (300, 2)), rng.normal(2, 1, (300, 2))])
    y_ref = np.repeat([0, 1], 300)
    near = implausibility_mmd(rng.normal(2, 1, (150, 2)), X_ref, y_ref, 1, max_samples=100,
                              random_state=0)
    far = implausibility_mmd(rng.normal(-2, 1, (150, 2)), X_ref, y_ref, 1, max_samples=100,
                             random_state=0)
    assert near < 0.05 < far


# --------------------------------------------------------------------------------------------
# yNN
# --------------------------------------------------------------------------------------------

def _brute_ynn(predict, X_cf, target, X_ref, k):
    out = []
    for i in range(len(X_cf)):
        dists = [(_loop_dist(X_cf[i], X_ref[j], "l2"), j) for j in range(len(X_ref))]
        nn_idx = [j for _, j in sorted(dists)[:k]]
        preds = predict(X_ref[nn_idx])
        out.append(sum(p == target[i] for p in preds) / k)
    return np.array(out)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_ynn_matches_brute_force_sklearn(k):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)) + np.repeat([[0, 0], [2, 0], [0, 2]], 20, axis=0)
    y = np.repeat(["x", "y", "z"], 20)
    clf = LogisticRegression().fit(X, y)
    X_cf = rng.normal(size=(15, 2))
    target = rng.choice(["x", "y", "z"], 15)
    expected = _brute_ynn(clf.predict, X_cf, target, X, k)
    np.testing.assert_allclose(ynn(clf, X_cf, target, X, n_neighbors=k, aggregate=False),
                               expected)
    assert ynn(clf, X_cf, target, X, n_neighbors=k) == pytest.approx(expected.mean())


def test_ynn_torch_module_and_errors(three_class_linear):
    rng = np.random.default_rng(2)
    X_ref, X_cf = rng.normal(size=(30, 3)), rng.normal(size=(8, 3))
    target = rng.integers(0, 3, 8)

    def predict(Z):
        return list(np.argmax(Z, axis=1))  # identity logits

    np.testing.assert_allclose(
        ynn(three_class_linear, X_cf, target, X_ref, n_neighbors=4, aggregate=False),
        _brute_ynn(predict, X_cf, target, X_ref, 4))
    with pytest.raises(ValueError, match="exceeds the number of reference rows"):
        ynn(three_class_linear, X_cf, target, X_ref, n_neighbors=31)
    with pytest.raises(ValueError, match="same number of features"):
        ynn(three_class_linear, X_cf, target, X_ref[:, :2])


# --------------------------------------------------------------------------------------------
# adversarial attacks and robust accuracy
# --------------------------------------------------------------------------------------------

def _manual_fgsm(module, X, y, epsilon):
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy(module(x), torch.as_tensor(y), reduction="sum")
    loss.backward()
    return X + epsilon * x.grad.sign().numpy()


def test_fgsm_matches_manual_autograd_step():
    rng = np.random.default_rng(0)
    module = _linear(rng.normal(size=(3, 4)), rng.normal(size=3))
    X = rng.normal(size=(20, 4))
    y = rng.integers(0, 3, 20)
    X_before = X.copy()
    X_adv = fgsm_attack(module, X, y, epsilon=0.07, batch_size=6)
    # Neither the input (unlike the reference FGSM) nor the model's gradients are touched.
    np.testing.assert_array_equal(X, X_before)
    assert module.weight.grad is None
    expected = _manual_fgsm(module, X, y, 0.07)
    np.testing.assert_allclose(X_adv, expected, atol=1e-15)


def test_fgsm_known_gradient_sign_and_clip():
    # Binary linear model with logits (0, w.x): the loss gradient w.r.t. x is -(1 - p) w for
    # y = 1 and p w for y = 0, so FGSM moves by -eps sign(w) and +eps sign(w) respectively.
    w = np.array([2.0, -1.0, 0.0])
    module = _linear([[0.0, 0.0, 0.0], w])
    X = np.array([[0.1, 0.2, 0.3], [0.0, 0.0, 0.0]])
    X_adv = fgsm_attack(module, X, [1, 0], epsilon=0.5)
    np.testing.assert_allclose(X_adv, [[-0.4, 0.7, 0.3], [0.5, -0.5, 0.0]])
    X_clip = fgsm_attack(module, X, [1, 0], epsilon=0.5, clip=(-0.25, [1.0, 0.6, 1.0]))
    np.testing.assert_allclose(X_clip, [[-0.25, 0.6, 0.3], [0.5, -0.25, 0.0]])


def test_fgsm_keeps_float32():
    module = _linear([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float32)
    X = np.zeros((2, 2), dtype=np.float32)
    assert fgsm_attack(module, X, [0, 1]).dtype == np.float32
    assert fgsm_attack(module, X.astype(np.float64), [0, 1]).dtype == np.float64


@pytest.mark.parametrize("epsilon", [0.0, 0.01, 0.1, 0.5])
def test_pgd_stays_in_epsilon_ball(epsilon):
    rng = np.random.default_rng(0)
    module = _mlp(n_features=4, n_classes=3, activation=torch.nn.ReLU)
    X = rng.normal(size=(50, 4))
    y = rng.integers(0, 3, 50)
    X_adv = pgd_attack(module, X, y, epsilon=epsilon, n_steps=15, step_size=0.03,
                       random_state=0, batch_size=16)
    assert np.abs(X_adv - X).max() <= epsilon + 1e-12
    clipped = pgd_attack(module, X, y, epsilon=epsilon, n_steps=5, clip=(-0.5, 0.5),
                         random_state=0)
    assert clipped.min() >= -0.5 and clipped.max() <= 0.5
    np.testing.assert_array_equal(
        X_adv, pgd_attack(module, X, y, epsilon=epsilon, n_steps=15, step_size=0.03,
                          random_state=0, batch_size=50))


def test_pgd_on_linear_model_reaches_the_worst_corner():
    # For the binary linear model the gradient sign is constant (see the FGSM test), so 40 steps
    # of 0.01 from any start inside a 0.05 ball end at x - s eps sign(w), s = +1 for y = 1.
    rng = np.random.default_rng(0)
    w = np.array([1.0, -2.0, 0.5])
    module = _linear([[0.0, 0.0, 0.0], w], [0.0, 0.1])
    X = rng.normal(scale=0.3, size=(40, 3))
    y = rng.integers(0, 2, 40)
    s = np.where(y == 1, 1.0, -1.0)[:, None]
    expected = X - s * 0.05 * np.sign(w)
    X_adv = pgd_attack(module, X, y, epsilon=0.05, random_state=1)
    np.testing.assert_allclose(X_adv, expected, atol=1e-12)
    np.testing.assert_allclose(fgsm_attack(module, X, y, epsilon=0.05), expected, atol=1e-12)


def test_robust_accuracy_linear_closed_form_and_monotone():
    rng = np.random.default_rng(0)
    w = np.array([1.0, -2.0, 0.5])
    b = 0.1
    module = _linear([[0.0, 0.0, 0.0], w], [0.0, b])
    X = rng.normal(scale=0.3, size=(200, 3))
    y = (X @ w + b + rng.normal(scale=0.2, size=200) > 0).astype(int)
    clean = float(np.mean((X @ w + b > 0) == y))
    previous = clean
    for eps in (0.0, 0.02, 0.05, 0.1):
        # The attack lowers the true-class margin by eps ||w||_1.
        margin = np.where(y == 1, X @ w + b, -(X @ w + b)) - eps * np.abs(w).sum()
        expected = float(np.mean(margin > 0)) if eps > 0 else clean
        fgsm = robust_accuracy(module, X, y, attack="fgsm", epsilon=eps)
        pgd = robust_accuracy(module, X, y, attack="pgd", epsilon=eps, random_state=0)
        assert fgsm == pytest.approx(expected)
        assert pgd == pytest.approx(expected)
        assert pgd <= previous
        previous = pgd
    assert robust_accuracy(module, X, y, epsilon=0.0) == clean


def test_robust_accuracy_labels_through_classes():
    module = _linear([[0.0], [1.0]])
    wrapped = SimpleNamespace(net_=SimpleNamespace(module_=module),
                              classes_=np.array(["neg", "pos"]), device="cpu")
    X, y = [[-1.0], [-0.01], [0.01], [1.0]], ["neg", "neg", "pos", "pos"]
    assert robust_accuracy(wrapped, X, y, epsilon=0.0) == 1.0
    assert robust_accuracy(wrapped, X, y, epsilon=0.1) == 0.5


def test_attack_errors():
    module = _linear([[1.0, 0.0], [0.0, 1.0]])
    X = np.zeros((2, 2))
    with pytest.raises(ValueError, match="'attack' parameter"):
        robust_accuracy(module, X, [0, 1], attack="cw")
    with pytest.raises(ValueError, match="'epsilon' parameter"):
        fgsm_attack(module, X, [0, 1], epsilon=-0.1)
    with pytest.raises(ValueError, match="'n_steps' parameter"):
        pgd_attack(module, X, [0, 1], n_steps=-1)
    with pytest.raises(ValueError, match="clip must satisfy low <= high"):
        pgd_attack(module, X, [0, 1], clip=(1.0, 0.0))
    with pytest.raises(ValueError, match="y has 1 entries"):
        fgsm_attack(module, X, [0])
    with pytest.raises(ValueError, match="outside \\[0, 2\\)"):
        fgsm_attack(module, X, [0, 2])


# --------------------------------------------------------------------------------------------
# integrated gradients and protected-feature sensitivity
# --------------------------------------------------------------------------------------------

def _brute_ig(module, X, target, baseline, n_steps):
    """IG with explicit loops over rows and trapezoid nodes, one autograd call per point."""
    out = np.zeros_like(X)
    for i in range(len(X)):
        total = np.zeros(X.shape[1])
        for s in range(n_steps + 1):
            alpha = s / n_steps
            point = torch.tensor(baseline[i] + alpha * (X[i] - baseline[i]), requires_grad=True)
            module(point[None])[0, target[i]].backward()
            weight = 0.5 if s in (0, n_steps) else 1.0
            total += weight * point.grad.numpy() / n_steps
        out[i] = (X[i] - baseline[i]) * total
    return out


def test_integrated_gradients_matches_brute_force():
    rng = np.random.default_rng(0)
    module = _mlp(n_features=3, n_classes=3)
    X = rng.normal(size=(5, 3))
    target = rng.integers(0, 3, 5)
    baseline = rng.uniform(-1, 1, size=(5, 3))
    got = integrated_gradients(module, X, target, baseline=baseline, n_steps=12)
    np.testing.assert_allclose(got, _brute_ig(module, X, target, baseline, 12), atol=1e-12)


def test_integrated_gradients_completeness():
    rng = np.random.default_rng(1)
    module = _mlp(n_features=4, n_classes=3, seed=1)
    X = rng.normal(size=(30, 4))
    target = rng.integers(0, 3, 30)
    baseline = rng.uniform(-1, 1, size=(30, 4))
    with torch.no_grad():
        fx = module(torch.as_tensor(X)).numpy()[np.arange(30), target]
        fb = module(torch.as_tensor(baseline)).numpy()[np.arange(30), target]
    gaps = []
    for n_steps in (10, 50, 200):
        attr = integrated_gradients(module, X, target, baseline=baseline, n_steps=n_steps)
        gaps.append(np.abs(attr.sum(axis=1) - (fx - fb)).max())
    # Trapezoid error is O(n^-2) on a smooth model: tiny at 200 steps and shrinking.
    assert gaps[2] < 1e-4 * max(1.0, np.abs(fx - fb).max())
    assert gaps[0] > gaps[1] > gaps[2]


def test_integrated_gradients_linear_exact_and_defaults():
    W = np.array([[1.0, -1.0], [0.5, 2.0]])
    module = _linear(W)
    X = np.array([[1.0, 2.0], [-3.0, 0.5]])
    # Linear model: IG = (x - b) * w_target exactly, for any number of steps.
    np.testing.assert_allclose(integrated_gradients(module, X, [0, 1], n_steps=1),
                               X * W[[0, 1]], atol=1e-15)
    # target=None explains the predicted class: logits row 0 = (-1, 4.5) -> 1; row 1 =
    # (-3.5, -0.5) -> 1.
    np.testing.assert_allclose(integrated_gradients(module, X), X * W[[1, 1]], atol=1e-15)
    # The random baseline is one U(-1, 1) draw per row from random_state.
    baseline = np.random.RandomState(4).uniform(-1, 1, size=X.shape)
    np.testing.assert_allclose(
        integrated_gradients(module, X, [0, 1], baseline="random", random_state=4),
        (X - baseline) * W[[0, 1]], atol=1e-15)


def test_protected_feature_sensitivity_hand_computed():
    # Explaining class 1 with a zero baseline: IG = x * w, so mean |IG| = mean|x| * |w|.
    X = np.array([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]])

    def sensitivity(weights, features, **kwargs):
        module = _linear([np.zeros(len(weights)), weights])
        X_d = X[:, :len(weights)]
        return protected_feature_sensitivity(module, X_d, [1, 1], features=features,
                                             baseline="zeros", **kwargs)

    # g = (1, 3, 2): min-max -> (0, 1, 0.5).
    w = [1.0, 3.0, 2.0]
    assert sensitivity(w, 2) == pytest.approx(0.5)
    assert sensitivity(w, [0, 1]) == pytest.approx(0.5)
    assert sensitivity(w, np.array([False, True, True])) == pytest.approx(0.75)
    assert sensitivity(w, -1) == pytest.approx(0.5)
    assert sensitivity(w, 2, normalize="share") == pytest.approx(2 / 6)
    # Two features, g = (1, 3): the reference rule |g| / (max - min) gives (0.5, 1.5), i.e.
    # values above 1 (quirk 17); min-max gives (0, 1).
    assert sensitivity([1.0, 3.0], 0) == pytest.approx(0.5)
    assert sensitivity([1.0, 3.0], 1) == pytest.approx(1.5)
    assert sensitivity([1.0, 3.0], 1, normalize="minmax") == pytest.approx(1.0)
    assert sensitivity([1.0, 3.0], 0, normalize="minmax") == pytest.approx(0.0)
    # Equal attributions: min-max standardization is undefined.
    assert np.isnan(sensitivity([2.0, 2.0], 0))


def test_protected_feature_sensitivity_protected_feature_ignored_by_model():
    rng = np.random.default_rng(0)
    module = _mlp(n_features=4, n_classes=2)
    with torch.no_grad():
        module[0].weight[:, 3] = 0.0  # the model cannot use feature 3
    X = rng.normal(size=(40, 4))
    value = protected_feature_sensitivity(module, X, features=3, random_state=0)
    assert value == 0.0
    assert protected_feature_sensitivity(module, X, features=[0, 1, 2], random_state=0) > 0


def test_attribution_errors():
    module = _linear([[1.0, 0.0], [0.0, 1.0]])
    X = np.zeros((2, 2))
    with pytest.raises(ValueError, match="'baseline' parameter"):
        integrated_gradients(module, X, baseline="mean")
    with pytest.raises(ValueError, match="baseline must have shape"):
        integrated_gradients(module, X, baseline=np.zeros(3))
    with pytest.raises(ValueError, match="'n_steps' parameter"):
        integrated_gradients(module, X, n_steps=0)
    with pytest.raises(ValueError, match="'normalize' parameter"):
        protected_feature_sensitivity(module, X, features=0, normalize="zscore")
    with pytest.raises(ValueError, match="features contains indices outside"):
        protected_feature_sensitivity(module, X, features=5)
    with pytest.raises(ValueError, match="Feature names can only be used"):
        protected_feature_sensitivity(module, X, features="age")
    with pytest.raises(ValueError, match="at least one protected feature"):
        protected_feature_sensitivity(module, X, features=[])


# --------------------------------------------------------------------------------------------
# integration with a fitted CTClassifier
# --------------------------------------------------------------------------------------------

def test_metrics_accept_fitted_ct_classifier():
    from sklearn_ct import CTClassifier

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-1, 0.5, (40, 2)), rng.normal(1, 0.5, (40, 2))])
    y = np.repeat(["no", "yes"], 40)
    clf = CTClassifier(objective="vanilla", max_epochs=3, random_state=0).fit(X, y)
    module = clf.net_.module_
    y_idx = (y == "yes").astype(int)
    # Labels through classes_ must give the same numbers as indices through the bare module.
    assert counterfactual_validity(clf, X, y) == counterfactual_validity(module, X, y_idx)
    assert counterfactual_validity(clf, X, y) == pytest.approx(np.mean(clf.predict(X) == y))
    assert robust_accuracy(clf, X, y, epsilon=0.1) == robust_accuracy(module, X, y_idx,
                                                                      epsilon=0.1)
    np.testing.assert_array_equal(integrated_gradients(clf, X[:5], y[:5]),
                                  integrated_gradients(module, X[:5], y_idx[:5]))
    assert 0 <= ynn(clf, X[:10], "yes", X) <= 1
