"""The API's request and response shapes. The patient family lives in :mod:`raredx.registry.schemas`
(the service speaks it too) and is re-exported here; these are the API-only ones."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from raredx.engine import Differential
from raredx.registry.schemas import (
    MAX_ID,
    MAX_PAGE,
    AnalysisRecord,
    AttachmentPublic,
    AuditRecord,
    ChangedPatients,
    Conclusion,
    MessagePublic,
    NotificationPublic,
    NotificationsPublic,
    OpinionPublic,
    OrganisationCreate,
    OrganisationPublic,
    OrganisationUpdate,
    PatientCreate,
    PatientFilter,
    PatientPublic,
    PatientsPublic,
    PatientSummaries,
    PatientSummary,
    PatientUpdate,
    ReferralCounts,
    ReferralCreate,
    ReferralPublic,
    ReferralsPublic,
    ReferralStatus,
    ReferralUpdate,
    Revision,
    Storable,
    Urgency,
    UserPublic,
    VideoSlot,
)

__all__ = [
    "MAX_ID",
    "MAX_PAGE",
    "AnalysisRecord",
    "AttachmentPublic",
    "AuditRecord",
    "ChangedPatients",
    "Conclusion",
    "ConclusionIn",
    "DiagnoseRequest",
    "Differential",
    "ErrorOut",
    "ExpertsIn",
    "HealthOut",
    "ImportIssueOut",
    "ImportReportOut",
    "MatchPartsOut",
    "MessageIn",
    "MessagePublic",
    "NotificationPublic",
    "NotificationQuery",
    "NotificationsPublic",
    "NotificationsRead",
    "OpinionIn",
    "OpinionPublic",
    "OrganisationCreate",
    "OrganisationPublic",
    "OrganisationUpdate",
    "PatientCreate",
    "PatientFilter",
    "PatientPublic",
    "PatientQuery",
    "PatientSummaries",
    "PatientSummary",
    "PatientUpdate",
    "PatientsPublic",
    "ProblemOut",
    "ReferralCounts",
    "ReferralCreate",
    "ReferralPublic",
    "ReferralQuery",
    "ReferralUpdate",
    "ReferralsPublic",
    "Revision",
    "SharedTermOut",
    "SimilarMatchOut",
    "SimilarPatientsOut",
    "TermHitOut",
    "Token",
    "TransitionIn",
    "UserCreate",
    "UserPublic",
    "UserUpdate",
    "VideoIn",
    "WhoAmI",
]


class PatientQuery(PatientFilter):
    """The query string of GET /api/patients: the filters, paging, and how much of each patient to return."""

    offset: int = Field(default=0, ge=0, le=MAX_ID)
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    view: Literal["summary", "full"] = Field(
        default="summary", description="summary: a list line per patient (PatientSummary); full: whole records "
        "(PatientPublic), with every list of each.")


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class WhoAmI(BaseModel):
    username: str
    role: str


class UserCreate(Storable):
    model_config = ConfigDict(extra="forbid")
    username: str
    password: str
    role: str
    organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="a referring physician's organisation")
    email: str | None = Field(default=None, max_length=255, examples=["doctor@hospital.example"],
                              description="where their notifications are e-mailed (none: in the workbench only)")


class ProblemOut(BaseModel):
    """One problem of an error: a request field (``body.pseudonym``, ``query.offset``) and what is wrong with it,
    or one record of an import (then also ``record``, ``severity`` and perhaps ``solution``)."""

    field: str
    reason: str
    record: str | None = None
    severity: str | None = None
    solution: str | None = None
class UserUpdate(BaseModel):
    """The changes to make to a user (each is audited and signs the user out everywhere); leave out the others."""

    model_config = ConfigDict(extra="forbid")
    active: bool | None = Field(default=None, description="false disables the user, true enables them again")
    role: str | None = Field(default=None, examples=["clinician"])
    password: str | None = Field(default=None, description="a new password (also lifts a sign-in lock)")
    organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                        description="the user's organisation (null: none; left out: unchanged)")
    email: str | None = Field(default=None, max_length=255,
                              description="where their notifications are e-mailed (null: none; left out: unchanged)")


class ErrorOut(BaseModel):
    """Every error the API answers (4xx and 5xx), made by :mod:`raredx.api._errors`."""

    error: str = Field(description="the kind: InputError (422), AuthenticationError (401), PermissionDeniedError "
                                   "(403), NotFoundError (404), ConflictError (409), HTTPError (a status of the "
                                   "HTTP layer, e.g. 405), ...", examples=["NotFoundError"])
    detail: str = Field(description="what is wrong and what to do", examples=["no patient with id 7."])
    problems: list[ProblemOut] = Field(default=[], description="one entry per problem; left out when there is none")


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
    """One hit of the term search: ``label`` in the asked language, ``english_label`` the HPO's, ``matched`` the
    label or synonym that matched the query."""

    id: str
    label: str
    english_label: str
    matched: str
    score: float


class HealthOut(BaseModel):
    status: str
    version: str
    demo: bool
    database: str
    kb_version: str


class OntologyClassIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, examples=["HP:0001166"])
    label: str | None = None


class PhenotypicFeatureIn(BaseModel):
    """A phenopacket ``PhenotypicFeature``: the engine reads ``type.id``, ``excluded`` and ``onset``."""

    model_config = ConfigDict(extra="allow")

    type: OntologyClassIn
    excluded: bool = False
    onset: dict[str, Any] | None = None


class SubjectIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    sex: str | None = Field(default=None, examples=["FEMALE"])
    timeAtLastEncounter: dict[str, Any] | None = None


_OBSERVED = {"not": {"type": "object", "required": ["excluded"], "properties": {"excluded": {"const": True}}}}


def _at_least_one_observed(schema: dict[str, Any]) -> None:
    schema["contains"] = _OBSERVED


class DiagnoseRequest(Storable):
    """A phenopacket-shaped object: ``phenotypicFeatures`` (``type.id``, ``excluded``, ``onset``), optionally
    ``subject.sex``, ``subject.timeAtLastEncounter`` and ``diseases[].onset``; other phenopacket fields are
    accepted and ignored. At least one feature must be observed (not excluded) and be a phenotypic abnormality
    (a term under HP:0000118) that the loaded HPO release knows; else the answer is 422."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "id": "case-1", "subject": {"sex": "FEMALE"},
        "phenotypicFeatures": [{"type": {"id": "HP:0001166"}}, {"type": {"id": "HP:0001083"}},
                               {"type": {"id": "HP:0000365"}, "excluded": True}],
    }]})

    phenotypicFeatures: list[PhenotypicFeatureIn] = Field(min_length=1, json_schema_extra=_at_least_one_observed)
    subject: SubjectIn | None = None
    diseases: list[dict[str, Any]] | None = None
    metaData: dict[str, Any] | None = None

    @field_validator("phenotypicFeatures")
    @classmethod
    def _one_observed(cls, v: list[PhenotypicFeatureIn]) -> list[PhenotypicFeatureIn]:
        if all(f.excluded for f in v):
            raise ValueError("every feature is excluded; give at least one observed (not excluded) HPO term")
        return v


class SharedTermOut(BaseModel):
    term_id: str
    label: str


class MatchPartsOut(BaseModel):
    """What the score is made of (docs/matching.md): phenotype overlap less contradictions, how alike the two
    differentials are, onset (+1 same class, -1 far apart), sex (-1 known and different), shared genes."""

    phenotype: float
    differential: float
    onset: float
    sex: float
    genes: float


class SimilarMatchOut(BaseModel):
    """One similar patient, by pseudonym (never an identity), with why it matched."""

    rank: int
    patient_id: int
    pseudonym: str
    score: float
    parts: MatchPartsOut
    shared_terms: list[SharedTermOut]
    shared_genes: list[str]
    shared_diseases: list[str] = Field(description="diseases leading both patients' differentials")
    contradictions: list[str]
    diagnoses: list[str] = Field(description="the similar patient's confirmed diagnoses")
    reasons: list[str]


class SimilarPatientsOut(BaseModel):
    patient_id: int
    pseudonym: str
    with_genes: bool
    n_patients: int = Field(description="how many other patients were compared")
    matches: list[SimilarMatchOut]


# -- referrals (docs/referrals.md) -----------------------------------------------------------------------------------
class ReferralQuery(BaseModel):
    """The query string of GET /api/referrals: filters and paging (drafts only with status=draft)."""

    model_config = ConfigDict(extra="forbid")
    status: ReferralStatus | None = None
    urgency: Urgency | None = None
    region: str | None = Field(default=None, max_length=100)
    offset: int = Field(default=0, ge=0, le=MAX_ID)
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class TransitionIn(Storable):
    """A status change: where to (``to``) and the version you read; ``note`` is kept in the status history;
    accepting may link a registry patient (``patient_id``) or create one (``create_patient``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"to": "submitted", "version": 1}]})
    to: ReferralStatus
    version: int = Field(ge=1, le=MAX_ID)
    note: str | None = Field(default=None, max_length=20000)
    patient_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    create_patient: bool = False


class ExpertsIn(Storable):
    """The referral's consilium: the experts' user names (the whole list)."""

    model_config = ConfigDict(extra="forbid")
    experts: list[str] = Field(min_length=1, max_length=20, examples=[["geneticist", "neurologist"]])
    version: int = Field(ge=1, le=MAX_ID)


class OpinionIn(Storable):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=20000)


class MessageIn(Storable):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=20000)


class ConclusionIn(Storable):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=MAX_ID)
    conclusion: Conclusion


class VideoIn(VideoSlot):
    """The referral's video consultation (scheduled, or changed): when and the link; ``version`` as you read it."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [
        {"version": 4, "at": "2026-12-10T10:00:00", "timezone": "Europe/Moscow",
         "url": "https://video.centre.example/room/ref-12"}]})
    version: int = Field(ge=1, le=MAX_ID)


# -- notifications --------------------------------------------------------------------------------------------------
class NotificationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unread: bool = Field(default=False, description="only the unread ones")
    offset: int = Field(default=0, ge=0, le=MAX_ID)
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class NotificationsRead(BaseModel):
    marked: int = Field(description="how many notifications were unread and are read now")
