"""scikit-learn's estimator checks on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ct import CTClassifier


def _tested_estimators():
    # Small but real configurations: CT is on (counterfactuals are generated every epoch),
    # and enough epochs for check_classifiers_train's accuracy bar.
    yield CTClassifier(max_epochs=30, batch_size=16, n_counterfactuals=32, max_steps=10,
                       random_state=0)


@parametrize_with_checks(list(_tested_estimators()))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
