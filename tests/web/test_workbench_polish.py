"""The workbench as a clinician sees it (issue 12): a 60-finding patient, the summary strip, the differential's
key evidence, the cohort charts, the header at 390 px, the undiagnosed demo patients."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from raredx.registry import SYSTEM
from raredx.registry._demo import demo_phenopackets

from .test_workbench_browser import SHOTS, Page, browser, page  # noqa: F401  (fixtures)

JACOBSEN = "demo-phenopackets/11q_terminal_deletion/PMID_15266616_104.json"  # 65 findings, a telomeric 11q deletion
HEIGHTS: dict[str, int] = {}


def _jacobsen(page: Page, tmp_path: Path, pseudonym: str) -> int:
    """The published Jacobsen syndrome case (65 findings, 49 of them excluded), imported as it is."""
    doc = json.loads(zipfile.ZipFile(demo_phenopackets()).read(JACOBSEN))
    doc["id"] = pseudonym
    path = tmp_path / f"{pseudonym}.json"
    path.write_text(json.dumps(doc))
    report = page.server.registry.import_phenopackets(SYSTEM, path)
    assert report.imported == 1, report.to_dict()
    return report.patient_ids[0]


def _height(page: Page) -> int:
    return int(page.page.evaluate("document.documentElement.scrollHeight"))


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_sixty_finding_patient_page(page: Page, tmp_path: Path, lang: str) -> None:
    pid = _jacobsen(page, tmp_path, f"WEB-60-{lang}")
    page.login()
    page.goto(f"/lang/{lang}?next=/patients/{pid}")
    page.page.wait_for_url(f"**/patients/{pid}")
    page.page.locator("#ranking > li").first.wait_for()
    HEIGHTS[f"patient-1280-{lang}"] = _height(page)
    print(f"\nheight {lang}: {_height(page)}")
    page.shot(f"20-patient-60-{lang}")


def test_before_shots(page: Page, tmp_path: Path) -> None:
    pid = _jacobsen(page, tmp_path, "WEB-60-x")
    page.login()
    page.page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/patients/{pid}")
    print("\n390 height", _height(page), page.page.evaluate("document.documentElement.scrollWidth"))
    page.shot("21-patient-390")
    print(page.page.evaluate("""() => Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 392 && !e.closest('.table-wrap')).slice(0, 15).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""))
    print(page.page.evaluate("""() => Array.from(document.querySelectorAll('.table-wrap')).map(e => [getComputedStyle(e).overflowX, e.scrollWidth, e.clientWidth, Math.round(e.getBoundingClientRect().right)])"""))
    print(page.page.evaluate("""() => [document.body.scrollWidth, document.documentElement.scrollWidth, window.innerWidth]"""))
    page.page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/cohort")
    page.shot("22-cohort")
