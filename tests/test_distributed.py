"""Model selection over CTClassifier on a Dask cluster and on a local process pool.

scikit-learn's searches run their fits through joblib. The same multi-metric grid search
(accuracy and the plausibility of the models' counterfactual explanations) runs here
sequentially, on a ``dask.distributed.LocalCluster`` through joblib's ``"dask"`` backend,
and on joblib's local process pool (``n_jobs=2``). A fixed ``random_state`` must give the
same cross-validation results everywhere. This also checks that estimators, generators and
scorers survive pickling, and that workers run torch with one thread each (no
oversubscription). The Dask tests are skipped when ``distributed`` is not installed.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_moons
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.preprocessing import StandardScaler

from sklearn_ct import REFERENCE_PARAMS, CTClassifier, ECCoGenerator, GenericGenerator
from sklearn_ct.metrics import get_scorer, make_counterfactual_scorer

# With the dashboard off, the scheduler still serves its health routes on 127.0.0.1:8787, or
# on a free port (with this warning) when another cluster, e.g. in a parallel test worker,
# holds 8787.
pytestmark = pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning")

ESTIMATOR = CTClassifier(max_epochs=8, batch_size=32, n_counterfactuals=48, max_steps=10,
                         lr=0.01, random_state=0, **REFERENCE_PARAMS)
# Generator instances as grid values: they travel to the workers inside the parameters.
GRID = {"lambda_div": [0.1, 1.0], "generator": [ECCoGenerator(), GenericGenerator()]}
SCORING = {"accuracy": "accuracy", "plausibility": get_scorer("neg_implausibility")}
RESULT_KEYS = ("split0_test_", "split1_test_", "mean_test_", "std_test_", "rank_test_")


@pytest.fixture(scope="module")
def data():
    X, y = make_moons(240, noise=0.25, random_state=0)
    return StandardScaler().fit_transform(X), y


def _grid_search(n_jobs):
    return GridSearchCV(ESTIMATOR, GRID, scoring=SCORING, refit="accuracy", cv=2,
                        n_jobs=n_jobs)


def _randomized_search(n_jobs):
    return RandomizedSearchCV(
        ESTIMATOR, {"lambda_div": [0.1, 0.5, 1.0], "lambda_reg": [0.05, 0.2]}, n_iter=3,
        scoring="accuracy", cv=2, n_jobs=n_jobs, random_state=0,
    )


def _assert_same_results(a, b, X):
    keys = [k for k in a.cv_results_ if k.startswith(RESULT_KEYS)]
    assert any("plausibility" in k for k in keys) or a.multimetric_ is False
    for key in keys:
        np.testing.assert_array_equal(a.cv_results_[key], b.cv_results_[key], err_msg=key)
    assert [repr(p) for p in a.cv_results_["params"]] == [
        repr(p) for p in b.cv_results_["params"]
    ]
    assert a.best_index_ == b.best_index_
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.fixture(scope="module")
def sequential(data):
    X, y = data
    return _grid_search(None).fit(X, y), _randomized_search(None).fit(X, y)


@pytest.fixture(scope="module")
def dask_client():
    pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    # Two worker processes with one thread each, on loopback, without the dashboard.
    # Nanny-started workers get OMP_NUM_THREADS=1 (distributed's default pre-spawn
    # environment), which torch reads when it is imported in the worker.
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        yield client


def test_workers_run_torch_with_one_thread(dask_client):
    threads = dask_client.run(torch.get_num_threads)
    assert len(threads) == 2 and set(threads.values()) == {1}


def test_grid_search_on_dask_matches_sequential(data, sequential, dask_client):
    from distributed import get_task_stream

    X, y = data
    with get_task_stream(dask_client) as tasks, joblib.parallel_config(backend="dask"):
        distributed = _grid_search(-1).fit(X, y)
    assert len(tasks.data) > 0  # the fits and scores really ran on the cluster
    _assert_same_results(sequential[0], distributed, X)


def test_randomized_search_on_dask_matches_sequential(data, sequential, dask_client):
    X, y = data
    with joblib.parallel_config(backend="dask"):
        distributed = _randomized_search(-1).fit(X, y)
    _assert_same_results(sequential[1], distributed, X)


def test_grid_search_on_process_pool_matches_sequential(data, sequential):
    X, y = data
    with joblib.parallel_config(backend="loky"):
        pooled = _grid_search(2).fit(X, y)
    _assert_same_results(sequential[0], pooled, X)
    # joblib's oversubscription guard: each of the 2 workers gets cpu_count // 2 threads.
    threads = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(torch.get_num_threads)() for _ in range(2)
    )
    assert max(threads) <= max(1, (os.cpu_count() or 1) // 2)


def test_estimators_generators_and_scorers_pickle(data):
    X, y = data
    objects = [
        CTClassifier(generator=GenericGenerator(lambda_cost=0.2, distance="mad_l1")),
        ECCoGenerator(lambda_energy=2.0),
        get_scorer("neg_implausibility"),
        make_counterfactual_scorer("counterfactual_cost", n_samples=10, random_state=0),
    ]
    for obj in objects:
        assert repr(pickle.loads(pickle.dumps(obj))) == repr(obj)
    fitted = clone(ESTIMATOR).fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    scorer = SCORING["plausibility"]
    assert pickle.loads(pickle.dumps(scorer))(again, X, y) == scorer(fitted, X, y)
    # A fitted model carries no per-fit data: no training rows, pool or caches.
    generation = dict(again.net_.callbacks_)["counterfactuals"]
    assert getattr(generation, "X_", None) is None
    assert getattr(generation, "last_pool_", None) is None
    assert not any(k in vars(again.net_) for k in ("_listeners_", "_constants_"))
