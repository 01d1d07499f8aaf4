"""GET /api/patients/{id}/similar and POST /api/patients/{id}/diagnose?solved_cases=true over the toy knowledge
base, with the patients of tests/data/match imported; and `raredx registry similar`."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from raredx.registry import SYSTEM, PatientUpdate, Registry
from raredx.registry.schemas import FamilyRelation
from registry.conftest import REPO

MATCH = REPO / "tests" / "data" / "match"


def _import(registry: Registry) -> dict[str, int]:
    report = registry.import_phenopackets(SYSTEM, MATCH)
    assert report.imported == 10
    ids = {p.pseudonym: p.id for p in registry.list_summaries(SYSTEM, limit=100).data}
    # the two siblings of family 1: the relation makes them one family
    sister = ids["PMID_20000001_Family_1_II_2"]
    me = registry.get_patient(SYSTEM, ids["PMID_20000001_Family_1_II_1"])
    registry.update_patient(SYSTEM, me.id, PatientUpdate(version=me.version, family_relations=[
        FamilyRelation(relative_pseudonym="PMID_20000001_Family_1_II_2", relation="sibling", affected=True)]))
    assert sister
    return ids


def test_similar_patients_by_pseudonym_with_reasons(client: TestClient, auth, registry: Registry) -> None:  # type: ignore[no-untyped-def]
    ids = _import(registry)
    me = ids["PMID_20000001_Family_1_II_1"]
    r = client.get(f"/api/patients/{me}/similar", params={"top": 3}, headers=auth("researcher"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pseudonym"] == "PMID_20000001_Family_1_II_1" and body["n_patients"] == 9
    shown = [m["pseudonym"] for m in body["matches"]]
    assert "PMID_20000001_Family_1_II_2" not in shown  # the sibling: the same family
    assert len(shown) == 3 and shown[0] in ("PMID_20000001_Patient_3", "PMID_20000002_Patient_1")
    best = body["matches"][0]
    assert best["diagnoses"] == ["OMIM:154700"] and best["reasons"][0].startswith("shared: ")
    assert {"identity", "family_name"}.isdisjoint(best) and set(best["parts"]) == {
        "phenotype", "differential", "onset", "sex", "genes"}
    audit = registry.audit_log(SYSTEM, patient_id=me)
    assert any(a.action == "similar" and a.username == "researcher" for a in audit)
    genes = client.get(f"/api/patients/{me}/similar", params={"with_genes": True}, headers=auth("clinician")).json()
    assert "same gene: FBN1" in genes["matches"][0]["reasons"]


def test_similar_errors(client: TestClient, auth, registry: Registry) -> None:  # type: ignore[no-untyped-def]
    _import(registry)
    r = client.get("/api/patients/999999/similar", headers=auth("researcher"))
    assert r.status_code == 404 and "no patient with id 999999" in r.json()["detail"]
    assert client.get("/api/patients/1/similar", params={"top": 0}, headers=auth("researcher")).status_code == 422
    assert client.get("/api/patients/1/similar").status_code == 401


def test_diagnose_with_the_solved_cases(client: TestClient, auth, registry: Registry) -> None:  # type: ignore[no-untyped-def]
    ids = _import(registry)
    me = ids["PMID_20000004_Patient_1"]  # JLNS; two solved JLNS patients in another publication
    plain = client.post(f"/api/patients/{me}/diagnose", headers=auth("clinician")).json()
    assert all(d["solved_cases"] is None for d in plain["diseases"])
    r = client.post(f"/api/patients/{me}/diagnose", params={"solved_cases": True}, headers=auth("clinician"))
    assert r.status_code == 200, r.text
    jlns = next(d for d in r.json()["diseases"] if "OMIM:220400" in d["ids"])
    ev = jlns["solved_cases"]
    assert ev is not None and "PMID_20000004_Patient_1" not in ev["patients"]
    assert set(ev["patients"]) <= {"PMID_20000003_Patient_1", "PMID_20000003_Patient_2"} and ev["patients"]
    assert "solved patient" in ev["text"] and jlns["evidence"] == next(
        d for d in plain["diseases"] if "OMIM:220400" in d["ids"])["evidence"]


def test_cli_registry_similar(cli_env: dict[str, str], tmp_path: Path) -> None:
    from api.test_registry_cli import cli

    env = {**cli_env, "RAREDX_REGISTRY_DIR": str(tmp_path / "reg")}
    assert cli(["registry", "import", str(MATCH)], env).returncode == 0
    r = cli(["registry", "similar", "PMID_20000003_Patient_1", "--format", "json", "--top", "2"], env)
    assert r.returncode == 0, r.stderr
    found = json.loads(r.stdout)
    assert found["pseudonym"] == "PMID_20000003_Patient_1" and len(found["matches"]) == 2
    assert found["matches"][0]["diagnoses"] == ["OMIM:220400"]
    r = cli(["registry", "similar", "PMID_20000003_Patient_1"], env)
    assert r.returncode == 0 and "Patients like PMID_20000003_Patient_1" in r.stdout and "shared:" in r.stdout
    r = cli(["registry", "similar", "nobody"], env)
    assert r.returncode != 0 and "no patient with pseudonym 'nobody'" in r.stderr and "Traceback" not in r.stderr
    r = cli(["registry", "similar", "1", "--format", "xml"], env)
    assert r.returncode != 0 and "choose table or json" in r.stderr


def test_the_index_is_kept_until_the_registry_changes(registry: Registry, toy_kb) -> None:  # type: ignore[no-untyped-def]
    from raredx.app import RegistryMatcher
    from raredx.core import RareDx

    ids = _import(registry)
    matcher = RegistryMatcher(RareDx(toy_kb, cache=False), registry)
    me = ids["PMID_20000003_Patient_1"]
    first = matcher.similar(SYSTEM, me)
    kept = matcher._built
    assert matcher.similar(SYSTEM, me) == first and matcher._built is kept
    registry.delete_patient(SYSTEM, ids["PMID_20000003_Patient_2"])
    after = matcher.similar(SYSTEM, me)
    assert matcher._built is not kept and "PMID_20000003_Patient_2" not in [m.label for m in after.matches]
    assert after.n_patients == first.n_patients - 1
