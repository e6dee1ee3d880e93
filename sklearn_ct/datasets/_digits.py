"""The 8x8 handwritten digits, scaled and split as a small stand-in for MNIST."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.datasets import load_digits

from ._common import _check_test_size, _split, _split_bunch

__all__ = ["load_digits_ct"]

_SIDE = 8
# scikit-learn's digits are counts of set pixels in 4x4 blocks, i.e. integers in [0, 16].
_MAX_VALUE = 16.0


def load_digits_ct(*, test_size=0.2, random_state=42):
    """Load the 8x8 digits data set in the format the paper uses for MNIST.

    The Counterfactual Training paper evaluates on MNIST (28x28 images) with pixels scaled
    to ``[-1, 1]`` and the top and bottom five rows of pixels protected (immutable). MNIST
    cannot be shipped here, so this loader provides scikit-learn's 1,797 8x8 digit images
    (:func:`sklearn.datasets.load_digits`) with the same conventions: pixel values ``v`` in
    ``[0, 16]`` become ``v / 8 - 1`` in ``[-1, 1]``, and the top and bottom rows of pixels
    (one row each, in proportion to the smaller image) are immutable.

    ================= ==============
    Classes                       10
    Samples total              1,797
    Features             64 (pixels)
    Feature range            [-1, 1]
    ================= ==============

    Parameters
    ----------
    test_size : float, default=0.2
        Fraction of the images in the test set, strictly between 0 and 1.

    random_state : int, RandomState instance or None, default=42
        Controls the random, stratified train/test split.
        See :term:`Glossary <random_state>`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ndarray of shape (1797, 64), dtype float64
            All images, flattened row by row and scaled to ``[-1, 1]``.
        target : ndarray of shape (1797,), dtype int64
            The digit shown in each image.
        X_train, X_test : ndarray of shape (n_train, 64) and (n_test, 64)
            The training and test images.
        y_train, y_test : ndarray of shape (n_train,) and (n_test,)
            The training and test labels.
        feature_names : list of str
            ``"pixel_<row>_<column>"`` for each of the 64 pixels, 0-based, row-major.
        numeric_features : list of str
            All 64 pixels.
        categorical_features : list of str
            Empty list.
        immutable_features : list of str
            The 16 pixels of the top row (``pixel_0_*``) and the bottom row
            (``pixel_7_*``).
        target_names : ndarray of shape (10,)
            The digits 0 to 9.
        domain : tuple of float
            ``(-1.0, 1.0)``, the valid range of every pixel; counterfactuals should be
            clipped to it.
        name : str
            ``"digits"``.
        DESCR : str
            Description of the data set.

    See Also
    --------
    sklearn.datasets.load_digits : The unscaled data set.

    Examples
    --------
    >>> from sklearn_ct.datasets import load_digits_ct
    >>> digits = load_digits_ct()
    >>> digits.X_train.shape, digits.X_test.shape
    ((1438, 64), (359, 64))
    >>> float(digits.X_train.min()), float(digits.X_train.max())
    (-1.0, 1.0)
    >>> digits.immutable_features[:2], digits.immutable_features[-1]
    (['pixel_0_0', 'pixel_0_1'], 'pixel_7_7')
    """
    test_size = _check_test_size(test_size)
    raw = load_digits()
    X = raw.data.astype(np.float64) / (_MAX_VALUE / 2.0) - 1.0
    y = raw.target.astype(np.int64)
    feature_names = [f"pixel_{r}_{c}" for r in range(_SIDE) for c in range(_SIDE)]
    immutable = [f"pixel_{r}_{c}" for r in (0, _SIDE - 1) for c in range(_SIDE)]
    split = _split(X, y, test_size=test_size, shuffle=True, random_state=random_state)
    y_train, y_test = split[2], split[3]
    descr = (
        "8x8 handwritten digits (scikit-learn's copy of the UCI optical recognition of "
        "handwritten digits test set, 1,797 images, 10 classes), used in sklearn_ct as a "
        "small stand-in for the MNIST experiments of the Counterfactual Training paper. "
        "Pixels v in [0, 16] are scaled to v / 8 - 1 in [-1, 1], the data domain. The top "
        "and bottom pixel rows (16 features) are immutable, mirroring the paper's "
        "protection of the top and bottom five rows of the 28x28 MNIST images. "
        f"Split: {len(y_train):,} training and {len(y_test):,} test images, stratified."
        "\n\n" + raw.DESCR
    )
    return _split_bunch(split, feature_names=feature_names, immutable=immutable, data=X,
                        target=y, target_names=np.arange(10), domain=(-1.0, 1.0),
                        name="digits", DESCR=descr)
