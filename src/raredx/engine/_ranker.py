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

    @property
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
        """``z`` for candidates with ``features`` (all :data:`FEATURES` columns) and first-stage ``score``."""
        x = (features[:, self.columns] - self.mean) / self.scale
        return self.score_weight * score + x @ self.weights

    def probabilities(self, z: np.ndarray) -> tuple[np.ndarray, float]:
        """(probability of each candidate, probability that the disease is none of them), calibrated."""
        p, outside = _softmax_with(z, self.outside, 1.0)
        if len(z) < 2:
            return p, outside
        first, second = np.sort(p)[::-1][:2]
        a, b, c = self.calibration
        target = 1.0 / (1.0 + np.exp(-(a * _logit(first) + b * np.log(first / max(second, 1e-12)) + c)))
        return _sharpen_to(z, self.outside, float(target))


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def _softmax_with(z: np.ndarray, outside: float, temperature: float) -> tuple[np.ndarray, float]:
    v = np.append(z, outside) / temperature
    v = np.exp(v - v.max())
    v /= v.sum()
    return v[:-1], float(v[-1])


_LOG_TEMPERATURES = np.linspace(-4.0, 4.0, 81)


def _sharpen_to(z: np.ndarray, outside: float, target: float) -> tuple[np.ndarray, float]:
    """The softmax at the temperature that gives the first candidate probability ``target`` (the first's share
    falls as the temperature rises: found on a grid of log temperatures, then interpolated)."""
    v = np.append(z, outside)
    grid = (v - v.max())[None, :] / np.exp(_LOG_TEMPERATURES)[:, None]
    e = np.exp(grid - grid.max(1, keepdims=True))
    first = (e[:, :-1].max(1) / e.sum(1))
    j = int(np.clip(np.searchsorted(-first, -target), 1, len(first) - 1))
    lo, hi = first[j - 1], first[j]
    share = 0.0 if lo == hi else float(np.clip((lo - target) / (lo - hi), 0.0, 1.0))
    log_t = _LOG_TEMPERATURES[j - 1] + share * (_LOG_TEMPERATURES[j] - _LOG_TEMPERATURES[j - 1])
    return _softmax_with(z, outside, float(np.exp(log_t)))
