"""Workbench pages without a browser (TestClient over the toy knowledge base): sessions, CSRF, roles,
languages, forms that keep their input."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from raredx.web import _i18n
from raredx.web._session import safe_next

from .conftest import login


def test_catalogues_have_the_same_messages_and_placeholders() -> None:
    en, ru = _i18n.catalogue("en"), _i18n.catalogue("ru")
    assert en.keys() == ru.keys()
    for key in en:
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", ru[key])), key


def test_language_from_cookie_then_accept_language() -> None:
    assert _i18n.negotiate(None, "ru-RU,ru;q=0.9,en;q=0.8") == "ru"
    assert _i18n.negotiate(None, "de-DE,en;q=0.5,ru;q=0.4") == "en"
    assert _i18n.negotiate("ru", "en") == "ru"
    assert _i18n.negotiate(None, None) == "en"
    assert _i18n.Translator("ru").date("2012-03-04") == "04.03.2012"
    assert _i18n.Translator("en").date("2012-03-04") == "4 Mar 2012"


def test_redirects_stay_on_the_site() -> None:
    assert safe_next("//evil.example/x") == "/patients"
    assert safe_next("https://evil.example") == "/patients"
    assert safe_next("/patients/3?x=1") == "/patients/3?x=1"


def test_pages_need_a_session_and_posts_need_the_csrf_token(web: TestClient) -> None:
    r = web.get("/patients/1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/patients/1"
    token = login(web, "clinician")
    r = web.post("/patients/new", data={"pseudonym": "X-1"})
    assert r.status_code == 403 and "security token" in r.text
    r = web.post("/patients/new", data={"pseudonym": "X-1", "csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    r = web.get("/patients/1")
    assert "Content-Security-Policy" in r.headers and "X-1" in r.text
    # the API keeps answering JSON, the pages HTML
    assert web.get("/api/patients/99").json()["error"] == "AuthenticationError"
    assert "text/html" in web.get("/patients/99").headers["content-type"]


def test_a_form_with_errors_keeps_what_was_typed(web: TestClient) -> None:
    token = login(web, "clinician")
    r = web.post("/patients/new", data={"csrf": token, "pseudonym": "X-2", "given_name": "Anna", "date_of_birth": "31.02.2010"})
    assert r.status_code == 200 and 'value="Anna"' in r.text and "has-error" in r.text


def test_htmx_edits_save_through_the_registry(web: TestClient) -> None:
    token = login(web, "clinician")
    web.post("/patients/new", data={"csrf": token, "pseudonym": "X-3"})
    htmx = {"X-CSRF-Token": token, "HX-Request": "true"}
    r = web.post("/patients/1/case", data={"op": "add", "add_id": "HP:0001166", "version": "1"}, headers=htmx)
    assert "Arachnodactyly" in r.text and 'id="ranking"' in r.text
    r = web.post("/patients/1/case", data={"op": "add", "add_id": "HP:0001083", "version": "1"}, headers=htmx)
    assert "someone saved" in r.text.lower()  # a stale version is refused, the current record shown
    r = web.post("/patients/1/record", data={"disease_ids": "OMIM:154700", "label": "Marfan", "status": "confirmed",
                                             "version": "2"}, headers=htmx)
    assert "Diagnosis recorded" in r.text
    history = web.get("/patients/1/history").text
    assert history.count("<li>") == 3


def test_researcher_sees_no_identity_and_no_edit_controls(web: TestClient) -> None:
    token = login(web, "clinician")
    web.post("/patients/new", data={"csrf": token, "pseudonym": "X-4", "family_name": "Secret", "date_of_birth": "2010-05-04"})
    web.cookies.clear()
    login(web, "researcher")
    page = web.get("/patients/1").text
    assert "Secret" not in page and "2010" in page
    assert 'id="term-q"' not in page and "Delete patient" not in page
    assert web.get("/patients/new").status_code == 403


def test_a_record_saved_without_its_optional_fields(web: TestClient) -> None:
    """A genetic finding without HGVS, a diagnosis or provision without a status: the record's defaults are saved."""
    token = login(web, "clinician")
    web.post("/patients/new", data={"csrf": token, "pseudonym": "X-5"})
    htmx = {"X-CSRF-Token": token, "HX-Request": "true"}
    r = web.post("/patients/1/items/genetic_findings", data={"gene_symbol": "FBN1", "version": "1"}, headers=htmx)
    assert r.status_code == 200 and "FBN1" in r.text and "went wrong" not in r.text
    r = web.post("/patients/1/items/drug_provisions", data={"drug_inn": "losartan", "status": "approved", "version": "2"},
                 headers=htmx)
    assert r.status_code == 200 and "losartan" in r.text
    assert web.get("/api/patients/1").status_code == 401  # (the page's session is not an API token)


def test_counts_and_ages_as_the_language_writes_them() -> None:
    ru, en = _i18n.Translator("ru"), _i18n.Translator("en")
    assert [ru.count("age.years", n) for n in (1, 3, 5, 11, 21, 22, 112)] == [
        "1 год", "3 года", "5 лет", "11 лет", "21 год", "22 года", "112 лет"]
    assert [en.count("age.months", n) for n in (1, 2)] == ["1 month", "2 months"]
    assert en.duration("P1Y10M") == "1 y 10 mo" and ru.duration("P3Y") == "3 года" and ru.duration("P10D") == "10 дн."
    assert en.duration("P0D") == "0 d" and en.duration("around 3") == "around 3"


def test_phenotype_groups_keep_each_features_place(toy_kb) -> None:  # type: ignore[no-untyped-def]
    from raredx.registry.schemas import PhenotypicFeature
    from raredx.web._case import by_system

    onto = toy_kb.ontology
    ids = ("HP:0001166", "HP:0000510", "HP:0001083", "HP:0001250", "HP:0000001")  # limb, eye (excluded), eye, nervous, root
    features = [PhenotypicFeature(hpo_id=t, excluded=t == "HP:0000510") for t in ids]
    groups = by_system(onto, features)
    eye = next(g for g in groups if g.term_id == "HP:0000478")
    assert [r.index for r in eye.observed] == [2] and [r.index for r in eye.excluded] == [1]
    assert groups[0] is eye  # the system with the most findings first
    assert groups[-1].term_id is None and [r.index for r in groups[-1].observed] == [4]  # outside every system: last
    assert sorted(r.index for g in groups for r in g.observed + g.excluded) == list(range(len(ids)))


def test_the_summary_and_a_structural_variant() -> None:
    import datetime as dt

    from raredx.registry.schemas import Diagnosis, GeneticFinding, Identity, PatientPublic
    from raredx.web._summary import summary

    sv = GeneticFinding(variant_label="telomeric 11q deletion", interpretation_status="CAUSATIVE",
                        structural_type={"id": "SO:1000029", "label": "chromosomal_deletion"}, zygosity_label="heterozygous")
    assert sv.variant_text == "telomeric 11q deletion (chromosomal deletion)"
    assert GeneticFinding(gene_symbol="FBN1", expressions=[{"syntax": "hgvs.c", "value": "c.1A>G"}]).variant_text == "c.1A>G"
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    common = {"id": 1, "pseudonym": "P", "version": 1, "created_at": stamp, "created_by": "x", "updated_at": stamp, "updated_by": "x"}
    p = PatientPublic(**common, identity=Identity(date_of_birth=dt.date(2025, 3, 20)), genetic_findings=[sv],
                      diagnoses=[Diagnosis(disease_id="OMIM:1", status="ruled_out"), Diagnosis(disease_id="OMIM:2", status="suspected"),
                                 Diagnosis(disease_id="OMIM:3", status="confirmed")])
    s = summary(p, today=dt.date(2026, 6, 19))
    assert (s.age.years, s.age.months, s.age.approximate) == (1, 2, False)  # type: ignore[union-attr]
    assert [d.disease_id for d in s.diagnoses] == ["OMIM:3", "OMIM:2"] and s.solved and s.causal == sv
    unsolved = summary(PatientPublic(**common, birth_year=2020, genetic_findings=[sv.model_copy(update={"interpretation_status": "CANDIDATE"})]),
                       today=dt.date(2026, 6, 19))
    assert not unsolved.solved and unsolved.causal is None and unsolved.candidate is not None
    assert unsolved.age == type(unsolved.age)(6, 0, approximate=True, at_last_encounter=False)


def test_the_summary_strip_gives_an_infants_age_in_years_and_months(web: TestClient) -> None:
    import datetime as dt

    today = dt.date.today()
    months = today.year * 12 + today.month - 1 - 14
    born = dt.date(months // 12, months % 12 + 1, 1)  # the first day of the month 14 months back: 1 year 2 months old
    token = login(web, "clinician")
    web.post("/patients/new", data={"csrf": token, "pseudonym": "X-6", "sex": "FEMALE", "date_of_birth": born.isoformat()})
    page = web.get("/patients/1").text
    strip = page[page.index('id="summary"'):page.index("</dl>", page.index('id="summary"'))]
    assert "1 year 2 months<" in strip.replace("</dd>", "<") and "female" in strip and "no confirmed diagnosis" in strip
def test_similar_patients_page(web: TestClient) -> None:
    from raredx.registry import SYSTEM

    registry = web.app.state.services.registry  # type: ignore[attr-defined]
    registry.import_phenopackets(SYSTEM, Path(__file__).resolve().parents[1] / "data" / "match")
    login(web, "researcher")
    page = web.get("/patients/1").text
    assert 'href="/patients/1/similar"' in page
    r = web.get("/patients/1/similar")
    assert r.status_code == 200 and "Patients like PMID_20000001_Family_1_II_1" in r.text
    assert "shared:" in r.text and 'href="/patients/' in r.text
    web.cookies.set(_i18n.COOKIE, "ru")  # why each matched, in Russian: the shared terms by their Russian labels
    ru = web.get("/patients/1/similar").text
    assert "общие признаки:" in ru and "shared:" not in ru and "арахнодактилия" in ru
    assert web.get("/patients/999/similar").status_code == 404
