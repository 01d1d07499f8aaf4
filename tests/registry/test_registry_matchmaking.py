"""Migration 0006 (matchmaking consent, MME peers) on a registry with data, and the peers in the registry service:
the incoming token is made once and kept only as its SHA-256, admins only."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text

from raredx.registry import SYSTEM, PatientUpdate, Registry
from raredx.registry._db import current_revision, make_engine, migrate
from raredx.registry.errors import ConflictError, NotFoundError, PermissionDeniedError
from raredx.registry.schemas import PeerCreate
from registry.conftest import actor, make_patient


def test_migration_0006_upgrades_a_registry_with_patients(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    migrate(engine, "0005")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO patients (id, pseudonym, synthetic, version, created_at, created_by, updated_at, "
                          "updated_by, consent_data_reuse) VALUES (1, 'P1', false, 1, '2026-01-01', 'x', '2026-01-01', "
                          "'x', true)"))
    migrate(engine, "0006")
    assert current_revision(engine) == "0006"
    with engine.connect() as conn:
        row = conn.execute(text("SELECT pseudonym, consent_data_reuse, consent_matchmaking FROM patients")).one()
        assert tuple(row) == ("P1", True, None)  # kept; matchmaking not allowed until recorded
        assert conn.execute(text("SELECT count(*) FROM mme_peers")).scalar() == 0
    from alembic import command

    from raredx.registry._db import _alembic_config

    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    assert current_revision(engine) == "0005"
    migrate(engine, "0006")
    assert current_revision(engine) == "0006"
    engine.dispose()


def test_peers_keep_only_the_hash_of_the_incoming_token(registry: Registry) -> None:
    peer, token = registry.add_peer(SYSTEM, PeerCreate(name="centre-b", base_url="https://mme.centre-b.example/mme",
                                                       outgoing_token="their-token-for-us-0123", contact_name="Dr B"))
    assert len(token) >= 40 and peer.has_outgoing_token and peer.enabled
    with registry.engine.connect() as conn:
        stored = conn.execute(text("SELECT incoming_token_sha256 FROM mme_peers")).scalar()
        dump = " ".join(str(v) for v in conn.execute(text("SELECT * FROM mme_peers")).one())
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in dump
    assert registry.peer_by_token(token) == peer
    assert registry.peer_by_token(token + "x") is None and registry.peer_by_token("") is None
    with pytest.raises(ConflictError, match="a peer named 'centre-b' exists"):
        registry.add_peer(SYSTEM, PeerCreate(name="centre-b", base_url="https://elsewhere.example/mme"))
    registry.update_peer(SYSTEM, "centre-b", enabled=False)
    assert registry.peer_by_token(token) is None and registry.peer_targets(SYSTEM) == []
    registry.update_peer(SYSTEM, peer.id, enabled=True)
    assert [t.outgoing_token for t in registry.peer_targets(SYSTEM)] == ["their-token-for-us-0123"]
    for role in ("clinician", "registry_manager", "researcher"):
        with pytest.raises(PermissionDeniedError):
            registry.list_peers(actor(role))
    with pytest.raises(PermissionDeniedError):
        registry.peer_targets(actor("researcher"))  # researchers do not send patients out
    assert registry.remove_peer(SYSTEM, "centre-b") == "centre-b"
    assert registry.peer_by_token(token) is None
    with pytest.raises(NotFoundError, match="no Matchmaker Exchange peer 'centre-b'"):
        registry.remove_peer(SYSTEM, "centre-b")
    actions = [e.action for e in registry.audit_log(SYSTEM)]
    assert {"mme_peer_add", "mme_peer_change", "mme_peer_remove"} <= set(actions)


def test_only_consenting_live_patients_are_for_matchmaking(registry: Registry) -> None:
    yes = registry.create_patient(SYSTEM, make_patient("RDX-1").model_copy(update={"consent_matchmaking": True}))
    registry.create_patient(SYSTEM, make_patient("RDX-2"))  # unset: not allowed
    no = registry.create_patient(SYSTEM, make_patient("RDX-3").model_copy(update={"consent_matchmaking": False}))
    assert [p.pseudonym for p in registry.patients_for_matchmaking()] == ["RDX-1"]
    assert all(p.identity is None for p in registry.patients_for_matchmaking())
    registry.update_patient(SYSTEM, no.id, PatientUpdate(version=1, consent_matchmaking=True))
    registry.delete_patient(SYSTEM, yes.id)
    assert [p.pseudonym for p in registry.patients_for_matchmaking()] == ["RDX-3"]
