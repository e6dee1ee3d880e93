"""Tests of invalidation_rate (sklearn_ct.metrics._invalidation) and its scorer.

Independent truths: for a linear model the noise invalidation probability has a closed
form (a Gaussian CDF of the margin over the noise's standard deviation along the weight
vector); hand-built step models of which exactly k of n disagree; a deterministic learner
refitted on the same data is the same model (rate 0); the refits' data and seeds are
recorded by a spy estimator.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import norm
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import cross_validate
from sklearn.preprocessing import StandardScaler

from sklearn_ct import CTClassifier, ECCoGenerator
from sklearn_ct.datasets import load_synthetic
from sklearn_ct.explainers import CounterfactualExplainer
from sklearn_ct.metrics import (
    counterfactual_validity,
    get_scorer,
    get_scorer_names,
    invalidation_rate,
    make_counterfactual_scorer,
    make_scoring,
)


class StepModel(ClassifierMixin, BaseEstimator):
    """p(classes[1] | x) = 1 if x[0] > cut else 0: a model whose decisions are known."""

    def __init__(self, cut=0.0, classes=(0, 1)):
        self.cut = cut
        self.classes = classes

    def fit(self, X, y=None):
        self.classes_ = np.asarray(self.classes)
        return self

    def predict_proba(self, X):
        X = np.asarray(X, dtype=float)
        if len(self.classes_) == 1:
            return np.ones((X.shape[0], 1))
        p1 = (X[:, 0] > self.cut).astype(float)
        return np.column_stack([1 - p1, p1])


class SpyClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression that records the data and seed of every fit (class-level log)."""

    log = []

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y):
        type(self).log.append((np.array(X, copy=True), np.array(y, copy=True),
                               self.random_state))
        self._lr = LogisticRegression().fit(X, y)
        self.classes_ = self._lr.classes_
        return self

    def predict_proba(self, X):
        return self._lr.predict_proba(X)


@pytest.fixture(scope="module")
def linear():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 2))
    y = (X @ [1.5, -0.7] + 0.3 > 0).astype(int)
    return X, y, LogisticRegression(C=1.0).fit(X, y)


# -- noise: closed form -------------------------------------------------------------------


@pytest.mark.parametrize("scale", [0.3, [0.5, 0.2]])
def test_noise_matches_the_gaussian_cdf_of_the_margin(linear, scale):
    X, _, clf = linear
    w, b = clf.coef_[0], clf.intercept_[0]
    X_cf = np.array([[0.2, 0.1], [1.0, -0.5], [0.05, 0.0], [2.0, 1.0], [-1.0, 0.3],
                     [-0.3, 0.2]])
    target = np.array([1, 1, 1, 1, 0, 0])
    margin = X_cf @ w + b
    sigma = np.sqrt(np.sum(w ** 2 * np.broadcast_to(np.asarray(scale) ** 2, 2)))
    # Towards class 1 the counterfactual is lost when the margin turns negative, towards
    # class 0 when it turns positive.
    signed = np.where(target == 1, margin, -margin)
    assert np.all(signed > 0), "all test counterfactuals must be valid"
    expected = norm.cdf(-signed / sigma)
    rates = invalidation_rate(clf, X_cf, target, noise_scale=scale, n_draws=20000,
                              aggregate=False, random_state=0)
    # Monte Carlo standard error <= 0.5 / sqrt(20000) = 0.0035.
    np.testing.assert_allclose(rates, expected, atol=0.015)
    mean = invalidation_rate(clf, X_cf, target, noise_scale=scale, n_draws=20000,
                             random_state=0)
    assert mean == pytest.approx(rates.mean())


def test_noise_with_a_probability_threshold(linear):
    X, _, clf = linear
    w, b = clf.coef_[0], clf.intercept_[0]
    X_cf = np.array([[1.0, 0.0], [1.5, -1.0]])
    t = 0.8
    margin = X_cf @ w + b
    assert np.all(margin > np.log(t / (1 - t)))
    # p(1) >= t  <=>  margin >= logit(t).
    expected = norm.cdf((np.log(t / (1 - t)) - margin) / (0.4 * np.linalg.norm(w)))
    rates = invalidation_rate(clf, X_cf, 1, noise_scale=0.4, n_draws=20000, threshold=t,
                              aggregate=False, random_state=1)
    np.testing.assert_allclose(rates, expected, atol=0.015)


def test_zero_noise_on_a_feature_leaves_it_alone(linear):
    X, _, clf = linear
    w, b = clf.coef_[0], clf.intercept_[0]
    x = np.array([[0.3, 0.0]])
    expected = norm.cdf(-(x @ w + b) / (0.5 * abs(w[1])))
    rate = invalidation_rate(clf, x, 1, noise_scale=[0.0, 0.5], n_draws=20000,
                             random_state=0)
    assert rate == pytest.approx(expected[0], abs=0.015)


def test_invalid_rows_are_nan_and_left_out(linear):
    _, _, clf = linear
    X_cf = np.array([[2.0, 0.0], [-2.0, 0.0]])  # the second is not of class 1
    rates = invalidation_rate(clf, X_cf, 1, aggregate=False, random_state=0)
    assert np.isfinite(rates[0]) and np.isnan(rates[1])
    assert invalidation_rate(clf, X_cf, 1, random_state=0) == rates[0]
    with pytest.warns(UndefinedMetricWarning, match="None of the 1"):
        assert np.isnan(invalidation_rate(clf, X_cf[1:], 1, random_state=0))


def _near_boundary(clf, margins):
    """Points of the linear model ``clf`` at the given margins (w.x + b)."""
    w, b = clf.coef_[0], clf.intercept_[0]
    return np.outer(np.asarray(margins) - b, w) / (w @ w)


def test_noise_is_deterministic_given_random_state(linear):
    _, _, clf = linear
    X_cf = _near_boundary(clf, [0.05, 0.1, 0.2])
    a = invalidation_rate(clf, X_cf, 1, aggregate=False, random_state=3)
    b = invalidation_rate(clf, X_cf, 1, aggregate=False, random_state=3)
    c = invalidation_rate(clf, X_cf, 1, aggregate=False, random_state=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    rng = np.random.RandomState(7)
    d = invalidation_rate(clf, X_cf, 1, aggregate=False, random_state=rng)
    e = invalidation_rate(clf, X_cf, 1, aggregate=False, random_state=rng)
    assert not np.array_equal(d, e)  # a RandomState instance moves on


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_noise_on_dataframes_keeps_feature_names():
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(100, 2)), columns=["income", "debt"])
    y = (X["income"] > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    X_cf = pd.DataFrame([[1.0, 0.0], [2.0, 1.0]], columns=X.columns, index=[10, 20])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        rates = invalidation_rate(clf, X_cf, 1, n_draws=50, aggregate=False,
                                  random_state=0)
    np.testing.assert_array_equal(
        rates, invalidation_rate(clf, X_cf.to_numpy(), 1, n_draws=50, aggregate=False,
                                 random_state=0))


def test_torch_module_with_integer_targets():
    module = torch.nn.Linear(2, 2)
    with torch.no_grad():
        module.weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
        module.bias.zero_()
    X_cf = np.array([[3.0, 0.0], [0.2, 0.0]])
    rates = invalidation_rate(module, X_cf, [1, 1], noise_scale=0.1, n_draws=20000,
                              aggregate=False, random_state=0)
    # Logit difference is x0: invalid when x0 + 0.1 z < 0.
    np.testing.assert_allclose(rates, norm.cdf(-X_cf[:, 0] / 0.1), atol=0.015)


# -- retraining ---------------------------------------------------------------------------


def test_k_of_n_alternative_models_disagree():
    clf = StepModel(cut=0.0).fit(None)
    X_cf = np.array([[0.5], [1.5], [2.5], [-1.0]])
    models = [StepModel(cut=c).fit(None) for c in (0.0, 1.0, 2.0, 3.0, 0.2)]
    rates = invalidation_rate(clf, X_cf, 1, kind="retrain", models=models,
                              aggregate=False)
    # x=0.5 is lost under cuts 1, 2, 3; x=1.5 under 2, 3; x=2.5 under 3; x=-1 not valid.
    np.testing.assert_array_equal(rates[:3], [3 / 5, 2 / 5, 1 / 5])
    assert np.isnan(rates[3])
    assert invalidation_rate(clf, X_cf, 1, kind="retrain", models=models) == \
        pytest.approx(np.mean([3 / 5, 2 / 5, 1 / 5]))
    # Towards class 0 (the row at -1): valid, and lost under no model with cut >= -1.
    assert invalidation_rate(clf, X_cf[3:], 0, kind="retrain", models=models) == 0.0


def test_a_model_without_the_target_class_invalidates():
    clf = StepModel(cut=0.0, classes=("bad", "good")).fit(None)
    models = [StepModel(cut=0.0, classes=("bad", "good")).fit(None),
              StepModel(classes=("bad",)).fit(None)]
    rate = invalidation_rate(clf, [[1.0], [2.0]], "good", kind="retrain", models=models)
    assert rate == 0.5


def test_a_deterministic_learner_refitted_on_the_same_data_is_the_same_model(linear):
    X, y, clf = linear
    X_cf = _near_boundary(clf, [0.01, 5.0, -2.0])
    target = clf.predict(X_cf)
    rate = invalidation_rate(clf, X_cf, target, kind="retrain", X=X, y=y, n_models=3,
                             bootstrap=False, random_state=0)
    assert rate == 0.0
    # Bootstraps move the boundary: a counterfactual right on it is lost sometimes, one
    # far from it never.
    rates = invalidation_rate(clf, X_cf[:2], 1, kind="retrain", X=X, y=y, n_models=20,
                              random_state=0, aggregate=False)
    assert 0 < rates[0] < 1 and rates[1] == 0


def test_refits_use_new_seeds_and_bootstrap_samples():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    spy = SpyClassifier(random_state=0).fit(X, y)
    SpyClassifier.log.clear()
    invalidation_rate(FrozenEstimator(spy), [[2.0, 0.0]], 1, kind="retrain", X=X, y=y,
                      n_models=4, random_state=0)
    # FrozenEstimator is unwrapped: the model inside is retrained, four times.
    assert len(SpyClassifier.log) == 4
    seeds = [seed for _, _, seed in SpyClassifier.log]
    assert len(set(seeds)) == 4 and all(isinstance(s, int) for s in seeds)
    rows = {tuple(r) for r in X}
    for Xb, yb, _ in SpyClassifier.log:
        assert Xb.shape == X.shape
        assert {tuple(r) for r in Xb} <= rows
        assert len({tuple(r) for r in Xb}) < len(X)  # drawn with replacement
        np.testing.assert_array_equal(yb, (Xb[:, 0] > 0).astype(int))
    SpyClassifier.log.clear()
    invalidation_rate(spy, [[2.0, 0.0]], 1, kind="retrain", X=X, y=y, n_models=2,
                      bootstrap=False, random_state=0)
    for Xb, _, _ in SpyClassifier.log:
        np.testing.assert_array_equal(Xb, X)
    assert spy.random_state == 0  # the estimator itself is untouched


def test_retraining_is_deterministic_and_leaves_the_estimator_alone(linear):
    X, y, _ = linear
    sgd = SGDClassifier(loss="log_loss", random_state=0).fit(X, y)
    coef = sgd.coef_.copy()
    X_cf = np.array([[0.05, 0.0], [0.1, 0.1], [0.0, -0.2], [0.3, 0.4]])
    target = sgd.predict(X_cf)
    kwargs = dict(kind="retrain", X=X, y=y, n_models=5, aggregate=False)
    a = invalidation_rate(sgd, X_cf, target, random_state=0, **kwargs)
    b = invalidation_rate(sgd, X_cf, target, random_state=0, **kwargs)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(sgd.coef_, coef)


def test_seedless_learner_without_bootstrap_warns(linear):
    X, y, _ = linear
    clf = StepModel().fit(X, y)
    with pytest.warns(UserWarning, match="no random_state parameter and bootstrap=False"):
        invalidation_rate(clf, [[1.0, 0.0]], 1, kind="retrain", X=X, y=y, n_models=2,
                          bootstrap=False)


def test_retrain_accepts_non_numeric_inputs_for_pipelines():
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X = pd.DataFrame({"city": ["a", "b", "a", "b"] * 10, "x": np.linspace(-1, 1, 40)})
    y = (X["x"] > 0).astype(int)
    pipe = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["city"]), remainder="passthrough"),
        LogisticRegression()).fit(X, y)
    X_cf = pd.DataFrame({"city": ["a", "b"], "x": [0.9, 0.8]})
    assert invalidation_rate(pipe, X_cf, 1, kind="retrain", models=[pipe]) == 0.0
    with pytest.raises(ValueError, match="numeric"):
        invalidation_rate(pipe, X_cf, 1, kind="noise")


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, match", [
    (dict(kind="adversarial"), "kind"),
    (dict(kind="noise", models=[]), "only apply to kind='retrain'"),
    (dict(kind="noise", X=[[0.0, 0.0]]), "only apply to kind='retrain'"),
    (dict(kind="retrain"), "needs the alternative models"),
    (dict(kind="retrain", X=[[0.0, 0.0]]), "needs the alternative models"),
    (dict(kind="retrain", models=[], X=[[0.0, 0.0]], y=[0]), "either"),
    (dict(kind="retrain", models=[]), "at least one"),
    (dict(noise_scale=0.0), "noise_scale"),
    (dict(noise_scale=-1.0), "noise_scale"),
    (dict(noise_scale=[0.1, 0.1, 0.1]), "one value per feature"),
    (dict(noise_scale=[0.0, 0.0]), "at least one positive"),
    (dict(n_draws=0), "n_draws"),
    (dict(n_models=0), "n_models"),
    (dict(threshold=1.5), "threshold"),
    (dict(bootstrap="yes"), "bootstrap"),
])
def test_invalid_parameters(linear, kwargs, match):
    _, _, clf = linear
    with pytest.raises(ValueError, match=match):
        invalidation_rate(clf, [[1.0, 0.0]], 1, **kwargs)


def test_invalid_inputs(linear):
    X, y, clf = linear
    with pytest.raises(ValueError, match="not in the model's classes_"):
        invalidation_rate(clf, [[1.0, 0.0]], 7)
    with pytest.raises(ValueError, match="2 entries but there are 1"):
        invalidation_rate(clf, [[1.0, 0.0]], [1, 1])
    with pytest.raises(ValueError, match="contains NaN"):
        invalidation_rate(clf, [[np.nan, 0.0]], 1)
    with pytest.raises(ValueError, match="2-D"):
        invalidation_rate(clf, [1.0, 0.0], 1)
    with pytest.raises(TypeError, match="cannot be cloned"):
        invalidation_rate(torch.nn.Linear(2, 2), [[1.0, 0.0]], 1, kind="retrain", X=X,
                          y=y)
    with pytest.raises(ValueError, match="y must be 1-D"):
        invalidation_rate(clf, [[1.0, 0.0]], 1, kind="retrain", X=X, y=y[:5])


# -- scorer -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ct_data():
    ds = load_synthetic("linearly_separable", n_samples=300, random_state=0)
    scaler = StandardScaler().fit(ds.X_train)
    X, X_test = scaler.transform(ds.X_train), scaler.transform(ds.X_test)
    clf = CTClassifier(objective="vanilla", max_epochs=5, batch_size=16, lr=0.02,
                       random_state=0).fit(X, ds.y_train)
    return X, ds.y_train, X_test, ds.y_test, clf


def _scorer_seeds():
    # The scorer draws (row sub-sample, explainer, metric) seeds from its random_state.
    return np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=3)


def test_named_scorer_equals_the_metric_on_the_explanations(ct_data):
    _, _, X_test, y_test, clf = ct_data
    assert "neg_invalidation_noise" in get_scorer_names()
    scorer = get_scorer("neg_invalidation_noise")
    assert repr(scorer) == ("make_counterfactual_scorer('invalidation_rate', "
                            "greater_is_better=False, random_state=0, kind='noise')")
    explainer = CounterfactualExplainer(
        FrozenEstimator(clf), generator=ECCoGenerator(lambda_cost=0.0, lambda_energy=1.0),
        max_steps=50, decision_threshold=0.95, step_size=0.1,
        random_state=int(_scorer_seeds()[1])).fit(X_test, y_test)
    result = explainer.explain(X_test)
    valid = counterfactual_validity(clf, result.counterfactuals, result.target,
                                    aggregate=False)
    expected = invalidation_rate(clf, result.counterfactuals[valid], result.target[valid],
                                 random_state=int(_scorer_seeds()[2]))
    assert scorer(clf, X_test, y_test) == pytest.approx(-expected)
    assert 0 <= expected <= 1


def test_retrain_scorer_needs_fixed_models(ct_data):
    X, y, X_test, y_test, clf = ct_data
    with pytest.raises(ValueError, match="needs fixed alternative models"):
        make_counterfactual_scorer("invalidation_rate", kind="retrain")(clf, X_test, y_test)
    with pytest.raises(TypeError, match="Unexpected keyword"):
        make_counterfactual_scorer("invalidation_rate", X=X, y=y)
    itself = make_counterfactual_scorer("invalidation_rate", kind="retrain", models=[clf])
    assert itself(clf, X_test, y_test) == 0.0


def test_scorer_follows_the_validity_threshold(ct_data):
    _, _, X_test, y_test, clf = ct_data
    strict = make_counterfactual_scorer("invalidation_rate", validity_threshold=0.9,
                                        random_state=0, n_draws=20)
    loose = make_counterfactual_scorer("invalidation_rate", random_state=0, n_draws=20)
    # Staying above 0.9 is harder than staying the predicted class.
    assert strict(clf, X_test, y_test) <= loose(clf, X_test, y_test)


def test_scorer_in_cross_validate(ct_data):
    X, y, _, _, _ = ct_data
    scores = cross_validate(
        CTClassifier(objective="vanilla", max_epochs=3, batch_size=16, lr=0.02,
                     random_state=0),
        X, y, cv=2, scoring=make_scoring(["accuracy", "neg_invalidation_noise"]))
    values = scores["test_neg_invalidation_noise"]
    assert values.shape == (2,) and np.all((values <= 0) & (values >= -1))


def test_scorer_alias_and_valid_counterfactuals_only(ct_data):
    _, _, X_test, y_test, clf = ct_data
    by_name = make_counterfactual_scorer("invalidation", random_state=0, n_draws=20)
    assert repr(by_name).startswith("make_counterfactual_scorer('invalidation_rate'")
    # An invalid counterfactual cannot be invalidated: valid_only changes nothing.
    every = make_counterfactual_scorer("invalidation_rate", random_state=0, n_draws=20,
                                       valid_only=False)
    assert every(clf, X_test, y_test) == by_name(clf, X_test, y_test)
