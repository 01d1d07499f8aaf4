"""The differential on the bundled releases: evidence that respects the ontology's meaning, gene order, the
second stage and its probabilities, any ``--top``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from raredx import Case, RareDx
from raredx.engine import DiagnosisEngine
from raredx.engine._explain import explain
from raredx.engine._features import MATCHED

pytestmark = pytest.mark.kb


@pytest.fixture(scope="module")
def rdx(tmp_path_factory: pytest.TempPathFactory) -> RareDx:
    cache = Path(os.environ.get("RAREDX_CACHE_DIR") or tmp_path_factory.mktemp("cache"))
    return RareDx.load(cache_dir=cache)


def _how_it_counts(rdx: RareDx, patient_term: str, disease_term: str) -> list[tuple[str, float, str | None]]:
    """How ``patient_term`` counts for diseases annotated with ``disease_term`` and with nothing at, below or
    above ``patient_term`` (each: match, weight, shared ancestor label)."""
    engine, o, a = rdx.engine, rdx.kb.ontology, rdx.kb.annotations
    t, d = o.index(patient_term), o.index(disease_term)
    case = engine.prepare(Case(observed=(patient_term,)), strict=False)
    below = set(o.descendant_array(t).tolist()) | set(o.ancestors(t).tolist())
    out = []
    for c in np.unique(a.concept[(a.term == d) & ~a.negated])[:25]:
        profile = int(engine.profiles.select[None][c])
        terms, _ = engine.matrix.annotations(profile)
        if below & set(terms.tolist()):
            continue
        (ev,), _ = explain(engine.matrix, profile, case)
        out.append((ev.match, ev.contribution, ev.via_label))
    assert out, f"no disease annotated with {disease_term} alone"
    return out


@pytest.mark.parametrize("patient, disease", [
    ("HP:0045075", "HP:0000664"),  # sparse eyebrow / synophrys
    ("HP:0045075", "HP:0002553"),  # sparse eyebrow / highly arched eyebrow
    ("HP:0000219", "HP:0000322"),  # thin upper lip vermilion / short philtrum
    ("HP:0001822", "HP:0010055"),  # hallux valgus / broad hallux
    ("HP:0001822", "HP:0008080"),  # hallux valgus / hallux varus
    ("HP:0000405", "HP:0000407"),  # conductive / sensorineural hearing impairment
])
def test_alternatives_under_a_shared_parent_are_not_support(rdx: RareDx, patient: str, disease: str) -> None:
    rows = _how_it_counts(rdx, patient, disease)
    assert all(match == "unmatched" and abs(weight) <= MATCHED for match, weight, _ in rows)
    # what the disease has instead is named, with the ancestor both share, by its label
    assert all(via and not via.startswith("HP:") for _, _, via in rows)


def test_eyebrows_name_their_shared_ancestor(rdx: RareDx) -> None:
    vias = {via for _, _, via in _how_it_counts(rdx, "HP:0045075", "HP:0000664")}
    assert vias == {"Abnormal eyebrow morphology"}


def test_cystic_fibrosis_lists_cftr_first_and_marks_other_links(rdx: RareDx) -> None:
    cf = rdx.kb.concept("OMIM:219700")
    assert cf is not None and cf.genes[0] == "CFTR" and cf.gene_associations[0] == "mendelian"
    assert dict(zip(cf.genes, cf.gene_associations))["TGFB1"] == "polygenic"
    assert "CFTR" in cf.causal_genes and "TGFB1" not in cf.causal_genes
    pws = rdx.kb.concept("OMIM:176270")
    assert pws is not None and "-" not in pws.genes  # "-" in genes_to_disease.txt is not a gene


def test_every_concept_can_be_asked_for(rdx: RareDx) -> None:
    n = len(rdx.kb.concepts)
    result = rdx.diagnose(Case(observed=("HP:0001166", "HP:0001083")), top=n)
    assert result.n_ranked == rdx.engine.n_ranked < n  # concepts without any phenotype annotation are not ranked
    assert len(result.diseases) == result.n_ranked
    assert [d.rank for d in result.diseases[-2:]] == [result.n_ranked - 1, result.n_ranked]
    assert sum(d.probability for d in result.diseases) == pytest.approx(1.0, abs=1e-3)
    probabilities = [d.probability for d in result.diseases]
    assert probabilities == sorted(probabilities, reverse=True)
    unrankable = {c.ids[0] for c in rdx.kb.concepts if not rdx.engine.profiles.rankable[c.index]}
    assert unrankable and not unrankable & {d.ids[0] for d in result.diseases}


def test_cli_top_larger_than_the_knowledge_base(rdx: RareDx, tmp_path: Path) -> None:
    env = dict(os.environ, RAREDX_CACHE_DIR=str(rdx._cache or tmp_path))
    proc = subprocess.run([sys.executable, "-m", "raredx", "diagnose", "HP:0001166", "HP:0001083", "--top",
                           str(len(rdx.kb.concepts)), "--format", "json"], capture_output=True, text=True, env=env,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["diseases"]) == rdx.engine.n_ranked


def test_the_second_stage_reranks_with_calibrated_probabilities(rdx: RareDx) -> None:
    engine = rdx.engine
    assert engine.ranker is not None and engine.ranker.candidates >= 50
    first_only = DiagnosisEngine(rdx.kb, engine.params, cache=rdx._cache, ranker=False)
    case = engine.prepare(Case(observed=("HP:0001166", "HP:0001083", "HP:0002616", "HP:0001519"), sex="female"))
    both, first = engine.rank(case), first_only.rank(case)
    assert both.probability.sum() == pytest.approx(1.0) and first.probability.sum() == pytest.approx(1.0)
    assert np.array_equal(both.score, first.score)  # the first stage's scores are the same
    assert not np.array_equal(both.top(10), first.top(10))  # ... the order of the leading candidates is not
    marfan = rdx.kb.concept("OMIM:154700")
    assert marfan is not None and both.top(1)[0] == marfan.index
    assert both.probability[marfan.index] > first.probability[marfan.index]


def test_masked_profiles_feed_the_second_stage(rdx: RareDx) -> None:
    # a case citing the publication behind annotations of a disease: masked, that disease loses them
    engine = rdx.engine
    a = rdx.kb.annotations
    row = int(np.flatnonzero(np.diff(a.ref_ptr) == 1)[0])
    pmid, concept = int(a.ref_pmid[a.ref_ptr[row]]), int(a.concept[row])
    terms = tuple(rdx.kb.ontology.ids[t] for t in a.term[(a.concept == concept) & ~a.negated][:5])
    case = engine.prepare(Case(observed=terms, source_pmids=(pmid,)), strict=False)
    plain, masked = engine.rank(case), engine.rank(case, mask_source=True)
    assert masked.score[concept] <= plain.score[concept]
    assert masked.probability.sum() == pytest.approx(1.0)
