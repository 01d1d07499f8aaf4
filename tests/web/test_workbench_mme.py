"""Matchmaker Exchange in the workbench, without a browser: the consent checkbox of the patient form, the peers page
of the admin area (the incoming token shown once, admins only) and "Search other centres" with its results page
(a second raredx server on loopback answers; the other centre's contact, score and shared features are shown;
a patient without consent is not sent, with a clear message)."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from raredx.config import Settings
from raredx.core import RareDx
from raredx.registry import SYSTEM, PatientUpdate, Registry
from raredx.registry.schemas import PeerCreate
from raredx.server import create_app
from raredx.web import _i18n

from .conftest import add_users, csrf_of, login, serve

MATCH = Path(__file__).resolve().parents[1] / "data" / "match"


def _registry(folder: Path, cases: dict[str, bool | None], toy_kb: Any) -> tuple[Registry, dict[str, int]]:
    src = folder / "cases"
    src.mkdir(parents=True)
    for c in cases:
        shutil.copy(MATCH / f"{c}.json", src)
    reg = Registry.open(f"sqlite:///{folder / 'registry.sqlite3'}", ontology=toy_kb.ontology)
    assert reg.import_phenopackets(SYSTEM, src).imported == len(cases)
    ids = {p.pseudonym: p.id for p in reg.list_summaries(SYSTEM, limit=100).data}
    for c, consent in cases.items():
        pid = ids[Path(c).name]
        if consent is not None:
            reg.update_patient(SYSTEM, pid, PatientUpdate(version=1, consent_matchmaking=consent))
    return reg, ids


def _settings(folder: Path, name: str) -> Settings:
    return Settings(registry_dir=folder, secret_key=f"web-mme-test-key-{name}-0123456789abcdefghij",
                    mme_contact_name=f"Dr {name}", mme_contact_institution=f"Centre {name}",
                    mme_contact_email=f"dr.{name.lower()}@centre.example", mme_min_score=0.05)


@pytest.fixture
def centres(tmp_path: Path, toy_kb: Any) -> Iterator[tuple[TestClient, Registry, dict[str, int]]]:
    """Centre A as a TestClient (users of every role) and centre B under uvicorn, A configured with B as a peer."""
    rdx = RareDx(toy_kb, cache=False)
    reg_b, _ = _registry(tmp_path / "b", {"FBN1/PMID_20000002_Patient_1": True, "FBN1/PMID_20000001_Patient_3": None},
                         toy_kb)
    reg_a, ids_a = _registry(tmp_path / "a", {"FBN1/PMID_20000001_Family_1_II_1": True,
                                              "KCNQ1/PMID_20000003_Patient_2": False}, toy_kb)
    add_users(reg_a)
    with serve(_settings(tmp_path / "b", "B"), rdx, reg_b) as url_b:
        _, token_b_sends = reg_a.add_peer(SYSTEM, PeerCreate(name="centre-b", base_url=f"{url_b}/mme"))
        _, token_a_sends = reg_b.add_peer(SYSTEM, PeerCreate(name="centre-a", base_url="http://127.0.0.1:9/mme",
                                                             outgoing_token=token_b_sends))
        reg_a.update_peer(SYSTEM, "centre-b", outgoing_token=token_a_sends)
        with TestClient(create_app(_settings(tmp_path / "a", "A"), rdx=rdx, registry=reg_a)) as client:
            yield client, reg_a, ids_a
    reg_a.close()
    reg_b.close()


def test_search_other_centres_shows_their_contact_score_and_shared_features(centres: Any) -> None:
    client, reg, ids = centres
    login(client, "clinician")
    page = client.get(f"/patients/{ids['PMID_20000001_Family_1_II_1']}")
    assert "Search other centres" in page.text
    r = client.post(f"/patients/{ids['PMID_20000001_Family_1_II_1']}/mme", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 200, r.text
    html = r.text
    assert "centre-b" in html and "Dr B" in html and "Centre B" in html
    assert 'href="mailto:dr.b@centre.example"' in html

    assert "Aortic root aneurysm" in html and "FBN1" in html
    scores = [float(s) for s in re.findall(r"<td>(\d\.\d{3})</td>", html)]
    assert len(scores) == 1 and 0 < scores[0] <= 1  # B's non-consenting Marfan patient is not among them
    assert "not stored" in html
    out = [e for e in reg.audit_log(SYSTEM) if e.action == "mme_match_out"]
    assert out[0].username == "clinician" and out[0].detail == {"peer": "centre-b", "results": 1}


def test_a_patient_without_consent_is_not_sent(centres: Any) -> None:
    client, reg, ids = centres
    login(client, "clinician")
    pid = ids["PMID_20000003_Patient_2"]
    page = client.get(f"/patients/{pid}")
    r = client.post(f"/patients/{pid}/mme", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 200 and "has not consented to matchmaking, so nothing was sent" in r.text
    assert not [e for e in reg.audit_log(SYSTEM) if e.action == "mme_match_out"]
    client.cookies.set(_i18n.COOKIE, "ru")
    r = client.post(f"/patients/{pid}/mme", data={"csrf": csrf_of(page.text)})
    assert f"Пациент {reg.get_patient(SYSTEM, pid).pseudonym} не дал согласия" in r.text


def test_a_researcher_may_not_send_patients_out(centres: Any) -> None:
    client, _, ids = centres
    login(client, "researcher")
    page = client.get(f"/patients/{ids['PMID_20000001_Family_1_II_1']}")
    assert "Search other centres" not in page.text
    r = client.post(f"/patients/{ids['PMID_20000001_Family_1_II_1']}/mme", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 403


def test_the_consent_checkbox_sets_consent_matchmaking(centres: Any) -> None:
    client, reg, ids = centres
    login(client, "clinician")
    pid = ids["PMID_20000003_Patient_2"]
    page = client.get(f"/patients/{pid}")
    assert 'name="consent_matchmaking"' in page.text and "Consents to matchmaking" in page.text
    p = reg.get_patient(SYSTEM, pid)
    r = client.post(f"/patients/{pid}/demographics", data={"csrf": csrf_of(page.text), "version": str(p.version),
                                                            "pseudonym": p.pseudonym, "sex": p.sex or "",
                                                            "consent_matchmaking": "on"})
    assert r.status_code == 200, r.text
    assert reg.get_patient(SYSTEM, pid).consent_matchmaking is True


def test_the_peers_page_shows_the_new_token_once_to_admins_only(centres: Any) -> None:
    client, reg, _ = centres
    login(client, "clinician")
    assert client.get("/admin/peers").status_code == 403
    client.post("/logout", data={"csrf": csrf_of(client.get("/patients").text)})
    login(client, "admin")
    page = client.get("/admin/peers")
    assert page.status_code == 200 and "centre-b" in page.text
    r = client.post("/admin/peers", data={"csrf": csrf_of(page.text), "name": "centre-c",
                                          "base_url": "https://mme.centre-c.example/mme", "contact_name": "Dr C"})
    assert r.status_code == 200
    token = re.search(r'<code class="token">([^<]+)</code>', r.text)
    assert token, r.text
    with reg.engine.connect() as conn:
        digest = conn.execute(text("SELECT incoming_token_sha256 FROM mme_peers WHERE name = 'centre-c'")).scalar()
    assert digest == hashlib.sha256(token.group(1).encode()).hexdigest()
    again = client.get("/admin/peers")
    assert token.group(1) not in again.text and "centre-c" in again.text and "no token to send" in again.text
    bad = client.post("/admin/peers", data={"csrf": csrf_of(again.text), "name": "x", "base_url": "not a url"})
    assert "base_url" in bad.text and "peers-error" in bad.text
    peer_id = next(p.id for p in reg.list_peers(SYSTEM) if p.name == "centre-c")
    r = client.post(f"/admin/peers/{peer_id}/remove", data={"csrf": csrf_of(again.text)}, follow_redirects=True)
    assert "Peer centre-c removed." in r.text and [p.name for p in reg.list_peers(SYSTEM)] == ["centre-b"]


def test_a_peers_contact_link_is_shown_only_when_it_is_a_web_or_mail_address(toy_kb: Any) -> None:
    from raredx.app.mme import MmeContact, PeerAnswer, PeerMatch, PeerSearch
    from raredx.web._render import environment

    def page(href: str) -> str:
        match = PeerMatch(0.5, "x1", MmeContact(name="Dr X", href=href), (), (), 2)
        found = PeerSearch(1, "RDX-1", (PeerAnswer("centre-x", (match,)),))
        from raredx.web import _i18n

        return environment().get_template("patient_mme.html").render(
            t=_i18n.Translator("en"), found=found, pid=1, refused=None, consent=True, can=lambda _: False,
            path="/patients/1/mme", user=None, languages=(), lang="en", csrf="")

    assert '<a href="https://centre-x.example/contact"' in page("https://centre-x.example/contact")
    hostile = page("javascript:alert(1)")
    assert "javascript:alert(1)" in hostile and 'href="javascript:' not in hostile
