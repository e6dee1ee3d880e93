"""
==========================================
Explaining a whole customer base with Dask
==========================================

A fitted :class:`~sklearn_ct.explainers.CounterfactualExplainer` explains a Dask DataFrame
(or Dask array) partition by partition on a Dask cluster and returns a Dask DataFrame:
the same code explains a thousand rows on a laptop or millions on a cluster. Every row
gets exactly the explanation it gets in memory.

This example needs the ``dask`` extra (``pip install "sklearn-ct[dask]"``: Dask,
distributed and pyarrow). Set the environment variable ``SKLEARN_CT_EXAMPLE_QUICK=1`` to
run a small version (the documentation build and the tests do).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# A model and its explainer
# -------------------------
# A CT model of German credit behind its preprocessing (string categories one-hot
# encoded), and an explainer that keeps the applicant's age.
import os
import time

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
from distributed import Client, LocalCluster
from sklearn.pipeline import make_pipeline

from sklearn_ct import CTClassifier
from sklearn_ct.datasets import load_german_credit
from sklearn_ct.explainers import CounterfactualExplainer

QUICK = os.environ.get("SKLEARN_CT_EXAMPLE_QUICK", "") not in ("", "0")

data = load_german_credit()
model = make_pipeline(
    data.preprocessor.set_output(transform="pandas"),
    CTClassifier(categorical_groups="auto", mutability={"age": "none"},
                 max_epochs=10 if QUICK else 50, random_state=0),
).fit(data.X_train, data.y_train)
explainer = CounterfactualExplainer(model, mutability={"age": "none"},
                                    random_state=0).fit(data.X_train)

# %%
# A customer base as a Dask DataFrame
# -----------------------------------
# Here the test applicants, repeated, stand in for a table on disk that
# ``dd.read_parquet`` would open. Each partition becomes one task.
n_rows = 2_000 if QUICK else 40_000
customers = data.X_test.iloc[np.resize(np.arange(len(data.X_test)), n_rows)]
customers = customers.reset_index(drop=True)
ddf = dd.from_pandas(customers, npartitions=4 if QUICK else 8)

# %%
# Explaining on a cluster
# -----------------------
# A local cluster of two single-threaded workers (on a real cluster, connect a
# ``Client`` to its scheduler instead). ``transform`` is lazy: it returns a Dask
# DataFrame with the columns of ``X``, computed when asked for (or written with
# ``to_parquet``). This example runs its two workers as threads of this process
# (``processes=False``) so that it runs anywhere; worker *processes* avoid Python's
# global lock and are what a real deployment uses (a script that starts them needs the
# ``if __name__ == "__main__":`` guard of :mod:`multiprocessing`).
with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                  dashboard_address=None) as cluster, \
        Client(cluster) as client:
    lazy = explainer.transform(ddf)
    print(type(lazy).__name__, "with", lazy.npartitions, "partitions")
    tic = time.perf_counter()
    counterfactuals = lazy.compute()
    seconds = time.perf_counter() - tic
    print(f"{n_rows} counterfactuals in {seconds:.1f} s "
          f"({n_rows / seconds:.0f} per second on 2 workers)")

    # explain() gives every field as a Dask collection; compute them together so that
    # each partition is searched once.
    result = explainer.explain(ddf.partitions[0])
    cf, valid, target = dask.compute(result.counterfactuals, result.valid, result.target)
print(f"partition 0: {valid.mean():.0%} valid, targets {pd.unique(target).tolist()}")

# %%
# The same as in memory
# ---------------------
# Targets and starting points are keyed by each row's own values and rows never interact
# in the search, so partitioning changes nothing.
first = customers.iloc[:200]
in_memory = explainer.transform(first)
numeric = first.select_dtypes("number").columns
print("numeric columns equal to in-memory:",
      np.allclose(counterfactuals.iloc[:200][numeric], in_memory[numeric], atol=1e-9))
same = counterfactuals.iloc[:200].drop(columns=numeric) == in_memory.drop(columns=numeric)
print("categorical columns equal:", bool(same.all().all()))
print("age kept:", bool((counterfactuals["age"] == customers["age"]).all()))
