"""Scoring parameters. Defaults are fitted on the development set by ``benchmarks/tune.py``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from importlib import resources


@dataclass(frozen=True, slots=True)
class Params:
    """Knobs of the likelihood-ratio model (see docs/method.md)."""

    default_frequency: float = 0.5  # an annotation without a frequency
    frequency_weight: float = 0.15  # gamma: weight of log P(term | disease) next to the information content
    exact_bonus: float = 2.0  # extra for a disease that has the patient's term itself (or a descendant)
    inherited_frequency: float = 0.1  # a broader Orphanet disorder's annotation counts at this share of its frequency
    name_frequency: float = 0.9  # a phenotype named in the disease's name (0: not used)
    related_weight: float = 0.8  # share of a shared ancestor's information when the disease is not annotated with it
    excluded_weight: float = 0.5  # weight of log P(absent | disease) for an excluded term
    excluded_min_frequency: float = 0.95  # excluded terms count against diseases that show them at least this often
    excluded_noise: float = 0.05  # chance an annotated feature is missed or not yet shown
    not_penalty: float = 0.5  # an observed term that the disease is annotated NOT to have
    not_bonus: float = 0.1  # an excluded term that the disease is annotated NOT to have
    onset_match: float = 0.3  # patient onset within the disease's onset classes
    onset_mismatch: float = 0.6  # patient onset outside (and not adjacent to) them
    background_weight: float = 0.75  # share of a disease's expected score for any finding subtracted per finding
    drop_redundant: bool = True  # ignore observed terms implied by a more specific observed term
    temperature: float = 1.0  # softmax temperature for calibrated probabilities

    def with_(self, **changes: object) -> Params:
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Params:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})  # type: ignore[arg-type]

    @classmethod
    def fitted(cls) -> Params:
        """The parameters fitted on the dev set (``engine/params.json``), else the defaults."""
        path = resources.files("raredx.engine") / "params.json"
        if path.is_file():
            return cls.from_dict(json.loads(path.read_text()))
        return cls()
