"""Every endpoint, on SQLite and PostgreSQL: authentication, roles, errors as JSON, audit entries."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

from fastapi.testclient import TestClient

from raredx import Case, RareDx
from registry.conftest import BAD, PHENOPACKETS, make_patient

PATIENT = make_patient().model_dump(mode="json")


def create(client: TestClient, headers: dict[str, str], **fields) -> dict:  # type: ignore[no-untyped-def]
    r = client.post("/api/patients", json={**PATIENT, **fields}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_token_and_me(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/auth/token", data={"username": "clinician", "password": "wrong"})
    assert r.status_code == 401 and r.json()["error"] == "AuthenticationError"
    body = client.post("/api/auth/token", data={"username": "clinician", "password": "a long test password"}).json()
    assert body["token_type"] == "bearer" and body["access_token"]
    assert client.get("/api/auth/me", headers=auth("clinician")).json() == {"username": "clinician", "role": "clinician"}


ENDPOINTS = [
    ("get", "/api/patients"), ("post", "/api/patients"), ("get", "/api/patients/1"), ("patch", "/api/patients/1"),
    ("delete", "/api/patients/1"), ("post", "/api/patients/1/restore"), ("get", "/api/patients/1/history"),
    ("get", "/api/patients/1/phenopacket"), ("post", "/api/patients/1/diagnose"), ("post", "/api/diagnose"),
    ("post", "/api/phenopackets/import"), ("get", "/api/phenopackets/export"), ("get", "/api/statistics"),
    ("get", "/api/terms?q=tall"), ("get", "/api/audit"), ("get", "/api/users"), ("post", "/api/users"),
    ("get", "/api/auth/me"), ("post", "/api/auth/logout"), ("get", "/api/users/1"), ("patch", "/api/users/1"),
    ("delete", "/api/users/1"), ("post", "/api/users/1/unlock"), ("get", "/api/patients/1/audit"),
    ("get", "/api/patients/1/analyses"), ("get", "/api/reanalysis"), ("get", "/api/patients/1/similar"),
    ("get", "/api/referrals"), ("post", "/api/referrals"), ("get", "/api/referrals/overdue"),
    ("get", "/api/referrals/counts"), ("get", "/api/referrals/1"), ("patch", "/api/referrals/1"),
    ("post", "/api/referrals/1/transition"), ("post", "/api/referrals/1/experts"), ("post", "/api/referrals/1/opinions"),
    ("put", "/api/referrals/1/conclusion"), ("get", "/api/referrals/1/messages"), ("post", "/api/referrals/1/messages"),
    ("post", "/api/referrals/1/attachments"), ("get", "/api/referrals/1/attachments/1"), ("get", "/api/referrals/1/conclusion.pdf"),
    ("get", "/api/organisations"),
    ("post", "/api/organisations"), ("patch", "/api/organisations/1"), ("delete", "/api/organisations/1"),
]


def test_unauthenticated_calls_get_401(client: TestClient) -> None:
    for method, path in ENDPOINTS:
        r = getattr(client, method)(path)
        assert r.status_code == 401, (path, r.text)
        assert "Bearer" in r.json()["detail"] and r.headers["www-authenticate"] == "Bearer"
        bad = getattr(client, method)(path, headers={"Authorization": "Bearer not-a-token"})
        assert bad.status_code == 401 and "invalid" in bad.json()["detail"], path
    # every operation the API documents must be in ENDPOINTS (a path's {placeholders} match any segment)
    paths = client.get("/openapi.json").json()["paths"]
    public = {("post", "/api/auth/token"), ("get", "/api/health")}
    missing = {(m, path) for path, ops in paths.items() for m in ops if path.startswith("/api") and (m, path) not in public
               and not any(m == em and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", path), ep.split("?")[0])
                           for em, ep in ENDPOINTS)}
    assert not missing, f"endpoints not checked for 401: {missing}"


def test_patient_crud_history_delete_restore(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    c, admin = auth("clinician"), auth("admin")
    p = create(client, c)
    assert p["identity"]["family_name"] == "Doe" and p["version"] == 1
    got = client.get(f"/api/patients/{p['id']}", headers=c).json()
    assert got["diagnoses"][0]["disease_id"] == "OMIM:154700"
    r = client.patch(f"/api/patients/{p['id']}", json={"version": 1, "region": "South"}, headers=c)
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["region"] == "South"
    stale = client.patch(f"/api/patients/{p['id']}", json={"version": 1, "region": "East"}, headers=c)
    assert stale.status_code == 409 and "someone saved it" in stale.json()["detail"]
    history = client.get(f"/api/patients/{p['id']}/history", headers=c).json()
    assert [h["snapshot"]["region"] for h in history] == ["North", "South"]
    assert client.delete(f"/api/patients/{p['id']}", headers=c).status_code == 403
    assert client.delete(f"/api/patients/{p['id']}", headers=auth("registry_manager")).status_code == 204
    assert client.get(f"/api/patients/{p['id']}", headers=c).status_code == 404
    assert client.post(f"/api/patients/{p['id']}/restore", headers=auth("registry_manager")).status_code == 403
    restored = client.post(f"/api/patients/{p['id']}/restore", headers=admin)
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None
    audit = client.get(f"/api/patients/{p['id']}/audit", headers=admin).json()
    assert [a["action"] for a in reversed(audit)] == ["create", "read", "update", "history", "denied", "delete", "denied",
                                                      "restore", "read"]  # the refused delete and restore too
    denied = [a for a in audit if a["action"] == "denied"]
    assert {a["username"] for a in denied} == {"clinician", "registry_manager"}
    assert denied[-1]["detail"] == {"method": "DELETE", "path": f"/api/patients/{p['id']}", "permission": "DELETE"}
    assert client.get("/api/audit", headers=c).status_code == 403
    newest = client.get("/api/audit", headers=admin).json()[0]  # the refused look at the audit log
    assert (newest["username"], newest["action"], newest["detail"]["path"]) == ("clinician", "denied", "/api/audit")


def test_researcher_sees_no_identities_and_cannot_write(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    p = create(client, auth("clinician"))
    r = auth("researcher")
    one = client.get(f"/api/patients/{p['id']}", headers=r).json()
    assert one["identity"] is None and one["birth_year"] == 2010 and "Doe" not in json.dumps(one)
    many = client.get("/api/patients", headers=r).json()
    assert many["count"] == 1 and many["data"][0]["identity"] is None
    assert "dateOfBirth" not in client.get(f"/api/patients/{p['id']}/phenopacket", headers=r).json()["subject"]
    assert client.post("/api/patients", json={**PATIENT, "pseudonym": "X"}, headers=r).status_code == 403
    assert client.patch(f"/api/patients/{p['id']}", json={"version": 1}, headers=r).status_code == 403
    assert client.get(f"/api/patients/{p['id']}/history", headers=r).status_code == 403
    assert client.get("/api/users", headers=r).status_code == 403
    assert client.get("/api/statistics", headers=r).status_code == 200


def test_search_filters_and_paging(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    c = auth("clinician")
    for i in range(3):
        create(client, c, pseudonym=f"P{i}", region="South" if i else "North")
    r = client.get("/api/patients", params={"region": "South", "hpo": "HP:0000118", "gene": "FBN1", "disease": "ORPHA:558",
                                            "diagnosis_status": "confirmed", "provision_status": "dispensed", "limit": 1,
                                            "offset": 1}, headers=c).json()
    assert r["count"] == 2 and [p["pseudonym"] for p in r["data"]] == ["P2"]
    bad = client.get("/api/patients", params={"diagnosis_status": "maybe"}, headers=c)
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "query.diagnosis_status"
    unknown = client.get("/api/patients", params={"hpo": "HP:9999999"}, headers=c)
    assert unknown.status_code == 422 and "HP:9999999" in unknown.json()["detail"]
    assert "lenient=true" in unknown.json()["detail"] and "--lenient" not in unknown.json()["detail"]  # its own option


def test_create_rejects_bad_input_naming_the_field(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    c = auth("clinician")
    r = client.post("/api/patients", json={"sex": "FEMALE"}, headers=c)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "pseudonym"
    r = client.post("/api/patients", json={**PATIENT, "phenotypic_features": [{"hpo_id": "fever"}]}, headers=c)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "phenotypic_features.0.hpo_id"
    r = client.post("/api/patients", content=b"{not json", headers={**c, "Content-Type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    create(client, c)
    assert client.post("/api/patients", json=PATIENT, headers=c).status_code == 409
    assert client.get("/api/patients/999", headers=c).status_code == 404


def test_stateless_diagnose_matches_the_core_object(client: TestClient, auth, toy_kb) -> None:  # type: ignore[no-untyped-def]
    body = json.loads((PHENOPACKETS / "marfan_case.json").read_text())
    r = client.post("/api/diagnose", json=body, params={"top": 3}, headers=auth("researcher"))
    assert r.status_code == 200, r.text
    expected = RareDx(toy_kb, cache=False).diagnose(
        Case(("HP:0001166", "HP:0001083", "HP:0002616", "HP:0001065"), ("HP:0001250",), "female", None, "P25Y", id="toy-marfan-1"),
        top=3).to_dict()
    assert r.json() == json.loads(json.dumps(expected))
    assert r.json()["diseases"][0]["name"] and "next_best_phenotypes" in r.json()
    unknown = client.post("/api/diagnose", json={"phenotypicFeatures": [{"type": {"id": "HP:9999999"}}]}, headers=auth("researcher"))
    assert unknown.status_code == 422 and "HP:9999999" in unknown.json()["detail"]
    missing = client.post("/api/diagnose", json={"subject": {"sex": "MALE"}}, headers=auth("researcher"))
    assert missing.status_code == 422 and missing.json()["problems"][0]["field"] == "phenotypicFeatures"
    no_id = client.post("/api/diagnose", json={"phenotypicFeatures": [{"type": {"label": "x"}}]}, headers=auth("researcher"))
    assert no_id.status_code == 422 and no_id.json()["problems"][0]["field"] == "phenotypicFeatures.0.type.id"
    # the schema says what the service checks: at least one feature, at least one of them observed
    features = client.get("/openapi.json").json()["components"]["schemas"]["DiagnoseRequest"]["properties"]["phenotypicFeatures"]
    assert features["minItems"] == 1 and features["contains"]
    for feats in ([], [{"type": {"id": "HP:0001166"}, "excluded": True}]):
        refused = client.post("/api/diagnose", json={"phenotypicFeatures": feats}, headers=auth("researcher"))
        assert refused.status_code == 422 and refused.json()["problems"][0]["field"] == "phenotypicFeatures", refused.text


def test_diagnose_a_stored_patient(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    p = create(client, auth("clinician"))
    r = client.post(f"/api/patients/{p['id']}/diagnose", headers=auth("clinician"))
    assert r.status_code == 200 and r.json()["case_id"] == "RDX-1" and r.json()["diseases"]
    audit = client.get(f"/api/patients/{p['id']}/audit", headers=auth("admin")).json()
    assert audit[0]["action"] == "diagnose"


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_import_report_and_export(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    m = auth("registry_manager")
    good = (PHENOPACKETS / "marfan_case.json").read_bytes()
    archive = _zip({"a/good.json": good, "a/broken.json": (BAD / "broken.json").read_bytes(),
                    "a/missing.json": (BAD / "missing_type_id.json").read_bytes()})
    r = client.post("/api/phenopackets/import", files={"file": ("cases.zip", archive, "application/zip")},
                    data={"policy": "strict"}, headers=m)
    assert r.status_code == 200, r.text
    rep = r.json()
    assert (rep["records"], rep["imported"], rep["rejected"]) == (3, 1, 2)
    fields = {(i["record"].split("!")[-1], i["field"]) for i in rep["issues"]}
    assert ("a/missing.json", "phenotypicFeatures[1].type.id") in fields
    assert any(i["record"].startswith("cases.zip!a/broken.json") and "malformed JSON" in i["reason"] for i in rep["issues"])
    pid = rep["patient_ids"][0]
    doc = client.get(f"/api/patients/{pid}/phenopacket", headers=m).json()
    original = json.loads(good)
    assert doc["phenotypicFeatures"] == original["phenotypicFeatures"] and doc["diseases"] == original["diseases"]
    assert doc["metaData"] == original["metaData"] and doc["interpretations"] == original["interpretations"]
    again = client.post("/api/phenopackets/import", files={"file": ("one.json", good, "application/json")}, headers=m)
    assert again.status_code == 422 and "already in the registry" in again.json()["detail"]
    z = client.get("/api/phenopackets/export", headers=m)
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(z.content)) as zf:
        assert zf.namelist() == [f"phenopackets/toy-marfan-1_{pid}.json"]
    assert client.post("/api/phenopackets/import", files={"file": ("one.json", good, "application/json")},
                       headers=auth("researcher")).status_code == 403


def test_import_rejects_wrong_type_size_and_bad_json(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    m = auth("clinician")
    r = client.post("/api/phenopackets/import", files={"file": ("x.txt", b"hello", "text/plain")}, headers=m)
    assert r.status_code == 415 and "text/plain" in r.json()["detail"]
    r = client.post("/api/phenopackets/import", files={"file": ("x.zip", b"not a zip", "application/zip")}, headers=m)
    assert r.status_code == 415 and "not one" in r.json()["detail"]
    big = b"{" + b" " * (2 * 2**20) + b"}"  # the test settings allow 1 MiB
    r = client.post("/api/phenopackets/import", files={"file": ("big.json", big, "application/json")}, headers=m)
    assert r.status_code == 413 and "1 MiB" in r.json()["detail"]
    r = client.post("/api/phenopackets/import", files={"file": ("bad.json", b"{oops", "application/json")}, headers=m)
    assert r.status_code == 422 and "malformed JSON" in r.json()["detail"] and r.json()["problems"][0]["record"] == "bad.json"
    r = client.post("/api/phenopackets/import", files={"file": ("x.json", b"{}", "application/json")}, data={"policy": "yolo"}, headers=m)
    assert r.status_code == 422 and "strict or lenient" in r.json()["detail"]
    assert client.get("/api/patients", headers=m).json()["count"] == 0


def test_statistics_terms_users_health(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    create(client, auth("clinician"))
    stats = client.get("/api/statistics", headers=auth("researcher")).json()
    assert stats["patients"] == 1 and stats["by_disease"][0]["disease_id"] == "OMIM:154700"
    hits = client.get("/api/terms", params={"q": "tal stat"}, headers=auth("researcher")).json()
    assert hits[0]["id"] == "HP:0000098"  # Tall stature, despite the typo and the prefix
    assert client.get("/api/terms", params={"q": "deaf"}, headers=auth("researcher")).json()[0]["id"] == "HP:0000365"
    assert client.get("/api/terms", params={"q": "HP:0000098"}, headers=auth("researcher")).json()[0]["label"] == "Tall stature"
    assert client.get("/api/terms", params={"q": ""}, headers=auth("researcher")).status_code == 422
    # lang=ru: Russian labels (the shipped lexicon) with the English one alongside; Cyrillic queries, any form
    ru = {"lang": "ru", "q": "судорогами"}
    hit = client.get("/api/terms", params=ru, headers=auth("researcher")).json()[0]
    assert (hit["id"], hit["label"], hit["english_label"]) == ("HP:0001250", "судороги", "Seizure")
    hit = client.get("/api/terms", params={"q": "tall", "lang": "ru"}, headers=auth("researcher")).json()[0]
    assert (hit["id"], hit["english_label"]) == ("HP:0000098", "Tall stature") and hit["label"] != "Tall stature"
    assert client.get("/api/terms", params={"q": "tall", "lang": "de"}, headers=auth("researcher")).status_code == 422
    admin = auth("admin")
    r = client.post("/api/users", json={"username": "newbie", "password": "another long password", "role": "researcher"}, headers=admin)
    assert r.status_code == 201 and r.json()["role"] == "researcher"
    assert client.post("/api/users", json={"username": "x", "password": "another long password", "role": "god"},
                       headers=admin).status_code == 422
    assert "newbie" in [u["username"] for u in client.get("/api/users", headers=admin).json()]
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["demo"] is False
    assert client.get("/openapi.json").json()["paths"]["/api/diagnose"]
    assert client.get("/docs").status_code == 200


def test_demo_users_work_only_in_demo_mode(registry, toy_kb, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from raredx.api import create_app
    from raredx.registry import SYSTEM
    from raredx.registry._demo import demo_password

    registry.add_user(SYSTEM, "demo-admin", demo_password("demo-admin"), "admin", demo=True)
    form = {"username": "demo-admin", "password": demo_password("demo-admin")}
    for demo, status in ((False, 401), (True, 200)):
        app = create_app(settings.model_copy(update={"demo": demo}), rdx=RareDx(toy_kb, cache=False), registry=registry)
        with TestClient(app) as c:
            r = c.post("/api/auth/token", data=form)
            assert r.status_code == status, r.text
            if demo:
                assert c.get("/api/health").json()["demo"] is True and "DEMO MODE" in c.get("/openapi.json").json()["info"]["title"]
