"""What the OpenAPI schema promises, checked one case at a time on SQLite and PostgreSQL: partial updates keep a
child record's defaults, numbers too large for a database integer are refused, timestamps carry their offset,
and every error answer is the documented ``ErrorOut``. tests/api/test_schemathesis.py fuzzes the same promises."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from registry.conftest import actor, make_patient
from sqlalchemy.dialects import postgresql, sqlite

from raredx.api.schemas import ErrorOut
from raredx.errors import InputError
from raredx.registry import Registry
from raredx.registry._models import UTCDateTime
from raredx.registry.errors import NotFoundError
from raredx.registry.schemas import MAX_ID

BIG = MAX_ID + 1


def _created(client: TestClient, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    r = client.post("/api/patients", json={"pseudonym": "RDX-C1", "phenotypic_features": [{"hpo_id": "HP:0001166"}]},
                    headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _error(r, status: int) -> ErrorOut:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    return ErrorOut.model_validate(r.json())


def test_a_partial_update_keeps_the_defaults_of_the_records_it_gives(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    c = auth("clinician")
    p = _created(client, c)
    r = client.patch(f"/api/patients/{p['id']}", headers=c, json={
        "version": 1, "diagnoses": [{"disease_id": "OMIM:154700"}], "drug_provisions": [{"drug_inn": "losartan"}],
        "genetic_findings": [{"gene_symbol": "FBN1"}],  # no HGVS expression
    })
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["diagnoses"][0]["status"] == "confirmed" and body["drug_provisions"][0]["status"] == "need_identified"
    assert body["genetic_findings"][0]["expressions"] == [] and body["version"] == 2
    assert client.get(f"/api/patients/{p['id']}", headers=c).json()["genetic_findings"] == body["genetic_findings"]


def test_fields_that_cannot_be_null_are_refused_as_null(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    c = auth("clinician")
    p = _created(client, c)
    for field in ("synthetic", "pseudonym"):
        err = _error(client.patch(f"/api/patients/{p['id']}", json={"version": 1, field: None}, headers=c), 422)
        assert err.problems[0].field == field
    update = client.get("/openapi.json").json()["components"]["schemas"]["PatientUpdate"]["properties"]
    assert update["synthetic"] == {"type": "boolean", "title": "Synthetic"}
    assert {"type": "null"} in update["region"]["anyOf"] and update["pseudonym"]["pattern"]  # constraints kept
    assert client.patch(f"/api/patients/{p['id']}", json={"version": 1, "region": "x" * 101}, headers=c).status_code == 422
    ok = client.patch(f"/api/patients/{p['id']}", json={"version": 1, "synthetic": True, "diagnoses": None}, headers=c)
    assert ok.status_code == 200 and ok.json()["synthetic"] is True and ok.json()["diagnoses"] == []


def test_numbers_beyond_a_database_integer_are_422_not_500(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    admin = auth("admin")
    for path in (f"/api/patients/{BIG}", f"/api/patients/{BIG}/history", f"/api/patients/{BIG}/phenopacket",
                 f"/api/patients?offset={BIG}", f"/api/audit?offset={BIG}", f"/api/audit?patient_id={BIG}",
                 "/api/patients?offset=-1", "/api/patients?limit=0", "/api/patients?limit=501", "/api/patients/0"):
        err = _error(client.get(path, headers=admin), 422)
        assert err.error == "InputError" and err.problems, path
    _error(client.post(f"/api/patients/{BIG}/diagnose", headers=admin), 422)
    _error(client.delete(f"/api/patients/{BIG}", headers=admin), 422)
    _error(client.get(f"/api/patients/{MAX_ID}", headers=admin), 404)
    assert client.get(f"/api/patients?offset={MAX_ID}", headers=admin).json()["data"] == []
    assert client.get(f"/api/audit?patient_id={MAX_ID}&offset={MAX_ID}", headers=admin).json() == []


def test_values_no_database_stores_are_422_not_500(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL refuses NUL characters and NaN in JSON; nothing encodes an unpaired surrogate as UTF-8."""
    admin = {**auth("admin"), "content-type": "application/json"}
    for body, where in ((b'{"pseudonym": "a\\u0000b"}', "pseudonym"), (b'{"pseudonym": "p", "region": "\\ud800"}', "region"),
                        (b'{"pseudonym": "p", "phenopacket_meta": {"a": NaN}}', "phenopacket_meta.a"),
                        (b'{"pseudonym": "p", "phenopacket_meta": {"a": 1e999}}', "phenopacket_meta.a"),
                        (b'{"pseudonym": "p", "diagnoses": [{"disease_id": "OMIM:1", "label": "\\u0000"}]}', "diagnoses[0].label")):
        err = _error(client.post("/api/patients", content=body, headers=admin), 422)
        assert err.detail.startswith(f"body: {where} "), err.detail
    for query in ({"pseudonym": "a\x00"}, {"region": "\x00"}, {"gene": "\x00"}, {"disease": "\x00"}):
        assert _error(client.get("/api/patients", params=query, headers=admin), 422).error == "InputError"
    user = {"username": "u\x00", "password": "a long password", "role": "admin"}
    assert _error(client.post("/api/users", json=user, headers=admin), 422).error == "InputError"
    assert _error(client.post("/api/auth/token", data={"username": "u\x00", "password": "x"}), 401)
    case = b'{"id": "\\ud800", "phenotypicFeatures": [{"type": {"id": "HP:0001166"}}]}'
    assert _error(client.post("/api/diagnose", content=case, headers=admin), 422).error == "InputError"


def test_the_service_refuses_them_too(registry: Registry) -> None:
    with pytest.raises(NotFoundError):
        registry.get_patient(actor("admin"), BIG)
    with pytest.raises(NotFoundError):
        registry.get_patient(actor("admin"), -BIG)
    with pytest.raises(InputError, match="offset"):
        registry.list_patients(actor("admin"), offset=BIG)
    with pytest.raises(InputError, match="offset"):
        registry.audit_log(actor("admin"), offset=BIG)
    assert registry.audit_log(actor("admin"), patient_id=BIG) == []


def _utc(stamp: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(stamp)
    assert parsed.utcoffset() == dt.timedelta(0), stamp
    return parsed


def test_timestamps_are_utc_with_their_offset(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    admin = auth("admin")
    p = _created(client, admin)
    assert client.delete(f"/api/patients/{p['id']}", headers=admin).status_code == 204
    got = client.get(f"/api/patients/{p['id']}", headers=admin).json()
    created, deleted = _utc(got["created_at"]), _utc(got["deleted_at"])
    assert _utc(got["updated_at"]) >= created and deleted >= created
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=10)
    assert all(_utc(r["at"]) for r in client.get(f"/api/patients/{p['id']}/history", headers=admin).json())
    assert all(_utc(a["at"]) for a in client.get("/api/audit", headers=admin).json())
    listed = client.get("/api/patients", params={"include_deleted": True, "view": "full"}, headers=admin).json()["data"][0]
    assert _utc(listed["created_at"]) == created


def test_the_column_type_reads_back_utc_whatever_the_database_gives() -> None:
    col = UTCDateTime()
    moscow = dt.timezone(dt.timedelta(hours=3))
    naive = dt.datetime(2024, 1, 2, 3, 4, 5)
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert col.process_result_value(naive, dialect) == naive.replace(tzinfo=dt.UTC)
        assert col.process_result_value(dt.datetime(2024, 1, 2, 6, 4, 5, tzinfo=moscow), dialect) == naive.replace(tzinfo=dt.UTC)
        assert col.process_bind_param(dt.datetime(2024, 1, 2, 6, 4, 5, tzinfo=moscow), dialect).tzinfo == dt.UTC
        assert col.process_result_value(None, dialect) is None


def test_the_schema_documents_every_error_with_the_model_sent(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    error_ref = "#/components/schemas/ErrorOut"
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            codes = {int(c) for c in op["responses"] if c.startswith(("4", "5"))}
            assert 413 in codes, where
            if op.get("security"):
                assert 401 in codes, where
            if op.get("parameters") or op.get("requestBody"):
                assert 422 in codes, where
            for code in codes:
                assert op["responses"][str(code)]["content"]["application/json"]["schema"] == {"$ref": error_ref}, (where, code)
    assert {"401", "422", "429"} <= set(spec["paths"]["/api/auth/token"]["post"]["responses"])
    assert "application/zip" in spec["paths"]["/api/phenopackets/export"]["get"]["responses"]["200"]["content"]
    assert spec["paths"]["/api/diagnose"]["post"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Differential"}


def test_error_bodies_are_the_documented_model(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    c = auth("clinician")
    assert _error(client.get("/api/patients/1"), 401).error == "AuthenticationError"
    assert _error(client.get("/api/audit", headers=c), 403).error == "PermissionDeniedError"
    assert _error(client.get("/api/patients/7", headers=c), 404).error == "NotFoundError"
    p = _created(client, c)
    assert _error(client.post("/api/patients", json={"pseudonym": p["pseudonym"]}, headers=c), 409).error == "ConflictError"
    bad = _error(client.post("/api/patients", content=b'{"pseudonym": ', headers={**c, "content-type": "application/json"}), 422)
    assert bad.error == "InputError" and "not valid JSON" in bad.detail
    undecodable = client.post("/api/patients", content=b"\xff\xfe{", headers={**c, "content-type": "application/json"})
    assert _error(undecodable, 422).problems[0].field == "body"
    broken_form = client.post("/api/phenopackets/import", content=b"--xx\r\nTrue--xx--\r\n",
                              headers={**c, "content-type": "multipart/form-data; boundary=xx"})
    assert _error(broken_form, 422).problems[0].field == "body"
    fields = _error(client.get("/api/patients", params={"offset": -1, "limit": 0}, headers=c), 422).problems
    assert {f.field for f in fields} == {"query.offset", "query.limit"}
    assert _error(client.put("/api/patients", headers=c), 405).error == "HTTPError"
