"""
==============================================
Categorical features valid during training
==============================================

Counterfactual training compares the model's energy at counterfactuals with its energy at
real data. When categories are one-hot encoded, a plain gradient search leaves them at
in-between values (a person who is 30 % "Private" and 70 % "Self-emp"), which no real
row has. ``CTClassifier(categorical_groups="auto")`` finds the one-hot groups by their
column names, here those of a ``OneHotEncoder`` in a ``ColumnTransformer`` with pandas
output, and keeps every group a real category at every step of the training-time search.

Set the environment variable ``SKLEARN_CT_EXAMPLE_QUICK=1`` to run a small version of
this example (the documentation build and the tests do).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# A pipeline that names its columns
# ---------------------------------
# Adult's preprocessor standardises the numeric columns and one-hot encodes the
# categorical ones. With ``set_output(transform="pandas")`` the classifier receives the
# encoder's column names (``workclass_Private``, ...), from which ``"auto"`` finds the
# groups; nobody counts columns.
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from sklearn_ct import CTClassifier
from sklearn_ct.datasets import load_adult
from sklearn_ct.explainers import CounterfactualExplainer

QUICK = os.environ.get("SKLEARN_CT_EXAMPLE_QUICK", "") not in ("", "0")

data = load_adult()
n_train = 3000 if QUICK else len(data.y_train)
X_train, y_train = data.X_train.iloc[:n_train], data.y_train[:n_train]
X_test = data.X_test.iloc[: 100 if QUICK else 500]
pre = data.preprocessor.set_output(transform="pandas")

params = dict(mutability={"age": "none"}, max_epochs=10 if QUICK else 100,
              batch_size=300 if QUICK else 1000, decision_threshold=0.75, lambda_reg=0.25,
              n_counterfactuals=1000 if QUICK else 5000, random_state=0,
              # Keep the CT network whatever its plausibility: this example looks at the
              # pools of its training-time search (the default selection could keep the
              # conventionally trained twin, which has none).
              selection=None)
models = {
    "relaxed": make_pipeline(clone(pre), CTClassifier(**params)),
    "groups": make_pipeline(clone(pre), CTClassifier(categorical_groups="auto", **params)),
}
for model in models.values():
    model.fit(X_train, y_train)

groups = models["groups"][-1].categorical_groups_
names = models["groups"][-1].feature_names_in_
print(f"{len(groups)} groups found, e.g. {[names[j] for j in groups[1][:3]]} ...")

# %%
# What the training-time search produced
# --------------------------------------
# The last epoch's pool keeps, for every factual drawn, its *nascent* counterfactual: the
# last search iterate within ``adversarial_epsilon`` of the factual, which CT uses as
# adversarial example (mature counterfactuals enter the energy differential the same
# way). Without groups, their one-hot columns are spread between 0 and 1; with groups,
# every entry is exactly 0 or 1.
onehot = np.concatenate(groups)
fig, ax = plt.subplots(figsize=(6, 3.5))
for label, model in models.items():
    pool = dict(model[-1].net_.callbacks_)["counterfactuals"].last_pool_
    values = pool["x_ae"].numpy()[:, onehot].ravel()
    inside = ((values > 1e-6) & (values < 1 - 1e-6)).mean()
    print(f"{label}: {inside:.1%} of the one-hot entries of the search iterates are "
          "neither 0 nor 1")
    ax.hist(values, bins=40, range=(-0.2, 1.2), alpha=0.6, label=label, log=True)
ax.set_xlabel("value of a one-hot column in a training-time search iterate")
ax.set_ylabel("count (log)")
ax.legend()
plt.tight_layout()
plt.show()

# %%
# Explaining the two models
# -------------------------
# The test-time explainer (``age`` immutable, threshold 0.5) maps counterfactuals back to
# Adult's original columns, so categories are named. The cost of a counterfactual splits
# into the change of the numeric (standardised) columns and the number of categories it
# changes. ``categorical_snapping="step"`` gives the explainer the same per-step handling
# as training.
numeric = list(data.preprocessor.transformers[0][2])
categorical = list(data.preprocessor.transformers[1][2])
for label, model in models.items():
    for snapping in ("end", "step"):
        explainer = CounterfactualExplainer(
            model, mutability={"age": "none"}, categorical_snapping=snapping,
            generator="ecco", max_steps=50, random_state=0).fit(X_train)
        res = explainer.explain(X_test)
        ok = res.valid & ~res.already_target
        cf = res.counterfactuals[ok]
        Zx = model[0].transform(X_test[ok])[numeric].to_numpy()
        Zc = model[0].transform(cf)[numeric].to_numpy()
        changed = (cf[categorical].to_numpy() != X_test[ok][categorical].to_numpy())
        print(f"{label:>8}, snapping={snapping}: valid {res.valid.mean():.2f}, numeric L1 "
              f"{np.abs(Zc - Zx).sum(axis=1).mean():.2f}, categories changed per "
              f"counterfactual {changed.sum(axis=1).mean():.2f}")
