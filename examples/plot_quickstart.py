"""
===========================================
Quick start: counterfactual training (CT)
===========================================

Train a baseline and a CT model on the moons data and compare how plausible their
counterfactual explanations are.
"""

# %%
import os

import numpy as np
import torch

from sklearn_ct import CTClassifier, ECCoGenerator, search_counterfactuals
from sklearn_ct.datasets import load_synthetic
from sklearn_ct.metrics import implausibility

quick = bool(os.environ.get("SKLEARN_CT_EXAMPLE_QUICK"))
data = load_synthetic("moons", random_state=0)
params = dict(max_epochs=10 if quick else 100, batch_size=30, decision_threshold=0.9,
              lambda_reg=0.25, random_state=0)

# %%
# Baseline and CT differ only in the objective.
models = {
    "baseline": CTClassifier(objective="vanilla", **params).fit(data.X_train, data.y_train),
    "CT": CTClassifier(objective="full", **params).fit(data.X_train, data.y_train),
}

# %%
# Explain 200 test points with ECCo (tau=0.95, T=50) and measure implausibility: the mean L1
# distance of each valid counterfactual to the test data of its target class.
X = data.X_test[:200]
for name, clf in models.items():
    target = 1 - clf.predict(X)
    res = search_counterfactuals(
        clf.net_.module_, torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(target),
        ECCoGenerator(lambda_cost=0.0, lambda_energy=1.0), max_iter=50,
        decision_threshold=0.95,
    )
    valid = res.converged.numpy()
    cf = res.counterfactuals.numpy()
    ip = implausibility(cf[valid], data.X_test, data.y_test, target[valid]).mean()
    print(f"{name:>8}: accuracy={clf.score(data.X_test, data.y_test):.3f} "
          f"validity={valid.mean():.2f} IP={ip:.3f}")
