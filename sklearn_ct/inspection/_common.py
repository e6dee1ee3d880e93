"""Helpers shared by the displays: explainers, probabilities, feature bookkeeping."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._model import resolve_model, unwrap


def is_frame(X):
    return hasattr(X, "columns") and hasattr(X, "iloc")


def is_explainer(obj):
    """Whether ``obj`` is an explainer (has ``explain``) rather than a classifier."""
    return hasattr(obj, "explain") and hasattr(obj, "transform")


def fitted_explainer(estimator, X, *, random_state, caller):
    """A fitted explainer: ``estimator`` itself, or a default one around a fitted model.

    A default explainer is fitted on the rows to explain only, so it gets no inferred
    domain (bounds from a handful of rows would be far too tight).
    """
    if is_explainer(estimator):
        try:
            check_is_fitted(estimator)
        except NotFittedError:
            raise NotFittedError(
                f"{caller} needs a fitted explainer; call its fit method first."
            ) from None
        return estimator
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise NotFittedError(
            f"{caller} needs a fitted classifier or a fitted explainer; this "
            f"{type(estimator).__name__} is not fitted."
        ) from None
    except TypeError:
        pass  # e.g. a torch module: the explainer checks it
    from ..explainers import CounterfactualExplainer

    return CounterfactualExplainer(
        FrozenEstimator(estimator), domain=None, random_state=random_state
    ).fit(X)


def class_index(classes, label, name="target"):
    """Position of ``label`` in ``classes``."""
    matches = np.flatnonzero(np.asarray(classes) == label)
    if matches.size == 0:
        raise ValueError(f"{name} {label!r} is not one of the model's classes "
                         f"{list(np.asarray(classes).tolist())}.")
    return int(matches[0])


def predict_proba(estimator, X, classes=None):
    """Class probabilities and their labels, for classifiers and torch modules alike.

    ``classes`` labels the columns of a model that has no ``classes_`` (a torch module);
    without either, the labels are the column indices.
    """
    model = resolve_model(estimator, classes)
    proba = model.predict_proba(X)
    labels = model.classes if model.classes is not None else np.arange(proba.shape[1])
    return proba, np.asarray(labels)


def target_proba(estimator, X, target, classes=None):
    """Probability of each row's target class."""
    proba, labels = predict_proba(estimator, X, classes)
    idx = np.array([class_index(labels, t) for t in np.asarray(target)], dtype=np.int64)
    return proba[np.arange(len(idx)), idx]


def feature_names(X, names=None):
    """Names of the columns of ``X`` as strings."""
    n = X.shape[1]
    if names is not None:
        names = [str(c) for c in names]
        if len(names) != n:
            raise ValueError(f"feature_names has {len(names)} entries, X has {n} columns.")
        return names
    if is_frame(X):
        return [str(c) for c in X.columns]
    return [f"x{j}" for j in range(n)]


def column_index(key, names, what):
    """Index of a column given by name or position."""
    if isinstance(key, numbers.Integral) and not isinstance(key, (bool, np.bool_)):
        if not 0 <= key < len(names):
            raise ValueError(f"{what} refers to column {key}, but there are only "
                             f"{len(names)} columns.")
        return int(key)
    if str(key) in names:
        return names.index(str(key))
    raise ValueError(f"{what} refers to {key!r}, which is not a column; columns are "
                     f"{names}.")


def preprocessing(estimator):
    """The preprocessing steps of a (frozen) pipeline, or None."""
    model = unwrap(estimator)
    if isinstance(model, Pipeline) and len(model) > 1:
        return model[:-1]
    return None


def columns(X):
    """The columns of ``X`` as a list of 1-D arrays (object where not numeric)."""
    if is_frame(X):
        return [X.iloc[:, j].to_numpy() for j in range(X.shape[1])]
    X = np.asarray(X)
    return [X[:, j] for j in range(X.shape[1])]
