"""scikit-learn's estimator checks on every estimator the package exports."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import inspect

from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_ct
from sklearn_ct import CTClassifier
from sklearn_ct.explainers import CounterfactualExplainer
from sklearn_ct.generators import (
    ECCCoGenerator,
    ECCoGenerator,
    GenericGenerator,
    GrowingSpheresGenerator,
    REVISEGenerator,
)


def _tested_estimators():
    # Small but real configurations: CT is on (counterfactuals are generated every epoch),
    # and enough epochs for check_classifiers_train's accuracy bar.
    yield CTClassifier(max_epochs=30, batch_size=16, n_counterfactuals=32, max_steps=10,
                       random_state=0)
    # The alternatives CT is compared with, and CT with the conformal generator (which
    # holds out its calibration rows from training).
    yield CTClassifier(objective="jem", max_epochs=30, batch_size=16, sgld_steps=5,
                       sgld_buffer_size=200, random_state=0)
    yield CTClassifier(objective="pgd", max_epochs=30, batch_size=16, pgd_steps=3,
                       adversarial_epsilon=0.1, random_state=0)
    yield CTClassifier(generator="ecco_conformal", max_epochs=30, batch_size=16,
                       n_counterfactuals=32, max_steps=10, random_state=0)
    # An unfitted CTClassifier: every check fits the explainer on its own data, and the
    # explainer then fits a (small, seeded) clone of the model. A frozen pre-fitted model
    # could not follow the checks' changing numbers of features.
    yield CounterfactualExplainer(
        CTClassifier(objective="vanilla", max_epochs=5, random_state=0),
        max_steps=20, random_state=0,
    )
    yield GenericGenerator(distance="mad_l1")
    yield ECCoGenerator()
    yield ECCCoGenerator(random_state=0)
    yield REVISEGenerator(max_epochs=2, random_state=0)
    yield GrowingSpheresGenerator(random_state=0)


#: Checks that fail on purpose, per estimator class.
_EXPECTED_FAILED = {
    CounterfactualExplainer: {
        # The check asks estimators with a `max_iter` attribute for `n_iter_` (scikit-learn's
        # max_iter bounds the iterations of fit). The search budget is called `max_steps`;
        # `max_iter` remains only as its deprecated alias until 0.3, when this entry goes.
        "check_transformer_n_iter": "max_iter is a deprecated alias of max_steps until 0.3",
    },
}


@parametrize_with_checks(
    list(_tested_estimators()),
    expected_failed_checks=lambda est: _EXPECTED_FAILED.get(type(est), {}),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_every_exported_estimator_is_checked():
    exported = {
        obj for module in (sklearn_ct, sklearn_ct.explainers, sklearn_ct.generators)
        for name in module.__all__
        if inspect.isclass(obj := getattr(module, name)) and issubclass(obj, BaseEstimator)
        and not inspect.isabstract(obj) and not name.startswith("Base")
    }
    assert exported == {type(est) for est in _tested_estimators()}
