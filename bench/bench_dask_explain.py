"""Counterfactuals per second when explaining a Dask DataFrame on 1 and 2 workers.

Trains a small CT model on Adult (one-hot encoded and standardised, as in the experiment),
then explains the same rows four ways and reports counterfactuals per second:

* in memory, in this process (one torch thread);
* a Dask DataFrame on a ``LocalCluster`` of 1 worker process with 1 thread, with Dask's
  default worker environment;
* the same with ``MALLOC_MMAP_THRESHOLD_`` raised for the workers (see below);
* 2 worker processes with 1 thread each, and 1 worker process with 2 threads (raised).

Dask starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (its
``distributed.nanny.pre-spawn-environ``), so that they hand freed memory back to the
system. Setting any such variable also switches off glibc's adaptive mmap threshold, so
every buffer over 128 KiB (a search's tensors, from a few hundred rows on) is mapped and
unmapped again at each operation; the page faults make the search several times slower
than in the client. ``MALLOC_MMAP_THRESHOLD_`` at glibc's maximum (32 MiB) keeps those
buffers on the heap.

Every Dask run checks that its counterfactuals equal the in-memory ones (up to float64
round-off). Usage::

    python bench/bench_dask_explain.py            # 20,000 rows in 8 partitions
    python bench/bench_dask_explain.py --quick    # 4,000 rows in 4 partitions

See doc/scaling.rst for the numbers on the project's 2-core machine.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time

import numpy as np
import pandas as pd
import torch


def _data(n_rows):
    from sklearn_ct.datasets import load_adult

    data = load_adult()
    pre = data.preprocessor.set_output(transform="pandas").fit(data.X_train)
    X_train = pre.transform(data.X_train).astype(np.float64)
    pool = pd.concat([pre.transform(data.X_test), X_train]).astype(np.float64)
    rows = pool.iloc[np.resize(np.arange(len(pool)), n_rows)].reset_index(drop=True)
    return X_train, np.asarray(data.y_train), rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4,000 rows, 4 partitions")
    args = parser.parse_args(argv)
    n_rows, n_parts = (4_000, 4) if args.quick else (20_000, 8)

    import dask
    import dask.dataframe as dd
    import distributed

    from sklearn_ct import CTClassifier, CounterfactualExplainer

    torch.set_num_threads(1)
    X_train, y_train, rows = _data(n_rows)
    clf = CTClassifier(categorical_groups="auto", max_epochs=10, batch_size=1000,
                       n_counterfactuals=1000, random_state=0).fit(X_train, y_train)
    explainer = CounterfactualExplainer(clf, max_steps=50, decision_threshold=0.75,
                                        mutability={"age": "none"},
                                        random_state=0).fit(X_train)
    print(f"Adult: {X_train.shape[1]} model columns, {len(clf.categorical_groups_)} one-hot "
          f"groups; explaining {n_rows} rows in {n_parts} partitions, "
          f"decision threshold 0.75, at most 50 steps")

    tic = time.perf_counter()
    expected = explainer.transform(rows)
    base = time.perf_counter() - tic
    print(f"{'setting':<44}{'seconds':>9}{'CF / s':>10}{'speed-up':>10}")
    print(f"{'in memory, 1 thread':<44}{base:9.2f}{n_rows / base:10.0f}{1.0:10.2f}")

    ddf = dd.from_pandas(rows, npartitions=n_parts)
    for workers, threads, raised in ((1, 1, False), (1, 1, True), (2, 1, True),
                                     (1, 2, True)):
        env = {"distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 2**25}
        with dask.config.set(env if raised else {}), distributed.LocalCluster(
                n_workers=workers, threads_per_worker=threads, processes=True,
                host="127.0.0.1", dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            client.run(torch.set_num_threads, 1)
            # Warm-up: ship the explainer and import torch on every worker.
            explainer.transform(ddf.partitions[:workers * threads]).compute()
            tic = time.perf_counter()
            out = explainer.transform(ddf).compute()
            dt = time.perf_counter() - tic
        np.testing.assert_allclose(out.to_numpy(), np.asarray(expected), atol=1e-9)
        label = (f"Dask, {workers} worker(s) x {threads} thread(s)"
                 + (", mmap raised" if raised else ""))
        print(f"{label:<44}{dt:9.2f}{n_rows / dt:10.0f}{base / dt:10.2f}")


if __name__ == "__main__":
    main()
