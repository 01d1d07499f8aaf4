"""The referrals API on SQLite and PostgreSQL: the whole path (a referral with an attachment and a note in Russian,
submitted with its differential, accepted, two experts, two opinions, a conclusion), 403 for another referrer (the
referral and its attachment), and bad input: an illegal status change, a missing question, an oversized or
wrong-type attachment — each a clear message, nothing half-stored."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from api.conftest import PASSWORD
from fastapi.testclient import TestClient

from raredx.config import Settings
from raredx.registry import SYSTEM, Registry
from raredx.registry.schemas import OrganisationCreate

Auth = Callable[[str], dict[str, str]]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
VCF = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n15\t48700000\t.\tC\tT\t50\tPASS\t.\n"
BODY = {"urgency": "urgent", "clinical_question": "Синдром Марфана? Какое обследование дальше?",
        "patient": {"sex": "FEMALE", "date_of_birth": "2015-04-01", "identity": {"family_name": "Иванова"}},
        "phenotype": [{"hpo_id": "HP:0001166"}, {"hpo_id": "HP:0001083"}]}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Uploads up to 5 MiB reach the route; an attachment may be 1 MiB (the store's own limit is what is tested)."""
    return Settings(registry_dir=tmp_path, secret_key="test-secret-key-of-sufficient-length-0123456789",
                    max_upload_mb=5, max_attachment_mb=1)


@pytest.fixture
def people(client: TestClient, registry: Registry) -> list[str]:
    org = registry.add_organisation(SYSTEM, OrganisationCreate(name="Tver hospital", region="Tver"))
    names = [("doc", "referring_physician"), ("doc2", "referring_physician"), ("coord", "coordinator"),
             ("exp1", "expert"), ("exp2", "expert")]
    for name, role in names:
        registry.add_user(SYSTEM, name, PASSWORD, role,
                          organisation_id=org.id if role == "referring_physician" else None)
    return [n for n, _ in names]


def upload(client: TestClient, h: dict[str, str], rid: int, name: str, data: bytes, ctype: str = "application/pdf"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/referrals/{rid}/attachments", headers=h, files={"file": (name, data, ctype)})


def xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


def test_the_whole_path(client: TestClient, auth: Auth, people: list[str], settings: Settings) -> None:
    doc, coord, e1, e2 = auth("doc"), auth("coord"), auth("exp1"), auth("exp2")
    r = client.post("/api/referrals", json=BODY, headers=doc)
    assert r.status_code == 201, r.text
    ref = r.json()
    rid = ref["id"]
    assert ref["status"] == "draft" and ref["region"] == "Tver"
    a = upload(client, doc, rid, "эхо.pdf", PDF)
    assert a.status_code == 201, a.text
    att = a.json()
    assert att["kind"] == "pdf" and att["size"] == len(PDF) and att["filename"] == "эхо.pdf"
    stored = settings.attachments / att["sha256"][:2] / att["sha256"]
    assert stored.read_bytes() == PDF
    assert client.post(f"/api/referrals/{rid}/messages", json={"text": "Родители согласны."}, headers=doc).status_code == 201
    r = client.post(f"/api/referrals/{rid}/transition", json={"to": "submitted", "version": 1}, headers=doc)
    assert r.status_code == 200, r.text
    assert r.json()["differential"] is None  # the centre's, not the referrer's
    got = client.get(f"/api/referrals/{rid}", headers=coord).json()
    diseases = got["differential"]["result"]["diseases"]
    assert diseases and any("OMIM:154700" in d["ids"] for d in diseases[:3])  # the toy kb's Marfan syndrome
    assert "next_best_phenotypes" in got["differential"]["result"]
    r = client.post(f"/api/referrals/{rid}/transition", json={"to": "accepted", "version": 2, "create_patient": True},
                    headers=coord)
    assert r.status_code == 200, r.text and r.json()["patient_id"]
    r = client.post(f"/api/referrals/{rid}/experts", json={"experts": ["exp1", "exp2"], "version": 3}, headers=coord)
    assert r.json()["status"] == "assigned", r.text
    assert client.post(f"/api/referrals/{rid}/transition", json={"to": "in_review", "version": 4},
                       headers=e1).status_code == 200
    for h, text in ((e1, "FBN1 first."), (e2, "Согласна; осмотр окулиста.")):
        assert client.post(f"/api/referrals/{rid}/opinions", json={"text": text}, headers=h).status_code == 200
    r = client.put(f"/api/referrals/{rid}/conclusion", headers=e2, json={"version": 5, "conclusion": {
        "text": "Вероятный синдром Марфана.", "recommended_tests": "FBN1", "follow_up": "через 6 месяцев",
        "diagnoses": [{"disease_id": "OMIM:154700", "name": "Marfan syndrome", "status": "probable"}]}})
    assert r.status_code == 200, r.text
    assert client.get(f"/api/referrals/{rid}/conclusion.pdf", headers=doc).status_code == 404  # not issued yet
    r = client.post(f"/api/referrals/{rid}/transition", json={"to": "concluded", "version": 6}, headers=e2)
    assert r.status_code == 200, r.text
    issued = r.json()["conclusion_pdf"]  # issued as a PDF (Russian: no language given), kept under its SHA-256
    assert issued["language"] == "ru" and issued["issued_by"] == "exp2" and r.json()["version"] == 7
    pdf = client.get(f"/api/referrals/{rid}/conclusion.pdf", headers=doc)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-") and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == (settings.attachments / issued["sha256"][:2] / issued["sha256"]).read_bytes()
    assert client.get(f"/api/referrals/{rid}/conclusion.pdf", headers=auth("doc2")).status_code == 403
    mine = client.get(f"/api/referrals/{rid}", headers=doc).json()
    assert mine["conclusion"]["text"] == "Вероятный синдром Марфана." and mine["opinions"] == []
    assert len(client.get(f"/api/referrals/{rid}", headers=coord).json()["opinions"]) == 2
    d = client.get(f"/api/referrals/{rid}/attachments/{att['id']}", headers=doc)
    assert d.status_code == 200 and d.content == PDF and d.headers["content-type"] == "application/pdf"
    assert d.headers["x-content-type-options"] == "nosniff"
    counts = client.get("/api/referrals/counts", headers=coord).json()
    assert counts["by_status"] == {"concluded": 1} and counts["by_diagnosis"] == {"OMIM:154700": 1}
    assert counts["median_days_to_conclusion"] is not None
    assert client.get("/api/referrals/counts", headers=doc).status_code == 403


def test_another_referrer_gets_403_on_the_referral_and_its_attachment(client: TestClient, auth: Auth,
                                                                       people: list[str]) -> None:
    doc, doc2 = auth("doc"), auth("doc2")
    rid = client.post("/api/referrals", json=BODY, headers=doc).json()["id"]
    aid = upload(client, doc, rid, "a.pdf", PDF).json()["id"]
    for method, url in (("get", f"/api/referrals/{rid}"), ("get", f"/api/referrals/{rid}/attachments/{aid}"),
                        ("get", f"/api/referrals/{rid}/messages")):
        r = client.request(method, url, headers=doc2)
        assert r.status_code == 403, (url, r.text)
        assert "another physician's" in r.json()["detail"]
    r = client.patch(f"/api/referrals/{rid}", json={"version": 1, "history": "x"}, headers=doc2)
    assert r.status_code == 403
    assert upload(client, doc2, rid, "b.pdf", PDF).status_code == 403
    assert client.get("/api/referrals", headers=doc2).json()["count"] == 0
    assert client.get("/api/referrals/999", headers=doc).status_code == 404
    assert client.get(f"/api/referrals/{rid}", headers=auth("clinician")).status_code == 403
    audit = client.get("/api/audit", headers=auth("admin"), params={"limit": 500}).json()
    assert any(a["action"] == "denied" and a["username"] == "doc2" for a in audit)


def test_bad_input_is_named_and_nothing_is_half_stored(client: TestClient, auth: Auth, people: list[str],
                                                      settings: Settings) -> None:
    doc = auth("doc")
    r = client.post("/api/referrals", json={k: v for k, v in BODY.items() if k != "clinical_question"}, headers=doc)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "clinical_question"
    r = client.post("/api/referrals", json={**BODY, "clinical_question": " "}, headers=doc)
    assert r.status_code == 422 and "clinical_question is empty" in r.json()["detail"]
    r = client.post("/api/referrals", json={**BODY, "phenotype": [{"hpo_id": "HP:9999999"}]}, headers=doc)
    assert r.status_code == 422 and "HP:9999999" in r.json()["detail"] and "phenotype[0]" in r.json()["detail"]
    assert client.get("/api/referrals", headers=doc, params={"status": "draft"}).json()["count"] == 0
    rid = client.post("/api/referrals", json=BODY, headers=doc).json()["id"]
    r = client.post(f"/api/referrals/{rid}/transition", json={"to": "concluded", "version": 1}, headers=doc)
    assert r.status_code == 409
    assert r.json()["detail"] == (f"referral {rid} is 'draft' and cannot go to 'concluded'; from 'draft' it can go "
                                  "to: submitted, withdrawn.")
    r = client.post(f"/api/referrals/{rid}/transition", json={"to": "finished", "version": 1}, headers=doc)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "to"
    # attachments: the type from the bytes, the size limit, nothing left on disk
    r = upload(client, doc, rid, "scan.pdf", b"MZ\x90\x00 not a pdf at all")
    assert r.status_code == 415 and "file: scan.pdf is not a PDF" in r.json()["detail"]
    r = upload(client, doc, rid, "big.pdf", b"%PDF-1.4\n" + b"0" * (settings.max_attachment_mb * 2**20))
    assert r.status_code == 413 and "file: big.pdf is larger than 1 MiB" in r.json()["detail"], r.text
    r = upload(client, doc, rid, "empty.pdf", b"")
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    root = settings.attachments
    assert not root.exists() or [p for p in root.rglob("*") if p.is_file()] == []
    assert client.get(f"/api/referrals/{rid}", headers=doc).json()["attachments"] == []


def test_attachment_kinds_from_the_bytes(client: TestClient, auth: Auth, people: list[str]) -> None:
    doc = auth("doc")
    rid = client.post("/api/referrals", json=BODY, headers=doc).json()["id"]
    cases = [("photo.dat", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "png"), ("x.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpeg"),
             ("calls.txt", VCF, "vcf"), ("calls.vcf.gz", gzip.compress(VCF), "vcf.gz"),
             ("labs.csv", "тест,значение,единицы\nКФК,1200,Ед/л\n".encode(), "csv"),
             ("labs.tsv", b"test\tvalue\nCK\t1200\n", "tsv"), ("labs.xlsx", xlsx(), "xlsx")]
    for name, data, kind in cases:
        r = upload(client, doc, rid, name, data, "application/octet-stream")
        assert r.status_code == 201 and r.json()["kind"] == kind, (name, r.text)
    for name, data in (("notes.gz", gzip.compress(b"just text")), ("archive.zip", _zip()), ("x.txt", b"plain words")):
        assert upload(client, doc, rid, name, data).status_code == 415, name
    again = upload(client, doc, rid, "copy.csv", "тест,значение,единицы\nКФК,1200,Ед/л\n".encode()).json()
    first = next(a for a in client.get(f"/api/referrals/{rid}", headers=doc).json()["attachments"] if a["kind"] == "csv")
    assert again["sha256"] == first["sha256"] and again["id"] != first["id"]  # one file, two records


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "x")
    return buf.getvalue()


def test_organisations_and_a_users_organisation(client: TestClient, auth: Auth, people: list[str]) -> None:
    admin = auth("admin")
    r = client.post("/api/organisations", json={"name": "Pskov clinic", "region": "Pskov"}, headers=admin)
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    assert client.post("/api/organisations", json={"name": "Pskov clinic"}, headers=admin).status_code == 409
    assert client.post("/api/organisations", json={"name": "X"}, headers=auth("coord")).status_code == 403
    uid = next(u["id"] for u in client.get("/api/users", headers=admin).json() if u["username"] == "doc2")
    r = client.patch(f"/api/users/{uid}", json={"organisation_id": oid}, headers=admin)
    assert r.status_code == 200 and r.json()["organisation_id"] == oid
    assert client.post("/api/referrals", json=BODY, headers=auth("doc2")).json()["region"] == "Pskov"
    r = client.patch(f"/api/users/{uid}", json={"organisation_id": None}, headers=admin)
    assert r.json()["organisation_id"] is None
    assert client.delete(f"/api/organisations/{oid}", headers=admin).status_code == 204
    assert client.patch(f"/api/organisations/{oid}", json={"region": "x"}, headers=admin).status_code == 404


def test_the_overdue_list_is_the_coordinators(client: TestClient, auth: Auth, people: list[str],
                                             registry: Registry) -> None:
    import datetime as dt

    from sqlalchemy import update

    from raredx.registry import _models as m

    doc = auth("doc")
    rid = client.post("/api/referrals", json=BODY, headers=doc).json()["id"]
    client.post(f"/api/referrals/{rid}/transition", json={"to": "submitted", "version": 1}, headers=doc)
    assert client.get("/api/referrals/overdue", headers=auth("coord")).json()["count"] == 0
    with registry._sessions.begin() as s:
        s.execute(update(m.Referral).values(due_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1)))
    page = client.get("/api/referrals/overdue", headers=auth("coord")).json()
    assert [r["id"] for r in page["data"]] == [rid] and page["data"][0]["overdue"]
    assert client.get("/api/referrals/overdue", headers=doc).status_code == 403


def test_the_docs_example_routes_exist(client: TestClient) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "referrals.md").read_text(encoding="utf-8")
    import re

    paths = {re.sub(r"\{\w+\}", "{}", p) for p in client.get("/openapi.json").json()["paths"]}
    routes = set(re.findall(r"`(?:GET|POST|PUT|PATCH|DELETE)(?:\|\w+)* (/api/[^`\s]+)`", doc))
    assert len(routes) >= 8
    for route in routes:
        assert re.sub(r"\{\w+\}", "{}", route) in paths, route
