"""CTClassifier inside scikit-learn's tooling: Pipeline, search, CV, clone, persistence."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import io
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ct import CTClassifier, ECCoGenerator

FAST = dict(max_epochs=5, batch_size=16, lr=0.02, max_steps=15, n_counterfactuals=40)


@pytest.fixture(scope="module")
def frame():
    X, y = make_blobs(150, centers=3, cluster_std=2.0, random_state=0)
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": 40 + 10 * X[:, 0], "income": 3000 + 500 * X[:, 1],
                       "debt": rng.normal(size=150)})
    labels = np.array(["low", "mid", "high"])[y]
    return df, labels


def test_pipeline_with_dataframe_string_labels_and_named_mutability(frame):
    df, labels = frame
    pipe = make_pipeline(
        StandardScaler(),
        CTClassifier(mutability={"age": "none", "debt": "decrease"}, random_state=0, **FAST),
    )
    # StandardScaler drops the names, so constraints by name live on the classifier when it
    # sees the DataFrame itself; in a pipeline use indices or set_output(transform="pandas").
    pipe.set_output(transform="pandas")
    pipe.fit(df, labels)
    clf = pipe[-1]
    assert list(clf.feature_names_in_) == ["age", "income", "debt"]
    assert list(clf.mutability_) == ["none", "both", "decrease"]
    assert set(pipe.predict(df)) <= {"low", "mid", "high"}
    assert list(clf.classes_) == ["high", "low", "mid"]
    proba = pipe.predict_proba(df)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert pipe.score(df, labels) > 0.7


def test_dataframe_named_constraints_directly(frame):
    df, labels = frame
    scaled = pd.DataFrame(StandardScaler().fit_transform(df), columns=df.columns)
    clf = CTClassifier(mutability={"age": "none"}, domain={"debt": (-1, 1)}, random_state=0,
                       **FAST).fit(scaled, labels)
    assert clf.domain_[2].tolist() == [-1.0, 1.0]
    assert np.isinf(clf.domain_[0]).all()
    with pytest.raises(ValueError, match="'salary'"):
        CTClassifier(mutability={"salary": "none"}, **FAST).fit(scaled, labels)


def test_grid_search_over_ct_parameters(frame):
    df, labels = frame
    X = StandardScaler().fit_transform(df)
    search = GridSearchCV(
        CTClassifier(generator=ECCoGenerator(), random_state=0, **FAST),
        {"lambda_div": [0.1, 0.5], "decision_threshold": [0.5, 0.75],
         "generator__lambda_energy": [1.0, 5.0]},
        cv=2,
    )
    search.fit(X, labels)
    assert len(search.cv_results_["params"]) == 8
    best = search.best_estimator_
    assert best.generator_.lambda_energy == search.best_params_["generator__lambda_energy"]
    assert search.best_score_ > 0.6


def test_cross_val_score_binary():
    X, y = make_blobs(120, centers=2, cluster_std=1.0, random_state=2)
    scores = cross_val_score(make_pipeline(StandardScaler(), CTClassifier(random_state=0, **FAST)),
                             X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8


def test_clone_pickle_and_joblib_round_trip(frame):
    df, labels = frame
    X = StandardScaler().fit_transform(df)
    clf = CTClassifier(random_state=0, **FAST).fit(X, labels)
    clone_fit = clone(clf).fit(X, labels)
    np.testing.assert_array_equal(clone_fit.predict_proba(X), clf.predict_proba(X))
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    buf = io.BytesIO()
    joblib.dump(clf, buf)
    buf.seek(0)
    np.testing.assert_array_equal(joblib.load(buf).predict(X), clf.predict(X))
    # the training data is never part of a pickled model
    assert len(pickle.dumps(clf)) < 200_000


def test_grid_search_in_parallel_processes(frame):
    df, labels = frame
    X = StandardScaler().fit_transform(df)
    grid = {"lambda_reg": [0.1, 0.5]}
    seq = GridSearchCV(CTClassifier(random_state=0, **FAST), grid, cv=2).fit(X, labels)
    par = GridSearchCV(CTClassifier(random_state=0, **FAST), grid, cv=2, n_jobs=2).fit(X, labels)
    np.testing.assert_allclose(seq.cv_results_["mean_test_score"],
                               par.cv_results_["mean_test_score"])
