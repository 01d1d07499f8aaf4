"""The Russian workbench in a real browser: HPO terms in Russian (the shipped lexicon's labels, the English label
and the id alongside) in the autocomplete, the phenotype, the differential's evidence and the suggestions.

Uses the browser fixtures of test_workbench_browser (same Chromium, live server, console-error and axe checks);
screenshots go to test-output/web/ with the others."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from raredx.extract import TermLabels

from . import test_workbench_browser as shared
from .test_workbench_browser import MARFAN, Page, _patient

browser, page = shared.browser, shared.page  # the fixtures, used here too

SEIZURE = "HP:0001250"


@cache
def labels(page: Page) -> TermLabels:
    return TermLabels.load(page.server.registry.ontology)


def russian(page: Page, term_id: str) -> str:
    name = labels(page).label(term_id, "ru")
    assert name != labels(page).label(term_id, "en"), f"{term_id} has no Russian label in the shipped lexicon"
    return name


@pytest.mark.parametrize("page", ["ru-RU"], indirect=True)
def test_russian_autocomplete_and_evidence(page: Page) -> None:
    pid = _patient(page.server, "WEB-RU-1", MARFAN)
    page.login()
    page.goto(f"/patients/{pid}")
    assert page.page.locator("html").get_attribute("lang") == "ru"
    # the phenotype list: Russian label, then the English one (lang="en") and the id
    row = page.page.locator("#terms li.term", has_text="Arachnodactyly").first
    assert russian(page, MARFAN[0]) in row.inner_text() and "Arachnodactyly" in row.inner_text()
    assert row.locator(".term-en[lang=en]").inner_text() == "Arachnodactyly"
    # the evidence table of the first disease: the patient's terms and the annotations in Russian
    evidence = page.page.locator("#ranking > li").first.locator("table.evidence")
    text = evidence.inner_text()
    assert all(russian(page, t) in text for t in MARFAN), text
    assert evidence.locator("tbody tr td:first-child .term-name").first.inner_text() in {russian(page, t) for t in MARFAN}
    # the key evidence of rows 2-10, readable without opening them, in Russian too
    key = page.page.locator("#ranking > li").nth(1).locator(".key-evidence .for").inner_text()
    assert any(russian(page, t) in key for t in MARFAN) and "Arachnodactyly" not in key, key
    # the suggested next findings: Russian where the lexicon names the term
    suggestion = page.page.locator("#suggestions li").first
    sid = suggestion.locator(".id").inner_text()
    assert suggestion.locator(".label").inner_text() == labels(page).label(sid, "ru")
    page.shot("20-ru-patient-evidence")
    # the autocomplete: an inflected stem finds Seizure by its Russian label, English label and id alongside
    box = page.page.locator("#term-q")
    box.click()
    box.press_sequentially("судорог", delay=40)
    option = page.page.locator("#term-options [role=option]").first
    option.wait_for(state="visible")
    assert option.get_attribute("data-id") == SEIZURE
    assert option.locator(".label").inner_text() == russian(page, SEIZURE)
    assert option.locator(".term-en").inner_text() == "Seizure" and option.locator(".id").inner_text() == SEIZURE
    page.shot("21-ru-autocomplete")
    page.axe()
    page.timed(option.click)
    page.page.locator("#terms", has_text=russian(page, SEIZURE)).wait_for()
    page.shot("22-ru-term-added")


@pytest.mark.parametrize("page", ["ru-RU"], indirect=True)
def test_russian_quick_diagnosis_typo(page: Page) -> None:
    page.login()
    page.goto("/diagnose")
    page.add_term("микрацефал", russian(page, "HP:0000252"))  # a typo, and only the stem
    assert "Microcephaly" in page.page.locator("#terms").inner_text()
    page.shot("23-ru-quick-diagnosis")
    page.axe()


@pytest.mark.parametrize("page", ["ru-RU"], indirect=True)
def test_russian_import_report(page: Page, tmp_path: Path) -> None:
    case = json.loads((shared.DATA / "phenopackets" / "marfan_case.json").read_text())
    case["id"] = "WEB-RU-IMPORT-1"
    case["phenotypicFeatures"].append({"type": {"id": "HP:9999999", "label": "no such term"}})
    upload = tmp_path / "case.json"
    upload.write_text(json.dumps(case))
    page.login()
    page.goto("/import")
    page.page.set_input_files("#import-file", str(upload))
    page.page.select_option("#import-policy", "strict")
    page.page.click("form.card button[type=submit]")
    issues = page.page.locator("table.issues")
    issues.wait_for()
    text = issues.inner_text()
    lenient = page.page.locator("#import-policy option[value=lenient]").inner_text().split(":")[0]
    assert "HP:9999999" in text and f"«{lenient}»" in text and "--lenient" not in text, text
    page.shot("24-ru-import-report")
    page.axe()
