"""Catalogue of bad inputs (issue 10): every bad call gets a clear error and leaves no trace.

Each :class:`Case` is one bad call through the public API (``CTClassifier``,
``CounterfactualExplainer``, the generators, :mod:`sklearn_ct.metrics` and its scorers, the
``sklearn-ct`` command) with

* the exception it must raise (``None``: the call is legitimate and must work correctly),
* a regular expression that the message must match: it names the problem,
* the issue item it belongs to (``0``: general input validation, no specific item), and
* what must be left untouched: ``"clf"`` / ``"explainer"`` / ``"generator"`` for a call on
  a fitted object (same fitted attributes, same weights, same ``predict_proba`` or
  ``transform`` afterwards: atomic fit), ``"fresh"`` for a fit of an unfitted object (it
  must stay unfitted: ``NotFittedError``, not ``AttributeError``).

Besides, no raw torch, numpy or joblib exception may reach the user (:func:`leaked`).

:func:`run_case` classifies every outcome: ``clear`` (the expected exception, a message
naming the problem, nothing left behind), ``handled`` (a legitimate call that works), or a
failure: ``raw`` (a raw or wrong exception), ``silent`` (no error, or a wrong result),
``corrupted`` (a fitted object changed, or a fresh one left half-fitted). Every case is
clear or handled; ``doc/reliability.rst`` lists the guarantees and where they are
implemented. A new case that cannot be fixed at once is added with
``xfail="issue N (item k): ..."`` (``xfail(strict=True)``), so that it flips to an error
(XPASS) as soon as it is fixed.
"""

import copy
import json
import os
import re
import subprocess
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC
from skorch.callbacks import Callback
from torch import nn

from sklearn_ct import (
    CounterfactualExplainer,
    CTClassifier,
    ECCoGenerator,
    GenericGenerator,
    GrowingSpheresGenerator,
    REVISEGenerator,
)
from sklearn_ct import metrics as M
from sklearn_ct.generators import ECCCoGenerator

# -- data and fitted objects --------------------------------------------------------------

N_ROWS = 60
FAST = dict(max_epochs=2, hidden_layer_sizes=(8,), batch_size=16, max_steps=5,
            n_counterfactuals=16, random_state=0)


def _data(n=N_ROWS, d=2, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1.0, 2.0, size=(n, d))
    y = (X.sum(axis=1) > 0.5 * d).astype(int)
    return X, y


def _clf(**params):
    return CTClassifier(**{**FAST, **params})


@dataclass
class Env:
    """What a case works on: fresh copies of fitted objects, data and a scratch folder."""

    X: np.ndarray
    y: np.ndarray
    clf: CTClassifier
    explainer: CounterfactualExplainer
    revise: REVISEGenerator
    tmp: Any
    fresh: Any = None


def fresh(env, estimator):
    """Register ``estimator`` as the unfitted object of a case (it must stay unfitted)."""
    env.fresh = estimator
    return estimator


# -- modules and callbacks with faults ----------------------------------------------------


class _Linear(nn.Module):
    """A linear module with ``n_out`` outputs (any number of logits)."""

    def __init__(self, n_features=2, n_classes=2, n_out=None):
        super().__init__()
        self.lin = nn.Linear(n_features, n_classes if n_out is None else n_out)

    def forward(self, X):
        return self.lin(X)


class _ThreeLogits(_Linear):
    def __init__(self, n_features=2, n_classes=2):
        super().__init__(n_features, n_classes, n_out=3)


class _OneLogit(_Linear):
    def __init__(self, n_features=2, n_classes=2):
        super().__init__(n_features, n_classes, n_out=1)


class _OneD(_Linear):
    def forward(self, X):
        return self.lin(X)[:, 0]


class _NaNOut(_Linear):
    def forward(self, X):
        return self.lin(X) * float("nan")


class _IntOut(_Linear):
    def forward(self, X):
        return self.lin(X).argmax(dim=1, keepdim=True).repeat(1, 2)


class _Float64(_Linear):
    """A module whose weights, and therefore logits, are float64."""

    def __init__(self, n_features=2, n_classes=2):
        super().__init__(n_features, n_classes)
        self.double()

    def forward(self, X):
        return self.lin(X.to(torch.float64))


class _Raising(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("boom in a user callback")


# -- running a case -----------------------------------------------------------------------

RAW_PACKAGES = ("torch", "numpy", "joblib", "scipy")


def leaked(exc, names=()):
    """Whether ``exc`` is a raw exception of torch, numpy or joblib reaching the user.

    It is raw when its message names none of ``names`` (the parameter at fault) and

    * its type comes from one of those packages, or
    * it was raised inside one of them (innermost frame of its traceback), or
    * it came out of sklearn_ct code that did not raise it deliberately: the innermost
      frame is in sklearn_ct but its line is not a ``raise`` statement, i.e. a torch or
      numpy C routine (or an implicit AttributeError, IndexError, ...) failed there.

    Exceptions raised deliberately by sklearn_ct, those of scikit-learn or skorch (whose
    conventions the estimators follow), and those of a user's own code are not raw.
    """
    if any(name in str(exc) for name in names):
        return False
    module = type(exc).__module__ or ""
    if module.split(".")[0] in RAW_PACKAGES:
        return True
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return False
    last = frames[-1]
    path = last.filename.replace("\\", "/")
    if any(f"/{pkg}/" in path for pkg in RAW_PACKAGES):
        return True
    if "/sklearn_ct/" in path:
        return not (last.line or "").lstrip().startswith("raise")
    return False


@dataclass
class Case:
    """One bad input: see the module docstring."""

    id: str
    item: int
    call: Callable[[Env], Any]
    exc: Any
    match: str = ""
    state: str = None
    xfail: str = None
    names: tuple = ()
    check: Callable[[Any], str] = None  # returns a failure message, or None
    skip: str = None
    marks: list = field(default_factory=list)


@dataclass
class Outcome:
    kind: str     # clear | handled | raw | silent | corrupted
    message: str = ""

    @property
    def ok(self):
        return self.kind in ("clear", "handled")


def _freeze(value):
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.kind, value.shape, value.tolist())
    if isinstance(value, (int, float, str, bool, np.integer, np.floating, type(None))):
        return ("value", value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float, str)) for v in value):
        return ("value", tuple(value))
    return ("object", id(value))


PROBE = _data(12, seed=1)[0]


def snapshot(obj):
    """Fitted attributes, weights and outputs of a fitted object."""
    attrs = {k: _freeze(v) for k, v in vars(obj).items()
             if k.endswith("_") and not k.startswith("_")}
    out = {"attrs": attrs}
    if isinstance(obj, CTClassifier):
        out["weights"] = [v.detach().clone() for v in obj.net_.module_.state_dict().values()]
        out["output"] = obj.predict_proba(PROBE)
    elif isinstance(obj, CounterfactualExplainer):
        out["output"] = np.asarray(obj.transform(PROBE))
    elif isinstance(obj, REVISEGenerator):
        out["weights"] = [v.detach().clone() for v in obj.vae_.state_dict().values()]
    return out


def compare(before, obj):
    """A message describing how ``obj`` changed since ``before``, or None."""
    attrs = {k: _freeze(v) for k, v in vars(obj).items()
             if k.endswith("_") and not k.startswith("_")}
    if set(attrs) != set(before["attrs"]):
        return (f"fitted attributes changed: {sorted(set(attrs) ^ set(before['attrs']))}")
    changed = [k for k in attrs if attrs[k] != before["attrs"][k]]
    if changed:
        return f"fitted attributes changed: {changed}"
    try:
        after = snapshot(obj)
    except Exception as exc:  # noqa: BLE001 - a corrupted object may fail anywhere
        return f"the object is unusable afterwards: {type(exc).__name__}: {exc}"
    if "weights" in before:
        same = len(before["weights"]) == len(after["weights"]) and all(
            a.shape == b.shape and torch.equal(a, b)
            for a, b in zip(before["weights"], after["weights"]))
        if not same:
            return "the weights changed"
    if "output" in before and not np.array_equal(before["output"], after["output"]):
        return "the predictions / counterfactuals changed"
    return None


def _still_unfitted(obj):
    X = PROBE
    method = None
    for name in ("predict", "transform"):
        if hasattr(obj, name):
            method = getattr(obj, name)
            break
    try:
        if method is not None:
            method(X)
        else:
            from sklearn.utils.validation import check_is_fitted

            check_is_fitted(obj)
    except NotFittedError:
        return None
    except Exception as exc:  # noqa: BLE001
        return f"half-fitted: {type(exc).__name__}: {exc}"
    return "the failed fit left a fitted object behind"


def run_case(case, env):
    """Run one case and classify its outcome."""
    target = None
    if case.state in ("clf", "explainer"):
        target = getattr(env, case.state)
    elif case.state == "generator":
        target = env.revise
    before = snapshot(target) if target is not None else None
    caught, result = None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = case.call(env)
        except Exception as exc:  # noqa: BLE001
            caught = exc
    if case.exc is None:
        if caught is not None:
            return Outcome("raw", f"raised {type(caught).__name__}: {caught}")
        message = case.check(result) if case.check else None
        if message:
            return Outcome("silent", message)
        return Outcome("handled")
    if caught is None:
        return Outcome("silent", f"no error; expected {case.exc}")
    text = f"{type(caught).__name__}: {caught}"
    if leaked(caught, case.names):
        return Outcome("raw", f"raw exception: {text}")
    if not isinstance(caught, case.exc):
        return Outcome("raw", f"expected {case.exc}, got {text}")
    if not re.search(case.match, str(caught)):
        return Outcome("raw", f"message does not match {case.match!r}: {text}")
    if case.check is not None:
        message = case.check(caught)
        if message:
            return Outcome("raw", message)
    if target is not None:
        message = compare(before, target)
        if message:
            return Outcome("corrupted", message)
    if env.fresh is not None:
        message = _still_unfitted(env.fresh)
        if message:
            return Outcome("corrupted", message)
    return Outcome("clear")


# -- helpers for the cases ----------------------------------------------------------------


def _fit_with(env, **params):
    return fresh(env, _clf(**params)).fit(env.X, env.y)


def _refit(env, X=None, y=None, **params):
    X = env.X if X is None else X
    y = env.y if y is None else y
    return env.clf.set_params(**params).fit(X, y)


def _wide(env, d=3):
    return _data(N_ROWS, d=d, seed=2)


def _explain_with(env, **params):
    return fresh(env, CounterfactualExplainer(env.clf, **{"max_steps": 10, **params})).fit(env.X)


def _refit_explainer(env, X=None, **params):
    return env.explainer.set_params(**params).fit(env.X if X is None else X)


def _outside_rows():
    rng = np.random.RandomState(3)
    return rng.uniform(-4.0, 4.0, size=(40, 2))


def _explained_refit_wider(env):
    model = _clf().fit(env.X, env.y)
    explainer = CounterfactualExplainer(model, max_steps=5).fit(env.X)
    X3, y3 = _wide(env)
    model.fit(X3, y3)
    return explainer.transform(env.X[:5])


def _model_mutability_outside(env):
    model = _clf(mutability={0: "none", 1: "increase"}).fit(env.X, env.y)
    explainer = CounterfactualExplainer(model, max_steps=20, random_state=0).fit(env.X)
    X = _outside_rows()
    return X, explainer.transform(X)


def _check_model_mutability(result):
    X, cf = result
    moved = int((cf[:, 0] != X[:, 0]).sum())
    down = int((cf[:, 1] < X[:, 1]).sum())
    if moved or down:
        return (f"{moved} of {len(X)} rows changed the immutable feature 0, {down} decreased "
                "the increase-only feature 1")
    return None


def _already_target_outside(env):
    explainer = CounterfactualExplainer(env.clf, max_steps=5, random_state=0).fit(env.X)
    X = _outside_rows()
    target = env.clf.predict(X)
    return X, explainer.explain(X, target=target)


def _check_already_target(result):
    X, res = result
    moved = int((np.asarray(res.counterfactuals) != X).any(axis=1).sum())
    if not res.already_target.all():
        return "rows at their target were not flagged already_target"
    if moved:
        return f"{moved} of {len(X)} rows already at their target were moved"
    return None


def _float64_module(env):
    return fresh(env, _clf(module=_Float64)).fit(env.X, env.y)


def _float64_module_objective(objective):
    def call(env):
        return fresh(env, _clf(module=_Float64, objective=objective,
                               sgld_buffer_size=64)).fit(env.X, env.y)

    return call


def _check_fitted(result):
    proba = result.predict_proba(PROBE)
    if proba.shape != (len(PROBE), 2) or not np.isfinite(proba).all():
        return f"bad predict_proba after fit: shape {proba.shape}"
    return None


def _hash_twice(env, **params):
    # A model as fit returns it (a deep copy happens to hash stably).
    clf = _clf(**params).fit(env.X, env.y)
    return [joblib.hash(clf) for _ in range(5)]


def _check_same_hash(result):
    n = len(set(result))
    return None if n == 1 else f"joblib.hash gave {n} values in {len(result)} calls"


def _mixed_frame():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({
        "a": rng.normal(size=80),
        "b": rng.normal(size=80),
        "colour": rng.choice(["red", "green", "blue"], size=80),
    })
    y = (frame["a"] + (frame["colour"] == "red") > 0.5).astype(int)
    return frame, y


def _mixed_pipeline_messages():
    frame, y = _mixed_frame()
    pre = ColumnTransformer([("num", StandardScaler(), ["a", "b"]),
                             ("cat", OneHotEncoder(sparse_output=False), ["colour"])])
    pipe = make_pipeline(pre, _clf(objective="vanilla")).fit(frame, y)
    explainer = CounterfactualExplainer(pipe, max_steps=5, random_state=0).fit(frame)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        explainer.transform(frame.iloc[:10])
    return [str(w.message) for w in caught]


def _mixed_pipeline_transform(env):
    # torch emits its warning about read-only arrays once per process: look for it in a
    # fresh one.
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import test_bad_input as t; "
            "print(json.dumps(t._mixed_pipeline_messages()))")
    environ = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", code, os.path.dirname(__file__)],
                          capture_output=True, text=True, env=environ, timeout=600,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _check_no_writable_warning(messages):
    bad = [m for m in messages if "not writable" in m]
    return f"warning: {bad[0][:80]}" if bad else None


def _nan_module_explain(env):
    explainer = CounterfactualExplainer(_NaNOut(), max_steps=5).fit(env.X)
    return explainer.explain(env.X[:5])


def _unfitted_scorer(env):
    scorer = M.make_counterfactual_scorer("cost", random_state=0)
    return scorer(_clf(), env.X, env.y)


def _revise_fit_nan_after_fit(env):
    X = env.X.copy()
    X[0, 0] = np.nan
    return env.revise.fit(X)


def _raw_runs():
    return pd.DataFrame({"model": ["a", "a"], "measure": ["cost", "cost"], "run": [0, 1],
                         "value": [1.0, 2.0]})


def _gs_fit_nan(env):
    X = env.X.copy()
    X[0, 0] = np.nan
    return fresh(env, GrowingSpheresGenerator()).fit(X)


def _onehot_frame(env):
    """The data with a one-hot categorical feature ``c`` (columns ``c_a``, ``c_b``)."""
    cat = (np.arange(env.X.shape[0]) % 3 == 0).astype(float)
    return pd.DataFrame({"x0": env.X[:, 0], "x1": env.X[:, 1], "c_a": cat, "c_b": 1 - cat})


def _fit_groups(env, **params):
    return fresh(env, _clf(**params)).fit(_onehot_frame(env), env.y)


def _dask_explain_path(env):
    import dask.array as da

    return env.explainer.explain(da.from_array(env.X, chunks=20), return_path=True)


# -- the command line ---------------------------------------------------------------------

CLI_TINY = ["--datasets", "ls", "--runs", "2", "--individuals", "8", "--epochs", "2",
            "--train-rows", "120", "--no-figures"]


class CLIExit(Exception):
    """A failed run of the ``sklearn-ct`` command (exit status, stdout, stderr)."""

    def __init__(self, code, stdout, stderr):
        super().__init__(stderr)
        self.code, self.stdout, self.stderr = code, stdout, stderr


def _cli(env, *args):
    environ = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run(
        [sys.executable, "-m", "sklearn_ct", "experiment", *CLI_TINY, *args],
        capture_output=True, text=True, cwd=env.tmp, env=environ, timeout=600,
    )
    if proc.returncode != 0:
        raise CLIExit(proc.returncode, proc.stdout, proc.stderr)
    return proc


def _usage_error(exc):
    """The command failed as a usage error: exit 2, usage, no traceback, nothing trained."""
    problems = []
    if exc.code != 2:
        problems.append(f"exit status {exc.code}")
    if "Traceback" in exc.stderr:
        problems.append("a traceback: " + exc.stderr.strip().splitlines()[-1][:120])
    if "usage:" not in exc.stderr:
        problems.append("no usage message")
    if "Training" in exc.stdout:
        problems.append("models were trained first")
    return "; ".join(problems) or None


def _not_a_dir(env):
    path = env.tmp / "a_file.txt"
    path.write_text("x")
    return str(path / "results")


def _existing_file(env):
    path = env.tmp / "results.csv"
    path.write_text("x")
    return str(path)


def _cli_case(id, args, match):
    """A command-line case; ``args`` may contain callables of the environment."""

    def call(env):
        return _cli(env, *[a(env) if callable(a) else a for a in args])

    return Case(id, 7, call, CLIExit, match, check=_usage_error)


# -- the catalogue ------------------------------------------------------------------------

E = ValueError
TE = TypeError
VT = (ValueError, TypeError)
NF = NotFittedError
CUDA = torch.cuda.is_available()

CASES = [
    # ---- CTClassifier: parameters (validated by scikit-learn before fit) ----------------
    Case("clf-lambda_div-negative", 0, lambda e: _fit_with(e, lambda_div=-1), E,
         "lambda_div", "fresh"),
    Case("clf-lambda_reg-string", 0, lambda e: _fit_with(e, lambda_reg="a"), VT,
         "lambda_reg", "fresh"),
    Case("clf-lambda_adv-negative", 0, lambda e: _fit_with(e, lambda_adv=-0.1), E,
         "lambda_adv", "fresh"),
    Case("clf-objective-unknown", 0, lambda e: _fit_with(e, objective="foo"), E,
         "objective", "fresh"),
    Case("clf-activation-unknown", 0, lambda e: _fit_with(e, activation="swish"), E,
         "activation", "fresh"),
    Case("clf-generator-unknown", 0, lambda e: _fit_with(e, generator="nope"), E,
         "generator", "fresh"),
    Case("clf-n_counterfactuals-zero", 0, lambda e: _fit_with(e, n_counterfactuals=0), E,
         "n_counterfactuals", "fresh"),
    Case("clf-burnin-above-1", 0, lambda e: _fit_with(e, burnin=1.5), E, "burnin", "fresh"),
    Case("clf-decision_threshold-1", 0, lambda e: _fit_with(e, decision_threshold=1.0), E,
         "decision_threshold", "fresh"),
    Case("clf-max_iter-zero", 0, lambda e: _fit_with(e, max_iter=0), E, "max_iter", "fresh"),
    Case("clf-step_size-zero", 0, lambda e: _fit_with(e, step_size=0), E, "step_size",
         "fresh"),
    Case("clf-adversarial_epsilon-negative", 0,
         lambda e: _fit_with(e, adversarial_epsilon=-1), E, "adversarial_epsilon", "fresh"),
    Case("clf-max_epochs-zero", 0, lambda e: _fit_with(e, max_epochs=0), E, "max_epochs",
         "fresh"),
    Case("clf-batch_size-zero", 0, lambda e: _fit_with(e, batch_size=0), E, "batch_size",
         "fresh"),
    Case("clf-lr-zero", 0, lambda e: _fit_with(e, lr=0), E, "lr", "fresh"),
    Case("clf-validation_fraction-1", 0, lambda e: _fit_with(e, validation_fraction=1.0), E,
         "validation_fraction", "fresh"),
    Case("clf-callbacks-not-list", 0, lambda e: _fit_with(e, callbacks="x"), E, "callbacks",
         "fresh"),
    Case("clf-random_state-string", 0, lambda e: _fit_with(e, random_state="seed"), E,
         "random_state", "fresh"),
    Case("clf-optimizer-not-callable", 0, lambda e: _fit_with(e, optimizer=3), E,
         "optimizer", "fresh"),
    Case("clf-module-int", 0, lambda e: _fit_with(e, module=3), E, "module", "fresh"),
    Case("clf-module-non-module-class", 1, lambda e: _fit_with(e, module=int), TE,
         "module must be", "fresh"),
    Case("clf-module_params-unknown", 1, lambda e: _fit_with(e, module_params={"bogus": 1}),
         TE, "bogus", "fresh", names=("bogus",)),
    Case("clf-module_params-with-instance", 1,
         lambda e: _fit_with(e, module=_Linear(), module_params={"n_out": 2}), E,
         "module_params", "fresh"),
    Case("clf-domain-string", 0, lambda e: _fit_with(e, domain="auto"), E, "domain",
         "fresh"),
    Case("clf-mutability-int", 0, lambda e: _fit_with(e, mutability=3), E, "mutability",
         "fresh"),
    Case("clf-device-unknown", 1, lambda e: _fit_with(e, device="nonsense"), E,
         "Unknown torch device", "fresh"),

    # ---- CTClassifier: hidden layers and devices (item 6) --------------------------------
    Case("clf-hidden-negative", 6, lambda e: _fit_with(e, hidden_layer_sizes=(-1,)), E,
         "hidden_layer_sizes", "fresh"),
    Case("clf-hidden-zero", 6, lambda e: _fit_with(e, hidden_layer_sizes=(0,)), E,
         "hidden_layer_sizes", "fresh"),
    Case("clf-hidden-float", 6, lambda e: _fit_with(e, hidden_layer_sizes=(2.7,)), E,
         "hidden_layer_sizes", "fresh"),
    Case("clf-hidden-string", 6, lambda e: _fit_with(e, hidden_layer_sizes="ab"), E,
         "hidden_layer_sizes", "fresh"),
    Case("clf-hidden-nested", 6, lambda e: _fit_with(e, hidden_layer_sizes=[[4]]), E,
         "hidden_layer_sizes", "fresh"),
    Case("clf-device-cuda-without-cuda", 6, lambda e: _fit_with(e, device="cuda"), E,
         "(?i)cuda", "fresh", skip="CUDA is available" if CUDA else None),

    # ---- CTClassifier: constraints (fresh fit) ------------------------------------------
    Case("clf-mutability-index-out-of-range", 1, lambda e: _fit_with(e, mutability={7: "none"}),
         E, "feature index 7", "fresh"),
    Case("clf-mutability-unknown-direction", 1,
         lambda e: _fit_with(e, mutability={0: "sideways"}), E,
         "Unknown mutability direction", "fresh"),
    Case("clf-mutability-name-on-array", 1, lambda e: _fit_with(e, mutability={"age": "none"}),
         E, "by name", "fresh"),
    Case("clf-mutability-string", 0, lambda e: _fit_with(e, mutability="none"), VT,
         "mutability", "fresh"),
    Case("clf-mutability-wrong-length", 1, lambda e: _fit_with(e, mutability=["none"]), E,
         "one direction per feature", "fresh"),
    Case("clf-mutability-float-key", 1, lambda e: _fit_with(e, mutability={1.5: "none"}), TE,
         "keys must be", "fresh"),
    Case("clf-domain-low-above-high", 1, lambda e: _fit_with(e, domain=(1, 0)), E,
         "low > high", "fresh"),
    Case("clf-domain-wrong-shape", 1, lambda e: _fit_with(e, domain=np.zeros((3, 2))), E,
         "domain must be", "fresh"),
    Case("clf-domain-nan", 1, lambda e: _fit_with(e, domain={0: (0.0, np.nan)}), E,
         "NaN", "fresh"),
    Case("clf-domain-excludes-data", 6, lambda e: _fit_with(e, domain=(10, 20)), E,
         "(?i)domain.*(exclude|outside|contain)", "fresh"),
    Case("clf-domain-excludes-one-feature", 6,
         lambda e: _fit_with(e, domain={1: (5.0, 6.0)}), E,
         "(?i)domain.*(exclude|outside|contain).*1", "fresh"),
    Case("clf-generator-param-invalid", 1,
         lambda e: _fit_with(e, generator=GenericGenerator(lambda_cost=-1)), E, "lambda_cost",
         "fresh"),

    # ---- CTClassifier: training data -----------------------------------------------------
    Case("clf-X-nan", 0, lambda e: fresh(e, _clf()).fit(np.where(e.X > 1.5, np.nan, e.X), e.y),
         E, "NaN", "fresh"),
    Case("clf-X-inf", 0, lambda e: fresh(e, _clf()).fit(np.where(e.X > 1.5, np.inf, e.X), e.y),
         E, "(?i)infinity", "fresh"),
    Case("clf-X-1d", 0, lambda e: fresh(e, _clf()).fit(e.X[:, 0], e.y), E, "2D array",
         "fresh"),
    Case("clf-X-y-lengths", 0, lambda e: fresh(e, _clf()).fit(e.X, e.y[:-1]), E,
         "inconsistent numbers of samples", "fresh"),
    Case("clf-X-strings", 0, lambda e: fresh(e, _clf()).fit(e.X.astype(str).astype(object)
                                                            + "x", e.y), E,
         "(?i)could not convert|string", "fresh"),
    Case("clf-X-empty", 0, lambda e: fresh(e, _clf()).fit(e.X[:0], e.y[:0]), E,
         "0 sample", "fresh"),
    Case("clf-X-no-features", 0, lambda e: fresh(e, _clf()).fit(e.X[:, :0], e.y), E,
         "0 feature", "fresh"),
    Case("clf-y-nan", 0, lambda e: fresh(e, _clf()).fit(e.X, np.where(e.y > 0, np.nan, 0.0)),
         E, "NaN", "fresh"),
    Case("clf-y-2d", 0, lambda e: fresh(e, _clf()).fit(e.X, np.column_stack([e.y, e.y])), E,
         "(?i)1d array|y should be", "fresh"),
    Case("clf-y-one-class", 1, lambda e: fresh(e, _clf()).fit(e.X, np.zeros(N_ROWS, int)), E,
         "at least 2 classes", "fresh"),
    Case("clf-y-continuous", 1, lambda e: fresh(e, _clf()).fit(e.X, e.X[:, 0]), E,
         "(?i)unknown label type|continuous", "fresh"),
    Case("clf-validation-split-drops-class", 1,
         lambda e: fresh(e, _clf(validation_fraction=0.5)).fit(
             e.X, np.r_[np.zeros(N_ROWS - 1, int), 1]), E,
         "(?i)no training rows left|least populated class", "fresh"),

    # ---- CTClassifier: modules (item 4) --------------------------------------------------
    Case("clf-module-three-logits", 4, lambda e: _fit_with(e, module=_ThreeLogits), E,
         r"(?i)module.*\(.*3\).*\(.*2\)|module.*3.*2 classes", "fresh"),
    Case("clf-module-one-logit", 4, lambda e: _fit_with(e, module=_OneLogit), E,
         r"(?i)module.*(shape|logit)", "fresh"),
    Case("clf-module-1d-output", 4, lambda e: _fit_with(e, module=_OneD), E,
         r"(?i)module.*shape", "fresh"),
    Case("clf-module-integer-output", 4, lambda e: _fit_with(e, module=_IntOut), E,
         r"(?i)module.*(float|dtype)", "fresh"),
    Case("clf-module-nan-output", 5, lambda e: _fit_with(e, module=_NaNOut), E,
         r"(?i)module.*(finite|nan)", "fresh"),
    Case("clf-module-wrong-input-width", 4,
         lambda e: _fit_with(e, module=_Linear(n_features=5)), E,
         r"(?i)module.*(2 features|input)", "fresh"),
    Case("clf-module-float64-trains", 4, _float64_module, None, check=_check_fitted),

    # ---- CTClassifier: failed refit of a fitted model (item 1) --------------------------
    Case("refit-string-labels-bad-mutability", 1,
         lambda e: _refit(e, y=np.where(e.y > 0, "yes", "no"), mutability={7: "none"}), E,
         "feature index 7", "clf"),
    Case("refit-wider-bad-mutability", 1,
         lambda e: _refit(e, *_wide(e), mutability={7: "none"}), E, "feature index 7", "clf"),
    Case("refit-same-data-bad-domain", 1, lambda e: _refit(e, domain=(1, 0)), E,
         "low > high", "clf"),
    Case("refit-shifted-data-bad-domain", 1,
         lambda e: _refit(e, X=e.X + 5, domain=(1, 0)), E, "low > high", "clf"),
    Case("refit-hidden-negative", 1, lambda e: _refit(e, hidden_layer_sizes=(-1,)), E,
         "hidden_layer_sizes", "clf"),
    Case("refit-three-logit-module", 1, lambda e: _refit(e, module=_ThreeLogits), E,
         r"(?i)module", "clf"),
    Case("refit-nan-module", 1, lambda e: _refit(e, module=_NaNOut), E,
         r"(?i)module.*(finite|nan)", "clf"),
    Case("refit-device-cuda", 1, lambda e: _refit(e, device="cuda"), E, "(?i)cuda", "clf",
         skip="CUDA is available" if CUDA else None),
    Case("refit-device-unknown", 1, lambda e: _refit(e, device="nonsense"), E,
         "Unknown torch device", "clf"),
    Case("refit-one-class", 1, lambda e: _refit(e, y=np.zeros(N_ROWS, int)), E,
         "at least 2 classes", "clf"),
    Case("refit-wider-one-class", 1,
         lambda e: _refit(e, X=_wide(e)[0], y=np.zeros(N_ROWS, int)), E,
         "at least 2 classes", "clf"),
    Case("refit-generator-param-invalid", 1,
         lambda e: _refit(e, generator=GenericGenerator(lambda_cost=-1)), E, "lambda_cost",
         "clf"),
    Case("refit-warm-start-other-classes", 1,
         lambda e: _refit(e, y=e.y + 5, warm_start=True), E, "same classes", "clf"),
    Case("refit-warm-start-wider", 1, lambda e: _refit(e, *_wide(e), warm_start=True), E,
         "3 features", "clf"),
    Case("refit-callback-raises", 1,
         lambda e: _refit(e, X=e.X + 1, callbacks=[_Raising()]), RuntimeError,
         "boom in a user callback", "clf"),

    # ---- CTClassifier: the objectives CT is compared with (issue 13) --------------------
    Case("clf-jem-sgld_step_size-negative", 0,
         lambda e: _fit_with(e, objective="jem", sgld_step_size=-1.0), E, "sgld_step_size",
         "fresh"),
    Case("clf-jem-sgld_steps-zero", 0, lambda e: _fit_with(e, objective="jem", sgld_steps=0),
         E, "sgld_steps", "fresh"),
    Case("clf-jem-sgld_noise_std-negative", 0,
         lambda e: _fit_with(e, objective="jem", sgld_noise_std=-0.1), E, "sgld_noise_std",
         "fresh"),
    Case("clf-jem-sgld_buffer_size-zero", 0,
         lambda e: _fit_with(e, objective="jem", sgld_buffer_size=0), E, "sgld_buffer_size",
         "fresh"),
    Case("clf-jem-sgld_reinit_rate-above-1", 0,
         lambda e: _fit_with(e, objective="jem", sgld_reinit_rate=1.5), E,
         "sgld_reinit_rate", "fresh"),
    Case("clf-pgd-pgd_steps-zero", 0, lambda e: _fit_with(e, objective="pgd", pgd_steps=0),
         E, "pgd_steps", "fresh"),
    Case("clf-pgd-pgd_step_size-zero", 0,
         lambda e: _fit_with(e, objective="pgd", pgd_step_size=0.0), E, "pgd_step_size",
         "fresh"),
    Case("clf-ecco_conformal-coverage-above-1", 0,
         lambda e: _fit_with(e, generator=ECCCoGenerator(coverage=1.5)), E, "coverage",
         "fresh"),
    Case("clf-ecco_conformal-coverage-zero", 0,
         lambda e: _fit_with(e, generator=ECCCoGenerator(coverage=0.0)), E, "coverage",
         "fresh"),
    Case("clf-ecco_conformal-calibration_size-1.0", 0,
         lambda e: _fit_with(e, generator=ECCCoGenerator(calibration_size=1.0)), E,
         "calibration_size", "fresh"),
    Case("clf-ecco_conformal-hold-out-drops-class", 6,
         lambda e: _fit_with(e, generator=ECCCoGenerator(calibration_size=N_ROWS - 1)), E,
         "(?i)no training rows left.*calibration", "fresh"),
    Case("clf-ecco_conformal-calibrates-on-all-rows", 6,
         lambda e: _fit_with(e, generator=ECCCoGenerator(calibration_size=N_ROWS)), None,
         check=_check_fitted),
    Case("clf-jem-module-nan-output", 4, lambda e: _fit_with(e, objective="jem",
                                                             module=_NaNOut), E,
         r"(?i)module.*(finite|nan)", "fresh"),
    Case("clf-pgd-module-three-logits", 4,
         lambda e: _fit_with(e, objective="pgd", module=_ThreeLogits), E,
         r"(?i)module.*\(.*3\).*\(.*2\)|module.*3.*2 classes", "fresh"),
    Case("clf-jem-module-float64-trains", 4, _float64_module_objective("jem"), None,
         check=_check_fitted),
    Case("clf-pgd-module-float64-trains", 4, _float64_module_objective("pgd"), None,
         check=_check_fitted),
    Case("refit-jem-sgld_step_size-negative", 1,
         lambda e: _refit(e, objective="jem", sgld_step_size=-1.0), E, "sgld_step_size",
         "clf"),
    Case("refit-pgd-pgd_steps-zero", 1, lambda e: _refit(e, objective="pgd", pgd_steps=0),
         E, "pgd_steps", "clf"),
    Case("refit-ecco_conformal-coverage-above-1", 1,
         lambda e: _refit(e, generator=ECCCoGenerator(coverage=1.5)), E, "coverage", "clf"),
    Case("refit-jem-callback-raises", 1,
         lambda e: _refit(e, X=e.X + 1, objective="jem", sgld_buffer_size=64,
                          callbacks=[_Raising()]), RuntimeError, "boom in a user callback",
         "clf"),
    Case("refit-pgd-callback-raises", 1,
         lambda e: _refit(e, X=e.X + 1, objective="pgd", callbacks=[_Raising()]),
         RuntimeError, "boom in a user callback", "clf"),
    Case("refit-ecco_conformal-callback-raises", 1,
         lambda e: _refit(e, X=e.X + 1, generator=ECCCoGenerator(),
                          callbacks=[_Raising()]), RuntimeError, "boom in a user callback",
         "clf"),
    Case("joblib-hash-stable-jem", 8, lambda e: _hash_twice(e, objective="jem",
                                                            sgld_buffer_size=64), None,
         check=_check_same_hash),
    Case("joblib-hash-stable-pgd", 8, lambda e: _hash_twice(e, objective="pgd"), None,
         check=_check_same_hash),

    # ---- one-hot groups and several counterfactuals per row (issue 12) -------------------
    Case("clf-categorical_groups-unknown-column", 1,
         lambda e: _fit_groups(e, categorical_groups=[["c_a", "c_x"]]), E,
         "categorical_groups.*'c_x'", "fresh"),
    Case("clf-categorical_groups-index-out-of-range", 1,
         lambda e: _fit_with(e, categorical_groups=[[0, 7]]), E, "feature index 7", "fresh"),
    Case("clf-categorical_groups-not-onehot", 1,
         lambda e: _fit_groups(e, categorical_groups=[["x0", "x1"]]), E,
         "(?i)not one-hot", "fresh"),
    Case("clf-categorical_groups-string", 0,
         lambda e: _fit_with(e, categorical_groups="yes"), E, "categorical_groups", "fresh"),
    Case("clf-categorical_groups-mixed-mutability", 1,
         lambda e: _fit_groups(e, categorical_groups=[["c_a", "c_b"]],
                               mutability={"c_a": "none"}), E,
         "wholly 'none' or wholly 'both'", "fresh"),
    Case("refit-categorical_groups-unknown-column", 1,
         lambda e: _refit(e, categorical_groups=[[0, 7]]), E, "feature index 7", "clf"),
    Case("explainer-n_per_row-zero", 0, lambda e: _explain_with(e, n_per_row=0), E,
         "n_per_row", "fresh"),
    Case("explainer-diversity_weight-negative", 0,
         lambda e: _explain_with(e, diversity_weight=-0.5), E, "diversity_weight", "fresh"),
    Case("explainer-categorical_snapping-unknown", 0,
         lambda e: _explain_with(e, categorical_snapping="middle"), E,
         "categorical_snapping", "fresh"),
    Case("explain-dask-return-path", 0, _dask_explain_path, E, "return_path", "explainer"),
    Case("scorer-diversity-one-per-row", 0,
         lambda e: M.make_counterfactual_scorer(
             "counterfactual_diversity",
             explainer=CounterfactualExplainer(None, n_per_row=1, max_steps=5))(
                 e.clf, e.X, e.y), E, "n_per_row >= 2", "clf"),
    Case("diversity-not-sets", 0, lambda e: M.counterfactual_diversity(e.X), E,
         "several counterfactuals per factual"),

    # ---- CTClassifier: prediction --------------------------------------------------------
    Case("predict-unfitted", 0, lambda e: _clf().predict(e.X), NF, "not fitted"),
    Case("predict_proba-unfitted", 0, lambda e: _clf().predict_proba(e.X), NF, "not fitted"),
    Case("logits-unfitted", 0, lambda e: _clf().logits(e.X), NF, "not fitted"),
    Case("decision_function-unfitted", 0, lambda e: _clf().decision_function(e.X), NF,
         "not fitted"),
    Case("history-unfitted", 0, lambda e: _clf().history_, NF, "not fitted"),
    Case("predict-wider", 0, lambda e: e.clf.predict(np.zeros((3, 3))), E, "3 features",
         "clf"),
    Case("predict_proba-nan", 0, lambda e: e.clf.predict_proba(np.full((2, 2), np.nan)), E,
         "NaN", "clf"),
    Case("logits-1d", 0, lambda e: e.clf.logits(e.X[:, 0]), E, "2D array", "clf"),
    Case("predict-strings", 0, lambda e: e.clf.predict(np.array([["a", "b"]], dtype=object)),
         E, "(?i)could not convert|string", "clf"),
    Case("predict-empty", 0, lambda e: e.clf.predict(e.X[:0]), E, "0 sample", "clf"),
    Case("predict-frame-on-array-model", 0,
         lambda e: e.clf.predict(pd.DataFrame(e.X, columns=["a", "b"])), None),

    # ---- CounterfactualExplainer ---------------------------------------------------------
    Case("explainer-estimator-string", 1,
         lambda e: fresh(e, CounterfactualExplainer("model")).fit(e.X), TE, "estimator must",
         "fresh"),
    Case("explainer-estimator-none", 0, lambda e: fresh(e, CounterfactualExplainer(None))
         .fit(e.X), E, "estimator is None", "fresh"),
    Case("explainer-estimator-without-proba", 1,
         lambda e: fresh(e, CounterfactualExplainer(LinearSVC().fit(e.X, e.y))).fit(e.X),
         TE, "predict_proba", "fresh"),
    Case("explainer-forest-gradient-generator", 1,
         lambda e: fresh(e, CounterfactualExplainer(
             RandomForestClassifier(n_estimators=3, random_state=0).fit(e.X, e.y))).fit(e.X),
         E, "differentiable", "fresh"),
    Case("explainer-unfitted-without-y", 1,
         lambda e: fresh(e, CounterfactualExplainer(_clf())).fit(e.X), E, "requires y",
         "fresh"),
    Case("explainer-target-unknown", 1, lambda e: _explain_with(e, target="z"), E,
         "Unknown target label 'z'", "fresh"),
    Case("explainer-target-2d", 1, lambda e: _explain_with(e, target=[[0, 1]]), E,
         "1-d array", "fresh"),
    Case("explainer-target-none", 1, lambda e: _explain_with(e, target=None), E,
         "got None", "fresh"),
    Case("explain-target-wrong-length", 0,
         lambda e: e.explainer.explain(e.X[:5], target=[0, 1]), E, "one label per row",
         "explainer"),
    Case("explainer-mutability-unknown-feature", 1,
         lambda e: _explain_with(e, mutability={9: "none"}), E, "feature index 9", "fresh"),
    Case("explainer-mutability-unknown-direction", 1,
         lambda e: _explain_with(e, mutability={0: "up"}), E, "Unknown mutability direction",
         "fresh"),
    Case("explainer-domain-low-above-high", 1, lambda e: _explain_with(e, domain=(1, 0)), E,
         "low > high", "fresh"),
    Case("explainer-domain-excludes-data", 6, lambda e: _explain_with(e, domain=(10, 20)), E,
         "(?i)domain.*(exclude|outside|contain)", "fresh"),
    Case("explainer-groups-out-of-range", 1,
         lambda e: _explain_with(e, categorical_groups=[[0, 5]]), VT, "(?i)categorical_groups|"
         "feature index 5", "fresh"),
    Case("explainer-groups-not-onehot", 1,
         lambda e: _explain_with(e, categorical_groups=[[0, 1]]), E, "categorical_groups",
         "fresh"),
    Case("explainer-max_iter-zero", 0, lambda e: _explain_with(e, max_iter=0), E, "max_iter",
         "fresh"),
    Case("explainer-threshold-zero", 0, lambda e: _explain_with(e, decision_threshold=0), E,
         "decision_threshold", "fresh"),
    Case("explainer-generator-unknown", 0, lambda e: _explain_with(e, generator="nope"), E,
         "generator", "fresh"),
    Case("explainer-module-classes-mismatch", 1,
         lambda e: fresh(e, CounterfactualExplainer(_Linear(), classes=["a", "b", "c"]))
         .fit(e.X), E, "2 logits, but 3 classes", "fresh"),
    Case("explainer-module-one-logit", 1,
         lambda e: fresh(e, CounterfactualExplainer(_OneLogit())).fit(e.X), E,
         "at least 2 classes", "fresh"),
    Case("explainer-module-wrong-width", 1,
         lambda e: fresh(e, CounterfactualExplainer(_Linear(n_features=5))).fit(e.X), E,
         "could not be evaluated", "fresh"),
    Case("explainer-generator-param-invalid", 1,
         lambda e: _explain_with(e, generator=ECCoGenerator(lambda_energy=-1)), E,
         "lambda_energy", "fresh"),
    Case("explainer-nan-module-output", 5, _nan_module_explain, E, "(?i)(finite|nan)"),
    Case("explainer-model-refit-wider", 6, _explained_refit_wider, E,
         "(?i)(3 features|refit|changed)"),
    Case("transform-unfitted", 0, lambda e: CounterfactualExplainer(e.clf).transform(e.X), NF,
         "not fitted"),
    Case("explain-unfitted", 0, lambda e: CounterfactualExplainer(e.clf).explain(e.X), NF,
         "not fitted"),
    Case("transform-wider", 0, lambda e: e.explainer.transform(np.zeros((2, 3))), E,
         "X has 3 features", "explainer"),
    Case("transform-nan", 0, lambda e: e.explainer.transform(np.full((2, 2), np.nan)), E,
         "NaN", "explainer"),
    Case("explain-path-growing-spheres", 0,
         lambda e: CounterfactualExplainer(e.clf, generator="growing_spheres", max_steps=3)
         .fit(e.X).explain(e.X[:3], return_path=True), E, "return_path"),
    Case("refit-explainer-bad-mutability", 1,
         lambda e: _refit_explainer(e, mutability={9: "none"}), E, "feature index 9",
         "explainer"),
    Case("refit-explainer-wider", 1,
         lambda e: _refit_explainer(e, X=np.zeros((10, 3))), E, "3 features", "explainer"),
    Case("refit-explainer-bad-domain", 1, lambda e: _refit_explainer(e, domain=(1, 0)), E,
         "low > high", "explainer"),
    Case("refit-explainer-bad-groups", 1,
         lambda e: _refit_explainer(e, categorical_groups=[[0, 1]]), E, "categorical_groups",
         "explainer"),

    # ---- constraints that must hold (items 2 and 3) --------------------------------------
    Case("explain-model-mutability-outside-domain", 2, _model_mutability_outside, None,
         check=_check_model_mutability),
    Case("explain-already-target-outside-domain", 3, _already_target_outside, None,
         check=_check_already_target),

    # ---- generators ----------------------------------------------------------------------
    Case("generic-lambda_cost-negative", 0,
         lambda e: fresh(e, GenericGenerator(lambda_cost=-1)).fit(e.X), E, "lambda_cost",
         "fresh"),
    Case("generic-distance-unknown", 0,
         lambda e: fresh(e, GenericGenerator(distance="l3")).fit(e.X), E, "distance",
         "fresh"),
    Case("ecco-lambda_energy-negative", 0,
         lambda e: fresh(e, ECCoGenerator(lambda_energy=-1)).fit(e.X), E, "lambda_energy",
         "fresh"),
    Case("ecco-energy_reg-string", 0,
         lambda e: fresh(e, ECCoGenerator(energy_reg="x")).fit(e.X), VT, "energy_reg",
         "fresh"),
    Case("revise-latent_dim-zero", 0,
         lambda e: fresh(e, REVISEGenerator(latent_dim=0)).fit(e.X), E, "latent_dim",
         "fresh"),
    Case("revise-max_epochs-zero", 0,
         lambda e: fresh(e, REVISEGenerator(max_epochs=0)).fit(e.X), E, "max_epochs",
         "fresh"),
    Case("revise-lr-zero", 0, lambda e: fresh(e, REVISEGenerator(lr=0)).fit(e.X), E, "lr",
         "fresh"),
    Case("revise-X-1d", 0, lambda e: fresh(e, REVISEGenerator()).fit(e.X[:, 0]), E,
         "2D array", "fresh"),
    Case("revise-refit-invalid-param", 1,
         lambda e: e.revise.set_params(latent_dim=0).fit(e.X), E, "latent_dim", "generator"),
    Case("revise-refit-empty", 1, lambda e: e.revise.fit(e.X[:0]), E, "0 sample",
         "generator"),
    Case("revise-refit-nan", 1, _revise_fit_nan_after_fit, E, "NaN", "generator"),
    Case("revise-search-unfitted", 0,
         lambda e: REVISEGenerator().init_state(torch.zeros(2, 2)), RuntimeError,
         "needs to be fitted"),
    Case("growing-spheres-n_candidates-zero", 0,
         lambda e: fresh(e, GrowingSpheresGenerator(n_candidates=0)).fit(e.X), E,
         "n_candidates", "fresh"),
    Case("growing-spheres-first_radius-negative", 0,
         lambda e: fresh(e, GrowingSpheresGenerator(first_radius=-1)).fit(e.X), E,
         "first_radius", "fresh"),
    Case("growing-spheres-max_halvings-negative", 0,
         lambda e: fresh(e, GrowingSpheresGenerator(max_halvings=-1)).fit(e.X), E,
         "max_halvings", "fresh"),
    Case("growing-spheres-sparse-string", 0,
         lambda e: fresh(e, GrowingSpheresGenerator(sparse="yes")).fit(e.X), E, "sparse",
         "fresh"),
    Case("growing-spheres-X-nan", 0, _gs_fit_nan, E, "NaN", "fresh"),

    # ---- metrics -------------------------------------------------------------------------
    Case("cost-shape-mismatch", 0,
         lambda e: M.counterfactual_cost(e.X[:5], e.X[:4]), E, "same shape"),
    Case("cost-norm-unknown", 0, lambda e: M.counterfactual_cost(e.X, e.X, norm="l3"), E,
         "norm"),
    Case("cost-mad-zero", 0,
         lambda e: M.counterfactual_cost(e.X, e.X, mad=[0.0, 1.0]), E, "mad"),
    Case("cost-weights-length", 0,
         lambda e: M.counterfactual_cost(e.X, e.X, feature_weights=[1.0]), E,
         "feature_weights"),
    Case("redundancy-tol-negative", 0, lambda e: M.redundancy(e.X, e.X, tol=-1), E, "tol"),
    Case("mad-1d", 0, lambda e: M.median_absolute_deviation(e.X[:, 0]), E, "X_ref"),
    Case("validity-model-without-proba", 8,
         lambda e: M.counterfactual_validity(LinearSVC().fit(e.X, e.y), e.X, 1), TE,
         "predict_proba"),
    Case("validity-threshold-above-1", 0,
         lambda e: M.counterfactual_validity(e.clf, e.X, 1, threshold=1.5), E, "threshold",
         "clf"),
    Case("validity-target-unknown", 0,
         lambda e: M.counterfactual_validity(e.clf, e.X, "z"), E, "(?i)target", "clf"),
    Case("validity-target-length", 0,
         lambda e: M.counterfactual_validity(e.clf, e.X, [0, 1]), E, "target", "clf"),
    Case("validity-unfitted-model", 0,
         lambda e: M.counterfactual_validity(_clf(), e.X, 1), NF, "not fitted"),
    Case("validity-nan-model", 5,
         lambda e: M.counterfactual_validity(_NaNOut(), e.X, 1), E, "(?i)(finite|nan)"),
    Case("validity-wrong-width", 6,
         lambda e: M.counterfactual_validity(e.clf, np.zeros((3, 3)), 1), E, "3 features",
         "clf"),
    Case("ynn-too-many-neighbours", 0,
         lambda e: M.ynn(e.clf, e.X[:3], 1, e.X[:4], n_neighbors=10), E, "n_neighbors"),
    Case("ynn-feature-mismatch", 0,
         lambda e: M.ynn(e.clf, e.X[:3], 1, np.zeros((10, 3))), E, "same number of features"),
    Case("implausibility-reference-lengths", 0,
         lambda e: M.implausibility(e.X[:3], e.X, e.y[:5], 1), E, "y_ref"),
    Case("implausibility-target-not-in-reference", 0,
         lambda e: M.implausibility(e.X[:3], e.X, e.y, 7), E, "target label"),
    Case("implausibility_mmd-length_scale-zero", 0,
         lambda e: M.implausibility_mmd(e.X[:3], e.X, e.y, 1, length_scale=0), E,
         "length_scale"),
    Case("mmd-feature-mismatch", 0, lambda e: M.mmd(e.X, np.zeros((5, 3))), E, "features"),
    Case("robust_accuracy-attack-unknown", 0,
         lambda e: M.robust_accuracy(e.clf, e.X, e.y, attack="foo"), E, "attack", "clf"),
    Case("robust_accuracy-epsilon-negative", 0,
         lambda e: M.robust_accuracy(e.clf, e.X, e.y, epsilon=-1), E, "epsilon", "clf"),
    Case("robust_accuracy-forest", 0,
         lambda e: M.robust_accuracy(RandomForestClassifier(n_estimators=2).fit(e.X, e.y),
                                     e.X, e.y), TE, "differentiable"),
    Case("fgsm-wrong-width", 6, lambda e: M.fgsm_attack(e.clf, np.zeros((3, 3)), [0, 1, 0]),
         E, "(?i)3 features|expect", "clf"),
    Case("pgd-n_steps-negative", 0,
         lambda e: M.pgd_attack(e.clf, e.X, e.y, n_steps=-1), E, "n_steps", "clf"),
    Case("integrated_gradients-n_steps-zero", 0,
         lambda e: M.integrated_gradients(e.clf, e.X, n_steps=0), E, "n_steps", "clf"),
    Case("sensitivity-feature-out-of-range", 0,
         lambda e: M.protected_feature_sensitivity(e.clf, e.X, features=[5]), E, "features",
         "clf"),
    Case("aggregate_runs-confidence", 0,
         lambda e: M.aggregate_runs(_raw_runs(), confidence=2), VT, "confidence"),
    Case("evaluate-n_runs-zero", 0,
         lambda e: M.evaluate_counterfactuals({"m": e.clf}, e.X, e.y, n_runs=0), E, "n_runs",
         "clf"),

    # ---- scorers -------------------------------------------------------------------------
    Case("scorer-unknown-metric", 0, lambda e: M.make_counterfactual_scorer("nope"), E,
         "nope"),
    Case("scorer-n_samples-zero", 0,
         lambda e: M.make_counterfactual_scorer("cost", n_samples=0), E, "n_samples"),
    Case("scorer-unknown-kwarg", 0,
         lambda e: M.make_counterfactual_scorer("cost", bogus=1), VT, "bogus"),
    Case("scorer-explainer-not-explainer", 0,
         lambda e: M.CounterfactualScorer("cost", explainer="x"), TE, "explainer"),
    Case("scorer-validity_threshold", 0,
         lambda e: M.make_counterfactual_scorer("validity", validity_threshold=2), E,
         "validity_threshold"),
    Case("get_scorer-unknown", 0, lambda e: M.get_scorer("neg_nope"), E,
         "not a valid scoring"),
    Case("scorer-needs-y", 0,
         lambda e: M.get_scorer("neg_implausibility")(e.clf, e.X, None), E, "true labels",
         "clf"),
    Case("scorer-unfitted-estimator", 0, _unfitted_scorer, NF, "(?i)not fitted"),
    Case("make_scoring-bad-type", 0, lambda e: M.make_scoring(3), TE, "scoring"),

    # ---- item 8 --------------------------------------------------------------------------
    Case("joblib-hash-stable", 8, _hash_twice, None, check=_check_same_hash),
    Case("explainer-mixed-frame-warning", 8, _mixed_pipeline_transform, None,
         check=_check_no_writable_warning),

    # ---- the command line (item 7) -------------------------------------------------------
    _cli_case("cli-output-under-a-file", ["--output", _not_a_dir], "--output"),
    _cli_case("cli-output-is-a-file", ["--output", _existing_file], "--output"),
    _cli_case("cli-output-unwritable", ["--output", "/proc/sklearn_ct_results"], "--output"),
    _cli_case("cli-output-empty", ["--output", ""], "--output"),
    _cli_case("cli-n-jobs-zero", ["--n-jobs", "0"], "--n-jobs"),
    _cli_case("cli-n-jobs-text", ["--n-jobs", "two"], "--n-jobs"),
    _cli_case("cli-seed-negative", ["--seed", "-1"], "--seed"),
    _cli_case("cli-train-rows-below-minimum", ["--train-rows", "5"], "--train-rows"),
    _cli_case("cli-runs-zero", ["--runs", "0"], "--runs"),
    _cli_case("cli-epochs-text", ["--epochs", "many"], "--epochs"),
    _cli_case("cli-individuals-negative", ["--individuals", "-3"], "--individuals"),
    _cli_case("cli-dataset-unknown", ["--datasets", "cred"], "cred"),
    _cli_case("cli-quick-and-full", ["--quick", "--full"], "--full"),
    _cli_case("cli-unknown-option", ["--bogus"], "--bogus"),
    _cli_case("cli-categorical-snapping-unknown", ["--categorical-snapping", "middle"],
              "--categorical-snapping"),
    _cli_case("cli-refits-negative", ["--refits", "-1"], "--refits"),
]


def _params():
    out = []
    for case in CASES:
        marks = list(case.marks)
        if case.xfail:
            marks.append(pytest.mark.xfail(strict=True, reason=case.xfail))
        if case.skip:
            marks.append(pytest.mark.skip(reason=case.skip))
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    clf = _clf().fit(X, y)
    explainer = CounterfactualExplainer(clf, max_steps=10, random_state=0).fit(X)
    revise = REVISEGenerator(max_epochs=2, random_state=0).fit(X)
    return X, y, clf, explainer, revise


def make_env(fitted, tmp):
    X, y, clf, explainer, revise = fitted
    explainer = copy.deepcopy(explainer)
    return Env(X=X.copy(), y=y.copy(), clf=copy.deepcopy(clf), explainer=explainer,
               revise=copy.deepcopy(revise), tmp=tmp)


def _raise(exc):
    raise exc


def test_leak_helper():
    with pytest.raises(RuntimeError) as info:
        nn.Linear(-1, 2)
    assert leaked(info.value)
    with pytest.raises(np.linalg.LinAlgError) as info:
        np.linalg.inv(np.zeros((2, 2)))
    assert leaked(info.value) and not leaked(info.value, names=("Singular",))
    with pytest.raises(ValueError) as info:
        _raise(ValueError("lambda_div must be >= 0"))
    assert not leaked(info.value)
    with pytest.raises(NotFittedError) as info:
        _clf().predict(PROBE)
    assert not leaked(info.value)


def test_catalogue_is_large_and_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 90


@pytest.mark.parametrize("case", _params())
def test_bad_input(case, fitted, tmp_path):
    outcome = run_case(case, make_env(fitted, tmp_path))
    assert outcome.ok, f"{outcome.kind}: {outcome.message}"
