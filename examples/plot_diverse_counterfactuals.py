"""
========================================
Several diverse counterfactuals per row
========================================

One counterfactual shows one way to change a prediction; a person usually wants a few to
choose from. ``CounterfactualExplainer(n_per_row=k)`` searches ``k`` counterfactuals per
row in one batch: from different starting points, with a diversity term that pushes a
row's candidates apart, under every constraint. ``transform`` still returns one row per
input, the best valid candidate.

Set the environment variable ``SKLEARN_CT_EXAMPLE_QUICK=1`` to run a small version of
this example (the documentation build and the tests do).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# A model to explain
# ------------------
# A CT model on the moons data (the paper's settings for this data set).
import os

import matplotlib.pyplot as plt
import numpy as np

from sklearn_ct import CTClassifier
from sklearn_ct.datasets import load_synthetic
from sklearn_ct.explainers import CounterfactualExplainer
from sklearn_ct.metrics import change_set_diversity, counterfactual_diversity

QUICK = os.environ.get("SKLEARN_CT_EXAMPLE_QUICK", "") not in ("", "0")

data = load_synthetic("moons", n_samples=1000 if QUICK else 3000, random_state=0)
X_train, X_test = data.X_train, data.X_test
clf = CTClassifier(max_epochs=30 if QUICK else 100, batch_size=30, decision_threshold=0.9,
                   lambda_reg=0.25, n_counterfactuals=300 if QUICK else 1000,
                   random_state=0).fit(X_train, data.y_train)

# %%
# Four counterfactuals per row
# ----------------------------
# ``explain`` returns arrays with a candidate axis: ``counterfactuals`` has shape
# ``(n_rows, 4, n_features)``, ``valid`` and ``target_proba`` ``(n_rows, 4)``.
# ``diversity_weight`` sets how strongly a row's candidates repel each other.
rows = X_test[:200]
explainers = {
    weight: CounterfactualExplainer(clf, n_per_row=4, diversity_weight=weight,
                                    decision_threshold=0.95, random_state=0).fit(X_train)
    for weight in (0.0, 0.5, 2.0)
}
for weight, explainer in explainers.items():
    result = explainer.explain(rows)
    print(f"diversity_weight={weight}: shape {result.counterfactuals.shape}, "
          f"valid {result.valid.mean():.2f}, mean pairwise L1 distance "
          f"{counterfactual_diversity(result.counterfactuals, valid=result.valid):.2f}, "
          f"pairs changing different features "
          f"{change_set_diversity(rows, result.counterfactuals):.2f}")

# %%
# With two features, every counterfactual changes both, so the change sets never differ;
# the candidates differ in *how much* they change each feature.
#
# The candidates of a few rows
# ----------------------------
# Each factual (circle) with its four counterfactuals (stars), joined by lines, and the
# one ``transform`` returns (the valid candidate with the lowest L1 change) in black.
explainer = explainers[2.0]
show = rows[:6]
result = explainer.explain(show)
best = explainer.transform(show)

xx, yy = np.meshgrid(np.linspace(-2, 3, 200), np.linspace(-1.5, 2, 200))
proba = clf.predict_proba(np.c_[xx.ravel(), yy.ravel()])[:, 1].reshape(xx.shape)
fig, ax = plt.subplots(figsize=(6, 4.5))
ax.contourf(xx, yy, proba, levels=20, cmap="RdBu_r", alpha=0.4)
for i, x in enumerate(show):
    for cf in result.counterfactuals[i]:
        ax.plot([x[0], cf[0]], [x[1], cf[1]], color="grey", lw=0.8)
    ax.scatter(*result.counterfactuals[i].T, marker="*", s=80, color="tab:orange",
               edgecolor="k", linewidth=0.4, zorder=3)
ax.scatter(*show.T, s=40, color="white", edgecolor="k", zorder=4, label="factual")
ax.scatter(*best.T, marker="*", s=120, color="k", zorder=5, label="best (transform)")
ax.set_title("Four counterfactuals per row (diversity_weight=2)")
ax.legend(loc="lower left")
plt.tight_layout()
plt.show()

# %%
# Constraints hold for every candidate
# ------------------------------------
# With ``x1`` immutable, all four candidates of every row keep it, and only ``x2`` moves.
constrained = CounterfactualExplainer(clf, n_per_row=4, mutability={0: "none"},
                                      random_state=0).fit(X_train)
cf = constrained.explain(rows).counterfactuals
print("x1 unchanged in every candidate:", bool((cf[..., 0] == rows[:, None, 0]).all()))
