"""The patient as the engine sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from raredx.genomics import Genotype

Sex = Literal["male", "female"]


@dataclass(frozen=True, slots=True)
class Case:
    """Observed and excluded HPO terms plus what is known of onset, age and sex.

    Term ids may be alt or obsolete ids; the engine resolves them (with a warning naming both).
    ``onset`` and ``age`` are ISO 8601 durations (``P3Y``) or HPO onset terms (``HP:0003577``).
    """

    observed: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    sex: Sex | None = None
    onset: str | None = None
    age: str | None = None  # age at last encounter
    id: str = ""
    source_pmids: tuple[int, ...] = field(default=(), compare=False)  # the case's own publication(s)
    genotype: Genotype | None = None  # variants / candidate genes, when sequencing was done

    def __post_init__(self) -> None:
        object.__setattr__(self, "observed", tuple(self.observed))
        object.__setattr__(self, "excluded", tuple(self.excluded))
        if self.sex is not None:
            sex = str(self.sex).strip().lower()
            object.__setattr__(self, "sex", sex if sex in ("male", "female") else None)
