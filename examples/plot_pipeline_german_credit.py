"""
==============================================================
CT in a pipeline with mixed data and an immutable feature
==============================================================

Train :class:`~sklearn_ct.CTClassifier` at the end of a scikit-learn
:class:`~sklearn.pipeline.Pipeline` whose :class:`~sklearn.compose.ColumnTransformer`
standardises the numeric columns and one-hot encodes the categorical ones of the German
credit data. The applicant's ``age`` is declared immutable by name: CT keeps it fixed
while it generates counterfactuals during training and protects it in its loss, so the
model learns to offer recourse through features that applicants can act on.

The fitted pipeline is then explained by
:class:`~sklearn_ct.explainers.CounterfactualExplainer`, which returns counterfactuals
with the original columns (strings for categories, original units for numbers), and we
check that the constraints hold.

Set ``SKLEARN_CT_EXAMPLE_QUICK=1`` to run a small version of this example.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data
# ----
# :func:`~sklearn_ct.datasets.load_german_credit` returns DataFrames with 7 numeric and 13
# categorical columns, and an unfitted preprocessor for them. ``set_output`` makes the
# preprocessor return a DataFrame, so that the classifier sees feature names (``age``
# keeps its name; one-hot columns are called ``<column>_<category>``).
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from sklearn_ct import CTClassifier
from sklearn_ct.datasets import load_german_credit
from sklearn_ct.explainers import CounterfactualExplainer
from sklearn_ct.metrics import protected_feature_sensitivity

QUICK = os.environ.get("SKLEARN_CT_EXAMPLE_QUICK", "") not in ("", "0")

data = load_german_credit(shuffle=True, random_state=0)
X_train, X_test, y_train, y_test = data.X_train, data.X_test, data.y_train, data.y_test
print(X_train.shape, "numeric:", data.numeric_features)
print("immutable by default:", data.immutable_features)
preprocessor = clone(data.preprocessor).set_output(transform="pandas")

# %%
# A CT pipeline and a baseline
# ----------------------------
# ``mutability={"age": "none"}`` names a column of the preprocessed data. The baseline is
# the same pipeline trained without CT.
params = dict(
    max_epochs=15 if QUICK else 100,
    n_counterfactuals=200 if QUICK else 800,
    lambda_reg=0.25,
    random_state=0,
)
models = {
    "baseline": Pipeline([
        ("prep", preprocessor),
        ("clf", CTClassifier(objective="vanilla", **params)),
    ]),
    "CT": Pipeline([
        ("prep", clone(preprocessor)),
        ("clf", CTClassifier(mutability={"age": "none"}, **params)),
    ]),
}
for name, model in models.items():
    model.fit(X_train, y_train)
    print(f"{name:>8}: test accuracy = {model.score(X_test, y_test):.3f}")

ct = models["CT"]
print("features seen by the network:", ct[-1].n_features_in_)
print("mutability of 'age':", ct[-1].mutability_[list(ct[-1].feature_names_in_).index("age")])

# %%
# Explain the pipeline
# --------------------
# The explainer takes the whole pipeline. It searches in the network's input space and
# maps the counterfactuals back through the preprocessing, so that they have the columns
# of ``X``. Its constraints refer to those columns:
#
# * ``mutability``: besides ``age``, the categorical ``personal_status_sex`` and
#   ``foreign_worker`` are fixed (a constraint on a categorical column applies to its whole
#   one-hot group). The CT model's own training constraint on ``age`` would be enforced
#   anyway.
# * ``domain``: numeric columns stay within the range seen in the training data. (The
#   default, ``"infer"``, allows two standard deviations beyond the mean, which for the
#   skewed ``credit_amount`` includes negative amounts.)
constraints = {"age": "none", "personal_status_sex": "none", "foreign_worker": "none"}
domain = {c: (X_train[c].min(), X_train[c].max()) for c in data.numeric_features}
X_explain = X_test.iloc[: 40 if QUICK else 200]
explainer = CounterfactualExplainer(
    FrozenEstimator(ct), mutability=constraints, domain=domain, max_steps=100,
    random_state=0,
).fit(X_train, y_train)
result = explainer.explain(X_explain)
cf = result.counterfactuals
print(f"validity: {result.valid.mean():.2f}")
print("targets:", pd.Series(result.target).value_counts().to_dict())

# %%
# The counterfactual of one applicant, next to the factual, for the columns that changed:
row = int(np.flatnonzero(result.valid & ~result.already_target)[0])
changed = cf.iloc[row] != X_explain.iloc[row]
print(pd.DataFrame({"factual": X_explain.iloc[row][changed],
                    "counterfactual": cf.iloc[row][changed]}))

# %%
# The constraints hold exactly
# ----------------------------
# The immutable columns are copied from the factuals, numeric columns lie within their
# bounds and categorical columns hold valid categories. (Numeric columns are treated as
# continuous: counts such as ``existing_credits`` are not rounded.)
for column in constraints:
    assert (cf[column] == X_explain[column]).all(), column
for column, (low, high) in domain.items():
    assert cf[column].between(low, high).all(), column
for column in data.categorical_features:
    assert cf[column].isin(X_train[column].unique()).all(), column
print("immutable columns unchanged:", list(constraints))
print("share of counterfactuals that change each column:")
print((cf != X_explain).mean().sort_values(ascending=False).round(2).head(8))

# %%
# How much does each model rely on age?
# -------------------------------------
# Protecting ``age`` in the CT loss is meant to make the model less sensitive to it.
# :func:`~sklearn_ct.metrics.protected_feature_sensitivity` measures the standardised
# integrated-gradients attribution of ``age`` (lower is less sensitive). It works in the
# network's input space, so the test data are passed through the preprocessing first.
sensitivity = {}
for name, model in models.items():
    Z_test = model[:-1].transform(X_test)
    sensitivity[name] = protected_feature_sensitivity(
        model[-1], Z_test, y_test, features="age", random_state=0
    )
    print(f"{name:>8}: sensitivity to age = {sensitivity[name]:.3f}")

fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(list(sensitivity), list(sensitivity.values()), color=["grey", "tab:blue"])
ax.set_ylabel("standardised IG attribution of age")
ax.set_title("Sensitivity to the protected feature")
fig.tight_layout()
plt.show()
