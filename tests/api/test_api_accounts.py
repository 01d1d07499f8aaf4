"""Accounts and limits through the API, on SQLite and PostgreSQL: sign-in locks and their unlock, sign-out
revoking the token, user management (admins only), refused requests audited, the patient audit trail in pages,
request bodies refused before they are read, and a signing key too short to use."""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from raredx.api import create_app
from raredx.app import Services
from raredx.config import Settings
from raredx.core import RareDx
from raredx.errors import InputError
from raredx.registry import SYSTEM, Registry
from registry.conftest import REPO, make_patient

from .conftest import PASSWORD

PATIENT = make_patient().model_dump(mode="json")
MiB = 2**20


def token_of(client: TestClient, username: str, password: str = PASSWORD) -> str:
    r = client.post("/api/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_wrong_passwords_lock_the_api_sign_in_until_an_admin_unlocks(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    admin = auth("admin")
    statuses = [client.post("/api/auth/token", data={"username": "clinician", "password": f"guess {n}"}).status_code
                for n in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    r = client.post("/api/auth/token", data={"username": "clinician", "password": PASSWORD})
    assert r.status_code == 429 and "locked until" in r.json()["detail"] and "unlock" in r.json()["detail"]
    users = {u["username"]: u for u in client.get("/api/users", headers=admin).json()}
    assert users["clinician"]["locked"] and users["clinician"]["failed_logins"] == 5
    unknown = [client.post("/api/auth/token", data={"username": "nobody", "password": "x"}).status_code for _ in range(5)]
    assert unknown == statuses  # an unknown name behaves the same: nothing to learn about who exists
    r = client.post(f"/api/users/{users['clinician']['id']}/unlock", headers=admin)
    assert r.status_code == 200 and not r.json()["locked"]
    assert token_of(client, "clinician")
    trail = [e for e in client.get("/api/audit", headers=admin, params={"limit": 30}).json()
             if e["username"] == "clinician"]
    assert trail[0]["action"] == "login" and trail[1]["action"] == "login_failed"
    assert trail[1]["detail"]["reason"] == "locked" and trail[2]["detail"]["locked_minutes"] == 15
    assert any(e["action"] == "user_unlock" and e["detail"] == {"user": "clinician"}
               for e in client.get("/api/audit", headers=admin).json())


def test_odd_user_names_get_an_answer_not_a_server_error(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    for name in ("nul\x00name", "x" * 300, "tab\tname"):
        r = client.post("/api/auth/token", data={"username": name, "password": "whatever it is"})
        assert r.status_code == 401, (name, r.text)
    r = client.post("/api/users", json={"username": "nul\x00name", "password": "a fine passphrase", "role": "clinician"},
                    headers=auth("admin"))
    assert r.status_code == 422 and "NUL character" in r.json()["detail"]


def test_sign_out_revokes_the_token(client: TestClient) -> None:
    first, second = token_of(client, "clinician"), token_of(client, "clinician")
    assert client.get("/api/auth/me", headers=bearer(first)).status_code == 200
    assert client.post("/api/auth/logout", headers=bearer(first)).status_code == 204
    r = client.get("/api/auth/me", headers=bearer(first))
    assert r.status_code == 401 and "signed out" in r.json()["detail"]
    assert client.get("/api/auth/me", headers=bearer(second)).status_code == 200  # the other session goes on
    assert client.post("/api/auth/logout", headers=bearer(first)).status_code == 401


def test_user_management_is_for_admins_audited_and_signs_the_user_out(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    admin = auth("admin")
    users = {u["username"]: u["id"] for u in client.get("/api/users", headers=admin).json()}
    cid = users["clinician"]
    old = bearer(token_of(client, "clinician"))
    for method, path in (("get", f"/api/users/{cid}"), ("patch", f"/api/users/{cid}"), ("delete", f"/api/users/{cid}"),
                         ("post", f"/api/users/{cid}/unlock")):
        assert getattr(client, method)(path, headers=auth("registry_manager")).status_code == 403, path
    r = client.patch(f"/api/users/{cid}", json={"role": "researcher"}, headers=admin)
    assert r.status_code == 200 and r.json()["role"] == "researcher"
    assert client.get("/api/auth/me", headers=old).status_code == 401  # role changed: sign in again
    assert client.get("/api/auth/me", headers=bearer(token_of(client, "clinician"))).json()["role"] == "researcher"
    weak = client.patch(f"/api/users/{cid}", json={"password": "password123"}, headers=admin)
    assert weak.status_code == 422 and "commonly used" in weak.json()["detail"]
    assert client.patch(f"/api/users/{cid}", json={"password": "a brand new passphrase"}, headers=admin).status_code == 200
    assert client.post("/api/auth/token", data={"username": "clinician", "password": PASSWORD}).status_code == 401
    assert client.patch(f"/api/users/{cid}", json={"active": False}, headers=admin).json()["active"] is False
    assert client.post("/api/auth/token", data={"username": "clinician", "password": "a brand new passphrase"}).status_code == 401
    bad = client.patch(f"/api/users/{cid}", json={"colour": "red"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "colour"
    own = client.patch(f"/api/users/{users['admin']}", json={"active": False}, headers=admin)
    assert own.status_code == 409 and "your own account" in own.json()["detail"]
    assert client.delete(f"/api/users/{cid}", headers=admin).status_code == 204
    missing = client.get(f"/api/users/{cid}", headers=admin)
    assert missing.status_code == 404 and "no user with id" in missing.json()["detail"]
    actions = [e["action"] for e in client.get("/api/audit", headers=admin, params={"limit": 50}).json()]
    assert {"user_role", "user_password", "user_disable", "user_delete", "denied"} <= set(actions)


def test_the_patient_audit_trail_pages_and_says_the_total(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    c, admin = auth("clinician"), auth("admin")
    pid = client.post("/api/patients", json=PATIENT, headers=c).json()["id"]
    for _ in range(4):
        client.get(f"/api/patients/{pid}", headers=c)
    client.get("/api/patients", headers=c)
    whole = client.get(f"/api/patients/{pid}/audit", headers=admin)
    assert whole.headers["x-total-count"] == "6" and [e["action"] for e in whole.json()][:2] == ["list", "read"]
    page = client.get(f"/api/patients/{pid}/audit", params={"offset": 4, "limit": 3}, headers=admin)
    assert page.headers["x-total-count"] == "6" and [e["action"] for e in page.json()] == ["read", "create"]
    assert client.get(f"/api/patients/{pid}/audit", params={"limit": 501}, headers=admin).status_code == 422
    assert client.get(f"/api/patients/{pid}/audit", headers=c).status_code == 403
    assert client.get("/api/audit", params={"limit": 1}, headers=admin).headers["x-total-count"].isdigit()


class Untouched:
    """A request body that fails the test if the server reads more than its first chunk."""

    def __init__(self, size: int) -> None:
        self.size, self.sent = size, 0

    def __iter__(self) -> Iterator[bytes]:
        chunk = b"[" + b" " * (64 * 1024 - 1)
        while self.sent < self.size:
            self.sent += len(chunk)
            if self.sent > len(chunk):
                raise AssertionError("the server read the body it should have refused")
            yield chunk


def test_a_huge_body_is_refused_before_it_is_read(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    body = Untouched(200 * MiB)
    r = client.post("/api/patients", content=iter(body),
                    headers={"Content-Type": "application/json", "Content-Length": str(200 * MiB)})
    assert r.status_code == 413 and "RAREDX_MAX_BODY_KB" in r.json()["detail"]  # before the 401, and unread
    assert body.sent == 0
    c = auth("clinician")
    pid = client.post("/api/patients", json=PATIENT, headers=c).json()["id"]
    many = client.patch(f"/api/patients/{pid}", json={"version": 1, "phenotypic_features": [{"hpo_id": "HP:0001166"}] * 1001},
                        headers=c)
    assert many.status_code == 422 and many.json()["problems"][0]["field"] == "phenotypic_features"
    big = client.patch(f"/api/patients/{pid}", headers={**c, "Content-Type": "application/json"},
                       content=b'{"version": 1, "region": "' + b"x" * (2 * MiB) + b'"}')
    assert big.status_code == 413 and "1024 KiB" in big.json()["detail"]
    assert client.get(f"/api/patients/{pid}", headers=c).json()["version"] == 1


def test_uploads_keep_their_larger_limit(registry: Registry, toy_kb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    registry.add_user(SYSTEM, "clinician", PASSWORD, "clinician")
    settings = Settings(registry_dir=tmp_path, secret_key="k" * 40, max_body_kb=64, max_upload_mb=1)
    with TestClient(create_app(settings, rdx=RareDx(toy_kb, cache=False), registry=registry)) as client:
        c = bearer(token_of(client, "clinician"))
        doc = (REPO / "tests" / "data" / "phenopackets" / "marfan_case.json").read_bytes()
        padded = doc.rstrip()[:-1] + b" " * (512 * 1024) + b"}"  # 0.5 MiB: over the body limit, under the upload's
        r = client.post("/api/phenopackets/import", files={"file": ("case.json", padded, "application/json")}, headers=c)
        assert r.status_code == 200 and r.json()["imported"] == 1, r.text
        r = client.post("/api/diagnose", content=padded, headers={**c, "Content-Type": "application/json"})
        assert r.status_code == 413 and "64 KiB" in r.json()["detail"]
        r = client.post("/api/phenopackets/import", content=b"x" * (3 * MiB),
                        headers={**c, "Content-Type": "multipart/form-data; boundary=b"})
        assert r.status_code == 413 and "1 MiB" in r.json()["detail"] and "RAREDX_MAX_UPLOAD_MB" in r.json()["detail"]


@pytest.fixture
def live_api(registry: Registry, toy_kb, settings: Settings) -> Iterator[tuple[str, int]]:  # type: ignore[no-untyped-def]
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(settings, rdx=RareDx(toy_kb, cache=False), registry=registry)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API server did not start"
        time.sleep(0.05)
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(timeout=10)


def _status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        data = sock.recv(4096)
        if not data:
            break
        head += data
    return int(head.split(b" ", 2)[1])


def test_a_real_server_refuses_big_bodies_declared_or_chunked_without_taking_them(live_api) -> None:  # type: ignore[no-untyped-def]
    host, port = live_api
    request = f"POST /api/patients HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    with socket.create_connection((host, port), timeout=10) as sock:  # 200 MiB announced, none of it sent
        sock.sendall(f"{request}Content-Length: {200 * MiB}\r\n\r\n".encode())
        assert _status(sock) == 413
    with socket.create_connection((host, port), timeout=10) as sock:  # chunked: refused once past the limit
        sock.sendall(f"{request}Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk, sent = b"%x\r\n" % (64 * 1024) + b" " * (64 * 1024) + b"\r\n", 0
        try:
            while sent < 200 * MiB and not select.select([sock], [], [], 0)[0]:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:  # the server answered and closed the connection
            pass
        assert _status(sock) == 413
        assert sent < 64 * MiB  # it stopped taking the body soon after the 1 MiB limit (plus socket buffers)


def test_a_short_signing_key_is_refused_with_how_to_make_one(registry: Registry, toy_kb, tmp_path: Path,
                                                            cli_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=r"at least 32 bytes.*secrets\.token_urlsafe\(48\)"):
        Services.open(Settings(registry_dir=tmp_path, secret_key="x"), rdx=RareDx(toy_kb, cache=False), registry=registry)
    (tmp_path / "token-key").write_text("short\n")
    with pytest.raises(InputError, match=r"the key file .*token-key is 5 bytes long"):
        Services.open(Settings(registry_dir=tmp_path), rdx=RareDx(toy_kb, cache=False), registry=registry)
    env = {**cli_env, "RAREDX_REGISTRY_DIR": str(tmp_path / "reg"), "RAREDX_SECRET_KEY": "x"}
    r = subprocess.run([sys.executable, "-m", "raredx", "serve", "--port", "1"], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "RAREDX_SECRET_KEY is 1 byte long" in r.stderr and "Traceback" not in r.stderr
