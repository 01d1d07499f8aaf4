"""The values the recogniser returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ExtractedTerm:
    """One HPO term found in a text: where (character offsets, ``text[start:end] == self.text``) and how it
    was stated. ``excluded``: the text says the patient does not have it; ``uncertain``: possible or
    suspected; ``family``: said of a relative (dropped unless asked for); ``onset``: an HPO onset term
    (``Infantile onset``), not a phenotype; ``lang``: the script of the matched text."""

    id: str
    label: str
    start: int
    end: int
    text: str
    excluded: bool = False
    uncertain: bool = False
    family: bool = False
    onset: bool = False
    lang: str = "en"


def observed_and_excluded(terms: Iterable[ExtractedTerm]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The distinct phenotype ids stated as present and as absent, in order of first mention, for a
    :class:`raredx.engine.Case`. Terms about relatives and onset terms are left out; a term both
    affirmed and denied counts as observed."""
    observed: dict[str, None] = {}
    excluded: dict[str, None] = {}
    for t in terms:
        if t.family or t.onset:
            continue
        (excluded if t.excluded else observed)[t.id] = None
    return tuple(observed), tuple(i for i in excluded if i not in observed)


def onset_of(terms: Iterable[ExtractedTerm]) -> str | None:
    """The first onset term stated for the patient (not negated), e.g. ``HP:0003593``, or None."""
    return next((t.id for t in terms if t.onset and not t.excluded and not t.family), None)
