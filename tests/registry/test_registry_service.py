"""The registry service on SQLite and PostgreSQL: schema, CRUD with history, soft delete, audit, search, statistics."""

from __future__ import annotations

import pytest
from registry.conftest import actor, make_patient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from raredx.errors import InputError, UnknownTermError
from raredx.registry import SYSTEM, PatientFilter, Registry
from raredx.registry._db import current_revision, head_revision, make_engine, migrate, table_names
from raredx.registry.errors import ConflictError, NotFoundError, PermissionDeniedError
from raredx.registry.schemas import PatientUpdate


def head_revision() -> str | None:
    """The newest revision of the shipped migrations (whatever it is named)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from raredx.registry._db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_migration_from_an_empty_database_creates_every_table(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    assert table_names(engine) == []
    migrate(engine)
    assert current_revision(engine) == head_revision()
    assert {"patients", "phenotypic_features", "diagnoses", "genetic_findings", "treatments", "drug_provisions",
            "samples", "visits", "family_relations", "patient_revisions", "audit_log", "users", "login_locks",
            "revoked_tokens"} <= set(table_names(engine))
    migrate(engine)  # idempotent
    engine.dispose()


def head_revision() -> str | None:
    """The newest revision of the migrations shipped."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from raredx.registry._db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_migrations_give_the_tables_and_indexes_the_models_declare(empty_database_url: str) -> None:
    """The search indexes (migration 0004) are the ones the models declare: no difference left to migrate."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from raredx.registry._models import Base

    engine = make_engine(empty_database_url)
    migrate(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_create_read_keeps_every_field(registry: Registry) -> None:
    data = make_patient()
    created = registry.create_patient(actor("clinician"), data)
    got = registry.get_patient(actor("clinician"), created.id)
    assert got.version == 1 and got.created_by == "test-clinician"
    for name in ("phenotypic_features", "diagnoses", "genetic_findings", "treatments", "drug_provisions", "samples",
                 "visits", "family_relations"):
        assert getattr(got, name) == getattr(data, name), name
    assert got.identity == data.identity and got.birth_year == 2010
    assert got.age_at_onset == {"age": {"iso8601duration": "P3Y"}}


def test_researcher_sees_pseudonymised_data_only(registry: Registry) -> None:
    pid = registry.create_patient(SYSTEM, make_patient()).id
    seen = registry.get_patient(actor("researcher"), pid)
    assert seen.identity is None and seen.pseudonym == "RDX-1" and seen.birth_year == 2010
    page = registry.list_patients(actor("researcher"))
    assert page.count == 1 and page.data[0].identity is None
    doc = registry.export_phenopacket(actor("researcher"), pid)
    assert "dateOfBirth" not in doc["subject"]
    with pytest.raises(PermissionDeniedError):
        registry.create_patient(actor("researcher"), make_patient("RDX-9"))
    with pytest.raises(PermissionDeniedError):
        registry.history(actor("researcher"), pid)


def test_update_keeps_history_and_refuses_stale_versions(registry: Registry) -> None:
    c = actor("clinician")
    pid = registry.create_patient(c, make_patient()).id
    updated = registry.update_patient(c, pid, PatientUpdate(version=1, region="South", phenotypic_features=[
        {"hpo_id": "HP:0000098", "label": "Tall stature"}]))
    assert updated.version == 2 and updated.region == "South"
    assert [f.hpo_id for f in updated.phenotypic_features] == ["HP:0000098"]
    assert updated.diagnoses  # untouched lists stay
    with pytest.raises(ConflictError, match="version 2, not 1"):
        registry.update_patient(c, pid, PatientUpdate(version=1, region="East"))
    history = registry.history(actor("admin"), pid)
    assert [r.version for r in history] == [1, 2] and [r.action for r in history] == ["create", "update"]
    assert history[0].snapshot["region"] == "North" and history[1].snapshot["region"] == "South"
    assert history[0].snapshot["phenotypic_features"][0]["hpo_id"] == "HP:0001166"


def test_duplicate_pseudonym_is_a_conflict(registry: Registry) -> None:
    registry.create_patient(SYSTEM, make_patient())
    with pytest.raises(ConflictError, match="RDX-1"):
        registry.create_patient(SYSTEM, make_patient())


def test_soft_delete_and_admin_restore(registry: Registry) -> None:
    pid = registry.create_patient(SYSTEM, make_patient()).id
    with pytest.raises(PermissionDeniedError):
        registry.delete_patient(actor("clinician"), pid)
    registry.delete_patient(actor("registry_manager"), pid)
    with pytest.raises(NotFoundError, match="deleted"):
        registry.get_patient(actor("clinician"), pid)
    assert registry.list_patients(actor("clinician")).count == 0
    assert registry.list_patients(actor("admin"), PatientFilter(include_deleted=True)).count == 1
    with pytest.raises(PermissionDeniedError):
        registry.restore_patient(actor("registry_manager"), pid)
    restored = registry.restore_patient(actor("admin"), pid)
    assert restored.deleted_at is None and restored.version == 3
    assert registry.list_patients(actor("clinician")).count == 1


def test_every_read_and_write_is_audited_and_the_log_is_append_only(registry: Registry, database_url: str) -> None:
    c = actor("clinician")
    pid = registry.create_patient(c, make_patient()).id
    registry.get_patient(c, pid)
    registry.update_patient(c, pid, PatientUpdate(version=1, region="East"))
    registry.list_patients(c, PatientFilter(region="East"))
    registry.export_phenopacket(c, pid)
    log = registry.audit_log(actor("admin"), patient_id=pid)
    assert [e.action for e in reversed(log)] == ["create", "read", "update", "list", "export"]
    assert all(e.username == "test-clinician" and e.role == "clinician" for e in log)
    listing = [e for e in log if e.action == "list"]
    assert listing[0].patient_id == pid and listing[0].detail == {"filter": {"region": "East"}}
    with pytest.raises(PermissionDeniedError):
        registry.audit_log(c)
    engine = make_engine(database_url)
    for sql in ("UPDATE audit_log SET username = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    engine.dispose()


def test_search_filters(registry: Registry) -> None:
    registry.create_patient(SYSTEM, make_patient("A"))
    registry.create_patient(SYSTEM, make_patient(
        "B", region="South", phenotypic_features=[{"hpo_id": "HP:0000365"}], genetic_findings=[{"gene_symbol": "GJB2"}],
        diagnoses=[{"disease_id": "ORPHA:558", "status": "suspected"}], drug_provisions=[]))
    registry.create_patient(SYSTEM, make_patient("C", region="South", diagnoses=[], phenotypic_features=[], genetic_findings=[]))
    r = actor("clinician")

    def names(**kw) -> list[str]:  # type: ignore[no-untyped-def]
        return [p.pseudonym for p in registry.list_patients(r, PatientFilter(**kw)).data]

    assert names(region="South") == ["B", "C"]
    assert names(gene="fbn1") == ["A"]
    assert names(hpo="HP:0000365") == ["B"]  # observed only: A has it excluded
    assert names(hpo="HP:0000118") == ["A", "B"]  # descendants of Phenotypic abnormality
    assert names(disease="OMIM:154700") == ["A", "B"]  # ORPHA:558 is the same disease concept
    assert names(disease="OMIM:154700", diagnosis_status="confirmed") == ["A"]
    assert names(diagnosis_status="suspected") == ["B"]
    assert names(provision_status="dispensed") == ["A", "C"]
    assert names(pseudonym="B") == ["B"]
    assert names(region="South", hpo="HP:0000118") == ["B"]
    page = registry.list_patients(r, offset=1, limit=1)
    assert page.count == 3 and [p.pseudonym for p in page.data] == ["B"]
    with pytest.raises(UnknownTermError):
        names(hpo="HP:9999999")
    with pytest.raises(InputError):
        registry.list_patients(r, limit=0)


def test_statistics(registry: Registry) -> None:
    registry.create_patient(SYSTEM, make_patient("A"))
    registry.create_patient(SYSTEM, make_patient("B", region="South", diagnoses=[], age_at_onset={"ontologyClass": {"id": "HP:0003577"}}))
    stats = registry.statistics(actor("researcher"))
    assert stats["patients"] == 2 and stats["undiagnosed"] == 1
    assert stats["by_disease"] == [{"disease_id": "OMIM:154700", "label": "Marfan syndrome", "patients": 1}]
    assert {r["value"]: r["patients"] for r in stats["by_region"]} == {"North": 1, "South": 1}
    assert stats["age_at_onset_years"]["n"] == 2 and stats["age_at_onset_years"]["min"] == 0.0
    assert stats["age_at_diagnosis_years"]["median"] == 10.0
    assert stats["diagnostic_delay_years"]["median"] == 7.0
    assert {r["value"]: r["patients"] for r in stats["by_provision_status"]} == {"dispensed": 2}


def test_users_and_passwords(registry: Registry) -> None:
    from raredx.registry.errors import AuthenticationError

    with pytest.raises(PermissionDeniedError):
        registry.add_user(actor("clinician"), "eve", "long enough password", "admin")
    registry.add_user(SYSTEM, "ann", "correct horse battery", "clinician")
    assert registry.authenticate("ann", "correct horse battery").role == "clinician"
    with pytest.raises(AuthenticationError):
        registry.authenticate("ann", "wrong password")
    with pytest.raises(InputError, match="shorter than 10"):
        registry.add_user(SYSTEM, "bob", "short", "clinician")
    with pytest.raises(InputError, match="unknown role"):
        registry.add_user(SYSTEM, "bob", "long enough password", "superuser")
    with pytest.raises(ConflictError):
        registry.add_user(SYSTEM, "ann", "another password", "researcher")
    registry.add_user(SYSTEM, "demo-x", "published password", "admin", demo=True)
    with pytest.raises(AuthenticationError, match="demo mode"):
        registry.authenticate("demo-x", "published password")
    assert registry.authenticate("demo-x", "published password", demo_mode=True).role == "admin"
    from sqlalchemy import select

    from raredx.registry._models import User

    with registry._sessions() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "ann"))
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
