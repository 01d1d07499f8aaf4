"""Notifications and the video consultation on SQLite and PostgreSQL: who is told of what (never the one who acted),
written in the event's own transaction (a refused event leaves none, a committed one hands its ids on, a failing
sender changes nothing); each user's list (unread first, newest first, paged) and marking read, only one's own;
the video slot's rules; users' e-mail addresses; and the migration from a registry at 0007 that holds a user, an
organisation and a referral with a message."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from raredx.errors import InputError
from raredx.registry import SYSTEM, Actor, Registry
from raredx.registry._db import current_revision, head_revision, make_engine, migrate
from raredx.registry.errors import ConflictError, NotFoundError, PermissionDeniedError
from raredx.registry.schemas import Conclusion, OrganisationCreate, VideoSlot
from raredx.registry.security import hash_password
from registry.test_referrals import PW, diff, referral

ROOM = "https://video.centre.example/room/17"


@pytest.fixture
def people(registry: Registry) -> dict[str, Actor]:
    org = registry.add_organisation(SYSTEM, OrganisationCreate(name="Tver Children's Hospital", region="Tver"))
    out = {}
    for name, role in (("doc", "referring_physician"), ("doc2", "referring_physician"), ("coord", "coordinator"),
                       ("coord2", "coordinator"), ("exp1", "expert"), ("exp2", "expert"), ("exp3", "expert"),
                       ("boss", "admin")):
        registry.add_user(SYSTEM, name, PW, role, organisation_id=org.id if role == "referring_physician" else None)
        out[name] = Actor(name, role)
    return out


def kinds(registry: Registry, who: Actor) -> list[tuple[int, str, str]]:
    """``who``'s notifications as (referral, kind, actor), oldest first."""
    return [(n.referral_id, n.kind, n.actor) for n in reversed(registry.list_notifications(who).data)]


def submitted(registry: Registry, people: dict[str, Actor]) -> int:
    r = registry.create_referral(people["doc"], referral())
    registry.transition(people["doc"], r.id, "submitted", version=r.version, differential=diff())
    return r.id


def in_review(registry: Registry, people: dict[str, Actor], experts: tuple[str, ...] = ("exp1", "exp2")) -> int:
    rid = submitted(registry, people)
    coord = people["coord"]
    r = registry.transition(coord, rid, "accepted", version=registry.get_referral(coord, rid).version)
    r = registry.assign_experts(coord, rid, list(experts), version=r.version)
    registry.transition(people[experts[0]], rid, "in_review", version=r.version)
    return rid


def test_who_is_told_of_what(registry: Registry, people: dict[str, Actor]) -> None:
    doc, coord, e1, e2, e3 = (people[n] for n in ("doc", "coord", "exp1", "exp2", "exp3"))
    r = registry.create_referral(doc, referral())
    assert all(kinds(registry, p) == [] for p in people.values())  # a draft is the referrer's alone
    r = registry.transition(doc, r.id, "submitted", version=r.version, differential=diff())
    rid = r.id
    # the coordinators (not the admin, nor the referrer who acted)
    assert kinds(registry, coord) == kinds(registry, people["coord2"]) == [(rid, "submitted", "doc")]
    assert kinds(registry, people["boss"]) == kinds(registry, doc) == []
    r = registry.transition(coord, rid, "returned_for_information", version=r.version, note="echo, please")
    assert kinds(registry, doc) == [(rid, "returned_for_information", "coord")]
    r = registry.transition(doc, rid, "submitted", version=r.version, differential=diff())
    assert kinds(registry, coord)[-1] == (rid, "resubmitted", "doc")
    r = registry.transition(coord, rid, "accepted", version=r.version)
    r = registry.assign_experts(coord, rid, ["exp1", "exp2"], version=r.version)
    assert kinds(registry, e1) == kinds(registry, e2) == [(rid, "assigned", "coord")]
    r = registry.assign_experts(coord, rid, ["exp1", "exp2", "exp3"], version=r.version)
    assert kinds(registry, e3) == [(rid, "assigned", "coord")] and len(kinds(registry, e1)) == 1  # only the new one
    before = {n: len(kinds(registry, p)) for n, p in people.items()}
    registry.add_message(doc, rid, "Эхокардиография приложена.")
    told = {n for n, p in people.items() if len(kinds(registry, p)) > before[n]}
    # the other parties: the experts and the coordinator who dealt with it, not coord2 (who never did), not the author
    assert told == {"coord", "exp1", "exp2", "exp3"}
    assert kinds(registry, e2)[-1] == (rid, "message", "doc")
    registry.add_message(e1, rid, "FBN1 first.")
    assert kinds(registry, doc)[-1] == (rid, "message", "exp1") and kinds(registry, e1)[-1] == (rid, "message", "doc")
    r = registry.transition(e1, rid, "in_review", version=r.version)
    r = registry.save_conclusion(e1, rid, Conclusion(text="Probable Marfan syndrome."), version=r.version)
    r = registry.transition(e1, rid, "concluded", version=r.version)
    assert kinds(registry, doc)[-1] == kinds(registry, coord)[-1] == kinds(registry, people["coord2"])[-1] \
        == (rid, "concluded", "exp1")
    assert kinds(registry, e2)[-1][1] == "message"  # the experts are not told of their own consilium's conclusion


def test_a_referrers_first_message_reaches_every_coordinator(registry: Registry, people: dict[str, Actor]) -> None:
    rid = submitted(registry, people)
    registry.add_message(people["doc"], rid, "Are you there?")
    assert kinds(registry, people["coord"])[-1] == kinds(registry, people["coord2"])[-1] == (rid, "message", "doc")
    registry.add_message(people["coord"], rid, "Yes.")  # coord2 is not told of coord's answer
    assert kinds(registry, people["doc"]) == [(rid, "message", "coord")]
    assert kinds(registry, people["coord2"])[-1] == (rid, "message", "doc")


def test_written_in_the_events_transaction(registry: Registry, people: dict[str, Actor]) -> None:
    handed: list[list[int]] = []
    registry.on_notified = handed.append
    doc, coord = people["doc"], people["coord"]
    r = registry.create_referral(doc, referral())
    assert handed == []
    registry.transition(doc, r.id, "submitted", version=r.version, differential=diff())
    ids = {n.id for p in (coord, people["coord2"]) for n in registry.list_notifications(p).data}
    assert len(handed) == 1 and set(handed[0]) == ids and len(ids) == 2
    with pytest.raises(ConflictError, match="at version"):  # a refused event: no notification, nothing handed on
        registry.transition(coord, r.id, "returned_for_information", version=1)
    assert kinds(registry, doc) == [] and len(handed) == 1

    def broken(ids: list[int]) -> None:
        raise RuntimeError("the e-mail sender is broken")

    registry.on_notified = broken  # a failing sender neither fails nor undoes the committed event
    got = registry.transition(coord, r.id, "returned_for_information", version=2)
    assert got.status == "returned_for_information" and kinds(registry, doc)[-1][1] == "returned_for_information"


def test_each_user_reads_and_marks_only_their_own(registry: Registry, people: dict[str, Actor]) -> None:
    coord, coord2 = people["coord"], people["coord2"]
    rids = [submitted(registry, people) for _ in range(4)]
    page = registry.list_notifications(coord)
    assert [n.referral_id for n in page.data] == rids[::-1] and page.unread == page.count == 4  # newest first
    second = page.data[2]
    assert registry.mark_notification_read(coord, second.id).read
    page = registry.list_notifications(coord)
    assert [n.referral_id for n in page.data] == [rids[3], rids[2], rids[0], rids[1]]  # unread first
    assert page.unread == 3 and page.data[-1].read_at is not None
    assert registry.unread_notifications(coord) == 3
    assert [n.referral_id for n in registry.list_notifications(coord, offset=1, limit=2).data] == [rids[2], rids[0]]
    assert registry.list_notifications(coord, unread_only=True).count == 3
    theirs = registry.list_notifications(coord2).data[0]
    with pytest.raises(NotFoundError, match=f"no notification {theirs.id}"):
        registry.mark_notification_read(coord, theirs.id)
    with pytest.raises(NotFoundError):
        registry.mark_notification_read(coord, 2**40)
    assert registry.mark_notifications_read(coord) == 3 and registry.unread_notifications(coord) == 0
    assert registry.unread_notifications(coord2) == 4  # untouched
    assert registry.mark_notifications_read(coord2, referral_id=rids[0]) == 1 and registry.unread_notifications(coord2) == 3
    registry.delete_user(SYSTEM, "coord2")  # a later namesake does not inherit them
    registry.add_user(SYSTEM, "coord2", PW, "coordinator")
    assert registry.list_notifications(coord2).count == 0


def test_the_video_consultation(registry: Registry, people: dict[str, Actor]) -> None:
    doc, coord, e1, e2, e3 = (people[n] for n in ("doc", "coord", "exp1", "exp2", "exp3"))
    rid = in_review(registry, people)
    v = registry.get_referral(coord, rid).version
    moscow = VideoSlot(at=dt.datetime(2026, 12, 10, 10, 0), timezone="Europe/Moscow", url=ROOM)
    assert moscow.at == dt.datetime(2026, 12, 10, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    r = registry.set_video(coord, rid, moscow, version=v)
    assert r.video is not None and r.video.at == dt.datetime(2026, 12, 10, 7, 0, tzinfo=dt.UTC)
    assert (r.video.timezone, r.video.url, r.video.by) == ("Europe/Moscow", ROOM, "coord")
    assert registry.get_referral(doc, rid).video == r.video  # the referrer sees it
    for who in (doc, e1, e2):
        assert kinds(registry, who)[-1] == (rid, "video_scheduled", "coord")
    assert registry.list_notifications(doc).data[0].detail == {"at": "2026-12-10T07:00:00+00:00",
                                                               "timezone": "Europe/Moscow"}
    with pytest.raises(ConflictError, match="at version"):
        registry.set_video(e1, rid, moscow, version=v)
    later = VideoSlot(at="2026-12-11T09:30:00+05:00", url=ROOM + "b")  # type: ignore[arg-type]
    r = registry.set_video(e1, rid, later, version=r.version)  # an assigned expert may change it
    assert r.video is not None and r.video.timezone is None and r.video.by == "exp1"
    assert kinds(registry, doc)[-1] == kinds(registry, e2)[-1] == (rid, "video_changed", "exp1")
    assert kinds(registry, e1)[-1][1] != "video_changed"
    with pytest.raises(PermissionDeniedError, match="only a coordinator or an expert assigned to it"):
        registry.set_video(doc, rid, later, version=r.version)
    with pytest.raises(PermissionDeniedError):  # an expert not assigned may not even see it
        registry.set_video(e3, rid, later, version=r.version)
    registry.video_url_prefix = "https://video.centre.example/"
    with pytest.raises(InputError, match=r"video.url: https://meet.other.example/x .*must start with https://video"):
        registry.set_video(coord, rid, VideoSlot(at=later.at, url="https://meet.other.example/x"), version=r.version)
    assert registry.get_referral(coord, rid).version == r.version  # nothing half-stored
    r = registry.clear_video(coord, rid, version=r.version)
    assert r.video is None and kinds(registry, doc)[-1] == (rid, "video_cancelled", "coord")
    with pytest.raises(ConflictError, match="no video consultation to cancel"):
        registry.clear_video(coord, rid, version=r.version)
    r = registry.save_conclusion(e1, rid, Conclusion(text="Marfan syndrome."), version=r.version)
    r = registry.transition(e1, rid, "concluded", version=r.version)
    with pytest.raises(ConflictError, match="while it is open"):
        registry.set_video(coord, rid, later, version=r.version)
    actions = [(a.action, (a.detail or {}).get("cancelled")) for a in registry.audit_log(SYSTEM, limit=500)
               if a.action == "referral_video"]
    assert len(actions) == 3 and actions[0][1] is not None  # newest first: the cancellation


@pytest.mark.parametrize(("fields", "named"), [
    ({"at": "2026-12-10T10:00:00", "url": ROOM}, "video.at: give the time with its UTC offset"),
    ({"at": "2026-12-10T10:00:00", "timezone": "Mars/Olympus", "url": ROOM}, "video.timezone: 'Mars/Olympus'"),
    ({"at": "2026-12-10T10:00:00+03:00", "url": "ftp://video.centre.example/r"}, "video.url: 'ftp://"),
    ({"at": "2026-12-10T10:00:00+03:00", "url": "javascript:alert(1)"}, "is not an http(s) link"),
    ({"at": "2026-12-10T10:00:00+03:00", "url": "https:///nohost"}, "is not an http(s) link"),
])
def test_a_bad_video_slot_names_its_field(fields: dict[str, str], named: str) -> None:
    with pytest.raises(ValidationError, match=named.replace("(", r"\(").replace(")", r"\)")):
        VideoSlot.model_validate(fields)


def test_users_email_addresses(registry: Registry) -> None:
    u = registry.add_user(SYSTEM, "mail", PW, "expert", email=" expert@centre.example ")
    assert u.email == "expert@centre.example"
    with pytest.raises(InputError, match="email: 'not an address' is not an e-mail address"):
        registry.add_user(SYSTEM, "nomail", PW, "expert", email="not an address")
    with pytest.raises(NotFoundError):  # nothing half-stored
        registry.get_user(SYSTEM, "nomail")
    assert registry.update_user(SYSTEM, "mail", email="second@centre.example").email == "second@centre.example"
    assert registry.update_user(SYSTEM, "mail", active=False).email == "second@centre.example"  # left as it is
    assert registry.update_user(SYSTEM, "mail", email="").email is None
    assert next(a.detail for a in registry.audit_log(SYSTEM) if a.action == "user_email") == {"user": "mail",
                                                                                               "removed": True}


def test_upgrade_from_0007_with_a_referral_keeps_it(empty_database_url: str, toy_kb) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(empty_database_url)
    migrate(engine, "0007")
    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    with engine.begin() as conn:  # the tables as 0007 has them (the models have 0008's columns)
        org = conn.execute(text("INSERT INTO organisations (name, region, created_at) VALUES ('Tver hospital', 'Tver', "
                                ":now) RETURNING id"), {"now": now}).scalar_one()
        conn.execute(text("INSERT INTO users (username, password_hash, role, active, demo, created_at, token_generation, "
                          "organisation_id) VALUES ('olddoc', :h, 'referring_physician', :t, :f, :now, 0, :org)"),
                     {"h": hash_password(PW), "t": True, "f": False, "now": now, "org": org})
        rid = conn.execute(text(
            "INSERT INTO referrals (status, urgency, referrer, organisation_id, region, patient, clinical_question, "
            "phenotype, genetic_findings, version, created_at, updated_at, updated_by, submitted_at, due_at) VALUES "
            "('submitted', 'urgent', 'olddoc', :org, 'Tver', :patient, 'Марфан?', :pheno, '[]', 2, :now, :now, "
            "'olddoc', :now, :due) RETURNING id"),
            {"org": org, "now": now, "due": now + dt.timedelta(days=7),
             "patient": '{"pseudonymous": true, "pseudonym": "TVER-1", "sex": "FEMALE"}',
             "pheno": '[{"hpo_id": "HP:0001166", "label": "Arachnodactyly", "excluded": false}]'}).scalar_one()
        conn.execute(text("INSERT INTO referral_status_changes (referral_id, from_status, to_status, at, by, role) "
                          "VALUES (:r, 'draft', 'submitted', :now, 'olddoc', 'referring_physician')"),
                     {"r": rid, "now": now})
        conn.execute(text("INSERT INTO referral_messages (referral_id, at, author, role, text) VALUES (:r, :now, "
                          "'olddoc', 'referring_physician', 'Родители согласны.')"), {"r": rid, "now": now})
    migrate(engine)
    assert current_revision(engine) == head_revision() == "0008"
    reg = Registry(engine, ontology=toy_kb.ontology)
    doc = reg.sign_in("olddoc", PW).actor
    user = reg.get_user(SYSTEM, "olddoc")
    assert (user.organisation_id, user.email) == (org, None)
    assert reg.list_organisations(doc)[0].name == "Tver hospital"
    got = reg.get_referral(doc, rid)
    assert (got.status, got.version, got.patient.pseudonym, got.clinical_question, got.region) == \
        ("submitted", 2, "TVER-1", "Марфан?", "Tver")
    assert got.video is None and got.submitted_at == now and [c.to_status for c in got.status_history] == ["submitted"]
    assert [(msg.author, msg.text) for msg in reg.messages(doc, rid)] == [("olddoc", "Родители согласны.")]
    assert reg.list_notifications(doc).count == 0
    reg.add_user(SYSTEM, "newcoord", PW, "coordinator", email="coord@centre.example")
    coord = Actor("newcoord", "coordinator")
    reg.add_message(doc, rid, "Ещё анализы.")  # the old referral takes part in the new features
    assert kinds(reg, coord) == [(rid, "message", "olddoc")]
    r = reg.set_video(coord, rid, VideoSlot(at=now + dt.timedelta(days=3), url=ROOM), version=2)
    assert r.video is not None and kinds(reg, doc) == [(rid, "video_scheduled", "newcoord")]
    from alembic import command

    from raredx.registry._db import _alembic_config

    cfg = _alembic_config(engine)  # and back: 0008 takes away only what it added
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    assert current_revision(engine) == "0007"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM referral_messages")).scalar() == 2
        assert conn.execute(text("SELECT username FROM users WHERE username = 'olddoc'")).scalar() == "olddoc"
    migrate(engine)
    assert current_revision(engine) == "0008"
    engine.dispose()
