"""The case report a clinician signs (issue 12): the printable page and the PDF hold the patient, the phenotype,
the leading diseases with their key evidence, what to examine next, the data versions and the disclaimer, on
one to three A4 pages, in English and in Russian; no interactive help; an unknown patient is a clear 404.
Pages are counted by poppler's pdfinfo (Debian's poppler-utils, installed by .ci/run)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import raredx
from raredx.config import Settings
from raredx.core import RareDx
from raredx.registry import SYSTEM, Registry
from raredx.server import create_app
from raredx.web import _i18n
from raredx.web._report import when

from .conftest import add_users, largest_demo_cases, login

try:
    import weasyprint  # noqa: F401
except (ImportError, OSError) as exc:  # OSError: Debian's Pango is missing
    pytest.skip(f"WeasyPrint cannot run here ({exc}); .ci/run installs it and Pango", allow_module_level=True)
POPPLER = shutil.which("pdfinfo") and shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdfinfo, pdftotext) is not installed; "
                                                       ".ci/run installs it")
MARFAN = ("HP:0001166", "HP:0001083", "HP:0002616")
MAX_PAGES = 3


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    m = re.search(r"^Pages:\s+(\d+)", info, re.M)
    assert m, info
    return int(m.group(1))


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True).stdout
    return " ".join(text.decode("utf-8").split())


def _marfan_patient(web: TestClient) -> int:
    token = login(web, "clinician")
    web.post("/patients/new", data={"csrf": token, "pseudonym": "REPORT-1", "sex": "FEMALE"})
    htmx = {"X-CSRF-Token": token, "HX-Request": "true"}
    for version, term in enumerate(MARFAN, 1):
        web.post("/patients/1/case", data={"op": "add", "add_id": term, "version": str(version)}, headers=htmx)
    web.post("/patients/1/case", data={"op": "add", "add_id": "HP:0000365", "add_excluded": "on",
                                       "version": str(len(MARFAN) + 1)}, headers=htmx)
    return 1


def test_ages_and_onsets_in_words() -> None:
    ru, en = _i18n.Translator("ru"), _i18n.Translator("en")
    assert [when(ru, v) for v in ("P4Y6M", "P21Y", "P11Y", "P1Y10M", "P3W")] == [
        "4 года 6 мес.", "21 год", "11 лет", "1 год 10 мес.", "3 нед."]
    assert when(en, "P1Y10M") == "1 y 10 mo" and when(en, "HP:0003577") == "congenital"
    assert when(ru, {"ontologyClass": {"id": "HP:0003577", "label": "Congenital onset"}}) == ru("onset.HP:0003577")
    assert when(en, {"age": {"iso8601duration": "P5Y"}}) == "5 y" and when(en, None) == "" and when(en, "P") == "P"


@pytest.mark.parametrize("lang", _i18n.LANGUAGES)
def test_the_report_page_holds_what_is_signed_and_no_help(web: TestClient, lang: str) -> None:
    pid = _marfan_patient(web)
    web.cookies.set(_i18n.COOKIE, lang)
    t = _i18n.Translator(lang)
    page = web.get(f"/patients/{pid}/report").text
    for key in ("report.disclaimer_title", "report.disclaimer", "report.versions", "report.signature", "report.next"):
        assert t(key) in page, key
    assert f"raredx {raredx.__version__}" in page
    arachnodactyly = {"en": "Arachnodactyly", "ru": "арахнодактилия"}[lang]  # the term in the interface's language
    assert "Marfan" in page and arachnodactyly in page and "HP:0000365" in page  # the excluded term is listed
    assert "only very general terms" not in page or lang == "en"  # the engine's warnings are translated too
    assert ("Autosomal dominant inheritance" in page) == (lang == "en")
    assert 1 <= page.count('class="candidate-head"') <= 5  # the top five, not all ten
    for help_key in ("nbp.help", "phenotype.help"):  # interactive help is not printed
        assert t(help_key) not in page
    assert "<table" not in page.split('<article class="case-report"')[1]  # no evidence tables: they stay in the workbench


@needs_poppler
@pytest.mark.parametrize("lang", _i18n.LANGUAGES)
def test_the_pdf_is_short_and_says_it_is_not_a_diagnosis(web: TestClient, lang: str, tmp_path: Path) -> None:
    pid = _marfan_patient(web)
    web.cookies.set(_i18n.COOKIE, lang)
    r = web.get(f"/patients/{pid}/report.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text[:300]
    assert r.content.startswith(b"%PDF")
    assert 1 <= pdf_pages(r.content, tmp_path) <= MAX_PAGES
    text = pdf_text(r.content, tmp_path)  # the text is in the PDF with its font (Cyrillic too)
    t = _i18n.Translator(lang)
    assert t("report.disclaimer_title") in text and t("report.versions") in text and "REPORT-1" in text


def test_a_record_without_findings_says_there_is_no_differential(web: TestClient) -> None:
    token = login(web, "clinician")
    web.post("/patients/new", data={"csrf": token, "pseudonym": "REPORT-EMPTY"})
    page = web.get("/patients/1/report").text
    assert _i18n.Translator("en")("report.no_differential") in page and 'class="candidate-head"' not in page
    assert web.get("/patients/1/report.pdf").content.startswith(b"%PDF")


def test_without_weasyprint_the_pdf_route_says_what_to_install(web: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = _marfan_patient(web)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # importing it fails, as without the package
    r = web.get(f"/patients/{pid}/report.pdf")
    assert r.status_code == 503 and "libpango-1.0-0" in r.text and "print the HTML report" in r.text
    assert web.get(f"/patients/{pid}/report").status_code == 200  # the printable page does not need it


@pytest.mark.parametrize("suffix", ["", ".pdf"])
def test_an_unknown_patient_is_a_clear_404(web: TestClient, suffix: str) -> None:
    login(web, "clinician")
    r = web.get(f"/patients/99/report{suffix}")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert "no patient with id 99" in r.text


# -- demo patients on the bundled knowledge base -------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, list[int], RareDx]]:
    folder = tmp_path_factory.mktemp("report-registry")
    rdx = RareDx.load(cache_dir=os.environ.get("RAREDX_CACHE_DIR") or folder / "cache")
    settings = Settings(registry_dir=folder, secret_key="report-test-secret-key-0123456789-abcdefgh")
    registry = Registry.open(settings.url, ontology=rdx.kb.ontology)
    add_users(registry)
    largest_demo_cases(folder / "cases", 3)
    report = registry.import_phenopackets(SYSTEM, folder / "cases")
    assert report.imported == 3, report
    ids = [s.id for s in registry.list_summaries(SYSTEM, limit=10).data]
    with TestClient(create_app(settings, rdx=rdx, registry=registry)) as client:
        login(client, "clinician")
        yield client, ids, rdx
    registry.close()


@pytest.mark.kb
@needs_poppler
@pytest.mark.parametrize("lang", _i18n.LANGUAGES)
def test_the_report_of_the_largest_demo_patients_fits_three_pages(demo_web: tuple[TestClient, list[int], RareDx],
                                                                   lang: str, tmp_path: Path) -> None:
    client, ids, rdx = demo_web
    hpo = next(s.version for s in rdx.kb.sources if s.key == "hp_obo")
    client.cookies.set(_i18n.COOKIE, lang)
    t = _i18n.Translator(lang)
    for pid in ids:
        r = client.get(f"/patients/{pid}/report.pdf")
        assert r.status_code == 200, r.text[:300]
        assert 1 <= pdf_pages(r.content, tmp_path) <= MAX_PAGES, pid
        text = pdf_text(r.content, tmp_path)
        assert t("report.disclaimer_title") in text and t("report.versions") in text
        assert f"{t('source.hp_obo')} {hpo}" in text  # the knowledge base's versions
