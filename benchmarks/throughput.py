"""Throughput of `raredx serve` (issue 11, part 9); results go to benchmarks/results/throughput.md.

    .venv/bin/python benchmarks/throughput.py diagnose [--workers N] [--seconds 30] [--connections 32]
    .venv/bin/python benchmarks/throughput.py patients [--patients 100000] [--db DIR] [--workers N]

`diagnose`: `POST /api/diagnose` under wrk (Debian's package; a Lua script cycles through 500 dev phenopackets)
against `raredx serve --workers N` on loopback, then the same work in process (case, diagnosis, JSON of the
answer) in one process per worker for as long, on the same cores: served / in-process is what the HTTP layer
keeps of the engine's throughput.

`patients`: a registry of N synthetic patients (dev phenopackets with the demo's synthetic registry fields, cloned
and bulk-inserted; kept in --db and reused), then `GET /api/patients` with each documented filter from one client
(p50 of 25 requests after 3 warm-ups; the summary view, as the workbench asks) and the default page under wrk at 16
connections.

Each run replaces its section of the results file between `<!-- NAME -->` and `<!-- /NAME -->` (--no-write: print
only). The load generator shares the machine's cores with the server; the figures are of one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing
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
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from registry_bench import WRK_LUA  # noqa: E402 - the same wrk script: POST /api/diagnose with the bodies in BODIES
DEV = ROOT.parent / "shared" / "data" / "phenopacket-store" / "dev-phenopackets.zip"
RESULTS = ROOT / "benchmarks" / "results" / "throughput.md"
PASSWORD = "benchmark password"

GET_LUA = r"""
request = function()
  return wrk.format("GET", os.getenv("URLPATH"), {["Authorization"] = "Bearer " .. os.getenv("TOKEN")})
end
"""


# -- the server ------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    return subprocess.run([sys.executable, "-m", "raredx", *args], input=stdin, text=True, env=env, check=True,
                          capture_output=True).stdout


@contextmanager
def serve(registry_dir: Path, workers: int, users: tuple[tuple[str, str], ...]) -> Iterator[tuple[str, dict[str, str]]]:
    """`raredx serve --workers N` on a free port: (base URL, a token for each of ``users``: (name, role))."""
    env = {**os.environ, "RAREDX_REGISTRY_DIR": str(registry_dir)}
    existing = cli("user", "list", env=env)
    for name, role in users:
        if not re.search(rf"^{re.escape(name)}\t", existing, re.MULTILINE):
            cli("user", "add", name, "--role", role, "--password-stdin", env=env, stdin=PASSWORD + "\n")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "raredx", "serve", "--port", str(port), "--workers", str(workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                get(base, "/api/health")
                break
            except OSError:
                time.sleep(0.5)
        tokens = {}
        for name, _ in users:
            form = urllib.parse.urlencode({"username": name, "password": PASSWORD})
            tokens[name] = json.loads(request(base, "POST", "/api/auth/token", form,
                                              {"Content-Type": "application/x-www-form-urlencoded"})[1])["access_token"]
        yield base, tokens
    finally:
        server.terminate()
        server.wait(timeout=60)


def request(base: str, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None,
            conn: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    u = urllib.parse.urlsplit(base)
    c = conn or http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    return r.status, data


def get(base: str, path: str) -> bytes:
    status, data = request(base, "GET", path)
    if status != 200:
        raise OSError(f"{path}: HTTP {status}")
    return data


def wrk(base: str, script: str, env: dict[str, str], *, connections: int, seconds: int, threads: int = 1) -> dict[str, Any]:
    """wrk's figures: requests/s, latency percentiles (ms), non-2xx responses, socket errors."""
    with tempfile.TemporaryDirectory() as tmp:
        lua = Path(tmp) / "script.lua"
        lua.write_text(script)
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", str(lua), base]
        out = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
    lat = {k: _ms(v) for k, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.MULTILINE)}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "command": " ".join(cmd[:-3]),
        "requests_per_s": float(re.search(r"Requests/sec:\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": lat.get("50"), "p90_ms": lat.get("90"), "p99_ms": lat.get("99"),
        "non_2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0,
        "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "raw": out,
    }


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return round(float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit], 2)


def machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average before the run {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"


# -- diagnose ---------------------------------------------------------------------------------------------
def dev_bodies(n: int = 500, seed: int = 5) -> list[str]:
    with zipfile.ZipFile(DEV) as zf:
        names = random.Random(seed).sample(sorted(n for n in zf.namelist() if n.endswith(".json")), n)
        return [json.dumps({k: v for k, v in json.loads(zf.read(m)).items() if k in ("id", "subject", "phenotypicFeatures")})
                for m in names]


def _in_process(args: tuple[list[str], float, Any]) -> int:
    """Diagnoses done in ``seconds``, after a warm-up: what the endpoint does without HTTP (case, diagnosis, JSON)."""
    bodies, seconds, start = args
    from raredx import RareDx
    from raredx.io import case_from_phenopacket

    rdx = RareDx.load()
    rdx.engine  # noqa: B018

    def one(body: str) -> str:
        case = case_from_phenopacket(json.loads(body), "the request body")
        return json.dumps(rdx.diagnose(case, top=10, strict=False).to_dict(), ensure_ascii=False)

    for b in bodies[:50]:
        one(b)
    start.wait()
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        one(bodies[done % len(bodies)])
        done += 1
    return done


def in_process(bodies: list[str], processes: int, seconds: float) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        start = manager.Barrier(processes)
        with ctx.Pool(processes) as pool:
            done = pool.map(_in_process, [(bodies, seconds, start)] * processes)
    return {"processes": processes, "seconds": seconds, "diagnoses": sum(done), "per_s": round(sum(done) / seconds, 1)}


def bench_diagnose(args: argparse.Namespace) -> str:
    bodies = dev_bodies()
    before = machine()
    with tempfile.TemporaryDirectory(prefix="raredx-bench-") as tmp:
        body_file = Path(tmp) / "bodies.txt"
        body_file.write_text("\n".join(bodies) + "\n")
        with serve(Path(tmp) / "registry", args.workers, (("bench", "clinician"),)) as (base, tokens):
            env = {"BODIES": str(body_file), "TOKEN": tokens["bench"]}
            wrk(base, WRK_LUA, env, connections=4, seconds=5)  # warm-up
            load = wrk(base, WRK_LUA, env, connections=args.connections, seconds=args.seconds)
    print(load.pop("raw"), flush=True)
    inproc = in_process(bodies, args.workers, args.seconds)
    ratio = load["requests_per_s"] / inproc["per_s"]
    print(json.dumps({"served": load, "in_process": inproc, "ratio": ratio}, indent=1), flush=True)
    ok = lambda good: "yes" if good else "**no**"  # noqa: E731
    return "\n".join([
        f"Run {dt.datetime.now():%Y-%m-%d %H:%M}; {before}; `raredx serve --workers {args.workers}` (SQLite registry); "
        f"load `{load['command']}` (a Lua script cycling through 500 dev phenopackets, `?lenient=true`, 5 s warm-up "
        f"at 4 connections first); in process: {inproc['processes']} process(es), each diagnosing the same bodies "
        f"for {inproc['seconds']:.0f} s (`case_from_phenopacket`, `RareDx.diagnose(top=10)`, `json.dumps` of the answer).",
        "",
        "| measure | figure | target | met |",
        "|---|---|---|---|",
        f"| served requests/s ({args.connections} connections, {args.seconds} s) | {load['requests_per_s']:.1f} "
        f"({load['requests']} requests) | | |",
        f"| in-process diagnoses/s ({inproc['processes']} processes) | {inproc['per_s']:.1f} | | |",
        f"| served / in-process | {ratio:.2f} | >= 0.70 | {ok(ratio >= 0.70)} |",
        f"| p50 latency | {load['p50_ms']} ms | | |",
        f"| p90 latency | {load['p90_ms']} ms | | |",
        f"| p99 latency | {load['p99_ms']} ms | <= 250 ms | {ok((load['p99_ms'] or 1e9) <= 250)} |",
        f"| non-2xx responses, socket errors | {load['non_2xx']}, {load['socket_errors']} | 0 | "
        f"{ok(load['non_2xx'] == 0 and load['socket_errors'] == 0)} |",
    ])


# -- patients ---------------------------------------------------------------------------------------------
def build_registry(registry_dir: Path, n: int, seed: int = 7, templates: int = 10_000) -> dict[str, Any]:
    """A SQLite registry of ``n`` synthetic patients in ``registry_dir`` (reused when it has them): ``templates`` dev
    phenopackets imported with synthetic registry fields, then cloned with fresh synthetic fields and bulk-inserted
    (patients, their lists, revisions and audit entries, as an import writes them)."""
    from raredx import RareDx
    from raredx.registry import SYSTEM, Registry
    from raredx.registry._demo import add_synthetic_fields
    from raredx.registry.schemas import PatientCreate

    url = f"sqlite:///{registry_dir / 'registry.sqlite3'}"
    reg = Registry.open(url, ontology=RareDx.load().kb.ontology)
    have = reg.counts()["patients"]
    if have >= n:
        reg.close()
        return {"patients": have, "built": "reused"}
    rng = random.Random(seed)
    kept: list[PatientCreate] = []

    def keep(p: PatientCreate) -> PatientCreate:
        kept.append(p)
        return add_synthetic_fields(p, rng)

    t0 = time.perf_counter()
    if have == 0:
        reg.import_phenopackets(SYSTEM, DEV, transform=keep, limit=min(templates, n))
        have = reg.counts()["patients"]
    else:
        reg.import_phenopackets(SYSTEM, DEV, transform=keep, limit=templates, dry_run=True)
    t1 = time.perf_counter()
    k = have
    while have < n:
        batch = []
        for _ in range(min(2000, n - have)):
            k += 1
            clone = rng.choice(kept).model_copy(update={"pseudonym": f"SYN-{k:06d}"})
            batch.append(("synthetic", add_synthetic_fields(clone, rng)))
        with reg._sessions() as s, s.begin():
            reg._insert(s, SYSTEM, batch)
        have += len(batch)
    t2 = time.perf_counter()
    counts = reg.counts()
    reg.close()
    return {"patients": counts["patients"], "phenotypic_features": counts["phenotypic_features"],
            "import_s": round(t1 - t0, 1), "clone_s": round(t2 - t1, 1)}


FILTERS: dict[str, dict[str, str]] = {
    "default page (no filter)": {},
    "region": {"region": "North"},
    "gene": {"gene": "NF1"},
    "hpo (Seizure and descendants)": {"hpo": "HP:0001250"},
    "hpo (Abnormality of the eye and descendants)": {"hpo": "HP:0000478"},
    "disease (OMIM:162200, its concept's ids)": {"disease": "OMIM:162200"},
    "diagnosis_status confirmed": {"diagnosis_status": "confirmed"},
    "diagnosis_status suspected": {"diagnosis_status": "suspected"},
    "provision_status dispensed": {"provision_status": "dispensed"},
    "pseudonym prefix": {"pseudonym": "SYN-0123"},
    "include_deleted (admin)": {"include_deleted": "true"},
    "offset 50,000": {"offset": "50000"},
    "limit 500": {"limit": "500"},
    "region + hpo (eye) + provision approved": {"region": "South", "hpo": "HP:0000478", "provision_status": "approved"},
    "view=full (the whole records)": {"view": "full"},
}


def bench_patients(args: argparse.Namespace) -> str:
    registry_dir = Path(args.db) if args.db else Path(tempfile.gettempdir()) / f"raredx-bench-{args.patients}"
    registry_dir.mkdir(parents=True, exist_ok=True)
    built = build_registry(registry_dir, args.patients)
    print("registry", json.dumps(built), flush=True)
    before = machine()
    rows = []
    with serve(registry_dir, args.workers, (("bench-admin", "admin"),)) as (base, tokens):
        token = tokens["bench-admin"]
        headers = {"Authorization": f"Bearer {token}"}
        u = urllib.parse.urlsplit(base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        for name, params in FILTERS.items():
            path = "/api/patients" + ("?" + urllib.parse.urlencode(params) if params else "")
            times, size, count = [], 0, 0
            for i in range(args.repeats + 3):
                t0 = time.perf_counter()
                status, data = request(base, "GET", path, headers=headers, conn=conn)
                if i >= 3:
                    times.append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    raise SystemExit(f"{path}: HTTP {status} {data[:300]!r}")
                size, count = len(data), json.loads(data)["count"]
            rows.append((name, path, count, size, statistics.median(times), max(times)))
            print(f"{name:50} {count:7} {size / 1024:8.1f} KB p50 {statistics.median(times):7.1f} ms", flush=True)
        conn.close()
        load = wrk(base, GET_LUA, {"URLPATH": "/api/patients", "TOKEN": token}, connections=16, seconds=args.seconds)
    print(load.pop("raw"), flush=True)
    ok = lambda good: "yes" if good else "**no**"  # noqa: E731
    lines = [
        f"Run {dt.datetime.now():%Y-%m-%d %H:%M}; {before}; registry: {built['patients']:,} synthetic patients on SQLite "
        f"({json.dumps(built)}); `raredx serve --workers {args.workers}`; one client (keep-alive), "
        f"{args.repeats} requests per filter after 3 warm-ups, as an admin (sees identities and deleted patients).",
        "",
        "| filter | query | matches | response | p50 | max | p50 <= 100 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {name} | `{path}` | {count:,} | {size / 1024:.1f} KB | {p50:.1f} ms | {mx:.1f} ms | "
              f"{ok(p50 <= 100) if 'view=full' not in path else '(not a target)'} |"
              for name, path, count, size, p50, mx in rows]
    lines += [
        "",
        f"Default page under load: `{load['command']}` on `/api/patients`: **{load['requests_per_s']:.1f} requests/s** "
        f"(target >= 100: {ok(load['requests_per_s'] >= 100)}), p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms, "
        f"non-2xx {load['non_2xx']}, socket errors {load['socket_errors']}.",
    ]
    return "\n".join(lines)


def write_section(name: str, text: str) -> None:
    body = RESULTS.read_text() if RESULTS.exists() else "# Throughput (issue 11, part 9)\n"
    block = f"<!-- {name} -->\n{text}\n<!-- /{name} -->"
    pattern = re.compile(rf"<!-- {name} -->.*?<!-- /{name} -->", re.DOTALL)
    body = pattern.sub(lambda _: block, body) if pattern.search(body) else body.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(body)


def main() -> None:
    from raredx.config import cpu_count

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=("diagnose", "patients"))
    ap.add_argument("--workers", type=int, default=cpu_count())
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=25)
    ap.add_argument("--db", help="registry directory to build or reuse (default: in the temporary directory)")
    ap.add_argument("--no-write", action="store_true", help="print only; leave the results file as it is")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    text = bench_diagnose(args) if args.part == "diagnose" else bench_patients(args)
    print(text)
    if not args.no_write:
        write_section(args.part, text)


if __name__ == "__main__":
    main()
