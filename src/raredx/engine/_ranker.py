"""The second stage: re-rank the leading candidates with a model learned on patients the knowledge base has
never read about, and turn its scores into calibrated probabilities.

The model is a conditional logit over the first stage's top ``candidates``: ``z = α·score + w·x``, with ``x``
the candidate's standardised features (:mod:`raredx.engine._features`) and every weight whose meaning has a
clinical direction constrained to it (a finding the disease explains never counts against it). One more
option, "none of these", has the fixed logit ``outside``. The probability of the first-ranked disease is then
recalibrated (logistic, on its probability and its margin over the second) and the distribution is sharpened
or flattened to match it, so the order never changes. ``benchmarks/fit_ranker.py`` fits all of it, by
cohort-grouped cross-validation on the development cases whose publication no annotation of their disease
cites, and writes ``ranker.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np

from raredx.engine._features import FEATURES
from raredx.errors import KnowledgeBaseError

RANKER_FILE = "ranker.json"


@dataclass(frozen=True)
class RankerModel:
    """The fitted second stage (see the module docstring); ``columns`` index :data:`FEATURES`."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    score_weight: float  # α
    outside: float  # logit of "none of the candidates"
    calibration: tuple[float, float, float]  # top-1: logit(p1), log(p1 / p2), intercept
    candidates: int
    description: str = ""

    @cached_property
    def columns(self) -> np.ndarray:
        return np.array([FEATURES.index(f) for f in self.features], dtype=np.int64)

    @classmethod
    def load(cls, path: str | Path | None = None) -> RankerModel | None:
        """The shipped model (``engine/ranker.json``), or the one at ``path``; None if there is none."""
        src = Path(path) if path is not None else resources.files("raredx.engine") / RANKER_FILE
        if not src.is_file():
            return None
        data = json.loads(src.read_text())
        unknown = [f for f in data["features"] if f not in FEATURES]
        if unknown:
            raise KnowledgeBaseError(f"{src}: features {', '.join(unknown)} are unknown to this raredx; refit it "
                                     "with benchmarks/fit_ranker.py.")
        return cls(
            features=tuple(data["features"]), mean=np.array(data["mean"]), scale=np.array(data["scale"]),
            weights=np.array(data["weights"]), score_weight=float(data["score_weight"]),
            outside=float(data["outside"]), calibration=tuple(data["calibration"]),
            candidates=int(data["candidates"]), description=data.get("description", ""),
        )

    def to_json(self) -> str:
        return json.dumps({
            "description": self.description, "candidates": self.candidates, "features": list(self.features),
            "mean": self.mean.round(6).tolist(), "scale": self.scale.round(6).tolist(),
            "weights": self.weights.round(6).tolist(), "score_weight": self.score_weight,
            "outside": round(self.outside, 6), "calibration": [round(c, 6) for c in self.calibration],
        }, indent=1) + "\n"

    def logits(self, features: np.ndarray, score: np.ndarray) -> np.ndarray:
        """``z`` for candidates with ``features`` (all :data:`FEATURES` columns, last axis) and first-stage
        ``score``; any leading axes (cases) are kept."""
        x = (features[..., self.columns] - self.mean) / self.scale
        return self.score_weight * score + x @ self.weights

    def first_probability(self, p: np.ndarray) -> np.ndarray:
        """The calibrated probability of the first candidate, from the candidates' softmax ``p`` (last axis)."""
        return 1.0 / (1.0 + np.exp(-(calibration_inputs(p) @ np.asarray(self.calibration))))

    def probabilities(self, z: np.ndarray) -> tuple[np.ndarray, float]:
        """(probability of each candidate, probability that the disease is none of them), calibrated."""
        p = softmax_with_outside(z, self.outside)
        if len(z) < 2:
            return p[:-1], float(p[-1])
        return _sharpen_to(z, self.outside, float(self.first_probability(p[:-1])))


def softmax_with_outside(z: np.ndarray, outside: float, temperature: float | np.ndarray = 1.0) -> np.ndarray:
    """Softmax over the last axis of ``z`` and one more option, "none of these", of logit ``outside`` (its share
    comes last)."""
    v = np.concatenate([z, np.full((*np.shape(z)[:-1], 1), outside)], -1) / temperature
    v = np.exp(v - v.max(-1, keepdims=True))
    return v / v.sum(-1, keepdims=True)


def calibration_inputs(p: np.ndarray) -> np.ndarray:
    """What the first candidate's probability is recalibrated on, from candidate probabilities ``p`` (last axis):
    its logit, the log of its ratio to the second's, and 1."""
    ordered = -np.sort(-p, -1)
    first = np.clip(ordered[..., 0], 1e-6, 1 - 1e-6)
    second = np.maximum(ordered[..., 1], 1e-12)
    return np.stack([np.log(first / (1 - first)), np.log(first / second), np.ones_like(first)], -1)


_LOG_TEMPERATURES = np.linspace(-4.0, 4.0, 81)


def _sharpen_to(z: np.ndarray, outside: float, target: float) -> tuple[np.ndarray, float]:
    """The softmax at the temperature that gives the first candidate probability ``target`` (the first's share
    falls as the temperature rises: found on a grid of log temperatures, then interpolated)."""
    first = softmax_with_outside(z[None, :], outside, np.exp(_LOG_TEMPERATURES)[:, None])[:, :-1].max(1)
    j = int(np.clip(np.searchsorted(-first, -target), 1, len(first) - 1))
    lo, hi = first[j - 1], first[j]
    share = 0.0 if lo == hi else float(np.clip((lo - target) / (lo - hi), 0.0, 1.0))
    log_t = _LOG_TEMPERATURES[j - 1] + share * (_LOG_TEMPERATURES[j] - _LOG_TEMPERATURES[j - 1])
    p = softmax_with_outside(z, outside, float(np.exp(log_t)))
    return p[:-1], float(p[-1])
