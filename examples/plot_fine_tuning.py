"""
=====================================================
Fine-tuning a pretrained network with CT
=====================================================

CT does not have to run for the whole training: the paper found that training
conventionally for the first half and switching to CT afterwards (a *burn-in*) also
improves the plausibility of explanations. CT can therefore fine-tune a network that has
already been trained. This example shows three ways to do it:

1. continue a fitted :class:`~sklearn_ct.CTClassifier` with ``warm_start=True`` and the
   CT objective;
2. pass a network trained elsewhere (a plain PyTorch module) as ``module``;
3. train once with ``burnin=0.5``: conventional epochs first, CT for the rest.

The counterfactual explanations of the models are compared with
:func:`~sklearn_ct.metrics.evaluate_counterfactuals`, which follows the paper's
evaluation protocol.

Set ``SKLEARN_CT_EXAMPLE_QUICK=1`` to run a small version of this example.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data
# ----
import copy
import os

import matplotlib.pyplot as plt
import torch
from torch import nn

from sklearn_ct import MLP, CTClassifier
from sklearn_ct.datasets import load_synthetic
from sklearn_ct.metrics import evaluate_counterfactuals

QUICK = os.environ.get("SKLEARN_CT_EXAMPLE_QUICK", "") not in ("", "0")

data = load_synthetic("moons", n_samples=1000 if QUICK else 3000, random_state=0)
X_train, X_test, y_train, y_test = data.X_train, data.X_test, data.y_train, data.y_test
pretrain_epochs = 20 if QUICK else 50
finetune_epochs = 20 if QUICK else 50
settings = dict(batch_size=30, decision_threshold=0.9, lambda_reg=0.25,
                n_counterfactuals=300 if QUICK else 1000, random_state=0)

# %%
# 1. Continue a fitted classifier with ``warm_start``
# ---------------------------------------------------
# First train a conventional network. With ``warm_start=True`` the next ``fit`` continues
# from the current weights; switching ``objective`` to ``"full"`` at the same time turns
# the continuation into CT. A copy of the pretrained model continued *without* CT for the
# same number of epochs is the fair baseline. (:func:`copy.deepcopy` keeps the fitted
# weights; :func:`~sklearn.base.clone` would discard them.)
pretrained = CTClassifier(objective="vanilla", max_epochs=pretrain_epochs, **settings)
pretrained.fit(X_train, y_train)

continued = copy.deepcopy(pretrained).set_params(warm_start=True, max_epochs=finetune_epochs)
continued.fit(X_train, y_train)

finetuned = copy.deepcopy(pretrained).set_params(
    warm_start=True, objective="full", max_epochs=finetune_epochs
)
finetuned.fit(X_train, y_train)
print("history of the fine-tuning fit (CT terms are now non-zero):")
print({key: round(finetuned.history_[-1, key], 3) for key in ("loss_class", "loss_div",
                                                              "loss_reg", "loss_adv")})

# %%
# 2. Fine-tune a network trained elsewhere
# ----------------------------------------
# Any ``torch.nn.Module`` that returns logits can be handed to ``CTClassifier`` as an
# instance: it is copied (the original is left untouched) and training starts from its
# weights. Here a small network is trained with a plain PyTorch loop first.
torch.manual_seed(0)
network = MLP(n_features=2, n_classes=2, hidden_layer_sizes=(32,))
optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
X_t = torch.as_tensor(X_train, dtype=torch.float32)
y_t = torch.as_tensor(y_train, dtype=torch.long)
for epoch in range(pretrain_epochs):
    for batch in torch.randperm(len(X_t)).split(30):
        optimizer.zero_grad()
        nn.functional.cross_entropy(network(X_t[batch]), y_t[batch]).backward()
        optimizer.step()

from_torch = CTClassifier(module=network, max_epochs=finetune_epochs, **settings)
from_torch.fit(X_train, y_train)

# %%
# 3. Burn-in in a single fit
# --------------------------
# ``burnin=0.5`` trains conventionally for the first half of ``max_epochs`` and with CT
# for the second half; this is the schedule the paper tested.
burnin = CTClassifier(burnin=0.5, max_epochs=pretrain_epochs + finetune_epochs, **settings)
burnin.fit(X_train, y_train)

# %%
# Compare the explanations
# ------------------------
# :func:`~sklearn_ct.metrics.evaluate_counterfactuals` draws individuals and targets over
# several runs, explains them with the paper's test-time generator (ECCo, 50 steps,
# threshold 0.95) and reports validity, cost and the two implausibility measures (IP and
# IP*) of the valid counterfactuals; ``reduction`` is the percentage improvement over the
# ``baseline`` model (positive is better for cost and implausibility).
models = {
    "pretrained": pretrained,
    "continued (no CT)": continued,
    "warm_start + CT": finetuned,
    "torch module + CT": from_torch,
    "burn-in CT": burnin,
}
for name, model in models.items():
    print(f"{name:>18}: test accuracy = {model.score(X_test, y_test):.3f}")

summary = evaluate_counterfactuals(
    models, X_test, y_test,
    baseline="continued (no CT)",
    n_individuals=30 if QUICK else 100,
    n_runs=5 if QUICK else 50,
    random_state=0,
)
print(summary[["model", "measure", "mean", "reduction"]].round(3).to_string(index=False))

# %%
# Implausibility per model (lower is more plausible):
ip = summary[summary["measure"] == "implausibility"].set_index("model")
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.barh(ip.index, ip["mean"], xerr=ip["std"], color="tab:blue")
ax.barh(["pretrained", "continued (no CT)"], ip.loc[["pretrained", "continued (no CT)"], "mean"],
        color="grey")
ax.invert_yaxis()
ax.set_xlabel("implausibility (mean L1 distance to the target class)")
fig.tight_layout()
plt.show()
