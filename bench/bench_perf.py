"""Performance benchmark of counterfactual training on one machine.

Run with ``python bench/bench_perf.py`` (a few minutes; ``--quick`` for a smaller run).
Everything runs with one torch thread (``--threads`` to change it) and is printed side by
side in one run:

1. CT fit vs baseline fit at the paper's linearly-separable (LS) settings (3000 rows, 100
   epochs, batch 30, 1000 counterfactuals per epoch, T=30): wall and CPU time (the best of
   ``--repeat`` interleaved fits each), their ratio (target: at most 2x), and CPU-seconds
   per CT model against the reference implementation's published compute for LS
   (34 CPUs x 64 min for a grid of 270 models, i.e. 483.6 CPU-s per model; target: at
   least 50x less). Two CT fits with the same ``random_state`` must give identical weights.
2. The same on a real tabular set: Adult with its one-hot ``preprocessor`` fitted on the
   training split (~100 columns), batch 1000, 5000 counterfactuals per epoch, tau=0.75.
3. Peak memory of one fit: how far the resident set size rises above its level before the
   fit (Linux peak-RSS reset; each fit in a fresh subprocess).
4. Growth of the CT fit time with rows, counterfactuals per epoch, search budget T and
   features: log-log slopes (1 is linear, 2 quadratic). Fixed per-step costs make slopes
   below 1 common. The T sweep uses a decision threshold the search never reaches, so
   that every row takes all T steps (the worst case); at the paper's threshold most rows
   stop after a few steps.

CPU time is ``time.process_time()`` of the benchmark process (all its threads).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import torch

#: The reference's compute for the LS grid (spec 5.8): 34 CPUs x 64 min for 270 models.
REF_CPU_S_PER_MODEL = 34 * 64 * 60 / 270

LS_PARAMS = dict(batch_size=30, n_counterfactuals=1000, max_steps=30, decision_threshold=0.5,
                 lambda_reg=0.01)
ADULT_PARAMS = dict(batch_size=1000, n_counterfactuals=5000, max_steps=30,
                    decision_threshold=0.75, lambda_reg=0.25)


def _ls_data():
    from sklearn_ct.datasets import load_synthetic

    data = load_synthetic("linearly_separable", random_state=0)
    return data.X_train[:3000], data.y_train[:3000]


def _adult_data():
    from sklearn_ct.datasets import load_adult

    data = load_adult()
    pre = data.preprocessor.fit(data.X_train)
    X = np.asarray(pre.transform(data.X_train), dtype=np.float32)
    return X, np.asarray(data.y_train)


def _synthetic(n_rows, n_features, seed=0):
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(
        n_samples=n_rows, n_features=n_features, n_informative=2,
        n_redundant=0, n_clusters_per_class=1, class_sep=1.5, random_state=seed,
    )
    return StandardScaler().fit_transform(X).astype(np.float32), y


def _fit(X, y, objective, **params):
    from sklearn_ct import CTClassifier

    clf = CTClassifier(objective=objective, random_state=0, **params)
    wall, cpu = time.perf_counter(), time.process_time()
    clf.fit(X, y)
    return time.perf_counter() - wall, time.process_time() - cpu, clf


def _search_time(clf):
    return sum(v for v in clf.history_[:, "cf_time"] if v is not None)


def _weights(clf):
    return [p.detach().clone() for p in clf.net_.module_.parameters()]


def compare(name, X, y, params, epochs, repeat):
    """Best-of-``repeat`` interleaved baseline and CT fits; returns the CT CPU time."""
    params = dict(params, max_epochs=epochs)
    best = {"vanilla": [np.inf, np.inf], "full": [np.inf, np.inf]}
    cts = []
    for _ in range(repeat):
        for objective in ("vanilla", "full"):
            wall, cpu, clf = _fit(X, y, objective, **params)
            best[objective] = [min(best[objective][0], wall), min(best[objective][1], cpu)]
            if objective == "full":
                cts.append(clf)
    (bl_wall, bl_cpu), (ct_wall, ct_cpu) = best["vanilla"], best["full"]
    search = _search_time(cts[-1])
    same = all(
        all(torch.equal(a, b) for a, b in zip(_weights(cts[0]), _weights(c))) for c in cts[1:]
    )
    print(f"{name}: {X.shape[0]} rows x {X.shape[1]} features, {epochs} epochs, "
          f"batch {params['batch_size']}, {params['n_counterfactuals']} CEs/epoch, "
          f"T={params['max_steps']}, tau={params['decision_threshold']}")
    print(f"  {'':22s}{'wall s':>10s}{'CPU s':>10s}")
    print(f"  {'baseline fit':22s}{bl_wall:10.2f}{bl_cpu:10.2f}")
    print(f"  {'CT fit':22s}{ct_wall:10.2f}{ct_cpu:10.2f}   "
          f"(search {search:.2f} s wall, mean {np.mean(cts[-1].history_[:, 'cf_iter']):.1f}"
          f" steps, {np.mean(cts[-1].history_[:, 'cf_mature']):.0%} mature)")
    print(f"  {'ratio CT / baseline':22s}{ct_wall / bl_wall:9.2f}x{ct_cpu / bl_cpu:9.2f}x")
    if repeat > 1:
        print(f"  same random_state, same weights: {same}")
    return ct_cpu, ct_wall / bl_wall, ct_cpu / bl_cpu, same


# -- memory (in a subprocess) ----------------------------------------------------------------

def _status_kb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def _memory_child(which, objective, epochs, threads):
    import gc

    torch.set_num_threads(threads)
    X, y = _ls_data() if which == "ls" else _adult_data()
    params = LS_PARAMS if which == "ls" else ADULT_PARAMS
    _fit(X[:200], y[:200], objective, **dict(params, max_epochs=1, n_counterfactuals=50))
    gc.collect()
    try:
        # Linux: reset the peak RSS (VmHWM) to the current RSS, so that the peak below is
        # the fit's own, whatever imports and data loading needed before.
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = _status_kb("VmRSS")
        _fit(X, y, objective, **dict(params, max_epochs=epochs))
        after = _status_kb("VmHWM")
    except OSError:  # no /proc: the lifetime peak, which may hide a smaller fit
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        _fit(X, y, objective, **dict(params, max_epochs=epochs))
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    data_mb = (X.nbytes + y.nbytes) / 2**20
    print(json.dumps({"peak_growth_mb": (after - before) / 1024, "data_mb": data_mb,
                      "rss_mb": after / 1024}))


def peak_memory(which, objective, epochs, threads):
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--_memory", which, objective,
         str(epochs), "--threads", str(threads)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- scaling ---------------------------------------------------------------------------------

def _slope(xs, ts):
    return float(np.polyfit(np.log(xs), np.log(ts), 1)[0])


def scaling(epochs, quick):
    base = dict(batch_size=30, n_counterfactuals=500, max_steps=30, decision_threshold=0.5,
                lambda_reg=0.01, max_epochs=epochs)
    grid = [1, 2, 4] if quick else [1, 2, 4, 8]
    sweeps = [
        ("rows", [750 * k for k in grid], lambda v: (_synthetic(v, 2), {})),
        ("counterfactuals/epoch", [250 * k for k in grid],
         lambda v: (_synthetic(3000, 2), {"n_counterfactuals": v})),
        ("search budget T", [10 * k for k in grid],
         lambda v: (_synthetic(3000, 2), {"max_steps": v, "decision_threshold": 0.999999})),
        ("features", [4 * k ** 2 for k in grid], lambda v: (_synthetic(3000, v), {})),
    ]
    print(f"Scaling of the CT fit ({epochs} epochs per fit, batch 30, otherwise 3000 rows, "
          f"2 features, 500 CEs/epoch, T=30; CPU s per fit)")
    slopes = {}
    for name, values, make in sweeps:
        fits, searches = [], []
        for v in values:
            (X, y), extra = make(v)
            _, cpu, clf = _fit(X, y, "full", **dict(base, **extra))
            fits.append(cpu)
            searches.append(_search_time(clf))
        slopes[name] = (_slope(values, fits), _slope(values, searches))
        cells = "  ".join(f"{v}: {t:.2f}" for v, t in zip(values, fits))
        print(f"  {name:22s} {cells}")
        print(f"  {'':22s} slope fit {slopes[name][0]:.2f}, search alone {slopes[name][1]:.2f}")
    return slopes


# -- scale-out -------------------------------------------------------------------------------

def _warm_worker(threads):
    # Import the package in the worker and pin torch's threads (what a worker plugin or
    # client.run does on a real cluster).
    import torch

    import sklearn_ct  # noqa: F401

    torch.set_num_threads(threads)
    return torch.get_num_threads()


def scale_out(quick, threads):
    """Wall time of one grid search: sequential, on 1 and 2 Dask workers, on 2 processes."""
    try:
        import distributed
    except ImportError:
        print("Scale-out: skipped (dask.distributed is not installed: pip install .[dask])")
        return None
    import joblib
    from sklearn.model_selection import GridSearchCV

    from sklearn_ct import CTClassifier
    from sklearn_ct.metrics import get_scorer

    X, y = _ls_data()
    X, y = X[:1500], y[:1500]
    est = CTClassifier(**dict(LS_PARAMS, n_counterfactuals=500,
                              max_epochs=10 if quick else 30), random_state=0)
    grid = {"lambda_div": [0.1, 0.5], "lambda_reg": [0.01, 0.1]}
    if not quick:
        grid["decision_threshold"] = [0.5, 0.9]
    scoring = {"accuracy": "accuracy", "plausibility": get_scorer("neg_implausibility")}
    n_fits = 2 * int(np.prod([len(v) for v in grid.values()]))

    def search(n_jobs):
        tic = time.perf_counter()
        gs = GridSearchCV(est, grid, scoring=scoring, refit=False, cv=2, n_jobs=n_jobs)
        gs.fit(X, y)
        return time.perf_counter() - tic, gs.cv_results_["mean_test_plausibility"]

    print(f"Scale-out: GridSearchCV, {n_fits} CT fits (1500 LS rows, {est.max_epochs} epochs) "
          "+ accuracy and plausibility scoring; wall s")
    times, results = {}, {}
    times["sequential"], results["sequential"] = search(None)
    for n_workers in (1, 2):
        with distributed.LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None,
        ) as cluster, distributed.Client(cluster) as client:
            client.run(_warm_worker, threads)
            with joblib.parallel_config(backend="dask"):
                key = f"dask, {n_workers} worker{'s' if n_workers > 1 else ''}"
                times[key], results[key] = search(-1)
    joblib.Parallel(n_jobs=2)(joblib.delayed(_warm_worker)(threads) for _ in range(2))
    with joblib.parallel_config(backend="loky"):
        times["loky, 2 processes"], results["loky, 2 processes"] = search(2)
    same = all(np.array_equal(r, results["sequential"]) for r in results.values())
    one = times["dask, 1 worker"]
    for key, t in times.items():
        print(f"  {key:22s}{t:8.2f}   speed-up vs 1 worker {one / t:5.2f}x")
    print(f"  identical results everywhere: {same}")
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and points")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="interleaved fits per variant (default 2, quick 1)")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["ls", "adult", "memory", "scaling", "dask"],
                        help="sections to skip")
    parser.add_argument("--_memory", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._memory:
        which, objective, epochs = args._memory
        return _memory_child(which, objective, int(epochs), args.threads)

    torch.set_num_threads(args.threads)
    repeat = args.repeat or (1 if args.quick else 2)
    ls_epochs = 20 if args.quick else 100
    adult_epochs = 2 if args.quick else 10
    print(f"torch {torch.__version__}, {args.threads} thread(s), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    X, y = _ls_data()
    _fit(X[:300], y[:300], "full", **dict(LS_PARAMS, max_epochs=2, n_counterfactuals=100))

    if "ls" not in args.skip:
        ct_cpu, ratio_wall, ratio_cpu, _ = compare("LS", X, y, LS_PARAMS, ls_epochs, repeat)
        per_model = ct_cpu * 100 / ls_epochs
        note = "" if ls_epochs == 100 else f" (scaled from {ls_epochs} epochs)"
        print(f"  CPU s per CT model (100 epochs){note}: {per_model:.2f} vs reference "
              f"{REF_CPU_S_PER_MODEL:.1f}: {REF_CPU_S_PER_MODEL / per_model:.0f}x less "
              "(target >= 50x)")
        print(f"  ratio CT / baseline: {ratio_wall:.2f}x wall, {ratio_cpu:.2f}x CPU "
              "(target <= 2x)\n")
    if "adult" not in args.skip:
        Xa, ya = _adult_data()
        ct_cpu, *_ = compare("Adult", Xa, ya, ADULT_PARAMS, adult_epochs, 1)
        print(f"  CPU s per CT model (100 epochs, scaled from {adult_epochs}): "
              f"{ct_cpu * 100 / adult_epochs:.1f}\n")
    if "memory" not in args.skip:
        print("Peak memory of one fit (peak RSS during the fit minus RSS before it)")
        for which, epochs in (("ls", 5), ("adult", 2)):
            for objective in ("vanilla", "full"):
                m = peak_memory(which, objective, epochs, args.threads)
                print(f"  {which:6s}{objective:9s}{m['peak_growth_mb']:8.1f} MB   "
                      f"(training data {m['data_mb']:.1f} MB, process peak {m['rss_mb']:.0f} MB)")
        print()
    if "scaling" not in args.skip:
        slopes = scaling(2 if args.quick else 4, args.quick)
        worst = max(max(s) for s in slopes.values())
        print(f"  largest slope {worst:.2f}: "
              f"{'linear or better' if worst < 1.3 else 'SUPERLINEAR'}")
        print()
    if "dask" not in args.skip:
        scale_out(args.quick, args.threads)


if __name__ == "__main__":
    main()
