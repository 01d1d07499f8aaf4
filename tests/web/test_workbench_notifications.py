"""Notifications and the video consultation in the workbench (TestClient), in Russian and English: the nav's unread
count, the notifications page (each in the page's language, linking to its referral; opening one marks it read;
mark one or all read; another user's is not found), the video consultation form of the referral page (scheduled,
shown to the referrer in its time zone, bad input named in the page's language, cancelled), and a user's e-mail
address on the users page."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient

from raredx.registry import Actor, Registry
from registry.test_referrals import diff, referral

from .test_workbench_referrals import _registry, as_user, people, post  # noqa: F401  (people: a fixture)

ROOM = "https://video.centre.example/room/9"
DOC, COORD, EXP1 = Actor("doc", "referring_physician"), Actor("coord", "coordinator"), Actor("exp1", "expert")
WORDS = {"ru": {"nav": "Уведомления", "submitted": "Направление {id} отправлено в центр (doc).",
                "message": "Новое сообщение по направлению {id} от doc.",
                "video": "Видеоконсультация по направлению {id} назначена на 10.12.2026 10:00 (Europe/Moscow) (coord).",
                "slot": "10.12.2026 10:00 (Europe/Moscow)", "bad_url": "Ссылка должна быть адресом http или https",
                "bad_tz": "Неизвестный часовой пояс", "no_time": "Укажите дату и время видеоконсультации",
                "prefix": "ведёт не на видеосервис центра", "email_done": "Адрес эл. почты пользователя doc сохранён."},
         "en": {"nav": "Notifications", "submitted": "Referral {id} was submitted to the centre by doc.",
                "message": "New message from doc on referral {id}.",
                "video": "A video consultation on referral {id} is scheduled for 2026-12-10 10:00 (Europe/Moscow) by coord.",
                "slot": "2026-12-10 10:00 (Europe/Moscow)", "bad_url": "The link must be an http or https address",
                "bad_tz": "The time zone is not known", "no_time": "Give the date and time of the video consultation",
                "prefix": "must start with https://video.centre.example/", "email_done": "The e-mail address of doc is saved."}}


def submitted(reg: Registry) -> int:
    r = reg.create_referral(DOC, referral())
    return reg.transition(DOC, r.id, "submitted", version=r.version, differential=diff()).id


def unread_in_nav(page: str) -> int:
    m = re.search(r'id="unread-count"[^>]*>(\d+)<', page)
    return int(m.group(1)) if m else 0


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_notifications_page_and_nav(people: TestClient, lang: str, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    web, words, reg = people, WORDS[lang], _registry(people)
    caplog.set_level(logging.WARNING, logger="raredx.web")
    rid = submitted(reg)
    as_user(web, "coord", lang)
    page = web.get("/referrals").text
    assert words["nav"] in page and unread_in_nav(page) == 1
    listing = web.get("/notifications").text
    assert words["submitted"].format(id=rid) in listing
    opened = re.search(r'href="(/notifications/(\d+)/open)"', listing)
    assert opened
    r = web.get(opened.group(1), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/referrals/{rid}"
    assert unread_in_nav(web.get(f"/referrals/{rid}").text) == 0  # opening the referral from it marked it read
    reg.add_message(DOC, rid, "Прилагаю ЭхоКГ.")
    reg.add_message(DOC, submitted(reg), "И ещё одно направление.")
    page = web.get("/notifications").text
    assert unread_in_nav(page) == 3 and words["message"].format(id=rid) in page
    nid = reg.list_notifications(COORD).data[0].id
    assert post(web, "/notifications", f"/notifications/{nid}/read").status_code == 303
    assert unread_in_nav(web.get("/notifications").text) == 2
    assert post(web, "/notifications", "/notifications/read-all").status_code == 303
    page = web.get("/notifications").text
    assert unread_in_nav(page) == 0 and 'action="/notifications/read-all"' not in page
    assert web.post("/notifications/read-all", data={"csrf": "wrong"}, follow_redirects=False).status_code == 403
    as_user(web, "exp1", lang)  # another user's notification is not theirs to open
    assert web.get(opened.group(1), follow_redirects=False).status_code == 404
    missing = [r.getMessage() for r in caplog.records if "message for" in r.getMessage()]
    assert not missing, missing


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_video_consultation_form(people: TestClient, lang: str, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    web, words, reg = people, WORDS[lang], _registry(people)
    caplog.set_level(logging.WARNING, logger="raredx.web")
    reg.video_url_prefix = "https://video.centre.example/"
    rid = submitted(reg)
    r = reg.transition(COORD, rid, "accepted", version=2)
    reg.assign_experts(COORD, rid, ["exp1"], version=r.version)
    url = f"/referrals/{rid}"
    as_user(web, "doc", lang)
    assert f'action="{url}/video"' not in web.get(url).text  # the referrer has no form
    as_user(web, "coord", lang)
    assert f'action="{url}/video"' in web.get(url).text
    for fields, said in (({"url": "ftp://video.centre.example/9"}, "bad_url"), ({"timezone": "Mars/Olympus"}, "bad_tz"),
                         ({"at": ""}, "no_time"), ({"url": "https://meet.other.example/9"}, "prefix")):
        got = post(web, url, f"{url}/video", **{"at": "2026-12-10T10:00", "timezone": "Europe/Moscow", "url": ROOM,
                                                 **fields})
        assert got.status_code == 422 and words[said] in got.text, (fields, got.text[-2000:])
    assert reg.get_referral(COORD, rid).video is None  # nothing stored
    assert post(web, url, f"{url}/video", at="2026-12-10T10:00", timezone="Europe/Moscow", url=ROOM).status_code == 303
    page = web.get(url).text
    assert words["slot"] in page and f'href="{ROOM}"' in page and 'value="2026-12-10T10:00"' in page

    as_user(web, "doc", lang)
    page = web.get(url).text
    assert words["slot"] in page and f'href="{ROOM}"' in page and f'action="{url}/video"' not in page
    assert unread_in_nav(page) == 1 and words["video"].format(id=rid) in web.get("/notifications").text

    as_user(web, "exp1", lang)  # an assigned expert may cancel it
    assert post(web, url, f"{url}/video/cancel").status_code == 303
    assert words["slot"] not in web.get(url).text and reg.get_referral(COORD, rid).video is None
    missing = [r.getMessage() for r in caplog.records if "message for" in r.getMessage()]
    assert not missing, missing


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_users_email_on_the_users_page(people: TestClient, lang: str) -> None:  # noqa: F811
    web, reg = people, _registry(people)
    as_user(web, "admin", lang)
    uid = next(u.id for u in reg.list_users(Actor("admin", "admin")) if u.username == "doc")
    r = post(web, "/admin/users", f"/admin/users/{uid}/email", email="doc@tver-hospital.example")
    assert r.status_code == 303
    page = web.get(r.headers["location"]).text
    assert WORDS[lang]["email_done"] in page and "doc@tver-hospital.example" in page
    bad = post(web, "/admin/users", f"/admin/users/{uid}/email", email="doc at hospital")
    assert bad.status_code == 200 and "doc at hospital" in bad.text and 'id="users-error"' in bad.text
    assert reg.get_user(Actor("admin", "admin"), "doc").email == "doc@tver-hospital.example"
    r = post(web, "/admin/users", "/admin/users", username="newdoc", role="referring_physician",
             password="a long test password", email="new@tver-hospital.example")
    assert r.status_code == 303 and reg.get_user(Actor("admin", "admin"), "newdoc").email == "new@tver-hospital.example"
