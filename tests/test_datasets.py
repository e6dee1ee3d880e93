"""Tests for :mod:`sklearn_ct.datasets`."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import gzip
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.svm import LinearSVC
from sklearn.utils import Bunch

from sklearn_ct import datasets
from sklearn_ct.datasets import (
    DATASETS,
    load_adult,
    load_dataset,
    load_digits_ct,
    load_german_credit,
    load_synthetic,
    make_circles,
    make_linearly_separable,
    make_moons,
    make_overlapping,
    make_preprocessor,
)
from sklearn_ct.datasets._common import _data_file


GENERATORS = [make_linearly_separable, make_overlapping, make_circles, make_moons]

COMMON_KEYS = {
    "X_train",
    "X_test",
    "y_train",
    "y_test",
    "feature_names",
    "numeric_features",
    "categorical_features",
    "immutable_features",
    "name",
    "DESCR",
}


# Loading Adult takes a fraction of a second; share one copy per variant across the module.
@pytest.fixture(scope="module")
def adult():
    return load_adult()


@pytest.fixture(scope="module")
def adult_raw():
    return load_adult(drop_missing=False)


@pytest.fixture(scope="module")
def german():
    return load_german_credit()


def test_public_api():
    assert sorted(datasets.__all__) == sorted(set(datasets.__all__))
    for name in datasets.__all__:
        assert hasattr(datasets, name)
    assert DATASETS == (
        "linearly_separable",
        "overlapping",
        "circles",
        "moons",
        "adult",
        "german_credit",
        "digits",
    )


# --- synthetic generators ------------------------------------------------------------------


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_determinism(make):
    X1, y1 = make(500, random_state=0)
    X2, y2 = make(500, random_state=0)
    X3, y3 = make(500, random_state=1)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    # A RandomState instance is accepted and consumed like the integer seed.
    X4, _ = make(500, random_state=np.random.RandomState(0))
    np.testing.assert_array_equal(X1, X4)


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("n_samples", [2, 7, 1000])
def test_generator_shapes_dtypes_balance(make, n_samples):
    X, y = make(n_samples, random_state=0)
    assert X.shape == (n_samples, 2) and X.dtype == np.float64
    assert y.shape == (n_samples,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    # Class 1 gets n // 2 points, class 0 the rest (the extra point when n is odd).
    assert np.sum(y == 1) == n_samples // 2
    assert np.sum(y == 0) == n_samples - n_samples // 2
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_rows_shuffled(make):
    _, y = make(1000, random_state=0)
    # Unshuffled output would be 500 zeros followed by 500 ones; a contiguous 80 % slice
    # must contain both classes in roughly equal numbers.
    assert 0.4 < y[:800].mean() < 0.6


def test_default_sizes():
    X, y = make_moons(random_state=0)
    assert X.shape == (4500, 2)


@pytest.mark.parametrize("seed", range(8))
def test_linearly_separable_is_separable(seed):
    X, y = make_linearly_separable(random_state=seed)
    # A (nearly) hard-margin linear SVM must classify every training point correctly.
    clf = LinearSVC(C=1e4, max_iter=20_000, tol=1e-6).fit(X, y)
    assert clf.score(X, y) == 1.0


def test_blob_centres_far_apart():
    for seed in range(50):
        X, y = make_linearly_separable(200, random_state=seed)
        gap = np.linalg.norm(X[y == 0].mean(axis=0) - X[y == 1].mean(axis=0))
        assert gap > 3.5  # centres are at least 4 apart; the means estimate them closely


def test_overlapping_blobs_spread():
    X, y = make_overlapping(4000, random_state=0)
    for label in (0, 1):
        np.testing.assert_allclose(X[y == label].std(axis=0), 2.0, rtol=0.1)
    X, y = make_linearly_separable(4000, random_state=0)
    np.testing.assert_allclose(X[y == 0].std(axis=0), 0.5, rtol=0.1)


def test_blob_parameter_validation():
    with pytest.raises(ValueError, match="min_center_distance"):
        make_linearly_separable(10, center_box=(0, 1), min_center_distance=2)
    with pytest.raises(ValueError, match="center_box"):
        make_linearly_separable(10, center_box=(1, 0))
    with pytest.raises(ValueError, match="cluster_std"):
        make_overlapping(10, cluster_std=-1)
    with pytest.raises(ValueError, match="n_samples"):
        make_overlapping(1)
    with pytest.raises(TypeError, match="n_samples"):
        make_overlapping(10.5)


def test_circles_geometry():
    X, y = make_circles(4000, random_state=0)
    radius = np.linalg.norm(X, axis=1)
    # Outer class on the unit circle, inner class a tight blob at the origin
    # (radius 0.01 plus noise with sd 0.15: mean radius about 0.15 * sqrt(pi / 2)).
    assert abs(radius[y == 0].mean() - 1.0) < 0.05
    assert radius[y == 1].mean() < 0.25
    np.testing.assert_allclose(X[y == 1].mean(axis=0), 0.0, atol=0.02)
    X, y = make_circles(2000, noise=0.0, factor=0.5, random_state=0)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.5)
    with pytest.raises(ValueError, match="factor"):
        make_circles(10, factor=1.0)


@pytest.mark.parametrize("xshift, yshift", [(1.0, 0.3), (0.5, -0.2)])
def test_moons_reference_geometry(xshift, yshift):
    X, y = make_moons(20_000, xshift=xshift, yshift=yshift, random_state=0)
    # For t ~ U[0, pi]: E[cos t] = 0 and E[sin t] = 2 / pi.
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [0.0, 2 / np.pi], atol=0.02)
    np.testing.assert_allclose(
        X[y == 1].mean(axis=0), [xshift, yshift - 2 / np.pi], atol=0.02
    )
    # Without noise the points lie exactly on the two semicircles.
    X, y = make_moons(500, noise=0.0, xshift=xshift, yshift=yshift, random_state=0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0)
    assert np.all(X[y == 0, 1] >= 0)
    centred = X[y == 1] - [xshift, yshift]
    np.testing.assert_allclose(np.linalg.norm(centred, axis=1), 1.0)
    assert np.all(centred[:, 1] <= 0)


# --- load_synthetic ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, canonical",
    [
        ("linearly_separable", "linearly_separable"),
        ("ls", "linearly_separable"),
        ("OL", "overlapping"),
        ("circ", "circles"),
        ("moon", "moons"),
        ("Linearly-Separable", "linearly_separable"),
    ],
)
def test_load_synthetic(name, canonical):
    ds = load_synthetic(name)
    assert isinstance(ds, Bunch)
    assert COMMON_KEYS <= set(ds)
    assert ds.name == canonical
    assert ds.X_train.shape == (3600, 2) and ds.X_test.shape == (900, 2)
    assert ds.y_train.shape == (3600,) and ds.y_test.shape == (900,)
    assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    assert ds.feature_names == ["x1", "x2"]
    assert ds.immutable_features == ["x1"]
    assert ds.categorical_features == []
    assert "3,600 training and 900 test" in ds.DESCR
    # The default seed makes the loader deterministic and the split is a plain slice of
    # the generator's (already shuffled) output.
    X, y = datasets._synthetic._GENERATORS[canonical](4500, random_state=42)
    np.testing.assert_array_equal(np.vstack([ds.X_train, ds.X_test]), X)
    np.testing.assert_array_equal(np.concatenate([ds.y_train, ds.y_test]), y)


def test_load_synthetic_options():
    ds = load_synthetic("moons", n_samples=101, test_size=0.5, random_state=3, as_frame=True)
    assert isinstance(ds.X_train, pd.DataFrame) and list(ds.X_train.columns) == ["x1", "x2"]
    assert isinstance(ds.y_test, pd.Series) and ds.y_test.name == "y"
    assert len(ds.X_train) + len(ds.X_test) == 101
    other = load_synthetic("moons", n_samples=101, test_size=0.5, random_state=4)
    assert not np.array_equal(ds.X_train.to_numpy(), other.X_train)
    with pytest.raises(ValueError, match="Unknown synthetic"):
        load_synthetic("spirals")
    with pytest.raises(ValueError, match="test_size"):
        load_synthetic("ls", test_size=1.5)


# --- Adult ---------------------------------------------------------------------------------


def test_adult_rows_and_split(adult, adult_raw):
    assert COMMON_KEYS <= set(adult)
    # 32,561 rows in adult.data, of which 2,399 have a missing value.
    assert adult.frame.shape == (30_162, 15)
    assert adult_raw.frame.shape == (32_561, 15)
    assert adult.frame.notna().all().all()
    assert adult.frame["age"].dtype == np.int64
    # Reference split: the first 80 % of the rows train, the last 20 % test, no shuffling.
    assert adult.X_train.shape == (24_130, 14) and adult.X_test.shape == (6_032, 14)
    pd.testing.assert_frame_equal(adult.X_train, adult.data.iloc[:24_130])
    pd.testing.assert_series_equal(adult.y_test, adult.target.iloc[24_130:])
    # Keeping the missing rows reproduces the reference sizes (26,049 train, 6,512 test).
    assert len(adult_raw.X_train) == 26_049 and len(adult_raw.X_test) == 6_512
    assert adult.data.columns.tolist() == adult.feature_names
    assert adult.feature_names[0] == "age"


def test_adult_labels_match_descr(adult, adult_raw):
    assert adult.target.dtype == np.int64
    assert set(adult.target.unique()) == {0, 1}
    assert list(adult.target_names) == ["<=50K", ">50K"]
    for bunch in (adult, adult_raw):
        counts = bunch.target.value_counts()
        for label, name in enumerate(bunch.target_names):
            share = 100 * counts[label] / len(bunch.target)
            assert f"{label} ({name}): {counts[label]:,} ({share:.1f} %)" in bunch.DESCR
    assert "CC BY 4.0" in adult.DESCR and "10.24432/C5XW20" in adult.DESCR


def test_adult_features_and_preprocessor(adult):
    assert adult.immutable_features == ["age"]
    for key in ("numeric_features", "categorical_features", "immutable_features"):
        assert set(adult[key]) <= set(adult.X_train.columns)
    assert len(adult.numeric_features) == 6 and len(adult.categorical_features) == 8
    pre = adult.preprocessor
    assert isinstance(pre, ColumnTransformer)
    assert not hasattr(pre, "transformers_")  # returned unfitted
    Z = pre.fit_transform(adult.X_train)
    assert Z.dtype == np.float64 and np.all(np.isfinite(Z))
    assert Z.shape == (24_130, 104)
    names = list(pre.get_feature_names_out())
    assert names[0] == "age" and "sex_Female" in names
    # Standardised with training statistics.
    np.testing.assert_allclose(Z[:, 0].mean(), 0.0, atol=1e-10)
    np.testing.assert_allclose(Z[:, 0].std(), 1.0, atol=1e-10)
    # Unknown categories in new data are ignored, not errors.
    Zt = pre.transform(adult.X_test)
    assert Zt.shape == (6_032, 104) and np.all(np.isfinite(Zt))


def test_adult_missing_as_category(adult_raw):
    # With the missing rows kept, NaN becomes its own one-hot category: 108 columns, the
    # model dimension of the reference.
    Z = adult_raw.preprocessor.fit_transform(adult_raw.X_train)
    assert Z.shape[1] == 108 and np.all(np.isfinite(Z))


def test_adult_shuffled_split():
    a = load_adult(shuffle=True, random_state=0)
    b = load_adult(shuffle=True, random_state=0)
    c = load_adult(shuffle=True, random_state=1)
    pd.testing.assert_frame_equal(a.X_train, b.X_train)
    assert not a.X_train.index.equals(c.X_train.index)
    assert len(a.X_train) == 24_130
    # Stratified: both sides keep the overall share of high incomes.
    assert abs(a.y_train.mean() - a.y_test.mean()) < 0.002


def test_adult_as_arrays():
    ds = load_adult(as_frame=False)
    assert ds.frame is None
    assert isinstance(ds.X_train, np.ndarray) and ds.X_train.shape == (24_130, 14)
    assert isinstance(ds.y_train, np.ndarray) and ds.y_train.dtype == np.int64
    Z = ds.preprocessor.fit_transform(ds.X_train)
    assert Z.shape == (24_130, 104) and np.all(np.isfinite(Z))


# --- German credit -------------------------------------------------------------------------


def test_german_credit(german):
    assert COMMON_KEYS <= set(german)
    assert german.frame.shape == (1000, 21)
    assert german.frame.notna().all().all()
    assert german.X_train.shape == (800, 20) and german.X_test.shape == (200, 20)
    pd.testing.assert_frame_equal(german.X_train, german.data.iloc[:800])
    assert german.immutable_features == ["age"]
    for key in ("numeric_features", "categorical_features", "immutable_features"):
        assert set(german[key]) <= set(german.X_train.columns)
    assert len(german.numeric_features) == 7 and len(german.categorical_features) == 13
    # Codes decoded: no raw "A.." attribute codes are left in the data.
    for column in german.categorical_features:
        assert not german.frame[column].str.fullmatch(r"A\d+").any()
    # Decoded values that pandas would read as missing by default must survive.
    assert (german.frame["other_debtors"] == "none").sum() > 800
    assert german.frame.loc[0, "checking_status"] == "< 0 DM"  # first row is A11
    counts = german.target.value_counts()
    assert counts[1] == 700 and counts[0] == 300
    assert list(german.target_names) == ["bad", "good"]
    assert "0 (bad): 300 (30.0 %); 1 (good): 700 (70.0 %)" in german.DESCR
    assert "CC BY 4.0" in german.DESCR and "10.24432/C5NC77" in german.DESCR


def test_german_preprocessor(german):
    pre = german.preprocessor
    Z = pre.fit_transform(german.X_train)
    assert Z.dtype == np.float64 and np.all(np.isfinite(Z))
    assert Z.shape == (800, 61)
    names = list(pre.get_feature_names_out())
    assert "age" in names and "purpose_radio/television" in names


def test_make_preprocessor_names_and_positions():
    df = pd.DataFrame({"age": [20.0, 40.0, 60.0], "job": ["a", "b", "a"], "x": [1, 2, 3]})
    pre = make_preprocessor(["age"], ["job"])
    Z = pre.fit_transform(df)
    assert list(pre.get_feature_names_out()) == ["age", "job_a", "job_b"]  # "x" dropped
    np.testing.assert_allclose(Z[:, 0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])
    np.testing.assert_array_equal(pre.transform(df.assign(job=["c", "a", "b"]))[:, 1:],
                                  [[0, 0], [1, 0], [0, 1]])  # unseen category -> zeros
    Z_pos = make_preprocessor([0], [1]).fit_transform(df.to_numpy(dtype=object))
    np.testing.assert_allclose(Z_pos, Z)


# --- digits --------------------------------------------------------------------------------


def test_digits():
    ds = load_digits_ct()
    assert COMMON_KEYS <= set(ds)
    assert ds.X_train.shape == (1438, 64) and ds.X_test.shape == (359, 64)
    assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    assert ds.domain == (-1.0, 1.0)
    X = np.vstack([ds.X_train, ds.X_test])
    assert X.min() == -1.0 and X.max() == 1.0
    # Scaling x / 8 - 1 maps the 17 integer levels 0..16 onto a grid of step 1/8.
    np.testing.assert_allclose((X + 1) * 8, np.round((X + 1) * 8))
    assert ds.feature_names[:3] == ["pixel_0_0", "pixel_0_1", "pixel_0_2"]
    assert ds.feature_names[8] == "pixel_1_0"
    expected = [f"pixel_0_{c}" for c in range(8)] + [f"pixel_7_{c}" for c in range(8)]
    assert ds.immutable_features == expected
    positions = [ds.feature_names.index(f) for f in ds.immutable_features]
    assert positions == list(range(8)) + list(range(56, 64))
    # Stratified split, deterministic for the default seed.
    assert set(np.unique(ds.y_test)) == set(range(10))
    np.testing.assert_array_equal(load_digits_ct().X_test, ds.X_test)
    assert not np.array_equal(load_digits_ct(random_state=0).X_test, ds.X_test)


# --- load_dataset --------------------------------------------------------------------------


@pytest.mark.parametrize("name", DATASETS)
def test_load_dataset_every_name(name):
    ds = load_dataset(name)
    assert COMMON_KEYS <= set(ds)
    assert ds.name == name
    assert len(ds.X_train) == len(ds.y_train) and len(ds.X_test) == len(ds.y_test)
    assert set(ds.immutable_features) <= set(ds.feature_names)


def test_load_dataset_aliases_and_kwargs():
    assert load_dataset("german").name == "german_credit"
    assert load_dataset("circ", n_samples=100).X_test.shape == (20, 2)
    assert load_dataset("Adult", drop_missing=False).frame.shape == (32_561, 15)
    with pytest.raises(ValueError, match="Unknown data set"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="Unknown data set"):
        load_dataset("california_housing")


# --- vendored files ------------------------------------------------------------------------


def test_vendored_files_present_and_small():
    for filename in ("adult.csv.gz", "german_credit.csv.gz", "NOTICE.md"):
        assert _data_file(filename).is_file()
    with _data_file("adult.csv.gz").open("rb") as fh:
        assert len(fh.read()) < 500_000
    notice = _data_file("NOTICE.md").read_text(encoding="utf-8")
    for fact in ("10.24432/C5XW20", "10.24432/C5NC77", "CC BY 4.0"):
        assert fact in notice


def test_clean_adult_on_raw_lines(vendor_tool):
    raw = (
        "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, "
        "White, Male, 2174, 0, 40, United-States, <=50K\n"
        "52, ?, 209642, HS-grad, 9, Married-civ-spouse, ?, Husband, White, Male, 0, 0, 45, "
        "?, >50K.\n\n"
    )
    frame = vendor_tool.clean_adult(raw)
    assert frame.shape == (2, 15)
    assert frame["income"].tolist() == [0, 1]
    assert frame.loc[0, "workclass"] == "State-gov"  # leading space stripped
    assert frame.loc[1, ["workclass", "occupation", "native_country"]].isna().all()
    # The vendored file is exactly this cleaning of adult.data: spot-check its first rows.
    with _data_file("adult.csv.gz").open("rb") as fh:
        lines = gzip.decompress(fh.read()).decode("utf-8").splitlines()
    assert lines[0] == ",".join(frame.columns)
    assert lines[1] == "39,State-gov,77516,Bachelors,13,Never-married,Adm-clerical," + (
        "Not-in-family,White,Male,2174,0,40,United-States,0"
    )


def test_decode_german_on_raw_lines(vendor_tool):
    raw = (
        "A11 6 A34 A43 1169 A65 A75 4 A93 A101 4 A121 67 A143 A152 2 A173 1 A192 A201 1\n"
        "A14 12 A30 A410 2096 A64 A71 2 A95 A103 3 A124 49 A141 A153 1 A174 2 A191 A202 2\n"
    )
    frame = vendor_tool.decode_german(raw)
    assert frame.shape == (2, 21)
    assert frame["good_credit"].tolist() == [1, 0]
    assert frame["purpose"].tolist() == ["radio/television", "others"]
    assert frame["foreign_worker"].tolist() == ["yes", "no"]
    assert frame["age"].tolist() == [67, 49]
    with pytest.raises(ValueError, match="Unexpected codes"):
        vendor_tool.decode_german(raw.replace("A43", "A99"))


def test_module_docstring_lists_missing_datasets():
    doc = datasets.__doc__
    for name in ("California housing", "Default of credit card clients", "Give Me Some Credit"):
        assert re.search(name.replace(" ", r"\s+"), doc)
