"""Re-analysis speed: patients per second re-ranked, compared and written, on 1 core (this process), on 2 cores
(``--workers 2``: a local Dask cluster started for the run) and on a local Dask cluster started and warmed
beforehand (what ``--scheduler ADDRESS`` gives on a running cluster: no start-up, the knowledge base loaded).

    .venv/bin/python benchmarks/reanalysis.py /work/shared/data/phenopacket-store/dev-phenopackets.zip \\
        --patients 1000 --out benchmarks/results/reanalysis.md

The registry is a temporary SQLite file holding the first ``--patients`` phenopackets; every run re-ranks all of
them (``everyone``) on the installed or bundled knowledge base and keeps the analyses. The wall time of each run
counts reading the patients, ranking, comparing with the previous analysis and writing; for ``--workers 2`` it
also counts starting the worker processes and their loading the knowledge base (from the compiled cache).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from raredx.config import cache_dir
from raredx.core import RareDx
from raredx.kb import resolve_data_dir
from raredx.reanalysis import reanalyse
from raredx.reanalysis._run import _worker_raredx
from raredx.registry import SYSTEM, Registry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("phenopackets", type=Path)
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    from distributed import Client, LocalCluster

    data, cache = str(resolve_data_dir(None)), str(cache_dir(None))
    t0 = time.perf_counter()
    rdx = RareDx.load(data, cache_dir=cache)
    rdx.engine  # noqa: B018
    load = time.perf_counter() - t0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        reg = Registry.open(f"sqlite:///{Path(tmp) / 'registry.sqlite3'}", ontology=rdx.kb.ontology)
        report = reg.import_phenopackets(SYSTEM, args.phenopackets, limit=args.patients)
        print(f"{report.imported} patients imported; knowledge base loaded in {load:.1f} s")

        def run(label: str, **how: object) -> None:
            before = os.getloadavg()[0]
            r = reanalyse(rdx, reg, SYSTEM, data_dir=data, cache_dir=cache, everyone=True, **how)  # type: ignore[arg-type]
            rows.append((label, r.analysed, r.seconds, r.patients_per_second, before, os.getloadavg()[0]))
            print(f"{label}: {r.analysed} patients in {r.seconds:.1f} s = {r.patients_per_second:.1f}/s ({r.where})")

        run("1 core (this process)", workers=1)
        run("2 cores (--workers 2: a local Dask cluster started for the run)", workers=2)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            client.run(_worker_raredx, data, cache)  # each worker loads the knowledge base before the clock starts
            run("local Dask cluster, 2 workers, running and warm (as --scheduler)", client=client)
        reg.close()
    lines = [
        "# Re-analysis speed", "",
        f"`python benchmarks/reanalysis.py {args.phenopackets.name} --patients {args.patients}` on "
        f"{platform.machine()}, {os.cpu_count()} cores (shared with other jobs while measured), "
        f"knowledge base {rdx.kb.version}; SQLite registry of {report.imported} phenopackets. Each run re-ranks every "
        "patient, compares with the previous analysis and writes the new one.", "",
        "| where | patients | seconds | patients / s | load average before / after |", "|---|---:|---:|---:|---:|",
        *(f"| {label} | {n} | {s:.1f} | {pps:.1f} | {a:.1f} / {b:.1f} |" for label, n, s, pps, a, b in rows), "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
