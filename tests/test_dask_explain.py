"""Explaining Dask DataFrames and arrays partition by partition, on a LocalCluster.

Each partition is explained by a task on the cluster, with the fitted explainer shipped
to the workers. Rows must get their in-memory explanations: the same targets, steps and
validity, and the same counterfactuals up to float64 round-off (the bound the in-memory
batched-vs-row-by-row test uses). Skipped when dask, its DataFrame support or
distributed are missing.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_ct import CTClassifier, CounterfactualExplainer
from sklearn_ct.datasets import make_moons

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

pytestmark = [
    pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning"),
    # explain's fields are one kind of collection (frames for frames, arrays for arrays),
    # so Dask never has to materialise mixed graphs.
    pytest.mark.filterwarnings("error:Computing mixed collections:UserWarning"),
]

ATOL = 1e-9


@pytest.fixture(scope="module")
def client():
    # Two worker processes with one thread each, on loopback, without the dashboard.
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(n_samples=500, random_state=0)
    frame = pd.DataFrame(X, columns=["x1", "x2"], index=pd.RangeIndex(1000, 1500))
    clf = CTClassifier(max_epochs=15, random_state=0).fit(frame, y)
    return frame, clf


def _assert_same(lazy, memory):
    """Fields of a computed Dask explanation against the in-memory one."""
    for key, value in memory.items():
        if value is None:
            assert lazy[key] is None
            continue
        got = lazy[key]
        if isinstance(value, pd.DataFrame):
            assert list(got.columns) == list(value.columns)
            got, value = got.to_numpy(), value.to_numpy()
        got, value = np.asarray(got), np.asarray(value)
        assert got.shape == value.shape, key
        if value.dtype.kind == "f":
            np.testing.assert_allclose(got, value, rtol=0, atol=ATOL, err_msg=key)
        else:
            np.testing.assert_array_equal(got, value, err_msg=key)


@pytest.mark.parametrize("n_per_row", [1, 3])
def test_dask_dataframe_on_the_cluster_matches_memory(client, moons, n_per_row):
    frame, clf = moons
    explainer = CounterfactualExplainer(clf, n_per_row=n_per_row, target="random",
                                        random_state=0).fit(frame)
    ddf = dd.from_pandas(frame, npartitions=4)
    with distributed.get_task_stream(client) as tasks:
        lazy = explainer.transform(ddf)
        assert isinstance(lazy, dd.DataFrame) and lazy.npartitions == 4
        out = lazy.compute()
    assert len(tasks.data) >= 4  # the partitions were explained on the workers
    expected = explainer.transform(frame)
    assert list(out.index) == list(frame.index)
    np.testing.assert_allclose(out.to_numpy(), np.asarray(expected), rtol=0, atol=ATOL)

    result = explainer.explain(ddf)
    assert isinstance(result.counterfactuals, dd.DataFrame)
    assert isinstance(result.valid, dd.DataFrame if n_per_row > 1 else dd.Series)
    assert isinstance(result.target, dd.Series)
    computed = dict(zip(result.keys(), dask.compute(*result.values())))
    assert list(computed["target"].index) == list(frame.index)
    memory = explainer.explain(frame)
    if n_per_row > 1:
        # Dask frames have no MultiIndex: the factual's index, repeated per candidate.
        assert list(computed["counterfactuals"].index[:4]) == [1000, 1000, 1000, 1001]
        memory.counterfactuals = memory.counterfactuals.droplevel(-1)
    _assert_same(computed, memory)


def test_dask_array_on_the_cluster_matches_memory(client, moons):
    frame, clf = moons
    X = frame.to_numpy()
    explainer = CounterfactualExplainer(clf, n_per_row=2, generator="growing_spheres",
                                        random_state=0).fit(X)
    dX = da.from_array(X, chunks=(130, 2))
    lazy = explainer.transform(dX)
    assert isinstance(lazy, da.Array) and lazy.chunks == dX.chunks
    np.testing.assert_allclose(lazy.compute(), explainer.transform(X), rtol=0, atol=ATOL)
    result = explainer.explain(dX)
    assert result.counterfactuals.shape == (500, 2, 2)
    _assert_same(dict(zip(result.keys(), dask.compute(*result.values()))),
                 explainer.explain(X))


def test_mixed_frame_through_a_pipeline_with_threads(moons):
    # String categories through a ColumnTransformer, on the local threaded scheduler:
    # threads share the task, and each explains with its own copy of the model.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300),
                          "colour": rng.choice(["red", "green", "blue"], size=300)})
    y = (frame["a"] + (frame["colour"] == "red") > 0.3).astype(int)
    pre = ColumnTransformer([("num", StandardScaler(), ["a", "b"]),
                             ("cat", OneHotEncoder(sparse_output=False), ["colour"])])
    pipe = Pipeline([("pre", pre), ("clf", CTClassifier(objective="vanilla", max_epochs=10,
                                                        random_state=0))]).fit(frame, y)
    explainer = CounterfactualExplainer(pipe, mutability={"b": "none"},
                                        random_state=0).fit(frame)
    ddf = dd.from_pandas(frame, npartitions=3)
    lazy = explainer.transform(ddf)
    assert dict(lazy.dtypes) == dict(lazy._meta.dtypes)
    out = lazy.compute(scheduler="threads", num_workers=2)
    expected = explainer.transform(frame)
    np.testing.assert_allclose(out[["a", "b"]].to_numpy(), expected[["a", "b"]].to_numpy(),
                               rtol=0, atol=ATOL)
    assert (out["colour"] == expected["colour"]).all()
    np.testing.assert_array_equal(out["b"], frame["b"])


def test_dask_errors(moons):
    frame, clf = moons
    explainer = CounterfactualExplainer(clf, random_state=0).fit(frame)
    ddf = dd.from_pandas(frame, npartitions=2)
    with pytest.raises(ValueError, match="return_path"):
        explainer.explain(ddf, return_path=True)
    with pytest.raises(ValueError, match="target per row"):
        explainer.explain(ddf, target=np.zeros(500))
    with pytest.raises(ValueError, match="expecting 2 features"):
        explainer.transform(da.zeros((10, 3), chunks=5))
