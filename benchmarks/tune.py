"""Choose the first stage's knobs on the development phenopackets, the way the second stage is fitted.

    python benchmarks/tune.py [../shared/data/phenopacket-store/dev-phenopackets.zip]

Only *unseen* cases (no phenotype annotation of their disease cites their publication) judge a setting:
masked profiles would reward whatever tells the masked truth apart, and cited cases reward copying the
patient's own paper. Every setting of a small grid (the weight of the frequency next to the information
content, how much of a disease's background score is taken off, the frequency given to a phenotype of
Orphanet's definition) ranks the unseen cases; in five cohort-grouped folds the setting with the best mean
reciprocal rank on four folds is judged on the fifth; the setting best over all folds is the one to make the
default of ``raredx.engine.Params`` (printed, not written: the second stage is fitted on top of it by
``benchmarks/fit_ranker.py``). Results: ``benchmarks/results/tune.md``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
from fit_ranker import FOLDS, cohort_folds, rank_of_truth, read_cases

from raredx import RareDx, config
from raredx.engine import DiagnosisEngine, Params, PreparedCase

GRID = {"frequency_weight": (0.3, 0.6, 1.0), "background_weight": (0.5, 0.75, 1.0), "definition_frequency": (0.3, 0.6)}


def reciprocal_ranks(rdx: RareDx, params: Params, cases: list[PreparedCase], truths: list[list[int]]) -> np.ndarray:
    engine = DiagnosisEngine(rdx.kb, params, cache=False, ranker=False)
    return np.array([1.0 / rank_of_truth(engine.scores(case), truth) for case, truth in zip(cases, truths)])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("phenopackets", nargs="?", type=Path, default=config.dev_phenopackets())
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "tune.md")
    args = ap.parse_args(argv)
    rdx = RareDx.load()
    unseen = [c for c in read_cases(rdx.engine, args.phenopackets) if c.subset == "unseen"]
    cases, truths, folds = [c.case for c in unseen], [c.truth for c in unseen], cohort_folds([c.cohort for c in unseen])
    settings = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    rr = {}
    for s in settings:
        rr[str(s)] = reciprocal_ranks(rdx, rdx.engine.params.with_(**s), cases, truths)
        print(s, f"MRR {rr[str(s)].mean():.4f} top-1 {np.mean(rr[str(s)] == 1):.4f}", flush=True)
    held_out = np.zeros(len(cases))
    for k in range(FOLDS):
        best = max(rr, key=lambda s: rr[s][folds != k].mean())
        held_out[folds == k] = rr[best][folds == k]
    best = max(rr, key=lambda s: rr[s].mean())
    lines = [f"# First-stage knobs, chosen on {len(cases)} unseen development cases\n", f"    python benchmarks/tune.py {args.phenopackets}\n",
             "| setting | top-1 | MRR |", "|---|---|---|"]
    lines += [f"| {s} | {np.mean(v == 1):.4f} | {v.mean():.4f} |" for s, v in rr.items()]
    lines += ["", f"Chosen on four folds, judged on the fifth: top-1 {np.mean(held_out == 1):.4f}, MRR {held_out.mean():.4f}.",
              f"Best over all folds: {best}."]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[-2:]))


if __name__ == "__main__":
    sys.exit(main())
