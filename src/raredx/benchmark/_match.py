"""`raredx benchmark-match`: patients like this one, and solved cases as evidence, on a phenopacket collection.

Every case goes into one in-memory registry. Each case with another case of the same disease (the same knowledge-
base concept, else the same id) that it may match is a query: all the other cases are ranked, never the case itself
or its family (the same PMID and family id in the file name, ``PMID_123_Family_2_II_1.json``), and with
``cross_publication`` no case of its publication. By default cases match on phenotype, onset and sex alone (a
phenopacket's genomic interpretation names the causal gene); ``with_genes`` adds their genes, as a Matchmaker
Exchange query would. Each case's differential is the engine's with the annotations of its own publication left
out (what a new patient would get), for its match vector and for the masked top-1 / top-10 with and without the
evidence of the solved cases (the other cases' diagnoses, leave-one-out by the same exclusions).
"""

from __future__ import annotations

import csv
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

import numpy as np

from raredx.benchmark._runner import cited_pmids, subset_of
from raredx.engine import DiagnosisEngine
from raredx.errors import Problem, RaredxError
from raredx.genomics import Genotype, genotype_from_phenopacket
from raredx.io import case_from_phenopacket, diagnosis_ids, iter_phenopackets
from raredx.match import MatchIndex, MatchPatient, MatchWeights, SolvedWeights, solved_logits, vector_of
from raredx.match._index import _Vector
from raredx.match._solved import logit_of

_PMID = re.compile(r"PMID_?(\d+)", re.IGNORECASE)
_FAMILY = re.compile(r"(?:^|_)(?:family|fam)_?([A-Za-z0-9]+)|(?:^|_)F(\d+)(?=_|$)", re.IGNORECASE)


def family_of(source: str) -> tuple[str, str]:
    """(publication, family) of a phenopacket-store file name: ``PMID_30968594_Family_2_II_1.json`` is
    ("30968594", "30968594/2"); without a family id in the name the family is "" (the case alone)."""
    stem = PurePosixPath(source.split("!")[-1]).stem
    m = _PMID.search(stem)
    if not m:
        return "", ""
    rest = stem[m.end():]
    f = _FAMILY.search(rest)
    return m.group(1), (f"{m.group(1)}/{(f.group(1) or f.group(2)).lower()}" if f else "")


def cohort_of(source: str) -> str:
    """The phenopacket-store cohort of a file: its folder (``.../ARID2/PMID_1_P1.json`` is "ARID2")."""
    parts = PurePosixPath(source.split("!")[-1]).parts
    return parts[-2] if len(parts) > 1 else ""


@dataclass(frozen=True, slots=True)
class MatchBenchmarkOptions:
    cross_publication: bool = False
    with_genes: bool = False
    limit: int | None = None
    weights: MatchWeights | None = None
    solved: SolvedWeights | None = None


@dataclass
class CaseSet:
    """The cases of a collection, indexed: each one's disease key, true concepts, cohort, subset and masked
    differential."""

    index: MatchIndex
    disease: list[str]  # the disease key of each index row ("" without a diagnosis)
    truth: list[list[int]]  # concept indices of its diagnoses in the knowledge base
    true_id: list[str]
    cohort: list[str]
    subset: list[str]  # "cited" / "unseen"
    probability: list[np.ndarray]  # masked differential
    problems: list[Problem] = field(default_factory=list)
    n_read: int = 0


def load_cases(engine: DiagnosisEngine, phenopackets: str | Path, *, with_genes: bool = False,
               limit: int | None = None, weights: MatchWeights | None = None,
               on_case: Callable[[int], None] | None = None) -> CaseSet:
    """Read, prepare and rank (own publication masked) every case; index them all."""
    kb = engine.kb
    cited = cited_pmids(kb)
    patients: list[MatchPatient] = []
    vectors: list[_Vector] = []
    disease, truth, true_id, cohort, subset, probs = [], [], [], [], [], []
    problems: list[Problem] = []
    seen: Counter[str] = Counter()
    n = 0
    for n, rec in enumerate(iter_phenopackets(phenopackets, problems), 1):
        if limit is not None and n > limit:
            n -= 1
            break
        if on_case:
            on_case(n)
        try:
            case = case_from_phenopacket(rec.document, rec.source)
            if with_genes:
                genes = tuple(dict.fromkeys(v.gene for v in genotype_from_phenopacket(rec.document).variants))
                case = replace(case, genotype=Genotype(genes=genes) if genes else None)
            prepared = engine.prepare(case, strict=False)
            # the differential of the phenotype alone: the genes would name the disease
            p = engine.rank(replace(prepared, genotype=None), mask_source=True).probability
        except RaredxError as exc:
            problems.append(Problem(rec.source, "", str(exc)))
            continue
        ids = diagnosis_ids(rec.document)
        concepts = [c.index for c in (kb.concept(t) for t in ids) if c is not None]
        key = case.id if not seen[case.id] else f"{case.id}#{seen[case.id]}"
        seen[case.id] += 1
        pub, fam = family_of(rec.source)
        pub = pub or ",".join(map(str, case.source_pmids))
        patients.append(MatchPatient(key, case, family=fam, publication=pub,
                                     diagnoses=tuple(kb.concepts[c].ids[0] for c in concepts[:1]) or tuple(ids[:1])))
        vectors.append(vector_of(engine, prepared, p))
        disease.append(f"c{concepts[0]}" if concepts else (ids[0] if ids else ""))
        truth.append(concepts)
        true_id.append(ids[0] if ids else "")
        cohort.append(cohort_of(rec.source))
        subset.append(subset_of(cited, concepts, case.source_pmids))
        probs.append(p)
    index = MatchIndex(engine, patients, vectors, weights)
    return CaseSet(index, disease, truth, true_id, cohort, subset, probs, problems, n)


@dataclass(frozen=True, slots=True)
class MatchRow:
    row: int
    rank: int  # of the first case of the same disease (pessimistic among ties)
    top: int  # row of the first match
    seconds: float


def rank_matches(cs: CaseSet, options: MatchBenchmarkOptions, rows: list[int] | None = None) -> list[MatchRow]:
    """Every query's rank of the first case of its disease (``rows``: only these queries)."""
    index, disease = cs.index, np.array(cs.disease, dtype=object)
    out = []
    for r in range(index.n) if rows is None else rows:
        if not disease[r]:
            continue
        exclude = index.excluded_rows(r, cross_publication=options.cross_publication)
        same = (disease == disease[r]) & ~exclude
        if not same.any():
            continue
        t0 = time.perf_counter()
        rows_, final, parts = index.ranked(index.vectors[r], with_genes=options.with_genes, exclude=exclude)
        hit = same[rows_]
        if hit.any():  # among the re-ranked candidates (pessimistic among ties)
            best = float(final[hit].max())
            rank = int(np.count_nonzero(final > best) + np.count_nonzero((final == best) & ~hit) + 1)
        else:  # beyond them: the first stage's order
            score = parts["score"]
            best = float(score[same].max())
            rank = int(np.count_nonzero(score > best) + np.count_nonzero((score == best) & ~same) + 1)
        out.append(MatchRow(r, rank, int(rows_[0]), time.perf_counter() - t0))
    return out


@dataclass(frozen=True, slots=True)
class DiffRow:
    row: int
    rank: int  # masked, knowledge base alone
    casebased_rank: int  # with the solved cases' evidence
    has_solved: bool  # another case of its disease may count


def rank_with_solved(cs: CaseSet, options: MatchBenchmarkOptions, solved: SolvedWeights,
                     rows: list[int] | None = None, scores: dict[int, np.ndarray] | None = None) -> list[DiffRow]:
    """Masked ranks of the true disease without and with the solved cases (leave-one-out: the case, its family,
    with ``cross_publication`` its publication never count). ``scores``: match scores computed before, by row."""
    index = cs.index
    out = []
    for r in range(index.n) if rows is None else rows:
        truth = cs.truth[r]
        if not truth:
            continue
        exclude = index.excluded_rows(r, cross_publication=options.cross_publication)
        if scores is not None and r in scores:
            score = scores[r].copy()
        else:
            score = index.parts(index.vectors[r], with_genes=options.with_genes)["score"]
        score[exclude] = -np.inf
        p = cs.probability[r]
        hits = solved_logits(index, score, solved, p)
        logit = np.zeros(len(p))
        for c, h in hits.items():
            logit[c] = logit_of(h, solved)
        q = p * np.exp(logit - logit.max())
        has = bool(np.isin(index.diagnosis[~exclude], truth).any())
        out.append(DiffRow(r, min(_rank(p, c) for c in truth), min(_rank(q, c) for c in truth), has))
    return out


def _rank(p: np.ndarray, c: int) -> int:
    return int(np.count_nonzero(p > p[c]) + np.count_nonzero(p == p[c]))


def _share(ranks: list[int], k: int) -> float:
    return round(float(np.mean(np.array(ranks) <= k)), 4) if ranks else 0.0


def match_metrics(rows: list[MatchRow]) -> dict[str, object]:
    ranks = [m.rank for m in rows]
    return {
        "n_evaluated": len(rows), "p_at_1": _share(ranks, 1), "hit_at_5": _share(ranks, 5),
        "hit_at_10": _share(ranks, 10),
        "mrr": round(float(np.mean(1 / np.array(ranks))), 4) if ranks else 0.0,
        "seconds_per_query_median": round(statistics.median(m.seconds for m in rows), 6) if rows else None,
    }


def diff_metrics(rows: list[DiffRow]) -> dict[str, object]:
    a, b = [d.rank for d in rows], [d.casebased_rank for d in rows]
    return {"n": len(rows), "masked_top1": _share(a, 1), "masked_top10": _share(a, 10),
            "casebased_masked_top1": _share(b, 1), "casebased_masked_top10": _share(b, 10)}


def run_match_benchmark(engine: DiagnosisEngine, phenopackets: str | Path, out_dir: str | Path,
                        options: MatchBenchmarkOptions = MatchBenchmarkOptions(), *,
                        on_case: Callable[[int], None] | None = None) -> dict[str, object]:
    """Run the benchmark (module docstring); writes summary.json and matches.tsv into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    cs = load_cases(engine, phenopackets, with_genes=options.with_genes, limit=options.limit,
                    weights=options.weights, on_case=on_case)
    t_load = time.perf_counter() - t0
    rows = rank_matches(cs, options)
    solved = options.solved or SolvedWeights.fitted()
    diff = rank_with_solved(cs, options, solved)
    index = cs.index
    summary: dict[str, object] = {
        "n_cases": index.n, **match_metrics(rows),
        **{k: v for k, v in diff_metrics(diff).items() if k != "n"}, "n_differential": len(diff),
        "cross_publication": options.cross_publication, "with_genes": options.with_genes,
        "n_read": cs.n_read, "n_skipped": cs.n_read - index.n,
        "casebased_subsets": {"with_solved": diff_metrics([d for d in diff if d.has_solved]),
                              "without_solved": diff_metrics([d for d in diff if not d.has_solved]),
                              "unseen": diff_metrics([d for d in diff if cs.subset[d.row] == "unseen"])},
        "weights": {"match": _plain(index.weights), "solved": _plain(solved)},
        "kb_version": engine.kb.version, "phenopackets": str(phenopackets),
        "seconds_loading_and_ranking_cases": round(t_load, 3),
        "seconds_total": round(time.perf_counter() - t0, 3),
    }
    if options.with_genes:
        summary["phenotype_only"] = match_metrics(rank_matches(cs, replace(options, with_genes=False)))
    with open(out / "matches.tsv", "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(["case_id", "true_id", "rank", "top_match_id", "top_match_true_id"])
        for m in rows:
            w.writerow([index.patients[m.row].key, cs.true_id[m.row], m.rank, index.patients[m.top].key,
                        cs.true_id[m.top]])
    with open(out / "skipped.tsv", "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(["source", "reason"])
        for p in cs.problems:
            w.writerow([p.record, p.reason])
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _plain(value: object) -> dict[str, object]:
    return {k: getattr(value, k) for k in value.__dataclass_fields__}  # type: ignore[attr-defined]
