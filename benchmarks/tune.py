"""Fit the engine's parameters on the development phenopackets and write src/raredx/engine/params.json.

    python benchmarks/tune.py ../shared/data/phenopacket-store/dev-phenopackets.zip

Coordinate search: each parameter in turn takes the value of its grid that maximises the mean of the
unmasked and the masked (--mask-source-publication) mean reciprocal rank, the others held fixed. Then the
softmax temperature is fitted (1-D, log loss of the true disease, masked mode: the realistic setting where
the patient's own publication is not yet in the knowledge base). Everything is logged to
benchmarks/results/tune.tsv. Tune only on the development set.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from raredx.benchmark import pessimistic_rank
from raredx.engine import DiagnosisEngine, Params
from raredx.errors import RaredxError
from raredx.io import case_from_phenopacket, diagnosis_ids, iter_phenopackets
from raredx.kb import load_knowledge_base

GRID = {
    "frequency_weight": [0.15, 0.3],
    "exact_bonus": [1.0, 2.0],
    "related_weight": [0.6, 0.8],
    "inherited_frequency": [0.03, 0.1, 0.3],
    "name_frequency": [0.5, 0.9],
    "onset_mismatch": [0.6, 1.2],
}
TEMPERATURES = np.geomspace(0.3, 5.0, 40)
ROOT = Path(__file__).resolve().parent.parent


def load_cases(path: str, kb, every: int):  # type: ignore[no-untyped-def]
    cases = []
    for i, rec in enumerate(iter_phenopackets(path)):
        if i % every:
            continue
        concepts = [c for c in (kb.concept(t) for t in diagnosis_ids(rec.document)) if c is not None]
        if concepts:
            cases.append((case_from_phenopacket(rec.document, rec.source), concepts[0].index))
    return cases


def evaluate(engine: DiagnosisEngine, cases, mask: bool):  # type: ignore[no-untyped-def]
    ranks, scores = [], []
    for case, truth in cases:
        try:
            prepared = engine.prepare(case, strict=False)
        except RaredxError:
            continue
        s = engine.scores(prepared, mask_source=mask)
        ranks.append(pessimistic_rank(s, truth))
        scores.append((s, truth))
    return np.array(ranks, float), scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("phenopackets")
    ap.add_argument("--every", type=int, default=1, help="use every k-th case (faster, noisier)")
    ap.add_argument("--out", default=str(ROOT / "src/raredx/engine/params.json"))
    args = ap.parse_args()
    kb = load_knowledge_base()
    cases = load_cases(args.phenopackets, kb, args.every)
    log = open(ROOT / "benchmarks/results/tune.tsv", "w")
    log.write("params\tunmasked_top1\tunmasked_top10\tunmasked_mrr\tmasked_top1\tmasked_top10\tmasked_mrr\n")
    print(f"{len(cases)} cases", file=sys.stderr)
    best = Params()
    cache: dict[str, float] = {}

    def objective(p: Params) -> float:
        key = json.dumps(p.to_dict(), sort_keys=True)
        if key not in cache:
            t = time.perf_counter()
            engine = DiagnosisEngine(kb, p, cache=False)
            r0, _ = evaluate(engine, cases, False)
            r1, _ = evaluate(engine, cases, True)
            row = [np.mean(r0 == 1), np.mean(r0 <= 10), np.mean(1 / r0), np.mean(r1 == 1), np.mean(r1 <= 10), np.mean(1 / r1)]
            log.write(key + "\t" + "\t".join(f"{v:.4f}" for v in row) + "\n")
            log.flush()
            cache[key] = (row[2] + row[5]) / 2
            print(f"{key}: mrr {row[2]:.4f} / masked {row[5]:.4f} ({time.perf_counter() - t:.0f} s)", file=sys.stderr)
        return cache[key]

    for name, values in GRID.items():
        best = max((best.with_(**{name: v}) for v in values), key=objective)
    _, scored = evaluate(DiagnosisEngine(kb, best, cache=False), cases, True)
    losses = []
    for temp in TEMPERATURES:
        loss = 0.0
        for s, truth in scored:
            z = s / temp
            loss += np.logaddexp.reduce(z) - z[truth]
        losses.append(loss / len(scored))
    best = best.with_(temperature=round(float(TEMPERATURES[int(np.argmin(losses))]), 4))
    Path(args.out).write_text(json.dumps(best.to_dict(), indent=2) + "\n")
    print(json.dumps(best.to_dict(), indent=2))


if __name__ == "__main__":
    main()
