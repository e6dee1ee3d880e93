"""Validity of counterfactual explanations."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils._param_validation import validate_params

from .._model import encode_labels, resolve_model
from ._validation import VALIDITY_THRESHOLD, _check_2d, _check_labels


@validate_params(
    {
        "model": "no_validation",  # anything resolve_model accepts
        "X_cf": ["array-like"],
        "target": "no_validation",  # a label or labels, checked against the classes
        "threshold": VALIDITY_THRESHOLD,
        "aggregate": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def counterfactual_validity(model, X_cf, target, *, threshold=None, aggregate=True):
    """Compute whether counterfactuals attain their target class.

    A counterfactual :math:`x'` with target :math:`y^+` is *valid* when the model assigns it the
    target. Two definitions are in use and both are available:

    * ``threshold=None`` (default): :math:`\\arg\\max_k p_k(x') = y^+`, as in
      CounterfactualExplanations.jl >= 1.4.3;
    * ``threshold=t``: :math:`p_{y^+}(x') \\geq t`, as in CounterfactualExplanations.jl 1.4.2
      with ``t=0.5``, and the "strict" validity of Counterfactual Training with ``t`` equal to the
      decision threshold of the search (e.g. 0.95).

    For binary problems the two coincide at ``t=0.5``; with more classes the argmax variant is
    more lenient (a target with probability 0.4 can be the argmax).

    Parameters
    ----------
    model : estimator or torch.nn.Module
        Fitted classifier with ``predict_proba`` and ``classes_`` (any scikit-learn classifier,
        :class:`~sklearn_ct.CTClassifier`, a Pipeline), a skorch net, or a torch module
        returning logits (probabilities are then its softmax).
    X_cf : array-like of shape (n_samples, n_features)
        Counterfactuals, in the input space of ``model``.
    target : array-like of shape (n_samples,) or scalar
        Target class of each counterfactual, as a label of ``model.classes_``; as an integer
        logit index for models without ``classes_``. A scalar applies to every row.
    threshold : float in (0, 1], default=None
        Probability the target must reach. None uses the argmax rule.
    aggregate : bool, default=True
        If True return the fraction of valid counterfactuals, else one boolean per row.

    Returns
    -------
    validity : float or ndarray of shape (n_samples,)
        Mean validity, or per-row validity flags.

    See Also
    --------
    ynn : Whether the neighbourhood of a counterfactual agrees with its target.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_ct.metrics import counterfactual_validity
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> counterfactual_validity(clf, [[1.5], [-0.5]], target=1)
    0.5
    """
    X_raw = X_cf if hasattr(X_cf, "columns") else None
    X_cf = _check_2d(X_cf, "X_cf")
    target = _check_labels(target, X_cf.shape[0], "target")
    model = resolve_model(model)
    proba = model.predict_proba(X_cf, X_raw)
    idx = encode_labels(target, model.classes, "target", n_classes=proba.shape[1])
    if threshold is None:
        # Ties are broken towards the first class, as numpy's argmax (and sklearn's predict) do.
        valid = proba.argmax(axis=1) == idx
    else:
        valid = proba[np.arange(len(idx)), idx] >= threshold
    return float(valid.mean()) if aggregate else valid
