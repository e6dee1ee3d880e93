"""Tests of the displays (sklearn_ct.inspection): drawn artists against the data.

No pixels are compared: bar widths must equal the feature changes of the explanations,
path lines the explainer's returned iterates (mapped back through a pipeline's
preprocessing), the surface the model's probabilities on the grid.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs, make_moons
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from sklearn_ct import CTClassifier  # noqa: E402
from sklearn_ct.explainers import CounterfactualExplainer  # noqa: E402
from sklearn_ct.inspection import (  # noqa: E402
    CounterfactualDisplay,
    CounterfactualPathDisplay,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(200, noise=0.1, random_state=0)
    clf = CTClassifier(objective="vanilla", max_epochs=15, random_state=0).fit(X, y)
    return X, y, clf


def _widths(container):
    return np.array([patch.get_width() for patch in container.patches])


def _bar_centres(container):
    return np.array([p.get_y() + p.get_height() / 2 for p in container.patches])


# -- CounterfactualDisplay ------------------------------------------------------------------


def test_bars_are_the_deltas_and_immutable_features_are_marked():
    X = np.array([[1.0, 5.0, 2.0, 0.5]])
    X_cf = np.array([[3.0, 5.0, 1.5, 0.5]])
    result = Bunch(counterfactuals=X_cf, target=np.array([1]), target_proba=np.array([0.9]))
    display = CounterfactualDisplay.from_explanation(
        result, X, feature_names=["income", "age", "debt", "rate"], immutable=["age"])
    # Changed features plus the immutable one, in column order.
    assert display.features_.tolist() == ["income", "age", "debt"]
    np.testing.assert_allclose(_widths(display.bars_[0]), [2.0, 0.0, -0.5])
    np.testing.assert_allclose(display.deltas_, [[2.0, 0.0, -0.5]])
    labels = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert labels == ["income", "age (immutable)", "debt"]
    assert len(display.immutable_spans_) == 1
    # The band lies behind the "age" bar.
    span = display.immutable_spans_[0]  # a Rectangle in (axes x, data y) coordinates
    centre = _bar_centres(display.bars_[0])[1]
    assert span.get_y() < centre < span.get_y() + span.get_height()
    texts = [a.get_text() for a in display.annotations_]
    assert texts == ["1 → 3", "2 → 1.5"]
    assert display.ax_.get_title() == "Counterfactual: p(1) = 0.90"
    assert display.figure_ is display.ax_.figure


def test_probability_before_comes_from_the_estimator():
    X = np.array([[-1.0], [1.0], [-2.0], [2.0]])
    clf = LogisticRegression().fit(X, [0, 1, 0, 1])
    result = Bunch(counterfactuals=np.array([[1.5]]), target=np.array([1]),
                   target_proba=clf.predict_proba([[1.5]])[:, 1])
    display = CounterfactualDisplay.from_explanation(result, X[:1], estimator=clf)
    before = clf.predict_proba(X[:1])[0, 1]
    np.testing.assert_allclose(display.proba_before, [before])
    assert display.ax_.get_title() == (
        f"Counterfactual: p(1): {before:.2f} → {result.target_proba[0]:.2f}")


def test_categorical_changes_are_named():
    X = pd.DataFrame({"housing": ["rent"], "amount": [1000.0], "job": ["skilled"]})
    X_cf = pd.DataFrame({"housing": ["own"], "amount": [800.0], "job": ["skilled"]})
    result = Bunch(counterfactuals=X_cf, target=np.array(["good"]),
                   target_proba=np.array([0.7]))
    display = CounterfactualDisplay.from_explanation(result, X)
    assert display.features_.tolist() == ["housing", "amount"]
    np.testing.assert_allclose(_widths(display.bars_[0]), [0.0, -200.0])
    assert np.isnan(display.deltas_[0, 0])
    assert [a.get_text() for a in display.annotations_] == ["rent → own", "1000 → 800"]
    assert display.annotations_[0].get_bbox_patch() is not None  # boxed: categorical


def test_one_hot_groups_are_collapsed_into_one_named_feature():
    names = ["duration", "purpose_car", "purpose_tv", "purpose_education"]
    X = np.array([[12.0, 1.0, 0.0, 0.0], [24.0, 0.0, 0.0, 1.0]])
    X_cf = np.array([[12.0, 0.0, 1.0, 0.0], [18.0, 0.0, 0.0, 1.0]])
    result = Bunch(counterfactuals=X_cf, target=np.array([1, 1]))
    display = CounterfactualDisplay.from_explanation(
        result, X, feature_names=names, categorical_groups=[names[1:]],
        features="all")
    assert display.features_.tolist() == ["duration", "purpose"]
    assert display.categorical.tolist() == [False, True]
    np.testing.assert_allclose(display.deltas_[:, 0], [0.0, -6.0])
    texts = [a.get_text() for a in display.annotations_]
    assert texts == ["car → tv", "24 → 18"]
    # Two rows: two groups of bars, side by side within each feature's band.
    assert len(display.bars_) == 2
    np.testing.assert_allclose(_bar_centres(display.bars_[0]) + 0.4,
                               _bar_centres(display.bars_[1]))
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend == ["row 0: target 1", "row 1: target 1"]


def test_feature_selection_and_errors():
    X = np.array([[1.0, 2.0, 3.0]])
    result = Bunch(counterfactuals=np.array([[1.0, 4.0, 3.0]]), target=np.array([0]))
    assert CounterfactualDisplay.from_explanation(result, X).features_.tolist() == ["x1"]
    picked = CounterfactualDisplay.from_explanation(result, X, features=["x2", 1])
    assert picked.features_.tolist() == ["x2", "x1"]
    np.testing.assert_allclose(_widths(picked.bars_[0]), [0.0, 2.0])
    with pytest.raises(ValueError, match="features must be"):
        CounterfactualDisplay.from_explanation(result, X, features="some")
    with pytest.raises(ValueError, match="not a column"):
        CounterfactualDisplay.from_explanation(result, X, immutable=["age"])
    with pytest.raises(ValueError, match="pass the rows that were explained"):
        CounterfactualDisplay.from_explanation(result, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="one target per row"):
        CounterfactualDisplay.from_explanation(
            Bunch(counterfactuals=result.counterfactuals, target=np.array([0, 1])), X)


def test_from_estimator_uses_original_units_through_the_pipeline():
    # Features in very different units; the model sees them standardised, the display
    # must show changes in the original units.
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.normal(50_000, 10_000, 300), rng.normal(40, 10, 300)])
    y = (X[:, 0] / 10_000 + (X[:, 1] - 40) / 10 > 5).astype(int)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    explainer = CounterfactualExplainer(pipe, generator="growing_spheres",
                                        mutability={1: "none"}, random_state=0).fit(X)
    rows = X[y == 0][:2]
    display = CounterfactualDisplay.from_estimator(explainer, rows, features="all")
    result = explainer.explain(rows)
    deltas = np.asarray(result.counterfactuals) - rows
    for i in range(2):
        np.testing.assert_allclose(_widths(display.bars_[i]), deltas[i])
    assert np.all(np.abs(deltas[:, 0]) > 100)  # income moved in its own units
    assert display.features_.tolist() == ["x0", "x1"]
    assert display.ax_.get_yticklabels()[1].get_text() == "x1 (immutable)"
    np.testing.assert_allclose(display.proba_before, pipe.predict_proba(rows)[:, 1])
    np.testing.assert_allclose(display.proba_after, result.target_proba)


def test_from_estimator_with_a_model_and_an_axes(moons):
    X, _, clf = moons
    fig, ax = plt.subplots()
    display = CounterfactualDisplay.from_estimator(clf, X[:1], target=1 - clf.predict(
        X[:1]), ax=ax, random_state=0)
    assert display.ax_ is ax and display.figure_ is fig
    assert display.proba_after[0] >= 0.5


def test_immutable_features_of_a_ct_model_are_marked(moons):
    X, y, _ = moons
    ct = CTClassifier(objective="vanilla", mutability={0: "none"}, max_epochs=3,
                      random_state=0).fit(X, y)
    explainer = CounterfactualExplainer(ct, random_state=0).fit(X)
    display = CounterfactualDisplay.from_estimator(explainer, X[:1])
    assert display.immutable.tolist() == [True, False]
    assert display.features_[0] == "x0"
    assert display.deltas_[0, 0] == 0.0


def test_unfitted_inputs_are_reported():
    with pytest.raises(NotFittedError, match="fitted explainer"):
        CounterfactualDisplay.from_estimator(CounterfactualExplainer(LogisticRegression()),
                                             np.zeros((1, 2)))
    with pytest.raises(NotFittedError, match="not fitted"):
        CounterfactualDisplay.from_estimator(LogisticRegression(), np.zeros((1, 2)))


# -- CounterfactualPathDisplay ----------------------------------------------------------------


def test_paths_counterfactuals_and_surface_match_the_explainer(moons):
    X, y, clf = moons
    explainer = CounterfactualExplainer(clf, max_steps=30, random_state=0).fit(X)
    rows = X[clf.predict(X) == 0][:6]
    display = CounterfactualPathDisplay.from_estimator(
        explainer, rows, target=1, X_ref=X, y_ref=y, grid_resolution=40)
    result = explainer.explain(rows, target=1, return_path=True)
    assert len(display.paths_) == 6
    for i, line in enumerate(display.paths_):
        expected = result.path[: result.n_iter[i] + 1, i]
        np.testing.assert_allclose(line.get_xydata(), expected)
        np.testing.assert_allclose(line.get_xydata()[0], rows[i])  # starts at the factual
    np.testing.assert_allclose(display.counterfactuals_.get_offsets(),
                               result.counterfactuals)
    np.testing.assert_allclose(display.factuals_.get_offsets(), rows)
    colors = display.counterfactuals_.get_facecolors()
    for c, ok in zip(colors, result.valid):
        np.testing.assert_allclose(c, to_rgba("gold" if ok else "lightgray"))
    # The surface is the model's probability of class 1 over the explainer's domain.
    np.testing.assert_allclose(display.surface_.levels, np.linspace(0, 1, 11))
    bounds = explainer.domain_
    assert display.ax_.get_xlim() == pytest.approx(tuple(bounds[0]))
    assert display.ax_.get_ylim() == pytest.approx(tuple(bounds[1]))
    assert display.xx0.shape == (40, 40)
    grid = np.c_[display.xx0.ravel(), display.xx1.ravel()]
    np.testing.assert_allclose(display.response.ravel(), clf.predict_proba(grid)[:, 1])
    assert display.boundary_.levels.tolist() == [0.5]
    assert display.class_of_interest == 1
    data_colors = display.data_.get_facecolors()
    np.testing.assert_allclose(data_colors[y == 1][:, :3],
                               np.tile(to_rgba("tab:red")[:3], ((y == 1).sum(), 1)))
    assert display.colorbar_ is not None


def test_paths_are_mapped_back_through_the_preprocessing(moons):
    X, y, _ = moons
    X_raw = X * [100.0, 0.01] + [1000.0, 5.0]
    pipe = make_pipeline(StandardScaler(), CTClassifier(objective="vanilla", max_epochs=5,
                                                        random_state=0)).fit(X_raw, y)
    explainer = CounterfactualExplainer(pipe, max_steps=20, domain=None,
                                        random_state=0).fit(X_raw)
    rows = X_raw[:4]
    display = CounterfactualPathDisplay.from_estimator(explainer, rows, colorbar=False)
    result = explainer.explain(rows, return_path=True)
    scaler = pipe[0]
    for i, line in enumerate(display.paths_):
        model_space = result.path[: result.n_iter[i] + 1, i]
        np.testing.assert_allclose(line.get_xydata(), scaler.inverse_transform(model_space))
        np.testing.assert_allclose(line.get_xydata()[0], rows[i])
        np.testing.assert_allclose(line.get_xydata()[-1], result.counterfactuals[i],
                                   rtol=1e-6)
    assert display.colorbar_ is None
    # Bounds from the points drawn, with a 5 % margin.
    points = np.vstack([rows, result.counterfactuals, *[p.get_xydata()
                                                        for p in display.paths_]])
    lo, hi = points.min(axis=0), points.max(axis=0)
    assert display.ax_.get_xlim() == pytest.approx((lo[0] - 0.05 * (hi[0] - lo[0]),
                                                    hi[0] + 0.05 * (hi[0] - lo[0])))


def test_from_explanation_options(moons):
    X, y, clf = moons
    explainer = CounterfactualExplainer(clf, max_steps=10, random_state=0).fit(X)
    result = explainer.explain(X[:5], return_path=True)  # "opposite": mixed targets
    valid = np.array([True, False, True, False, True])
    display = CounterfactualPathDisplay.from_explanation(
        result, X[:5], estimator=clf, valid=valid, boundary=None, levels=5,
        bounds=[[-2, 3], [-1.5, 2]], grid_resolution=10, feature_names=["a", "b"])
    assert display.class_of_interest == clf.classes_[1]  # binary: the positive class
    assert display.boundary_ is None
    np.testing.assert_allclose(display.surface_.levels, np.linspace(0, 1, 5))
    assert display.ax_.get_xlim() == (-2.0, 3.0) and display.ax_.get_ylim() == (-1.5, 2.0)
    assert (display.ax_.get_xlabel(), display.ax_.get_ylabel()) == ("a", "b")
    colors = display.counterfactuals_.get_facecolors()
    np.testing.assert_allclose(colors[1], to_rgba("lightgray"))
    no_path = Bunch(counterfactuals=result.counterfactuals, target=result.target)
    bare = CounterfactualPathDisplay.from_explanation(no_path, X[:5], estimator=clf,
                                                     grid_resolution=10)
    assert bare.paths_ == [] and bare.data_ is None


def test_black_box_explainers_have_no_paths(moons):
    X, _, clf = moons
    explainer = CounterfactualExplainer(clf, generator="growing_spheres",
                                        random_state=0).fit(X)
    display = CounterfactualPathDisplay.from_estimator(explainer, X[:3], grid_resolution=10)
    assert display.paths_ == []
    assert display.counterfactuals_.get_offsets().shape == (3, 2)


def test_path_display_errors(moons):
    X, y, clf = moons
    result = Bunch(counterfactuals=X[:2], target=np.array([0, 1]))
    with pytest.raises(ValueError, match="exactly two features"):
        CounterfactualPathDisplay.from_explanation(
            Bunch(counterfactuals=np.zeros((2, 3)), target=np.array([0, 1])),
            np.zeros((2, 3)), estimator=clf)
    with pytest.raises(ValueError, match="bounds must be"):
        CounterfactualPathDisplay.from_explanation(result, X[:2], estimator=clf,
                                                   bounds=[[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="grid_resolution"):
        CounterfactualPathDisplay.from_explanation(result, X[:2], estimator=clf,
                                                   grid_resolution=1)
    Xb, yb = make_blobs(60, centers=3, n_features=2, random_state=0)
    three = LogisticRegression().fit(Xb, yb)
    mixed = Bunch(counterfactuals=Xb[:2], target=np.array([0, 2]))
    with pytest.raises(ValueError, match="class_of_interest"):
        CounterfactualPathDisplay.from_explanation(mixed, Xb[:2], estimator=three)
    ok = CounterfactualPathDisplay.from_explanation(mixed, Xb[:2], estimator=three,
                                                    class_of_interest=2,
                                                    grid_resolution=10)
    grid = np.c_[ok.xx0.ravel(), ok.xx1.ravel()]
    np.testing.assert_allclose(ok.response.ravel(), three.predict_proba(grid)[:, 2])
    with pytest.raises(ValueError, match="not one of the model's classes"):
        CounterfactualPathDisplay.from_explanation(mixed, Xb[:2], estimator=three,
                                                   class_of_interest=7)


def test_display_constructed_directly_and_replotted():
    xx0, xx1 = np.meshgrid(np.linspace(0, 1, 5), np.linspace(0, 2, 5))
    display = CounterfactualPathDisplay(
        xx0=xx0, xx1=xx1, response=xx0, factuals=np.array([[0.1, 0.1]]),
        counterfactuals=np.array([[0.9, 1.0]]),
        paths=[np.array([[0.1, 0.1], [0.5, 0.5], [0.9, 1.0]])], class_of_interest=1)
    fig, (a, b) = plt.subplots(1, 2)
    display.plot(ax=a, colorbar=False)
    first = display.paths_[0]
    display.plot(ax=b, colorbar=False)
    assert display.ax_ is b and first.axes is a
    np.testing.assert_allclose(display.paths_[0].get_xydata(), display.paths[0])
    assert display.boundary_.levels.tolist() == [0.5]
