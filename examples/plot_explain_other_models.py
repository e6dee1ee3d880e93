"""
=====================================================
Explaining models that were not trained with CT
=====================================================

:class:`~sklearn_ct.explainers.CounterfactualExplainer` explains any classifier, not only
:class:`~sklearn_ct.CTClassifier`:

* *black-box* generators (:class:`~sklearn_ct.generators.GrowingSpheresGenerator`) only
  call ``predict_proba`` and work for every scikit-learn classifier, e.g. a random
  forest or an :class:`~sklearn.neural_network.MLPClassifier`;
* *gradient* generators (:class:`~sklearn_ct.generators.GenericGenerator`,
  :class:`~sklearn_ct.generators.ECCoGenerator`,
  :class:`~sklearn_ct.generators.REVISEGenerator`)
  need a differentiable model: a ``torch.nn.Module`` returning logits, a skorch net or a
  ``CTClassifier``.

Set ``SKLEARN_CT_EXAMPLE_QUICK=1`` to run a small version of this example.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data
# ----
import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.neural_network import MLPClassifier
from torch import nn

from sklearn_ct import GenericGenerator
from sklearn_ct.datasets import load_synthetic
from sklearn_ct.explainers import (
    CounterfactualExplainer,
    GrowingSpheresGenerator,
    REVISEGenerator,
)
from sklearn_ct.metrics import counterfactual_cost, implausibility

QUICK = os.environ.get("SKLEARN_CT_EXAMPLE_QUICK", "") not in ("", "0")

data = load_synthetic("moons", n_samples=600 if QUICK else 3000, random_state=0)
X_train, X_test, y_train, y_test = data.X_train, data.X_test, data.y_train, data.y_test
X_explain = X_test[: 40 if QUICK else 200]
results = {}

# %%
# A random forest, with Growing Spheres
# -------------------------------------
# The explainer follows a simple fitting rule: an *unfitted* estimator is cloned and
# fitted on the data passed to the explainer's ``fit``; a fitted one is used as it is.
# Here the forest is fitted by the explainer.
forest_explainer = CounterfactualExplainer(
    RandomForestClassifier(n_estimators=50 if QUICK else 200, random_state=0),
    generator=GrowingSpheresGenerator(n_candidates=100 if QUICK else 500),
    random_state=0,
).fit(X_train, y_train)
print("fitted forest:", forest_explainer.estimator_)
results["random forest\n(Growing Spheres)"] = (forest_explainer,
                                               forest_explainer.explain(X_explain))

# %%
# An MLPClassifier, as a black box
# --------------------------------
# scikit-learn's :class:`~sklearn.neural_network.MLPClassifier` is not a PyTorch module, so
# gradient generators cannot differentiate it; black-box generators can still explain it.
# This time the model is fitted first and wrapped in
# :class:`~sklearn.frozen.FrozenEstimator`, which keeps it fitted even if the explainer is
# cloned (e.g. in a grid search).
mlp = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=1000,
                    random_state=0).fit(X_train, y_train)
mlp_explainer = CounterfactualExplainer(
    FrozenEstimator(mlp), generator="growing_spheres", random_state=0
).fit(X_train, y_train)
results["MLPClassifier\n(Growing Spheres)"] = (mlp_explainer, mlp_explainer.explain(X_explain))

# %%
# A plain PyTorch network, with gradient generators
# -------------------------------------------------
# A ``torch.nn.Module`` that returns logits is explained directly; ``classes`` names the
# labels of its logits (``range(n_logits)`` by default). Such a module has no ``fit``, so
# the explainer's ``fit`` only learns the domain bounds (and, for REVISE, its
# autoencoder).
torch.manual_seed(0)
network = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
X_t = torch.as_tensor(X_train, dtype=torch.float32)
y_t = torch.as_tensor(y_train, dtype=torch.long)
for epoch in range(30 if QUICK else 100):
    for batch in torch.randperm(len(X_t)).split(64):
        optimizer.zero_grad()
        nn.functional.cross_entropy(network(X_t[batch]), y_t[batch]).backward()
        optimizer.step()
network.eval()
with torch.no_grad():
    accuracy = (network(torch.as_tensor(X_test, dtype=torch.float32)).argmax(1).numpy()
                == y_test).mean()
print(f"torch network: test accuracy = {accuracy:.3f}")

generators = {
    "Generic": GenericGenerator(lambda_cost=0.1),
    "ECCo": "ecco",
    "REVISE": REVISEGenerator(max_epochs=20 if QUICK else 100),
}
for name, generator in generators.items():
    explainer = CounterfactualExplainer(
        network, generator=generator, classes=[0, 1], decision_threshold=0.75,
        random_state=0,
    ).fit(X_train, y_train)
    results[f"torch network\n({name})"] = (explainer, explainer.explain(X_explain))

# %%
# Compare
# -------
# Validity, cost (L1 distance to the factual) and implausibility (mean L1 distance to the
# test rows of the target class) of the valid counterfactuals. The network's explanations
# were searched until the target probability reached 0.75, the black-box ones until the
# predicted class changed (the default threshold 0.5).
for name, (_, res) in results.items():
    valid = res.valid
    cost = counterfactual_cost(X_explain[valid], res.counterfactuals[valid]).mean()
    ip = implausibility(res.counterfactuals[valid], X_test, y_test, res.target[valid]).mean()
    label = name.replace("\n", " ")
    print(f"{label:<36} validity={valid.mean():.2f}  cost={cost:.2f}  IP={ip:.2f}")

# %%
# Each panel shows the model's decision regions and arrows from factuals to their
# counterfactuals.
xx, yy = np.meshgrid(
    np.linspace(X_test[:, 0].min() - 0.5, X_test[:, 0].max() + 0.5, 120),
    np.linspace(X_test[:, 1].min() - 0.5, X_test[:, 1].max() + 0.5, 120),
)
grid = np.c_[xx.ravel(), yy.ravel()]
with torch.no_grad():
    network_proba = torch.softmax(network(torch.as_tensor(grid, dtype=torch.float32)), 1)
network_proba = network_proba[:, 1].numpy()
probas = {"random forest": forest_explainer.estimator_.predict_proba(grid)[:, 1],
          "MLPClassifier": mlp.predict_proba(grid)[:, 1], "torch network": network_proba}

fig, axes = plt.subplots(2, 3, figsize=(12, 7.5), sharex=True, sharey=True)
for ax, (name, (_, res)) in zip(axes.ravel(), results.items()):
    proba = probas[name.split("\n")[0]].reshape(xx.shape)
    ax.contourf(xx, yy, proba, levels=20, cmap="RdBu_r", alpha=0.35)
    ax.scatter(X_test[:, 0], X_test[:, 1], c=y_test, cmap="RdBu_r", s=6, alpha=0.4)
    cf = res.counterfactuals
    for x0, x1 in zip(X_explain[:20], cf[:20]):
        ax.annotate("", xy=x1, xytext=x0, arrowprops=dict(arrowstyle="->", lw=0.8))
    ax.scatter(cf[:20, 0], cf[:20, 1], marker="*", s=50, c="gold", edgecolors="k")
    ax.set_title(name, fontsize=10)
axes.ravel()[-1].axis("off")
fig.tight_layout()
plt.show()
