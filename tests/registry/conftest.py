"""Registry fixtures: every test that takes ``database_url`` runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``RAREDX_TEST_DATABASE_URL`` (``.ci/run`` starts a server and sets it); its
tests are skipped only when the variable is unset. Each test gets an empty database: a new SQLite file,
or the PostgreSQL ``public`` schema dropped and re-created.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from raredx.config import DEV_PHENOPACKETS, dev_phenopackets
from raredx.registry import SYSTEM, Actor, PatientCreate, Registry
from raredx.registry._db import current_revision, make_engine, migrate, table_names

REPO = Path(__file__).resolve().parents[2]
DEV = dev_phenopackets(REPO) or REPO / DEV_PHENOPACKETS.name  # (found in raredx.config)
PHENOPACKETS = REPO / "tests" / "data" / "phenopackets"
BAD = REPO / "tests" / "data" / "bad"
ROLES = ("admin", "clinician", "registry_manager", "researcher")


def empty_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _postgres_url() -> str:
    url = os.environ.get("RAREDX_TEST_DATABASE_URL")
    if not url:
        pytest.skip("RAREDX_TEST_DATABASE_URL is not set (.ci/run starts PostgreSQL and sets it)")
    return url


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with test-sized parameters: the tests check the algorithm, not its cost."""
    from argon2 import PasswordHasher

    from raredx.registry import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("registry-template") / "registry.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables at all."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    url = _postgres_url()
    empty_postgres(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path) -> str:
    """A migrated database with no rows: a copy of a migrated SQLite file, or PostgreSQL with every table emptied."""
    if request.param == "sqlite":
        dest = tmp_path / "registry.sqlite3"
        shutil.copyfile(_sqlite_template, dest)
        return f"sqlite:///{dest}"
    url = _postgres_url()
    engine = make_engine(url)
    tables = [t for t in table_names(engine) if t != "alembic_version"]
    if current_revision(engine) is None or not tables:
        engine.dispose()
        empty_postgres(url)
        engine = make_engine(url)
        migrate(engine)
    else:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def registry(database_url: str, toy_kb) -> Registry:  # type: ignore[no-untyped-def]
    def equivalent_ids(disease_id: str) -> tuple[str, ...]:
        c = toy_kb.concept(disease_id)
        return tuple(c.ids) if c is not None else (disease_id,)

    reg = Registry.open(database_url, ontology=toy_kb.ontology, equivalent_ids=equivalent_ids)
    yield reg
    reg.close()


def actor(role: str) -> Actor:
    return Actor(f"test-{role}", role)


def make_patient(pseudonym: str = "RDX-1", **fields) -> PatientCreate:  # type: ignore[no-untyped-def]
    """A small but complete record (factory, as in the template's tests/utils)."""
    base = {
        "pseudonym": pseudonym, "sex": "FEMALE", "region": "North", "vital_status": "ALIVE",
        "first_contact_date": "2020-03-01", "age_at_onset": {"age": {"iso8601duration": "P3Y"}},
        "consent_contact_research": True, "consent_data_reuse": True, "consent_date": "2020-03-01",
        "identity": {"family_name": "Doe", "given_name": "Jane", "date_of_birth": "2010-05-04", "national_id": "123-456-789 00"},
        "phenotypic_features": [{"hpo_id": "HP:0001166", "label": "Arachnodactyly"},
                                {"hpo_id": "HP:0001083", "label": "Ectopia lentis"},
                                {"hpo_id": "HP:0000365", "excluded": True}],
        "diagnoses": [{"disease_id": "OMIM:154700", "label": "Marfan syndrome", "status": "confirmed", "basis": "molecular",
                       "diagnosed_on": "2021-01-01", "age_at_diagnosis": {"age": {"iso8601duration": "P10Y"}}}],
        "genetic_findings": [{"gene_symbol": "FBN1", "gene_id": "HGNC:3603", "zygosity": "GENO:0000135",
                              "expressions": [{"syntax": "hgvs.c", "value": "NM_000138.5:c.1585C>T"}], "acmg_class": "PATHOGENIC"}],
        "treatments": [{"drug_inn": "losartan", "atc_code": "C09CA01", "start_date": "2021-02-01"}],
        "drug_provisions": [{"drug_inn": "losartan", "atc_code": "C09CA01", "status": "dispensed", "need_identified_on": "2021-01-15",
                             "dispensed_on": "2021-02-01", "funding_source": "regional"}],
        "samples": [{"sample_id": "S1", "biobank_id": "BB-1", "collected_on": "2021-01-01"}],
        "visits": [{"visit_date": "2022-01-01", "kind": "follow-up", "disability": "none"}],
        "family_relations": [{"relative_pseudonym": "RDX-2", "relation": "mother", "affected": False}],
    }
    base.update(fields)
    return PatientCreate.model_validate(base)


__all__ = ["BAD", "DEV", "PHENOPACKETS", "ROLES", "SYSTEM", "actor", "database_url", "empty_database_url", "make_patient", "registry"]
