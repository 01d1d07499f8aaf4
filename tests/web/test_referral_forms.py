"""The referral's forms in the workbench (TestClient, toy knowledge base): the phenotype entered with the patient
page's editor (HPO ids, an added term, terms from a Russian note with a negated one excluded), the edit of a draft
and of a referral returned for information (then resubmitted), an edit from a stale version refused with the
reason and the form as typed, accepting with a registry patient created or linked (found by pseudonym), and the
conclusion's diagnoses chosen from the differential kept at submission, with one more added by hand."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from raredx.registry import SYSTEM, PatientCreate
from raredx.registry.schemas import Conclusion, ReferralUpdate

from .conftest import csrf_of
from .test_workbench_referrals import _id, _registry, as_user, people, post  # noqa: F401 (people: a fixture)

pytestmark = pytest.mark.usefixtures("people", "catalogue")  # the referrers, coordinator and experts of the path


@pytest.fixture
def catalogue(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every string the pages showed is in the catalogue of their language."""
    caplog.set_level(logging.WARNING, logger="raredx.web")
    yield
    missing = [r.getMessage() for r in caplog.records if "message for" in r.getMessage()]
    assert not missing, missing

NOTE = "Девочка 8 лет. Судороги с 3 лет, высокий рост. Эктопии хрусталика нет."
TERM = re.compile(r'<input type="hidden" name="term" value="([^"]+)" form="ref-form">')


def _terms(html: str) -> list[str]:
    return TERM.findall(html)


def _new(web: TestClient, *, terms: list[str] = (), **fields: str) -> int:  # type: ignore[assignment]
    page = web.get("/referrals/new")
    data = {"csrf": csrf_of(page.text), "action": "save", "pseudonymous": "on", "pseudonym": "TVER-10",
            "clinical_question": "Какой диагноз вероятен?", **fields}
    return _id(web.post("/referrals/new", data={**data, "term": list(terms)}, follow_redirects=False))


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_phenotype_from_the_editor_and_from_a_russian_note(web: TestClient, lang: str) -> None:
    as_user(web, "doc", lang)
    page = web.get("/referrals/new")
    assert page.status_code == 200
    assert 'id="term-q"' in page.text and 'hx-get="/terms/suggest"' in page.text  # the patient page's autocomplete
    assert 'name="target" value="/referrals/phenotype"' in page.text and 'form="ref-form"' in page.text
    assert re.search(r'<textarea id="ref-phenotype" name="phenotype"[^>]* form="ref-form"', page.text)  # the ids box
    token = csrf_of(page.text)
    hx = {"HX-Request": "true", "X-CSRF-Token": token}
    # a term picked in the autocomplete
    r = web.post("/referrals/phenotype", data={"op": "add", "add_id": "HP:0001166"}, headers=hx)
    assert r.status_code == 200 and _terms(r.text) == ["HP:0001166|0|"] and 'id="ref-phenotype-editor"' in r.text
    r = web.post("/referrals/phenotype", data={"op": "toggle:0", "term": ["HP:0001166|0|"], "phenotype": "HP:0000098"},
                 headers=hx)  # an edit keeps what the box of ids holds
    assert _terms(r.text) == ["HP:0001166|1|"] and re.search(r'name="phenotype"[^>]*>HP:0000098</textarea>', r.text)
    # terms from a Russian note: found and shown, the negated one as excluded; a referrer may, without DIAGNOSE
    r = web.post("/text", data={"text": NOTE, "lang": "auto", "target": "/referrals/phenotype"}, headers=hx)
    assert r.status_code == 200, r.text
    assert 'hx-post="/referrals/phenotype"' in r.text and 'hx-include="#case-form, #ref-form"' in r.text
    found = re.findall(r'name="accept" value="([^"]+)"', r.text)
    assert {"HP:0001250|0", "HP:0000098|0", "HP:0001083|1"} <= set(found), found
    r = web.post("/referrals/phenotype", headers=hx,
                 data={"op": "accept", "accept": found, "term": ["HP:0001166|0|"]})
    assert set(_terms(r.text)) == {"HP:0001166|0|", "HP:0001250|0|", "HP:0000098|0|", "HP:0001083|1|"}
    assert "tag-excluded" in r.text
    # the referral saved with the editor's terms and an id typed in the box
    rid = _new(web, terms=_terms(r.text), phenotype="HP:0001250 hp:0000098")
    got = {(t.hpo_id, t.excluded) for t in _registry(web).get_referral(SYSTEM, rid).phenotype}
    assert got == {("HP:0001166", False), ("HP:0001250", False), ("HP:0000098", False), ("HP:0001083", True)}
    # the quick diagnosis's text stays the clinicians': a referrer may not use it for that
    assert web.post("/text", data={"text": NOTE, "target": "/diagnose"}, headers=hx).status_code == 200  # a notice
    assert web.post("/text", data={"text": NOTE, "target": "/diagnose", "csrf": token},
                    follow_redirects=False).status_code == 403


def test_an_unknown_term_keeps_the_form(web: TestClient) -> None:
    as_user(web, "doc", "ru")
    page = web.get("/referrals/new")
    r = web.post("/referrals/new", data={"csrf": csrf_of(page.text), "action": "save", "pseudonymous": "on",
                                         "pseudonym": "TVER-11", "clinical_question": "Вопрос?", "history": "Анамнез",
                                         "term": ["HP:0001166|0|"], "phenotype": "HP:9999999"})
    assert r.status_code == 422 and "HP:9999999" in r.text
    assert _terms(r.text) == ["HP:0001166|0|"] and "Анамнез" in r.text
    assert _registry(web).list_referrals(SYSTEM, status="draft").count == 0


def test_a_draft_is_edited_then_submitted(web: TestClient) -> None:
    as_user(web, "doc", "ru")
    rid = _new(web, terms=["HP:0001166|0|"], history="Старый анамнез", family_name="")
    url = f"/referrals/{rid}"
    assert f'href="{url}/edit"' in web.get(url).text
    page = web.get(f"{url}/edit")
    assert page.status_code == 200 and "Старый анамнез" in page.text and _terms(page.text) == ["HP:0001166|0|"]
    assert f'action="{url}/edit"' in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    r = web.post(f"{url}/edit", follow_redirects=False, data={
        "csrf": csrf_of(page.text), "version": version, "action": "save", "pseudonymous": "on", "pseudonym": "TVER-10",
        "clinical_question": "Новый вопрос?", "history": "", "term": ["HP:0001166|0|", "HP:0001083|1|"]})
    assert r.status_code == 303 and r.headers["location"] == url
    ref = _registry(web).get_referral(SYSTEM, rid)
    assert ref.clinical_question == "Новый вопрос?" and ref.history is None and ref.status == "draft"
    assert {(t.hpo_id, t.excluded) for t in ref.phenotype} == {("HP:0001166", False), ("HP:0001083", True)}
    page = web.get(f"{url}/edit")
    r = web.post(f"{url}/edit", follow_redirects=False, data={
        "csrf": csrf_of(page.text), "version": str(ref.version), "action": "submit", "pseudonymous": "on",
        "pseudonym": "TVER-10", "clinical_question": "Новый вопрос?", "term": _terms(page.text)})
    assert r.status_code == 303
    ref = _registry(web).get_referral(SYSTEM, rid)
    assert ref.status == "submitted" and ref.differential and ref.differential.result
    assert f'href="{url}/edit"' not in web.get(url).text  # no longer the referrer's to change
    assert web.get(f"{url}/edit").status_code == 409


def test_a_returned_referral_is_edited_and_resubmitted(web: TestClient) -> None:
    as_user(web, "doc", "en")
    page = web.get("/referrals/new")
    rid = _id(web.post("/referrals/new", follow_redirects=False, data={
        "csrf": csrf_of(page.text), "action": "submit", "family_name": "Petrova", "given_name": "Anna",
        "patronymic": "Sergeevna", "clinical_question": "Which diagnosis?", "term": ["HP:0001166|0|"]}))
    url = f"/referrals/{rid}"
    as_user(web, "coord", "en")
    assert post(web, url, f"{url}/transition", to="returned_for_information", note="Add the echo").status_code == 303
    as_user(web, "doc", "en")
    page = web.get(url)
    assert 'id="ref-edit"' in page.text
    page = web.get(f"{url}/edit")
    assert "Send to the centre again" in page.text and 'value="Sergeevna"' in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    r = web.post(f"{url}/edit", follow_redirects=False, data={
        "csrf": csrf_of(page.text), "version": version, "action": "submit", "family_name": "Petrova",
        "given_name": "Anna", "patronymic": "Sergeevna", "clinical_question": "Which diagnosis?",
        "tests_done": "Echo: aortic root 4.1 cm", "term": ["HP:0001166|0|"]})
    assert r.status_code == 303, r.text
    ref = _registry(web).get_referral(SYSTEM, rid)
    assert ref.status == "submitted" and ref.tests_done == "Echo: aortic root 4.1 cm"
    assert ref.patient.identity and ref.patient.identity.patronymic == "Sergeevna"
    assert [c.to_status for c in ref.status_history][-2:] == ["returned_for_information", "submitted"]


@pytest.mark.parametrize(("lang", "reason"), [("ru", "его изменили"), ("en", "someone changed it")])
def test_an_edit_from_a_stale_version_is_refused_and_the_form_kept(web: TestClient, lang: str, reason: str) -> None:
    as_user(web, "doc", lang)
    rid = _new(web, terms=["HP:0001166|0|"])
    url = f"/referrals/{rid}"
    page = web.get(f"{url}/edit")
    version = int(re.search(r'name="version" value="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    _registry(web).update_referral(SYSTEM, rid, ReferralUpdate(version=version, history="changed meanwhile"))
    r = web.post(f"{url}/edit", follow_redirects=False, data={
        "csrf": csrf_of(page.text), "version": str(version), "action": "save", "pseudonymous": "on",
        "pseudonym": "TVER-10", "clinical_question": "Мой новый вопрос", "term": ["HP:0001166|0|", "HP:0001250|0|"]})
    assert r.status_code == 409
    err = re.search(r'id="ref-error">([^<]+)<', r.text)
    assert err and reason in err.group(1)
    assert "Мой новый вопрос" in r.text and _terms(r.text) == ["HP:0001166|0|", "HP:0001250|0|"]  # nothing lost
    ref = _registry(web).get_referral(SYSTEM, rid)
    assert ref.history == "changed meanwhile" and ref.clinical_question == "Какой диагноз вероятен?"


def _submitted(web: TestClient, pseudonym: str) -> str:
    as_user(web, "doc", "ru")
    page = web.get("/referrals/new")
    rid = _id(web.post("/referrals/new", follow_redirects=False, data={
        "csrf": csrf_of(page.text), "action": "submit", "pseudonymous": "on", "pseudonym": pseudonym, "sex": "FEMALE",
        "clinical_question": "Синдром Марфана?", "term": ["HP:0001166|0|", "HP:0001083|0|"]}))
    return f"/referrals/{rid}"


def test_accepting_creates_a_registry_patient(web: TestClient) -> None:
    url = _submitted(web, "TVER-20")
    as_user(web, "coord", "ru")
    page = web.get(url).text
    assert 'value="create"' in page and 'value="link"' in page and 'hx-get="' + url + '/patients"' in page
    assert post(web, url, f"{url}/transition", to="accepted", patient="create").status_code == 303
    ref = _registry(web).get_referral(SYSTEM, int(url.rsplit("/", 1)[1]))
    assert ref.status == "accepted" and ref.patient_id
    patient = _registry(web).get_patient(SYSTEM, ref.patient_id)
    assert patient.pseudonym == "TVER-20" and {f.hpo_id for f in patient.phenotypic_features} == {"HP:0001166", "HP:0001083"}
    page = web.get(url).text
    assert f'href="/patients/{ref.patient_id}"' in page and "Пациент регистра" in page


def test_accepting_links_a_patient_found_by_pseudonym(web: TestClient) -> None:
    existing = _registry(web).create_patient(SYSTEM, PatientCreate(pseudonym="MSK-0042"))
    url = _submitted(web, "TVER-21")
    rid = int(url.rsplit("/", 1)[1])
    as_user(web, "coord", "en")
    found = web.get(f"{url}/patients", params={"patient_q": "MSK-00"}, headers={"HX-Request": "true"})
    assert found.status_code == 200 and f'name="link_id" value="{existing.id}"' in found.text and "MSK-0042" in found.text
    assert "No registry patient" in web.get(f"{url}/patients", params={"patient_q": "NOPE"}).text
    r = post(web, url, f"{url}/transition", to="accepted", patient="link", patient_id="abc")
    assert r.status_code == 422 and "patient_id" in r.text and "abc" in r.text
    assert _registry(web).get_referral(SYSTEM, rid).status == "submitted"  # nothing half-done
    # the id typed (Enter in the box: the choice "link" is implied); the search's pick, link_id, is the browser test's
    assert post(web, url, f"{url}/transition", to="accepted", patient="", patient_id=str(existing.id)).status_code == 303
    ref = _registry(web).get_referral(SYSTEM, rid)
    assert ref.status == "accepted" and ref.patient_id == existing.id
    assert f'href="/patients/{existing.id}"' in web.get(url).text
    as_user(web, "doc", "en")  # a referrer may not search the registry
    assert web.get(f"{url}/patients", params={"patient_q": "MSK"}).status_code == 403


def _in_review(web: TestClient) -> str:
    url = _submitted(web, "TVER-30")
    as_user(web, "coord", "ru")
    assert post(web, url, f"{url}/transition", to="accepted").status_code == 303
    assert post(web, url, f"{url}/experts", experts="exp1").status_code == 303
    as_user(web, "exp1", "ru")
    assert post(web, url, f"{url}/transition", to="in_review").status_code == 303
    return url


def test_the_conclusion_takes_its_diagnoses_from_the_differential(web: TestClient) -> None:
    url = _in_review(web)
    rid = int(url.rsplit("/", 1)[1])
    top = _registry(web).get_referral(SYSTEM, rid).differential.result["diseases"]  # type: ignore[index, union-attr]
    ids = [next((i for p in ("ORPHA:", "OMIM:") for i in d["ids"] if i.startswith(p)), d["ids"][0]) for d in top]
    page = web.get(url).text
    form = page.split('id="conclusion-form"', 1)[1].split("</form>", 1)[0]
    assert f'value="{top[0]["name"]}"' in form and f'name="dx_id_0" value="{ids[0]}"' in form  # prefilled, unticked
    assert 'name="dx" value="0" checked' not in form and "Диагноз и дифференциальный диагноз" in form
    n = len(re.findall(r'name="dx" value="\d+"', form))
    assert n == min(10, len(top))
    fields = {"dx": ["0", "1"], "dx_status_0": "probable", "dx_status_1": "ruled_out",
              "dx_name_0": top[0]["name"] + " (вероятно)", "dx_id_new": "ORPHA 60030",
              "dx_name_new": "Синдром Лойса — Дитца", "dx_status_new": "differential",
              "text": "Вероятен синдром из ряда", "recommended_tests": "Панель FBN1"}
    for i in range(n):  # what the browser sends besides: each row's id and (unless changed) name
        for k in ("id", "name"):
            fields.setdefault(f"dx_{k}_{i}", re.search(rf'name="dx_{k}_{i}" value="([^"]*)"', form).group(1))  # type: ignore[union-attr]
    fields["dx_n"] = str(n)
    r = web.post(f"{url}/conclusion", follow_redirects=False, data={"csrf": csrf_of(page), "version": re.search(
        r'name="version" value="(\d+)"', form).group(1), **fields})  # type: ignore[union-attr]
    assert r.status_code == 422 and "ORPHA 60030" in r.text and "не код заболевания" in r.text
    assert "Вероятен синдром из ряда" in r.text and "Синдром Лойса — Дитца" in r.text  # the form as sent
    assert _registry(web).get_referral(SYSTEM, rid).conclusion is None
    fields["dx_id_new"] = "ORPHA:60030"
    r = web.post(f"{url}/conclusion", follow_redirects=False, data={"csrf": csrf_of(page), "version": re.search(
        r'name="version" value="(\d+)"', form).group(1), **fields})  # type: ignore[union-attr]
    assert r.status_code == 303, r.text
    c = _registry(web).get_referral(SYSTEM, rid).conclusion
    assert c is not None and c.recommended_tests == "Панель FBN1"
    assert [(d.disease_id, d.name, d.status) for d in c.diagnoses] == [
        (ids[0], top[0]["name"] + " (вероятно)", "probable"), (ids[1], top[1]["name"], "ruled_out"),
        ("ORPHA:60030", "Синдром Лойса — Дитца", "differential")]
    page = web.get(url).text
    assert "Синдром Лойса — Дитца" in page and "исключён" in page
    form = page.split('id="conclusion-form"', 1)[1].split("</form>", 1)[0]
    ticked = re.findall(r'name="dx" value="(\d+)" checked', form)
    assert ticked == ["0", "1", str(n)], (ticked, n)  # the saved choice: two candidates and the added row
    assert form.count('value="Синдром Лойса — Дитца"') == 1  # the hand-added row, ticked, once (the free row empty)
    # a diagnosis saved through the API by the candidate's name alone (no id) ticks that candidate's row
    ref = _registry(web).get_referral(SYSTEM, rid)
    by_name = Conclusion.model_validate({**c.model_dump(), "diagnoses": [{"name": top[1]["name"], "status": "confirmed"}]})
    _registry(web).save_conclusion(SYSTEM, rid, by_name, version=ref.version)
    form = web.get(url).text.split('id="conclusion-form"', 1)[1].split("</form>", 1)[0]
    assert re.findall(r'name="dx" value="(\d+)" checked', form) == ["1"]
    assert re.search(r'name="dx_status_1"[^>]*>(?:(?!</select>).)*<option value="confirmed" selected>', form, re.S)


# -- the structured genetic findings: the patient page's fields and checks, a row each ------------------------
FINDING_TEXT = {"ru": {"legend": "Генетические находки", "gene": "Ген", "add": "Добавить генетическую находку",
                       "zygosity": "гетерозигота", "acmg": "патогенный", "bad_hgvs": "не вариант в номенклатуре HGVS",
                       "bad_gene": "не символ гена"},
                "en": {"legend": "Genetic findings", "gene": "Gene", "add": "Add a genetic finding",
                       "zygosity": "heterozygous", "acmg": "pathogenic", "bad_hgvs": "is not an HGVS variant",
                       "bad_gene": "is not a gene symbol"}}


def _details(html: str) -> str:
    return html.split('id="h-ref"', 1)[1].split("</section>", 1)[0]


def _error_of(html: str, field_id: str) -> str | None:
    m = re.search(rf'<span class="error" id="{field_id}-err">([^<]+)<', html)
    return m.group(1) if m else None


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_genetic_finding_saved_shown_edited_and_carried_to_the_patient(web: TestClient, lang: str) -> None:
    text = FINDING_TEXT[lang]
    as_user(web, "doc", lang)
    page = web.get("/referrals/new").text
    findings = page.split('id="ref-findings"', 1)[1].split("</fieldset>", 1)[0]
    assert text["legend"] in findings and text["add"] in findings and f">{text['gene']}</label>" in findings
    # the patient page's fields, named per row and belonging to the referral form; none required in the empty row
    assert re.search(r'<input id="gf-0-gene_symbol" name="gf_0_gene_symbol" form="ref-form" type="text"', findings)
    assert 'name="gf_0_zygosity_label" form="ref-form"' in findings and 'value="LIKELY_PATHOGENIC"' in findings
    assert "required" not in findings
    rid = _new(web, terms=["HP:0001166|0|"], gf_n="1", gf_0_gene_symbol="FBN1", gf_0_hgvs="NM_000138.5:c.1129C>T",
               gf_0_zygosity_label="heterozygous", gf_0_acmg_class="PATHOGENIC", gf_0_tested_on="2026-03-14")
    ref = _registry(web).get_referral(SYSTEM, rid)
    [f] = ref.genetic_findings
    assert (f.gene_symbol, f.hgvs, f.zygosity, f.zygosity_label, f.acmg_class) == (
        "FBN1", "NM_000138.5:c.1129C>T", "GENO:0000135", "heterozygous", "PATHOGENIC")
    assert [e.syntax for e in f.expressions] == ["hgvs.c"] and str(f.tested_on) == "2026-03-14"
    # shown on the referral's details as the patient page shows it: zygosity and ACMG class in the page's language
    details = _details(web.get(f"/referrals/{rid}").text)
    assert text["legend"] in details and "<td>FBN1</td>" in details and "NM_000138.5:c.1129C&gt;T" in details
    assert f"<td>{text['zygosity']}</td>" in details and f"<td>{text['acmg']}</td>" in details
    # an interpretation status given through the API (the form does not show it) is kept by an edit
    ref = _registry(web).update_referral(SYSTEM, rid, ReferralUpdate(version=ref.version, genetic_findings=[
        f.model_copy(update={"interpretation_status": "CAUSATIVE"})]))
    # prefilled on edit, then changed: the class, and a second finding added in the empty row
    page = web.get(f"/referrals/{rid}/edit").text
    assert 'name="gf_0_gene_symbol" form="ref-form" type="text" value="FBN1"' in page
    assert 'value="NM_000138.5:c.1129C&gt;T"' in page and 'name="gf_0_of" value="0"' in page
    assert '<option value="PATHOGENIC" selected>' in page and 'name="gf_n" value="2"' in page
    r = web.post(f"/referrals/{rid}/edit", follow_redirects=False, data={
        "csrf": csrf_of(page), "version": str(ref.version), "action": "save", "pseudonymous": "on",
        "pseudonym": "TVER-10", "clinical_question": "Какой диагноз вероятен?", "term": ["HP:0001166|0|"],
        "gf_n": "2", "gf_0_of": "0", "gf_0_gene_symbol": "FBN1", "gf_0_hgvs": "NM_000138.5:c.1129C>T",
        "gf_0_zygosity_label": "heterozygous", "gf_0_acmg_class": "LIKELY_PATHOGENIC", "gf_0_tested_on": "2026-03-14",
        "gf_1_gene_symbol": "TGFBR2", "gf_1_hgvs": "p.Arg460His"})
    assert r.status_code == 303, r.text
    ref = _registry(web).get_referral(SYSTEM, rid)
    assert [(g.gene_symbol, g.acmg_class, g.interpretation_status) for g in ref.genetic_findings] == [
        ("FBN1", "LIKELY_PATHOGENIC", "CAUSATIVE"), ("TGFBR2", None, None)]
    assert ref.genetic_findings[1].expressions[0].syntax == "hgvs.p"
    # submitted, then accepted with "create a registry patient": the patient has the findings
    page = web.get(f"/referrals/{rid}/edit").text
    r = web.post(f"/referrals/{rid}/edit", follow_redirects=False, data={
        "csrf": csrf_of(page), "version": str(ref.version), "action": "submit", "pseudonymous": "on",
        "pseudonym": "TVER-10", "clinical_question": "Какой диагноз вероятен?", "term": ["HP:0001166|0|"],
        **{k: html.unescape(v) for k, v in re.findall(
            r'name="(gf_\d+_(?:of|gene_symbol|hgvs|testing_lab|tested_on))"[^>]* value="([^"]*)"', page)},
        "gf_0_zygosity_label": "heterozygous", "gf_0_acmg_class": "LIKELY_PATHOGENIC", "gf_n": "3"})
    assert r.status_code == 303, r.text
    assert _registry(web).get_referral(SYSTEM, rid).status == "submitted"
    url = f"/referrals/{rid}"
    as_user(web, "coord", lang)
    assert post(web, url, f"{url}/transition", to="accepted", patient="create").status_code == 303
    ref = _registry(web).get_referral(SYSTEM, rid)
    patient = _registry(web).get_patient(SYSTEM, ref.patient_id)  # type: ignore[arg-type]
    assert [(g.gene_symbol, g.hgvs, g.zygosity_label, g.acmg_class, g.interpretation_status)
            for g in patient.genetic_findings] == [
        ("FBN1", "NM_000138.5:c.1129C>T", "heterozygous", "LIKELY_PATHOGENIC", "CAUSATIVE"),
        ("TGFBR2", "p.Arg460His", None, None, None)]
    as_user(web, "clinician", lang)  # the patient page shows them
    assert "TGFBR2" in web.get(f"/patients/{ref.patient_id}").text


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_bad_genetic_finding_is_refused_next_to_its_field(web: TestClient, lang: str) -> None:
    text = FINDING_TEXT[lang]
    as_user(web, "doc", lang)
    page = web.get("/referrals/new").text
    base = {"csrf": csrf_of(page), "action": "save", "pseudonymous": "on", "pseudonym": "TVER-12",
            "clinical_question": "Вопрос?", "history": "Анамнез", "term": ["HP:0001166|0|"], "gf_n": "2"}
    r = web.post("/referrals/new", data={**base, "gf_0_gene_symbol": "FBN1", "gf_0_hgvs": "Arg377 замена",
                                         "gf_1_gene_symbol": "FBN1; DROP", "gf_1_tested_on": "вчера"})
    assert r.status_code == 422
    hgvs, gene, date = _error_of(r.text, "gf-0-hgvs"), _error_of(r.text, "gf-1-gene_symbol"), _error_of(r.text, "gf-1-tested_on")
    assert hgvs and text["bad_hgvs"] in hgvs and "Arg377 замена" in hgvs and "c.1129C&gt;T" in hgvs
    assert gene and text["bad_gene"] in gene and "FBN1; DROP" in gene and date and "2026-03-14" in date
    assert _error_of(r.text, "gf-0-gene_symbol") is None
    assert 'value="Arg377 замена"' in r.text and "Анамнез" in r.text and _terms(r.text) == ["HP:0001166|0|"]  # as typed
    # a finding without its gene
    r = web.post("/referrals/new", data={**base, "gf_n": "1", "gf_0_hgvs": "c.1129C>T"})
    assert r.status_code == 422 and (_error_of(r.text, "gf-0-gene_symbol") or "").startswith(text["gene"])
    assert _registry(web).list_referrals(SYSTEM, status="draft").count == 0  # nothing stored
    # the patient page refuses the same, with the same message
    as_user(web, "clinician", lang)
    token = csrf_of(web.get("/patients/new").text)
    web.post("/patients/new", data={"csrf": token, "pseudonym": "X-9"})
    pid = _registry(web).list_summaries(SYSTEM, limit=1).data[0].id
    r = web.post(f"/patients/{pid}/items/genetic_findings", data={"gene_symbol": "FBN1", "hgvs": "Arg377 замена",
                 "version": "1"}, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert r.status_code == 200 and _error_of(r.text, "genetic_findings-hgvs") == hgvs
    assert not _registry(web).get_patient(SYSTEM, pid).genetic_findings
