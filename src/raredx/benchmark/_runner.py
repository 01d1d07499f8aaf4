"""`raredx benchmark`: rank every case of a phenopacket collection and summarise where the truth lands.

Every case is also put in a subset: ``cited`` when one of its publications (``metaData.externalReferences``) is
among the references of its true disease's phenotype annotations, so that the knowledge base was curated from
this very patient, else ``unseen`` (a new patient's situation). summary.json has the metrics of the whole run
and of each subset; ranks.tsv says which subset each case is in; calibration.png is the reliability diagram of
the first-ranked disease's probability.
"""

from __future__ import annotations

import csv
import json
import logging
import statistics
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from raredx.engine import DiagnosisEngine
from raredx.engine._case import Case
from raredx.errors import Problem, RaredxError
from raredx.genomics import Genotype, genotype_from_phenopacket
from raredx.io import case_from_phenopacket, diagnosis_ids, iter_phenopackets
from raredx.kb import KnowledgeBase

log = logging.getLogger(__name__)

SUBSETS = ("cited", "unseen")


@dataclass(frozen=True, slots=True)
class BenchmarkOptions:
    """``mask_source``: leave out annotations whose only reference is the case's own publication.
    ``candidate_genes=N``: each case also gets candidate genes, its causal gene(s) (from its
    genomicInterpretations) plus N decoys drawn reproducibly (``seed`` and the case's file name) from all genes
    with a disease link, approximating an exome with N genes carrying rare damaging variants."""

    mask_source: bool = False
    limit: int | None = None
    candidate_genes: int | None = None
    seed: int = 0


@dataclass(frozen=True, slots=True)
class CaseRank:
    case_id: str
    true_id: str
    rank: int
    n_observed: int
    n_excluded: int
    seconds: float
    probability: float  # the calibrated probability given to the true disease
    top1_probability: float  # the probability of the disease ranked first
    subset: str = "unseen"  # "cited" or "unseen"
    gene_rank: int | None = None  # with candidate genes: the rank of the causal gene


def pessimistic_rank(scores: np.ndarray, truth: int) -> int:
    """1 + diseases strictly better + other diseases tied with the truth."""
    s = scores[truth]
    return int(1 + np.count_nonzero(scores > s) + np.count_nonzero(scores == s) - 1)


def cited_pmids(kb: KnowledgeBase) -> dict[int, set[int]]:
    """Concept index -> the PubMed ids its phenotype annotations cite (NOT annotations included)."""
    out: dict[int, set[int]] = {}
    for c, pmid in kb.annotations.concept_pmids().T.tolist():
        out.setdefault(c, set()).add(pmid)
    return out


def subset_of(cited: dict[int, set[int]], truth: list[int], pmids: tuple[int, ...]) -> str:
    """A case's subset: "cited" when one of its publications is a reference of its true disease's annotations,
    else "unseen" (``cited``: :func:`cited_pmids`)."""
    return "cited" if any(p in cited.get(c, ()) for c in truth for p in pmids) else "unseen"


class _Run:
    """One benchmark run: the cases ranked so far and the ones skipped, with why."""

    def __init__(self, engine: DiagnosisEngine, options: BenchmarkOptions) -> None:
        self.engine = engine
        self.options = options
        self.cited = cited_pmids(engine.kb)
        self.results: list[CaseRank] = []
        self.not_in_kb: list[tuple[str, str]] = []
        self.problems: list[Problem] = []
        self.no_gene = 0
        self.gene_pool = sorted(engine.genotype_scorer.concepts_of_gene)

    def add(self, source: str, document: dict[str, object]) -> None:
        kb = self.engine.kb
        truths = diagnosis_ids(document)
        concepts = [c.index for c in (kb.concept(t) for t in truths) if c is not None]
        if not concepts:
            self.not_in_kb.append((source, ",".join(truths) or "(no diagnosis)"))
            return
        try:
            case, causal = self._case(source, document)
            t0 = time.perf_counter()
            prepared = self.engine.prepare(case, strict=False)
            ranking = self.engine.rank(prepared, mask_source=self.options.mask_source)
            rank, best = min((ranking.rank_of(c), c) for c in concepts)
            seconds = time.perf_counter() - t0
        except RaredxError as exc:
            self.problems.append(Problem(source, "", str(exc)))
            return
        p = ranking.probability
        subset = subset_of(self.cited, concepts, case.source_pmids)
        self.results.append(CaseRank(
            case.id, truths[0] if len(truths) == 1 else kb.concepts[best].ids[0], rank, len(prepared.observed_all),
            len(prepared.excluded), seconds, float(p[best]), float(p.max()), subset,
            self._gene_rank(case, causal, p),
        ))

    def _case(self, source: str, document: dict[str, object]) -> tuple[Case, list[str]]:
        case = case_from_phenopacket(document, source)
        if self.options.candidate_genes is None:
            return case, []
        causal = list(dict.fromkeys(v.gene for v in genotype_from_phenopacket(document).variants))
        decoys = _decoys(self.gene_pool, causal, self.options.candidate_genes, self.options.seed, source)
        return replace(case, genotype=Genotype(genes=tuple(causal) + decoys)), causal

    def _gene_rank(self, case: Case, causal: list[str], probability: np.ndarray) -> int | None:
        if self.options.candidate_genes is None or case.genotype is None:
            return None
        if not causal:
            self.no_gene += 1
            return None
        of_gene = self.engine.genotype_scorer.concepts_of_gene
        gene_p = np.array([probability[of_gene.get(g, [])].max(initial=-1.0) for g in case.genotype.genes])
        return min(pessimistic_rank(gene_p, i) for i in range(len(causal)))


def run_benchmark(
    engine: DiagnosisEngine,
    phenopackets: str | Path,
    out_dir: str | Path,
    options: BenchmarkOptions = BenchmarkOptions(),
    *,
    on_case: Callable[[int], None] | None = None,
    started: float | None = None,
) -> dict[str, object]:
    """Benchmark ``engine`` on a ZIP or directory of phenopackets; writes summary.json, ranks.tsv, skipped.tsv
    and calibration.png into ``out_dir``. ``started``: a ``time.perf_counter()`` taken before the knowledge
    base was loaded, for the wall time including the load."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    run = _Run(engine, options)
    t_start = time.perf_counter()
    problems: list[Problem] = []
    for n, rec in enumerate(iter_phenopackets(phenopackets, problems)):
        if options.limit is not None and n >= options.limit:
            break
        if on_case:
            on_case(n)
        run.add(rec.source, rec.document)
    run.problems[:0] = problems
    summary = _summary(run, phenopackets, time.perf_counter() - t_start)
    if started is not None:
        summary["seconds_wall_including_load"] = round(time.perf_counter() - started, 3)
    _write_ranks(out / "ranks.tsv", run.results)
    _write_skipped(out / "skipped.tsv", run)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    from raredx.benchmark._calibration import reliability_diagram

    reliability_diagram(run.results, out / "calibration.png", title=f"{Path(phenopackets).name}"
                        f"{', publication masked' if options.mask_source else ''}")
    return summary


def _summary(run: _Run, phenopackets: str | Path, seconds: float) -> dict[str, object]:
    o = run.options
    summary = summarise(run.results, seconds)
    summary.update(
        n_skipped=len(run.not_in_kb) + len(run.problems), n_skipped_not_in_kb=len(run.not_in_kb),
        n_skipped_unusable=len(run.problems), n_ranked=run.engine.n_ranked, kb_version=run.engine.kb.version,
        masked=o.mask_source, phenopackets=str(phenopackets),
    )
    if o.candidate_genes is not None:
        g = np.array([r.gene_rank for r in run.results if r.gene_rank is not None], dtype=float)
        summary.update(candidate_genes=o.candidate_genes, seed=o.seed, n_gene_cases=len(g),
                       n_skipped_gene_metrics=run.no_gene, **{k: _share(g, v) for k, v in
                       (("gene_top1", 1), ("gene_top3", 3), ("gene_top10", 10))},
                       gene_mrr=round(float(np.mean(1 / g)), 4) if len(g) else 0.0)
    summary["subsets"] = {s: summarise([r for r in run.results if r.subset == s], None) for s in SUBSETS}
    return summary


def _share(ranks: np.ndarray, k: int) -> float:
    return round(float(np.mean(ranks <= k)), 4) if len(ranks) else 0.0


def _write_ranks(path: Path, results: list[CaseRank]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(["case_id", "true_id", "rank", "n_observed", "n_excluded", "seconds", "probability",
                    "top1_probability", "subset"])
        for r in results:
            w.writerow([r.case_id, r.true_id, r.rank, r.n_observed, r.n_excluded, f"{r.seconds:.6f}",
                        f"{r.probability:.6g}", f"{r.top1_probability:.6g}", r.subset])


def _write_skipped(path: Path, run: _Run) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(["source", "reason"])
        for src, ids in run.not_in_kb:
            w.writerow([src, f"true disease {ids} not in the knowledge base"])
        for p in run.problems:
            w.writerow([p.record, p.reason])


def _decoys(pool: list[str], causal: list[str], n: int, seed: int, source: str) -> tuple[str, ...]:
    rng = np.random.default_rng([seed, zlib.crc32(Path(source.split("!")[-1]).name.encode())])
    candidates = [g for g in pool if g not in causal]
    return tuple(rng.choice(candidates, size=min(n, len(candidates)), replace=False).tolist())


def calibration_error(confidence: np.ndarray, hit: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the bins' share times |mean confidence - accuracy|, ten equal-width bins."""
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    return float(sum(np.mean(which == b) * abs(confidence[which == b].mean() - hit[which == b].mean())
                     for b in range(bins) if np.any(which == b)))


def summarise(results: list[CaseRank], seconds_total: float | None) -> dict[str, object]:
    """Top-k accuracy, MRR, speed and the calibration of the first-ranked disease's probability."""
    n = len(results)
    ranks = np.array([r.rank for r in results], dtype=float)
    conf = np.array([r.top1_probability for r in results])
    truth_p = np.array([r.probability for r in results])
    seconds = [r.seconds for r in results]
    out: dict[str, object] = {
        "n_cases": n, **{f"top{k}": _share(ranks, k) for k in (1, 3, 5, 10)},
        "mrr": round(float(np.mean(1.0 / ranks)), 4) if n else 0.0,
        "median_rank": float(np.median(ranks)) if n else None,
        "seconds_per_case_median": round(statistics.median(seconds), 6) if n else None,
        "seconds_per_case_p95": round(float(np.percentile(seconds, 95)), 6) if n else None,
        "mean_probability_of_truth": round(float(truth_p.mean()), 4) if n else None,
        "mean_top1_probability": round(float(conf.mean()), 4) if n else None,
        "top1_calibration_error": round(calibration_error(conf, ranks == 1), 4) if n else None,
        "log_loss": round(float(-np.mean(np.log(np.maximum(truth_p, 1e-12)))), 4) if n else None,
    }
    if seconds_total is not None:
        out["seconds_total"] = round(seconds_total, 3)
    return out
