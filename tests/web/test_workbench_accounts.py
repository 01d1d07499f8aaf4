"""The workbench's accounts and uploads (TestClient over the toy knowledge base): sign-out revokes the session,
the sign-in lock, the users page (admins only, CSRF, every action, messages in English and Russian), the
per-patient audit page in pages, and uploads on disk (rejected ones removed at once, two kept per user,
leftovers of a server that is gone removed at start)."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from raredx.app import KeptUploads
from raredx.registry import SYSTEM, Actor, PatientCreate
from raredx.registry.errors import AuthenticationError

from .conftest import PASSWORD, csrf_of, login

DATA = Path(__file__).resolve().parents[1] / "data"


def services(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.services  # type: ignore[attr-defined]


def test_signing_out_revokes_the_session_on_the_server(web: TestClient) -> None:
    csrf = login(web, "clinician")
    kept = web.cookies.get("rdx_session")
    assert web.get("/patients").status_code == 200
    assert web.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    web.cookies.set("rdx_session", kept)  # a copy of the cookie taken before signing out
    r = web.get("/patients", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_too_many_wrong_passwords_lock_the_sign_in_page(web: TestClient) -> None:
    page = web.get("/login")
    csrf = csrf_of(page.text)
    for n in range(4):
        r = web.post("/login", data={"username": "clinician", "password": f"guess {n}", "csrf": csrf})
        assert r.status_code == 200 and "Wrong user name or password" in r.text
    r = web.post("/login", data={"username": "clinician", "password": "guess 5", "csrf": csrf})
    assert r.status_code == 200 and "locked until" in r.text and "UTC" in r.text
    web.cookies.set("rdx_lang", "ru")
    r = web.post("/login", data={"username": "clinician", "password": PASSWORD, "csrf": csrf})
    assert "вход под этим именем заблокирован до" in r.text


def _action(web: TestClient, csrf: str, uid: int, action: str, **form: str):  # type: ignore[no-untyped-def]
    return web.post(f"/admin/users/{uid}/{action}", data={"csrf": csrf, **form}, follow_redirects=True)


def test_the_users_page_manages_accounts_for_admins_only(web: TestClient) -> None:
    registry = services(web).registry
    clinician_session = TestClient(web.app)
    login(clinician_session, "clinician")
    assert clinician_session.get("/admin/users").status_code == 403
    assert registry.audit_log(SYSTEM, limit=1)[0].detail == {"method": "GET", "path": "/admin/users",
                                                             "permission": "MANAGE_USERS"}
    csrf = login(web, "admin")
    page = web.get("/admin/users")
    assert page.status_code == 200 and "researcher" in page.text and 'href="/admin/users" aria-current="page"' in page.text
    uid = registry.get_user(SYSTEM, "clinician").id
    assert web.post(f"/admin/users/{uid}/disable", data={}).status_code == 403  # no CSRF token
    r = _action(web, csrf, uid, "disable")
    assert "clinician is disabled and signed out everywhere" in r.text
    assert clinician_session.get("/patients", follow_redirects=False).status_code == 303  # the session ended
    assert "can sign in again" in _action(web, csrf, uid, "enable").text
    r = _action(web, csrf, uid, "role", role="researcher")
    assert "The role of clinician is changed" in r.text and registry.get_user(SYSTEM, uid).role == "researcher"
    r = _action(web, csrf, uid, "password", password="password123")
    assert "most commonly used" in r.text and 'id="users-error"' in r.text
    web.cookies.set("rdx_lang", "ru")
    r = _action(web, csrf, uid, "password", password="clinician2024")
    assert "Пароль не должен совпадать с именем пользователя" in r.text
    assert "Пароль пользователя clinician изменён" in _action(web, csrf, uid, "password", password="new long passphrase").text
    for n in range(5):  # someone guesses the password: signing in is locked
        with pytest.raises(AuthenticationError):
            services(web).sign_in("clinician", f"guess {n}")
    page = web.get("/admin/users")
    assert "заблокирован до" in page.text and f'action="/admin/users/{uid}/unlock"' in page.text
    r = _action(web, csrf, uid, "unlock")
    assert "Блокировка снята" in r.text and not registry.get_user(SYSTEM, uid).locked
    own = registry.get_user(SYSTEM, "admin").id
    assert f'action="/admin/users/{own}/disable"' not in r.text  # no way to lock yourself out
    r = _action(web, csrf, own, "disable")
    assert "Нельзя отключить, удалить или сменить роль своей учётной записи" in r.text
    r = web.post("/admin/users", data={"csrf": csrf, "username": "newbie", "role": "researcher", "password": "12345678901"})
    assert 'value="newbie"' in r.text and "один из самых распространённых паролей" in r.text  # name kept, reason shown
    r = web.post("/admin/users", data={"csrf": csrf, "username": "newbie", "role": "researcher",
                                       "password": "quiet river stones"})
    assert "Пользователь newbie добавлен" in r.text
    assert "Пользователь clinician удалён" in _action(web, csrf, uid, "delete").text
    assert "clinician" not in [u.username for u in registry.list_users(SYSTEM)]
    actions = [e.action for e in registry.audit_log(SYSTEM, limit=100)]
    assert {"user_disable", "user_enable", "user_role", "user_password", "user_unlock", "user_add", "user_delete"} <= set(actions)


def test_the_patient_audit_page_shows_lists_and_pages(web: TestClient) -> None:
    registry = services(web).registry
    pid = registry.create_patient(SYSTEM, PatientCreate(pseudonym="AUD-1", sex="FEMALE")).id
    clinician = Actor("clinician", "clinician")
    for _ in range(55):
        registry.get_patient(clinician, pid)
    registry.list_patients(clinician)
    login(web, "clinician")
    assert web.get(f"/patients/{pid}/audit").status_code == 403
    assert "/audit" not in web.get(f"/patients/{pid}").text  # no link for those who may not see it
    login(web, "admin")
    assert f'href="/patients/{pid}/audit"' in web.get(f"/patients/{pid}").text
    first = web.get(f"/patients/{pid}/audit")
    assert first.status_code == 200 and first.text.count("<tr class=\"audit-") == 50
    assert "saw it in a patient list" in first.text and 'rel="next"' in first.text
    total = registry.audit_page(SYSTEM, patient_id=pid, limit=1).count
    assert total > 57 and f"Entries: {total}" in first.text and f"of {total}" in first.text
    assert "refused" in first.text  # the clinician's look at this page
    rest = web.get(f"/patients/{pid}/audit?offset=50")
    assert rest.text.count("<tr class=\"audit-") == total + 1 - 50  # + the read of this page
    assert 'rel="prev"' in rest.text and "created the record" in rest.text


def _upload(web: TestClient, csrf: str, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return web.post("/import", data={"csrf": csrf, "policy": "lenient"},
                    files={"file": (name, io.BytesIO(data), "application/json")})


def _pending(web: TestClient) -> list[Path]:
    root = services(web).uploads.root
    return [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []


def test_uploads_with_nothing_to_import_are_removed_and_two_are_kept_per_user(web: TestClient) -> None:
    csrf = login(web, "clinician")
    r = _upload(web, csrf, "junk.json", b'{"not": "a phenopacket"}')
    assert r.status_code == 200 and "import-confirm" not in r.text
    assert _pending(web) == []  # nothing to import: removed at once
    good = json.loads((DATA / "phenopackets" / "marfan_case.json").read_text())
    tokens = []
    for n in range(3):
        good["id"] = f"KEEP-{n}"
        text = _upload(web, csrf, f"case{n}.json", json.dumps(good).encode()).text
        tokens.append(text.split('name="token" value="')[1].split('"')[0])
    assert len(_pending(web)) == 2  # the oldest made room for the newest
    r = web.post("/import/confirm", data={"csrf": csrf, "token": tokens[0], "policy": "lenient"})
    assert "replaced by newer uploads" in r.text
    r = web.post("/import/confirm", data={"csrf": csrf, "token": tokens[2], "policy": "lenient"})
    assert "1 imported" in r.text and len(_pending(web)) == 1


def test_leftover_uploads_of_a_server_that_stopped_are_removed_at_start(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    before = KeptUploads(root)
    kept = before.keep(before.store(io.BytesIO(b"{}"), "case.json", "application/json", max_mb=1),
                       Actor("alice", "clinician"))
    half = before.store(io.BytesIO(b"{}"), "half.json", "application/json", max_mb=1)  # its request died
    stale = before.keep(before.store(io.BytesIO(b"{}"), "old.json", "application/json", max_mb=1),
                        Actor("bob", "clinician"))
    os.utime(root / f"kept-{stale}", (time.time() - 7200, time.time() - 7200))
    assert KeptUploads.clean_at_start(root) >= 2
    assert not half.parent.exists() and not (root / f"kept-{stale}").exists()
    assert KeptUploads(root).take(kept, Actor("alice", "clinician")).read_text() == "{}"  # kept for its "Import"


def test_an_upload_over_the_limit_is_refused_unread_with_a_notice(web: TestClient) -> None:
    csrf = login(web, "clinician")
    read = []

    def body():  # type: ignore[no-untyped-def]
        read.append(1)
        yield b"--b\r\n"

    r = web.post("/import", content=body(), headers={"Content-Type": "multipart/form-data; boundary=b", "HX-Request": "true",
                                                     "X-CSRF-Token": csrf, "Content-Length": str(200 * 2**20)})
    assert r.status_code == 200 and r.headers["hx-retarget"] == "#notice"  # shown in the page's notice area
    assert "larger than 100 MiB" in r.text and "RAREDX_MAX_UPLOAD_MB" in r.text and read == []
