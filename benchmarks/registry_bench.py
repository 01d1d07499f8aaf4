"""Registry and API benchmarks (issue 3 targets); results go to benchmarks/results/registry.md by hand.

    .venv/bin/python benchmarks/registry_bench.py [--postgres URL] [--patients 100000] [--skip-load]

1. import all dev phenopackets (target <= 60 s) on SQLite and PostgreSQL, and check export(import(x)) == x
   for every held field of every record;
2. a registry of N synthetic patients (the imported records cloned with synthetic registry fields): filtered
   search p50 (target <= 100 ms) for several filters, through the service as the API calls it (page of 50);
3. POST /api/diagnose at 32 concurrent connections with wrk (Debian package) from a second process, loopback
   only, against `raredx serve`, bodies cycling through 500 dev phenopackets (target p50 <= 20 ms, p99 <= 100 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import text

from raredx import RareDx
from raredx.registry import SYSTEM, PatientFilter, Registry, held_fields
from raredx.registry._db import make_engine
from raredx.registry._demo import add_synthetic_fields
from raredx.registry.schemas import PatientCreate

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "phenopacket-store" / "dev-phenopackets.zip"


def fresh(url: str) -> str:
    if url.startswith("postgres"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    return url


def bench_import(url: str, rdx: RareDx) -> tuple[Registry, dict[str, Any]]:
    reg = Registry.open(fresh(url), ontology=rdx.kb.ontology)
    t0 = time.perf_counter()
    report = reg.import_phenopackets(SYSTEM, DEV)
    seconds = time.perf_counter() - t0
    originals: dict[str, Any] = {}
    with zipfile.ZipFile(DEV) as zf:
        for n in zf.namelist():
            if n.endswith(".json"):
                d = json.loads(zf.read(n))
                originals[d["id"]] = held_fields(d)
    t1 = time.perf_counter()
    mismatched = [d["id"] for d in reg.export_phenopackets(SYSTEM) if held_fields(d) != originals[d["id"]]]
    return reg, {"records": report.records, "imported": report.imported, "rejected": report.rejected,
                 "warnings": sum(i.severity == "warning" for i in report.issues), "import_s": round(seconds, 1),
                 "export_s": round(time.perf_counter() - t1, 1), "round_trip_mismatches": len(mismatched)}


def grow(reg: Registry, n: int, seed: int = 7) -> float:
    """Clone the imported patients with synthetic registry fields until there are n patients."""
    rng = random.Random(seed)
    templates = [PatientCreate.model_validate(p.model_dump(exclude={"id", "version", "created_at", "created_by", "updated_at",
                                                                      "updated_by", "deleted_at", "birth_year"}))
                 for p in reg.list_patients(SYSTEM, limit=500).data]
    have = reg.counts()["patients"]
    t0 = time.perf_counter()
    k = have  # SYN-<k> pseudonyms continue after any earlier run
    while have < n:
        batch = []
        for _ in range(min(1000, n - have)):
            t = rng.choice(templates)
            k += 1
            batch.append(("synthetic", add_synthetic_fields(t.model_copy(update={"pseudonym": f"SYN-{k:06d}"}), rng)))
        with reg._sessions() as s, s.begin():
            reg._insert(s, SYSTEM, batch)
        have += len(batch)
    return time.perf_counter() - t0


FILTERS = {
    "region": PatientFilter(region="North"),
    "gene": PatientFilter(gene="NF1"),
    "hpo (Seizure and descendants)": PatientFilter(hpo="HP:0001250"),
    "disease (OMIM:162200, neurofibromatosis 1)": PatientFilter(disease="OMIM:162200"),
    "diagnosis status confirmed": PatientFilter(diagnosis_status="confirmed"),
    "provision status dispensed": PatientFilter(provision_status="dispensed"),
    "region + hpo (Abnormality of the eye) + provision": PatientFilter(region="South", hpo="HP:0000478", provision_status="approved"),
    "pseudonym prefix": PatientFilter(pseudonym="SYN-0123"),
}


def bench_search(reg: Registry, repeats: int = 15) -> dict[str, dict[str, float]]:
    out = {}
    actor = SYSTEM
    for name, f in FILTERS.items():
        times = []
        count = 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            page = reg.list_patients(actor, f, limit=50)
            times.append(time.perf_counter() - t0)
            count = page.count
        out[name] = {"matches": count, "p50_ms": round(statistics.median(times) * 1000, 1),
                     "max_ms": round(max(times) * 1000, 1)}
    return out


WRK_LUA = r"""
local bodies = {}
local f = io.open(os.getenv("BODIES"), "r")
for line in f:lines() do bodies[#bodies + 1] = line end
f:close()
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/api/diagnose?lenient=true", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("TOKEN")}, bodies[(i % #bodies) + 1])
end
"""


def bench_diagnose(seconds: int = 30, connections: int = 32) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    tmp = Path(tempfile.mkdtemp(prefix="raredx-bench-"))
    env = {**os.environ, "RAREDX_REGISTRY_DIR": str(tmp)}
    subprocess.run([sys.executable, "-m", "raredx", "user", "add", "bench", "--role", "clinician", "--password-stdin"],
                   input="benchmark password\n", text=True, env=env, check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "raredx", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/api/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        form = urllib.parse.urlencode({"username": "bench", "password": "benchmark password"}).encode()
        token = json.load(urllib.request.urlopen(base + "/api/auth/token", data=form))["access_token"]
        with zipfile.ZipFile(DEV) as zf:
            names = random.Random(5).sample(sorted(n for n in zf.namelist() if n.endswith(".json")), 500)
            bodies = [json.dumps({k: v for k, v in json.loads(zf.read(n)).items() if k in ("id", "subject", "phenotypicFeatures")})
                      for n in names]
        (tmp / "bodies.txt").write_text("\n".join(bodies) + "\n")
        (tmp / "post.lua").write_text(WRK_LUA)
        wrk_env = {**os.environ, "BODIES": str(tmp / "bodies.txt"), "TOKEN": token}
        subprocess.run(["wrk", "-t1", "-c4", "-d5s", "-s", str(tmp / "post.lua"), base], env=wrk_env, capture_output=True)  # warm-up
        cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", str(tmp / "post.lua"), base]
        res = subprocess.run(cmd, env=wrk_env, capture_output=True, text=True)
        lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", res.stdout, re.MULTILINE))
        rps = re.search(r"Requests/sec:\s+(\S+)", res.stdout)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", res.stdout)
        return {"tool": " ".join(cmd[:-2]) + " (Lua script: 500 dev phenopackets in turn)", "p50": lat.get("50"),
                "p90": lat.get("90"), "p99": lat.get("99"), "requests_per_s": rps.group(1) if rps else None,
                "non_2xx": int(errors.group(1)) if errors else 0, "raw": res.stdout}
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--postgres", default=os.environ.get("RAREDX_TEST_DATABASE_URL"), help="PostgreSQL URL (its public schema is dropped!)")
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--skip-load", action="store_true", help="skip the wrk load test of POST /api/diagnose")
    ap.add_argument("--only-load", action="store_true")
    ap.add_argument("--reuse", metavar="URL", help="grow and search an existing benchmark registry (no import)")
    args = ap.parse_args()
    results: dict[str, Any] = {}
    if args.reuse:
        rdx = RareDx.load()
        reg = Registry.open(args.reuse, ontology=rdx.kb.ontology)
        grow_s = grow(reg, args.patients)
        results["reused"] = {"url": args.reuse.split("@")[-1], f"grow_to_{args.patients}_s": round(grow_s, 1),
                             "search": bench_search(reg)}
        print(json.dumps(results, indent=2))
        return
    if not args.only_load:
        rdx = RareDx.load()
        tmp = Path(tempfile.mkdtemp(prefix="raredx-bench-db-"))
        urls = {"sqlite": f"sqlite:///{tmp / 'registry.sqlite3'}"}
        if args.postgres:
            urls["postgresql"] = args.postgres
        for name, url in urls.items():
            reg, imp = bench_import(url, rdx)
            print(name, "import", json.dumps(imp), flush=True)
            grow_s = grow(reg, args.patients)
            search = bench_search(reg)
            print(name, "search", json.dumps(search, indent=1), flush=True)
            results[name] = {"import": imp, f"grow_to_{args.patients}_s": round(grow_s, 1), "search": search}
            reg.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if not args.skip_load:
        load = bench_diagnose()
        print(load.pop("raw", ""), flush=True)
        results["diagnose_load"] = load
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
