"""Patients like this one (raredx.match), solved cases as evidence, and `raredx benchmark-match`, on the toy
knowledge base and the small phenopacket set tests/data/match (three diseases with several cases in several
publications, one family, one disease with a single case; see tests/data/README.md)."""

from __future__ import annotations

import csv
import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from raredx.benchmark import MatchBenchmarkOptions, family_of, run_match_benchmark
from raredx.benchmark._match import cohort_of, load_cases
from raredx.core import RareDx
from raredx.engine import Case
from raredx.errors import InputError
from raredx.genomics import Genotype
from raredx.match import MatchIndex, MatchPatient, MatchWeights, SolvedWeights, solved_case_evidence

MATCH = Path(__file__).resolve().parent / "data" / "match"
MARFAN = ("HP:0001166", "HP:0001083", "HP:0002616")  # arachnodactyly, ectopia lentis, aortic root aneurysm


@pytest.mark.parametrize(("name", "publication", "family"), [
    ("FBN1/PMID_37183190_Family_12_individual_ind_16.json", "37183190", "37183190/12"),
    ("x.zip!dev/DNAH12/PMID_40146200_Family3_IV_4_P8.json", "40146200", "40146200/3"),
    ("PMID_1_F2_II_3.json", "1", "1/2"),
    ("PMID_26238514_Patient_3.json", "26238514", ""),
    ("case.json", "", ""),
])
def test_family_and_publication_from_the_file_name(name: str, publication: str, family: str) -> None:
    assert family_of(name) == (publication, family)


def test_cohort_is_the_folder() -> None:
    assert cohort_of("dev.zip!phenopacket-store-dev/ARID2/PMID_1_P1.json") == "ARID2"


def _patients() -> list[MatchPatient]:
    return [
        MatchPatient("a", Case(observed=MARFAN, sex="female", onset="P5Y"), family="f1", diagnoses=("OMIM:154700",),
                     label="RDX-A"),
        MatchPatient("a-sister", Case(observed=MARFAN, sex="female"), family="f1", diagnoses=("OMIM:154700",)),
        MatchPatient("b", Case(observed=("HP:0001083", "HP:0001166", "HP:0000098"), sex="male",
                               genotype=Genotype(genes=("FBN1",))), diagnoses=("OMIM:154700",), label="RDX-B"),
        MatchPatient("c", Case(observed=("HP:0000365", "HP:0001657"), excluded=("HP:0001166",)),
                     diagnoses=("OMIM:220400",), label="RDX-C"),
        MatchPatient("d", Case(observed=("HP:0007359", "HP:0001249")), label="RDX-D"),
    ]


@pytest.fixture
def index(toy_engine) -> MatchIndex:
    return MatchIndex.build(toy_engine, _patients(), weights=MatchWeights())


def test_never_itself_nor_its_family(index: MatchIndex) -> None:
    found = index.similar("a", top=10)
    keys = [m.key for m in found]
    assert "a" not in keys and "a-sister" not in keys
    assert keys[0] == "b"  # the other Marfan patient
    assert [m.rank for m in found] == list(range(1, len(found) + 1))
    assert all(x.score >= y.score for x, y in itertools.pairwise(found))


def test_reasons_name_the_shared_terms_and_genes(index: MatchIndex, toy_engine) -> None:
    best = index.similar("a", top=1)[0]
    labels = {t.label for t in best.shared_terms}
    assert {"Arachnodactyly", "Ectopia lentis"} <= labels
    assert "Abnormal finger morphology" not in labels  # an ancestor of a shared term named already
    assert best.reasons[0].startswith("shared: ") and "Ectopia lentis" in best.reasons[0]
    assert best.diagnoses == ("OMIM:154700",)
    q = index.query_vector(Case(observed=("HP:0000098",), genotype=Genotype(genes=("FBN1",))))
    with_genes = index.search(q, top=1, with_genes=True)[0]
    assert with_genes.key == "b" and with_genes.shared_genes == ("FBN1",) and "same gene: FBN1" in with_genes.reasons
    assert index.search(q, top=5)[0].genes == 0.0  # genes count only when asked


def test_an_excluded_term_the_other_shows_lowers_the_score(toy_engine) -> None:
    patients = _patients()
    index = MatchIndex.build(toy_engine, patients, weights=MatchWeights(contradiction=1.0), rerank=False)
    q = index.query_vector(Case(observed=("HP:0000365", "HP:0001166")))
    c = next(m for m in index.search(q, top=10) if m.key == "c")
    assert any("Arachnodactyly" in x and "excluded in RDX-C" in x for x in c.contradictions)
    free = MatchIndex.build(toy_engine, patients, weights=MatchWeights(contradiction=0.0), rerank=False)
    assert next(m for m in free.search(q, top=10) if m.key == "c").score > c.score


def test_bad_input_says_what_to_do(toy_engine, index: MatchIndex) -> None:
    with pytest.raises(InputError, match="not in the match index"):
        index.similar("nobody")
    problems: list[tuple[str, str]] = []
    built = MatchIndex.build(toy_engine, [*_patients(), MatchPatient("e", Case(excluded=("HP:0001166",)))],
                             problems=problems)
    assert built.n == 5 and problems[0][0] == "e" and "observed" in problems[0][1]
    with pytest.raises(InputError, match="same key"):
        MatchIndex.build(toy_engine, [_patients()[0], _patients()[0]])


def test_solved_cases_add_evidence_apart_and_never_from_the_family(toy_engine, index: MatchIndex) -> None:
    rdx = RareDx(toy_engine.kb, cache=False)
    rdx.__dict__["engine"] = toy_engine
    case = Case(observed=("HP:0001166", "HP:0000098"), id="new")
    plain = rdx.diagnose(case)
    assert plain == rdx.diagnose(case, solved_cases=None)  # off: the default ranking, unchanged
    assert all(d.solved_cases is None for d in plain.diseases)
    with_solved = rdx.diagnose(case, solved_cases=index)
    marfan = next(d for d in with_solved.diseases if "OMIM:154700" in d.ids)
    assert marfan.solved_cases is not None and marfan.solved_cases.logit > 0
    assert "solved patient" in marfan.solved_cases.text and "Marfan syndrome" in marfan.solved_cases.text
    assert marfan.evidence == next(d for d in plain.diseases if "OMIM:154700" in d.ids).evidence  # kb evidence apart
    assert marfan.probability > next(d for d in plain.diseases if "OMIM:154700" in d.ids).probability
    # patient "a" itself: neither it nor its sister counts, only "b"
    prepared = toy_engine.prepare(_patients()[0].case)
    ev = solved_case_evidence(index, prepared, toy_engine.rank(prepared).probability, exclude=("a",),
                              weights=SolvedWeights(1.0, 10, 0.0))
    marfan_c = toy_engine.kb.concept("OMIM:154700").index
    assert ev[marfan_c].patients == ("RDX-B",)


def test_benchmark_match_excludes_family_and_publication(toy_engine, tmp_path: Path) -> None:
    summary = run_match_benchmark(toy_engine, MATCH, tmp_path / "d")
    for key in ("n_cases", "n_evaluated", "p_at_1", "hit_at_5", "mrr", "seconds_per_query_median", "masked_top1",
                "masked_top10", "casebased_masked_top1", "casebased_masked_top10"):
        assert key in summary
    assert summary["n_cases"] == 10 and summary["n_evaluated"] == 9  # the Usher case has no other case
    rows = list(csv.DictReader(open(tmp_path / "d" / "matches.tsv"), delimiter="\t"))
    assert next(r for r in rows if r["case_id"] == "PMID_20000001_Family_1_II_1")["top_match_id"] != \
        "PMID_20000001_Family_1_II_2"
    assert all(family_of(r["case_id"] + ".json")[1] == "" or family_of(r["case_id"] + ".json")[1] !=
               family_of(r["top_match_id"] + ".json")[1] for r in rows)
    cross = run_match_benchmark(toy_engine, MATCH, tmp_path / "x", MatchBenchmarkOptions(cross_publication=True))
    rows = list(csv.DictReader(open(tmp_path / "x" / "matches.tsv"), delimiter="\t"))
    assert all(family_of(r["case_id"] + ".json")[0] != family_of(r["top_match_id"] + ".json")[0] for r in rows)
    # JLNS: 2 cases in one publication and 1 in another; Marfan: 3 + 1; epilepsy 1 + 1: everyone has a case
    # of another publication
    assert cross["n_evaluated"] == 9 and cross["cross_publication"] is True
    assert json.loads((tmp_path / "x" / "summary.json").read_text())["p_at_1"] == cross["p_at_1"]


def test_benchmark_with_genes_is_reported_apart(toy_engine, tmp_path: Path) -> None:
    summary = run_match_benchmark(toy_engine, MATCH, tmp_path, MatchBenchmarkOptions(with_genes=True))
    assert summary["with_genes"] is True and "p_at_1" in summary["phenotype_only"]
    cs = load_cases(toy_engine, MATCH, with_genes=True)
    assert cs.index.vectors[0].genes  # the causal genes of the genomic interpretations
    assert not load_cases(toy_engine, MATCH).index.vectors[0].genes  # phenotype alone by default


def test_cli_benchmark_match(run_cli, tmp_path: Path) -> None:
    r = run_cli("benchmark-match", str(MATCH), "--out", str(tmp_path), "--cross-publication")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["n_evaluated"] == 9 and (tmp_path / "matches.tsv").exists()
    r = run_cli("benchmark-match", str(tmp_path / "missing"), "--out", str(tmp_path))
    assert r.returncode != 0 and "no such file or directory" in r.stderr and "Traceback" not in r.stderr


def test_index_scores_are_vectorised_over_all_patients(index: MatchIndex) -> None:
    parts = index.parts(index.vectors[0])
    assert all(len(v) == index.n for v in parts.values())
    assert np.isfinite(parts["score"]).all()
    assert replace(MatchWeights(), onset=0.0) != MatchWeights()


def test_ranking_features_of_a_profile_that_lost_every_annotation(toy_engine) -> None:
    """A case's publication can be the only source of every annotation of a disease: masked, its profile is empty
    (a matrix with no column at all); a genotype can still bring it among the candidates, whose features must
    then be computed without an IndexError."""
    from raredx.engine._features import ProfileStats, candidate_features
    from raredx.engine._profiles import ProfileMatrix

    e = toy_engine
    empty = np.zeros(0, np.int64)
    m = ProfileMatrix.compile(e.ontology, 1, empty, empty.astype(np.int32), np.zeros(0), np.zeros(0, bool), e.params,
                              ic=e.matrix.ic, dense=False, background=e.profiles.background)
    prepared = e.prepare(Case(observed=MARFAN))
    x = candidate_features(ProfileStats(m), np.zeros(1, np.int64), prepared, score=np.zeros(1),
                           position=np.zeros(1), best_score=0.0, onset=np.zeros(1), statics=e._statics[:1])
    assert x.shape[0] == 1 and np.isfinite(x).all()
    assert x[0, 5] == 0.0  # share_exact: the empty profile matches nothing


def test_the_second_stage_reorders_the_leading_matches_by_its_probability(toy_engine, tmp_path: Path) -> None:
    from raredx.errors import KnowledgeBaseError
    from raredx.match._rerank import PAIR_FEATURES, RerankModel, pair_features

    index = MatchIndex.build(toy_engine, _patients(), weights=MatchWeights())
    assert index.reranker is None  # fitted on the full knowledge base: off on the toy one, as the engine's ranker
    index.reranker = RerankModel.load()
    assert index.reranker is not None  # shipped with the package
    q = index.vectors[0]
    rows, final, parts = index.ranked(q, exclude=index.excluded_rows(0))
    assert 0 not in rows.tolist() and 1 not in rows.tolist()  # never itself or its family
    assert ((final > 0) & (final < 1)).all() and (np.diff(final) <= 0).all()
    x = pair_features(index, q, rows, parts)
    assert x.shape == (len(rows), len(PAIR_FEATURES)) and np.isfinite(x).all()
    assert [m.key for m in index.similar("a", top=3)] == [index.patients[r].key for r in rows[:3]]
    assert [m.score for m in index.similar("a", top=3)] == [round(float(v), 4) for v in final[:3]]
    # a model that only counts the phenotype part puts the best phenotype first
    only = np.zeros(len(PAIR_FEATURES))
    only[PAIR_FEATURES.index("phenotype")] = 1.0
    index.reranker = RerankModel(PAIR_FEATURES, np.zeros(len(PAIR_FEATURES)), np.ones(len(PAIR_FEATURES)), only)
    rows, final, parts = index.ranked(q, exclude=index.excluded_rows(0))
    assert rows[0] == int(np.argmax(np.where(index.excluded_rows(0), -np.inf, parts["phenotype"])))
    # a stored model round-trips; one naming features this raredx lacks says how to refit it
    path = tmp_path / "reranker.json"
    path.write_text(json.dumps(index.reranker.to_json()))
    again = RerankModel.load(path)
    assert again is not None and np.allclose(again.logits(x), index.reranker.logits(x))
    path.write_text(json.dumps({**index.reranker.to_json(), "features": ["nonsense"]}))
    with pytest.raises(KnowledgeBaseError, match="refit it"):
        RerankModel.load(path)
