"""The registry's tables (SQLAlchemy 2 declarative models).

The database model never leaves the registry package: the service converts rows to the pydantic
values of :mod:`raredx.registry.schemas`. Child rows (features, diagnoses, findings, ...) are values of
their patient: an update replaces a whole list, and the previous state is kept in ``patient_revisions``.
Columns whose names match a schema field are copied by name (see ``_service``); JSON columns keep
phenopacket sub-messages (time elements, ontology classes) as they came, so export gives them back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that reads back as an aware UTC datetime on every database: SQLite keeps no time zone (its
    values come back naive; they are written as UTC), PostgreSQL answers in the session's time zone. A naive
    value written means UTC. The column is ``DateTime(timezone=True)``, as the migrations create it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else _utc(value)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else _utc(value)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON, dt.datetime: UTCDateTime}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)  # published password: works only in demo mode
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    # raised by every account change (disable, role, password, ...): tokens issued before it stop working
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # a referring physician's organisation (their region is the organisation's); migration 0007
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL",
                                                                   name="fk_users_organisation_id"))
    # where their notifications are e-mailed (none: in the workbench only); migration 0008
    email: Mapped[str | None] = mapped_column(String(255))


class Organisation(Base):
    """A hospital or clinic whose doctors refer patients to the centre (managed by admins)."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    region: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)


class LoginLock(Base):
    """Wrong passwords in a row for a user name (known or not, so that a lock says nothing about which names
    exist); sign-in is refused until ``locked_until``. A right password or an admin's unlock removes the row."""

    __tablename__ = "login_locks"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class RevokedToken(Base):
    """Tokens revoked before they expire (sign-out); rows are dropped once the token would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(200), unique=True)  # EU CDE 1; phenopacket id
    subject_id: Mapped[str | None] = mapped_column(String(200))  # phenopacket subject.id
    sex: Mapped[str | None] = mapped_column(String(16))  # MALE, FEMALE, OTHER_SEX, UNKNOWN_SEX
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    region: Mapped[str | None] = mapped_column(String(100))
    vital_status: Mapped[str | None] = mapped_column(String(16))  # ALIVE, DECEASED, UNKNOWN_STATUS
    date_of_death: Mapped[dt.date | None] = mapped_column(Date)
    cause_of_death: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    first_contact_date: Mapped[dt.date | None] = mapped_column(Date)
    age_at_onset: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a phenopacket TimeElement
    onset_years: Mapped[float | None] = mapped_column(Float)  # derived from age_at_onset, for statistics
    age_at_last_encounter: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    consent_contact_research: Mapped[bool | None] = mapped_column(Boolean)
    consent_data_reuse: Mapped[bool | None] = mapped_column(Boolean)
    # Matchmaker Exchange: only True lets the patient be sent to, or returned to, another centre (migration 0006)
    consent_matchmaking: Mapped[bool | None] = mapped_column(Boolean)
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    disability: Mapped[str | None] = mapped_column(String(200))
    # identity: only users allowed to see identities get these (see security.Permission.READ_IDENTITY)
    family_name: Mapped[str | None] = mapped_column(String(200))
    given_name: Mapped[str | None] = mapped_column(String(200))
    patronymic: Mapped[str | None] = mapped_column(String(200))
    national_id: Mapped[str | None] = mapped_column(String(64))
    insurance_policy: Mapped[str | None] = mapped_column(String(64))
    identity_document: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    registry_exit_date: Mapped[dt.date | None] = mapped_column(Date)
    registry_exit_reason: Mapped[str | None] = mapped_column(String(200))
    phenopacket_meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    # bookkeeping
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    updated_by: Mapped[str] = mapped_column(String(100))
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    deleted_by: Mapped[str | None] = mapped_column(String(100))
    # the searches' indexes hold what a count needs (the filter's column, then the deletion or the patient), so
    # counting a broad match reads the index alone (migration 0004)
    __table_args__ = (Index("ix_patients_region_deleted", "region", "deleted_at"),
                      Index("ix_patients_deleted_pseudonym", "deleted_at", "pseudonym"))  # prefix search

    phenotypic_features: Mapped[list[PhenotypicFeature]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="PhenotypicFeature.position")
    diagnoses: Mapped[list[Diagnosis]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Diagnosis.position")
    interpretations: Mapped[list[Interpretation]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Interpretation.position")
    genetic_findings: Mapped[list[GeneticFinding]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="GeneticFinding.position")
    measurements: Mapped[list[Measurement]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Measurement.position")
    family_relations: Mapped[list[FamilyRelation]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="FamilyRelation.position")
    treatments: Mapped[list[Treatment]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Treatment.position")
    drug_provisions: Mapped[list[DrugProvision]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="DrugProvision.position")
    samples: Mapped[list[Sample]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Sample.position")
    visits: Mapped[list[Visit]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Visit.position")


class _Child:
    """Columns every per-patient list row has: its patient and its place in the list."""

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    @declared_attr
    def patient_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)

    @declared_attr
    def patient(cls) -> Mapped[Patient]:
        return relationship(back_populates=cls.__tablename__)  # type: ignore[attr-defined]  # a mixin: each subclass names its table


class PhenotypicFeature(_Child, Base):
    __tablename__ = "phenotypic_features"
    hpo_id: Mapped[str] = mapped_column(String(20))
    label: Mapped[str | None] = mapped_column(String(300))
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    onset: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    resolution: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    severity: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    modifiers: Mapped[list[Any] | None] = mapped_column(JSON)
    evidence: Mapped[list[Any] | None] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    recorded_on: Mapped[dt.date | None] = mapped_column(Date)
    __table_args__ = (Index("ix_phenotypic_features_hpo_observed", "hpo_id", "excluded", "patient_id"),)


class Diagnosis(_Child, Base):
    __tablename__ = "diagnoses"
    disease_id: Mapped[str] = mapped_column(String(40))  # OMIM:, ORPHA:, MONDO:, ICD10:
    label: Mapped[str | None] = mapped_column(String(300))
    icd10: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # suspected, confirmed, ruled_out
    basis: Mapped[str | None] = mapped_column(String(16))  # clinical, molecular, both
    diagnosed_on: Mapped[dt.date | None] = mapped_column(Date)
    age_at_diagnosis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    diagnosis_years: Mapped[float | None] = mapped_column(Float)  # derived
    onset: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (Index("ix_diagnoses_disease_patient", "disease_id", "patient_id"),
                      Index("ix_diagnoses_status_patient", "status", "patient_id"))


class Interpretation(_Child, Base):
    __tablename__ = "interpretations"
    interpretation_id: Mapped[str] = mapped_column(String(200))
    progress_status: Mapped[str | None] = mapped_column(String(20))
    disease_id: Mapped[str | None] = mapped_column(String(40))
    disease_label: Mapped[str | None] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)


class GeneticFinding(_Child, Base):
    __tablename__ = "genetic_findings"
    interpretation_id: Mapped[str | None] = mapped_column(String(200))
    gene_symbol: Mapped[str | None] = mapped_column(String(40))
    gene_id: Mapped[str | None] = mapped_column(String(40))  # HGNC:1234
    hgvs: Mapped[str | None] = mapped_column(String(400))  # derived: the first HGVS expression, for search
    expressions: Mapped[list[Any] | None] = mapped_column(JSON)
    zygosity: Mapped[str | None] = mapped_column(String(20))  # GENO id
    zygosity_label: Mapped[str | None] = mapped_column(String(60))
    acmg_class: Mapped[str | None] = mapped_column(String(40))
    interpretation_status: Mapped[str | None] = mapped_column(String(40))
    therapeutic_actionability: Mapped[str | None] = mapped_column(String(40))
    subject_or_biosample_id: Mapped[str | None] = mapped_column(String(200))
    variant_id: Mapped[str | None] = mapped_column(String(400))
    variant_label: Mapped[str | None] = mapped_column(String(400))
    variant_description: Mapped[str | None] = mapped_column(Text)
    molecule_context: Mapped[str | None] = mapped_column(String(40))
    structural_type: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    vcf: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    testing_lab: Mapped[str | None] = mapped_column(String(200))
    tested_on: Mapped[dt.date | None] = mapped_column(Date)
    __table_args__ = (Index("ix_genetic_findings_gene_patient", "gene_symbol", "patient_id"),)


class Measurement(_Child, Base):
    __tablename__ = "measurements"
    assay: Mapped[dict[str, Any]] = mapped_column(JSON)
    value: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    time_observed: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class FamilyRelation(_Child, Base):
    __tablename__ = "family_relations"
    relative_pseudonym: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(40))  # mother, father, sibling, child, other
    affected: Mapped[bool | None] = mapped_column(Boolean)
    notes: Mapped[str | None] = mapped_column(Text)


class Treatment(_Child, Base):
    __tablename__ = "treatments"
    drug_inn: Mapped[str] = mapped_column(String(200))
    atc_code: Mapped[str | None] = mapped_column(String(10))
    agent_id: Mapped[str | None] = mapped_column(String(60))
    indication: Mapped[str | None] = mapped_column(String(40))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    stop_date: Mapped[dt.date | None] = mapped_column(Date)
    dose: Mapped[str | None] = mapped_column(String(200))
    route: Mapped[str | None] = mapped_column(String(60))


class DrugProvision(_Child, Base):
    __tablename__ = "drug_provisions"
    drug_inn: Mapped[str] = mapped_column(String(200))
    atc_code: Mapped[str | None] = mapped_column(String(10))
    dosage_form: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(24))
    need_identified_on: Mapped[dt.date | None] = mapped_column(Date)
    requested_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decision_note: Mapped[str | None] = mapped_column(Text)
    dispensed_on: Mapped[dt.date | None] = mapped_column(Date)
    prescription_number: Mapped[str | None] = mapped_column(String(60))
    quantity: Mapped[str | None] = mapped_column(String(60))
    funding_source: Mapped[str | None] = mapped_column(String(24))
    __table_args__ = (Index("ix_drug_provisions_status_patient", "status", "patient_id"),)


class Sample(_Child, Base):
    __tablename__ = "samples"
    sample_id: Mapped[str] = mapped_column(String(200))
    sample_type: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sampled_tissue: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    time_of_collection: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    collected_on: Mapped[dt.date | None] = mapped_column(Date)
    biobank_id: Mapped[str | None] = mapped_column(String(200))
    biobank_url: Mapped[str | None] = mapped_column(String(500))
    consent_biobank: Mapped[bool | None] = mapped_column(Boolean)


class Visit(_Child, Base):
    __tablename__ = "visits"
    visit_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str | None] = mapped_column(String(40))
    clinician: Mapped[str | None] = mapped_column(String(200))
    disability: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)


class PatientRevision(Base):
    """The full record as it was after each write: nothing is overwritten silently. One row per version of a
    patient (the database refuses a second; see ``Registry._next_version`` for the lock that makes it so)."""

    __tablename__ = "patient_revisions"
    __table_args__ = (UniqueConstraint("patient_id", "version", name="uq_patient_revisions_patient_id_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    by: Mapped[str] = mapped_column(String(100))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)


class AuditEntry(Base):
    """Append-only (database triggers refuse UPDATE and DELETE): who did what to which patient, when."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now, index=True)
    username: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(24))
    patient_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Analysis(Base):
    """One differential of a stored patient, with the knowledge base that made it (the analysis history): enough
    of the ranking to compare it with a later one, and what changed since the patient's previous analysis. Not a
    list of the patient record (not in ``CHILD_MODELS``): analyses are not part of the record, nor of its
    revisions or exports."""

    __tablename__ = "analyses"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    patient_version: Mapped[int] = mapped_column(Integer)  # the record version analysed
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    triggered_by: Mapped[str] = mapped_column(String(100))  # the user, or "system" for the command line
    trigger: Mapped[str] = mapped_column(String(24))  # diagnose (workbench, API), reanalysis
    kb_version: Mapped[str] = mapped_column(String(300))
    kb_fingerprint: Mapped[str] = mapped_column(String(64))
    raredx_version: Mapped[str] = mapped_column(String(40))
    results: Mapped[list[Any]] = mapped_column(JSON)  # schemas.AnalysisResult, best first
    linked_genes: Mapped[dict[str, Any]] = mapped_column(JSON)  # variant gene -> disease ids the kb links it to
    changes: Mapped[list[Any]] = mapped_column(JSON)  # schemas.AnalysisChange since the baseline
    n_changes: Mapped[int] = mapped_column(Integer, default=0)  # len(changes): the changed list without JSON tests
    compared_with: Mapped[int | None] = mapped_column(Integer)  # the baseline: the latest analysis on another kb
    __table_args__ = (Index("ix_analyses_patient_id", "patient_id", "id"),)


class MmePeer(Base):
    """A Matchmaker Exchange node this centre matches with (migration 0006): where to send our requests and the
    token we send (``outgoing_token``, theirs to check), and the SHA-256 of the token they send us (the token itself
    is shown once, when the peer is added, and never stored)."""

    __tablename__ = "mme_peers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    base_url: Mapped[str] = mapped_column(String(500))
    outgoing_token: Mapped[str] = mapped_column(String(500))
    incoming_token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    contact_name: Mapped[str | None] = mapped_column(String(255))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    contact_institution: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(100))
class Referral(Base):
    """A request of an external doctor for the centre's opinion on a patient (docs/referrals.md): who referred whom
    with what question, its status in the workflow (``raredx.registry.referrals.TRANSITIONS``), the differential
    made when it was submitted, and the conclusion. The patient is kept with the referral (identity or a pseudonym,
    as the referrer chose); accepting it may link a registry patient (``patient_id``)."""

    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    urgency: Mapped[str] = mapped_column(String(16))
    referrer: Mapped[str] = mapped_column(String(100), index=True)  # the referring physician's user name
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    region: Mapped[str | None] = mapped_column(String(100))  # the organisation's when it was referred
    patient: Mapped[dict[str, Any]] = mapped_column(JSON)  # schemas.ReferralPatient
    clinical_question: Mapped[str] = mapped_column(Text)
    phenotype: Mapped[list[Any]] = mapped_column(JSON)  # schemas.ReferralTerm
    history: Mapped[str | None] = mapped_column(Text)
    tests_done: Mapped[str | None] = mapped_column(Text)
    genetic_results: Mapped[str | None] = mapped_column(Text)
    genetic_findings: Mapped[list[Any]] = mapped_column(JSON)  # schemas.GeneticFinding
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"))
    differential: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # schemas.ReferralDifferential
    conclusion: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # schemas.Conclusion
    concluded_by: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    concluded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    updated_by: Mapped[str] = mapped_column(String(100))
    # the video consultation, if one is scheduled (migration 0008): when (UTC, and the time zone it was given in),
    # the link to the centre's video service, who set it
    video_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    video_timezone: Mapped[str | None] = mapped_column(String(64))
    video_url: Mapped[str | None] = mapped_column(String(500))
    video_by: Mapped[str | None] = mapped_column(String(100))
    __table_args__ = (Index("ix_referrals_status_due", "status", "due_at"),)


class _OfReferral:
    id: Mapped[int] = mapped_column(primary_key=True)

    @declared_attr
    def referral_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)


class ReferralStatusChange(_OfReferral, Base):
    """Each status a referral took, by whom and when (``from_status`` ``None``: created)."""

    __tablename__ = "referral_status_changes"
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    by: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class ReferralAssignment(_OfReferral, Base):
    """An expert of the referral's consilium."""

    __tablename__ = "referral_assignments"
    __table_args__ = (UniqueConstraint("referral_id", "expert", name="uq_referral_assignments_referral_id_expert"),)
    expert: Mapped[str] = mapped_column(String(100), index=True)
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    assigned_by: Mapped[str] = mapped_column(String(100))


class ReferralMessage(_OfReferral, Base):
    """One message of a referral's thread (referrer, coordinator, experts)."""

    __tablename__ = "referral_messages"
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    author: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)


class ReferralOpinion(_OfReferral, Base):
    """One expert's opinion in the consilium (one per expert; writing again replaces it)."""

    __tablename__ = "referral_opinions"
    __table_args__ = (UniqueConstraint("referral_id", "expert", name="uq_referral_opinions_referral_id_expert"),)
    expert: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)


class ReferralAttachment(_OfReferral, Base):
    """A file sent with a referral: kept outside the database under its SHA-256 (``sha256``), described here."""

    __tablename__ = "referral_attachments"
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # pdf, png, jpeg, vcf, vcf.gz, csv, tsv, xlsx
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    uploaded_by: Mapped[str] = mapped_column(String(100))


class Notification(Base):
    """Something that happened to a referral, for one user (migration 0008): shown in the workbench until read, and
    the e-mail outbox (``emailed_at`` once sent; ``email_error`` the last failure). Written in the transaction of the
    event; e-mail goes out after it commits."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))  # the recipient
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # raredx.registry.schemas.NOTIFICATION_KINDS
    actor: Mapped[str] = mapped_column(String(100))  # who caused it
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # what the text needs (a status, a time)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    email_error: Mapped[str | None] = mapped_column(Text)
    email_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    __table_args__ = (Index("ix_notifications_username_read", "username", "read_at", "id"),
                      Index("ix_notifications_pending_email", "emailed_at", "id"))


# The per-patient list tables, by the name of their relationship on Patient (= their table name and the field of
# the patient schemas; raredx.registry._service pairs them with raredx.registry.schemas.CHILD_SCHEMAS).
CHILD_MODELS: dict[str, type[Base]] = {r.key: r.mapper.class_ for r in inspect(Patient).relationships}
