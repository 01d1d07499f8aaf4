"""The coordinator's dashboard, the organisations page and users' organisations (TestClient over the toy knowledge
base), in Russian and English: the dashboard's numbers against a set of referrals made through the registry
service (tests/registry/test_referral_counts.py: several statuses, regions and urgencies, two concluded, two
overdue), narrowed by region and period; the 403 for a referrer and an expert; organisations added, changed and
deleted, with the refusals' messages; a user's organisation set when added and changed afterwards."""

from __future__ import annotations

import html
import logging
import re

import pytest
from fastapi.testclient import TestClient

from raredx.registry import SYSTEM, Registry
from raredx.registry.schemas import OrganisationCreate
from registry.test_referral_counts import DashboardSet, dashboard_set

from .conftest import PASSWORD, csrf_of
from .test_workbench_referrals import as_user


def _registry(web: TestClient) -> Registry:
    registry: Registry = web.app.state.services.registry  # type: ignore[attr-defined]
    return registry


def _text(fragment: str) -> str:
    """The fragment's text: tags out, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _part(page: str, element_id: str) -> str:
    """The content of the element with ``element_id`` (one that holds no element of its own kind)."""
    m = re.search(rf'<(\w+)\b[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert m, f"no element {element_id!r} on the page"
    return m.group(2)


def chart(page: str, kind: str) -> dict[str, int]:
    """A bar table of the dashboard as {label: count}, in its order."""
    rows = re.findall(r'<th scope="row">(.*?)</th>.*?<span class="n">([^<]+)</span>', _part(page, f"dash-{kind}"), re.S)
    return {_text(label): int(n.replace("\u00a0", "")) for label, n in rows}


def kpi(page: str, name: str) -> str:
    return _text(_part(page, f"kpi-{name}"))


def overdue_rows(page: str) -> list[tuple[int, str]]:
    """The overdue table's (referral id, its row's text), in order."""
    section = _part(page, "dash-overdue")
    return [(int(rid), _text(row)) for rid, row in re.findall(r'<tr id="late-(\d+)">(.*?)</tr>', section, re.S)]


@pytest.fixture
def dashboard(web: TestClient) -> tuple[TestClient, DashboardSet]:
    return web, dashboard_set(_registry(web))


WORDS = {
    "ru": {"title": "Сводка по направлениям", "median": "7,0 дн. по 2 направлениям с заключением",
           "status": {"отправлено": 2, "принято": 1, "заключение готово": 1, "закрыто": 1},
           "urgency": {"плановая": 2, "срочная": 2, "экстренная": 1},
           "none": "регион не указан", "days3": "3 дня", "days1": "1 день", "emergency": "экстренная",
           "no_overdue": "Просроченных направлений нет.", "period": "Период заканчивается", "bad_date": "не дата"},
    "en": {"title": "Referrals dashboard", "median": "7.0 days over 2 concluded referrals",
           "status": {"submitted": 2, "accepted": 1, "concluded": 1, "closed": 1},
           "urgency": {"routine": 2, "urgent": 2, "emergency": 1},
           "none": "no region", "days3": "3 days", "days1": "1 day", "emergency": "emergency",
           "no_overdue": "No referral is overdue.", "period": "The period ends", "bad_date": "is not a date"},
}


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_dashboard_shows_the_numbers_of_the_referrals(dashboard: tuple[TestClient, DashboardSet], lang: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    web, d = dashboard
    words = WORDS[lang]
    caplog.set_level(logging.WARNING, logger="raredx.web")
    as_user(web, "coord", lang)
    listing = web.get("/referrals").text
    assert 'href="/referrals/dashboard"' in listing  # from the nav and the list
    r = web.get("/referrals/dashboard")
    assert r.status_code == 200, r.text
    page = r.text
    assert words["title"] in page and 'href="/referrals/dashboard" aria-current="page"' in page
    assert kpi(page, "total") == "5" and kpi(page, "overdue") == "2"  # the draft is not counted
    assert kpi(page, "median") == words["median"]
    assert chart(page, "status") == words["status"]
    assert list(chart(page, "status")) == list(words["status"])  # in the workflow's order
    assert chart(page, "urgency") == words["urgency"] and list(chart(page, "urgency")) == list(words["urgency"])
    assert chart(page, "region") == {"Tver": 2, "Pskov": 2, words["none"]: 1}
    dx = chart(page, "diagnosis")
    (marfan, n), (other, m) = dx.items()
    assert marfan.endswith("OMIM:154700") and n == 2 and (other, m) == ("Homocystinuria", 1)
    assert "Loeys-Dietz" not in page  # ruled out
    rows = overdue_rows(page)
    assert [rid for rid, _ in rows] == [d.ids["late3"], d.ids["late1"]]  # the most overdue first
    assert words["days3"] in rows[0][1] and words["emergency"] in rows[0][1] and "Pskov" in rows[0][1]
    assert words["days1"] in rows[1][1] and "—" in rows[1][1]
    assert f'href="/referrals/{d.ids["late3"]}"' in _part(page, "dash-overdue")
    missing = [r.getMessage() for r in caplog.records if "message for" in r.getMessage()]
    assert not missing, missing

    tver = web.get("/referrals/dashboard", params={"region": "Tver"}).text
    assert kpi(tver, "total") == "2" and kpi(tver, "overdue") == "0" and words["no_overdue"] in tver
    assert chart(tver, "region") == {"Tver": 2} and '<option value="Tver" selected>' in tver
    nowhere = web.get("/referrals/dashboard", params={"region": "-"}).text
    assert kpi(nowhere, "total") == "1" and [rid for rid, _ in overdue_rows(nowhere)] == [d.ids["late1"]]
    bad = web.get("/referrals/dashboard", params={"from": "2026-05-01", "to": "2026-04-01"})
    assert bad.status_code == 422 and words["period"] in bad.text and kpi(bad.text, "total") == "5"
    bad = web.get("/referrals/dashboard", params={"from": "01.05.2026"})
    assert bad.status_code == 422 and words["bad_date"] in _text(_part(bad.text, "dash-error"))


def test_the_dashboard_narrows_to_a_period(dashboard: tuple[TestClient, DashboardSet]) -> None:
    import datetime as dt

    web, d = dashboard
    as_user(web, "coord", "en")
    today = dt.datetime.now(dt.UTC).date()
    page = web.get("/referrals/dashboard", params={"from": str(today - dt.timedelta(days=6))}).text
    assert kpi(page, "total") == "3" and kpi(page, "median") == "4.0 days over 1 concluded referral"
    assert [rid for rid, _ in overdue_rows(page)] == [d.ids["late3"]]
    assert f'value="{today - dt.timedelta(days=6)}"' in page  # the form keeps the period


def test_the_dashboard_is_refused_to_a_referrer_and_an_expert(dashboard: tuple[TestClient, DashboardSet]) -> None:
    web, _ = dashboard
    for who in ("docT", "exp1"):
        as_user(web, who, "en")
        r = web.get("/referrals/dashboard")
        assert r.status_code == 403 and "Pskov" not in r.text
        assert 'href="/referrals/dashboard"' not in web.get("/referrals").text  # no link either
    as_user(web, "admin", "ru")
    assert web.get("/referrals/dashboard").status_code == 200  # admins see it too


# -- organisations -------------------------------------------------------------------------------------------
def _post(web: TestClient, url: str, **form: str):  # type: ignore[no-untyped-def]
    csrf = csrf_of(web.get("/admin/organisations").text)
    return web.post(url, data={"csrf": csrf, **form}, follow_redirects=False)


def _row(page: str, oid: int) -> str:
    return _text(page.split(f'<tr id="org-{oid}">', 1)[1].split('<td class="user-actions">', 1)[0])


ORGS = {
    "ru": {"exists": "уже есть; выберите другое название", "empty": "Название: укажите название организации.",
           "missing": "Организации с номером 9999 нет.", "added": "добавлена", "deleted": "удалена",
           "title": "Направляющие организации"},
    "en": {"exists": "exists already; choose another name", "empty": "Name: give the organisation's name.",
           "missing": "There is no organisation with id 9999.", "added": "added", "deleted": "deleted",
           "title": "Referring organisations"},
}


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_admins_manage_organisations(web: TestClient, lang: str, caplog: pytest.LogCaptureFixture) -> None:
    words = ORGS[lang]
    caplog.set_level(logging.WARNING, logger="raredx.web")
    reg = _registry(web)
    as_user(web, "admin", lang)
    users = web.get("/admin/users").text
    assert 'href="/admin/organisations"' in users  # the nav and the users page link it
    page = web.get("/admin/organisations").text
    assert words["title"] in page and 'id="orgs-none"' in page

    r = _post(web, "/admin/organisations", name="Tver Children's Hospital", region=" Tver ")
    assert r.status_code == 303
    page = web.get(r.headers["location"]).text
    assert words["added"] in _text(_part(page, "orgs-done"))
    tver = next(o for o in reg.list_organisations(SYSTEM) if o.name == "Tver Children's Hospital")
    assert tver.region == "Tver"
    assert _post(web, "/admin/organisations", name="Pskov Hospital", region="").status_code == 303
    pskov = next(o for o in reg.list_organisations(SYSTEM) if o.name == "Pskov Hospital")
    assert pskov.region is None

    refused = _post(web, "/admin/organisations", name="Tver Children's Hospital", region="Tver")
    assert refused.status_code == 200 and words["exists"] in _text(_part(refused.text, "orgs-error"))
    assert 'value="Tver Children&#39;s Hospital"' in refused.text  # the typed name stays in the form
    refused = _post(web, "/admin/organisations", name="   ", region="Tver")
    assert refused.status_code == 200 and _text(_part(refused.text, "orgs-error")) == words["empty"]
    assert len(reg.list_organisations(SYSTEM)) == 2  # nothing stored by the refusals

    r = _post(web, f"/admin/organisations/{pskov.id}/edit", name="Pskov Regional Hospital", region="Pskov")
    assert r.status_code == 303
    assert reg.organisation_usage(SYSTEM)[0].name == "Pskov Regional Hospital"
    refused = _post(web, f"/admin/organisations/{pskov.id}/edit", name="Tver Children's Hospital", region="Pskov")
    assert refused.status_code == 200 and words["exists"] in _text(_part(refused.text, "orgs-error"))
    assert '<details class="add user-change" open>' in refused.text.split(f'id="org-{pskov.id}"', 1)[1]
    refused = _post(web, f"/admin/organisations/{pskov.id}/edit", name="", region="Pskov")
    assert refused.status_code == 200 and _text(_part(refused.text, "orgs-error")) == words["empty"]
    refused = _post(web, "/admin/organisations/9999/edit", name="X", region="")
    assert refused.status_code == 200 and _text(_part(refused.text, "orgs-error")) == words["missing"]

    reg.add_user(SYSTEM, "doc", PASSWORD, "referring_physician", organisation_id=tver.id)
    page = web.get("/admin/organisations").text
    assert _row(page, tver.id) == "Tver Children's Hospital Tver 1 0" and _row(page, pskov.id).endswith("Pskov 0 0")
    assert "(1)" in page.split(f'action="/admin/organisations/{tver.id}/delete"', 1)[1].split(">", 1)[0]  # the confirm
    r = _post(web, f"/admin/organisations/{tver.id}/delete")
    assert r.status_code == 303 and words["deleted"] in web.get(r.headers["location"]).text
    assert reg.get_user(SYSTEM, "doc").organisation_id is None
    refused = _post(web, f"/admin/organisations/{tver.id}/delete")
    assert refused.status_code == 200 and f"{tver.id}" in _text(_part(refused.text, "orgs-error"))
    missing = [r.getMessage() for r in caplog.records if "message for" in r.getMessage()]
    assert not missing, missing


def test_organisations_are_for_admins_only(web: TestClient) -> None:
    org = _registry(web).add_organisation(SYSTEM, OrganisationCreate(name="Tver hospital", region="Tver"))
    _registry(web).add_user(SYSTEM, "coord", PASSWORD, "coordinator")
    for who in ("coord", "clinician"):
        as_user(web, who, "en")
        assert web.get("/admin/organisations").status_code == 403
        assert 'href="/admin/organisations"' not in web.get("/patients").text
        csrf = csrf_of(web.get("/patients").text)
        r = web.post(f"/admin/organisations/{org.id}/delete", data={"csrf": csrf}, follow_redirects=False)
        assert r.status_code == 403
    assert [o.name for o in _registry(web).list_organisations(SYSTEM)] == ["Tver hospital"]


# -- users' organisations ------------------------------------------------------------------------------------
def _user_row(page: str, uid: int) -> str:
    return _text(page.split(f'<tr id="user-{uid}">', 1)[1].split('<td class="user-actions">', 1)[0])


@pytest.mark.parametrize(("lang", "roles"), [
    ("ru", ("направляющий врач", "координатор", "эксперт")), ("en", ("referring physician", "coordinator", "expert"))])
def test_a_users_organisation_is_set_and_changed(web: TestClient, lang: str, roles: tuple[str, ...]) -> None:
    reg = _registry(web)
    tver = reg.add_organisation(SYSTEM, OrganisationCreate(name="Tver hospital", region="Tver"))
    pskov = reg.add_organisation(SYSTEM, OrganisationCreate(name="Pskov hospital", region="Pskov"))
    as_user(web, "admin", lang)
    page = web.get("/admin/users").text
    add_form = page.split('id="h-add-user"', 1)[1]
    for value, name in zip(("referring_physician", "coordinator", "expert"), roles, strict=True):
        assert f'<option value="{value}">{name}</option>' in add_form
    assert f'<option value="{tver.id}">Tver hospital (Tver)</option>' in add_form
    csrf = csrf_of(page)
    r = web.post("/admin/users", data={"csrf": csrf, "username": "doc", "role": "referring_physician",
                                       "password": PASSWORD, "organisation_id": str(tver.id)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    doc = reg.get_user(SYSTEM, "doc")
    assert doc.organisation_id == tver.id
    assert "Tver hospital (Tver)" in _user_row(web.get("/admin/users").text, doc.id)

    r = web.post(f"/admin/users/{doc.id}/organisation", data={"csrf": csrf, "organisation_id": str(pskov.id)},
                 follow_redirects=True)
    assert r.status_code == 200 and 'id="users-done"' in r.text and "doc" in _text(_part(r.text, "users-done"))
    assert reg.get_user(SYSTEM, "doc").organisation_id == pskov.id
    assert "Pskov hospital (Pskov)" in _user_row(r.text, doc.id)
    assert f'<option value="{pskov.id}" selected>' in r.text.split(f'id="user-{doc.id}"', 1)[1].split("</tr>", 1)[0]
    r = web.post(f"/admin/users/{doc.id}/organisation", data={"csrf": csrf, "organisation_id": ""}, follow_redirects=True)
    assert reg.get_user(SYSTEM, "doc").organisation_id is None and "—" in _user_row(r.text, doc.id)

    r = web.post(f"/admin/users/{doc.id}/organisation", data={"csrf": csrf, "organisation_id": "9999"})
    assert 'id="users-error"' in r.text and "9999" in _text(_part(r.text, "users-error"))
    r = web.post("/admin/users", data={"csrf": csrf, "username": "doc2", "role": "referring_physician",
                                       "password": PASSWORD, "organisation_id": "Tver"})
    assert 'id="users-error"' in r.text and "Tver" in _text(_part(r.text, "users-error"))
    assert [u.username for u in reg.list_users(SYSTEM) if u.username == "doc2"] == []  # not added
    assert reg.get_user(SYSTEM, "doc").organisation_id is None
