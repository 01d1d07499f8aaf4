"""The API's request and response shapes. The patient family lives in :mod:`raredx.registry.schemas`
(the service speaks it too) and is re-exported here; these are the API-only ones."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from raredx.registry.schemas import (
    AuditRecord,
    PatientCreate,
    PatientFilter,
    PatientPublic,
    PatientsPublic,
    PatientSummaries,
    PatientSummary,
    PatientUpdate,
    Revision,
    UserPublic,
)

__all__ = [
    "AuditRecord", "DiagnoseRequest", "ErrorOut", "HealthOut", "ImportIssueOut", "ImportReportOut", "PatientCreate",
    "PatientFilter", "PatientPublic", "PatientQuery", "PatientSummaries", "PatientSummary", "PatientUpdate", "PatientsPublic", "Revision", "TermHitOut", "Token", "UserCreate",
    "UserPublic",
]


class PatientQuery(PatientFilter):
    """The query string of GET /api/patients: the filters, paging, and how much of each patient to return."""

    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=50, ge=1, le=500)
    view: Literal["summary", "full"] = Field(
        default="summary", description="summary: a list line per patient (PatientSummary); full: whole records "
        "(PatientPublic), with every list of each.")


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str
    password: str
    role: str


class ErrorOut(BaseModel):
    error: str
    detail: str
    problems: list[dict[str, Any]] | None = None


class ImportIssueOut(BaseModel):
    """One problem of one record (:class:`raredx.errors.Problem`)."""

    record: str
    field: str
    reason: str
    severity: str
    solution: str | None = None


class ImportReportOut(BaseModel):
    policy: str
    records: int
    imported: int
    rejected: int
    patient_ids: list[int]
    issues: list[ImportIssueOut]


class TermHitOut(BaseModel):
    id: str
    label: str
    matched: str
    score: float


class HealthOut(BaseModel):
    status: str
    version: str
    demo: bool
    database: str
    kb_version: str


class DiagnoseRequest(BaseModel):
    """A phenopacket-shaped object: ``phenotypicFeatures`` (``type.id``, ``excluded``, ``onset``), optionally
    ``subject.sex`` and ``subject.timeAtLastEncounter``; other phenopacket fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "id": "case-1", "subject": {"sex": "FEMALE"},
        "phenotypicFeatures": [{"type": {"id": "HP:0001166"}}, {"type": {"id": "HP:0001083"}},
                               {"type": {"id": "HP:0000365"}, "excluded": True}],
    }]})

    phenotypicFeatures: list[dict[str, Any]]
