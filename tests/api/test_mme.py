"""Matchmaker Exchange between two raredx servers on loopback (uvicorn, each with its own SQLite registry holding
part of tests/data/match, configured as each other's peers): each finds the other's matching patients, a
non-consenting patient is never returned nor sent, refused requests (401, 406, 400, 413) store nothing but their
audit line, and both audit lines (outgoing, incoming) are written. Over the toy knowledge base."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from raredx.app.mme import Matchmaker, MatchmakingNotAllowed, mme_id
from raredx.config import Settings
from raredx.core import RareDx
from raredx.registry import SYSTEM, PatientUpdate, Registry
from raredx.registry.schemas import PeerCreate
from registry.conftest import REPO
from web.conftest import serve

MATCH = REPO / "tests" / "data" / "match"
V11 = "application/vnd.ga4gh.matchmaker.v1.1+json"
# who holds which case: A a Marfan family and two JLNS cases; B the other Marfan and JLNS cases, and the epilepsy
A_CASES = ("FBN1/PMID_20000001_Family_1_II_1", "KCNQ1/PMID_20000003_Patient_1", "KCNQ1/PMID_20000003_Patient_2",
           "MYO7A/PMID_20000007_Patient_1")
B_CASES = ("FBN1/PMID_20000001_Patient_3", "FBN1/PMID_20000002_Patient_1", "KCNQ1/PMID_20000004_Patient_1",
           "TOYEPI/PMID_20000005_Patient_1", "TOYEPI/PMID_20000006_Patient_1")
NO_CONSENT = {"PMID_20000001_Patient_3", "PMID_20000003_Patient_2"}  # the rest consent to matchmaking


@dataclass
class Node:
    name: str
    url: str
    settings: Settings
    registry: Registry
    ids: dict[str, int]
    token_for_peer: str = ""  # the token the other node sends this one

    def key(self) -> str:
        assert self.settings.secret_key
        return self.settings.secret_key

    def mme_id(self, pseudonym: str) -> str:
        return mme_id(self.key(), self.ids[pseudonym])


def _registry(folder: Path, cases: tuple[str, ...], toy_kb: Any) -> tuple[Registry, dict[str, int]]:
    src = folder / "cases"
    src.mkdir(parents=True)
    for c in cases:
        shutil.copy(MATCH / f"{c}.json", src)
    reg = Registry.open(f"sqlite:///{folder / 'registry.sqlite3'}", ontology=toy_kb.ontology)
    assert reg.import_phenopackets(SYSTEM, src).imported == len(cases)
    ids = {p.pseudonym: p.id for p in reg.list_summaries(SYSTEM, limit=100).data}
    for pseudonym, pid in ids.items():
        p = reg.get_patient(SYSTEM, pid)
        assert p.consent_matchmaking is None  # an import leaves it unset: not allowed
        if pseudonym not in NO_CONSENT:
            reg.update_patient(SYSTEM, pid, PatientUpdate(version=p.version, consent_matchmaking=True))
    return reg, ids


def _settings(folder: Path, name: str) -> Settings:
    return Settings(registry_dir=folder, secret_key=f"mme-test-key-of-node-{name}-0123456789abcdef",
                    mme_contact_name=f"Dr {name}", mme_contact_institution=f"Centre {name}",
                    mme_contact_email=f"dr.{name.lower()}@centre-{name.lower()}.example", mme_min_score=0.05,
                    mme_max_body_kb=16)


@pytest.fixture
def nodes(tmp_path: Path, toy_kb: Any) -> Iterator[tuple[Node, Node]]:
    rdx = RareDx(toy_kb, cache=False)
    reg_a, ids_a = _registry(tmp_path / "a", A_CASES, toy_kb)
    reg_b, ids_b = _registry(tmp_path / "b", B_CASES, toy_kb)
    sa, sb = _settings(tmp_path / "a", "A"), _settings(tmp_path / "b", "B")
    with serve(sa, rdx, reg_a) as url_a, serve(sb, rdx, reg_b) as url_b:
        a, b = Node("A", url_a, sa, reg_a, ids_a), Node("B", url_b, sb, reg_b, ids_b)
        # each admin adds the other, which makes the token the other is to send; then they exchange them
        _, a.token_for_peer = reg_a.add_peer(SYSTEM, PeerCreate(name="centre-b", base_url=f"{url_b}/mme",
                                                                contact_institution="Centre B"))
        _, b.token_for_peer = reg_b.add_peer(SYSTEM, PeerCreate(name="centre-a", base_url=f"{url_a}/mme",
                                                                outgoing_token=a.token_for_peer))
        reg_a.update_peer(SYSTEM, "centre-b", outgoing_token=b.token_for_peer)
        yield a, b
    reg_a.close()
    reg_b.close()


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def request_of(features: list[dict[str, Any]], genes: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"patient": {"id": "query-1", "contact": {"name": "Dr Q", "href": "mailto:q@example.org"},
                        "features": features, "genomicFeatures": [{"gene": {"id": g}} for g in genes]}}


MARFAN = [{"id": "HP:0000098"}, {"id": "HP:0002616"}, {"id": "HP:0000545"}]
LARGE = [{**f, "label": "x" * 100} for f in MARFAN * 200]  # ~80 KB, over the nodes' 16 KiB


def matchmaker(node: Node, toy_kb: Any) -> Matchmaker:
    return Matchmaker(RareDx(toy_kb, cache=False), node.registry, node.settings, node.key())


def test_each_centre_finds_the_others_matching_patient_over_mme(nodes: tuple[Node, Node], toy_kb: Any) -> None:
    a, b = nodes
    # A's Marfan patient: B answers with its consenting Marfan patient, never the non-consenting one
    found = matchmaker(a, toy_kb).search_peers(SYSTEM, a.ids["PMID_20000001_Family_1_II_1"])
    (answer,) = found.answers
    assert answer.peer == "centre-b" and answer.error is None, answer
    ids = [m.patient_id for m in answer.matches]
    assert ids[0] == b.mme_id("PMID_20000002_Patient_1"), ids
    assert b.mme_id("PMID_20000001_Patient_3") not in ids  # the better-matching Marfan patient did not consent
    best = answer.matches[0]
    assert best.contact.name == "Dr B" and best.contact.institution == "Centre B"
    assert best.contact.email == "dr.b@centre-b.example" and best.contact.href == "mailto:dr.b@centre-b.example"
    assert "FBN1" in best.shared_genes and 0 < best.score <= 1
    assert {t.label for t in best.shared_terms} & {"Tall stature", "Aortic root aneurysm", "Myopia"}, best.shared_terms
    # and the other way: B's JLNS patient finds A's consenting JLNS patient, not the one without consent
    back = matchmaker(b, toy_kb).search_peers(SYSTEM, b.ids["PMID_20000004_Patient_1"])
    ids_back = [m.patient_id for m in back.answers[0].matches]
    assert back.answers[0].error is None and ids_back[0] == a.mme_id("PMID_20000003_Patient_1"), back
    assert a.mme_id("PMID_20000003_Patient_2") not in ids_back
    # what left each centre: no pseudonym, no registry id
    raw = json.dumps([m.to_dict() for m in answer.matches])
    assert "PMID_" not in raw and '"id": 1' not in raw
    # the audit: A's outgoing line (peer, patient, results), B's incoming line (peer, results, patients returned)
    out = [e for e in a.registry.audit_log(SYSTEM, limit=500) if e.action == "mme_match_out"]
    assert out and out[0].patient_id == a.ids["PMID_20000001_Family_1_II_1"]
    assert out[0].detail == {"peer": "centre-b", "results": len(answer.matches)}
    incoming = [e for e in b.registry.audit_log(SYSTEM, limit=500) if e.action == "mme_match_in"]
    assert incoming and incoming[0].username == "mme:centre-a" and incoming[0].detail is not None
    assert incoming[0].detail["status"] == 200 and incoming[0].detail["results"] == len(answer.matches)
    assert b.ids["PMID_20000002_Patient_1"] in incoming[0].detail["patients"]
    shared = [e.patient_id for e in b.registry.audit_log(SYSTEM, limit=500) if e.action == "mme_shared"]
    assert b.ids["PMID_20000002_Patient_1"] in shared and b.ids["PMID_20000001_Patient_3"] not in shared


def test_a_non_consenting_patient_is_never_sent(nodes: tuple[Node, Node], toy_kb: Any) -> None:
    a, b = nodes
    before = len(b.registry.audit_log(SYSTEM, limit=500))
    with pytest.raises(MatchmakingNotAllowed, match="has not consented to matchmaking"):
        matchmaker(a, toy_kb).search_peers(SYSTEM, a.ids["PMID_20000003_Patient_2"])
    assert len(b.registry.audit_log(SYSTEM, limit=500)) == before  # B heard nothing


def test_a_peer_that_fails_shows_its_error_and_the_others_still_answer(nodes: tuple[Node, Node], toy_kb: Any) -> None:
    a, _ = nodes
    a.registry.add_peer(SYSTEM, PeerCreate(name="centre-down", base_url="http://127.0.0.1:9/mme",
                                           outgoing_token="a-token-nobody-checks-000"))
    found = matchmaker(a, toy_kb).search_peers(SYSTEM, a.ids["PMID_20000001_Family_1_II_1"])
    by_peer = {x.peer: x for x in found.answers}
    assert by_peer["centre-b"].error is None and by_peer["centre-b"].matches
    assert by_peer["centre-down"].error and "cannot reach" in by_peer["centre-down"].error
    audit = {e.detail["peer"]: e.detail for e in a.registry.audit_log(SYSTEM, limit=500)
             if e.action == "mme_match_out" and e.detail}
    assert audit["centre-down"]["results"] == 0 and "cannot reach" in audit["centre-down"]["error"]


def test_genes_count_when_the_request_has_genomic_features(nodes: tuple[Node, Node]) -> None:
    _, b = nodes
    headers = {"X-Auth-Token": b.token_for_peer, "Content-Type": V11, "Accept": V11}
    body = request_of([{"id": "HP:0000098"}], genes=("KCNQ1",))
    status, h, answer = post(f"{b.url}/mme/match", json.dumps(body).encode(), headers)
    assert status == 200 and h["content-type"] == V11, answer
    assert answer["results"][0]["patient"]["id"] == b.mme_id("PMID_20000004_Patient_1")  # the gene, not the height
    onset = {**request_of(MARFAN), "patient": {**request_of(MARFAN)["patient"], "ageOfOnset": "HP:0003621"}}
    status, _, answer = post(f"{b.url}/mme/match", json.dumps(onset).encode(), headers)  # an onset term not in the toy HPO
    assert status == 200 and answer["results"][0]["patient"]["id"] == b.mme_id("PMID_20000002_Patient_1")
    assert answer["results"][0]["score"]["patient"] < 1 and len(answer["results"]) > 1  # matched on the phenotype
    genes_only = request_of([], genes=("FBN1",))
    status, _, answer = post(f"{b.url}/mme/match", json.dumps(genes_only).encode(), headers)
    assert status == 200 and [r["patient"]["id"] for r in answer["results"]] == [b.mme_id("PMID_20000002_Patient_1")]


def _stored(node: Node) -> dict[str, int]:
    counts = dict(node.registry.counts())
    counts.pop("audit_log")
    return counts


def test_refused_requests_store_nothing_but_their_audit_line(nodes: tuple[Node, Node]) -> None:
    _, b = nodes
    url = f"{b.url}/mme/match"
    good = json.dumps(request_of(MARFAN)).encode()
    ok = {"X-Auth-Token": b.token_for_peer, "Content-Type": V11, "Accept": V11}
    before, audit_before = _stored(b), b.registry.counts()["audit_log"]
    cases = [
        ({**ok, "X-Auth-Token": "not-a-token"}, good, 401, "X-Auth-Token"),
        ({k: v for k, v in ok.items() if k != "X-Auth-Token"}, good, 401, "X-Auth-Token"),
        ({**ok, "Content-Type": "application/vnd.ga4gh.matchmaker.v2.0+json"}, good, 406, "v2.0"),
        ({**ok, "Accept": "application/vnd.ga4gh.matchmaker.v0.9+json"}, good, 406, "v0.9"),
        (ok, b"{not json", 400, "not JSON"),
        (ok, json.dumps({"patient": {"id": "x", "contact": {"name": "Q", "href": "mailto:q@x.org"},
                                     "features": [{"id": "seizures"}]}}).encode(), 400, "patient.features.0.id"),
        (ok, json.dumps({"patient": {"id": "x", "features": MARFAN}}).encode(), 400, "patient.contact"),
        (ok, json.dumps(request_of([{"id": "HP:0000098", "observed": "maybe"}])).encode(), 400,
         "patient.features.0.observed"),
        (ok, json.dumps(request_of(LARGE)).encode(), 413, "larger than 16 KiB"),
    ]
    for headers, body, status, says in cases:
        got, h, answer = post(url, body, headers)
        assert got == status and says in answer["message"], (status, answer)
        assert h["content-type"].startswith("application/vnd.ga4gh.matchmaker.v1.")
        if status == 406:
            assert answer["supportedVersions"] == ["1.0", "1.1"]
    assert _stored(b) == before
    assert b.registry.counts()["audit_log"] == audit_before + len(cases)  # one line per refused request
    refused = b.registry.audit_log(SYSTEM, limit=len(cases))
    assert {e.detail["status"] for e in refused if e.detail} == {401, 406, 400, 413}
    assert all(e.action == "mme_match_in" for e in refused)


def test_an_oversized_body_without_a_length_is_refused_as_it_arrives(nodes: tuple[Node, Node]) -> None:
    import http.client
    from urllib.parse import urlsplit

    _, b = nodes
    u = urlsplit(b.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    body = json.dumps(request_of(LARGE)).encode()
    conn.request("POST", "/mme/match", body=iter([body[i:i + 4096] for i in range(0, len(body), 4096)]),
                 headers={"X-Auth-Token": b.token_for_peer, "Content-Type": V11}, encode_chunked=True)
    r = conn.getresponse()
    assert r.status == 413 and "larger than" in json.loads(r.read())["message"]
    conn.close()


def test_versions_plain_json_heartbeat_and_metrics(nodes: tuple[Node, Node]) -> None:
    _, b = nodes
    body = json.dumps(request_of(MARFAN)).encode()
    v10 = "application/vnd.ga4gh.matchmaker.v1.0+json"
    status, h, _ = post(f"{b.url}/mme/match", body, {"X-Auth-Token": b.token_for_peer, "Content-Type": v10})
    assert status == 200 and h["content-type"] == v10  # answered in the version asked
    status, h, _ = post(f"{b.url}/mme/match", body, {"X-Auth-Token": b.token_for_peer,
                                                      "Content-Type": "application/json"})
    assert status == 200 and h["content-type"] == V11  # plain JSON: the latest version
    status, _, answer = post(f"{b.url}/mme/match", body, {"X-Auth-Token": b.token_for_peer,
                                                           "Content-Type": "text/plain"})
    assert status == 415 and "Content-Type" in answer["message"]
    with urllib.request.urlopen(f"{b.url}/mme/heartbeat", timeout=10) as r:
        beat = json.loads(r.read())["heartbeat"]
    assert beat["production"] is True and beat["accept"] == ["application/vnd.ga4gh.matchmaker.v1.0+json", V11]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{b.url}/mme/metrics", timeout=10)
    assert refused.value.code == 401
    req = urllib.request.Request(f"{b.url}/mme/metrics", headers={"X-Auth-Token": b.token_for_peer})
    with urllib.request.urlopen(req, timeout=10) as r:
        metrics = json.loads(r.read())["metrics"]
    assert metrics["numberOfCases"] == len(B_CASES) - 1  # the consenting ones
    assert metrics["numberOfRequestsReceived"] == 3 and metrics["numberOfPotentialMatchesSent"] >= 1
    assert metrics["numberOfUniqueGenes"] == 3  # FBN1, KCNQ1 and the epilepsy gene


def test_a_disabled_or_removed_peer_is_refused(nodes: tuple[Node, Node]) -> None:
    _, b = nodes
    body = json.dumps(request_of(MARFAN)).encode()
    headers = {"X-Auth-Token": b.token_for_peer, "Content-Type": V11}
    b.registry.update_peer(SYSTEM, "centre-a", enabled=False)
    assert post(f"{b.url}/mme/match", body, headers)[0] == 401
    b.registry.update_peer(SYSTEM, "centre-a", enabled=True)
    assert post(f"{b.url}/mme/match", body, headers)[0] == 200
    b.registry.remove_peer(SYSTEM, "centre-a")
    assert post(f"{b.url}/mme/match", body, headers)[0] == 401


def test_the_mme_commands(nodes: tuple[Node, Node], cli_env: dict[str, str]) -> None:
    from api.test_registry_cli import cli

    a, b = nodes
    env = {**cli_env, "RAREDX_REGISTRY_DIR": str(a.settings.registry_dir), "RAREDX_SECRET_KEY": a.key(),
           "RAREDX_MME_CONTACT_NAME": "Dr A", "RAREDX_MME_CONTACT_EMAIL": "dr.a@centre-a.example",
           "RAREDX_MME_MIN_SCORE": "0.05"}
    r = cli(["mme", "match", "PMID_20000001_Family_1_II_1", "--format", "json"], env)
    assert r.returncode == 0, r.stderr
    (answer,) = json.loads(r.stdout)["answers"]
    assert answer["peer"] == "centre-b" and answer["matches"][0]["patient_id"] == b.mme_id("PMID_20000002_Patient_1")
    assert answer["matches"][0]["contact"]["institution"] == "Centre B"
    r = cli(["mme", "match", "PMID_20000001_Family_1_II_1"], env)
    assert r.returncode == 0 and f"centre-b: {len(answer['matches'])} match" in r.stdout and "Dr B" in r.stdout, r.stdout + r.stderr
    r = cli(["mme", "match", "PMID_20000003_Patient_2"], env)
    assert r.returncode == 2 and "has not consented to matchmaking" in r.stderr, r.stderr
    r = cli(["mme", "peers", "add", "centre-c", "--url", "https://mme.centre-c.example/mme", "--token-stdin",
             "--institution", "Centre C"], env, "the-token-centre-c-gave-us\n")
    assert r.returncode == 0 and "shown once" in r.stderr, r.stderr
    token = r.stdout.strip()
    assert len(token) >= 40 and a.registry.peer_by_token(token) is not None
    r = cli(["mme", "peers", "list"], env)
    assert "centre-c\thttps://mme.centre-c.example/mme\tenabled\ttoken\tCentre C" in r.stdout, r.stdout
    r = cli(["mme", "peers", "set", "centre-c", "--disable"], env)
    assert r.returncode == 0 and "disabled" in r.stdout and a.registry.peer_by_token(token) is None
    r = cli(["mme", "peers", "add", "bad", "--url", "ftp://x"], env)
    assert r.returncode == 2 and "base_url" in r.stderr, r.stderr
    r = cli(["mme", "peers", "remove", "centre-c"], env)
    assert r.returncode == 0 and [p.name for p in a.registry.list_peers(SYSTEM)] == ["centre-b"]
    r = cli(["mme", "peers", "remove", "centre-c"], env)
    assert r.returncode == 4 and "no Matchmaker Exchange peer 'centre-c'" in r.stderr


def test_a_node_without_a_contact_shares_nothing(client: Any, registry: Registry) -> None:
    _, token = registry.add_peer(SYSTEM, PeerCreate(name="peer", base_url="https://peer.example/mme"))
    r = client.post("/mme/match", content=json.dumps(request_of(MARFAN)),
                    headers={"X-Auth-Token": token, "Content-Type": V11})
    assert r.status_code == 503 and "RAREDX_MME_CONTACT_NAME" in r.json()["message"]
    assert registry.audit_log(SYSTEM, limit=1)[0].detail["status"] == 503  # type: ignore[index]
    assert "/mme/match" not in client.get("/openapi.json").json()["paths"]  # the MME specification is its contract


def test_a_peers_redirect_is_not_followed(nodes: tuple[Node, Node], toy_kb: Any) -> None:
    import http.server
    import threading

    a, _ = nodes
    heard: list[str | None] = []

    class Elsewhere(http.server.BaseHTTPRequestHandler):  # where the redirect points: it must hear nothing
        def do_GET(self) -> None:
            heard.append(self.headers.get("X-Auth-Token"))
            self.send_response(200)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    elsewhere = http.server.HTTPServer(("127.0.0.1", 0), Elsewhere)

    class Redirect(Elsewhere):
        def do_POST(self) -> None:
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{elsewhere.server_port}/steal")
            self.end_headers()

    redirect = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
    for httpd in (elsewhere, redirect):
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        a.registry.update_peer(SYSTEM, "centre-b", enabled=False)
        a.registry.add_peer(SYSTEM, PeerCreate(name="centre-r", base_url=f"http://127.0.0.1:{redirect.server_port}/mme",
                                               outgoing_token="the-token-for-centre-r-only"))
        found = matchmaker(a, toy_kb).search_peers(SYSTEM, a.ids["PMID_20000001_Family_1_II_1"])
        (answer,) = found.answers
        assert answer.peer == "centre-r" and answer.error and answer.error.startswith("HTTP 302"), answer
        assert heard == []  # the token never went to the other address
    finally:
        for httpd in (elsewhere, redirect):
            httpd.shutdown()
