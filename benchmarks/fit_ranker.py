"""Fit the second stage (``src/raredx/engine/ranker.json``) on the development phenopackets.

    python benchmarks/fit_ranker.py [../shared/data/phenopacket-store/dev-phenopackets.zip] [--out benchmarks/results]

Only *unseen* cases train and select it: cases whose publication no phenotype annotation of their true disease
cites, so that their disease's knowledge was curated without them (a new patient's situation). Cohorts (the
folders of the collection) are split into five folds, never one cohort across two; the weight of the
first-stage score is chosen by an inner cross-validation on the training folds, and every reported number is
for folds the model never saw: unseen cases unmasked, and all cases unmasked and with their publication masked
as checks. The final model is fitted on all unseen cases. Reproducible: no randomness, the same data give the
same file. Writes ``ranker.json`` into the package and ``ranker.md`` (the fold-out table) into ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from raredx import RareDx, config
from raredx.benchmark import CaseRank, cited_pmids, subset_of
from raredx.benchmark._calibration import reliability_diagram
from raredx.engine import DiagnosisEngine, PreparedCase, RankerModel
from raredx.engine._features import FEATURES
from raredx.engine._ranker import RANKER_FILE, calibration_inputs, softmax_with_outside
from raredx.errors import RaredxError
from raredx.io import case_from_phenopacket, diagnosis_ids, iter_phenopackets

CANDIDATES = 100
FOLDS = 5
ALPHAS = (0.2, 0.4, 0.7)  # weight of the first-stage score next to the learned correction
L2 = 1.0
# features the model reads, with the sign a clinician expects of their weight (+1: may only help, -1: may only
# hurt, 0: either). Nothing about excluded findings: their only clinically sound direction is against a disease,
# which the first stage already counts, and a free weight learns how published tables are written instead.
FEATURE_SIGNS: dict[str, int] = {
    "score": 1, "score_gap": 1, "position": -1, "explained": 1, "share_exact": 1, "ic_exact": 1,
    "frequent_present": 1, "frequent_ic_present": 1, "all_present": 1, "systems_covered": 1,
    "frequent_systems_covered": 1, "mean_frequency": 1, "onset": 1, "background": -1, "n_annotations": 0,
    "n_publications": 0, "n_genes": 0, "has_omim": 0, "has_orpha": 0, "share_ancestor": 0, "ancestor_explained": 0,
    "ic_more_specific": 0, "share_more_specific": 0, "best_term": 0, "closure_size": 0, "n_frequent": 0,
    "n_broader": 0, "n_from_name": 0, "dominant": 0, "recessive": 0, "x_linked": 0, "mitochondrial": 0,
    "onset_known": 0,
}


@dataclass
class Data:
    """Per case: candidate features (unmasked, masked), which candidate is the truth, first-stage rank."""

    x: np.ndarray  # (cases, K, features), unmasked
    y: np.ndarray  # (cases, K) bool
    rank: np.ndarray  # first-stage rank of the truth, unmasked
    xm: np.ndarray  # masked
    ym: np.ndarray
    rankm: np.ndarray
    cited: np.ndarray  # bool per case
    fold: np.ndarray  # int per case


@dataclass(frozen=True)
class DevCase:
    case: PreparedCase
    truth: list[int]  # concept indices of the true disease
    subset: str  # "cited" or "unseen"
    cohort: str  # the collection's folder


def read_cases(engine: DiagnosisEngine, phenopackets: Path) -> list[DevCase]:
    """The usable cases of a collection (the true disease in the knowledge base, an observed phenotype)."""
    cited_by = cited_pmids(engine.kb)
    out = []
    for rec in iter_phenopackets(phenopackets, []):
        truth = [c.index for c in (engine.kb.concept(t) for t in diagnosis_ids(rec.document)) if c is not None]
        try:
            case = engine.prepare(case_from_phenopacket(rec.document, rec.source), strict=False)
        except RaredxError:
            continue
        if truth:
            out.append(DevCase(case, truth, subset_of(cited_by, truth, case.source_pmids),
                               rec.source.replace("!", "/").split("/")[-2]))
    return out


def rank_of_truth(scores: np.ndarray, truth: list[int]) -> int:
    return min(1 + int(np.count_nonzero(scores > scores[t])) for t in truth)


def collect(engine: DiagnosisEngine, phenopackets: Path) -> Data:
    cases = read_cases(engine, phenopackets)
    parts: dict[str, list] = {k: [] for k in ("x", "y", "rank", "xm", "ym", "rankm")}
    for c in cases:
        for suffix, mask in (("", False), ("m", True)):
            first = engine.stage1(c.case, mask_source=mask)
            top, x = engine.candidates(c.case, first, CANDIDATES)
            parts["x" + suffix].append(x)
            parts["y" + suffix].append(np.isin(top, c.truth))
            parts["rank" + suffix].append(rank_of_truth(first.scores, c.truth))
    arr = {k: np.array(v) for k, v in parts.items()}
    return Data(arr["x"], arr["y"], arr["rank"].astype(float), arr["xm"], arr["ym"], arr["rankm"].astype(float),
                np.array([c.subset == "cited" for c in cases]), cohort_folds([c.cohort for c in cases]))


def cohort_folds(cohorts: list[str], k: int = FOLDS) -> np.ndarray:
    """Whole cohorts to folds, largest first, each to the smallest fold (ties by a hash of the name)."""
    size = Counter(cohorts)
    fold_of: dict[str, int] = {}
    load = [0] * k
    for c in sorted(size, key=lambda c: (-size[c], zlib.crc32(c.encode()))):
        fold_of[c] = j = int(np.argmin(load))
        load[j] += size[c]
    return np.array([fold_of[c] for c in cohorts])


# -- fitting ---------------------------------------------------------------------------------------
def _targets(y: np.ndarray) -> np.ndarray:
    t = np.concatenate([y, ~y.any(1, keepdims=True)], 1).astype(float)
    return t / t.sum(1, keepdims=True)


def fit_logit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Sign-constrained conditional logit over the candidates plus a "none of them" option."""
    _, k, d = x.shape
    t = _targets(y)
    bounds = [(0, None) if s > 0 else (None, 0) if s < 0 else (None, None) for s in FEATURE_SIGNS.values()]

    def loss(wb: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = wb[:d], wb[d]
        p = softmax_with_outside(x @ w, b)
        r = t - p
        grad = np.r_[-np.einsum("nk,nkd->d", r[:, :k], x) + 2 * L2 * w, -r[:, k].sum()]
        return float(-(t * np.log(p + 1e-300)).sum() + L2 * w @ w), grad

    res = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)])
    return res.x[:d], float(res.x[d])


def fit_temperature(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(temperature, outside logit) that make the first candidate's probability right most often (log loss)."""
    hit = y[np.arange(len(y)), z.argmax(1)]

    def loss(v: np.ndarray) -> float:
        p1 = np.clip(softmax_with_outside(z / np.exp(v[0]), v[1])[:, :-1].max(1), 1e-9, 1 - 1e-9)
        return float(-(hit * np.log(p1) + (1 - hit) * np.log(1 - p1)).sum())

    v = minimize(loss, np.zeros(2), method="Nelder-Mead").x
    return float(np.exp(v[0])), float(v[1])


def fit_calibration(z: np.ndarray, b: float, hit: np.ndarray) -> tuple[float, float, float]:
    """Logistic regression of "the first candidate is right" on its probability and margin."""
    a = calibration_inputs(softmax_with_outside(z, b)[:, :-1])

    def loss(v: np.ndarray) -> float:
        q = np.clip(1 / (1 + np.exp(-a @ v)), 1e-9, 1 - 1e-9)
        return float(-(hit * np.log(q) + (1 - hit) * np.log(1 - q)).sum() + 0.1 * v @ v)

    v = minimize(loss, np.array([1.0, 0.0, 0.0]), method="L-BFGS-B").x
    return float(v[0]), float(v[1]), float(v[2])


def fit_ranking(x: np.ndarray, y: np.ndarray, alpha: float) -> RankerModel:
    """The ranking part alone (weights; no calibration) from training cases (all :data:`FEATURES` columns)."""
    chosen = x[..., [FEATURES.index(f) for f in FEATURE_SIGNS]]
    flat = chosen.reshape(-1, chosen.shape[2])
    mean, scale = flat.mean(0), flat.std(0) + 1e-6
    w, _ = fit_logit((chosen - mean) / scale, y)
    return RankerModel(tuple(FEATURE_SIGNS), mean, scale, w, alpha, 0.0, (1.0, 0.0, 0.0), x.shape[1])


def fit(x: np.ndarray, y: np.ndarray, folds: np.ndarray, alpha: float) -> RankerModel:
    """The whole second stage from training cases (unmasked features of unseen cases). The probabilities are
    calibrated on out-of-fold logits (each case scored by a model fitted without its cohort's fold), since a
    model is more confident on the cases it was fitted to."""
    model = fit_ranking(x, y, alpha)
    oof = np.zeros(y.shape)
    for k in np.unique(folds):
        inner = folds != k
        oof[~inner] = _logits(fit_ranking(x[inner], y[inner], alpha), x[~inner])
    tau, b = fit_temperature(oof, y)
    hit = y[np.arange(len(y)), oof.argmax(1)].astype(float)
    cal = fit_calibration(oof / tau, b, hit)
    return RankerModel(model.features, model.mean, model.scale, model.weights / tau, alpha / tau, b, cal, x.shape[1])


def _logits(model: RankerModel, x: np.ndarray) -> np.ndarray:
    return model.logits(x, x[..., FEATURES.index("score")])


def evaluate(model: RankerModel, x: np.ndarray, y: np.ndarray, first_rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rank of the truth, calibrated probability of the first candidate) per case."""
    z = _logits(model, x)
    conf = model.first_probability(softmax_with_outside(z, model.outside)[:, :-1])
    rank = first_rank.copy()
    for i in np.flatnonzero(y.any(1)):
        rank[i] = 1 + np.count_nonzero(z[i] > z[i][y[i]].max())
    return rank, conf


def choose_alpha(d: Data, train: np.ndarray) -> float:
    """The score weight with the best mean reciprocal rank in an inner cohort-grouped CV of ``train``."""
    best = (-1.0, ALPHAS[0])
    for alpha in ALPHAS:
        rr = []
        for k in np.unique(d.fold[train]):
            inner, held = train & (d.fold != k), train & (d.fold == k)
            rank, _ = evaluate(fit_ranking(d.x[inner], d.y[inner], alpha), d.x[held], d.y[held], d.rank[held])
            rr.extend(1 / rank)
        best = max(best, (float(np.mean(rr)), alpha))
    return best[1]


def ece(conf: np.ndarray, hit: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the first candidate's probability (ten equal-width bins)."""
    edges = np.minimum((conf * bins).astype(int), bins - 1)
    return float(sum(np.mean(edges == b) * abs(conf[edges == b].mean() - hit[edges == b].mean())
                     for b in range(bins) if np.any(edges == b)))


def metrics(rank: np.ndarray, conf: np.ndarray | None = None) -> str:
    out = f"{np.mean(rank <= 1):.3f} | {np.mean(rank <= 10):.3f} | {np.mean(1 / rank):.3f}"
    return out + (f" | {ece(conf, rank == 1):.3f}" if conf is not None else "")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("phenopackets", nargs="?", type=Path, default=config.dev_phenopackets())
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    ap.add_argument("--features", type=Path, help="Keep the collected features in this .npz and reuse them.")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rdx = RareDx.load()
    engine = DiagnosisEngine(rdx.kb, rdx.engine.params, ranker=False)
    if args.features and args.features.exists():
        with np.load(args.features) as z:
            d = Data(**{k: z[k] for k in z.files})
    else:
        d = collect(engine, args.phenopackets)
        if args.features:
            np.savez(args.features, **vars(d))
    print(f"{len(d.cited)} cases ({int((~d.cited).sum())} unseen) in {time.perf_counter() - t0:.0f} s", flush=True)
    unseen = ~d.cited
    ranks = {m: np.zeros(len(d.cited)) for m in ("u", "m")}
    confs = {m: np.zeros(len(d.cited)) for m in ("u", "m")}
    alphas = []
    for k in range(FOLDS):
        train, held = unseen & (d.fold != k), d.fold == k
        alpha = choose_alpha(d, train)
        alphas.append(alpha)
        model = fit(d.x[train], d.y[train], d.fold[train], alpha)
        ranks["u"][held], confs["u"][held] = evaluate(model, d.x[held], d.y[held], d.rank[held])
        ranks["m"][held], confs["m"][held] = evaluate(model, d.xm[held], d.ym[held], d.rankm[held])
        print(f"fold {k}: score weight {alpha}", flush=True)
    alpha = choose_alpha(d, unseen)  # the same choice, by cross-validation over all unseen cases
    final = fit(d.x[unseen], d.y[unseen], d.fold[unseen], alpha)
    final = RankerModel(final.features, final.mean, final.scale, final.weights, final.score_weight, final.outside,
                        final.calibration, final.candidates,
                        f"fitted by benchmarks/fit_ranker.py on the {int(unseen.sum())} unseen cases of "
                        f"{args.phenopackets.name}; {engine.kb.version}")
    target = Path(__file__).resolve().parents[1] / "src" / "raredx" / "engine" / RANKER_FILE
    target.write_text(final.to_json())
    rows = [
        ("unseen, unmasked", d.rank[unseen], None, ranks["u"][unseen], confs["u"][unseen]),
        ("all, unmasked", d.rank, None, ranks["u"], confs["u"]),
        ("all, masked", d.rankm, None, ranks["m"], confs["m"]),
        ("cited, masked", d.rankm[d.cited], None, ranks["m"][d.cited], confs["m"][d.cited]),
    ]
    table = ["| cases | n | first stage top-1 | top-10 | MRR | both stages (fold-out) top-1 | top-10 | MRR | top-1 ECE |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r1, _, r2, c2 in rows:
        table.append(f"| {name} | {len(r1)} | {metrics(r1)} | {metrics(r2, c2)} |")
    text = "\n".join(table)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ranker.md").write_text(
        f"# Second stage, cohort-grouped {FOLDS}-fold cross-validation\n\n"
        f"    python benchmarks/fit_ranker.py {args.phenopackets}\n\n{engine.kb.version}; {CANDIDATES} candidates; "
        f"score weight per fold {alphas} (inner CV), final {alpha}. Trained on unseen cases only; every figure "
        f"is for cohorts the model did not see.\n\n{text}\n\nWeights (standardised features):\n\n"
        + "\n".join(f"- {f}: {w:+.3f}" for f, w in zip(final.features, final.weights)) + "\n")
    for mode, label in (("u", "unmasked"), ("m", "publication masked")):
        results = [CaseRank("", "", int(r), 0, 0, 0.0, 0.0, float(c), "cited" if cited else "unseen")
                   for r, c, cited in zip(ranks[mode], confs[mode], d.cited)]
        reliability_diagram(results, args.out / f"calibration-{'masked' if mode == 'm' else 'unmasked'}.png",
                            title=f"{args.phenopackets.name}, {label}, fold-out (cohorts the model did not see)")
    print(f"wrote {target} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
