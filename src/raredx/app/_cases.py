"""Cases from the registry and the workbench's forms, built by the library's one case builder."""

from __future__ import annotations

from collections.abc import Iterable

from raredx.engine import Case
from raredx.io import case_from_features
from raredx.registry import Actor, PatientPublic, Registry
from raredx.registry.schemas import PhenotypicFeature


def case_of_features(features: Iterable[PhenotypicFeature], *, sex: str | None = None, id: str = "") -> Case:
    """The engine's case for phenotypic features as the registry stores them (the workbench's quick diagnosis)."""
    return case_from_features(((f.hpo_id, f.excluded, f.onset) for f in features), sex=sex, id=id)


def case_of(patient: PatientPublic) -> Case:
    """The engine's view of a stored patient: its features, sex, age at last encounter, onset (a diagnosis's,
    else the earliest of the observed features') and pseudonym."""
    return case_from_features(((f.hpo_id, f.excluded, f.onset) for f in patient.phenotypic_features), sex=patient.sex,
                          age=patient.age_at_last_encounter, disease_onsets=[d.onset for d in patient.diagnoses],
                          id=patient.pseudonym)


def case_for_patient(registry: Registry, actor: Actor, patient_id: int) -> Case:
    """The case of a stored patient, read for a diagnosis (permission-checked and audited as one)."""
    return case_of(registry.patient_for_diagnosis(actor, patient_id))
