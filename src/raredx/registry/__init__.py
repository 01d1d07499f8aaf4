"""The rare-disease patient registry: SQLAlchemy models, Alembic migrations, the service every interface uses,
phenopacket import/export, cohort statistics, users, roles and the audit log.

>>> from raredx.registry import Registry, SYSTEM, PatientCreate        # doctest: +SKIP
>>> reg = Registry.open("sqlite:///registry.sqlite3")                  # doctest: +SKIP
>>> reg.create_patient(SYSTEM, PatientCreate(pseudonym="RDX-1", sex="FEMALE")).id  # doctest: +SKIP
1
"""

from raredx.registry._db import make_engine, migrate
from raredx.registry._service import ImportReport, Registry
from raredx.registry.phenopackets import (
    HELD,
    POLICIES,
    Policy,
    check_policy,
    held_fields,
    patient_from_phenopacket,
    phenopacket_from_patient,
)
from raredx.registry.schemas import (
    PatientCreate,
    PatientFilter,
    PatientPublic,
    PatientsPublic,
    PatientSummaries,
    PatientSummary,
    PatientUpdate,
)
from raredx.registry.security import ROLES, SYSTEM, Actor, Permission

__all__ = [
    "HELD",
    "POLICIES",
    "ROLES",
    "SYSTEM",
    "Actor",
    "ImportReport",
    "PatientCreate",
    "PatientFilter",
    "PatientPublic",
    "PatientSummaries",
    "PatientSummary",
    "PatientUpdate",
    "PatientsPublic",
    "Permission",
    "Policy",
    "Registry",
    "check_policy",
    "held_fields",
    "make_engine",
    "migrate",
    "patient_from_phenopacket",
    "phenopacket_from_patient",
]
