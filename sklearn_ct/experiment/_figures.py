"""Figures of the experiment, saved as PNG files.

* :func:`plot_explanations_2d`: the paper's Figure 1 on a synthetic data set: baseline and
  CT, without and with the protected feature (``x1``) immutable, showing the predicted
  probability of the target class, the data, and counterfactuals with their search paths;
* :func:`plot_robustness`: accuracy against the attack size for baseline and CT, FGSM and
  PGD, one panel per data set;
* :func:`plot_digits`: digit counterfactuals of baseline and CT (factual, counterfactual,
  difference).

The figures are drawn on :class:`matplotlib.figure.Figure` objects, without pyplot, so
that they never touch the caller's matplotlib backend or open windows.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.frozen import FrozenEstimator

from ..inspection import CounterfactualPathDisplay
from ._datasets import EXPERIMENT_DATASETS
from ._evaluation import explainer_templates

__all__ = ["plot_explanations_2d", "plot_robustness", "plot_digits"]

_COLORS = {"BL": "tab:blue", "CT": "tab:orange", "JEM": "tab:green", "PGD": "tab:red",
           "AR": "tab:purple", "CD": "tab:brown"}


def _figure(**kwargs):
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def _explainer(data, model, settings, setting):
    """The evaluation's explainer with energy weight 1 (or the first one), fitted."""
    templates = explainer_templates(data, settings, setting)
    lambdas = list(settings.lambda_energies)
    template = templates[lambdas.index(1.0) if 1.0 in lambdas else 0]
    return template.set_params(estimator=FrozenEstimator(model), random_state=0).fit(
        data.X_test, data.y_test)


def plot_explanations_2d(data, models, settings, *, n_explained=10, random_state=0):
    """The paper's Figure 1 for a two-dimensional data set.

    Four panels: (a) baseline and (b) CT without constraints, (c) baseline and (d) CT
    trained with protection, both explained with ``x1`` immutable. Each shows the
    predicted probability of the target class (filled contours, the 0.5 level as a line),
    the test data coloured by label, and counterfactuals (stars) for a few test points
    of the other class with their search paths, drawn with
    :class:`~sklearn_ct.inspection.CounterfactualPathDisplay`.

    Parameters
    ----------
    data : :class:`~sklearn.utils.Bunch`
        A prepared two-dimensional data set.
    models : dict
        Fitted ``"BL"``, ``"CT"`` and ``"CT_protected"`` models.
    settings : ExperimentSettings
        Experiment settings (test-time search).
    n_explained : int, default=10
        Number of test points explained per panel (the same in every panel).
    random_state : int, default=0
        Chooses the explained points.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    """
    X, y = data.X_test, data.y_test
    if X.shape[1] != 2:
        raise ValueError(f"plot_explanations_2d needs two features, got {X.shape[1]}.")
    classes = np.unique(y)
    target = classes[-1]
    rng = np.random.RandomState(random_state)
    pool = np.flatnonzero(y != target)
    rows = rng.choice(pool, size=min(n_explained, pool.size), replace=False)
    show = rng.choice(len(y), size=min(400, len(y)), replace=False)

    panels = [("(a) baseline", "BL", "plausibility"), ("(b) CT", "CT", "plausibility"),
              ("(c) baseline, x1 immutable", "BL", "protected"),
              ("(d) CT protected, x1 immutable", "CT_protected", "protected")]
    fig = _figure(figsize=(10, 9), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True, sharey=True)
    for ax, (title, name, setting) in zip(axes.ravel(), panels):
        model = models[name]
        result = _explainer(data, model, settings, setting).explain(
            X[rows], target=np.full(rows.size, target), return_path=True)
        cf = np.asarray(result.counterfactuals)
        # Valid as in the evaluation: the model predicts the target (the search itself
        # runs on to the evaluation threshold).
        valid = np.asarray(result.prediction) == target
        display = CounterfactualPathDisplay.from_explanation(
            result, X[rows], estimator=model, X_ref=X[show], y_ref=y[show],
            class_of_interest=target, valid=valid, grid_resolution=150,
            bounds=data.domain, ax=ax, colorbar=False)
        cost = np.abs(cf - X[rows]).sum(axis=1)
        cost_text = f"{cost[valid].mean():.2f}" if valid.any() else "n/a"
        ax.set_title(f"{title}\nvalid {valid.mean():.0%}, mean L1 cost of valid "
                     f"{cost_text}", fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel("")
    for ax in axes[-1]:
        ax.set_xlabel("x1 (protected)")
    for ax in axes[:, 0]:
        ax.set_ylabel("x2")
    fig.colorbar(display.surface_, ax=axes, shrink=0.6,
                 label=f"predicted probability of class {target}")
    fig.suptitle(f"{data.spec.label}: counterfactuals (stars; grey: not valid) of black "
                 f"points and their search paths")
    return fig


def plot_robustness(robustness):
    """Accuracy against the attack size, baseline vs CT, FGSM and PGD.

    Parameters
    ----------
    robustness : pandas.DataFrame
        Results of :func:`~sklearn_ct.experiment.evaluate_robustness`.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One panel per data set.
    """
    datasets = list(dict.fromkeys(robustness["dataset"]))
    ncols = min(4, len(datasets))
    nrows = int(np.ceil(len(datasets) / ncols))
    fig = _figure(figsize=(3.2 * ncols, 2.8 * nrows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
    for ax, dataset in zip(axes, datasets):
        part = robustness[robustness["dataset"] == dataset]
        for (model, attack), curve in part.groupby(["model", "attack"], sort=False):
            curve = curve.sort_values("epsilon")
            ax.plot(curve["epsilon"], curve["accuracy"], color=_COLORS.get(model),
                    linestyle="-" if attack == "fgsm" else "--", marker=".",
                    label=f"{model} {attack.upper()}")
        ax.set_title(EXPERIMENT_DATASETS[dataset].label)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes[len(datasets):]:
        ax.set_visible(False)
    for ax in axes[:len(datasets)]:
        ax.set_xlabel("epsilon (L-inf)")
    axes[0].set_ylabel("test accuracy")
    axes[0].legend(fontsize=8)
    fig.suptitle("Accuracy under FGSM (solid) and PGD (dashed) attacks")
    return fig


def plot_digits(data, models, settings, *, n_digits=4, random_state=0):
    """Counterfactuals of test digits for the baseline and CT.

    Parameters
    ----------
    data : :class:`~sklearn.utils.Bunch`
        The prepared digits data set (``image_shape`` set).
    models : dict
        Fitted ``"BL"`` and ``"CT"`` models.
    settings : ExperimentSettings
        Experiment settings (the unconstrained test-time search).
    n_digits : int, default=4
        Number of digits shown (rows).
    random_state : int, default=0
        Chooses the digits and their targets.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Rows of: factual, baseline counterfactual and difference, CT counterfactual and
        difference.
    """
    shape = data.image_shape
    if shape is None:
        raise ValueError("plot_digits needs an image data set.")
    X, y = data.X_test, data.y_test
    rng = np.random.RandomState(random_state)
    both = np.flatnonzero((models["BL"].predict(X) == y) & (models["CT"].predict(X) == y))
    # Digits that both models classify correctly, unless there are too few (tiny runs).
    pool = both if both.size >= n_digits else np.arange(len(y))
    rows = rng.choice(pool, size=min(n_digits, len(pool)), replace=False)
    n_digits = rows.size
    classes = np.unique(y)
    targets = np.array([rng.choice(classes[classes != y[r]]) for r in rows])
    results = {name: _explainer(data, models[name], settings, "plausibility").explain(
        X[rows], target=targets) for name in ("BL", "CT")}

    fig = _figure(figsize=(8, 1.9 * n_digits + 0.5), layout="constrained")
    axes = fig.subplots(n_digits, 5, squeeze=False)
    titles = ["factual", "BL counterfactual", "BL change", "CT counterfactual", "CT change"]
    for i, r in enumerate(rows):
        images = [X[r]]
        for name in ("BL", "CT"):
            cf = np.asarray(results[name].counterfactuals)[i]
            images += [cf, cf - X[r]]
        for j, (ax, image) in enumerate(zip(axes[i], images)):
            change = j in (2, 4)
            ax.imshow(image.reshape(shape), cmap="RdBu_r" if change else "gray_r",
                      vmin=-2 if change else -1, vmax=2 if change else 1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(titles[j], fontsize=9)
        axes[i, 0].set_ylabel(f"{y[r]} → {targets[i]}")
        for k, name in ((1, "BL"), (3, "CT")):
            p = results[name].target_proba[i]
            axes[i, k].set_xlabel(f"p(target) = {p:.2f}", fontsize=8)
    fig.suptitle("Digit counterfactuals (unconstrained; the border rows are protected only "
                 "in the cost evaluation)", fontsize=10)
    return fig
