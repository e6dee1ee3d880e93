"""CT's headline effect: more plausible counterfactuals at the same accuracy (paper Table I).

Trained at the paper's settings for the linearly separable and circles data (spec 4.3-4.4:
3000 training rows, MLP(32), 100 epochs, batch 30, 1000 counterfactuals per epoch, T=30;
lambda_reg 0.01 on LS and 0.5 on circles). Implausibility is the mean L1 distance of each
valid test-time counterfactual to the target-class test data; test-time counterfactuals come
from ECCo without a distance penalty (the paper's test-time generator), T=100, tau=0.5.
The paper reports IP reductions of 26% (LS) and 59% (circles); across seeds we measured
25-38% and 54-59%, so the margins below (10% and 30%) hold with room to spare.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
import torch

from sklearn_ct import REFERENCE_PARAMS, CTClassifier, ECCoGenerator, search_counterfactuals
from sklearn_ct.datasets import load_synthetic


def _implausibility(clf, X, y, n=200, seed=0):
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(X), n, replace=False)
    pred = clf.predict(X[idx])
    target = 1 - pred
    res = search_counterfactuals(
        clf.net_.module_, torch.as_tensor(X[idx], dtype=torch.float32),
        torch.as_tensor(target), ECCoGenerator(lambda_cost=0.0, lambda_energy=1.0),
        max_steps=100, decision_threshold=0.5,
        lower=torch.as_tensor(clf.domain_[:, 0], dtype=torch.float32),
        upper=torch.as_tensor(clf.domain_[:, 1], dtype=torch.float32),
    )
    cf = res.counterfactuals.numpy().astype(np.float64)
    valid = res.converged.numpy()
    # brute-force mean L1 distance to every target-class row
    dist = [np.abs(X[y == t] - c).sum(axis=1).mean() for c, t in zip(cf[valid], target[valid])]
    return float(np.mean(dist)), valid.mean()


@pytest.mark.slow
@pytest.mark.parametrize("name, lambda_reg, max_ratio", [
    ("linearly_separable", 0.01, 0.9), ("circles", 0.5, 0.7),
])
@pytest.mark.parametrize("seed", [0, 1])
def test_ct_counterfactuals_are_more_plausible(name, lambda_reg, max_ratio, seed):
    data = load_synthetic(name, random_state=seed)
    X, y = data.X_train[:3000], data.y_train[:3000]
    params = dict(max_epochs=100, batch_size=30, n_counterfactuals=1000, max_steps=30,
                  lambda_reg=lambda_reg, random_state=seed, **REFERENCE_PARAMS)
    bl = CTClassifier(objective="vanilla", **params).fit(X, y)
    ct = CTClassifier(objective="full", **params).fit(X, y)
    acc_bl, acc_ct = bl.score(data.X_test, data.y_test), ct.score(data.X_test, data.y_test)
    assert acc_bl > 0.97 and abs(acc_ct - acc_bl) <= 0.01
    ip_bl, _ = _implausibility(bl, data.X_test, data.y_test)
    ip_ct, valid_ct = _implausibility(ct, data.X_test, data.y_test)
    assert valid_ct > 0.9
    assert ip_ct < max_ratio * ip_bl, (ip_ct, ip_bl)
