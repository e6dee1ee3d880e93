"""
=====================================================
Model selection on plausibility and accuracy
=====================================================

CT is sensitive to its hyperparameters (the paper tunes them by grid search), and a good
model must be both accurate and explainable. This example tunes
:class:`~sklearn_ct.CTClassifier` with :class:`~sklearn.model_selection.GridSearchCV` on
two metrics at once: accuracy and the plausibility of the model's counterfactual
explanations on each validation fold. The best model is refitted on plausibility.

scikit-learn resolves scorer *names* with its own registry, which does not know
sklearn_ct's counterfactual scorers; :func:`~sklearn_ct.metrics.make_scoring` builds the
multi-metric ``scoring`` dictionary from names of both libraries.

Set ``SKLEARN_CT_EXAMPLE_QUICK=1`` to run a small version of this example.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data and scorers
# ----------------
import os

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import GridSearchCV

from sklearn_ct import CTClassifier
from sklearn_ct.datasets import load_synthetic
from sklearn_ct.metrics import make_counterfactual_scorer, make_scoring

QUICK = os.environ.get("SKLEARN_CT_EXAMPLE_QUICK", "") not in ("", "0")

data = load_synthetic("moons", n_samples=400 if QUICK else 3000, random_state=0)
X_train, X_test, y_train, y_test = data.X_train, data.X_test, data.y_train, data.y_test

# "neg_implausibility" is the negated mean distance of valid counterfactuals to the
# fold's rows of their target class (greater is better, as for every scorer).
scoring = make_scoring({"accuracy": "accuracy", "plausibility": "neg_implausibility"})
print(scoring)

# %%
# The predefined scorer explains every row of the validation fold. A custom scorer from
# :func:`~sklearn_ct.metrics.make_counterfactual_scorer` can explain a random subset
# instead, which is cheaper; a fixed ``random_state`` scores every candidate on the same
# rows.
scoring["plausibility"] = make_counterfactual_scorer(
    "implausibility", n_samples=40 if QUICK else 300, random_state=0
)
scoring["validity"] = make_counterfactual_scorer(
    "validity", n_samples=40 if QUICK else 300, random_state=0
)

# %%
# Grid search
# -----------
# The grid compares the baseline with CT for a few strengths of the energy ridge
# ``lambda_reg`` (the hyperparameter the paper found most important) and of the energy
# differential ``lambda_div``. ``refit="plausibility"`` refits the candidate with the most
# plausible counterfactuals on the whole training set.
estimator = CTClassifier(
    max_epochs=8 if QUICK else 60,
    batch_size=30,
    decision_threshold=0.9,
    n_counterfactuals=60 if QUICK else 1000,
    random_state=0,
)
param_grid = [
    {"objective": ["vanilla"]},
    {
        "objective": ["full"],
        "lambda_reg": [0.1, 0.5] if QUICK else [0.01, 0.1, 0.5],
        "lambda_div": [0.5] if QUICK else [0.1, 1.0],
    },
]
search = GridSearchCV(
    estimator, param_grid, scoring=scoring, refit="plausibility", cv=2 if QUICK else 3
)
search.fit(X_train, y_train)

# %%
# Results
# -------
# ``cv_results_`` holds one column per metric. Implausibility was negated by the scorer;
# it is turned back into a distance here.
results = pd.DataFrame(search.cv_results_)
table = pd.DataFrame({
    "objective": results["param_objective"],
    "lambda_reg": results["param_lambda_reg"],
    "lambda_div": results["param_lambda_div"],
    "accuracy": results["mean_test_accuracy"],
    "implausibility": -results["mean_test_plausibility"],
    "validity": results["mean_test_validity"],
    "rank": results["rank_test_plausibility"],
}).sort_values("rank")
print(table.round(3).to_string(index=False))
print("best parameters:", search.best_params_)

# %%
# The refitted model is an ordinary fitted ``CTClassifier``; the scorers also work on
# held-out data.
best = search.best_estimator_
print(f"test accuracy: {best.score(X_test, y_test):.3f}")
print(f"test implausibility: {-scoring['plausibility'](best, X_test, y_test):.3f}")

# %%
# The trade-off between the two metrics, one point per candidate (lower implausibility is
# better):
fig, ax = plt.subplots(figsize=(5.5, 4))
is_ct = table["objective"] == "full"
ax.scatter(table.loc[~is_ct, "implausibility"], table.loc[~is_ct, "accuracy"],
           marker="s", c="grey", label="baseline")
ax.scatter(table.loc[is_ct, "implausibility"], table.loc[is_ct, "accuracy"],
           c="tab:blue", label="CT")
for _, row in table[is_ct].iterrows():
    ax.annotate(f"reg={row['lambda_reg']}, div={row['lambda_div']}",
                (row["implausibility"], row["accuracy"]), fontsize=7,
                xytext=(3, 3), textcoords="offset points")
ax.set_xlabel("implausibility (validation folds)")
ax.set_ylabel("accuracy (validation folds)")
ax.legend()
fig.tight_layout()
plt.show()
