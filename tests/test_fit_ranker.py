"""benchmarks/fit_ranker.py on synthetic candidates: whole cohorts per fold, sign constraints, calibration."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from raredx.engine import RankerModel
from raredx.engine._features import FEATURES

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "fit_ranker.py"


@pytest.fixture(scope="module")
def fr():
    spec = importlib.util.spec_from_file_location("fit_ranker", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fit_ranker"] = module
    spec.loader.exec_module(module)
    return module


def test_cohorts_are_never_split(fr):
    cohorts = [f"c{i % 23}" for i in range(400)]
    folds = fr.cohort_folds(cohorts)
    for c in set(cohorts):
        assert len({int(f) for f, x in zip(folds, cohorts) if x == c}) == 1
    sizes = np.bincount(folds)
    assert len(sizes) == fr.FOLDS and sizes.max() - sizes.min() <= 40  # balanced


def test_every_feature_of_the_model_exists_and_has_a_sign(fr):
    assert set(fr.FEATURE_SIGNS) <= set(FEATURES)
    assert set(fr.FEATURE_SIGNS.values()) <= {-1, 0, 1}
    assert not [f for f in fr.FEATURE_SIGNS if f.startswith("excluded")]  # absent findings are not features


def _synthetic(fr, n=300, k=20, seed=0):
    """Cases whose truth has a higher score and explains more; the other features are noise (all FEATURES)."""
    rng = np.random.default_rng(seed)
    d = len(FEATURES)
    x = rng.normal(size=(n, k, d))
    y = np.zeros((n, k), bool)
    truth = rng.integers(0, k, n)
    y[np.arange(n), truth] = rng.random(n) < 0.9  # a tenth of the truths are outside the candidates
    names = list(FEATURES)
    for f, lift in (("score", 1.5), ("explained", 1.0), ("position", -0.8)):
        x[np.arange(n), truth, names.index(f)] += lift
    return x, y


def test_fit_learns_the_signal_within_its_sign_constraints(fr):
    x, y = _synthetic(fr)
    folds = np.arange(len(y)) % 5
    model = fr.fit(x, y, folds, alpha=0.2)
    assert isinstance(model, RankerModel) and model.candidates == x.shape[1]
    w = dict(zip(model.features, model.weights))
    assert w["explained"] > 0 and w["position"] <= 0
    for f, sign in fr.FEATURE_SIGNS.items():
        assert w[f] * sign >= -1e-9, f
    xt, yt = _synthetic(fr, seed=1)
    rank, conf = fr.evaluate(model, xt, yt, np.full(len(yt), 21.0))
    inside = yt.any(1)
    assert np.mean(rank[inside] == 1) > 0.4  # far above the 1 in 20 of chance
    assert (rank[~inside] == 21).all()  # a truth outside the candidates keeps its first-stage rank
    assert ((conf > 0) & (conf < 1)).all()
    assert fr.ece(conf, rank == 1) < 0.15  # calibrated on out-of-fold logits, judged on new cases


def test_the_fitted_model_round_trips_through_its_json(fr, tmp_path):
    x, y = _synthetic(fr)
    model = fr.fit(x, y, np.arange(len(y)) % 5, alpha=0.4)
    path = tmp_path / "ranker.json"
    path.write_text(model.to_json())
    again = RankerModel.load(path)
    assert again is not None and again.features == model.features
    assert np.allclose(again.weights, model.weights, atol=1e-6)
    z = again.logits(x[0], x[0][:, FEATURES.index("score")])
    p, outside = again.probabilities(z)
    assert p.sum() + outside == pytest.approx(1.0)
    assert np.array_equal(np.argsort(-p, kind="stable"), np.argsort(-z, kind="stable"))  # calibration keeps the order
