"""
===========================================
Quick start: counterfactual training (CT)
===========================================

Fit a baseline and a CT model on the moons data, predict with them, and explain their
predictions with :class:`~sklearn_ct.explainers.CounterfactualExplainer`. CT models are
trained so that their counterfactual explanations land among real samples of the target
class; the baseline's often stop just behind the decision boundary.

Set the environment variable ``SKLEARN_CT_EXAMPLE_QUICK=1`` to run a small version of
this example (the documentation build and the tests do).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data
# ----
# :func:`~sklearn_ct.datasets.load_synthetic` generates the paper's synthetic data sets
# and splits them into training and test rows.
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.frozen import FrozenEstimator

from sklearn_ct import CTClassifier, ECCoGenerator
from sklearn_ct.datasets import load_synthetic
from sklearn_ct.explainers import CounterfactualExplainer
from sklearn_ct.metrics import counterfactual_cost, implausibility

QUICK = os.environ.get("SKLEARN_CT_EXAMPLE_QUICK", "") not in ("", "0")

data = load_synthetic("moons", n_samples=1000 if QUICK else 3000, random_state=0)
X_train, X_test, y_train, y_test = data.X_train, data.X_test, data.y_train, data.y_test
print(f"{X_train.shape[0]} training rows, {X_test.shape[0]} test rows")

# %%
# Fit
# ---
# :class:`~sklearn_ct.CTClassifier` is an ordinary scikit-learn classifier. The baseline is
# the same estimator with every CT term switched off (``objective="vanilla"``). Both get
# the paper's settings for this data set, which only matter for CT: counterfactuals must
# reach probability 0.9 during training (``decision_threshold``) and the energy ridge is
# stronger than the default (``lambda_reg=0.25``).
params = dict(
    max_epochs=40 if QUICK else 100,
    batch_size=30,
    decision_threshold=0.9,
    lambda_reg=0.25,
    n_counterfactuals=300 if QUICK else 1000,
    random_state=0,
)
models = {
    "baseline": CTClassifier(objective="vanilla", **params).fit(X_train, y_train),
    "CT": CTClassifier(objective="full", **params).fit(X_train, y_train),
}

# %%
# Predict
# -------
# ``predict``, ``predict_proba`` and ``score`` work as for any classifier; the training
# history records the CT loss terms and the share of counterfactuals that reached the
# training threshold in each epoch. By default CT checks its own explanations at the end
# of training against a conventionally trained twin and keeps the twin where CT did not
# make them more plausible (or the blend halfway between the two networks, where that
# does); ``selected_`` says which network was kept, and ``selection_scores_`` holds the
# ratios kept network / twin it was decided on.
ct = models["CT"]
print("predictions:", ct.predict(X_test[:5]))
print("probabilities:\n", ct.predict_proba(X_test[:2]).round(3))
for name, clf in models.items():
    print(f"{name:>8}: test accuracy = {clf.score(X_test, y_test):.3f}")
print("kept:", ct.selected_, "| plain-search IP ratio CT / twin:",
      round(ct.selection_scores_.get("plain_ip", float("nan")), 2))
if ct.selected_ != "vanilla":
    print("CT, last epoch: mature counterfactuals =", round(ct.history_[-1, "cf_mature"], 2))

# %%
# Explain
# -------
# The explainer is a transformer: ``fit`` prepares it (here on the training data, for the
# domain bounds), ``transform`` returns one counterfactual per row, and ``explain`` also
# returns targets, validity and the number of search steps. A fitted model is explained
# as it is; wrapping it in :class:`~sklearn.frozen.FrozenEstimator` keeps it fitted even
# when the explainer is cloned (e.g. by a grid search). The generator is the paper's
# test-time generator: ECCo without a distance penalty, at most 50 steps, until the
# target probability reaches 0.95.
explainers = {
    name: CounterfactualExplainer(
        FrozenEstimator(clf),
        generator=ECCoGenerator(lambda_cost=0.0, lambda_energy=1.0),
        max_steps=50,
        decision_threshold=0.95,
        random_state=0,
    ).fit(X_train, y_train)
    for name, clf in models.items()
}
X_explain = X_test[: 60 if QUICK else 200]
results = {name: explainer.explain(X_explain) for name, explainer in explainers.items()}

# %%
# Measure
# -------
# A counterfactual is *valid* when it reaches the target; *implausibility* (IP) is its mean
# L1 distance to the test rows of the target class, and *cost* the L1 distance to the
# factual. Both are averaged over valid counterfactuals; lower is better.
for name, res in results.items():
    valid = res.valid
    ip = implausibility(res.counterfactuals[valid], X_test, y_test, res.target[valid])
    cost = counterfactual_cost(X_explain[valid], res.counterfactuals[valid])
    print(
        f"{name:>8}: validity={valid.mean():.2f}  IP={ip.mean():.3f}  "
        f"cost={cost.mean():.3f}  mean steps={res.n_iter.mean():.1f}"
    )

# %%
# Plot
# ----
# Each arrow leads from a test point to its counterfactual. The CT model's counterfactuals
# end inside the cloud of the target class.
xx, yy = np.meshgrid(
    np.linspace(X_test[:, 0].min() - 0.5, X_test[:, 0].max() + 0.5, 150),
    np.linspace(X_test[:, 1].min() - 0.5, X_test[:, 1].max() + 0.5, 150),
)
grid = np.c_[xx.ravel(), yy.ravel()]
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharex=True, sharey=True)
for ax, (name, clf) in zip(axes, models.items()):
    proba = clf.predict_proba(grid)[:, 1].reshape(xx.shape)
    ax.contourf(xx, yy, proba, levels=20, cmap="RdBu_r", alpha=0.35)
    ax.contour(xx, yy, proba, levels=[0.5], colors="k", linewidths=1)
    ax.scatter(X_test[:, 0], X_test[:, 1], c=y_test, cmap="RdBu_r", s=8, alpha=0.5)
    res = results[name]
    cf = res.counterfactuals
    for x0, x1 in zip(X_explain[:25], cf[:25]):
        ax.annotate("", xy=x1, xytext=x0, arrowprops=dict(arrowstyle="->", lw=0.8))
    ax.scatter(cf[:25, 0], cf[:25, 1], marker="*", s=60, c="gold", edgecolors="k")
    ax.set_title(f"{name}: validity {res.valid.mean():.2f}")
fig.tight_layout()
plt.show()
