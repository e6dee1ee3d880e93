"""CounterfactualPathDisplay: counterfactual search paths on a 2-D decision surface."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from sklearn.utils._optional_dependencies import check_matplotlib_support

from ._common import (
    class_index,
    fitted_explainer,
    is_frame,
    predict_proba,
    preprocessing,
)
from ._common import feature_names as _feature_names


def _as_array(X, name):
    X = np.asarray(X.to_numpy() if is_frame(X) else X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{name} must have exactly two features (a 2-D surface), got "
                         f"shape {X.shape}.")
    return X


def _paths_in_feature_space(result, estimator, n_rows):
    """Each row's search iterates in the feature space of ``X``, up to where it stopped.

    The explainer returns iterates in the model's input space; through a pipeline they are
    mapped back with the preprocessing's ``inverse_transform``. Rows that stopped early
    repeat their last iterate in ``result.path``; those repeats are dropped.
    """
    path = getattr(result, "path", None)
    if path is None:
        return None
    path = np.asarray(path, dtype=np.float64)
    if path.ndim != 3 or path.shape[1] != n_rows:
        raise ValueError(f"result.path must have shape (n_steps, {n_rows}, n_features), got "
                         f"{path.shape}.")
    pre = preprocessing(estimator) if estimator is not None else None
    if pre is not None:
        if not hasattr(pre, "inverse_transform"):
            raise ValueError("The search path is in the model's input space and the "
                             "pipeline's preprocessing has no inverse_transform to map it "
                             "back.")
        steps, n, d = path.shape
        path = np.asarray(pre.inverse_transform(path.reshape(steps * n, d)),
                          dtype=np.float64).reshape(steps, n, -1)
    n_iter = getattr(result, "n_iter", None)
    stops = (np.full(n_rows, path.shape[0] - 1) if n_iter is None
             else np.minimum(np.asarray(n_iter, dtype=np.int64), path.shape[0] - 1))
    return [path[: stops[i] + 1, i] for i in range(n_rows)]


class CounterfactualPathDisplay:
    """Counterfactuals and their search paths on the 2-D decision surface of a model.

    The probability of one class on a grid (filled contours, with one level drawn as a
    line, by default 0.5), optional reference data coloured by label, the explained
    factuals (black dots), their counterfactuals (stars; grey when not valid) and the
    iterates of the gradient search that led there (lines). This is Figure 1 of the
    Counterfactual Training paper.

    Use :meth:`from_estimator` or :meth:`from_explanation` to create one. All parameters
    are stored as attributes.

    Read more in :ref:`displays`.

    Parameters
    ----------
    xx0 : ndarray of shape (grid_resolution, grid_resolution)
        First output of :func:`numpy.meshgrid`.
    xx1 : ndarray of shape (grid_resolution, grid_resolution)
        Second output of :func:`numpy.meshgrid`.
    response : ndarray of shape (grid_resolution, grid_resolution)
        Probability of ``class_of_interest`` on the grid.
    factuals : ndarray of shape (n_rows, 2)
        The explained rows.
    counterfactuals : ndarray of shape (n_rows, 2)
        Their counterfactuals.
    paths : list of ndarray of shape (n_steps_i, 2), default=None
        Each row's search iterates, from the factual to where the search stopped.
    valid : ndarray of bool of shape (n_rows,), default=None
        Which counterfactuals are valid (None: all).
    X_ref : ndarray of shape (n_samples, 2), default=None
        Reference data drawn underneath.
    y_ref : ndarray of shape (n_samples,), default=None
        Labels of ``X_ref``: rows of ``class_of_interest`` are red, the others blue.
    class_of_interest : label, default=None
        The class whose probability is shown.
    feature_names : list of str, default=None
        Axis labels.

    Attributes
    ----------
    surface_ : matplotlib QuadContourSet
        The filled contours of ``response``.
    boundary_ : matplotlib QuadContourSet or None
        The contour line at ``boundary`` (None when not drawn).
    data_ : matplotlib PathCollection or None
        The reference data.
    paths_ : list of matplotlib Line2D
        One line per search path, in the order of the rows.
    counterfactuals_ : matplotlib PathCollection
        The counterfactuals.
    factuals_ : matplotlib PathCollection
        The factuals.
    colorbar_ : matplotlib Colorbar or None
        The colour bar, when drawn.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    CounterfactualDisplay : Feature changes of counterfactuals, for any number of
        features.
    sklearn.inspection.DecisionBoundaryDisplay : Decision surfaces of any classifier.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import make_moons
    >>> from sklearn_ct import CTClassifier
    >>> from sklearn_ct.explainers import CounterfactualExplainer
    >>> from sklearn_ct.inspection import CounterfactualPathDisplay
    >>> X, y = make_moons(200, noise=0.1, random_state=0)
    >>> clf = CTClassifier(objective="vanilla", max_epochs=20, random_state=0).fit(X, y)
    >>> explainer = CounterfactualExplainer(clf, random_state=0).fit(X)
    >>> display = CounterfactualPathDisplay.from_estimator(
    ...     explainer, X[y == 0][:5], target=1, X_ref=X, y_ref=y, grid_resolution=50)
    >>> len(display.paths_)
    5
    >>> plt.close("all")
    """

    def __init__(self, *, xx0, xx1, response, factuals, counterfactuals, paths=None,
                 valid=None, X_ref=None, y_ref=None, class_of_interest=None,
                 feature_names=None):
        self.xx0 = xx0
        self.xx1 = xx1
        self.response = response
        self.factuals = factuals
        self.counterfactuals = counterfactuals
        self.paths = paths
        self.valid = valid
        self.X_ref = X_ref
        self.y_ref = y_ref
        self.class_of_interest = class_of_interest
        self.feature_names = feature_names

    def plot(self, ax=None, *, levels=11, cmap="RdBu_r", boundary=0.5, colorbar=True,
             contour_kw=None, path_kw=None):
        """Plot the surface, the data, the counterfactuals and their paths.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; None creates a figure and axes.
        levels : int, default=11
            Number of evenly spaced probability levels from 0 to 1 of the filled
            contours.
        cmap : str or matplotlib Colormap, default="RdBu_r"
            Colour map of the surface.
        boundary : float or None, default=0.5
            Probability level drawn as a line (0.5: the decision boundary of a binary
            classifier); None draws none.
        colorbar : bool, default=True
            Draw a colour bar.
        contour_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.contourf`.
        path_kw : dict, default=None
            Keyword arguments for the path lines (:meth:`matplotlib.axes.Axes.plot`).

        Returns
        -------
        display : CounterfactualPathDisplay
            Object that stores the computed values and the artists.
        """
        check_matplotlib_support("CounterfactualPathDisplay.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        response = np.asarray(self.response, dtype=np.float64)
        kwargs = dict(levels=np.linspace(0.0, 1.0, int(levels)), cmap=cmap, alpha=0.35)
        kwargs.update(contour_kw or {})
        self.surface_ = ax.contourf(self.xx0, self.xx1, response, **kwargs)
        self.boundary_ = None
        if boundary is not None and response.min() < boundary < response.max():
            self.boundary_ = ax.contour(self.xx0, self.xx1, response, levels=[boundary],
                                        colors="green", linewidths=1.5)
        self.data_ = None
        if self.X_ref is not None:
            X_ref = np.asarray(self.X_ref, dtype=np.float64)
            if self.y_ref is None:
                colors = "0.4"
            else:
                colors = np.where(np.asarray(self.y_ref) == self.class_of_interest,
                                  "tab:red", "tab:blue")
            self.data_ = ax.scatter(X_ref[:, 0], X_ref[:, 1], c=colors, s=6, alpha=0.5,
                                    linewidths=0)
        line = dict(color="black", linewidth=0.6, alpha=0.5)
        line.update(path_kw or {})
        self.paths_ = [ax.plot(p[:, 0], p[:, 1], **line)[0] for p in (self.paths or [])]
        cf = np.asarray(self.counterfactuals, dtype=np.float64)
        valid = (np.ones(cf.shape[0], dtype=bool) if self.valid is None
                 else np.asarray(self.valid, dtype=bool))
        self.counterfactuals_ = ax.scatter(
            cf[:, 0], cf[:, 1], marker="*", s=90, c=np.where(valid, "gold", "lightgray"),
            edgecolors="black", linewidths=0.6, zorder=3)
        fx = np.asarray(self.factuals, dtype=np.float64)
        self.factuals_ = ax.scatter(fx[:, 0], fx[:, 1], s=14, c="black", zorder=3)
        ax.set_xlim(float(np.min(self.xx0)), float(np.max(self.xx0)))
        ax.set_ylim(float(np.min(self.xx1)), float(np.max(self.xx1)))
        if self.feature_names is not None:
            if not ax.get_xlabel():
                ax.set_xlabel(str(self.feature_names[0]))
            if not ax.get_ylabel():
                ax.set_ylabel(str(self.feature_names[1]))
        self.colorbar_ = None
        if colorbar:
            self.colorbar_ = ax.figure.colorbar(
                self.surface_, ax=ax,
                label=f"probability of class {self.class_of_interest}")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_explanation(cls, result, X, *, estimator, X_ref=None, y_ref=None,
                         class_of_interest=None, valid=None, grid_resolution=100,
                         bounds=None, feature_names=None, ax=None, levels=11,
                         cmap="RdBu_r", boundary=0.5, colorbar=True, contour_kw=None,
                         path_kw=None):
        """Plot precomputed counterfactuals and paths on a model's decision surface.

        Parameters
        ----------
        result : :class:`~sklearn.utils.Bunch`
            The result of :meth:`CounterfactualExplainer.explain
            <sklearn_ct.explainers.CounterfactualExplainer.explain>` for ``X``, ideally
            with ``return_path=True`` (without a path no lines are drawn).
        X : array-like of shape (n_rows, 2)
            The explained rows.
        estimator : estimator or torch.nn.Module
            The explained classifier (its ``predict_proba`` gives the surface). If it is
            a pipeline, the search path is mapped back from the model's input space with
            its preprocessing's ``inverse_transform``.
        X_ref : array-like of shape (n_samples, 2), default=None
            Reference data to draw underneath.
        y_ref : array-like of shape (n_samples,), default=None
            Labels of ``X_ref``.
        class_of_interest : label, default=None
            The class whose probability is shown. None: the counterfactuals' target when
            they all share one, else the second class of a binary model.
        valid : array-like of bool of shape (n_rows,), default=None
            Which counterfactuals to draw as valid; None uses ``result.valid`` (target
            probability at least the explainer's decision threshold).
        grid_resolution : int, default=100
            Grid points per axis.
        bounds : array-like of shape (2, 2), default=None
            ``[[x0_min, x0_max], [x1_min, x1_max]]`` of the grid. None spans the
            factuals, counterfactuals, paths and reference data, with a 5 % margin.
        feature_names : list of str, default=None
            Axis labels (default: the DataFrame's columns, or ``x0, x1``).
        ax : matplotlib Axes, default=None
            Axes to plot on; None creates a figure and axes.
        levels, cmap, boundary, colorbar, contour_kw, path_kw
            Passed to :meth:`plot`.

        Returns
        -------
        display : CounterfactualPathDisplay
            The display, plotted.
        """
        check_matplotlib_support(f"{cls.__name__}.from_explanation")
        frame = X if is_frame(X) else None
        names = _feature_names(X if hasattr(X, "shape") else np.asarray(X), feature_names)
        X = _as_array(X, "X")
        cf = _as_array(result.counterfactuals, "result.counterfactuals")
        if cf.shape != X.shape:
            raise ValueError(f"result.counterfactuals has shape {cf.shape}, X has "
                             f"{X.shape}: pass the rows that were explained.")
        paths = _paths_in_feature_space(result, estimator, X.shape[0])
        if paths is not None and paths[0].shape[1] != 2:
            raise ValueError("The search path has more than two features; the display "
                             "needs a two-feature model input.")
        target = np.asarray(result.target)
        if class_of_interest is None:
            targets = np.unique(target)
            if targets.size == 1:
                class_of_interest = targets[0]
        if valid is None:
            valid = getattr(result, "valid", None)
        if int(grid_resolution) < 2:
            raise ValueError(f"grid_resolution must be at least 2, got {grid_resolution}.")

        if bounds is None:
            points = [X, cf] + (paths or [])
            if X_ref is not None:
                points.append(_as_array(X_ref, "X_ref"))
            stacked = np.vstack(points)
            lo, hi = stacked.min(axis=0), stacked.max(axis=0)
            pad = 0.05 * np.where(hi > lo, hi - lo, 1.0)
            bounds = np.column_stack([lo - pad, hi + pad])
        bounds = np.asarray(bounds, dtype=np.float64)
        if bounds.shape != (2, 2) or not np.all(np.isfinite(bounds)) or np.any(
                bounds[:, 0] >= bounds[:, 1]):
            raise ValueError(f"bounds must be [[x0_min, x0_max], [x1_min, x1_max]] with "
                             f"finite, increasing limits, got {bounds.tolist()}.")
        xx0, xx1 = np.meshgrid(np.linspace(*bounds[0], int(grid_resolution)),
                               np.linspace(*bounds[1], int(grid_resolution)))
        grid = np.c_[xx0.ravel(), xx1.ravel()]
        if frame is not None:
            import pandas as pd

            grid = pd.DataFrame(grid, columns=frame.columns)
        proba, classes = predict_proba(estimator, grid)
        if class_of_interest is None:
            if len(classes) != 2:
                raise ValueError("The counterfactuals have several targets; pass "
                                 "class_of_interest to choose the class whose probability "
                                 "is shown.")
            class_of_interest = classes[1]
        response = proba[:, class_index(classes, class_of_interest,
                                        "class_of_interest")].reshape(xx0.shape)
        display = cls(
            xx0=xx0, xx1=xx1, response=response, factuals=X, counterfactuals=cf,
            paths=paths, valid=None if valid is None else np.asarray(valid, dtype=bool),
            X_ref=None if X_ref is None else _as_array(X_ref, "X_ref"),
            y_ref=None if y_ref is None else np.asarray(y_ref),
            class_of_interest=class_of_interest, feature_names=names)
        return display.plot(ax=ax, levels=levels, cmap=cmap, boundary=boundary,
                            colorbar=colorbar, contour_kw=contour_kw, path_kw=path_kw)

    @classmethod
    def from_estimator(cls, estimator, X, *, target=None, X_ref=None, y_ref=None,
                       class_of_interest=None, grid_resolution=100, bounds=None,
                       feature_names=None, random_state=None, ax=None, levels=11,
                       cmap="RdBu_r", boundary=0.5, colorbar=True, contour_kw=None,
                       path_kw=None):
        """Explain rows of a two-feature model and plot their search paths.

        Parameters
        ----------
        estimator : explainer or classifier
            A fitted :class:`~sklearn_ct.explainers.CounterfactualExplainer` with a
            gradient generator (black-box generators have no path: only the
            counterfactuals are drawn), or a fitted differentiable classifier (e.g. a
            :class:`~sklearn_ct.CTClassifier`), explained with a default explainer (ECCo,
            threshold 0.5, no bounds).
        X : array-like of shape (n_rows, 2)
            The rows to explain.
        target : label, array-like or str, default=None
            Target of the counterfactuals, passed to ``explain`` (None: the explainer's).
        X_ref : array-like of shape (n_samples, 2), default=None
            Reference data to draw underneath.
        y_ref : array-like of shape (n_samples,), default=None
            Labels of ``X_ref``.
        class_of_interest : label, default=None
            The class whose probability is shown, see :meth:`from_explanation`.
        grid_resolution : int, default=100
            Grid points per axis.
        bounds : array-like of shape (2, 2), default=None
            Grid limits; None uses the explainer's domain when it is finite, else the
            span of the points drawn (see :meth:`from_explanation`).
        feature_names : list of str, default=None
            Axis labels.
        random_state : int, RandomState instance or None, default=None
            Seeds the default explainer (ignored when an explainer is given).
        ax : matplotlib Axes, default=None
            Axes to plot on; None creates a figure and axes.
        levels, cmap, boundary, colorbar, contour_kw, path_kw
            Passed to :meth:`plot`.

        Returns
        -------
        display : CounterfactualPathDisplay
            The display, plotted.
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        from ..generators import BaseBlackBoxGenerator

        explainer = fitted_explainer(estimator, X, random_state=random_state,
                                     caller=f"{cls.__name__}.from_estimator")
        with_path = not isinstance(explainer.generator_, BaseBlackBoxGenerator)
        result = explainer.explain(X, target=target, return_path=with_path)
        if bounds is None:
            domain = np.asarray(getattr(explainer, "domain_", np.full((2, 2), np.inf)))
            if domain.shape == (2, 2) and np.all(np.isfinite(domain)):
                bounds = domain
        with warnings.catch_warnings():
            # The surface is evaluated on a plain grid; a model fitted on named columns
            # gets a DataFrame when X is one, else scikit-learn's feature-name warning
            # would only be noise here.
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            return cls.from_explanation(
                result, X, estimator=explainer.estimator_, X_ref=X_ref, y_ref=y_ref,
                class_of_interest=class_of_interest, grid_resolution=grid_resolution,
                bounds=bounds, feature_names=feature_names, ax=ax, levels=levels,
                cmap=cmap, boundary=boundary, colorbar=colorbar, contour_kw=contour_kw,
                path_kw=path_kw)
