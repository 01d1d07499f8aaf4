"""How long a "patients like this one" query takes over a large registry (synthetic patients).

    python benchmarks/match_speed.py [--patients 100000] [--queries 200] [--out benchmarks/results/match.md]

Synthetic patients: a random rankable disease of the knowledge base, 3 to 12 of its annotations drawn by their
frequency (a term or its parent), 0 to 2 random phenotype terms as noise, an excluded annotation of another disease
one time in three, a random sex and onset class. The engine ranks the first 10,000 of them for their differentials;
the others reuse those differentials in turn (a query's cost depends on the sizes of the posting lists, which this
keeps realistic, not on which diseases they hold). Each query is a new synthetic patient: the time of the search
alone (every patient scored, the top 10 with their reasons) and of the query's own differential are reported
apart, as the median and 95th percentile. Not a test: the figure goes into ``--out``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from raredx import RareDx
from raredx.engine import Case, DiagnosisEngine
from raredx.match import MatchIndex, MatchPatient, vector_of

RANKED = 10_000


def synthetic(engine: DiagnosisEngine, rng: np.random.Generator, n: int) -> list[Case]:
    m, o = engine.matrix, engine.ontology
    rankable = np.flatnonzero(engine.profiles.rankable)
    pheno = np.flatnonzero(o.phenotype_mask)
    out = []
    for i in range(n):
        d = int(engine.profiles.select[None][rng.choice(rankable)])
        terms, freqs = m.annotations(d)
        if not len(terms):
            continue
        k = int(min(len(terms), rng.integers(3, 13)))
        picked = rng.choice(terms, size=k, replace=False, p=freqs / freqs.sum())
        obs = [int(rng.choice(o.parents(int(t)))) if rng.random() < 0.2 and len(o.parents(int(t))) else int(t)
               for t in picked]
        obs += [int(x) for x in rng.choice(pheno, size=int(rng.integers(0, 3)))]
        exc = []
        if rng.random() < 1 / 3:
            other, _ = m.annotations(int(engine.profiles.select[None][rng.choice(rankable)]))
            exc = [o.ids[int(rng.choice(other))]] if len(other) else []
        out.append(Case(observed=tuple(o.ids[t] for t in obs), excluded=tuple(e for e in exc if o.index(e) not in obs),
                        sex=("male", "female")[int(rng.integers(2))],
                        onset=("HP:0003577", "HP:0003593", "HP:0011463", "HP:0003581")[int(rng.integers(4))],
                        id=f"S{i}"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/match.md"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rdx = RareDx.load()
    engine = rdx.engine
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    cases = synthetic(engine, rng, args.patients)
    vectors = []
    ranked = []
    for i, c in enumerate(cases):
        prepared = engine.prepare(c, strict=False)
        if i < RANKED:
            p = engine.rank(prepared).probability
            ranked.append(vector_of(engine, prepared, p))
            vectors.append(ranked[-1])
        else:
            donor = ranked[i % len(ranked)]
            own = vector_of(engine, prepared, np.zeros(1))  # its phenotype, a donor's differential
            vectors.append(type(own)(own.closure, own.excluded, own.onset_bins, own.sex, donor.diseases,
                                     donor.root_p, own.genes))
    index = MatchIndex(engine, [MatchPatient(c.id, c) for c in cases], vectors)
    build = time.perf_counter() - t0
    queries = synthetic(engine, np.random.default_rng(args.seed + 1), args.queries)
    search, own = [], []
    for q in queries:
        t = time.perf_counter()
        v = index.query_vector(q)
        t1 = time.perf_counter()
        index.search(v, top=10)
        search.append(time.perf_counter() - t1)
        own.append(t1 - t)
    ms = lambda xs: (1000 * statistics.median(xs), 1000 * float(np.percentile(xs, 95)))  # noqa: E731
    (s50, s95), (o50, o95) = ms(search), ms(own)
    nnz = len(index.c_term)
    text = (f"# Patients like this one: query time over {index.n:,} synthetic patients\n\n"
            f"    python benchmarks/match_speed.py --patients {args.patients} --queries {args.queries}\n\n"
            f"{engine.kb.version}; {nnz:,} (patient, term) pairs in the index (mean {nnz / index.n:.1f} ancestor-closed "
            f"terms a patient), {index.dz_rows.size:,} (patient, disease) pairs; built in {build:.0f} s (the "
            f"differentials of {min(RANKED, index.n):,} patients ranked, see the script).\n\n"
            f"| step | p50 ms | p95 ms |\n|---|---|---|\n"
            f"| search: every patient scored, top 10 with reasons | {s50:.1f} | {s95:.1f} |\n"
            f"| the query's own differential (engine) | {o50:.1f} | {o95:.1f} |\n"
            f"| both | {ms([a + b for a, b in zip(search, own)])[0]:.1f} | "
            f"{ms([a + b for a, b in zip(search, own)])[1]:.1f} |\n")
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    previous = args.out.read_text() if args.out.exists() else ""
    marker = "<!-- speed -->"
    rest = previous.split(marker, 1)[0] if marker in previous else previous
    args.out.write_text(rest.rstrip() + ("\n\n" if rest.strip() else "") + marker + "\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
