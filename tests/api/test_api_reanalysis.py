"""The analysis history and the re-analysis list over HTTP: a diagnosis of a stored patient is kept with its
knowledge base, and compared with the patient's latest analysis on an older one."""

from __future__ import annotations

from fastapi.testclient import TestClient

from raredx.registry import SYSTEM, Registry
from raredx.registry.schemas import AnalysisCreate, AnalysisResult

from .test_api_endpoints import create


def test_a_diagnosis_is_kept_and_listed_when_it_changed_from_an_older_knowledge_base(
        client: TestClient, auth, registry: Registry, toy_kb) -> None:  # type: ignore[no-untyped-def]
    p = create(client, auth("clinician"))
    # what an older knowledge base said: only a disease that today's does not rank first
    older = AnalysisCreate(patient_version=1, trigger="diagnose", kb_version="hp 2020-01-01", kb_fingerprint="0" * 16,
                           raredx_version="0.0.1", results=(AnalysisResult(rank=1, disease_ids=("OMIM:100002",),
                                                                           name="Toy congenital deafness", probability=0.9),))
    (baseline,) = registry.record_analyses(SYSTEM, [(p["id"], older)])
    assert client.get("/api/reanalysis", headers=auth("clinician")).json()["count"] == 0

    r = client.post(f"/api/patients/{p['id']}/diagnose", params={"top": 3}, headers=auth("clinician"))
    assert r.status_code == 200 and len(r.json()["diseases"]) == 3
    history = client.get(f"/api/patients/{p['id']}/analyses", headers=auth("researcher"))
    assert history.status_code == 200 and history.headers["X-Total-Count"] == "2"
    latest = history.json()[0]
    assert (latest["kb_fingerprint"], latest["trigger"], latest["triggered_by"]) == (toy_kb.fingerprint, "diagnose", "clinician")
    assert latest["results"][0]["disease_ids"] == r.json()["diseases"][0]["ids"] and latest["compared_with"] == baseline.id

    changed = client.get("/api/reanalysis", headers=auth("researcher")).json()
    assert changed["count"] == 1
    (row,) = changed["data"]
    assert (row["patient_id"], row["pseudonym"], row["previous_kb_version"]) == (p["id"], "RDX-1", "hp 2020-01-01")
    changes = row["analysis"]["changes"]
    assert {c["kind"] for c in changes} == {"new_in_top", "new_gene_link"}  # the older one linked no gene
    assert {c["gene"] for c in changes if c["kind"] == "new_gene_link"} == {"FBN1"}
    assert "identity" not in row  # pseudonyms only
    assert client.get("/api/patients/999/analyses", headers=auth("clinician")).status_code == 404
    assert client.get("/api/reanalysis", params={"limit": 0}, headers=auth("clinician")).status_code == 422
