"""The referral form in a real browser, in Russian: a referring physician enters the phenotype with the patient page's
editor (a term from the autocomplete, terms from a Russian note with the negated one excluded) and a genetic finding
with the patient page's fields, saves the draft,
edits it and submits; the referral keeps the terms. Then a coordinator accepts it linking a registry patient found
by pseudonym, and the expert ticks a diagnosis of the differential in the conclusion form. Uses the browser fixtures of test_workbench_browser (Debian's Chromium, the live server,
the console-error and axe checks); screenshots go to test-output/web/."""

from __future__ import annotations

import pytest

from raredx.registry import SYSTEM

from . import test_workbench_browser as shared
from .conftest import PASSWORD
from .test_workbench_browser import Page

browser, page = shared.browser, shared.page  # the fixtures, used here too

NOTE = "Девочка 8 лет. Высокий рост, арахнодактилия. Эктопии хрусталика нет."


def _login(page: Page, username: str) -> None:
    page.goto("/login?next=/referrals")
    page.page.fill("#username", username)
    page.page.fill("#password", PASSWORD)
    page.page.click("button[type=submit]")
    page.page.wait_for_url("**/referrals")


@pytest.mark.parametrize("page", ["ru-RU"], indirect=True)
def test_a_referral_with_its_phenotype_from_a_russian_note(page: Page) -> None:
    reg = page.server.registry
    if "form-doc" not in {u.username for u in reg.list_users(SYSTEM)}:
        reg.add_user(SYSTEM, "form-doc", PASSWORD, "referring_physician")
    _login(page, "form-doc")
    page.goto("/referrals/new")
    p = page.page
    p.check("#ref-pseudonymous")
    p.fill("#ref-pseudonym", "TVER-BR-1")
    p.select_option("#ref-sex", "FEMALE")
    p.fill("#ref-clinical_question", "Синдром Марфана? Какое обследование дальше?")
    # a term from the autocomplete (the patient page's combobox)
    box = p.locator("#term-q")
    box.click()
    box.press_sequentially("судорог", delay=40)
    option = p.locator("#term-options [role=option]").first
    option.wait_for(state="visible")
    assert option.get_attribute("data-id") == "HP:0001250"
    option.click()
    p.locator("#terms li.term", has_text="Seizure").wait_for()
    # terms from a Russian note: the negated one comes as excluded
    p.click("#from-text summary")
    p.fill("#note", NOTE)
    p.click("#from-text button[type=submit]")
    p.locator(".text-terms fieldset").wait_for()
    page.shot("40-ru-referral-terms-from-text")
    p.click(".text-terms button[type=submit]")
    p.locator("#terms .excluded-list", has_text="HP:0001083").first.wait_for()
    p.fill("#ref-history", "Высокий рост с 5 лет, миопия высокой степени.")
    # a genetic finding, structured: the patient page's fields in the form's empty row
    p.fill("#gf-0-gene_symbol", "FBN1")
    p.fill("#gf-0-hgvs", "NM_000138.5:c.1129C>T")
    p.select_option("#gf-0-zygosity_label", "heterozygous")
    p.select_option("#gf-0-acmg_class", "PATHOGENIC")
    page.shot("41-ru-referral-form")
    page.axe()
    p.click("button[name=action][value=save]")  # a draft first, then its edit
    p.locator("#ref-edit").wait_for()
    rid = int(p.url.split("/referrals/", 1)[1].split("?")[0])
    p.click("#ref-edit")
    p.wait_for_url(f"**/referrals/{rid}/edit")
    assert p.input_value("#ref-history") == "Высокий рост с 5 лет, миопия высокой степени."
    p.locator("#terms .excluded-list", has_text="HP:0001083").first.wait_for()  # the terms, as saved
    assert p.input_value("#gf-0-gene_symbol") == "FBN1" and p.input_value("#gf-0-acmg_class") == "PATHOGENIC"
    assert p.input_value("#gf-1-gene_symbol") == ""  # the empty row, to add another
    p.fill("#ref-tests_done", "ЭхоКГ: расширение корня аорты.")
    page.shot("45-ru-referral-edit")
    p.click("button[name=action][value=submit]")
    p.wait_for_url(f"**/referrals/{rid}?*")
    r = reg.get_referral(SYSTEM, rid)
    assert r.tests_done == "ЭхоКГ: расширение корня аорты."
    assert r.status == "submitted"
    assert [(f.gene_symbol, f.hgvs, f.zygosity_label, f.acmg_class) for f in r.genetic_findings] == [
        ("FBN1", "NM_000138.5:c.1129C>T", "heterozygous", "PATHOGENIC")]
    assert p.locator("#h-ref ~ .table-wrap", has_text="FBN1").count() == 1  # shown in the details
    got = {(t.hpo_id, t.excluded) for t in r.phenotype}
    assert {("HP:0001250", False), ("HP:0000098", False), ("HP:0001166", False), ("HP:0001083", True)} <= got, got
    page.shot("42-ru-referral-submitted")


def _user(page: Page, name: str, role: str) -> None:
    reg = page.server.registry
    if name not in {u.username for u in reg.list_users(SYSTEM)}:
        reg.add_user(SYSTEM, name, PASSWORD, role)


@pytest.mark.parametrize("page", ["ru-RU"], indirect=True)
def test_accepting_with_a_linked_patient_and_the_conclusion_form(page: Page) -> None:
    from raredx.app import transition_referral
    from raredx.registry import PatientCreate
    from raredx.registry.schemas import ReferralCreate

    reg, rdx = page.server.registry, page.server.rdx
    for name, role in (("form-doc", "referring_physician"), ("form-coord", "coordinator"), ("form-exp", "expert")):
        _user(page, name, role)
    known = reg.create_patient(SYSTEM, PatientCreate(pseudonym="TVER-BR-KNOWN"))
    doc = reg.authenticate("form-doc", PASSWORD)
    r = reg.create_referral(doc, ReferralCreate.model_validate({
        "patient": {"pseudonymous": True, "pseudonym": "TVER-BR-2"}, "clinical_question": "Синдром Марфана?",
        "phenotype": [{"hpo_id": "HP:0001166"}, {"hpo_id": "HP:0001083"}, {"hpo_id": "HP:0000098"}]}))
    r = transition_referral(rdx, reg, doc, r.id, "submitted", version=r.version)
    _login(page, "form-coord")
    page.goto(f"/referrals/{r.id}")
    p = page.page
    p.check("#accept-link")
    p.locator("#accept-q").press_sequentially("TVER-BR-K", delay=40)
    p.locator(f"#link-{known.id}").wait_for()
    p.check(f"#link-{known.id}")
    page.shot("43-ru-referral-accept")
    page.axe()
    p.click("#accept-form button[type=submit]")
    p.locator("#ref-patient").wait_for()
    assert reg.get_referral(SYSTEM, r.id).patient_id == known.id
    r = reg.assign_experts(SYSTEM, r.id, ["form-exp"], version=reg.get_referral(SYSTEM, r.id).version)
    reg.transition(reg.authenticate("form-exp", PASSWORD), r.id, "in_review", version=r.version)
    p.context.clear_cookies()
    _login(page, "form-exp")
    page.goto(f"/referrals/{r.id}")
    p.check("#dx-0")
    p.fill("#c-text", "Вероятен синдром Марфана; показано секвенирование FBN1.")
    page.shot("44-ru-referral-conclusion-form")
    page.axe()
    p.click("#conclusion-form button[type=submit]")
    p.locator("#conclusion dl li").first.wait_for()  # the conclusion as saved, its diagnosis listed
    c = reg.get_referral(SYSTEM, r.id).conclusion
    assert c is not None and len(c.diagnoses) == 1 and c.diagnoses[0].status == "probable"
