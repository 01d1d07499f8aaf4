"""Accounts on SQLite and PostgreSQL: the password policy, sign-in locks, token revocation, user management with
its guards, and the audit of all of it (sign-ins, refusals, account changes, patients seen in lists)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError
from sqlalchemy import update

from raredx.errors import InputError
from raredx.registry import SYSTEM, Actor, PatientFilter, Registry, security
from raredx.registry import _models as m
from raredx.registry._db import _alembic_config, current_revision, make_engine, migrate
from raredx.registry.errors import (
    AccountConflictError,
    AuthenticationError,
    NotFoundError,
    PasswordPolicyError,
    PermissionDeniedError,
    TooManyAttemptsError,
)
from raredx.registry.schemas import MAX_ITEMS, PatientUpdate
from raredx.registry.security import TokenSigner, check_password_strength, check_secret_key
from registry.conftest import actor, make_patient

GOOD = "correct horse battery"
ADMIN = Actor("boss", "admin")


def test_the_password_policy_names_the_rule_and_what_to_do() -> None:
    for password, code in [("password", "short"), ("12345678", "short"), ("password1234", "common"),
                           ("Password2024!", "common"), ("qwertyuiop", "common"), ("1234567890", "common"),
                           ("!!Dragon123456", "common"), ("gfhjkm12345", "common"),  # пароль typed on a Latin layout
                           ("abcabcabcabc", "common"), ("x" * 1025, "long")]:
        with pytest.raises(PasswordPolicyError) as err:
            check_password_strength(password, "ann")
        assert err.value.code == code, password
        assert "choose" in str(err.value), password
    with pytest.raises(PasswordPolicyError, match="user name") as err:
        check_password_strength("annabelle2024", "Annabelle")
    assert err.value.code == "username"
    for fine in (GOOD, "a long test password", "Tr0ub4dor&3xyz", "зелёный чайник утром"):
        check_password_strength(fine, "ann")
    assert len(security.common_passwords()) > 2000


def test_the_signing_key_must_be_long_enough() -> None:
    with pytest.raises(InputError, match=r"RAREDX_SECRET_KEY is 1 byte long.*at least 32 bytes.*secrets.token_urlsafe"):
        check_secret_key("x", "RAREDX_SECRET_KEY")
    assert check_secret_key("k" * 32, "RAREDX_SECRET_KEY") == "k" * 32


def test_the_migration_goes_down_and_up_again(database_url: str) -> None:
    from alembic import command

    engine = make_engine(database_url)
    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert current_revision(engine) == "0001"
    migrate(engine)
    assert current_revision(engine) not in (None, "0001")
    engine.dispose()


def test_wrong_passwords_lock_sign_in_until_an_admin_unlocks(registry: Registry) -> None:
    registry.add_user(SYSTEM, "ann", GOOD, "clinician")
    registry.add_user(SYSTEM, "boss", "a boss password here", "admin")
    for n in (1, 2):
        with pytest.raises(AuthenticationError, match="wrong user name or password") as err:
            registry.sign_in("ann", f"guess {n}", max_failures=3)
        assert not isinstance(err.value, TooManyAttemptsError)
    with pytest.raises(TooManyAttemptsError, match=r"3 times in a row.*locked until.*raredx user unlock") as locked:
        registry.sign_in("ann", "guess 3", max_failures=3)
    assert locked.value.http_status == 429 and locked.value.until > dt.datetime.now(dt.UTC)
    with pytest.raises(TooManyAttemptsError, match="locked until"):
        registry.sign_in("ann", GOOD, max_failures=3)  # the right password does not help while locked
    ann = next(u for u in registry.list_users(ADMIN) if u.username == "ann")
    assert ann.locked and ann.failed_logins == 3 and ann.locked_until is not None
    with pytest.raises(PermissionDeniedError):
        registry.unlock_user(actor("clinician"), "ann")
    assert not registry.unlock_user(ADMIN, "ann").locked
    assert registry.sign_in("ann", GOOD, max_failures=3).actor.username == "ann"
    assert registry.get_user(ADMIN, "ann").failed_logins == 0  # a right password clears the count


def test_a_lock_runs_out_and_unknown_names_are_locked_alike(registry: Registry) -> None:
    registry.add_user(SYSTEM, "ann", GOOD, "clinician")
    for name in ("ann", "nobody"):
        for _ in range(2):
            with pytest.raises(AuthenticationError):
                registry.sign_in(name, "wrong password", max_failures=2, lockout_minutes=5)
        with pytest.raises(TooManyAttemptsError, match=f"for {name!r}"):  # the same answer: no hint who exists
            registry.sign_in(name, "wrong password", max_failures=2, lockout_minutes=5)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6)
    with registry._sessions.begin() as s:
        s.execute(update(m.LoginLock).values(locked_until=past, last_failure_at=past))
    assert registry.sign_in("ann", GOOD, max_failures=2).actor.role == "clinician"


def test_unknown_users_cost_the_same_password_check(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    registry.add_user(SYSTEM, "ann", GOOD, "clinician")
    checked: list[str] = []
    real = security._verify
    monkeypatch.setattr(security, "_verify", lambda h, p: checked.append(h) or real(h, p))
    for name in ("ann", "nobody"):
        with pytest.raises(AuthenticationError, match="wrong user name or password"):
            registry.sign_in(name, "not the password")
    assert len(checked) == 2 and all(h.startswith("$argon2id$") for h in checked)  # one argon2 check each


def test_sign_ins_and_refusals_are_audited(registry: Registry) -> None:
    registry.add_user(SYSTEM, "ann", GOOD, "clinician")
    with pytest.raises(AuthenticationError):
        registry.sign_in("ann", "wrong password", client="10.0.0.7")
    with pytest.raises(AuthenticationError):
        registry.sign_in("nobody", "wrong password")
    registry.sign_in("ann", GOOD, client="10.0.0.7")
    registry.audit_denied(Actor("ann", "clinician"), patient_id=None, method="GET", path="/api/users")
    log = registry.audit_log(ADMIN)[:4]
    assert [(e.action, e.username) for e in reversed(log)] == [
        ("login_failed", "ann"), ("login_failed", "nobody"), ("login", "ann"), ("denied", "ann")]
    assert log[3].detail == {"reason": "wrong password", "failures": 1, "client": "10.0.0.7"}
    assert log[2].detail == {"reason": "unknown user", "failures": 1}


def test_tokens_stop_working_when_revoked_or_the_account_changes(registry: Registry) -> None:
    signer = TokenSigner("s" * 48)
    registry.add_user(SYSTEM, "ann", GOOD, "clinician")
    registry.add_user(SYSTEM, "boss", "a boss password here", "admin")

    def token() -> security.TokenClaims:
        return signer.verify(signer.issue(registry.sign_in("ann", GOOD)))

    claims = token()
    assert registry.token_actor(claims) == Actor("ann", "clinician")
    registry.revoke_token(Actor("ann", "clinician"), claims)
    assert registry.token_actor(claims) is None
    assert registry.token_actor(token()) is not None  # signing out ends one session, not the others
    for change in ({"role": "researcher"}, {"password": "another good passphrase"}, {"active": False}):
        claims = token()
        registry.update_user(ADMIN, "ann", **change)
        assert registry.token_actor(claims) is None, change
        registry.update_user(ADMIN, "ann", active=True, password=GOOD)
    claims = token()
    registry.delete_user(ADMIN, "ann")
    registry.add_user(SYSTEM, "ann", GOOD, "clinician")  # the same name again is another user
    assert registry.token_actor(claims) is None
    actions = [e.action for e in registry.audit_log(ADMIN, limit=500)]
    assert {"logout", "user_role", "user_password", "user_disable", "user_enable", "user_delete", "user_add"} <= set(actions)


def test_user_management_guards_and_audit(registry: Registry) -> None:
    registry.add_user(SYSTEM, "boss", "a boss password here", "admin")
    registry.add_user(SYSTEM, "ann", GOOD, "clinician")
    boss = Actor("boss", "admin")
    with pytest.raises(AccountConflictError, match="your own account") as own:
        registry.update_user(boss, "boss", active=False)
    assert own.value.code == "self"
    with pytest.raises(AccountConflictError, match="last active admin") as last:
        registry.update_user(SYSTEM, "boss", role="clinician")
    assert last.value.code == "last_admin"
    with pytest.raises(AccountConflictError, match="last active admin"):
        registry.delete_user(SYSTEM, "boss")
    with pytest.raises(InputError, match="unknown role"):
        registry.update_user(boss, "ann", role="wizard")
    with pytest.raises(PasswordPolicyError):
        registry.update_user(boss, "ann", password="password123")
    with pytest.raises(NotFoundError, match="raredx user list"):
        registry.update_user(boss, "nobody", active=False)
    with pytest.raises(PermissionDeniedError):
        registry.delete_user(Actor("ann", "clinician"), "boss")
    ann = registry.update_user(boss, "ann", role="registry_manager")
    assert ann.role == "registry_manager"
    registry.update_user(boss, "ann", role="admin")
    registry.update_user(SYSTEM, "boss", role="clinician")  # now another admin is left
    before = len(registry.audit_log(SYSTEM, limit=500))
    registry.update_user(SYSTEM, "ann", role="admin")  # no change: nothing to audit
    assert len(registry.audit_log(SYSTEM, limit=500)) == before
    registry.delete_user(Actor("ann", "admin"), "boss")
    assert [u.username for u in registry.list_users(SYSTEM)] == ["ann"]
    entry = registry.audit_log(SYSTEM, limit=1)[0]
    assert (entry.action, entry.username, entry.detail) == ("user_delete", "ann", {"user": "boss", "role": "clinician"})


def test_each_patient_shown_in_a_list_is_in_their_audit_trail_and_pages(registry: Registry) -> None:
    c = actor("clinician")
    ids = [registry.create_patient(c, make_patient(f"P{i}")).id for i in range(3)]
    page = registry.list_patients(c, PatientFilter(pseudonym="P"), limit=2)
    assert [p.id for p in page.data] == ids[:2]
    for pid, seen in zip(ids, (True, True, False)):
        trail = registry.audit_log(actor("admin"), patient_id=pid)
        assert ("list" in [e.action for e in trail]) is seen
    registry.list_patients(c, PatientFilter(pseudonym="nothing"))
    empty = registry.audit_log(actor("admin"), limit=1)[0]
    assert (empty.action, empty.patient_id, empty.detail) == ("list", None, {"filter": {"pseudonym": "nothing"}})
    for _ in range(5):
        registry.get_patient(c, ids[0])
    first = registry.audit_page(actor("admin"), patient_id=ids[0], offset=0, limit=4)
    rest = registry.audit_page(actor("admin"), patient_id=ids[0], offset=4, limit=4)
    assert first.count == rest.count == 7 and len(first.data) == 4 and len(rest.data) == 3
    assert [e.action for e in rest.data] == ["read", "list", "create"]  # the oldest last
    with pytest.raises(InputError, match="limit must be"):
        registry.audit_page(actor("admin"), limit=0)


def test_a_patient_holds_at_most_so_many_entries_per_list() -> None:
    many = [{"hpo_id": "HP:0001166"}] * (MAX_ITEMS + 1)
    with pytest.raises(ValidationError, match="at most 1000 items") as err:
        PatientUpdate(version=1, phenotypic_features=many)
    assert err.value.errors()[0]["loc"] == ("phenotypic_features",)
    with pytest.raises(ValidationError, match="at most 1000 items"):
        make_patient(diagnoses=[{"disease_id": "OMIM:154700"}] * (MAX_ITEMS + 1))
    assert len(PatientUpdate(version=1, phenotypic_features=many[:MAX_ITEMS]).phenotypic_features) == MAX_ITEMS
