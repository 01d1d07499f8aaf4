"""Patients like this one in the registry, and the registry's solved patients as evidence in a diagnosis.

The registry's live patients are indexed once (:class:`raredx.match.MatchIndex`) and the index is kept until a
patient is added, changed, deleted or restored. A patient's family (its family relations, either way, and theirs)
never matches it, and never counts as a solved case for it. Results name patients by pseudonym, never identity."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

from raredx.app._cases import case_of
from raredx.core import RareDx
from raredx.engine import Differential
from raredx.genomics import Genotype
from raredx.match import Match, MatchIndex, MatchPatient
from raredx.registry import Actor, PatientFilter, PatientPublic, Registry
from raredx.registry.errors import NotFoundError
from raredx.registry.schemas import MAX_PAGE


def match_patient(patient: PatientPublic, family: str = "") -> MatchPatient:
    """A stored patient as the matcher sees it: its case (with the genes of its genetic findings), its family
    and its confirmed diagnoses; keyed by id, shown by pseudonym."""
    genes = tuple(dict.fromkeys(g.gene_symbol for g in patient.genetic_findings if g.gene_symbol))
    case = case_of(patient)
    if genes:
        case = replace(case, genotype=Genotype(genes=genes))
    confirmed = tuple(d.disease_id for d in patient.diagnoses if d.status == "confirmed")
    return MatchPatient(str(patient.id), case, family=family, diagnoses=confirmed, label=patient.pseudonym)


def families(patients: list[PatientPublic]) -> dict[int, str]:
    """Each patient's family: the patients linked by family relations (either way, transitively), named by the
    smallest pseudonym among them ("" for a patient without relatives in the registry)."""
    by_pseudonym = {p.pseudonym: p.id for p in patients}
    parent = {p.id: p.id for p in patients}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for p in patients:
        for rel in p.family_relations:
            other = by_pseudonym.get(rel.relative_pseudonym)
            if other is not None:
                parent[root(p.id)] = root(other)
    groups: dict[int, list[str]] = {}
    for p in patients:
        groups.setdefault(root(p.id), []).append(p.pseudonym)
    return {p.id: (min(groups[root(p.id)]) if len(groups[root(p.id)]) > 1 else "") for p in patients}


@dataclass(frozen=True, slots=True)
class SimilarPatients:
    """The answer of a "patients like this one" search."""

    patient_id: int
    pseudonym: str
    with_genes: bool
    n_patients: int  # how many patients were compared
    matches: tuple[Match, ...]

    def to_dict(self) -> dict[str, Any]:
        out = []
        for m in self.matches:
            d = m.to_dict()
            d["patient_id"] = int(d.pop("key"))
            d["pseudonym"] = d.pop("label")
            out.append(d)
        return {"patient_id": self.patient_id, "pseudonym": self.pseudonym, "with_genes": self.with_genes,
                "n_patients": self.n_patients, "matches": out}


class RegistryMatcher:
    """The match index of one registry, rebuilt when the registry changed since it was built."""

    def __init__(self, rdx: RareDx, registry: Registry) -> None:
        self.rdx = rdx
        self.registry = registry
        self._lock = threading.Lock()
        self._built: tuple[tuple[int, str], MatchIndex] | None = None

    def _query_and_index(self, actor: Actor, patient_id: int) -> tuple[PatientPublic, MatchIndex]:
        """Patient ``patient_id`` (permission-checked) and the index of the registry's live patients, rebuilt only
        when the registry changed since it was built."""
        generation = self.registry.match_generation()
        with self._lock:
            built = self._built if self._built is not None and self._built[0] == generation else None
            query, patients = self.registry.patients_to_match(actor, patient_id, everyone=built is None)
            if built is None:
                fam = families(patients)
                problems: list[tuple[str, str]] = []  # patients without observed phenotypes are left out
                index = MatchIndex.build(self.rdx.engine, [match_patient(p, fam[p.id]) for p in patients],
                                         problems=problems)
                self._built = built = (generation, index)
            return query, built[1]

    def patient_id(self, actor: Actor, patient: str) -> int:
        """The id of a patient given by id or pseudonym (raises :class:`NotFoundError` naming it)."""
        text = patient.strip()
        if text.isdigit():
            return int(text)
        page = self.registry.list_summaries(actor, PatientFilter(pseudonym=text), limit=MAX_PAGE)
        for p in page.data:
            if p.pseudonym == text:
                return p.id
        raise NotFoundError(f"no patient with pseudonym {text!r}; give its id or exact pseudonym "
                            "(raredx registry export lists them).")

    def similar(self, actor: Actor, patient_id: int, *, top: int = 10, with_genes: bool = False) -> SimilarPatients:
        """The ``top`` patients most like patient ``patient_id`` (permission-checked; audited with who was shown)."""
        query, index = self._query_and_index(actor, patient_id)
        key = str(patient_id)
        if key in index.row_of:
            matches = index.similar(key, top=top, with_genes=with_genes)
        else:  # no observed phenotype: the index left it out, and the search says why
            index.query_vector(case_of(query))
            matches = ()
        self.registry.audit_similar(actor, patient_id, [int(m.key) for m in matches])
        return SimilarPatients(patient_id, query.pseudonym, with_genes, index.n - 1, matches)

    def diagnose(self, actor: Actor, patient_id: int, *, top: int = 10, strict: bool = False) -> Differential:
        """Patient ``patient_id``'s differential with the evidence of the registry's solved patients (never the
        patient itself or its family)."""
        query, index = self._query_and_index(actor, patient_id)
        case = case_of(self.registry.patient_for_diagnosis(actor, patient_id))
        return self.rdx.diagnose(case, top=top, strict=strict, solved_cases=index, exclude=(str(query.id),))
