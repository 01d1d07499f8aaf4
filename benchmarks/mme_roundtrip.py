"""The Matchmaker Exchange round trip between two raredx servers on loopback, on the bundled knowledge base.

    python benchmarks/mme_roundtrip.py [PHENOPACKETS.zip] [--cases 1200] [--per-disease 6] [--out benchmarks/results/mme.md]

Up to ``--per-disease`` development cases (by file name) of each disease with cases in at least two publications
(diseases in id order, until ``--cases``) are split between centre A and centre
B by publication (every case of a PMID goes to the same centre, so each match found is across publications); all
consent to matchmaking. B runs under uvicorn; A sends each of its patients that has a same-disease patient at B:
once through the client (``Matchmaker.search_peers``: the MME request with the genes of its genetic findings, as
the workbench sends it), and once as the same request without ``genomicFeatures`` (the phenotype alone). Reported:
the round-trip time (median, 95th percentile), and how often B's first (hit@1) or one of its first five (hit@5)
results has the query's disease. Not a test: the figures go into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import statistics
import tempfile
import threading
import time
import urllib.request
import zipfile
from collections import defaultdict
from pathlib import Path

import uvicorn

from raredx import RareDx
from raredx.app.mme import LATEST, Matchmaker, media_type, mme_id
from raredx.config import Settings, dev_phenopackets
from raredx.registry import SYSTEM, Registry
from raredx.registry.schemas import PeerCreate
from raredx.server import create_app

PMID = re.compile(r"PMID_(\d+)")


def _disease(doc: dict) -> str | None:
    for i in doc.get("interpretations") or []:
        d = ((i.get("diagnosis") or {}).get("disease") or {}).get("id")
        if d:
            return str(d)
    return None


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("phenopackets", nargs="?", type=Path, default=dev_phenopackets())
    ap.add_argument("--cases", type=int, default=1200, help="cases to put into the two registries (at most)")
    ap.add_argument("--per-disease", type=int, default=6, help="cases of each disease at most (the first by name)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/mme.md"))
    args = ap.parse_args()
    with zipfile.ZipFile(args.phenopackets) as zf:
        docs = [(Path(n).name, json.loads(zf.read(n))) for n in sorted(zf.namelist()) if n.endswith(".json")]
    by_disease: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for name, doc in docs:
        d, m = _disease(doc), PMID.search(name)
        if d and m and doc.get("phenotypicFeatures"):
            by_disease[d].append((name, doc))
    chosen: list[tuple[str, dict, str, str]] = []
    for d, cases in sorted(by_disease.items()):
        if len({PMID.search(n).group(1) for n, _ in cases}) >= 2:  # type: ignore[union-attr]
            chosen += [(n, doc, d, PMID.search(n).group(1)) for n, doc in cases[:args.per_disease]]  # type: ignore[union-attr]
        if len(chosen) >= args.cases:
            break
    rdx = RareDx.load()
    rdx.engine  # noqa: B018
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        regs, diseases = {}, {}
        for side in ("a", "b"):
            folder = root / side / "cases"
            folder.mkdir(parents=True)
            for n, doc, d, pmid in chosen:
                if (int(pmid) % 2 == 0) == (side == "a"):
                    (folder / n).write_text(json.dumps(doc))
            reg = Registry.open(f"sqlite:///{root / side / 'registry.sqlite3'}", ontology=rdx.kb.ontology)
            t = time.perf_counter()
            reg.import_phenopackets(SYSTEM, folder)
            with reg.engine.begin() as conn:
                conn.exec_driver_sql("UPDATE patients SET consent_matchmaking = 1")
            print(f"{side}: imported {reg.counts()['patients']} in {time.perf_counter() - t:.1f} s")
            regs[side] = reg
            names = {doc["id"]: d for _, doc, d, _ in chosen}
            offset, out = 0, {}
            while True:
                page = reg.list_summaries(SYSTEM, offset=offset, limit=500)
                out.update({p.id: names[p.pseudonym] for p in page.data})
                offset += 500
                if offset >= page.count:
                    break
            diseases[side] = out
        settings = {s: Settings(registry_dir=root / s, secret_key=f"mme-benchmark-key-{s}-0123456789abcdefghij",
                                mme_contact_name=f"Dr {s}", mme_contact_email=f"{s}@example.org", mme_min_score=0.0,
                                mme_top=10) for s in ("a", "b")}
        port = _port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings["b"], rdx=rdx, registry=regs["b"]), host="127.0.0.1",
                                               port=port, log_level="warning", access_log=False))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/mme"
        _, token_b = regs["b"].add_peer(SYSTEM, PeerCreate(name="a", base_url="http://127.0.0.1:9/mme"))
        regs["a"].add_peer(SYSTEM, PeerCreate(name="b", base_url=url, outgoing_token=token_b))
        a = Matchmaker(rdx, regs["a"], settings["a"], settings["a"].secret_key or "")
        disease_of_b = {mme_id(settings["b"].secret_key or "", pid): d for pid, d in diseases["b"].items()}
        b_diseases = set(diseases["b"].values())
        queries = [pid for pid, d in diseases["a"].items() if d in b_diseases]
        t = time.perf_counter()
        first = a.search_peers(SYSTEM, queries[0])  # B builds its index of consenting patients
        build = time.perf_counter() - t
        assert first.answers[0].error is None, first.answers[0].error
        rows = {"genes": ([], [], []), "phenotype": ([], [], [])}
        headers = {"X-Auth-Token": token_b, "Content-Type": media_type(LATEST), "Accept": media_type(LATEST)}
        for pid in queries:
            want = diseases["a"][pid]
            t = time.perf_counter()
            found = a.search_peers(SYSTEM, pid)
            rows["genes"][0].append(time.perf_counter() - t)
            got = [disease_of_b.get(m.patient_id) for m in found.answers[0].matches]
            rows["genes"][1].append(got[:1] == [want])
            rows["genes"][2].append(want in got[:5])
            _, req = a.request_for(SYSTEM, pid)
            body = json.dumps({"patient": req.patient.model_dump(exclude_none=True, exclude={"genomicFeatures"})})
            t = time.perf_counter()
            with urllib.request.urlopen(urllib.request.Request(f"{url}/match", data=body.encode(), headers=headers,
                                                               method="POST"), timeout=60) as r:
                answer = json.loads(r.read())
            rows["phenotype"][0].append(time.perf_counter() - t)
            got = [disease_of_b.get(x["patient"]["id"]) for x in answer["results"]]
            rows["phenotype"][1].append(got[:1] == [want])
            rows["phenotype"][2].append(want in got[:5])
        server.should_exit = True
        lines = [
            "# Matchmaker Exchange round trip", "",
            f"`python benchmarks/mme_roundtrip.py --cases {args.cases} --per-disease {args.per_disease}`: "
            f"{len(chosen)} development cases of {len({d for _, _, d, _ in chosen})} diseases with cases in two or "
            f"more publications; centre A {len(diseases['a'])} patients, centre B "
            f"{len(diseases['b'])} (split by publication, so every match is across publications); "
            f"{len(queries)} queries from A (patients whose disease B has). B's first request (its index of "
            f"{len(diseases['b'])} consenting patients built) took {build:.1f} s.", "",
            "| request | queries | round trip median (s) | p95 (s) | hit@1 | hit@5 |", "|---|---|---|---|---|---|",
        ]
        for mode, (times, h1, h5) in rows.items():
            q = sorted(times)
            label = ("with the genes of the genetic findings (the client, audited)" if mode == "genes"
                     else "phenotype only (no genomicFeatures)")
            lines.append(f"| {label} | {len(q)} | {statistics.median(q):.3f} | {q[int(0.95 * (len(q) - 1))]:.3f} | "
                         f"{sum(h1) / len(h1):.3f} | {sum(h5) / len(h5):.3f} |")
        text = "\n".join(lines) + "\n"
        print(text)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        for reg in regs.values():
            reg.close()


if __name__ == "__main__":
    main()
