"""Nothing lost, nothing outside: two PATCHes of one version over HTTP, pseudonyms that would be paths (422 naming
the field), exports of rows stored before pseudonyms were checked, and corrupt ZIP members reported while the rest
import."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import text

from raredx.registry import Registry
from registry.conftest import BAD, PHENOPACKETS, make_patient

PATIENT = make_patient().model_dump(mode="json")


def test_two_patches_of_one_version_one_409_with_the_current_version(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    c = auth("clinician")
    pid = client.post("/api/patients", json=PATIENT, headers=c).json()["id"]
    for version in range(1, 21):
        barrier = threading.Barrier(2)
        statuses: list[tuple[int, dict]] = []

        def patch(features: list[dict], v: int = version, barrier: threading.Barrier = barrier,
                  statuses: list[tuple[int, dict]] = statuses) -> None:
            barrier.wait()
            r = client.patch(f"/api/patients/{pid}", json={"version": v, "phenotypic_features": features}, headers=c)
            statuses.append((r.status_code, r.json()))

        threads = [threading.Thread(target=patch, args=(f,)) for f in ([{"hpo_id": "HP:0001166"}], [{"hpo_id": "HP:0000098"}])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert Counter(s for s, _ in statuses) == Counter({200: 1, 409: 1}), statuses
        conflict = next(body for s, body in statuses if s == 409)
        assert conflict["error"] == "ConflictError" and f"version {version + 1}, not {version}" in conflict["detail"]
    history = client.get(f"/api/patients/{pid}/history", headers=auth("admin")).json()
    assert [r["version"] for r in history] == list(range(1, 22))


def test_pseudonyms_that_are_paths_are_refused_with_422(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    c = auth("clinician")
    for bad in ("../../x", "/etc/x", "a/b", "..", "cr\r\nlf"):
        r = client.post("/api/patients", json={**PATIENT, "pseudonym": bad}, headers=c)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["problems"][0]["field"] == "pseudonym" and "a pseudonym is 1 to 200" in r.json()["detail"]
    pid = client.post("/api/patients", json=PATIENT, headers=c).json()["id"]
    r = client.patch(f"/api/patients/{pid}", json={"version": 1, "pseudonym": "x/../../y"}, headers=c)
    assert r.status_code == 422 and "path separator" in r.json()["detail"]
    assert client.get(f"/api/patients/{pid}", headers=c).json()["version"] == 1


def test_export_of_rows_stored_before_the_check_stays_inside_the_zip(client: TestClient, auth, registry: Registry) -> None:  # type: ignore[no-untyped-def]
    m = auth("registry_manager")
    ids = [client.post("/api/patients", json={**PATIENT, "pseudonym": f"ok-{n}"}, headers=m).json()["id"] for n in range(3)]
    with registry.engine.begin() as conn:
        for pid, bad in zip(ids, ("../../x", "/abs", "cr\r\nlf"), strict=True):
            conn.execute(text("UPDATE patients SET pseudonym = :p WHERE id = :id"), {"p": bad, "id": pid})
    z = client.get("/api/phenopackets/export", headers=m)
    assert z.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert names == [f"phenopackets/x_{ids[0]}.json", f"phenopackets/abs_{ids[1]}.json", f"phenopackets/cr_lf_{ids[2]}.json"]


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def corrupt(archive: bytes, member: str) -> bytes:
    """``archive`` with one byte of ``member``'s compressed data changed (its CRC no longer matches)."""
    info = zipfile.ZipFile(io.BytesIO(archive)).getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw = bytearray(archive)
    raw[start + info.compress_size // 2] ^= 0xFF
    return bytes(raw)


def test_a_corrupt_zip_member_is_one_problem_and_the_rest_import(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    m = auth("registry_manager")
    good = json.loads((PHENOPACKETS / "marfan_case.json").read_text())
    archive = _zip({"a.json": json.dumps({**good, "id": "A"}).encode(), "b.json": json.dumps({**good, "id": "B"}).encode(),
                    "c.json": json.dumps({**good, "id": "C"}).encode()})
    r = client.post("/api/phenopackets/import", files={"file": ("cases.zip", corrupt(archive, "b.json"), "application/zip")},
                    headers=m)
    assert r.status_code == 200, r.text
    rep = r.json()
    assert (rep["records"], rep["imported"], rep["rejected"]) == (3, 2, 1)
    (issue,) = rep["issues"]
    assert issue["record"] == "cases.zip!b.json" and "damaged" in issue["reason"]
    only_bad = _zip({"b.json": (BAD / "broken.json").read_bytes()})
    r = client.post("/api/phenopackets/import", files={"file": ("x.zip", corrupt(only_bad, "b.json"), "application/zip")},
                    headers=m)
    assert r.status_code == 422 and "damaged" in r.json()["detail"] and r.json()["problems"][0]["record"] == "x.zip!b.json"
