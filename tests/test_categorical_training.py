"""One-hot groups kept valid during training: CTClassifier(categorical_groups=...)."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_ct import CTClassifier, find_categorical_groups
from sklearn_ct.datasets import load_adult
from sklearn_ct.explainers import CounterfactualExplainer
from sklearn_ct.explainers._mapping import Group
from sklearn_ct.generators._base import _GroupProjection

PARAMS = dict(max_epochs=4, batch_size=64, n_counterfactuals=128, max_steps=15,
              random_state=0)


def _frame(n=400, seed=0):
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame({
        "income": rng.normal(size=n),
        "hours_per_week": rng.normal(size=n),
        "job_type": rng.choice(["a_b", "c", "d_e_f"], size=n),
        "sex": rng.choice(["F", "M"], size=n),
    })
    y = ((frame["income"] + (frame["job_type"] == "c") - 0.5 * (frame["sex"] == "F")
          + 0.3 * rng.normal(size=n)) > 0.2).astype(int)
    return frame, y.to_numpy()


def _preprocessor(**kwargs):
    return ColumnTransformer(
        [("num", StandardScaler(), ["income", "hours_per_week"]),
         ("cat", OneHotEncoder(sparse_output=False), ["job_type", "sex"])],
        **kwargs).set_output(transform="pandas")


def _encoder_layout(pre):
    """Group indices from the fitted encoder's categories (the independent truth)."""
    start = len(pre.transformers_[0][2])
    out = []
    for cats in pre.named_transformers_["cat"].categories_:
        out.append(list(range(start, start + len(cats))))
        start += len(cats)
    return out


def _pool(clf):
    return dict(clf.net_.callbacks_)["counterfactuals"].last_pool_


def _assert_one_hot(points, groups):
    for g in groups:
        block = np.asarray(points)[:, g]
        assert np.isin(block, (0.0, 1.0)).all()
        assert (block.sum(axis=1) == 1).all()


# -- finding groups by name ------------------------------------------------------------------


def test_find_categorical_groups_by_hand():
    names = ["age", "sex_F", "sex_M", "job_a_b", "job_c", "hours", "x_1", "y_1"]
    assert find_categorical_groups(names) == [[1, 2], [3, 4]]
    # A ColumnTransformer's prefix alone ("cat__") names no feature.
    prefixed = ["num__age", "cat__sex_F", "cat__sex_M", "cat__race_a", "cat__race_b"]
    assert find_categorical_groups(prefixed) == [[1, 2], [3, 4]]
    # With data: columns that are not 0/1, or not exclusive, end a run.
    X = np.array([[0.5, 1, 0, 1, 1],
                  [0.1, 0, 1, 0, 1]])
    assert find_categorical_groups(["a", "b_x", "b_y", "c_x", "c_y"], X) == [[1, 2]]
    assert find_categorical_groups(["a_x", "a_y"], np.array([[0.5, 0.5]])) == []
    assert find_categorical_groups(["one_dummy", "age"]) == []


@pytest.mark.parametrize("verbose", [True, False])
def test_auto_matches_the_encoder_layout(verbose):
    frame, y = _frame()
    pre = _preprocessor(verbose_feature_names_out=verbose).fit(frame)
    Z = pre.transform(frame)
    assert find_categorical_groups(Z.columns, Z) == _encoder_layout(pre)


def test_auto_on_adult_matches_the_encoder_layout():
    data = load_adult()
    pre = data.preprocessor.set_output(transform="pandas").fit(data.X_train)
    Z = pre.transform(data.X_train.iloc[:3000])
    groups = find_categorical_groups(Z.columns, Z)
    assert groups == _encoder_layout(pre)
    assert len(groups) == 8


# -- training ----------------------------------------------------------------------------


def test_pipeline_with_auto_groups_trains_on_valid_categories():
    frame, y = _frame()
    pipe = make_pipeline(_preprocessor(),
                         CTClassifier(categorical_groups="auto", **PARAMS)).fit(frame, y)
    clf = pipe[-1]
    layout = _encoder_layout(pipe[0])
    assert clf.categorical_groups_ == layout
    pool = _pool(clf)
    assert pool["mature"].any()
    # Every counterfactual (mature ones; immature are replaced by real positives) and
    # every nascent counterfactual used as adversarial example holds real categories.
    _assert_one_hot(pool["x_cf"].numpy(), layout)
    _assert_one_hot(pool["x_ae"].numpy(), layout)


def test_without_groups_the_pool_leaves_the_categories():
    # The reference's behaviour, and why the option exists: the relaxed search leaves
    # in-between values in the one-hot columns.
    frame, y = _frame()
    pipe = make_pipeline(_preprocessor(), CTClassifier(**PARAMS)).fit(frame, y)
    layout = _encoder_layout(pipe[0])
    x_cf = _pool(pipe[-1])["x_cf"].numpy()
    assert pipe[-1].categorical_groups_ == []
    assert not np.isin(x_cf[:, np.concatenate(layout)], (0.0, 1.0)).all()


def test_groups_by_name_index_and_auto_train_the_same_model():
    frame, y = _frame()
    Z = _preprocessor().fit_transform(frame)
    layout = find_categorical_groups(Z.columns, Z)
    by_name = [[Z.columns[j] for j in g] for g in layout]
    fits = [CTClassifier(categorical_groups=spec, **PARAMS).fit(Z, y)
            for spec in ("auto", layout, by_name)]
    for clf in fits[1:]:
        assert clf.categorical_groups_ == fits[0].categorical_groups_
        np.testing.assert_array_equal(clf.predict_proba(Z), fits[0].predict_proba(Z))
    # The groups change training (and nothing else does: without them the fit differs).
    plain = CTClassifier(**PARAMS).fit(Z, y)
    assert not np.array_equal(plain.predict_proba(Z), fits[0].predict_proba(Z))


def test_group_errors_and_warnings():
    frame, y = _frame()
    Z = _preprocessor().fit_transform(frame)
    groups = find_categorical_groups(Z.columns, Z)
    name = Z.columns[groups[0][0]]
    with pytest.raises(ValueError, match="wholly 'none' or wholly 'both'"):
        CTClassifier(categorical_groups=groups, mutability={name: "increase"},
                     **PARAMS).fit(Z, y)
    with pytest.raises(ValueError, match="not one-hot encoded"):
        CTClassifier(categorical_groups=[[0, 1]], **PARAMS).fit(Z, y)
    with pytest.warns(UserWarning, match="no group was found"):
        clf = CTClassifier(categorical_groups="auto", **PARAMS).fit(Z.to_numpy(), y)
    assert clf.categorical_groups_ == []
    # An immutable group is allowed and never changes.
    frozen = {c: "none" for c in Z.columns[groups[0]]}
    clf = CTClassifier(categorical_groups=groups, mutability=frozen, **PARAMS).fit(Z, y)
    pool = _pool(clf)
    assert clf.categorical_groups_ == groups
    mature = pool["mature"].numpy()
    factuals = Z.to_numpy()[pool["index"].numpy()]
    np.testing.assert_array_equal(pool["x_cf"].numpy()[mature][:, groups[0]],
                                  factuals[mature][:, groups[0]])


# -- the projection and the explainer ----------------------------------------------------


def test_projection_by_hand():
    z = torch.tensor([[0.2, 0.5, 0.3, 0.3, 0.2],
                      [0.4, 0.4, 0.1, 0.6, 0.1],
                      [0.0, 0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    project = _GroupProjection([Group(np.array([0, 1, 2]), None, False),
                                Group(np.array([3, 4]), None, True)], "cpu")
    out = project(z.clone()).numpy()
    # Largest entry wins, ties to the first; the implicit category scores 1 - sum
    # (0.5, 0.3 and 1.0 in the three rows).
    np.testing.assert_array_equal(out, [[0, 1, 0, 0, 0],
                                        [1, 0, 0, 1, 0],
                                        [1, 0, 0, 0, 0]])


def test_explainer_uses_the_trained_groups_and_steps():
    frame, y = _frame()
    Z = _preprocessor().fit_transform(frame)
    X = Z.to_numpy()
    clf = CTClassifier(categorical_groups="auto", **PARAMS).fit(Z, y)
    groups = clf.categorical_groups_
    # The explainer is given no groups: it takes the model's.
    explainer = CounterfactualExplainer(clf, random_state=0).fit(X)
    _assert_one_hot(explainer.transform(X[:50]), groups)
    step = CounterfactualExplainer(clf, categorical_snapping="step", max_steps=30,
                                   random_state=0).fit(X)
    res = step.explain(X[:50], return_path=True)
    _assert_one_hot(res.path.reshape(-1, X.shape[1]), groups)
    _assert_one_hot(res.counterfactuals, groups)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CounterfactualExplainer(clf, categorical_groups="auto").fit(Z)


# -- the experiment's switches -----------------------------------------------------------


def test_experiment_switches_reach_models_and_explainers():
    from sklearn_ct._cli import _parser, _settings_overrides
    from sklearn_ct.experiment import experiment_settings, prepare_dataset
    from sklearn_ct.experiment._evaluation import explainer_templates
    from sklearn_ct.experiment._training import make_model

    data = prepare_dataset("german_credit", max_train_rows=50)
    parser, *_ = _parser()
    args = parser.parse_args(["experiment", "--categorical-groups",
                              "--categorical-snapping", "step"])
    settings = experiment_settings("quick", **_settings_overrides(args, None))
    assert settings.categorical_groups and settings.categorical_snapping == "step"
    assert make_model(data, "BL", settings, 0).categorical_groups is None
    for model in ("CT", "CT_protected"):
        assert make_model(data, model, settings, 0).categorical_groups == \
            data.categorical_groups
    for setting in ("plausibility", "protected"):
        for template in explainer_templates(data, settings, setting):
            assert template.categorical_snapping == "step"
    default = experiment_settings("quick")
    assert make_model(data, "CT", default, 0).categorical_groups is None
    assert explainer_templates(data, default, "protected")[0].categorical_snapping == "end"
    with pytest.raises(SystemExit):
        parser.parse_args(["experiment", "--categorical-snapping", "never"])
    with pytest.raises(ValueError, match="categorical_snapping"):
        experiment_settings("quick", categorical_snapping="never")
