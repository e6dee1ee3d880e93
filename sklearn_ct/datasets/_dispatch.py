"""Load any data set of :mod:`sklearn_ct.datasets` by name."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from ._digits import load_digits_ct
from ._synthetic import (
    _SYNTHETIC_ALIASES,
    SYNTHETIC_DATASETS,
    _resolve_synthetic_name,
    load_synthetic,
)
from ._tabular import load_adult, load_german_credit

__all__ = ["DATASETS", "load_dataset"]

#: Canonical names accepted by :func:`load_dataset`.
DATASETS = SYNTHETIC_DATASETS + ("adult", "german_credit", "digits")

_LOADERS = {
    "adult": load_adult,
    "german_credit": load_german_credit,
    "digits": load_digits_ct,
}
_ALIASES = {"german": "german_credit", "credit_german": "german_credit"}


def load_dataset(name, **kwargs):
    """Load a data set of :mod:`sklearn_ct.datasets` by name.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`: ``"linearly_separable"``, ``"overlapping"``,
        ``"circles"``, ``"moons"``, ``"adult"``, ``"german_credit"`` or ``"digits"``.
        Case, hyphens and spaces are ignored, and the paper's short names ``"ls"``,
        ``"ol"``, ``"circ"`` and ``"moon"`` (and ``"german"``) are accepted as aliases.

    **kwargs : dict
        Keyword arguments of the underlying loader: :func:`load_synthetic`,
        :func:`load_adult`, :func:`load_german_credit` or :func:`load_digits_ct`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        The loader's result. Every loader provides at least ``X_train``, ``X_test``,
        ``y_train``, ``y_test``, ``feature_names``, ``numeric_features``,
        ``categorical_features``, ``immutable_features``, ``name`` and ``DESCR``.

    See Also
    --------
    load_synthetic : The four synthetic data sets.
    load_adult : The Adult (census income) data set.
    load_german_credit : The German credit data set.
    load_digits_ct : The 8x8 digits, scaled to [-1, 1].

    Examples
    --------
    >>> from sklearn_ct.datasets import load_dataset
    >>> load_dataset("ls").name
    'linearly_separable'
    >>> load_dataset("german_credit", shuffle=True, random_state=0).X_test.shape
    (200, 20)
    """
    synthetic = _resolve_synthetic_name(name)
    if synthetic is not None:
        return load_synthetic(synthetic, **kwargs)
    key = None
    if isinstance(name, str):
        key = name.strip().lower().replace("-", "_").replace(" ", "_")
        key = _ALIASES.get(key, key)
    if key not in _LOADERS:
        aliases = sorted(set(_SYNTHETIC_ALIASES) | set(_ALIASES))
        raise ValueError(
            f"Unknown data set {name!r}; expected one of {DATASETS} or an alias {aliases}."
        )
    return _LOADERS[key](**kwargs)
