"""The referral pages over the toy knowledge base (TestClient, no browser): the whole path in Russian and English
(a referrer's draft with a Russian note and an attachment, submitted with its differential; the coordinator
accepts and assigns two experts; both write opinions; one writes the conclusion and concludes; the referrer reads
it), another referrer refused (403) on the page and the attachment URL, a referral without a question refused
naming the field with nothing stored, and an action the workflow does not allow refused with a clear message."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient

from raredx.registry import SYSTEM, Registry
from raredx.registry.schemas import OrganisationCreate

from .conftest import PASSWORD, csrf_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PEOPLE = (("doc", "referring_physician"), ("doc2", "referring_physician"), ("coord", "coordinator"),
          ("exp1", "expert"), ("exp2", "expert"))


def _registry(web: TestClient) -> Registry:
    registry: Registry = web.app.state.services.registry  # type: ignore[attr-defined]
    return registry


@pytest.fixture
def people(web: TestClient) -> TestClient:
    reg = _registry(web)
    org = reg.add_organisation(SYSTEM, OrganisationCreate(name="Tver hospital", region="Tver"))
    for name, role in PEOPLE:
        reg.add_user(SYSTEM, name, PASSWORD, role, organisation_id=org.id if role == "referring_physician" else None)
    return web


def as_user(client: TestClient, username: str, lang: str) -> None:
    """Sign ``username`` in (alone: the previous user's cookies go), with pages in ``lang``."""
    client.cookies.clear()
    client.headers["accept-language"] = lang
    page = client.get("/login")
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf": csrf_of(page.text),
                                    "next": "/referrals"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def post(client: TestClient, page_url: str, target: str, **data: str):  # type: ignore[no-untyped-def]
    """Post a form of the page at ``page_url`` with its CSRF token and the version it shows."""
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    version = re.search(r'name="version" value="(\d+)"', page.text)
    fields = {"csrf": csrf_of(page.text), **({"version": version.group(1)} if version else {}), **data}
    return client.post(target, data=fields, follow_redirects=False)


def _id(r) -> int:  # type: ignore[no-untyped-def]
    assert r.status_code == 303, r.text
    m = re.fullmatch(r"/referrals/(\d+)(\?.*)?", r.headers["location"])
    assert m, r.headers["location"]
    return int(m.group(1))


TEXT = {"ru": {"title": "Направления на консультацию", "submitted": "отправлено", "concluded": "заключение готово",
               "assign": "Назначить экспертов", "dx": "Дифференциальный диагноз при отправке",
               "conclusion": "Заключение консилиума"},
        "en": {"title": "Referrals", "submitted": "submitted", "concluded": "concluded", "assign": "Assign experts",
               "dx": "Differential at submission", "conclusion": "Conclusion"}}


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_whole_path(people: TestClient, lang: str, caplog: pytest.LogCaptureFixture) -> None:
    web, words = people, TEXT[lang]
    caplog.set_level(logging.WARNING, logger="raredx.web")
    as_user(web, "doc", lang)
    assert 'href="/referrals" aria-current="page"' in web.get("/referrals").text  # the nav link
    listing = web.get("/referrals")
    assert listing.status_code == 200 and words["title"] in listing.text
    rid = _id(post(web, "/referrals/new", "/referrals/new", action="save", urgency="urgent", family_name="Иванова",
                   sex="FEMALE", date_of_birth="2015-04-01", phenotype="HP:0001166, HP:0001083",
                   clinical_question="Синдром Марфана? Какое обследование дальше?", history="Высокий рост с 5 лет"))
    url = f"/referrals/{rid}"
    page = web.get(url).text
    assert "Синдром Марфана?" in page and "Высокий рост с 5 лет" in page
    assert post(web, url, f"{url}/messages", text="Прилагаю ЭхоКГ").status_code == 303
    page = web.get(url).text
    up = web.post(f"{url}/attachments", data={"csrf": csrf_of(page)}, files={"file": ("echo.pdf", PDF, "application/pdf")},
                  follow_redirects=False)
    assert up.status_code == 303, up.text
    page = web.get(url).text
    assert "Прилагаю ЭхоКГ" in page and "echo.pdf" in page
    att = re.search(rf'href="({url}/attachments/\d+)"', page)
    assert att
    assert web.get(att.group(1)).content == PDF
    assert 'value="submitted"' in page and 'value="concluded"' not in page  # the actions this user may take now
    assert post(web, url, f"{url}/transition", to="submitted").status_code == 303
    page = web.get(url).text
    assert words["submitted"] in page and words["dx"] not in page  # the differential is the centre's

    as_user(web, "coord", lang)
    assert str(rid) in web.get("/referrals").text
    page = web.get(url).text
    assert words["dx"] in page and 'class="ranking"' in page  # the candidates kept at submission, with probabilities
    assert post(web, url, f"{url}/transition", to="accepted").status_code == 303
    assert words["assign"] in web.get(url).text
    assert post(web, url, f"{url}/experts", experts="exp1, exp2").status_code == 303
    page = web.get(url).text
    assert "exp1, exp2" in page

    as_user(web, "exp1", lang)
    assert post(web, url, f"{url}/transition", to="in_review").status_code == 303
    assert post(web, url, f"{url}/opinion", text="Вероятен синдром Марфана").status_code == 303
    as_user(web, "exp2", lang)
    assert post(web, url, f"{url}/opinion", text="Согласна; исключить синдром Лойса-Дитца").status_code == 303
    page = web.get(url).text
    assert "Вероятен синдром Марфана" in page and "синдром Лойса-Дитца" in page
    assert post(web, url, f"{url}/conclusion", text="Синдром Марфана, вероятный", recommended_tests="Панель FBN1, TGFBR1/2",
                follow_up="Эхокардиография раз в год").status_code == 303
    assert post(web, url, f"{url}/transition", to="concluded").status_code == 303

    as_user(web, "doc", lang)
    page = web.get(url).text
    assert words["concluded"] in page and "Синдром Марфана, вероятный" in page and "Панель FBN1, TGFBR1/2" in page
    assert f'<h2 id="h-conclusion">{words["conclusion"]}</h2>' in page  # the card is not titled as its first field
    assert "exp2" in page and "Вероятен синдром Марфана" not in page  # the experts' own opinions stay the centre's
    history = _registry(web).get_referral(SYSTEM, rid).status_history
    assert [c.to_status for c in history] == ["draft", "submitted", "accepted", "assigned", "in_review", "concluded"]
    missing = [r.getMessage() for r in caplog.records if "message for" in r.getMessage()]
    assert not missing, missing  # every string of the pages is in the catalogue of this language


def test_another_referrer_is_refused(people: TestClient) -> None:
    web = people
    as_user(web, "doc", "en")
    rid = _id(post(web, "/referrals/new", "/referrals/new", action="save", pseudonymous="on", pseudonym="TVER-1",
                   clinical_question="Which test next?"))
    url = f"/referrals/{rid}"
    page = web.get(url).text
    assert web.post(f"{url}/attachments", data={"csrf": csrf_of(page)}, files={"file": ("a.pdf", PDF, "application/pdf")},
                    follow_redirects=False).status_code == 303
    att = re.search(rf'href="({url}/attachments/\d+)"', web.get(url).text)
    assert att
    as_user(web, "doc2", "en")
    refused = web.get(url)
    assert refused.status_code == 403 and "may not see referral" in refused.text and "TVER-1" not in refused.text
    assert web.get(att.group(1)).status_code == 403
    assert f'href="{url}"' not in web.get("/referrals").text
    assert web.get("/referrals/9999").status_code == 404


@pytest.mark.parametrize(("lang", "expected"), [("ru", "Напишите вопрос к центру"), ("en", "Write the question")])
def test_a_referral_without_a_question_is_refused_and_not_stored(people: TestClient, lang: str, expected: str) -> None:
    web = people
    as_user(web, "doc", lang)
    r = post(web, "/referrals/new", "/referrals/new", action="save", pseudonymous="on", pseudonym="TVER-2",
             clinical_question="   ", history="kept in the form")
    assert r.status_code == 422
    err = re.search(r'<span class="error" id="ref-clinical_question-err">([^<]+)</span>', r.text)
    assert err and expected in err.group(1)
    assert "kept in the form" in r.text  # what was typed stays
    assert _registry(web).list_referrals(SYSTEM, status="draft").count == 0
    assert _registry(web).list_referrals(SYSTEM).count == 0


def test_an_action_the_workflow_does_not_allow_is_refused_with_a_clear_message(people: TestClient) -> None:
    web = people
    as_user(web, "doc", "en")
    rid = _id(post(web, "/referrals/new", "/referrals/new", action="submit", pseudonymous="on", pseudonym="TVER-3",
                   clinical_question="Which diagnosis fits?", phenotype="HP:0001166"))
    url = f"/referrals/{rid}"
    r = post(web, url, f"{url}/transition", to="concluded")
    assert r.status_code == 409
    assert "cannot go to" in r.text and "submitted" in r.text and 'id="ref-error"' in r.text
    r = post(web, url, f"{url}/transition", to="accepted")  # allowed by the table, not to a referrer
    assert r.status_code == 403 and 'id="ref-error"' in r.text
    assert _registry(web).get_referral(SYSTEM, rid).status == "submitted"
    as_user(web, "clinician", "en")  # no referral role: no nav link, and the pages refuse
    assert 'href="/referrals"' not in web.get("/patients").text
    assert web.get("/referrals").status_code == 403 and web.get("/referrals/new").status_code == 403
    as_user(web, "doc", "en")
    r = post(web, "/referrals/new", "/referrals/new", action="save", pseudonymous="on", pseudonym="TVER-4",
             clinical_question="Q?", phenotype="HP:12")
    assert r.status_code == 422 and "HP:12" in r.text


def test_the_list_marks_an_overdue_referral(people: TestClient) -> None:
    web = people
    _registry(web).referral_due_days = {"routine": 30, "urgent": 7, "emergency": 0}  # due at once once submitted
    as_user(web, "doc", "en")
    late = _id(post(web, "/referrals/new", "/referrals/new", action="submit", urgency="emergency", pseudonymous="on",
                    pseudonym="TVER-5", clinical_question="Seizures: which diagnosis?", phenotype="HP:0001166"))
    on_time = _id(post(web, "/referrals/new", "/referrals/new", action="submit", pseudonymous="on", pseudonym="TVER-6",
                       clinical_question="Tall stature: which test?", phenotype="HP:0001166"))
    as_user(web, "coord", "en")
    page = web.get("/referrals").text
    overdue = page.split("<caption>Overdue</caption>", 1)[1].split("</table>", 1)[0]
    assert f'href="/referrals/{late}"' in overdue and f'href="/referrals/{on_time}"' not in overdue
    assert "tag-overdue" in overdue and "emergency" in overdue
    # under the overdue table the whole list has its own caption (alone it has none to see: the heading names it)
    assert "<caption>All referrals</caption>" in page
    # a due date reads as a date: the day alone, the full instant kept in the datetime attribute
    due = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', overdue)
    assert due and all(":" in stamp and "UTC" not in shown and ":" not in shown for stamp, shown in due)
    as_user(web, "doc", "ru")
    page = web.get("/referrals").text
    assert '<caption class="visually-hidden">Направления на консультацию</caption>' not in page
    assert '<caption class="visually-hidden">Все направления</caption>' in page
    assert re.search(r'<time datetime="[^"]+">\d\d\.\d\d\.\d{4}</time>', web.get(f"/referrals/{late}").text)
