"""The re-analysis page: the patients whose differential changed from their latest analysis on an older knowledge
base, in English and Russian, linked from the navigation for the roles that diagnose."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from raredx.registry import SYSTEM, Registry
from raredx.registry.schemas import AnalysisCreate, AnalysisResult

from .conftest import login


def test_the_page_lists_the_patients_whose_picture_changed(web: TestClient, tmp_path: Path) -> None:
    token = login(web, "clinician")
    assert 'href="/reanalysis"' in web.get("/patients").text
    assert "No patient&#39;s picture has changed" in web.get("/reanalysis").text
    web.post("/patients/new", data={"csrf": token, "pseudonym": "X-9"})
    registry = Registry.open(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    older = AnalysisCreate(patient_version=1, trigger="diagnose", kb_version="hp 2020-01-01", kb_fingerprint="0" * 16,
                           raredx_version="0.0.1", results=(AnalysisResult(rank=1, disease_ids=("OMIM:100002",),
                                                                           name="Toy congenital deafness", probability=0.9),))
    registry.record_analyses(SYSTEM, [(1, older)])
    htmx = {"X-CSRF-Token": token, "HX-Request": "true"}
    web.post("/patients/1/case", data={"op": "add", "add_id": "HP:0001166", "version": "1"}, headers=htmx)  # diagnosed
    (latest, _) = registry.analyses(SYSTEM, 1).data
    registry.close()
    assert latest.trigger == "diagnose" and latest.triggered_by == "clinician" and latest.changes
    page = web.get("/reanalysis").text
    assert 'href="/patients/1">X-9</a>' in page and "hp 2020-01-01 →" in page and "entered the top 5" in page
    web.get("/lang/ru?next=/reanalysis")
    assert "вошло в первую пятёрку" in web.get("/reanalysis").text
