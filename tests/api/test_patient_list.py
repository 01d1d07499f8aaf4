"""The patient list: a summary line per patient by default, whole records with ``view=full``; both audited with
the ids shown, both documented; and the diagnosis answered the same as ever by the endpoints that queue it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from registry.conftest import actor, make_patient

from raredx.registry import PatientFilter, Registry

DIAGNOSES = [
    {"disease_id": "ORPHA:1", "label": "Ruled out first", "status": "ruled_out"},
    {"disease_id": "OMIM:100001", "label": "Suspected", "status": "suspected"},
    {"disease_id": "OMIM:154700", "label": "Marfan syndrome", "status": "confirmed"},
]


def create(client: TestClient, headers: dict[str, str], **fields) -> dict:  # type: ignore[no-untyped-def]
    r = client.post("/api/patients", json=make_patient(**fields).model_dump(mode="json"), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_list_gives_summaries_by_default_and_records_on_request(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    c = auth("clinician")
    p = create(client, c, diagnoses=DIAGNOSES)
    page = client.get("/api/patients", headers=c).json()
    assert page["count"] == 1 and page["offset"] == 0 and page["limit"] == 50
    line = page["data"][0]
    assert line["id"] == p["id"] and line["pseudonym"] == "RDX-1" and line["version"] == 1
    assert line["sex"] == "FEMALE" and line["birth_year"] == 2010 and line["region"] == "North"
    read = client.get(f"/api/patients/{p['id']}", headers=c).json()
    assert line["vital_status"] == "ALIVE" and line["updated_at"] == read["updated_at"]
    assert line["identity"]["family_name"] == "Doe" and line["identity"]["date_of_birth"] == "2010-05-04"
    assert line["main_diagnosis"] == {"disease_id": "OMIM:154700", "label": "Marfan syndrome", "status": "confirmed"}
    assert line["counts"] == {"phenotypic_features": 3, "diagnoses": 3, "genetic_findings": 1, "treatments": 1,
                              "drug_provisions": 1, "samples": 1, "visits": 1, "family_relations": 1}
    assert "phenotypic_features" not in line
    full = client.get("/api/patients", params={"view": "full"}, headers=c).json()
    assert full["count"] == 1 and full["data"][0] == read
    assert client.get("/api/patients", params={"view": "wide"}, headers=c).status_code == 422


def test_summaries_hide_identities_from_researchers(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    create(client, auth("clinician"))
    line = client.get("/api/patients", headers=auth("researcher")).json()["data"][0]
    assert line["identity"] is None and line["birth_year"] == 2010
    assert "Doe" not in str(line)


def test_both_views_audit_the_ids_shown(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    c = auth("clinician")
    ids = [create(client, c, pseudonym=f"P{i}")["id"] for i in range(3)]
    client.get("/api/patients", params={"limit": 2}, headers=c)
    client.get("/api/patients", params={"limit": 2, "offset": 2, "view": "full"}, headers=c)
    lists = [a for a in client.get("/api/audit", headers=auth("admin")).json() if a["action"] == "list"]
    assert [a["patient_id"] for a in reversed(lists)] == ids  # one entry per patient shown, in either view


def test_main_diagnosis_is_the_first_confirmed_else_the_first_suspected(registry: Registry) -> None:
    c = actor("clinician")
    registry.create_patient(c, make_patient("A", diagnoses=DIAGNOSES))
    registry.create_patient(c, make_patient("B", diagnoses=DIAGNOSES[:2]))
    registry.create_patient(c, make_patient("C", diagnoses=DIAGNOSES[:1]))
    registry.create_patient(c, make_patient("D", diagnoses=[]))
    page = registry.list_summaries(c, PatientFilter())
    main = {s.pseudonym: s.main_diagnosis.disease_id if s.main_diagnosis else None for s in page.data}
    assert main == {"A": "OMIM:154700", "B": "OMIM:100001", "C": None, "D": None}
    assert page.data[3].counts.get("diagnoses", 0) == 0


def test_every_query_shape_finds_what_the_plain_conditions_find(registry: Registry) -> None:
    """The page and count come from whichever query is quick for the filter (a list filter's own index, a walk
    over the patients when matches are dense); they are those of the plain conditions (search_ids)."""
    c, admin = actor("clinician"), actor("admin")
    ids = [registry.create_patient(c, make_patient(f"S{i}", region="East" if i % 2 else "West",
                                                   diagnoses=DIAGNOSES[i % 3:])).id for i in range(9)]
    registry.delete_patient(admin, ids[4])
    filters = [PatientFilter(), PatientFilter(region="East"), PatientFilter(pseudonym="S"), PatientFilter(pseudonym="s"),
               PatientFilter(diagnosis_status="confirmed"), PatientFilter(diagnosis_status="suspected"),
               PatientFilter(disease="OMIM:154700"), PatientFilter(gene="FBN1"), PatientFilter(provision_status="dispensed"),
               PatientFilter(hpo="HP:0001166"), PatientFilter(hpo="HP:0001166", diagnosis_status="confirmed"),
               PatientFilter(region="West", diagnosis_status="ruled_out"), PatientFilter(diagnosis_status="confirmed",
                                                                                          include_deleted=True)]
    for f in filters:
        for offset, limit in ((0, 50), (0, 2), (3, 2), (8, 5), (20, 1)):
            count, first = registry.search_ids(admin, f, limit=offset + limit)
            for page in (registry.list_summaries(admin, f, offset=offset, limit=limit),
                         registry.list_patients(admin, f, offset=offset, limit=limit)):
                assert page.count == count and [p.id for p in page.data] == first[offset:], (f, offset, limit)
    assert registry.list_summaries(c, PatientFilter(pseudonym="S")).count == 8
    assert registry.list_summaries(c, PatientFilter(pseudonym="S1")).count == 1
    assert registry.list_summaries(c, PatientFilter(diagnosis_status="confirmed")).count == 8  # all but the deleted
    assert registry.list_summaries(c, PatientFilter(diagnosis_status="suspected")).count == 5  # S0 S1 S3 S6 S7


def test_the_list_is_documented_with_both_models(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/patients"]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    refs = {r["$ref"].rsplit("/", 1)[1] for r in schema["anyOf"]}
    assert refs == {"PatientSummaries", "PatientsPublic"}
    assert "view" in {p["name"] for p in op["parameters"]}
    assert "main_diagnosis" in spec["components"]["schemas"]["PatientSummary"]["properties"]


def test_diagnose_endpoints_answer_as_the_engine_does(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    c = auth("clinician")
    body = {"phenotypicFeatures": [{"type": {"id": "HP:0001166"}}, {"type": {"id": "HP:0001083"}}]}
    many = [client.post("/api/diagnose", json=body, headers=c) for _ in range(3)]
    assert {r.status_code for r in many} == {200} and many[0].json() == many[2].json()
    assert many[0].json()["diseases"][0]["evidence"]
    p = create(client, c)
    r = client.post(f"/api/patients/{p['id']}/diagnose", params={"top": 2}, headers=c)
    assert r.status_code == 200 and len(r.json()["diseases"]) == 2
    assert client.post("/api/patients/999/diagnose", headers=c).status_code == 404
