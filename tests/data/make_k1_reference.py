"""Write ``k1_reference.npz``: explanations computed before ``n_per_row`` existed.

The file holds, per case of :func:`cases` (by name), the counterfactuals, step counts,
target probabilities, validity and ``transform`` output that the explainer returned at
commit ca2c5bf (before several counterfactuals per row were added), as plain arrays
(:func:`save`, :func:`load`: no pickles, so loading it runs no code). It holds no models:
:func:`cases` trains them again (conventional training with a fixed ``random_state``,
which reproduces the same weights), and the test uses it too. The test
``tests/test_diverse.py::test_k1_is_bit_for_bit_the_previous_search`` checks that the
default ``n_per_row=1`` still returns exactly these arrays. Run it with one torch thread
(as the tests do) and only to regenerate the reference on purpose::

    OMP_NUM_THREADS=1 python tests/data/make_k1_reference.py
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sklearn_ct import CTClassifier
from sklearn_ct.datasets import load_german_credit, make_moons
from sklearn_ct.explainers import CounterfactualExplainer
from sklearn_ct.generators import (
    ECCoGenerator,
    GenericGenerator,
    GrowingSpheresGenerator,
    REVISEGenerator,
)

torch.set_num_threads(1)

GENERATORS = {
    "generic": lambda: GenericGenerator(),
    "ecco": lambda: ECCoGenerator(),
    "revise": lambda: REVISEGenerator(max_epochs=10),
    "growing_spheres": lambda: GrowingSpheresGenerator(n_candidates=50),
}


def cases():
    X, y = make_moons(n_samples=400, random_state=0)
    moons = CTClassifier(objective="vanilla", max_epochs=30, random_state=0).fit(X, y)
    german = load_german_credit()
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([
        ("preprocess", german.preprocessor),
        ("clf", CTClassifier(objective="vanilla", max_epochs=10, random_state=0)),
    ]).fit(german.X_train, german.y_train)
    out = []
    for name in GENERATORS:
        for mutability in (None, {0: "increase"}):
            out.append(dict(case=f"moons-{name}-{mutability}", model=moons, X_fit=X,
                            X=X[:40], generator=name,
                            params=dict(mutability=mutability, max_steps=50,
                                        random_state=0)))
    for name in ("ecco", "growing_spheres"):
        # The German training data are reloaded by the test (X_fit names them).
        out.append(dict(case=f"german-{name}", model=pipe, X_fit="german_credit",
                        X=german.X_test.iloc[:30], generator=name,
                        params=dict(mutability={"age": "none"}, max_steps=30,
                                    random_state=0)))
    return out


def main():
    records = {}
    for case in cases():
        X_fit = case["X_fit"]
        if isinstance(X_fit, str):
            X_fit = load_german_credit().X_train
        explainer = CounterfactualExplainer(
            case["model"], generator=GENERATORS[case["generator"]](), **case["params"]
        ).fit(X_fit)
        res = explainer.explain(case["X"])
        cf = res.counterfactuals
        records[case["case"]] = dict(
            counterfactuals=cf, n_iter=np.asarray(res.n_iter),
            target_proba=np.asarray(res.target_proba), valid=np.asarray(res.valid),
            transform=explainer.transform(case["X"]),
        )
    path = Path(__file__).with_name("k1_reference.npz")
    save(records, path)
    print(f"wrote {len(records)} cases to {path}")


# A record's fields are arrays, or (German credit, through a pipeline) DataFrames; a
# DataFrame is stored column by column with its names, dtypes and index.


def save(records, path):
    """Write ``{case: {field: ndarray or DataFrame}}`` as one ``.npz`` of plain arrays."""
    arrays = {}
    for case, fields in records.items():
        for field, value in fields.items():
            key = f"{case}|{field}"
            if isinstance(value, pd.DataFrame):
                arrays[f"{key}|columns"] = np.asarray(value.columns, dtype=str)
                arrays[f"{key}|dtypes"] = np.asarray(value.dtypes.astype(str), dtype=str)
                arrays[f"{key}|index"] = np.asarray(value.index)
                for i, column in enumerate(value.columns):
                    data = value[column].to_numpy()
                    arrays[f"{key}|column{i}"] = (data.astype(str) if data.dtype == object
                                                   else data)
            else:
                arrays[key] = np.asarray(value)
    np.savez_compressed(path, **arrays)


def load(path):
    """Read what :func:`save` wrote (without allowing pickled objects)."""
    records = {}
    with np.load(path, allow_pickle=False) as stored:
        keys = list(stored)
        for key in keys:
            case, field, *part = key.split("|")
            fields = records.setdefault(case, {})
            if not part:
                fields[field] = stored[key]
            elif part == ["columns"]:
                columns = stored[key]
                dtypes = stored[f"{case}|{field}|dtypes"]
                index = stored[f"{case}|{field}|index"]
                if index.size:
                    stop = index[0] + index.size
                    if np.array_equal(index, np.arange(index[0], stop)):
                        index = pd.RangeIndex(index[0], stop)
                frame = pd.DataFrame(
                    {c: stored[f"{case}|{field}|column{i}"] for i, c in enumerate(columns)},
                    index=index)
                fields[field] = frame.astype(dict(zip(columns, dtypes)))
    return records


if __name__ == "__main__":
    main()
