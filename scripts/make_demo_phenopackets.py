"""Cut the demo phenopackets that ship inside the package (``raredx demo`` uses them by default).

    .venv/bin/python scripts/make_demo_phenopackets.py [../shared/data/phenopacket-store/dev-phenopackets.zip]
        [--cases 300] [--seed 7] [--out src/raredx/registry/data/demo-phenopackets.zip]

One case from each of ``--cases`` cohorts (cohorts drawn at random with a fixed seed; within a cohort the case
with the most phenotypic features, ties by file name), only cases with a diagnosis and at least five features.
The files are copied byte for byte from phenopacket-store (BSD-3-Clause); the ZIP is written with fixed
timestamps, so the same input gives the same bytes. The provenance is written next to it (DEMO_README).
"""

from __future__ import annotations

import argparse
import json
import random
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "phenopacket-store" / "dev-phenopackets.zip"
DEFAULT_OUT = ROOT / "src" / "raredx" / "registry" / "data" / "demo-phenopackets.zip"
FIXED_TIME = (2026, 6, 25, 0, 0, 0)  # phenopacket-store commit b694d17

PROVENANCE = """\
demo-phenopackets.zip: {n} GA4GH Phenopacket v2 files of published individuals, one per cohort of {cohorts}
cohorts, copied unmodified from phenopacket-store (https://github.com/monarch-initiative/phenopacket-store,
commit b694d17, 2026-06-25), licence BSD-3-Clause (copyright the phenopacket-store contributors).
Cut by scripts/make_demo_phenopackets.py --cases {n} --seed {seed} from the project's dev-phenopackets.zip.
`raredx demo` adds synthetic registry fields (region, dates, consents, drugs; all marked synthetic) to them.
"""


def _n_features(doc: dict) -> int:
    return len(doc.get("phenotypicFeatures") or [])


def _has_diagnosis(doc: dict) -> bool:
    return any((i.get("diagnosis") or {}).get("disease", {}).get("id") for i in doc.get("interpretations") or [])


def choose(source: Path, cases: int, seed: int) -> list[tuple[str, bytes]]:
    """The chosen members (name, bytes) of ``source``, in the order they are written."""
    by_cohort: dict[str, list[tuple[int, str, bytes]]] = {}
    with zipfile.ZipFile(source) as zf:
        for name in sorted(zf.namelist()):
            if not name.endswith(".json"):
                continue
            data = zf.read(name)
            doc = json.loads(data)
            if _has_diagnosis(doc) and _n_features(doc) >= 5:
                by_cohort.setdefault(name.split("/")[-2], []).append((-_n_features(doc), name, data))
    cohorts = sorted(by_cohort)
    random.Random(seed).shuffle(cohorts)
    chosen = [min(by_cohort[c]) for c in cohorts[:cases]]
    return [(name.split("/", 1)[1], data) for _, name, data in chosen]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    members = choose(args.source, args.cases, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(args.out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(f"demo-phenopackets/{name}", FIXED_TIME), data, zipfile.ZIP_DEFLATED)
    (args.out.parent / "DEMO_README").write_text(
        PROVENANCE.format(n=len(members), cohorts=len(members), seed=args.seed))
    print(f"{len(members)} phenopackets written to {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
