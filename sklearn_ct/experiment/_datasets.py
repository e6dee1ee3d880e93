"""The experiment's data sets: paper settings per data set and numeric, model-ready data.

Each :class:`ExperimentDataset` records how the paper trained and evaluated its models on
that data (reference spec 4.3-4.4 and 3.1) and how the data set relates to the paper's:
the four synthetic sets and Adult are the paper's own; German credit replaces the paper's
credit data (a *different* data set, "Default of credit card clients", which cannot be
obtained offline) and 8x8 digits stand in for MNIST. :func:`prepare_dataset` turns a data
set into the numeric arrays the models see (one-hot encoded and standardised for tabular
data), with the protected features, categorical groups and domain in that space.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from dataclasses import dataclass

import numpy as np
from sklearn.utils import Bunch

from .._constraints import infer_domain
from ..datasets import load_adult, load_digits_ct, load_german_credit, load_synthetic

__all__ = ["EXPERIMENT_DATASETS", "ExperimentDataset", "prepare_dataset", "resolve_datasets"]


@dataclass(frozen=True)
class ExperimentDataset:
    """How one data set is trained and evaluated in the experiment.

    Parameters
    ----------
    name : str
        Canonical name (as in :data:`sklearn_ct.datasets.DATASETS`).
    label : str
        Short label used in tables and figures.
    kind : {"synthetic", "tabular", "image"}
        Family of the data set; sets the paper's number of individuals per run.
    paper_name : str or None
        Key of the paper's results (:mod:`sklearn_ct.experiment._paper`) this data set is
        compared with, or None when the paper has no comparable data set.
    paper_note : str
        How the data set relates to the paper's, for table footnotes.
    decision_threshold : float
        Training threshold ``tau`` of the CT counterfactual search (paper's tuned value).
    lambda_reg : float
        Energy ridge weight (paper's tuned value).
    n_counterfactuals : int
        Counterfactuals per training epoch.
    batch_size : int
        Mini-batch size.
    n_train : int or None
        Training rows used (the first ones of the training split); None uses all.
    """

    name: str
    label: str
    kind: str
    paper_name: object
    paper_note: str
    decision_threshold: float
    lambda_reg: float
    n_counterfactuals: int
    batch_size: int
    n_train: object = None


_SYNTHETIC_NOTE = ("the paper's recipe, regenerated with NumPy (the paper's exact points "
                   "come from Julia's random number generator)")

#: The data sets the experiment can run, in table order. Synthetic sets: 3,000 training rows
#: (the paper's 3,600 minus its 600 validation rows), batch 30, 1,000 counterfactuals per
#: epoch. Real data: the paper's batch of 1,000 and 5,000 counterfactuals per epoch with
#: about 10,000 training rows (10 batches, counterfactuals for half the rows); the two small
#: stand-ins keep those proportions (about 10 batches, half the rows) rather than the
#: absolute sizes, which would leave them a single gradient step per epoch.
EXPERIMENT_DATASETS = {
    **{name: ExperimentDataset(name, label, "synthetic", label, _SYNTHETIC_NOTE,
                               decision_threshold=tau, lambda_reg=lambda_reg,
                               n_counterfactuals=1000, batch_size=30, n_train=3000)
       for name, label, tau, lambda_reg in (("linearly_separable", "LS", 0.5, 0.01),
                                            ("circles", "Circ", 0.5, 0.5),
                                            ("moons", "Moon", 0.9, 0.25),
                                            ("overlapping", "OL", 0.5, 0.25))},
    "adult": ExperimentDataset(
        "adult", "Adult", "tabular", "Adult",
        "the paper's data set (UCI adult.data; rows with missing values dropped)",
        decision_threshold=0.75, lambda_reg=0.25, n_counterfactuals=5000, batch_size=1000),
    "german_credit": ExperimentDataset(
        "german_credit", "German", "tabular", None,
        "not in the paper: its credit data set (Cred, default of credit card clients) is a "
        "different data set that cannot be obtained offline; Cred's settings are used, its "
        "results are not comparable",
        decision_threshold=0.5, lambda_reg=0.25, n_counterfactuals=400, batch_size=100),
    "digits": ExperimentDataset(
        "digits", "Digits", "image", "MNIST",
        "stand-in for the paper's MNIST (8x8 instead of 28x28 images, 1,438 instead of "
        "11,000 training images); comparison with MNIST is qualitative only",
        decision_threshold=0.5, lambda_reg=0.01, n_counterfactuals=720, batch_size=144),
}

# Alternative spellings accepted on the command line (the paper's short names included).
_ALIASES = {
    "ls": "linearly_separable", "lin_sep": "linearly_separable",
    "circ": "circles", "circle": "circles",
    "moon": "moons",
    "ol": "overlapping", "over": "overlapping",
    "german": "german_credit", "credit": "german_credit",
    "mnist": "digits",
}

#: Names expanding to several data sets.
DATASET_GROUPS = {
    "synthetic": ("linearly_separable", "circles", "moons", "overlapping"),
    "tabular": ("adult", "german_credit"),
    "all": tuple(EXPERIMENT_DATASETS),
}


def resolve_datasets(names):
    """Canonical data set names for user-given names, aliases or groups.

    Parameters
    ----------
    names : str or sequence of str
        Names from :data:`EXPERIMENT_DATASETS`, aliases (``"ls"``, ``"circ"``, ``"moon"``,
        ``"ol"``, ``"german"``, ``"mnist"``, ...) or groups (``"synthetic"``,
        ``"tabular"``, ``"all"``). Case, hyphens and spaces are ignored.

    Returns
    -------
    names : list of str
        Canonical names, without duplicates, in the order given.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the available ones.
    """
    if isinstance(names, str):
        names = [names]
    out = []
    for name in names:
        key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
        key = _ALIASES.get(key, key)
        expanded = DATASET_GROUPS.get(key, (key,))
        for canonical in expanded:
            if canonical not in EXPERIMENT_DATASETS:
                raise ValueError(
                    f"Unknown data set {name!r}. Available: "
                    f"{', '.join(EXPERIMENT_DATASETS)}; groups: "
                    f"{', '.join(DATASET_GROUPS)}; aliases: {', '.join(sorted(_ALIASES))}."
                )
            if canonical not in out:
                out.append(canonical)
    if not out:
        raise ValueError("At least one data set is needed.")
    return out


def _onehot_groups(preprocessor, names):
    """Column indices of each one-hot encoded feature in the preprocessor's output."""
    groups = []
    encoder = preprocessor.named_transformers_["cat"]
    start = len(preprocessor.transformers_[0][2])  # numeric columns come first
    for categories in encoder.categories_:
        groups.append(list(range(start, start + len(categories))))
        start += len(categories)
    if start != len(names):
        raise AssertionError("unexpected preprocessor layout")  # pragma: no cover
    return groups


def prepare_dataset(name, *, max_train_rows=None):
    """Load a data set of the experiment as numeric arrays in the models' input space.

    Synthetic data are used as generated; tabular data are one-hot encoded and
    standardised with statistics of the training split (the paper's preprocessing); digits
    are scaled to ``[-1, 1]``. The protected features (``x1``, ``age``, the border pixel
    rows), the one-hot groups and the domain are expressed in that space.

    Parameters
    ----------
    name : str
        Canonical name from :data:`EXPERIMENT_DATASETS`.
    max_train_rows : int or None, default=None
        Use at most this many training rows (the first ones), e.g. for quick tests.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``spec`` (:class:`ExperimentDataset`), ``X_train``, ``y_train``, ``X_test``,
        ``y_test`` (float64 arrays and int labels), ``feature_names``, ``immutable``
        (column indices of the protected features), ``categorical_groups`` (lists of
        one-hot column indices), ``domain`` (array of shape ``(n_features, 2)``: the
        bounds counterfactuals are clamped to) and ``image_shape`` (digits only).
    """
    spec = EXPERIMENT_DATASETS[resolve_datasets(name)[0]]
    groups = []
    image_shape = None
    if spec.kind == "synthetic":
        raw = load_synthetic(spec.name)
        X_train, X_test = raw.X_train, raw.X_test
        names = list(raw.feature_names)
    elif spec.kind == "tabular":
        raw = (load_adult if spec.name == "adult" else load_german_credit)()
        pre = raw.preprocessor.fit(raw.X_train)
        X_train, X_test = pre.transform(raw.X_train), pre.transform(raw.X_test)
        names = list(pre.get_feature_names_out())
        groups = _onehot_groups(pre, names)
    else:
        raw = load_digits_ct()
        X_train, X_test = raw.X_train, raw.X_test
        names = list(raw.feature_names)
        image_shape = (8, 8)
    y_train, y_test = np.asarray(raw.y_train), np.asarray(raw.y_test)
    n_train = spec.n_train
    if max_train_rows is not None:
        n_train = min(n_train or len(y_train), int(max_train_rows))
    if n_train is not None:
        X_train, y_train = X_train[:n_train], y_train[:n_train]
    X_train = np.ascontiguousarray(X_train, dtype=np.float64)
    X_test = np.ascontiguousarray(X_test, dtype=np.float64)
    if spec.kind == "image":
        # Pixels live in [-1, 1], as the paper's MNIST domain.
        domain = np.tile([-1.0, 1.0], (X_train.shape[1], 1))
    else:
        # The reference infers the domain from the training data (mean +- 2 sd, widened to
        # the observed range) and uses it in training and evaluation alike.
        domain = infer_domain(X_train)
    immutable = [names.index(f) for f in raw.immutable_features]
    return Bunch(
        spec=spec, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
        feature_names=names, immutable=immutable, categorical_groups=groups,
        domain=domain, image_shape=image_shape,
    )
