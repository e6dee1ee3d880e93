"""Maximum mean discrepancy (MMD) between two samples, computed in memory-bounded blocks."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import torch
from scipy.spatial.distance import pdist
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import validate_params

from ._validation import KERNEL, LENGTH_SCALE, POSITIVE_INT, _check_2d, _check_n_features

# Default kernel length scale. Counterfactual Training's paper text says 0.5, but the code that
# produced its published IP* numbers passed 5.0 (reference spec, quirk 6.2.4). 5.0 is kept as the
# default for parity with those numbers, and because with 0.5 the Gaussian kernel of two
# standardized points in more than a handful of dimensions (typical distance ~ sqrt(2 D)) is
# numerically zero, so the unbiased estimate collapses towards 0 for any pair of samples.
DEFAULT_LENGTH_SCALE = 5.0


@validate_params(
    {"X": ["array-like"], "Y": [None, "array-like"], "max_samples": [None, POSITIVE_INT],
     "random_state": ["random_state"]},
    prefer_skip_nested_validation=True,
)
def median_pairwise_distance(X, Y=None, *, max_samples=2000, random_state=None):
    """Compute the median Euclidean distance between distinct rows (median heuristic).

    The median heuristic sets the kernel length scale to the median pairwise distance of the
    pooled data, so that the kernel is neither ~0 nor ~1 for typical pairs.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        First sample.
    Y : array-like of shape (n_samples_Y, n_features), default=None
        Optional second sample, pooled with ``X``.
    max_samples : int or None, default=2000
        If the pooled sample has more rows, the median is computed on this many rows drawn
        without replacement (the number of pairs grows quadratically). None uses all rows.
    random_state : int, RandomState instance or None, default=None
        Seed of the sub-sampling.

    Returns
    -------
    median : float
        Median of the :math:`\\binom{n}{2}` pairwise distances.

    See Also
    --------
    mmd : Accepts ``length_scale="median"``.

    Examples
    --------
    >>> from sklearn_ct.metrics import median_pairwise_distance
    >>> median_pairwise_distance([[0.0], [1.0], [3.0]])
    2.0
    """
    X = _check_2d(X, "X")
    if Y is not None:
        Y = _check_2d(Y, "Y")
        _check_n_features(X, Y, ("X", "Y"))
        X = np.concatenate([X, Y], axis=0)
    if X.shape[0] < 2:
        raise ValueError("The median heuristic needs at least 2 samples.")
    if max_samples is not None and X.shape[0] > max_samples:
        rng = check_random_state(random_state)
        X = X[rng.choice(X.shape[0], size=max(max_samples, 2), replace=False)]
    return float(np.median(pdist(X, "euclidean")))


def _float_or_median(length_scale):
    # A number as a float (its arithmetic then never depends on the caller's int or float).
    return length_scale if isinstance(length_scale, str) else float(length_scale)


def _kernel_sum(A, B, a_sq, b_sq, *, kernel, length_scale, block_size, same, diagonal):
    """Sum of ``k(a_i, b_j)`` over all pairs, one ``block_size`` x ``block_size`` tile at a time.

    With ``same=True`` (``A is B``) only tiles on or above the block diagonal are computed and
    off-diagonal tiles count twice (the kernel is symmetric); ``diagonal`` is the value used for
    the ``i == j`` terms: 0 to exclude them (unbiased estimate) or 1 (``k(x, x) = 1``), set
    exactly rather than computed so that rounding in the distance cannot leak into the estimate.
    """
    total = torch.zeros((), dtype=A.dtype, device=A.device)
    n, m = A.shape[0], B.shape[0]
    # One preallocated buffer holds every tile: GEMM writes into it and all later operations
    # are in place, so no tile-sized temporaries are allocated inside the loop (the allocator
    # would otherwise keep several of them alive). Partial tiles use a contiguous prefix.
    buffer = torch.empty(min(n, block_size) * min(m, block_size), dtype=A.dtype,
                         device=A.device)
    for i in range(0, n, block_size):
        A_i = A[i:i + block_size]
        for j in range(i if same else 0, m, block_size):
            B_j = B[j:j + block_size]
            tile = buffer[:A_i.shape[0] * B_j.shape[0]].view(A_i.shape[0], B_j.shape[0])
            # ||a||^2 + ||b||^2 - 2 a.b
            torch.mm(A_i, B_j.T, out=tile)
            tile.mul_(-2.0).add_(a_sq[i:i + block_size, None]).add_(b_sq[None, j:j + block_size])
            tile.clamp_(min=0.0)
            if kernel == "gaussian":
                tile.mul_(-0.5 / length_scale ** 2).exp_()
            else:
                tile.sqrt_().mul_(-1.0 / length_scale).exp_()
            if same and i == j:
                tile.diagonal().fill_(diagonal)
                total += tile.sum()
            elif same:
                total += 2.0 * tile.sum()
            else:
                total += tile.sum()
    return total.item()


@validate_params(
    {"X": ["array-like"], "Y": ["array-like"], "length_scale": LENGTH_SCALE,
     "kernel": KERNEL, "unbiased": ["boolean"], "block_size": [POSITIVE_INT],
     "max_samples": [None, POSITIVE_INT], "random_state": ["random_state"],
     "device": "no_validation"},
    prefer_skip_nested_validation=True,
)
def mmd(X, Y, *, length_scale=DEFAULT_LENGTH_SCALE, kernel="gaussian", unbiased=True,
        block_size=1024, max_samples=None, random_state=None, device=None):
    """Estimate the squared maximum mean discrepancy (MMD) between two samples.

    With ``unbiased=True`` this is the unbiased U-statistic of Gretton et al. (2012) used for
    the IP* plausibility measure of Counterfactual Training:

    .. math::

        \\widehat{\\mathrm{MMD}}^2_u = \\frac{1}{n(n-1)}\\sum_{i \\neq j} k(x_i, x_j)
        + \\frac{1}{m(m-1)}\\sum_{i \\neq j} k(y_i, y_j)
        - \\frac{2}{nm}\\sum_{i, j} k(x_i, y_j).

    It can be slightly negative when the two distributions are equal (it estimates 0 without
    bias); Counterfactual Training clamps it at 0 before averaging. With ``unbiased=False`` the
    biased V-statistic (all ``i, j`` terms, divided by :math:`n^2` and :math:`m^2`) is returned.

    The kernel matrices are never materialized: their sums are accumulated over
    ``block_size`` x ``block_size`` tiles in float64, so the extra memory is about
    ``8 * block_size**2`` bytes for the single reused tile (8 MiB at the default 1024) plus
    float64 copies of the inputs, independently of the number of samples. Symmetry halves the
    work on the within-sample sums. Ten thousand points per side therefore need about 10-20 MiB
    instead of the 2.2 GiB of the three dense 10,000 x 10,000 matrices.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        First sample (e.g. counterfactuals).
    Y : array-like of shape (n_samples_Y, n_features)
        Second sample (e.g. observed data of the target class).
    length_scale : float or "median", default=5.0
        Length scale :math:`\\ell` of the kernel; "median" uses
        :func:`median_pairwise_distance` of the pooled (sub-sampled) samples. The default 5.0 is
        the value Counterfactual Training's evaluation code used for its published IP* results;
        the paper text states 0.5, which you can pass to follow the text. On standardized data
        in more than a few dimensions, 0.5 makes the kernel of almost every pair vanish and the
        estimate uninformative.
    kernel : {"gaussian", "laplacian"}, default="gaussian"
        "gaussian": :math:`k(x, y) = \\exp(-\\|x - y\\|_2^2 / (2\\ell^2))`, the kernel of
        Counterfactual Training; "laplacian": :math:`\\exp(-\\|x - y\\|_2 / \\ell)`.
    unbiased : bool, default=True
        Whether to return the unbiased U-statistic (needs at least two rows per sample) or the
        biased V-statistic.
    block_size : int, default=1024
        Side of the kernel tiles; bounds memory as described above.
    max_samples : int or None, default=None
        If given, each sample larger than this is sub-sampled to this many rows without
        replacement (Counterfactual Training used 100) before anything else.
    random_state : int, RandomState instance or None, default=None
        Seed of the sub-sampling (``max_samples`` and the median heuristic).
    device : str or torch.device, default=None
        Torch device for the computation, e.g. "cuda"; None means the CPU.

    Returns
    -------
    mmd2 : float
        Estimate of the squared MMD. For the kernels above it lies in [-2, 2] (unbiased) or
        [0, 2] (biased).

    See Also
    --------
    implausibility_mmd : MMD between counterfactuals and target-class data, per target.
    median_pairwise_distance : The median heuristic.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ct.metrics import mmd
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.normal(size=(200, 2)), rng.normal(loc=3.0, size=(200, 2))
    >>> mmd(X, Y, length_scale=1.0) > 10 * abs(mmd(X, rng.normal(size=(200, 2)), length_scale=1.0))
    True
    """
    length_scale = _float_or_median(length_scale)
    X = _check_2d(X, "X")
    Y = _check_2d(Y, "Y")
    _check_n_features(X, Y, ("X", "Y"))

    rng = check_random_state(random_state)
    if max_samples is not None:
        if X.shape[0] > max_samples:
            X = X[rng.choice(X.shape[0], size=max_samples, replace=False)]
        if Y.shape[0] > max_samples:
            Y = Y[rng.choice(Y.shape[0], size=max_samples, replace=False)]
    n, m = X.shape[0], Y.shape[0]
    if unbiased and (n < 2 or m < 2):
        raise ValueError(
            "The unbiased MMD estimate needs at least 2 samples in each of X and Y, got "
            f"{n} and {m}; pass unbiased=False or more samples."
        )
    if length_scale == "median":
        length_scale = median_pairwise_distance(X, Y, random_state=rng)
        if length_scale == 0:
            raise ValueError(
                "The median pairwise distance is 0 (most rows are identical); pass a positive "
                "float length_scale instead of 'median'."
            )

    device = torch.device("cpu" if device is None else device)
    # The kernel only depends on differences, so centring on the pooled mean is free and
    # shrinks the norms that cancel in ||x||^2 + ||y||^2 - 2 x.y (data far from the origin would
    # otherwise lose digits there).
    shift = np.concatenate([X, Y], axis=0).mean(axis=0)
    Xt = torch.as_tensor(X - shift, dtype=torch.float64, device=device)
    Yt = torch.as_tensor(Y - shift, dtype=torch.float64, device=device)
    x_sq = (Xt * Xt).sum(dim=1)
    y_sq = (Yt * Yt).sum(dim=1)
    params = dict(kernel=kernel, length_scale=length_scale, block_size=block_size)
    diagonal = 0.0 if unbiased else 1.0
    k_xx = _kernel_sum(Xt, Xt, x_sq, x_sq, same=True, diagonal=diagonal, **params)
    k_yy = _kernel_sum(Yt, Yt, y_sq, y_sq, same=True, diagonal=diagonal, **params)
    k_xy = _kernel_sum(Xt, Yt, x_sq, y_sq, same=False, diagonal=diagonal, **params)
    if unbiased:
        return k_xx / (n * (n - 1)) + k_yy / (m * (m - 1)) - 2.0 * k_xy / (n * m)
    return k_xx / n ** 2 + k_yy / m ** 2 - 2.0 * k_xy / (n * m)
