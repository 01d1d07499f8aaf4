"""Fit the engine's parameters on the development phenopackets and write src/raredx/engine/params.json.

    python benchmarks/tune.py ../shared/data/phenopacket-store/dev-phenopackets.zip

1. Stage one, coordinate search: each parameter in turn takes the value of its grid that maximises the
   mean of the unmasked and the masked (--mask-source-publication) mean reciprocal rank of the phenotype
   match score, the others held fixed.
2. Stage two: the weights of (match score, share of observed terms the disease has, log match rank) by
   conditional logistic regression over each case's top-50 candidates, masked and unmasked cases pooled.
3. The softmax temperature (1-D, log loss of the true disease, masked mode: the realistic setting where
   the patient's own publication is not yet in the knowledge base).
Everything is logged to benchmarks/results/tune.tsv. Tune only on the development set.
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
    "frequency_weight": [0.05, 0.15, 0.3],
    "exact_bonus": [1.0, 2.0, 3.0],
    "related_weight": [0.6, 0.8, 1.0],
    "inherited_frequency": [0.03, 0.1, 0.3],
    "onset_mismatch": [0.3, 0.6, 1.2],
}
TEMPERATURES = np.geomspace(0.2, 5.0, 50)
CANDIDATES = 50
STAGE_ONE = {"match_weight": 1.0, "explained_weight": 0.0, "rank_weight": 0.0}
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


def evaluate(engine: DiagnosisEngine, cases, mask: bool, stage_one: bool = True):  # type: ignore[no-untyped-def]
    """Ranks of the truth, and per case (match scores, explained shares, truth) for stage two."""
    ranks, rows = [], []
    for case, truth in cases:
        try:
            prepared = engine.prepare(case, strict=False)
        except RaredxError:
            continue
        if stage_one:
            match, explained = engine.match_scores(prepared, mask_source=mask)
            ranks.append(pessimistic_rank(match, truth))
            rows.append((match, explained / len(prepared.observed), truth))
        else:
            ranks.append(pessimistic_rank(engine.scores(prepared, mask_source=mask), truth))
    return np.array(ranks, float), rows


def candidate_features(rows, k: int = CANDIDATES):  # type: ignore[no-untyped-def]
    """Per case: the top-k candidates' (match, explained share, log rank) and the truth's position."""
    out = []
    for match, explained, truth in rows:
        top = np.argsort(-match, kind="stable")[:k]
        pos = np.flatnonzero(top == truth)
        if len(pos):
            out.append((np.column_stack([match[top], explained[top], np.log(np.arange(1, len(top) + 1))]), int(pos[0])))
    return out


def fit_conditional_logit(data, steps: int = 400, lr: float = 0.5) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Weights maximising the mean log softmax probability of the truth among its candidates."""
    allx = np.concatenate([x for x, _ in data])
    mu, sd = allx.mean(0), allx.std(0) + 1e-9
    xs = [((x - mu) / sd, y) for x, y in data]
    w = np.array([1.0, 0.0, 0.0])
    for _ in range(steps):
        grad = np.zeros_like(w)
        for x, y in xs:
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            grad -= x[y] - p @ x
        w -= lr * grad / len(xs)
    return w / sd  # in raw units (the shift by mu changes no ranking or softmax)


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
    best = Params.fitted().with_(**STAGE_ONE)
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

    engine = DiagnosisEngine(kb, best, cache=False)
    rows = evaluate(engine, cases, False)[1] + evaluate(engine, cases, True)[1]
    w = fit_conditional_logit(candidate_features(rows))
    best = best.with_(match_weight=round(float(w[0]), 5), explained_weight=round(float(w[1]), 5),
                      rank_weight=round(float(w[2]), 5), temperature=1.0)
    engine = DiagnosisEngine(kb, best, cache=False)
    finals = []
    for case, truth in cases:
        try:
            finals.append((engine.scores(engine.prepare(case, strict=False), mask_source=True), truth))
        except RaredxError:
            continue
    losses = [np.mean([np.logaddexp.reduce(s / t) - s[truth] / t for s, truth in finals]) for t in TEMPERATURES]
    best = best.with_(temperature=round(float(TEMPERATURES[int(np.argmin(losses))]), 4))
    for mask in (False, True):
        r, _ = evaluate(DiagnosisEngine(kb, best, cache=False), cases, mask, stage_one=False)
        print(f"final {'masked' if mask else 'unmasked'}: top1 {np.mean(r == 1):.4f} top10 {np.mean(r <= 10):.4f}",
              file=sys.stderr)
    Path(args.out).write_text(json.dumps(best.to_dict(), indent=2) + "\n")
    print(json.dumps(best.to_dict(), indent=2))


if __name__ == "__main__":
    main()
