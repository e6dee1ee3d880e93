"""Explainer and CT training speed on one device, against hand-written torch loops.

Run with ``python bench/bench_device.py --device cpu`` (or ``--device cuda``; ``--quick``
for smaller sizes, e.g. on a CPU). Everything is printed side by side in one run:

1. ``CounterfactualExplainer(module, generator="generic", max_steps=100)`` (``explain``,
   from NumPy rows to NumPy results) against a plain torch loop of 100 Wachter steps on
   the same module and rows (no early stop, no constraints; the factuals already on the
   device, so the loop measures the search alone), at 10k, 100k and 1M rows (``--quick``:
   2k, 10k, 50k); on CUDA also the same loop captured once as a CUDA graph and replayed.
   The explainer's host reads (synchronisations) per call are counted with
   :class:`sklearn_ct._host_sync.HostSyncCounter`.
2. CT and vanilla fits at a large setting (200k rows x 64 features, a 256x256 MLP, batch
   1024, 3 epochs, 20k counterfactuals per epoch; ``--quick``: 20k rows, 1 epoch, 2k
   counterfactuals), and their ratio.

Times are the best of ``--repeat`` runs, after one warm-up, with the device synchronised
around each; the ratios are what to compare across machines. The task: a 20-feature
binary task (scikit-learn's ``make_classification``) and a 64x64 MLP trained for a few
hundred Adam steps; searches take from a few to a few dozen steps (the mean is printed),
so the package's early stopping matters, as on real tasks.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

STEPS = 100
STEP_SIZE = 0.1
LAMBDA_COST = 0.1  # GenericGenerator's default


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _best(fn, device, repeat):
    fn()  # warm-up (allocator, kernels, lazy initialisation)
    best = np.inf
    for _ in range(repeat):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def _task(n_rows, n_features=20, seed=0):
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n_rows, n_features=n_features, n_informative=5,
                               n_redundant=0, class_sep=2.0, random_state=seed)
    # Three standard deviations per unit: rows lie far enough from the decision boundary
    # that the searches take a few to a few dozen steps.
    X = 3.0 * (X - X.mean(axis=0)) / X.std(axis=0)
    return X, y


def _trained_mlp(X, y, device):
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(X.shape[1], 64), nn.ReLU(), nn.Linear(64, 64),
                           nn.ReLU(), nn.Linear(64, 2)).to(device)
    opt = torch.optim.Adam(module.parameters(), lr=1e-2)
    Xt = torch.as_tensor(X[:5000], dtype=torch.float32, device=device)
    yt = torch.as_tensor(y[:5000], device=device)
    for _ in range(300):
        opt.zero_grad()
        F.cross_entropy(module(Xt), yt).backward()
        opt.step()
    return module.requires_grad_(False).eval()


def plain_loop(module, x, target):
    """100 Wachter steps on every row: the hand-written baseline."""
    x0 = x
    for _ in range(STEPS):
        xs = x.detach().requires_grad_(True)
        loss = (F.cross_entropy(module(xs), target, reduction="none")
                + LAMBDA_COST * (xs - x0).abs().sum(dim=1))
        (grad,) = torch.autograd.grad(loss.sum(), xs)
        x = xs.detach() - STEP_SIZE * grad
    return x


def graph_loop(module, x, target):
    """The plain loop's step captured once as a CUDA graph; returns a replaying callable."""
    static_x0 = x.clone()
    static_x = x.clone()
    static_t = target.clone()

    def step():
        xs = static_x.detach().requires_grad_(True)
        loss = (F.cross_entropy(module(xs), static_t, reduction="none")
                + LAMBDA_COST * (xs - static_x0).abs().sum(dim=1))
        (grad,) = torch.autograd.grad(loss.sum(), xs)
        static_x.sub_(STEP_SIZE * grad)

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):  # warm-up outside the capture, as CUDA graphs require
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()

    def run():
        static_x.copy_(x)
        for _ in range(STEPS):
            graph.replay()
        return static_x

    return run


def bench_explainer(device, sizes, repeat):
    from sklearn_ct._host_sync import HostSyncCounter
    from sklearn_ct.explainers import CounterfactualExplainer

    X, y = _task(max(sizes))
    module = _trained_mlp(X, y, device)
    explainer = CounterfactualExplainer(module, generator="generic", max_steps=STEPS,
                                        random_state=0).fit(X[:20000])
    print(f"Explainer vs plain loop on {device} ({STEPS} steps, 20 features, 64x64 MLP; "
          "seconds)")
    header = f"{'rows':>9s}{'package':>10s}{'plain':>10s}{'pkg/plain':>11s}"
    if device.type == "cuda":
        header += f"{'graph':>10s}{'pkg/graph':>11s}"
    print(header + f"{'host reads':>12s}{'valid':>8s}{'mean steps':>12s}")
    for n in sizes:
        Xn = X[:n]
        result = explainer.explain(Xn)
        with HostSyncCounter() as counter:
            explainer.explain(Xn)
        t_pkg = _best(lambda: explainer.explain(Xn), device, repeat)
        xt = torch.as_tensor(Xn, dtype=torch.float32, device=device)
        with torch.no_grad():
            target = 1 - module(xt).argmax(dim=1)
        t_plain = _best(lambda: plain_loop(module, xt, target), device, repeat)
        line = f"{n:9d}{t_pkg:10.3f}{t_plain:10.3f}{t_pkg / t_plain:10.2f}x"
        if device.type == "cuda":
            run = graph_loop(module, xt, target)
            t_graph = _best(run, device, repeat)
            line += f"{t_graph:10.3f}{t_pkg / t_graph:10.2f}x"
        searched = ~result.already_target
        print(line + f"{counter.syncs:12d}{result.valid[searched].mean():8.0%}"
              f"{result.n_iter[searched].mean():12.1f}")


def bench_training(device, quick, repeat):
    from sklearn_ct import CTClassifier

    n_rows, epochs, n_cf = (20_000, 1, 2_000) if quick else (200_000, 3, 20_000)
    X, y = _task(n_rows, n_features=64, seed=1)
    X = X.astype(np.float32)
    params = dict(hidden_layer_sizes=(256, 256), batch_size=1024, max_epochs=epochs,
                  n_counterfactuals=n_cf, random_state=0, device=str(device))
    times = {}
    for objective in ("vanilla", "full"):
        clf = CTClassifier(objective=objective, **params)
        times[objective] = _best(lambda: clf.fit(X, y), device, repeat)
    print(f"\nCT training on {device}: {n_rows} rows x 64 features, 256x256 MLP, batch 1024, "
          f"{epochs} epochs, {n_cf} counterfactuals per epoch (seconds)")
    print(f"  vanilla {times['vanilla']:.2f}   CT {times['full']:.2f}   "
          f"CT / vanilla {times['full'] / times['vanilla']:.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (CPU)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sizes = (2_000, 10_000, 50_000) if args.quick else (10_000, 100_000, 1_000_000)
    bench_explainer(device, sizes, args.repeat)
    if not args.skip_training:
        bench_training(device, args.quick, args.repeat)


if __name__ == "__main__":
    main()
