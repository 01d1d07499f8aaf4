"""Fit the weights of patient matching and of the solved cases' evidence (``src/raredx/match/weights.json``).

    python benchmarks/fit_match.py [../shared/data/phenopacket-store/dev-phenopackets.zip] [--out benchmarks/results]

Only *unseen* cases select the weights: cases whose publication no phenotype annotation of their true disease
cites (a new patient's situation); every case stays in the registry they are matched against. Cohorts (the folders
of the collection) are split into five folds, never one cohort across two (``fit_ranker.cohort_folds``); for each
fold the grid point best on the other four is chosen and judged on it, and the figures reported are those held-out
judgements. The shipped weights are the grid points best on all unseen cases.

- Matching: the grid over the weights of :class:`raredx.match.MatchWeights` is judged by the mean reciprocal rank
  of the first case of the same disease, cross-publication (no case of the query's publication may match).
- Solved cases: the grid over :class:`raredx.match.SolvedWeights` is judged by the masked top-1 of the differential
  with the evidence of the other cases' diagnoses (never the case's family), averaged over the cases whose disease
  the cases whose disease another case has, cross-publication (no case of the query's publication counts, so that
  many cases have no solved case of their disease), among the grid points that lower the top-1 of the cases whose
  disease no other case has by at most TOLERANCE.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fit_ranker import cohort_folds

from raredx import RareDx
from raredx.benchmark._match import (
    CaseSet,
    MatchBenchmarkOptions,
    diff_metrics,
    load_cases,
    rank_matches,
    rank_with_solved,
)
from raredx.match import MatchWeights, SolvedWeights
from raredx.match._index import WEIGHTS_FILE

# contradiction >= 0.05: excluded findings the other patient shows always count against a match (a clinician
# expects it); on the development cases alone 0 was best (a first run of this script), by little
MATCH_GRID = {"contradiction": (0.05, 0.1, 0.3), "differential": (0.3, 0.6, 1.0), "onset": (0.0, 0.02, 0.05),
              "sex": (0.0, 0.02)}
# a first run over weight 4..32, min_similarity 0.3..0.6: every point lowered the cases without a solved case of
# their disease by 4 points or more; the evidence must come from close neighbours only
SOLVED_GRID = {"weight": (0.5, 1.0, 1.5, 2.0, 3.0), "neighbours": (10, 20),
               "min_similarity": (0.5, 0.6, 0.7, 0.8), "within": (10, 30)}
TOLERANCE = 0.005  # how much the cases whose disease no other case has may lose, in top-1


def grid(spec: dict[str, tuple[float, ...]]) -> list[dict[str, float]]:
    return [dict(zip(spec, values)) for values in itertools.product(*spec.values())]


def cv_choose(table: np.ndarray, folds: np.ndarray, objective) -> tuple[list[int], int]:  # type: ignore[no-untyped-def]
    """``table``: (grid points, cases) per-case values; ``objective(values, mask)`` -> higher is better. The grid
    point chosen for each fold (on the others) and the one chosen on all cases."""
    chosen = []
    for k in np.unique(folds):
        train = folds != k
        chosen.append(int(np.argmax([objective(row, train) for row in table])))
    return chosen, int(np.argmax([objective(row, np.ones(len(folds), bool)) for row in table]))


def fit_matching(cs: CaseSet, unseen: list[int]) -> tuple[MatchWeights, str]:
    options = MatchBenchmarkOptions(cross_publication=True)
    points = grid(MATCH_GRID)
    rows = None
    ranks = []
    for p in points:
        cs.index.weights = MatchWeights(**p, genes=1.0)
        found = rank_matches(cs, options, unseen)
        rows = [m.row for m in found]
        ranks.append([m.rank for m in found])
    table = 1.0 / np.array(ranks, float)
    folds = cohort_folds([cs.cohort[r] for r in rows or []])
    chosen, final = cv_choose(table, folds, lambda row, mask: row[mask].mean())
    held = np.concatenate([np.array(ranks)[c][folds == k] for k, c in zip(np.unique(folds), chosen)])
    rr = np.concatenate([table[c][folds == k] for k, c in zip(np.unique(folds), chosen)])
    lines = [f"Matching, cross-publication, {len(rows or [])} unseen queries: held-out p_at_1 "
             f"{np.mean(held == 1):.4f}, hit_at_5 {np.mean(held <= 5):.4f}, MRR {rr.mean():.4f} "
             f"(each fold's grid point chosen on the others: {[points[c] for c in chosen]}); "
             f"shipped {points[final]}."]
    return MatchWeights(**points[final], genes=1.0), "\n".join(lines)


def _solved(p: dict[str, float]) -> SolvedWeights:
    return SolvedWeights(p["weight"], int(p["neighbours"]), p["min_similarity"], int(p["within"]))


def fit_solved(cs: CaseSet, unseen: list[int]) -> tuple[SolvedWeights, str]:
    options = MatchBenchmarkOptions(cross_publication=True)
    index = cs.index
    scores = {r: index.parts(index.vectors[r])["score"] for r in unseen}
    points = grid(SOLVED_GRID)
    top1, has = [], None
    base = None
    for p in points:
        rows = rank_with_solved(cs, options, _solved(p), unseen, scores)
        top1.append([d.casebased_rank == 1 for d in rows])
        has = np.array([d.has_solved for d in rows])
        base = rows
    table = np.array(top1, float)
    folds = cohort_folds([cs.cohort[d.row] for d in base or []])

    plain = np.array([d.rank == 1 for d in base or []], float)

    def guarded(row: np.ndarray, mask: np.ndarray) -> float:
        """Top-1 of the cases whose disease another case has, less ten times what those whose disease none has
        lose beyond TOLERANCE."""
        a, b, b0 = row[mask & has], row[mask & ~has], plain[mask & ~has]
        lost = float(b0.mean() - b.mean()) if len(b) else 0.0
        return float(a.mean() if len(a) else 0.0) - 10.0 * max(0.0, lost - TOLERANCE)

    chosen, final = cv_choose(table, folds, guarded)
    held = np.zeros(len(folds))
    for k, c in zip(np.unique(folds), chosen):
        held[folds == k] = table[c][folds == k]
    text = (f"Solved cases, {len(folds)} unseen cases (cross-publication: the case's publication, hence its family, "
            f"excluded): held-out masked top-1 with the "
            f"solved cases' evidence {held[has].mean():.4f} for the {int(has.sum())} whose disease another case has "
            f"(without: {plain[has].mean():.4f}), {held[~has].mean() if (~has).any() else 0:.4f} for the "
            f"{int((~has).sum())} whose disease none has (without: {plain[~has].mean() if (~has).any() else 0:.4f}); "
            f"each fold's grid point chosen on the others: {[points[c] for c in chosen]}; shipped {points[final]}.")
    return _solved(points[final]), text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("phenopackets", nargs="?", type=Path,
                    default=Path("../shared/data/phenopacket-store/dev-phenopackets.zip"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--solved-only", action="store_true", help="keep the shipped matching weights; fit the rest")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rdx = RareDx.load()
    cs = load_cases(rdx.engine, args.phenopackets)
    unseen = [r for r in range(cs.index.n) if cs.subset[r] == "unseen" and cs.truth[r]]
    if args.solved_only:
        match = MatchWeights.fitted()
        previous = (args.out / "match_fit.md").read_text() if (args.out / "match_fit.md").exists() else ""
        match_text = next((line[2:] for line in previous.splitlines() if line.startswith("- Matching")),
                          f"Matching: the shipped weights {match}.")
    else:
        match, match_text = fit_matching(cs, unseen)
    print(match_text, flush=True)
    cs.index.weights = match
    solved, solved_text = fit_solved(cs, unseen)
    print(solved_text, flush=True)
    import json

    target = Path(__file__).resolve().parents[1] / "src" / "raredx" / "match" / WEIGHTS_FILE
    target.write_text(json.dumps({
        "description": f"fitted by benchmarks/fit_match.py on the unseen cases of {args.phenopackets.name}; "
                       f"{rdx.kb.version}",
        "match": {k: getattr(match, k) for k in ("contradiction", "differential", "onset", "sex", "genes")},
        "solved": {"weight": solved.weight, "neighbours": solved.neighbours, "min_similarity": solved.min_similarity,
                   "within": solved.within},
    }, indent=1) + "\n")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "match_fit.md").write_text(
        f"# Matching and solved-case weights, cohort-grouped 5-fold cross-validation\n\n"
        f"    python benchmarks/fit_match.py {args.phenopackets}\n\n{rdx.kb.version}. Selected on unseen cases "
        f"only; every figure below is for cohorts whose fold the choice did not see.\n\n- {match_text}\n- "
        f"{solved_text}\n")
    print(f"wrote {target} in {time.perf_counter() - t0:.0f} s")
    _ = replace, diff_metrics
    return 0


if __name__ == "__main__":
    sys.exit(main())
