"""Nothing lost: two writers of the same version (exactly one wins, the other gets 409), one revision per version
(a unique constraint, and a migration that mends registries written before it), on SQLite and PostgreSQL; and a
new SQLite registry readable by its owner only."""

from __future__ import annotations

import os
import stat
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from registry.conftest import actor, make_patient
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from raredx.app import Services
from raredx.config import Settings
from raredx.core import RareDx
from raredx.registry import SYSTEM, Registry
from raredx.registry import _models as m
from raredx.registry._db import current_revision, head_revision, make_engine, migrate
from raredx.registry.errors import ConflictError, NotFoundError
from raredx.registry.schemas import PatientUpdate

ROUNDS = 100


def race(*writers: Callable[[], Any]) -> list[Any]:
    """Run the writers at the same moment (one thread each); what each returned or raised."""
    barrier = threading.Barrier(len(writers))
    results: list[Any] = [None] * len(writers)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = writers[i]()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test looks at
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(writers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def revision_versions(registry: Registry, pid: int) -> list[int]:
    with registry._sessions() as s:
        return list(s.scalars(select(m.PatientRevision.version).where(m.PatientRevision.patient_id == pid)
                              .order_by(m.PatientRevision.version)))


def test_two_writers_of_the_same_version_one_wins_the_other_gets_409(registry: Registry) -> None:
    c = actor("clinician")
    pid = registry.create_patient(c, make_patient()).id
    for version in range(1, ROUNDS + 1):
        mine = [{"hpo_id": "HP:0001166"}]
        theirs = [{"hpo_id": "HP:0000098"}, {"hpo_id": "HP:0001083"}]
        results = race(
            lambda f=mine, v=version: registry.update_patient(c, pid, PatientUpdate(version=v, phenotypic_features=f)),
            lambda f=theirs, v=version: registry.update_patient(c, pid, PatientUpdate(version=v, phenotypic_features=f)),
        )
        kinds = Counter(type(r).__name__ for r in results)
        assert kinds == Counter({"PatientPublic": 1, "ConflictError": 1}), (version, results)
        winner = next(r for r in results if not isinstance(r, Exception))
        loser = next(r for r in results if isinstance(r, ConflictError))
        assert f"is at version {version + 1}" in str(loser)
        stored = registry.get_patient(c, pid)
        assert stored.version == version + 1 and stored.phenotypic_features == winner.phenotypic_features
    assert revision_versions(registry, pid) == list(range(1, ROUNDS + 2))  # one revision per version


def test_delete_restore_and_update_share_the_lock(registry: Registry) -> None:
    admin = actor("admin")
    pid = registry.create_patient(SYSTEM, make_patient()).id
    results = race(lambda: registry.delete_patient(admin, pid), lambda: registry.delete_patient(admin, pid))
    assert sorted(type(r).__name__ for r in results) == ["ConflictError", "NoneType"], results
    results = race(lambda: registry.restore_patient(admin, pid),
                   lambda: registry.update_patient(admin, pid, PatientUpdate(version=2, region="East")))
    # an update of a deleted patient is refused whichever comes first; the restore always works
    assert isinstance(results[1], NotFoundError | ConflictError) and results[0].version == 3, results
    with pytest.raises(ConflictError, match="version 3, not 2"):
        registry.delete_patient(admin, pid, version=2)
    registry.delete_patient(admin, pid, version=3)
    assert revision_versions(registry, pid) == [1, 2, 3, 4]


def test_revisions_are_unique_per_patient_and_version(registry: Registry) -> None:
    pid = registry.create_patient(SYSTEM, make_patient()).id
    with pytest.raises(IntegrityError), registry.engine.begin() as conn:
        conn.execute(insert(m.PatientRevision).values(patient_id=pid, version=1, action="update", by="x", snapshot={}))


def test_migration_mends_duplicate_revisions_written_before_the_constraint(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO patients (id, pseudonym, synthetic, version, created_at, created_by, updated_at, "
                          "updated_by) VALUES (1, 'P1', false, 3, '2026-01-01', 'x', '2026-01-01', 'x')"))
        for version, action in ((1, "create"), (2, "update"), (2, "update"), (3, "update")):  # a lost update
            conn.execute(text("INSERT INTO patient_revisions (patient_id, version, action, at, by, snapshot) "
                              f"VALUES (1, {version}, '{action}', '2026-01-01', 'x', '{{}}')"))
    migrate(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        versions = list(conn.scalars(select(m.PatientRevision.version).order_by(m.PatientRevision.id)))
        patient_version = conn.scalar(select(m.Patient.version))
        count = conn.scalar(select(func.count()).select_from(m.PatientRevision))
    assert versions == [1, 2, 3, 4] and patient_version == 4 and count == 4  # every revision kept, renumbered
    engine.dispose()


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_sqlite_registry_is_its_owners_only(tmp_path: Path, toy_kb) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "new" / "registry"
    old_umask = os.umask(0o022)  # the usual umask, which would give 0644 and 0755
    try:
        reg = Registry.open(f"sqlite:///{folder / 'registry.sqlite3'}")
        reg.create_patient(SYSTEM, make_patient())  # a write: the -wal and -shm files exist now
        files = sorted(p.name for p in folder.iterdir())
        assert files[0] == "registry.sqlite3" and {"registry.sqlite3-wal", "registry.sqlite3-shm"} <= set(files)
        assert mode(folder) == 0o700
        assert {p.name: mode(p) for p in folder.iterdir()} == dict.fromkeys(files, 0o600)
        reg.close()
        settings = Settings(registry_dir=tmp_path / "other", database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}")
        Services.open(settings, rdx=RareDx(toy_kb, cache=False)).close()
        assert mode(tmp_path / "other") == 0o700 and mode(tmp_path / "other" / "token-key") == 0o600
    finally:
        os.umask(old_umask)
    existing = tmp_path / "mine"
    existing.mkdir(mode=0o750)
    os.chmod(existing, 0o750)
    Registry.open(f"sqlite:///{existing / 'r.sqlite3'}").close()
    assert mode(existing) == 0o750 and mode(existing / "r.sqlite3") == 0o600  # an existing directory is left alone
