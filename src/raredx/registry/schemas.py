"""The registry's values: what goes in and comes out of the service (and the API), never the tables.

One family per resource, as in the FastAPI full-stack template: ``PatientCreate`` (input),
``PatientUpdate`` (partial input; ``version`` guards against overwriting someone else's edit),
``PatientPublic`` (output; ``identity`` is ``None`` for users who may only see pseudonymised data) and
``PatientsPublic`` (a page of them with the total count). Child lists are immutable values of their
patient: an update gives the whole new list. Phenopacket sub-messages (time elements, ontology classes)
are kept as the JSON objects of the Phenopacket v2 schema.
"""

from __future__ import annotations

import datetime as dt
import math
import types
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from raredx.errors import Message

Sex = Literal["MALE", "FEMALE", "OTHER_SEX", "UNKNOWN_SEX"]
VitalStatus = Literal["ALIVE", "DECEASED", "UNKNOWN_STATUS"]
DiagnosisStatus = Literal["suspected", "confirmed", "ruled_out"]
DiagnosisBasis = Literal["clinical", "molecular", "both"]
ProvisionStatus = Literal["need_identified", "request_submitted", "approved", "rejected", "dispensed", "discontinued"]
FundingSource = Literal["federal", "regional", "insurance", "charity", "hospital", "other"]
Relation = Literal["mother", "father", "sibling", "child", "twin", "grandparent", "cousin", "other"]

Json = dict[str, Any]

# The largest id, version or offset the registry takes: its id columns are INTEGER, 32 bits on PostgreSQL (64 on
# SQLite). The API bounds path ids, versions and paging with it, so a larger number is a 422, not an overflow
# in the database driver; the service treats a larger id as not found.
MAX_ID = 2**31 - 1
MAX_PAGE = 500  # the most patients or audit entries one page gives

# The vocabularies as tuples (form choices, checks), read off the Literal types: one definition each.
SEXES: tuple[str, ...] = get_args(Sex)
VITAL_STATUSES: tuple[str, ...] = get_args(VitalStatus)
DIAGNOSIS_STATUSES: tuple[str, ...] = get_args(DiagnosisStatus)
DIAGNOSIS_BASES: tuple[str, ...] = get_args(DiagnosisBasis)
PROVISION_STATUSES: tuple[str, ...] = get_args(ProvisionStatus)
FUNDING_SOURCES: tuple[str, ...] = get_args(FundingSource)


def unstorable(value: Any, where: str = "") -> str | None:
    """What in ``value`` (a text, a number, or lists and dicts of them, a model) no database column takes: a NUL
    character or an unpaired surrogate in a text (PostgreSQL refuses the first, UTF-8 cannot encode the second),
    a number that is not finite (JSON has no NaN; PostgreSQL's JSON refuses it); ``None`` when there is none."""
    if isinstance(value, str):
        if "\x00" in value:
            return f"{where or 'the text'} contains a NUL character (\\u0000); remove it."
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return f"{where or 'the text'} contains an unpaired UTF-16 surrogate; send valid Unicode text."
    elif isinstance(value, float) and not math.isfinite(value):
        return f"{where or 'the number'} is {value}; give a finite number."
    elif isinstance(value, dict):
        for k, v in value.items():
            name = str(k) if str(k).isprintable() else ascii(str(k))  # the message must be storable too
            here = f"{where}.{name}" if where else name
            if why := unstorable(k, f"the key {here}") or unstorable(v, here):
                return why
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            if why := unstorable(v, f"{where}[{i}]"):
                return why
    elif isinstance(value, BaseModel):
        return unstorable(value.model_dump(), where)
    return None


class Storable(BaseModel):
    """An input model whose values are refused when :func:`unstorable` finds something in them (what is written
    to or searched in the database, or echoed back)."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        if why := unstorable(data):
            raise ValueError(why)
        return data


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", from_attributes=True)


class _Input(_Value, Storable):
    pass


class PhenotypicFeature(_Value):
    hpo_id: str = Field(pattern=r"^HP:\d{7}$", examples=["HP:0001166"])
    label: str | None = None
    excluded: bool = False
    onset: Json | None = None
    resolution: Json | None = None
    severity: Json | None = None
    modifiers: list[Json] | None = None
    evidence: list[Json] | None = None
    description: str | None = None
    recorded_on: dt.date | None = None


class Diagnosis(_Value):
    disease_id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9.]*:\S+$", examples=["ORPHA:558", "OMIM:154700"])
    label: str | None = None
    icd10: str | None = Field(default=None, examples=["Q87.4"])
    status: DiagnosisStatus = "confirmed"
    basis: DiagnosisBasis | None = None
    diagnosed_on: dt.date | None = None
    age_at_diagnosis: Json | None = None
    onset: Json | None = None


class Interpretation(_Value):
    interpretation_id: str
    progress_status: str | None = None
    disease_id: str | None = None
    disease_label: str | None = None
    summary: str | None = None


class Expression(_Value):
    syntax: str
    value: str
    version: str | None = None


class GeneticFinding(_Value):
    interpretation_id: str | None = None  # links the finding to an Interpretation of the same patient
    gene_symbol: str | None = Field(default=None, examples=["FBN1"])
    gene_id: str | None = Field(default=None, examples=["HGNC:3603"])
    expressions: list[Expression] = []  # hgvs.c, hgvs.p, hgvs.g, ...
    zygosity: str | None = Field(default=None, examples=["GENO:0000135"])
    zygosity_label: str | None = None
    acmg_class: str | None = Field(default=None, examples=["PATHOGENIC"])
    interpretation_status: str | None = None
    therapeutic_actionability: str | None = None
    subject_or_biosample_id: str | None = None
    variant_id: str | None = None
    variant_label: str | None = None
    variant_description: str | None = None
    molecule_context: str | None = None
    structural_type: Json | None = None
    vcf: Json | None = None
    testing_lab: str | None = None
    tested_on: dt.date | None = None

    @property
    def hgvs(self) -> str | None:
        return next((e.value for e in self.expressions if e.syntax.startswith("hgvs")), None)

    @property
    def variant_text(self) -> str | None:
        """The variant as a reader names it: its HGVS expression, else its label or description, with a structural
        variant's type (``telomeric 11q deletion (chromosomal deletion)``); None if the finding names only a gene."""
        name = self.hgvs or self.variant_label or self.variant_description
        kind = str((self.structural_type or {}).get("label") or "").replace("_", " ") or None
        if name and kind and kind.lower() not in name.lower():
            return f"{name} ({kind})"
        return name or kind


class Measurement(_Value):
    assay: Json
    value: Json | None = None
    description: str | None = None
    time_observed: Json | None = None


class FamilyRelation(_Value):
    relative_pseudonym: str
    relation: Relation
    affected: bool | None = None
    notes: str | None = None


class Treatment(_Value):
    drug_inn: str = Field(examples=["nusinersen"])
    atc_code: str | None = Field(default=None, pattern=r"^[A-Z]\d{2}[A-Z]{0,2}\d{0,2}$", examples=["M09AX07"])
    agent_id: str | None = None
    indication: str | None = None
    start_date: dt.date | None = None
    stop_date: dt.date | None = None
    dose: str | None = None
    route: str | None = None


class DrugProvision(_Value):
    drug_inn: str
    atc_code: str | None = Field(default=None, pattern=r"^[A-Z]\d{2}[A-Z]{0,2}\d{0,2}$")
    dosage_form: str | None = None
    status: ProvisionStatus = "need_identified"
    need_identified_on: dt.date | None = None
    requested_on: dt.date | None = None
    decided_on: dt.date | None = None
    decision_note: str | None = None
    dispensed_on: dt.date | None = None
    prescription_number: str | None = None
    quantity: str | None = None
    funding_source: FundingSource | None = None


class Sample(_Value):
    sample_id: str
    sample_type: Json | None = None
    sampled_tissue: Json | None = None
    time_of_collection: Json | None = None
    collected_on: dt.date | None = None
    biobank_id: str | None = None
    biobank_url: str | None = None
    consent_biobank: bool | None = None


class Visit(_Value):
    visit_date: dt.date
    kind: str | None = None
    clinician: str | None = None
    disability: str | None = None
    notes: str | None = None


class Identity(_Value):
    """Directly identifying data: hidden from users who may see pseudonymised data only."""

    family_name: str | None = None
    given_name: str | None = None
    patronymic: str | None = None
    date_of_birth: dt.date | None = None
    national_id: str | None = None
    insurance_policy: str | None = None
    identity_document: str | None = None
    address: str | None = None


IDENTITY_FIELDS: tuple[str, ...] = tuple(Identity.model_fields)


# At most this many entries in each of a patient's lists (features, diagnoses, ...): far more than any record
# needs, and a bound on what one request can make the registry store.
MAX_ITEMS = 1000
_T = TypeVar("_T")
Items = Annotated[list[_T], Field(max_length=MAX_ITEMS)]


class _PatientFields(_Value):
    subject_id: str | None = None
    sex: Sex | None = None
    region: str | None = Field(default=None, max_length=100)
    vital_status: VitalStatus | None = None
    date_of_death: dt.date | None = None
    cause_of_death: Json | None = None
    first_contact_date: dt.date | None = None
    age_at_onset: Json | None = Field(default=None, examples=[{"age": {"iso8601duration": "P3Y"}}])
    age_at_last_encounter: Json | None = None
    consent_contact_research: bool | None = None
    consent_data_reuse: bool | None = None
    consent_matchmaking: bool | None = None  # Matchmaker Exchange: only True shares the patient with other centres
    consent_date: dt.date | None = None
    disability: str | None = None
    registry_exit_date: dt.date | None = None
    registry_exit_reason: str | None = None
    phenopacket_meta: Json | None = None
    synthetic: bool = False
    identity: Identity | None = None
    phenotypic_features: Items[PhenotypicFeature] = []
    diagnoses: Items[Diagnosis] = []
    interpretations: Items[Interpretation] = []
    genetic_findings: Items[GeneticFinding] = []
    measurements: Items[Measurement] = []
    family_relations: Items[FamilyRelation] = []
    treatments: Items[Treatment] = []
    drug_provisions: Items[DrugProvision] = []
    samples: Items[Sample] = []
    visits: Items[Visit] = []


# The patient's child lists (field name -> item schema), read off the fields above.
CHILD_SCHEMAS: dict[str, type[_Value]] = {
    name: args[0] for name, f in _PatientFields.model_fields.items()
    if get_origin(f.annotation) is list and (args := get_args(f.annotation)) and issubclass(args[0], _Value)
}


PSEUDONYM_MAX_LENGTH = 200
PSEUDONYM_RULE = Message(f"a pseudonym is 1 to {PSEUDONYM_MAX_LENGTH} characters without / \\ .. or control "
                         "characters, and does not begin or end with a space", "pseudonym.rule", max=PSEUDONYM_MAX_LENGTH)
_CONTROL = ("Cc", "Cf", "Cs", "Zl", "Zp")  # control, format (e.g. bidi overrides), surrogates, line breaks


def pseudonym_problem(value: str) -> Message | None:
    """What makes ``value`` unusable as a pseudonym (it is a phenopacket id, names the patient's exported file and
    goes into links), or None. A pseudonym is checked on every way in: the API, the workbench, an import."""
    if not value.strip():
        return Message("is empty", "pseudonym.empty")
    if len(value) > PSEUDONYM_MAX_LENGTH:
        return Message(f"is {len(value)} characters long, more than {PSEUDONYM_MAX_LENGTH}", "pseudonym.too_long",
                       n=len(value), max=PSEUDONYM_MAX_LENGTH)
    if value != value.strip():
        return Message("begins or ends with white space", "pseudonym.spaces")
    bad = next((ch for ch in value if unicodedata.category(ch) in _CONTROL), None)
    if bad is not None:
        return Message(f"contains the control character U+{ord(bad):04X}", "pseudonym.control", code=f"U+{ord(bad):04X}")
    if "/" in value or "\\" in value:
        return Message("contains a path separator (/ or \\)", "pseudonym.separator")
    if ".." in value:
        return Message("contains '..'", "pseudonym.dots")
    return None


def _pseudonym(value: str) -> str:
    problem = pseudonym_problem(value)
    if problem:
        shown = repr(value if len(value) <= 60 else value[:57] + "...")
        raise ValueError(f"the pseudonym {shown} {problem}; {PSEUDONYM_RULE}")
    return value


# The rule as a pattern, for the API's schema (the check above is the one applied; the two say the same).
_PSEUDONYM_PATTERN = (r"^(?!.*\.\.)[^\s/\\\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]"
                      r"(?:[^/\\\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]*"
                      r"[^\s/\\\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff])?$")
Pseudonym = Annotated[str, Field(min_length=1, max_length=PSEUDONYM_MAX_LENGTH, examples=["RDX-000123"],
                                 json_schema_extra={"pattern": _PSEUDONYM_PATTERN}),
                      AfterValidator(_pseudonym)]


class PatientCreate(_PatientFields, _Input):
    pseudonym: Pseudonym


def _nullable(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def _no_default(f: FieldInfo) -> Callable[[dict[str, Any]], None]:
    """The field's own schema extras (a pseudonym's pattern), without the ``None`` default of a partial update."""
    own = f.json_schema_extra

    def extra(schema: dict[str, Any]) -> None:
        if isinstance(own, dict):
            schema.update(own)
        schema.pop("default", None)

    return extra


def _optional(f: FieldInfo) -> tuple[Any, FieldInfo]:
    """A field of a partial update: may be left out (``None`` then means "unchanged"), keeps its constraints, and
    may be sent as ``null`` only if its value may be null (a child list: ``null`` empties it)."""
    if _nullable(f.annotation) or get_origin(f.annotation) is list:
        return Optional[f.annotation], FieldInfo.merge_field_infos(f, default=None)  # noqa: UP045
    return f.annotation, FieldInfo.merge_field_infos(f, default=None, json_schema_extra=_no_default(f))


def _all_optional(name: str, base: type[BaseModel], doc: str, **extra: Any) -> type[BaseModel]:
    fields: dict[str, Any] = {k: _optional(f) for k, f in base.model_fields.items()}
    fields.update(extra)
    return create_model(name, __base__=_Input, __doc__=doc, **fields)


if TYPE_CHECKING:  # the type checker's view of the model made below: PatientCreate's fields, all optional

    class PatientUpdate(_Value):
        version: int

        def __init__(self, *, version: int, **fields: Any) -> None: ...
        def __getattr__(self, name: str) -> Any: ...
else:
    PatientUpdate = _all_optional(
        "PatientUpdate", PatientCreate,
        "A partial update: only the fields given change (a list replaces the whole list). ``version`` must be the "
        "version you read; if someone saved in between, the update is refused (409) instead of overwriting them.",
        version=(int, Field(ge=1, le=MAX_ID)),
    )


class PatientPublic(_PatientFields):
    id: int
    pseudonym: str
    version: int
    birth_year: int | None = None
    created_at: AwareDatetime  # timestamps: UTC, with the offset (raredx.registry._models.UTCDateTime)
    created_by: str
    updated_at: AwareDatetime
    updated_by: str
    deleted_at: AwareDatetime | None = None


class PatientsPublic(_Value):
    data: list[PatientPublic]
    count: int
    offset: int
    limit: int


class DiagnosisSummary(_Value):
    disease_id: str
    label: str | None = None
    status: DiagnosisStatus


class PatientSummary(_Value):
    """One line of a patient list (``GET /api/patients``; ``view=full`` gives :class:`PatientPublic` instead):
    who, the main diagnosis, how many entries each of the record's lists has, when it last changed. ``identity``
    is ``None`` for users who may see pseudonymised data only, as in :class:`PatientPublic`."""

    id: int
    pseudonym: str
    version: int
    sex: Sex | None = None
    birth_year: int | None = None
    vital_status: VitalStatus | None = None
    region: str | None = None
    identity: Identity | None = None
    main_diagnosis: DiagnosisSummary | None = Field(
        default=None, description="The first confirmed diagnosis, else the first suspected one (never a ruled-out one).")
    counts: dict[str, int] = Field(default_factory=dict, examples=[{"phenotypic_features": 12, "diagnoses": 1}],
                                   description="How many entries each of the record's lists has (those with any).")
    updated_at: dt.datetime
    deleted_at: dt.datetime | None = None


class PatientSummaries(_Value):
    data: list[PatientSummary]
    count: int
    offset: int
    limit: int


class PatientFilter(_Input):
    """Search criteria, combined with AND. ``hpo`` matches the term and all its descendants (observed only);
    ``disease`` matches any id of the same disease concept (OMIM, ORPHA, MONDO) when a knowledge base is loaded."""

    disease: str | None = None
    gene: str | None = None
    hpo: str | None = None
    region: str | None = None
    diagnosis_status: DiagnosisStatus | None = None
    provision_status: ProvisionStatus | None = None
    pseudonym: str | None = None  # prefix
    include_deleted: bool = False

    @field_validator("gene")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        return v.strip().upper() if v else v


class Revision(_Value):
    version: int
    action: str
    at: AwareDatetime
    by: str
    snapshot: Json


class AuditRecord(_Value):
    id: int
    at: AwareDatetime
    username: str
    role: str
    action: str
    patient_id: int | None
    detail: Json | None


class AuditPage(_Value):
    """A page of the audit log (newest first) with the number of entries there are in all."""

    data: list[AuditRecord]
    count: int
    offset: int
    limit: int


class PeerCreate(_Input):
    """A Matchmaker Exchange node to match with: its name, the base URL of its MME API (``/match`` is appended), the
    token it gave us to send (``X-Auth-Token``) and whom to contact there."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
    base_url: str = Field(min_length=8, max_length=500, pattern=r"^https?://[^\s]+$")
    outgoing_token: str | None = Field(default=None, min_length=16, max_length=500, pattern=r"^[\x21-\x7e]+$")
    contact_name: str | None = Field(default=None, max_length=255)
    contact_email: str | None = Field(default=None, max_length=255)
    contact_institution: str | None = Field(default=None, max_length=255)
    enabled: bool = True


class PeerPublic(_Value):
    """A peer as shown to an admin: never a token (the outgoing one stays in the registry, the incoming one is only
    its hash)."""

    id: int
    name: str
    base_url: str
    contact_name: str | None = None
    contact_email: str | None = None
    contact_institution: str | None = None
    enabled: bool
    has_outgoing_token: bool = False  # requests are sent to it only once it has one
    created_at: dt.datetime
    created_by: str


class PeerTarget(_Value):
    """Where to send a match request and with which token (for the MME client only)."""

    name: str
    base_url: str
    outgoing_token: str


class UserPublic(_Value):
    id: int
    username: str
    role: str
    active: bool
    demo: bool = False
    organisation_id: int | None = None  # a referring physician's organisation
    created_at: dt.datetime | None = None
    failed_logins: int = 0  # wrong passwords in a row, lately
    locked_until: dt.datetime | None = None  # sign-in refused until then (an admin can unlock)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def locked(self) -> bool:
        return self.locked_until is not None


# -- the analysis history (a differential of a stored patient, with the knowledge base that made it) --------------
ChangeKind = Literal["new_in_top", "probability_rise", "new_gene_link"]
CHANGE_KINDS: tuple[str, ...] = get_args(ChangeKind)


class AnalysisResult(_Value):
    """One disease of a stored differential: enough to compare it with a later one."""

    rank: int
    disease_ids: tuple[str, ...] = Field(examples=[("OMIM:154700", "ORPHA:558")])
    name: str
    probability: float
    genes: tuple[str, ...] = ()  # the disease's genes (Mendelian first)
    matched_terms: tuple[str, ...] = ()  # the patient's observed terms that count for it


class AnalysisChange(_Value):
    """What changed materially for a patient between two analyses, and why (``reason``: one English sentence; the
    fields say the same for a reader that words it otherwise)."""

    kind: ChangeKind = Field(description="new_in_top: a disease entered the top 5; probability_rise: a candidate's "
                                         "probability rose by the threshold or more; new_gene_link: the knowledge base "
                                         "now links a gene among the patient's variants to a disease.")
    disease_id: str
    disease_name: str
    gene: str | None = None
    rank_before: int | None = None  # None: not among the stored top of the earlier analysis
    rank_after: int | None = None
    probability_before: float | None = None
    probability_after: float | None = None
    newly_matched: tuple[str, ...] = ()  # observed terms that count for the disease now and did not before
    record_changed: bool = False  # the patient's record changed between the two analyses too
    reason: str = ""


class AnalysisCreate(_Value):
    """A differential of a stored patient, to keep (see :meth:`raredx.registry.Registry.record_analyses`)."""

    patient_version: int
    trigger: str = Field(max_length=24)
    kb_version: str = Field(max_length=300)
    kb_fingerprint: str = Field(max_length=64)
    raredx_version: str = Field(max_length=40)
    results: tuple[AnalysisResult, ...]
    linked_genes: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="Each of the patient's variant genes that the knowledge base links to a "
                                          "disease, with those diseases' ids.")
    changes: tuple[AnalysisChange, ...] = ()
    compared_with: int | None = None  # the analysis the changes are against


class AnalysisRecord(AnalysisCreate):
    """A stored analysis: who or what ran it (``triggered_by``, ``trigger``), when, on which knowledge base."""

    id: int
    patient_id: int
    created_at: AwareDatetime
    triggered_by: str


class ChangedPatient(_Value):
    """A patient whose latest analysis changed materially from the one before on an older knowledge base."""

    patient_id: int
    pseudonym: str
    previous_kb_version: str | None
    analysis: AnalysisRecord


class ChangedPatients(_Value):
    data: list[ChangedPatient]
    count: int
    offset: int
    limit: int


class AnalysisPage(_Value):
    """A page of a patient's analysis history (newest first) with how many analyses there are in all."""

    data: list[AnalysisRecord]
    count: int
    offset: int
    limit: int


# -- organisations and referrals (remote consultation, docs/referrals.md) -------------------------------------------
ReferralStatus = Literal["draft", "submitted", "accepted", "returned_for_information", "assigned", "in_review",
                         "concluded", "closed", "withdrawn"]
Urgency = Literal["routine", "urgent", "emergency"]
REFERRAL_STATUSES: tuple[str, ...] = get_args(ReferralStatus)
URGENCIES: tuple[str, ...] = get_args(Urgency)
LongText = Annotated[str, Field(max_length=20000)]


def _required_text(name: str, what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value.strip():
            raise ValueError(f"{name} is empty; {what}")
        return value.strip()

    return check


def _region(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None


OrgRegion = Annotated[str | None, Field(default=None, max_length=100, examples=["Tver"]), AfterValidator(_region)]


class OrganisationCreate(_Input):
    name: Annotated[str, Field(min_length=1, max_length=200, examples=["Regional Children's Hospital, Tver"]),
                    AfterValidator(_required_text("name", "give the organisation's name."))]
    region: OrgRegion


class OrganisationUpdate(_Input):
    name: Annotated[str | None, Field(default=None, min_length=1, max_length=200),
                    AfterValidator(lambda v: v if v is None else _required_text("name", "give the organisation's name.")(v))]
    region: OrgRegion


class OrganisationPublic(_Value):
    id: int
    name: str
    region: str | None = None
    created_at: AwareDatetime


class OrganisationUsage(OrganisationPublic):
    """An organisation with how many users and referrals name it (what an admin weighs before deleting it)."""

    users: int
    referrals: int


class ReferralPatient(_Input):
    """Who is referred: their identity, or only a pseudonym (``pseudonymous``) when the referrer prefers; sex and
    date of birth either way (the differential uses sex and age)."""

    pseudonymous: bool = False
    pseudonym: str | None = Field(default=None, max_length=PSEUDONYM_MAX_LENGTH, examples=["TVER-2026-17"])
    sex: Sex | None = None
    date_of_birth: dt.date | None = None
    identity: Identity | None = None

    @model_validator(mode="after")
    def _who(self) -> ReferralPatient:
        if self.pseudonymous and self.identity is not None:
            raise ValueError("patient.identity: a pseudonymous referral carries no identity; leave identity out, or "
                             "set pseudonymous to false.")
        if self.pseudonymous and not (self.pseudonym or "").strip():
            raise ValueError("patient.pseudonym: a pseudonymous referral needs the pseudonym you know the patient by.")
        if not self.pseudonymous and not (self.identity and (self.identity.family_name or self.identity.given_name)) \
                and not (self.pseudonym or "").strip():
            raise ValueError("patient: give the patient's identity (identity.family_name, identity.given_name) or a "
                             "pseudonym with pseudonymous: true.")
        if self.pseudonym is not None and (problem := pseudonym_problem(self.pseudonym)):
            raise ValueError(f"patient.pseudonym {problem}; {PSEUDONYM_RULE}")
        return self


class ReferralTerm(_Value):
    """A phenotypic feature of the referral: an HPO term, observed or explicitly excluded."""

    hpo_id: str = Field(pattern=r"^HP:\d{7}$", examples=["HP:0001250"])
    label: str | None = None
    excluded: bool = False


_QUESTION = "write the question you ask the centre (e.g. which diagnosis fits, which test to order next)."


class _ReferralFields(_Value):
    urgency: Urgency = "routine"
    patient: ReferralPatient
    clinical_question: Annotated[str, Field(min_length=1, max_length=5000), AfterValidator(
        _required_text("clinical_question", _QUESTION))]
    phenotype: Items[ReferralTerm] = []
    history: LongText | None = None
    tests_done: LongText | None = None
    genetic_results: LongText | None = Field(default=None, description="the genetic results as text (a report's "
                                                                        "summary); genetic_findings gives them structured")
    genetic_findings: Items[GeneticFinding] = []


class ReferralCreate(_ReferralFields, _Input):
    """A new referral (a draft until submitted). ``clinical_question`` and ``patient`` are required."""


if TYPE_CHECKING:

    class ReferralUpdate(_Value):
        version: int

        def __init__(self, *, version: int, **fields: Any) -> None: ...
        def __getattr__(self, name: str) -> Any: ...
else:
    ReferralUpdate = _all_optional(
        "ReferralUpdate", ReferralCreate,
        "A partial update of a draft or a referral returned for information: only the fields given change. "
        "``version`` must be the version you read (409 if someone saved in between).",
        version=(int, Field(ge=1, le=MAX_ID)),
    )


class ReferralDifferential(_Value):
    """The differential made when the referral was submitted: the JSON of ``raredx diagnose`` (candidates, their
    evidence, suggested next findings), or ``None`` with ``note`` saying why there is none."""

    made_at: AwareDatetime
    kb_version: str
    kb_fingerprint: str
    result: Json | None = None
    note: str | None = None


class ConclusionDiagnosis(_Value):
    disease_id: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9.]*:\S+$", examples=["ORPHA:558"])
    name: str = Field(min_length=1, max_length=500)
    status: Literal["confirmed", "probable", "differential", "ruled_out"] = "probable"


class Conclusion(_Input):
    """The consilium's conclusion, written by an assigned expert: the conclusion text (required), the diagnosis or
    differential (from the ranked list, editable), recommended tests, treatment and drug provision, follow-up."""

    text: Annotated[str, Field(min_length=1, max_length=20000), AfterValidator(
        _required_text("conclusion.text", "write the consilium's conclusion."))]
    diagnoses: Annotated[list[ConclusionDiagnosis], Field(max_length=50)] = []
    recommended_tests: LongText | None = None
    treatment: LongText | None = None
    drug_provision: LongText | None = None
    follow_up: LongText | None = None
    language: Literal["en", "ru"] | None = Field(
        default=None, description="the language the conclusion is issued in (its PDF); default: the workbench page's, "
                                  "Russian through the API")


class ConclusionPdf(_Value):
    """The conclusion as issued when the referral was concluded: its PDF, kept in the attachments store under its
    SHA-256, the language it is written in, when and by whom."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int
    language: Literal["en", "ru"]
    issued_at: AwareDatetime
    issued_by: str


class StatusChange(_Value):
    from_status: ReferralStatus | None
    to_status: ReferralStatus
    at: AwareDatetime
    by: str
    role: str
    note: str | None = None


class OpinionPublic(_Value):
    expert: str
    text: str
    created_at: AwareDatetime
    updated_at: AwareDatetime


class MessagePublic(_Value):
    id: int
    at: AwareDatetime
    author: str
    role: str
    text: str


class AttachmentPublic(_Value):
    id: int
    referral_id: int
    filename: str
    kind: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: AwareDatetime
    uploaded_by: str


class ReferralPublic(_ReferralFields):
    """A referral as the acting user may see it: ``differential`` and ``opinions`` are the centre's (empty for the
    referring physician); ``allowed`` lists the statuses this user may move it to now."""

    id: int
    status: ReferralStatus
    referrer: str
    organisation_id: int | None = None
    region: str | None = None
    patient_id: int | None = None
    differential: ReferralDifferential | None = None
    conclusion: Conclusion | None = None
    conclusion_pdf: ConclusionPdf | None = Field(default=None, description="the issued conclusion's PDF "
                                                 "(GET /api/referrals/{id}/conclusion.pdf), once concluded")
    concluded_by: str | None = None
    concluded_at: AwareDatetime | None = None
    submitted_at: AwareDatetime | None = None
    due_at: AwareDatetime | None = None
    overdue: bool = False
    version: int
    created_at: AwareDatetime
    updated_at: AwareDatetime
    updated_by: str
    experts: list[str] = []
    opinions: list[OpinionPublic] = []
    attachments: list[AttachmentPublic] = []
    status_history: list[StatusChange] = []
    allowed: list[ReferralStatus] = []


class ReferralSummary(_Value):
    """One line of a referral list."""

    id: int
    status: ReferralStatus
    urgency: Urgency
    referrer: str
    region: str | None = None
    patient: str = Field(description="the pseudonym, else the family and given names (for who may see identities)")
    clinical_question: str
    submitted_at: AwareDatetime | None = None
    due_at: AwareDatetime | None = None
    overdue: bool = False
    experts: list[str] = []
    updated_at: AwareDatetime


class ReferralsPublic(_Value):
    data: list[ReferralSummary]
    count: int
    offset: int
    limit: int


class ReferralCounts(_Value):
    """What the coordinator's dashboard shows: referrals by status, urgency, region (``""``: without one) and
    concluded diagnosis (by disease id, else name; ``diagnosis_names`` names each), how many are overdue, and the
    median days from submission to conclusion over the ``concluded`` referrals."""

    total: int
    by_status: dict[str, int]
    by_urgency: dict[str, int]
    by_region: dict[str, int]
    by_diagnosis: dict[str, int]
    diagnosis_names: dict[str, str] = {}
    overdue: int
    concluded: int = 0
    median_days_to_conclusion: float | None = None
