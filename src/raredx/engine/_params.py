"""The first stage's knobs. The defaults are the values ``benchmarks/tune.py`` chose on the development cases
the knowledge base has never read about (``benchmarks/results/tune.md``); the second stage is fitted on top of
them (``benchmarks/fit_ranker.py``, ``engine/ranker.json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Params:
    """Knobs of the likelihood-ratio model (see docs/method.md)."""

    default_frequency: float = 0.5  # an annotation without a frequency
    frequency_weight: float = 0.6  # gamma: weight of log P(term | disease) next to the information content
    exact_bonus: float = 2.0  # extra for a disease that has the patient's term itself (or a descendant)
    inherited_frequency: float = 0.1  # a broader Orphanet disorder's annotation counts at this share of its frequency
    name_frequency: float = 0.9  # a phenotype named in the disease's name (0: not used)
    definition_frequency: float = 0.6  # a phenotype stated in Orphanet's definition of the disease
    excluded_weight: float = 0.5  # weight of log P(absent | disease) for an excluded term
    excluded_min_frequency: float = 0.95  # excluded terms count against diseases that show them at least this often
    excluded_noise: float = 0.05  # chance an annotated feature is missed or not yet shown
    not_penalty: float = 0.5  # an observed term that the disease is annotated NOT to have
    not_bonus: float = 0.1  # an excluded term that the disease is annotated NOT to have
    onset_match: float = 0.3  # patient onset within the disease's onset classes
    onset_mismatch: float = 1.2  # patient onset outside (and not adjacent to) them
    background_weight: float = 1.0  # share of a disease's expected score for any finding taken off per finding
    drop_redundant: bool = True  # ignore observed terms implied by a more specific observed term
    temperature: float = 4.027  # first-stage softmax temperature (the diseases after the second stage's candidates)
    suggestion_floor: float = 0.02  # P(term | disease) of a term outside the disease's annotations, for suggestions
    suggestion_min_ic: float = 2.0  # a suggested term is at least this specific
    nearby_min_ic: float = 1.0  # an ancestor shared with an unmatched term is named if at least this specific

    def with_(self, **changes: Any) -> Params:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Params:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def fitted(cls) -> Params:
        """The chosen values (the defaults)."""
        return cls()
