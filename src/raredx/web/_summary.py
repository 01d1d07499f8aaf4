"""The strip at the top of the patient page: age, sex, the diagnoses and the causal genetic finding, read off the
record as the signed-in user may see it (the date of birth only with identity access, else the birth year)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from raredx.ontology.onset import parse_iso_age
from raredx.registry.schemas import Diagnosis, GeneticFinding, PatientPublic

CAUSAL_CLASSES = ("PATHOGENIC", "LIKELY_PATHOGENIC")


@dataclass(frozen=True, slots=True)
class Age:
    years: int
    months: int  # shown under 2 years
    approximate: bool  # from the birth year only
    at_last_encounter: bool  # the phenopacket's age at the last encounter (no date of birth known)


@dataclass(frozen=True, slots=True)
class Summary:
    age: Age | None
    deceased: bool
    diagnoses: tuple[Diagnosis, ...]  # confirmed first, then suspected; ruled-out ones are left out
    solved: bool  # a confirmed diagnosis is recorded
    causal: GeneticFinding | None
    candidate: GeneticFinding | None  # without a causal finding: the variant to look at first


def age_of(p: PatientPublic, today: dt.date) -> Age | None:
    end = p.date_of_death or today
    born = p.identity.date_of_birth if p.identity is not None else None
    if born is not None:
        months = (end.year - born.year) * 12 + end.month - born.month - (end.day < born.day)
        return Age(months // 12, months % 12, approximate=False, at_last_encounter=False)
    if p.birth_year is not None:
        return Age(max(0, end.year - p.birth_year), 0, approximate=True, at_last_encounter=False)
    duration = ((p.age_at_last_encounter or {}).get("age") or {}).get("iso8601duration")
    years = parse_iso_age(duration) if isinstance(duration, str) else None
    if years is not None:
        months = round(years * 12)
        return Age(months // 12, months % 12, approximate=False, at_last_encounter=True)
    return None


def causal_finding(findings: list[GeneticFinding]) -> GeneticFinding | None:
    """The finding marked causative, else the first (likely) pathogenic one of those not interpreted otherwise (a
    pathogenic variant marked as a candidate of an unsolved case is not called causal)."""
    return (next((f for f in findings if f.interpretation_status == "CAUSATIVE"), None)
            or next((f for f in findings if f.acmg_class in CAUSAL_CLASSES and not f.interpretation_status), None))


def candidate_finding(findings: list[GeneticFinding]) -> GeneticFinding | None:
    """The first finding marked a candidate, else the first (likely) pathogenic one."""
    return (next((f for f in findings if f.interpretation_status == "CANDIDATE"), None)
            or next((f for f in findings if f.acmg_class in CAUSAL_CLASSES), None))


def summary(p: PatientPublic, today: dt.date | None = None) -> Summary:
    diagnoses = sorted((d for d in p.diagnoses if d.status != "ruled_out"), key=lambda d: d.status != "confirmed")
    findings = list(p.genetic_findings)
    causal = causal_finding(findings)
    return Summary(age_of(p, today or dt.date.today()), p.vital_status == "DECEASED", tuple(diagnoses),
                   any(d.status == "confirmed" for d in diagnoses), causal, None if causal else candidate_finding(findings))
