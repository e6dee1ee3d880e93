"""
===================================================
Displays: what a counterfactual changes, and how
===================================================

:mod:`sklearn_ct.inspection` draws counterfactual explanations with scikit-learn's
*Display* API:

* :class:`~sklearn_ct.inspection.CounterfactualDisplay`: for a few rows, the change of every
  feature in its original units, with categorical changes named, immutable features marked
  and the target probability before and after;
* :class:`~sklearn_ct.inspection.CounterfactualPathDisplay`: for a model of two features,
  its decision surface with factuals, counterfactuals and the paths of the gradient search
  (Figure 1 of the Counterfactual Training paper).

Both are created with ``from_estimator`` (explain and plot) or ``from_explanation`` (plot a
result computed earlier), and keep the drawn artists as attributes.

Set ``SKLEARN_CT_EXAMPLE_QUICK=1`` to run a small version of this example.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# A credit model on mixed data
# ----------------------------
# A CT pipeline on the German credit data: numeric columns are standardised and categorical
# ones one-hot encoded; the applicant's ``age`` is immutable, in training and in the
# explanations.
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from sklearn_ct import CTClassifier
from sklearn_ct.datasets import load_german_credit, load_synthetic
from sklearn_ct.explainers import CounterfactualExplainer
from sklearn_ct.inspection import CounterfactualDisplay, CounterfactualPathDisplay

QUICK = os.environ.get("SKLEARN_CT_EXAMPLE_QUICK", "") not in ("", "0")

credit = load_german_credit(shuffle=True, random_state=0)
X_train, X_test, y_train = credit.X_train, credit.X_test, credit.y_train
ct = Pipeline([
    ("prep", clone(credit.preprocessor).set_output(transform="pandas")),
    ("clf", CTClassifier(mutability={"age": "none"}, max_epochs=15 if QUICK else 100,
                         n_counterfactuals=200 if QUICK else 800, lambda_reg=0.25,
                         random_state=0)),
]).fit(X_train, y_train)

# %%
# The explainer states the constraints in the original columns: besides ``age``, the
# applicant's ``personal_status_sex`` and ``foreign_worker`` stay fixed, and numeric
# columns stay within the range of the training data.
explainer = CounterfactualExplainer(
    FrozenEstimator(ct),
    mutability={"age": "none", "personal_status_sex": "none", "foreign_worker": "none"},
    domain={c: (X_train[c].min(), X_train[c].max()) for c in credit.numeric_features},
    max_steps=100, random_state=0,
).fit(X_train, y_train)

# %%
# What changes for one applicant
# ------------------------------
# :meth:`~sklearn_ct.inspection.CounterfactualDisplay.from_estimator` explains the rows
# and draws one bar per feature that changed, in the units of ``X`` (months, Deutsche Mark,
# years), labelled ``old → new``; categorical changes are named. The immutable features
# are shown too, shaded, so that one sees what was held fixed. The title gives the
# probability of the target class before and after.
applicants = X_test.iloc[:40]
result = explainer.explain(applicants)
rows = np.flatnonzero(result.valid & ~result.already_target)[:2]
display = CounterfactualDisplay.from_estimator(explainer, applicants.iloc[rows[:1]])
display.figure_.set_size_inches(8, 4)
display.figure_.tight_layout()
print("features shown:", display.features_.tolist())
print("changes:", [a.get_text() for a in display.annotations_])

# %%
# Several applicants, from a precomputed explanation
# --------------------------------------------------
# :meth:`~sklearn_ct.inspection.CounterfactualDisplay.from_explanation` plots a result of
# :meth:`~sklearn_ct.explainers.CounterfactualExplainer.explain` without searching again.
# Each row gets its own colour; the legend gives its probabilities. Passing the estimator
# adds the probability of the factual.
subset = applicants.iloc[rows]
sub_result = explainer.explain(subset)
fig, ax = plt.subplots(figsize=(10, 5))
CounterfactualDisplay.from_explanation(
    sub_result, subset, estimator=ct, immutable=["age", "personal_status_sex",
                                                 "foreign_worker"], ax=ax)
fig.tight_layout()

# %%
# Search paths on a two-feature model
# -----------------------------------
# On the moons data, a baseline and a CT model are explained towards class 1. The display
# shows the probability of class 1 (blue: 0, red: 1; the green line is 0.5), the data,
# the factuals (black), their counterfactuals (stars) and each search path (lines). The
# baseline's counterfactuals stop just behind its decision boundary; CT's travel into the
# region where real samples of class 1 lie.
moons = load_synthetic("moons", n_samples=1000 if QUICK else 3000, random_state=0)
params = dict(max_epochs=40 if QUICK else 100, batch_size=30, decision_threshold=0.9,
              lambda_reg=0.25, n_counterfactuals=300 if QUICK else 1000, random_state=0)
models = {
    "baseline": CTClassifier(objective="vanilla", **params),
    "CT": CTClassifier(**params),
}
rng = np.random.RandomState(0)
factuals = moons.X_test[rng.choice(np.flatnonzero(moons.y_test == 0), 8, replace=False)]
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True, layout="constrained")
for ax, (name, model) in zip(axes, models.items()):
    model.fit(moons.X_train, moons.y_train)
    moon_explainer = CounterfactualExplainer(
        FrozenEstimator(model), max_steps=50, decision_threshold=0.95,
        random_state=0).fit(moons.X_train)
    path_display = CounterfactualPathDisplay.from_estimator(
        moon_explainer, factuals, target=1, X_ref=moons.X_test, y_ref=moons.y_test,
        grid_resolution=80, ax=ax, colorbar=ax is axes[-1])
    # Each line holds the iterates of one search: its length is the number of steps + 1.
    steps = [len(line.get_xydata()) - 1 for line in path_display.paths_]
    ax.set_title(f"{name}: search steps per row {min(steps)} to {max(steps)}")
plt.show()
