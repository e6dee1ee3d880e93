"""Benchmark of the blocked MMD estimator against a dense float64 implementation.

Run with ``python bench/bench_metrics.py`` (not collected by pytest: bench/ is outside tests/).
It times :func:`sklearn_ct.metrics.mmd` on 10,000 x 10,000 points in 2 and 20 dimensions and,
side by side in the same process, both the blocked estimator and a dense one (three full kernel
matrices with SciPy/numpy) on 2,000 x 2,000 points, and reports ratios and peak memory.

Peak memory is the increase of the peak resident set size (VmHWM, reset through
/proc/self/clear_refs on Linux) during one call, measured in a fresh process per case so that
allocator caches of earlier cases do not distort it; elsewhere only the analytic estimate is
printed.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import multiprocessing as mp
import platform
import time

import numpy as np
import torch
from scipy.spatial.distance import cdist

from sklearn_ct.metrics import mmd


def dense_mmd(X, Y, length_scale):
    """Unbiased MMD^2 from the three dense float64 Gaussian kernel matrices."""
    gamma = 1.0 / (2.0 * length_scale ** 2)
    kxx = np.exp(-gamma * cdist(X, X, "sqeuclidean"))
    kyy = np.exp(-gamma * cdist(Y, Y, "sqeuclidean"))
    kxy = np.exp(-gamma * cdist(X, Y, "sqeuclidean"))
    n, m = len(X), len(Y)
    return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1))
            + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2.0 * kxy.mean())


def _reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _rss_kib(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def _data(dim, n, seed=0):
    rng = np.random.default_rng(seed + dim)
    return rng.normal(size=(n, dim)), rng.normal(loc=0.1, size=(n, dim))


def _run_case(kind, dim, n, block_size, device):
    X, Y = _data(dim, n)
    if kind == "dense":
        return dense_mmd(X, Y, 5.0)
    return mmd(X, Y, block_size=block_size, device=device)


def _peak_child(kind, dim, n, block_size, device, threads, queue):
    # A fresh process per case: allocator caches of earlier cases cannot hide (or inflate) the
    # peak, and the data already exist when the peak is reset.
    torch.set_num_threads(threads)
    X, Y = _data(dim, n)
    # Warm up on a tiny problem so that lazily loaded libraries and kernels are not counted.
    dense_mmd(X[:20], Y[:20], 5.0)
    mmd(X[:20], Y[:20], block_size=block_size, device=device)
    if not _reset_peak_rss():
        queue.put(None)
        return
    before = _rss_kib("VmRSS")
    if kind == "dense":
        dense_mmd(X, Y, 5.0)
    else:
        mmd(X, Y, block_size=block_size, device=device)
    queue.put((_rss_kib("VmHWM") - before) / 1024)


def peak_extra_mib(kind, dim, n, block_size, device, threads):
    """Peak RSS increase (MiB) of one call, measured in a spawned process; None if unknown."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_peak_child,
                       args=(kind, dim, n, block_size, device, threads, queue))
    proc.start()
    proc.join()
    return queue.get() if proc.exitcode == 0 else None


def best_time(fn, repeats):
    """Best wall time over ``repeats`` calls, and the returned value."""
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def _fmt_mib(x):
    return "n/a" if x is None else f"{x:.1f} MiB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-large", type=int, default=10_000)
    parser.add_argument("--n-small", type=int, default=2_000)
    parser.add_argument("--block-size", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1 matches the 2-core CI machines)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None, help="torch device for mmd, e.g. cuda")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    b = args.block_size

    print(f"python {platform.python_version()}, torch {torch.__version__}, numpy "
          f"{np.__version__}, torch threads {torch.get_num_threads()}, device "
          f"{args.device or 'cpu'}, block_size {b}")
    print(f"analytic extra memory of blocked mmd: one {b}x{b} float64 tile = "
          f"{8 * b * b / 2 ** 20:.1f} MiB (+ float64 copies of the inputs)")
    header = f"{'case':<26}{'time':>10}{'peak RSS +':>14}{'value':>12}"
    for dim in (2, 20):
        print(f"\n--- {dim}-D ---")
        print(header)
        ns, nl = args.n_small, args.n_large
        cases = [("dense", ns), ("blocked", ns), ("blocked", nl)]
        results = []
        for kind, n in cases:
            t, value = best_time(lambda: _run_case(kind, dim, n, b, args.device), args.repeats)
            peak = peak_extra_mib(kind, dim, n, b, args.device, args.threads)
            results.append((t, value))
            print(f"{kind + f' {n} x {n}':<26}{t:>9.3f}s{_fmt_mib(peak):>14}{value:>12.3e}")
        (td, vd), (tb, vb), (tl, _) = results
        print(f"blocked / dense time at {ns}: {tb / td:.2f}x; |blocked - dense| = "
              f"{abs(vb - vd):.1e}")
        print(f"blocked {nl} / dense {ns} time: {tl / td:.1f}x for {(nl / ns) ** 2:.0f}x the "
              "kernel evaluations")
        print(f"dense kernel matrices: {3 * 8 * ns * ns / 2 ** 20:.0f} MiB at {ns}; would be "
              f"{3 * 8 * nl * nl / 2 ** 30:.1f} GiB at {nl}")


if __name__ == "__main__":
    main()
