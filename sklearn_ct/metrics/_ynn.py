"""yNN: agreement between a counterfactual's target and the predictions on its neighbourhood."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import validate_params

from .._model import encode_labels, resolve_model
from ._validation import POSITIVE_INT, _check_2d, _check_labels, _check_n_features


@validate_params(
    {"model": "no_validation", "X_cf": ["array-like"], "target": "no_validation",
     "X_ref": ["array-like"], "n_neighbors": [POSITIVE_INT], "aggregate": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def ynn(model, X_cf, target, X_ref, *, n_neighbors=5, aggregate=True):
    """Compute the share of nearest neighbours predicted as each counterfactual's target.

    For each counterfactual :math:`x'` with target :math:`y^+`, find its ``n_neighbors``
    nearest rows of ``X_ref`` (Euclidean distance) and compute the fraction the model assigns
    to :math:`y^+` (argmax of ``predict_proba``). Values near 1 mean the counterfactual lies in a
    region the model consistently labels as the target, rather than in an isolated pocket
    (Pawelczyk et al., 2021). Higher is better.

    Pawelczyk et al. compare neighbours with the model's prediction *for the counterfactual*;
    this function compares them with the *target*, so invalid counterfactuals are penalized
    too. The two agree for valid counterfactuals.

    Parameters
    ----------
    model : estimator or torch.nn.Module
        Fitted classifier with ``predict_proba`` and ``classes_``, a skorch net, or a torch
        module returning logits.
    X_cf : array-like of shape (n_samples, n_features)
        Counterfactuals.
    target : array-like of shape (n_samples,) or scalar
        Target class of each counterfactual, as a label of ``model.classes_`` (integer logit
        index for models without ``classes_``).
    X_ref : array-like of shape (n_reference, n_features)
        Observed data in which neighbours are searched, e.g. the training set.
    n_neighbors : int, default=5
        Number of neighbours :math:`k`.
    aggregate : bool, default=True
        If True return the mean over counterfactuals, else one value per row.

    Returns
    -------
    ynn : float or ndarray of shape (n_samples,)
        Mean or per-row share of neighbours predicted as the target, in [0, 1].

    See Also
    --------
    counterfactual_validity : Whether the counterfactual itself is predicted as the target.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_ct.metrics import ynn
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> ynn(clf, [[1.5]], target=1, X_ref=X, n_neighbors=2)
    1.0
    """
    X_cf = _check_2d(X_cf, "X_cf")
    X_ref_raw = X_ref if hasattr(X_ref, "columns") else None
    X_ref = _check_2d(X_ref, "X_ref")
    _check_n_features(X_cf, X_ref, ("X_cf", "X_ref"))
    target = _check_labels(target, X_cf.shape[0], "target")
    if n_neighbors > X_ref.shape[0]:
        raise ValueError(
            f"n_neighbors={n_neighbors} exceeds the number of reference rows ({X_ref.shape[0]})."
        )
    neighbours = NearestNeighbors(n_neighbors=n_neighbors).fit(X_ref).kneighbors(
        X_cf, return_distance=False)
    # Only the rows that are someone's neighbour need a prediction (X_ref may be large).
    needed, inverse = np.unique(neighbours, return_inverse=True)
    raw = None if X_ref_raw is None else X_ref_raw.iloc[needed]
    model = resolve_model(model)
    proba = model.predict_proba(X_ref[needed], raw)
    idx = encode_labels(target, model.classes, "target", n_classes=proba.shape[1])
    predicted = proba.argmax(axis=1)[inverse.reshape(neighbours.shape)]
    share = (predicted == idx[:, None]).mean(axis=1)
    return float(share.mean()) if aggregate else share
