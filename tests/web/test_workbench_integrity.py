"""The workbench with pseudonyms that would break it: refused in the forms, and a stored one (written before
pseudonyms were checked) with CR/LF deletes cleanly, the redirect's header intact; a delete of a version someone
saved since is refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import text

from raredx.registry import SYSTEM

from .conftest import login


def _registry(web: TestClient):  # type: ignore[no-untyped-def]
    return web.app.state.services.registry  # type: ignore[attr-defined]


def test_the_new_patient_form_refuses_a_pseudonym_that_is_a_path(web: TestClient) -> None:
    token = login(web, "clinician")
    r = web.post("/patients/new", data={"csrf": token, "pseudonym": "../../etc/x"}, follow_redirects=False)
    assert r.status_code == 200 and "path separator" in r.text and "has-error" in r.text
    r = web.post("/patients/new", data={"csrf": token, "pseudonym": "ok-1"}, follow_redirects=False)
    assert r.status_code == 303
    htmx = {"X-CSRF-Token": token, "HX-Request": "true"}
    r = web.post("/patients/1/demographics", data={"pseudonym": "a/b", "version": "1"}, headers=htmx)
    assert "path separator" in r.text and _registry(web).get_patient(SYSTEM, 1).pseudonym == "ok-1"


def test_delete_of_a_stored_pseudonym_with_cr_lf(web: TestClient) -> None:
    token = login(web, "admin")
    web.post("/patients/new", data={"csrf": token, "pseudonym": "ok-2"})
    bad = "evil\r\nSet-Cookie: x=1"
    with _registry(web).engine.begin() as conn:
        conn.execute(text("UPDATE patients SET pseudonym = :p WHERE id = 1"), {"p": bad})
    r = web.post("/patients/1/delete", data={"csrf": token, "pseudonym": bad, "version": "1"},
                 headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert r.status_code == 200 and "x=1" not in r.headers.get("set-cookie", "")
    target = urlsplit(r.headers["HX-Redirect"])
    assert target.path == "/patients" and parse_qs(target.query)["deleted"] == [bad]
    page = web.get(r.headers["HX-Redirect"])
    assert page.status_code == 200 and "evil" in page.text


def test_delete_of_a_version_someone_saved_since_is_refused(web: TestClient) -> None:
    token = login(web, "admin")
    web.post("/patients/new", data={"csrf": token, "pseudonym": "ok-3"})
    htmx = {"X-CSRF-Token": token, "HX-Request": "true"}
    web.post("/patients/1/demographics", data={"pseudonym": "ok-3", "region": "East", "version": "1"}, headers=htmx)
    r = web.post("/patients/1/delete", data={"csrf": token, "pseudonym": "ok-3", "version": "1"}, headers=htmx)
    assert "version 2, not 1" in r.text
    assert _registry(web).get_patient(SYSTEM, 1).deleted_at is None


def test_a_damaged_zip_member_is_reported_and_the_rest_imports(web: TestClient) -> None:
    import io
    import json
    import re
    import zipfile

    from conftest import PHENOPACKETS

    good = json.loads((PHENOPACKETS / "marfan_case.json").read_text())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("a", "b"):
            zf.writestr(f"{name}.json", json.dumps({**good, "id": name.upper()}))
    info = zipfile.ZipFile(io.BytesIO(buf.getvalue())).getinfo("b.json")
    raw = bytearray(buf.getvalue())
    raw[info.header_offset + 30 + len("b.json") + info.compress_size // 2] ^= 0xFF  # b.json's CRC no longer matches
    token = login(web, "admin")
    r = web.post("/import", data={"csrf": token, "policy": "lenient"}, files={"file": ("cases.zip", bytes(raw), "application/zip")})
    assert r.status_code == 200 and "cases.zip!b.json" in r.text and "damaged" in r.text
    kept = re.search(r'name="token" value="([^"]+)"', r.text)
    assert kept, r.text
    r = web.post("/import/confirm", data={"csrf": token, "token": kept.group(1), "policy": "lenient"})
    assert r.status_code == 200 and _registry(web).list_patients(SYSTEM).count == 1
