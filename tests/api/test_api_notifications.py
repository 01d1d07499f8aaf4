"""Notifications, e-mail and the video consultation through the API, on SQLite and PostgreSQL: your notifications
(unread first, mark one or all read, another user's not found); the conclusion e-mailed to the referrer through a
local SMTP server (aiosmtpd) started by the test; an SMTP server that is down does not break the transition and
the notification keeps the error (and a retry sends it once the server is up); the video slot (PUT/DELETE with
the version, the prefix, bad input named); users' e-mail addresses."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from api.conftest import PASSWORD
from raredx.app import Mailer
from raredx.config import Settings
from raredx.registry import SYSTEM, Registry
from raredx.registry.schemas import OrganisationCreate

Auth = Callable[[str], dict[str, str]]
BODY = {"urgency": "urgent", "clinical_question": "Синдром Марфана? Какое обследование дальше?",
        "patient": {"sex": "FEMALE", "pseudonymous": True, "pseudonym": "TVER-7"},
        "phenotype": [{"hpo_id": "HP:0001166"}, {"hpo_id": "HP:0001083"}]}
ROOM = "https://video.centre.example/room/7"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PORT = free_port()  # the test SMTP server's (nothing listens there unless a test starts it)


class Inbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


@contextmanager
def smtp_server(port: int) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(registry_dir=tmp_path, secret_key="test-secret-key-of-sufficient-length-0123456789",
                    smtp_host="127.0.0.1", smtp_port=PORT, smtp_security="none", smtp_from="raredx@centre.example",
                    public_url="https://raredx.centre.example/", video_url_prefix="https://video.centre.example/")


@pytest.fixture
def people(client: TestClient, registry: Registry) -> list[str]:
    org = registry.add_organisation(SYSTEM, OrganisationCreate(name="Tver hospital", region="Tver"))
    names = [("doc", "referring_physician", "doc@tver-hospital.example"), ("coord", "coordinator", None),
             ("exp1", "expert", "exp1@centre.example"), ("exp2", "expert", None)]
    for name, role, address in names:
        registry.add_user(SYSTEM, name, PASSWORD, role, email=address,
                          organisation_id=org.id if role == "referring_physician" else None)
    return [n for n, _, _ in names]


def mailer(client: TestClient) -> Mailer:
    m = client.app.state.services.mailer  # type: ignore[attr-defined]
    assert isinstance(m, Mailer)
    return m


def in_review(client: TestClient, auth: Auth) -> tuple[int, int]:
    """A referral the referrer submitted, the coordinator accepted and gave to two experts, one of whom started the
    review: its id and version."""
    doc, coord, e1 = auth("doc"), auth("coord"), auth("exp1")
    rid = client.post("/api/referrals", json=BODY, headers=doc).json()["id"]
    steps = [(doc, "submitted"), (coord, "accepted")]
    version = 1
    for who, to in steps:
        r = client.post(f"/api/referrals/{rid}/transition", json={"to": to, "version": version}, headers=who)
        assert r.status_code == 200, r.text
        version = r.json()["version"]
    r = client.post(f"/api/referrals/{rid}/experts", json={"experts": ["exp1", "exp2"], "version": version}, headers=coord)
    r = client.post(f"/api/referrals/{rid}/transition", json={"to": "in_review", "version": r.json()["version"]},
                    headers=e1)
    assert r.status_code == 200, r.text
    return rid, r.json()["version"]


def conclude(client: TestClient, auth: Auth, rid: int, version: int) -> dict[str, Any]:
    e1 = auth("exp1")
    r = client.put(f"/api/referrals/{rid}/conclusion", headers=e1,
                   json={"version": version, "conclusion": {"text": "Вероятный синдром Марфана.", "recommended_tests": "FBN1"}})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/referrals/{rid}/transition", json={"to": "concluded", "version": r.json()["version"]},
                    headers=e1)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_the_conclusion_is_emailed_to_the_referrer(client: TestClient, auth: Auth, people: list[str],
                                                   registry: Registry) -> None:
    with smtp_server(PORT) as inbox:
        rid, version = in_review(client, auth)
        mailer(client).wait()
        # exp1 was told of the assignment by e-mail; the coordinator and exp2 have no address: in-app only
        assert inbox.recipients == [["exp1@centre.example"]]
        conclude(client, auth, rid, version)
        mailer(client).wait()
    assert inbox.recipients[-1] == ["doc@tver-hospital.example"] and len(inbox.recipients) == 2
    msg = inbox.messages[-1]
    assert msg["From"] == "raredx@centre.example" and msg["Auto-Submitted"] == "auto-generated"
    assert f"Заключение по направлению {rid} готово (exp1)" in msg["Subject"]
    body = msg.get_content()
    mine = client.get("/api/notifications", headers=auth("doc")).json()
    concluded = next(n for n in mine["data"] if n["kind"] == "concluded")
    assert f"The conclusion on referral {rid} is ready (exp1)." in body
    assert f"https://raredx.centre.example/notifications/{concluded['id']}/open" in body
    assert "TVER-7" not in body and "Марфана" not in body  # no patient data by e-mail
    assert concluded["emailed_at"] is not None
    rows = {(n["username"], n["kind"]): n for n in registry.notification_emails(rid)}
    assert rows[("doc", "concluded")]["email_error"] is None and rows[("coord", "concluded")]["emailed_at"] is None


def test_an_smtp_server_that_is_down_breaks_nothing(client: TestClient, auth: Auth, people: list[str],
                                                    registry: Registry) -> None:
    rid, version = in_review(client, auth)  # nothing listens on the SMTP port
    done = conclude(client, auth, rid, version)
    assert done["status"] == "concluded"
    mailer(client).wait()
    doc = auth("doc")
    assert client.get(f"/api/referrals/{rid}", headers=doc).json()["status"] == "concluded"
    mine = client.get("/api/notifications", headers=doc).json()
    assert mine["unread"] == 1 and mine["data"][0]["kind"] == "concluded" and mine["data"][0]["emailed_at"] is None
    row = next(n for n in registry.notification_emails(rid) if n["username"] == "doc")
    assert row["emailed_at"] is None and row["email_attempts"] == 1
    assert f"cannot reach the SMTP server 127.0.0.1:{PORT}" in row["email_error"]
    with smtp_server(PORT) as inbox:  # the server is back: a retry sends what is pending, once
        assert mailer(client).retry() == 2  # the referrer's conclusion and exp1's assignment
        assert mailer(client).retry() == 0
    assert sorted(r[0] for r in inbox.recipients) == ["doc@tver-hospital.example", "exp1@centre.example"]
    row = next(n for n in registry.notification_emails(rid) if n["username"] == "doc")
    assert row["emailed_at"] is not None and row["email_error"] is None


def test_your_notifications(client: TestClient, auth: Auth, people: list[str]) -> None:
    rid, _ = in_review(client, auth)
    coord, e1, e2 = auth("coord"), auth("exp1"), auth("exp2")
    assert client.post(f"/api/referrals/{rid}/messages", json={"text": "Есть ли МРТ?"}, headers=e2).status_code == 201
    page = client.get("/api/notifications", headers=e1).json()
    assert [(n["kind"], n["actor"]) for n in page["data"]] == [("message", "exp2"), ("assigned", "coord")]
    assert page["unread"] == page["count"] == 2 and not page["data"][0]["read"]
    first = page["data"][1]["id"]
    r = client.post(f"/api/notifications/{first}/read", headers=e1)
    assert r.status_code == 200 and r.json()["read"] is True
    page = client.get("/api/notifications", headers=e1).json()
    assert page["unread"] == 1 and page["data"][-1]["id"] == first  # the read one last
    assert client.get("/api/notifications?unread=true", headers=e1).json()["count"] == 1
    r = client.post(f"/api/notifications/{first}/read", headers=e2)  # not e2's
    assert r.status_code == 404 and f"no notification {first}" in r.text
    assert client.post("/api/notifications/0/read", headers=e1).status_code == 422
    assert client.get("/api/notifications?limit=0", headers=e1).status_code == 422
    assert client.post("/api/notifications/read-all", headers=e1).json() == {"marked": 1}
    assert client.get("/api/notifications", headers=e1).json()["unread"] == 0
    assert client.get("/api/notifications", headers=coord).json()["count"] == 2  # submitted; exp2's message
    assert client.get("/api/notifications").status_code == 401


def test_the_video_consultation(client: TestClient, auth: Auth, people: list[str]) -> None:
    rid, version = in_review(client, auth)
    doc, coord, e1 = auth("doc"), auth("coord"), auth("exp1")
    slot = {"version": version, "at": "2026-12-10T10:00:00", "timezone": "Europe/Moscow", "url": ROOM}
    r = client.put(f"/api/referrals/{rid}/video", json={**slot, "url": "https://meet.other.example/x"}, headers=coord)
    assert r.status_code == 422 and "must start with https://video.centre.example/" in r.text
    r = client.put(f"/api/referrals/{rid}/video", json={**slot, "timezone": None}, headers=coord)
    assert r.status_code == 422 and "video.at: give the time with its UTC offset" in r.text
    r = client.put(f"/api/referrals/{rid}/video", json=slot, headers=doc)
    assert r.status_code == 403 and "only a coordinator or an expert assigned to it" in r.text
    r = client.put(f"/api/referrals/{rid}/video", json=slot, headers=coord)
    assert r.status_code == 200, r.text
    video = r.json()["video"]
    assert video == {"at": "2026-12-10T07:00:00Z", "timezone": "Europe/Moscow", "url": ROOM, "by": "coord"}
    assert client.get(f"/api/referrals/{rid}", headers=doc).json()["video"] == video
    kinds = [n["kind"] for n in client.get("/api/notifications", headers=doc).json()["data"]]
    assert kinds[0] == "video_scheduled"
    r = client.put(f"/api/referrals/{rid}/video", json=slot, headers=e1)
    assert r.status_code == 409 and "at version" in r.text
    version = client.get(f"/api/referrals/{rid}", headers=e1).json()["version"]
    r = client.put(f"/api/referrals/{rid}/video", json={**slot, "version": version, "at": "2026-12-11T08:00:00+03:00",
                                                         "timezone": None}, headers=e1)
    assert r.status_code == 200 and r.json()["video"]["at"] == "2026-12-11T05:00:00Z"
    assert client.get("/api/notifications", headers=doc).json()["data"][0]["kind"] == "video_changed"
    assert client.delete(f"/api/referrals/{rid}/video", headers=coord).status_code == 422  # the version is needed
    r = client.delete(f"/api/referrals/{rid}/video?version={r.json()['version']}", headers=coord)
    assert r.status_code == 200 and r.json()["video"] is None
    assert client.get("/api/notifications", headers=doc).json()["data"][0]["kind"] == "video_cancelled"


def test_users_email_through_the_api(client: TestClient, auth: Auth) -> None:
    admin = auth("admin")
    r = client.post("/api/users", headers=admin, json={"username": "nina", "password": PASSWORD, "role": "expert",
                                                        "email": "nina@centre.example"})
    assert r.status_code == 201 and r.json()["email"] == "nina@centre.example"
    uid = r.json()["id"]
    r = client.post("/api/users", headers=admin, json={"username": "olga", "password": PASSWORD, "role": "expert",
                                                        "email": "olga at centre"})
    assert r.status_code == 422 and "email: 'olga at centre' is not an e-mail address" in r.text
    assert all(u["username"] != "olga" for u in client.get("/api/users", headers=admin).json())
    assert client.patch(f"/api/users/{uid}", headers=admin, json={"role": "expert"}).json()["email"] == "nina@centre.example"
    assert client.patch(f"/api/users/{uid}", headers=admin, json={"email": None}).json()["email"] is None


def test_the_email_retry_command(client: TestClient, auth: Auth, people: list[str], registry: Registry,
                                 database_url: str, cli_env: dict[str, str]) -> None:
    """``raredx registry email-retry``, for a cron job: what the SMTP server missed is sent once it is back; exit 1
    while some is still pending, and without an SMTP server it says there is nothing to retry."""
    from api.test_registry_cli import cli

    rid, version = in_review(client, auth)  # nothing listens on the SMTP port
    conclude(client, auth, rid, version)
    mailer(client).wait()
    args = ["registry", "email-retry", "--database-url", database_url]
    smtp = {**cli_env, "RAREDX_SMTP_HOST": "127.0.0.1", "RAREDX_SMTP_PORT": str(PORT), "RAREDX_SMTP_SECURITY": "none"}
    r = cli(args, smtp)  # still down
    assert r.returncode == 1 and "0 of 2 pending notification e-mails sent" in r.stdout, r.stderr
    with smtp_server(PORT) as inbox:
        r = cli(args, smtp)
        assert r.returncode == 0 and "2 of 2 pending" in r.stdout, r.stderr
        assert "0 of 0 pending" in cli(args, smtp).stdout  # sent once
    assert sorted(r[0] for r in inbox.recipients) == ["doc@tver-hospital.example", "exp1@centre.example"]
    r = cli(args, {k: v for k, v in cli_env.items() if not k.startswith("RAREDX_SMTP")})
    assert r.returncode == 1 and "RAREDX_SMTP_HOST is not set" in r.stderr
