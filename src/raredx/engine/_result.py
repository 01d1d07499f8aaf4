"""What a diagnosis returns: ranked diseases with evidence, warnings and next-best phenotypes."""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Literal

from raredx.genomics import DiseaseGenotype

MatchKind = Literal[
    "exact",  # the disease is annotated with the patient's term
    "disease term more specific",  # the disease has a descendant of the patient's term
    "patient term more specific",  # the patient's term lies below a disease annotation
    "unmatched",  # the disease does not explain it (`via`: the nearest ancestor it shares with an annotation)
    "contradicted",  # observed, but the disease is annotated NOT to have it
    "counted against",  # excluded, but the disease usually has it
    "consistent",  # excluded, and the disease is annotated NOT to have it
    "neutral",  # excluded, and the disease says nothing of it
]


@dataclass(frozen=True, slots=True)
class TermEvidence:
    """How one patient term counted for one disease."""

    term_id: str
    term_label: str
    excluded: bool
    match: MatchKind
    contribution: float  # its share of the score (natural-log likelihood-ratio units)
    annotation_id: str | None = None  # the disease annotation it matched
    annotation_label: str | None = None
    frequency: float | None = None  # of that annotation in the disease, when known
    via: str | None = None  # for "unmatched": the most specific ancestor shared with the annotation named
    via_label: str | None = None  # its label


@dataclass(frozen=True, slots=True)
class SolvedCaseEvidence:
    """What the registry's solved patients say of one disease: similar patients confirmed to have it. It is
    added to the differential apart from the knowledge base's evidence (``logit`` multiplies the disease's odds
    by ``exp(logit)``), and only when the diagnosis asks for it."""

    logit: float
    patients: tuple[str, ...]  # the similar solved patients (pseudonyms), most similar first
    similarity: tuple[float, ...]  # their match scores
    text: str  # "2 solved patients in this registry with a similar phenotype had X"


@dataclass(frozen=True, slots=True)
class RankedDisease:
    rank: int
    ids: tuple[str, ...]
    name: str
    score: float  # the first stage's: its evidence + onset_fit + background (+ the genotype's contribution)
    probability: float  # calibrated, after both stages
    evidence: tuple[TermEvidence, ...]  # what counted for, then against, then the findings it does not explain
    genes: tuple[str, ...]  # Mendelian first (see gene_associations)
    inheritance: tuple[str, ...]  # labels of HPO mode-of-inheritance terms
    onset: str  # the disease's onset classes, "" if unknown
    genotype: DiseaseGenotype | None = None  # with sequencing data: how the variants counted
    gene_associations: tuple[str, ...] = ()  # of each gene: "mendelian", "unknown" (type not given) or "polygenic"
    not_counted: tuple[TermEvidence, ...] = ()  # excluded findings that carried no weight for this disease
    onset_fit: float = 0.0  # for (+) or against (-) the disease from the patient's onset or age
    background: float = 0.0  # what a disease with this many annotations scores for any findings, taken off
    solved_cases: SolvedCaseEvidence | None = None  # similar solved patients of the registry who had it

    def gene_labels(self) -> tuple[str, ...]:
        """The genes for display, Mendelian first; other links say what they are ("TGFB1 (polygenic)")."""
        kinds = self.gene_associations or ("mendelian",) * len(self.genes)
        return tuple(g if k == "mendelian" else f"{g} ({'type not given' if k == 'unknown' else k})"
                     for g, k in zip(self.genes, kinds))


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A term worth examining next: its presence or absence best separates the top candidates."""

    term_id: str
    label: str
    information_gain: float  # expected reduction of uncertainty over the top candidates, bits
    probability_present: float  # under the current differential
    favours_if_present: tuple[str, ...]  # names of candidates it supports when present


@dataclass(frozen=True, slots=True)
class RankedGene:
    """A gene with genotype evidence, ranked by the probability of its most probable disease."""

    rank: int
    gene: str
    probability: float  # of the most probable disease it explains (0 if none)
    best_disease: str  # name of that disease ("" if it has none)
    variants: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Differential:
    kb_version: str
    case_id: str
    warnings: tuple[str, ...]
    diseases: tuple[RankedDisease, ...]
    next_best_phenotypes: tuple[Suggestion, ...]
    n_ranked: int  # how many disease concepts were ranked
    genes: tuple[RankedGene, ...] = ()  # with sequencing data

    def to_dict(self) -> dict[str, Any]:
        """The same as :func:`dataclasses.asdict` (tuples stay tuples), several times faster: the answer of every
        diagnosis request goes through it."""
        out: dict[str, Any] = _plain(self)
        return out


_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """Dataclasses as dicts, tuples, lists and dicts of them copied, recursively; scalars as they are."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    if cls is tuple or cls is list:
        return cls(_plain(v) for v in value)
    if cls is dict:
        return {k: _plain(v) for k, v in value.items()}
    names = _FIELDS.get(cls)
    if names is None:
        if not is_dataclass(value):
            return value
        names = _FIELDS[cls] = tuple(f.name for f in fields(value))
    out = {}
    for n in names:
        v = getattr(value, n)
        out[n] = v if type(v) in _SCALARS else _plain(v)
    return out
