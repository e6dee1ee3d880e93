"""Helpers shared by the dataset loaders: vendored-file access and train/test splits."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from importlib import resources
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils import Bunch
from sklearn.model_selection import train_test_split

# The vendored files live in ``sklearn_ct/datasets/data`` and are shipped as package data
# (see ``[tool.setuptools.package-data]`` in pyproject.toml).
_DATA_PACKAGE = "sklearn_ct.datasets"
_DATA_DIR = "data"


def _data_file(filename):
    """Return a traversable handle on a vendored data file.

    ``importlib.resources`` rather than ``__file__`` so that the loaders keep working when
    the package is imported from a zip file or another non-filesystem importer.
    """
    return resources.files(_DATA_PACKAGE).joinpath(_DATA_DIR, filename)


def _read_vendored_csv(filename, **read_csv_kwargs):
    """Read one of the gzipped CSV files vendored with the package."""
    with _data_file(filename).open("rb") as fh:
        # ``compression`` must be explicit: pandas only infers it from a path's suffix,
        # never from an open binary handle.
        # Only an empty field means "missing": pandas' default NA strings would also turn
        # legitimate categories such as "none" or "NA" into NaN.
        read_csv_kwargs.setdefault("keep_default_na", False)
        read_csv_kwargs.setdefault("na_values", [""])
        return pd.read_csv(fh, compression="gzip", **read_csv_kwargs)


def _check_test_size(test_size):
    """Validate ``test_size``: a float strictly between 0 and 1."""
    if (
        isinstance(test_size, (bool, np.bool_))
        or not isinstance(test_size, Real)
        or not 0.0 < test_size < 1.0
    ):
        raise ValueError(
            f"test_size must be a float strictly between 0 and 1; got {test_size!r}."
        )
    return float(test_size)


def _check_n_samples(n_samples, minimum=2):
    """Validate ``n_samples``: an integer large enough to hold both classes."""
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, Integral):
        raise TypeError(f"n_samples must be an integer; got {type(n_samples).__name__}.")
    if n_samples < minimum:
        raise ValueError(f"n_samples must be at least {minimum}; got {n_samples}.")
    return int(n_samples)


def _n_train(n_samples, test_size):
    """Number of training rows for a ``1 - test_size`` split of ``n_samples`` rows.

    The reference implementation keeps ``round((1 - test_size) * n)`` rows for training
    (Adult: 26,049 of 32,561), which differs by one row from scikit-learn's
    ``ceil(test_size * n)`` test-size rule in some cases; the reference rule is used so
    that sizes match it. Both sides are kept non-empty.
    """
    n_train = int(round((1.0 - test_size) * n_samples))
    return min(max(n_train, 1), n_samples - 1)


def _split(X, y, *, test_size, shuffle, random_state, stratify=True):
    """Split ``X`` and ``y`` into ``(X_train, X_test, y_train, y_test)``.

    With ``shuffle=False`` the first rows form the training set and the last rows the test
    set, as in the reference implementation. With ``shuffle=True`` the split is random
    (stratified on ``y`` when ``stratify`` is true) and the sizes are the same.
    """
    n_samples = len(y)
    n_train = _n_train(n_samples, test_size)
    if not shuffle:
        if isinstance(X, (pd.DataFrame, pd.Series)):
            return X.iloc[:n_train], X.iloc[n_train:], y.iloc[:n_train], y.iloc[n_train:]
        return X[:n_train], X[n_train:], y[:n_train], y[n_train:]
    return train_test_split(
        X,
        y,
        train_size=n_train,
        test_size=n_samples - n_train,
        shuffle=True,
        stratify=y if stratify else None,
        random_state=random_state,
    )


def _split_bunch(split, *, feature_names, immutable, numeric=None, categorical=(), **extra):
    """The result of every loader: the split, the roles of the features, and extras.

    Parameters
    ----------
    split : tuple
        ``(X_train, X_test, y_train, y_test)`` from :func:`_split`.
    feature_names : list of str
        Names of the features.
    immutable : list of str
        Features protected in the paper's mutability experiments.
    numeric, categorical : list of str, default=None and ()
        Numeric features (all of them when None) and categorical ones.
    **extra : dict
        Further entries (``data``, ``target``, ``name``, ``DESCR``, ...), first.

    Returns
    -------
    data : Bunch
    """
    X_train, X_test, y_train, y_test = split
    return Bunch(
        **extra,
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        feature_names=list(feature_names),
        numeric_features=list(feature_names if numeric is None else numeric),
        categorical_features=list(categorical),
        immutable_features=list(immutable),
    )
