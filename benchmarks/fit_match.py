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
from scipy.optimize import minimize

from raredx import RareDx
from raredx.benchmark._match import (
    CaseSet,
    MatchBenchmarkOptions,
    diff_metrics,
    load_cases,
    rank_matches,
    rank_with_solved,
)
from raredx.match import MatchWeights, SolvedWeights, top_rows
from raredx.match._index import WEIGHTS_FILE
from raredx.match._rerank import CANDIDATES, FEATURE_SIGNS, PAIR_FEATURES, RERANKER_FILE, RerankModel, pair_features

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


# ridge penalty of the re-ranker's conditional logit. Tried by held-out folds (unseen queries' p_at_1): squared
# features too (0.511, but U-shaped in the phenotype part: a pair sharing nothing ranked above a close one), L2 10
# (0.508), 100 candidates (0.506), a pointwise gradient-boosted model (0.475), every directed feature held to its
# sign (0.451); all below, or not robust.
RERANK_L2 = 1.0


def rerank_table(cs: CaseSet) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cross-publication queries (every case with a case of its disease in another publication): the first
    stage's CANDIDATES best for each, their :data:`PAIR_FEATURES` (queries, CANDIDATES, features), same
    disease or not, whether the slot holds a candidate, the candidates' rows, and the query rows."""
    index = cs.index
    saved, index.reranker = index.reranker, None
    disease = np.array(cs.disease, dtype=object)
    xs, ys, rs, qs = [], [], [], []
    for r in range(index.n):
        if not disease[r]:
            continue
        exclude = index.excluded_rows(r, cross_publication=True)
        same = (disease == disease[r]) & ~exclude
        if not same.any():
            continue
        parts = index.parts(index.vectors[r])
        parts["score"][exclude] = -np.inf
        rows = top_rows(parts["score"], CANDIDATES)
        xs.append(pair_features(index, index.vectors[r], rows, parts))
        ys.append(same[rows])
        rs.append(rows)
        qs.append(r)
    index.reranker = saved
    n, d = len(qs), len(PAIR_FEATURES)
    x, y = np.zeros((n, CANDIDATES, d)), np.zeros((n, CANDIDATES), bool)
    valid, cand = np.zeros((n, CANDIDATES), bool), np.zeros((n, CANDIDATES), np.int64)
    for i, (a, b, c) in enumerate(zip(xs, ys, rs)):
        x[i, : len(a)], y[i, : len(b)], valid[i, : len(c)], cand[i, : len(c)] = a, b, True, c
    return x, y, valid, cand, np.array(qs)


def fit_rerank_model(x: np.ndarray, y: np.ndarray, valid: np.ndarray) -> RerankModel:
    """The conditional logit (softmax over each query's candidates and a "none of them" option), each weight
    held to its :data:`FEATURE_SIGNS` direction."""
    flat = x[valid]
    mean, scale = flat.mean(0), flat.std(0) + 1e-6
    z = (x - mean) / scale
    b = np.where(valid[..., None], z, 0.0)
    k, d = x.shape[1], b.shape[2]
    t = np.concatenate([y & valid, ~(y & valid).any(1, keepdims=True)], 1).astype(float)
    t /= t.sum(1, keepdims=True)

    def loss(wb: np.ndarray) -> tuple[float, np.ndarray]:
        w, c = wb[:d], wb[d]
        s = np.concatenate([np.where(valid, b @ w, -np.inf), np.full((len(b), 1), c)], 1)
        s -= s.max(1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(1, keepdims=True)
        r = t - p
        grad = np.r_[-np.einsum("nk,nkd->d", r[:, :k], b) + 2 * RERANK_L2 * w, -r[:, k].sum()]
        return float(-(t * np.log(p + 1e-300)).sum() + RERANK_L2 * w @ w), grad

    signs = [FEATURE_SIGNS.get(f, 0) for f in PAIR_FEATURES]
    bounds = [(0, None) if g > 0 else (None, 0) if g < 0 else (None, None) for g in signs]
    res = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)],
                   options={"maxiter": 500})
    return RerankModel(PAIR_FEATURES, mean, scale, res.x[:d])


def _first_rank(score: np.ndarray, same: np.ndarray, valid: np.ndarray) -> int:
    if not (same & valid).any():
        return 0
    best = score[same & valid].max()
    return int(np.count_nonzero(valid & (score > best)) + np.count_nonzero(valid & (score == best) & ~same) + 1)


def fit_reranker(cs: CaseSet, description: str) -> tuple[RerankModel, str]:
    """Cohort-grouped 5-fold cross-validation of the re-ranker (a fold's cohorts are neither queries nor
    candidates while the others train it); the figures are held-out ranks; the calibration (logistic, on
    "same disease" per candidate) is fitted on the held-out logits; the shipped model is fitted on all."""
    x, y, valid, cand, queries = rerank_table(cs)
    case_fold = cohort_folds(cs.cohort)
    qfold = case_fold[queries]
    base = np.array([_first_rank(-np.arange(x.shape[1], dtype=float), y[i], valid[i]) for i in range(len(y))])
    held = np.zeros(len(y), np.int64)
    oof = np.zeros(y.shape)
    for k in np.unique(qfold):
        train = qfold != k
        ok = valid[train] & (case_fold[cand[train]] != k)
        model = fit_rerank_model(x[train], y[train] & ok, ok)
        oof[~train] = model.logits(x[~train])
        for i in np.flatnonzero(~train):
            held[i] = _first_rank(oof[i], y[i], valid[i])
    # beyond the candidates: the first stage's rank (as before), from rank_matches
    first = {m.row: m.rank for m in rank_matches(cs, MatchBenchmarkOptions(cross_publication=True),
                                                 queries.tolist())}
    beyond = np.array([first[int(q)] for q in queries])
    base = np.where(base > 0, base, beyond)
    held = np.where(held > 0, held, beyond)
    zz, hit = oof[valid], (y & valid)[valid].astype(float)

    def cal_loss(v: np.ndarray) -> float:
        p = np.clip(1 / (1 + np.exp(-(v[0] * zz + v[1]))), 1e-9, 1 - 1e-9)
        return float(-(hit * np.log(p) + (1 - hit) * np.log(1 - p)).sum())

    a, b = minimize(cal_loss, np.array([1.0, 0.0]), method="Nelder-Mead").x
    final = fit_rerank_model(x, y, valid)
    final = RerankModel(final.features, final.mean, final.scale, final.weights, (float(a), float(b)), description)
    unseen = np.array([cs.subset[q] == "unseen" for q in queries])

    def figures(r: np.ndarray) -> str:
        return f"p_at_1 {np.mean(r == 1):.4f}, hit_at_5 {np.mean(r <= 5):.4f}, MRR {np.mean(1 / r):.4f}"

    text = (f"Re-ranker (second stage, {CANDIDATES} candidates), cross-publication, held-out folds: "
            f"{int(unseen.sum())} unseen queries {figures(held[unseen])} (first stage alone: "
            f"{figures(base[unseen])}); all {len(held)} queries {figures(held)} (first stage alone: "
            f"{figures(base)}); calibration slope {a:.3f}, intercept {b:.3f}.")
    return final, text


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
    ap.add_argument("--reranker-only", action="store_true",
                    help="keep the shipped weights.json; fit the re-ranker (reranker.json) alone")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rdx = RareDx.load()
    cs = load_cases(rdx.engine, args.phenopackets)
    package = Path(__file__).resolve().parents[1] / "src" / "raredx" / "match"
    model, rerank_text = fit_reranker(cs, f"fitted by benchmarks/fit_match.py on {args.phenopackets.name}; "
                                          f"{rdx.kb.version}")
    print(rerank_text, flush=True)
    import json

    (package / RERANKER_FILE).write_text(json.dumps(model.to_json(), indent=1) + "\n")
    cs.index.reranker = model
    if args.reranker_only:
        report = args.out / "match_fit.md"
        lines = [ln for ln in report.read_text().splitlines() if not ln.startswith("- Re-ranker")]
        at = next(i for i, ln in enumerate(lines) if ln.startswith("- "))
        lines.insert(at, f"- {rerank_text}")
        report.write_text("\n".join(lines) + "\n")
        print(f"wrote {package / RERANKER_FILE} in {time.perf_counter() - t0:.0f} s")
        return 0
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
        f"{solved_text}\n- {rerank_text}\n")
    print(f"wrote {target} in {time.perf_counter() - t0:.0f} s")
    _ = replace, diff_metrics
    return 0


if __name__ == "__main__":
    sys.exit(main())
