"""Property tests (issue 10): constraints hold for every row, inside and outside the domain.

For every generator (Generic, ECCo, REVISE, Growing Spheres) and for the batched search
engine that CT trains with, with factuals drawn inside and outside the inferred domain:

* immutable features never change;
* monotone features never move the wrong way;
* rows already at their target are returned unchanged;
* the domain holds for every feature whose factual value was inside it.

Declared constraints win over the domain (issue 10, item 2), whether the explainer declares
them or the explained ``CTClassifier`` was trained with them. The explicit examples, far
outside the domain on every side, make the outcome deterministic.
"""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sklearn_ct import (
    CounterfactualExplainer,
    CTClassifier,
    ECCoGenerator,
    GenericGenerator,
    GrowingSpheresGenerator,
    REVISEGenerator,
    search_counterfactuals,
)

D = 3
DIRECTIONS = ["none", "increase", "decrease", "both"]
GENERATORS = ["generic", "ecco", "revise", "growing_spheres"]
PROPERTY_SETTINGS = settings(
    max_examples=15, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Factuals: values in [-5, 5]; the training data live in [-1, 2], so the inferred domain
#: (about [-1.7, 2.7]) leaves many drawn values outside.
factuals = hnp.arrays(np.float64, st.tuples(st.integers(1, 8), st.just(D)),
                      elements=st.floats(-5.0, 5.0, allow_nan=False, width=32))
directions = st.lists(st.sampled_from(DIRECTIONS), min_size=D, max_size=D)

#: Explicit examples with factuals far outside the domain on every side.
OUTSIDE = np.array([[-4.5, 4.5, -4.0], [4.0, -4.5, 4.5], [0.5, 4.8, -4.8], [4.9, 0.2, 0.3],
                    [-4.9, -4.9, 4.9], [0.1, 0.4, 0.6]])


def _data(n=300, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1.0, 2.0, size=(n, D))
    y = (X[:, 0] + X[:, 1] - 0.5 * X[:, 2] > 0.75).astype(int)
    return X, y


def _generator(name):
    return {
        "generic": GenericGenerator(),
        "ecco": ECCoGenerator(),
        "revise": REVISEGenerator(max_epochs=5),
        "growing_spheres": GrowingSpheresGenerator(n_candidates=50),
    }[name]


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture(scope="module")
def model(data):
    X, y = data
    return CTClassifier(objective="vanilla", max_epochs=30, hidden_layer_sizes=(16,),
                        random_state=0).fit(X, y)


#: Mutability the explained CTClassifier is trained with (CT's own constraints).
MODEL_MUTABILITY = [{0: "none"}, {1: "increase", 2: "decrease"}, {0: "none", 2: "increase"}]


@pytest.fixture(scope="module")
def constrained_models(data):
    X, y = data
    return [CTClassifier(mutability=m, max_epochs=10, hidden_layer_sizes=(16,),
                         n_counterfactuals=64, max_steps=10, random_state=0).fit(X, y)
            for m in MODEL_MUTABILITY]


def _check_constraints(X, cf, dirs, low, high):
    """Immutable unchanged, monotone the right way, domain held where the factual was in."""
    dirs = np.asarray(dirs)
    fixed = dirs == "none"
    np.testing.assert_array_equal(cf[:, fixed], X[:, fixed])
    inc, dec = dirs == "increase", dirs == "decrease"
    assert (cf[:, inc] >= X[:, inc]).all(), "an increase-only feature decreased"
    assert (cf[:, dec] <= X[:, dec]).all(), "a decrease-only feature increased"
    inside = (X >= low) & (X <= high)
    held = (cf >= low) & (cf <= high)
    assert held[inside].all(), "a feature inside the domain left it"


# -- the explainer, with declared constraints ----------------------------------------------


@pytest.mark.parametrize("generator", GENERATORS)
@PROPERTY_SETTINGS
@given(X=factuals, dirs=directions)
@example(X=OUTSIDE, dirs=["none", "increase", "decrease"])
@example(X=OUTSIDE, dirs=["increase", "decrease", "both"])
def test_declared_constraints_hold_inside_and_outside_domain(data, model, generator, X, dirs):
    X_train, _ = data
    explainer = CounterfactualExplainer(
        model, generator=_generator(generator), mutability=dict(enumerate(dirs)),
        max_steps=30, random_state=0,
    ).fit(X_train)
    cf = explainer.transform(X)
    _check_constraints(X, cf, dirs, explainer.domain_[:, 0], explainer.domain_[:, 1])


def _rows_at_target(data, model, generator, X, at_target, dirs):
    X_train, _ = data
    explainer = CounterfactualExplainer(
        model, generator=_generator(generator), mutability=dict(enumerate(dirs)),
        max_steps=30, random_state=0,
    ).fit(X_train)
    predicted = model.predict(X)
    mask = np.resize(np.asarray(at_target, dtype=bool), len(X))
    target = np.where(mask, predicted, 1 - predicted)
    result = explainer.explain(X, target=target)
    np.testing.assert_array_equal(result.already_target, mask)
    np.testing.assert_array_equal(result.counterfactuals[mask], X[mask])
    assert (result.n_iter[mask] == 0).all()
    _check_constraints(X, result.counterfactuals, dirs, explainer.domain_[:, 0],
                       explainer.domain_[:, 1])


@pytest.mark.parametrize("generator", GENERATORS)
@PROPERTY_SETTINGS
@given(X=factuals, at_target=st.lists(st.booleans(), min_size=1, max_size=8), dirs=directions)
@example(X=OUTSIDE[:, :], at_target=[True], dirs=["both"] * D)
def test_rows_at_target_are_unchanged_inside_domain(data, model, generator, X, at_target,
                                                    dirs):
    # The same property restricted to factuals inside the domain: it holds today.
    X = np.clip(X, -1.0, 2.0)
    _rows_at_target(data, model, generator, X, at_target, dirs)


@pytest.mark.parametrize("generator", GENERATORS)
@PROPERTY_SETTINGS
@given(X=factuals, at_target=st.lists(st.booleans(), min_size=1, max_size=8), dirs=directions)
@example(X=OUTSIDE, at_target=[True], dirs=["both"] * D)
def test_rows_at_target_are_unchanged_outside_domain(data, model, generator, X, at_target,
                                                     dirs):
    _rows_at_target(data, model, generator, X, at_target, dirs)


# -- the explainer, with the explained CTClassifier's own constraints ----------------------


def _model_constraints(data, constrained_models, generator, X, which):
    X_train, _ = data
    clf = constrained_models[which]
    explainer = CounterfactualExplainer(clf, generator=_generator(generator), max_steps=30,
                                        random_state=0).fit(X_train)
    cf = explainer.transform(X)
    dirs = clf.mutability_
    _check_constraints(X, cf, dirs, explainer.domain_[:, 0], explainer.domain_[:, 1])


@pytest.mark.parametrize("generator", GENERATORS)
@PROPERTY_SETTINGS
@given(X=factuals, which=st.integers(0, len(MODEL_MUTABILITY) - 1))
def test_model_constraints_hold_inside_domain(data, constrained_models, generator, X, which):
    _model_constraints(data, constrained_models, generator, np.clip(X, -1.0, 2.0), which)


@pytest.mark.parametrize("generator", GENERATORS)
@PROPERTY_SETTINGS
@given(X=factuals, which=st.integers(0, len(MODEL_MUTABILITY) - 1))
@example(X=OUTSIDE, which=0)
@example(X=OUTSIDE, which=1)
def test_model_constraints_hold_outside_domain(data, constrained_models, generator, X, which):
    _model_constraints(data, constrained_models, generator, X, which)


# -- the search engine that CT trains with -------------------------------------------------


@pytest.mark.parametrize("generator", ["generic", "ecco", "revise"])
@PROPERTY_SETTINGS
@given(X=factuals, dirs=directions)
@example(X=OUTSIDE, dirs=["none", "increase", "decrease"])
def test_search_engine_constraints(data, model, generator, X, dirs):
    # The batched search of CTClassifier's training (public: search_counterfactuals), with
    # the training-time domain and mutability masks.
    X_train, _ = data
    gen = _generator(generator).fit(X_train)
    module = model.net_.module_
    low, high = model.domain_[:, 0], model.domain_[:, 1]
    dirs_arr = np.asarray(dirs)
    x = torch.as_tensor(X, dtype=torch.float32)
    target = torch.as_tensor(1 - model.predict(X), dtype=torch.long)
    result = search_counterfactuals(
        module, x, target, gen, max_steps=20,
        lower=torch.as_tensor(low, dtype=torch.float32),
        upper=torch.as_tensor(high, dtype=torch.float32),
        can_increase=torch.as_tensor(np.isin(dirs_arr, ["increase", "both"])),
        can_decrease=torch.as_tensor(np.isin(dirs_arr, ["decrease", "both"])),
    )
    cf = result.counterfactuals.double().numpy()
    X32 = x.double().numpy()
    _check_constraints(X32, cf, dirs, low.astype(np.float32), high.astype(np.float32))


def _cube(z):
    return z ** 3


def test_model_constraints_are_mapped_through_the_preprocessing(data):
    # The explainer reports the model's training constraints on the features of X: through
    # a positive scaler with their direction; through a transformer whose structure is
    # unknown (every feature may feed every column) they stay joint constraints, enforced
    # by the search in model space only.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    X_train, y = data
    mutability = {0: "increase", 1: "decrease"}
    fast = dict(max_epochs=2, hidden_layer_sizes=(8,), n_counterfactuals=32, max_steps=5,
                random_state=0)
    scaled = make_pipeline(StandardScaler(), CTClassifier(mutability=mutability, **fast))
    explainer = CounterfactualExplainer(scaled.fit(X_train, y), max_steps=10,
                                        random_state=0).fit(X_train)
    assert list(explainer.mutability_) == ["increase", "decrease", "both"]
    X = OUTSIDE
    cf = explainer.transform(X)
    _check_constraints(X, cf, explainer.mutability_, explainer.domain_[:, 0],
                       explainer.domain_[:, 1])

    cube_root = FunctionTransformer(np.cbrt, inverse_func=_cube, check_inverse=False,
                                    feature_names_out="one-to-one")
    cubed = make_pipeline(cube_root, CTClassifier(mutability=mutability, **fast))
    explainer = CounterfactualExplainer(cubed.fit(X_train, y), max_steps=10,
                                        random_state=0).fit(X_train)
    assert list(explainer.mutability_) == ["both", "both", "both"]
    np.testing.assert_array_equal(explainer._space.can_increase, [True, False, True])
    np.testing.assert_array_equal(explainer._space.can_decrease, [False, True, True])
