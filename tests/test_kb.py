"""The knowledge base built from the toy release files: concepts, annotations, provenance, cache."""

from __future__ import annotations

import gzip
import logging
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import TOY, annotation_rows, concept_index

import raredx.kb._build as build_module
from raredx.errors import KnowledgeBaseError
from raredx.kb import (
    ONSET_BINS,
    SEX_ANY,
    SEX_MALE,
    KnowledgeBase,
    build_knowledge_base,
    find_source_files,
    load_knowledge_base,
    sha256,
)
from raredx.kb._readers import parse_frequency

ALL_BINS = (1 << len(ONSET_BINS)) - 1


def bins(*names: str) -> int:
    return sum(1 << ONSET_BINS.index(n) for n in names)


def frequencies(kb, disease_id: str, term_id: str) -> list[float]:
    return sorted(float(f) for f in kb.annotations.frequency[annotation_rows(kb, disease_id, term_id)])


# -- concepts ---------------------------------------------------------------------------------------
def test_sixteen_concepts_from_nineteen_annotated_diseases(toy_kb):
    assert len(toy_kb.concepts) == 16
    assert len(toy_kb.source_diseases) == 19
    assert [c.index for c in toy_kb.concepts] == list(range(16))


def test_omim_and_orphanet_marfan_form_one_concept_via_mondo(toy_kb):
    c = toy_kb.concept("OMIM:154700")
    assert c is not None
    assert c.ids == ("OMIM:154700", "ORPHA:558", "MONDO:0007947")
    for other in ("ORPHA:558", "MONDO:0007947", "Orphanet:558", " OMIM:154700 "):
        assert toy_kb.concept(other) is c, other
    assert c.name == "Marfan syndrome"
    assert c.genes == ("FBN1",)
    assert c.inheritance == ("HP:0000006",)
    assert c.onset_bins == ALL_BINS  # Orphanet "All ages"
    assert c.icd10 == ("Q87.4",)
    assert "MFS" in c.synonyms and "Marfan syndrome" not in c.synonyms


def test_unannotated_or_unknown_ids_are_not_concepts(toy_kb):
    assert toy_kb.concept("Orphanet:284963") is None  # mapped by Mondo, but has no HPO annotations
    assert toy_kb.concept("OMIM:129600") is None  # only in genes_to_disease.txt
    assert toy_kb.concept("ORPHA:166024") is None  # only in the Orphanet XML
    assert toy_kb.concept("OMIM:999999") is None


def test_only_exact_matches_merge(toy_kb):
    # the SSSOM also says MONDO:0007947 skos:broadMatch Orphanet:2623; that must not join Geleophysic
    # dysplasia to Marfan syndrome (it would also make the Marfan Mondo class one-to-many)
    gd = toy_kb.concept("ORPHA:2623")
    assert gd.ids == ("ORPHA:2623", "MONDO:0000127")
    assert gd is not toy_kb.concept("OMIM:154700")
    assert gd.name == "Geleophysic dysplasia"  # an Orphanet-only concept is named from en_product1
    # FBN1 is Mendelian for OMIM entries Orphanet files under geleophysic dysplasia; ADAMTSL2 has no OMIM link here
    assert gd.genes == ("FBN1", "ADAMTSL2") and gd.gene_associations == ("mendelian", "unknown")
    assert gd.inheritance == ("HP:0000006", "HP:0000007")  # both, from en_product9_ages
    assert gd.onset_bins == bins("childhood")


def test_omim_only_concepts(toy_kb):
    toy = toy_kb.concept("OMIM:100001")
    assert toy.ids == ("OMIM:100001",)
    assert toy.name == "Toy focal epilepsy with intellectual disability"
    assert toy.genes == () and toy.icd10 == () and toy.synonyms == ()
    assert toy.inheritance == ("HP:0000007",)
    lds = toy_kb.concept("MONDO:0012212")
    assert lds.ids == ("OMIM:609192", "MONDO:0012212") and lds.genes == ("TGFBR1", "TGFB1")
    assert lds.gene_associations == ("mendelian", "polygenic") and lds.causal_genes == ("TGFBR1",)


def test_onset_bins_from_hpoa_and_orphanet(toy_kb):
    assert toy_kb.concept("OMIM:100001").onset_bins == bins("infantile")  # HP:0003593, aspect C
    assert toy_kb.concept("OMIM:100002").onset_bins == bins("neonatal")  # HP:0003577 congenital
    assert toy_kb.concept("OMIM:100003").onset_bins == bins("neonatal", "infantile", "childhood", "juvenile")
    assert toy_kb.concept("OMIM:609192").onset_bins == bins("neonatal", "young adult", "later adult")
    # Achondroplasia: HPOA congenital onset + Orphanet Antenatal and Neonatal
    assert toy_kb.concept("ORPHA:15").onset_bins == bins("antenatal", "neonatal")
    assert toy_kb.concept("OMIM:100004").onset_bins == 0  # unknown


def test_broader_orphanet_disorder_from_btnt_mapping(toy_kb):
    # en_product1: ORPHA:2623 is broader than (BTNT) OMIM:614185
    assert toy_kb.concept("OMIM:614185").broader == (concept_index(toy_kb, "ORPHA:2623"),)
    # ORPHA:558 is BTNT OMIM:154700 too, but they are one concept: no self-reference
    assert toy_kb.concept("OMIM:154700").broader == ()


# -- annotations ---------------------------------------------------------------------------------
def test_frequency_forms_in_one_disease(toy_kb):
    assert frequencies(toy_kb, "OMIM:100001", "HP:0007359") == [pytest.approx(4 / 7)]  # 3/5 -> (3+1)/(5+2)
    assert frequencies(toy_kb, "OMIM:100001", "HP:0001249") == [pytest.approx(0.5)]  # 50%
    assert frequencies(toy_kb, "OMIM:100001", "HP:0001250") == [pytest.approx(0.9)]  # HP:0040281 very frequent


def test_both_sources_of_a_merged_concept_keep_their_rows(toy_kb):
    rows = annotation_rows(toy_kb, "ORPHA:558", "HP:0001166")
    a = toy_kb.annotations
    assert sorted(toy_kb.source_diseases[s] for s in a.source[rows]) == ["OMIM:154700", "ORPHA:558"]
    assert frequencies(toy_kb, "OMIM:154700", "HP:0001166") == [
        pytest.approx(125 / 199), pytest.approx(0.9),  # 124/197 smoothed; HP:0040281
    ]


def test_missing_frequency_is_nan(toy_kb):
    rows = annotation_rows(toy_kb, "OMIM:154700", "HP:0000098")
    assert len(rows) == 1 and np.isnan(toy_kb.annotations.frequency[rows[0]])


def test_zero_of_m_becomes_a_not_annotation(toy_kb):
    a = toy_kb.annotations
    for disease, term in (("OMIM:100002", "HP:0004322"), ("OMIM:609192", "HP:0001083")):
        rows = annotation_rows(toy_kb, disease, term)
        assert len(rows) == 1
        assert a.negated[rows[0]], (disease, term)
        assert np.isnan(a.frequency[rows[0]])


def test_not_qualifier_is_a_negated_annotation(toy_kb):
    rows = annotation_rows(toy_kb, "OMIM:100002", "HP:0001250")
    assert len(rows) == 1 and toy_kb.annotations.negated[rows[0]]
    positive = annotation_rows(toy_kb, "OMIM:100002", "HP:0000365")
    assert not toy_kb.annotations.negated[positive[0]]
    assert toy_kb.annotations.frequency[positive[0]] == pytest.approx(1.0)  # HP:0040280 obligate


def test_sex_column(toy_kb):
    a = toy_kb.annotations
    male = annotation_rows(toy_kb, "OMIM:100003", "HP:0000028")
    assert len(male) == 1 and a.sex[male[0]] == SEX_MALE
    assert a.frequency[male[0]] == pytest.approx(5 / 6)  # 4/4 smoothed
    assert a.sex[annotation_rows(toy_kb, "OMIM:100003", "HP:0004322")[0]] == SEX_ANY
    assert int((a.sex != SEX_ANY).sum()) == 1


def test_annotation_with_an_obsolete_id_is_redirected(toy_kb):
    # Loeys-Dietz is annotated with HP:0001724 (obsolete, replaced_by HP:0004942 Aortic aneurysm)
    assert len(annotation_rows(toy_kb, "OMIM:609192", "HP:0004942")) == 1


def test_onset_and_inheritance_rows_are_not_phenotype_annotations(toy_kb):
    o, a = toy_kb.ontology, toy_kb.annotations
    assert o.phenotype_mask[a.term].all()
    for term in ("HP:0003593", "HP:0003577", "HP:0000006", "HP:0000007", "HP:0410280"):
        assert not (a.term == o.index(term)).any(), term
    # 89 data rows: 24 onset/inheritance rows, all others are phenotype annotations
    assert int((~a.from_name).sum()) == 65


def test_references_are_parsed_into_pubmed_ids(toy_kb):
    a = toy_kb.annotations

    def refs(disease, term):
        (r,) = annotation_rows(toy_kb, disease, term)
        return a.ref_pmid[a.ref_ptr[r] : a.ref_ptr[r + 1]].tolist()

    assert refs("OMIM:100004", "HP:0000545") == [11111111, 22222222]
    assert refs("OMIM:100004", "HP:0000098") == [11111111]
    assert refs("OMIM:100002", "HP:0000365") == [-1]  # OMIM:100002, not a PubMed reference
    assert len(a.ref_ptr) == len(a) + 1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("HP:0040281", 0.9),
        ("HP:0040280", 1.0),
        ("HP:0040285", 0.0),
        ("3/5", 4 / 7),
        ("1/1", 2 / 3),
        ("0/10", 0.0),
        ("50%", 0.5),
        ("12.5%", 0.125),
        ("", None),
        ("1/0", None),
        ("sometimes", None),
    ],
)
def test_parse_frequency(text, expected):
    got = parse_frequency(text)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


# -- provenance -----------------------------------------------------------------------------------
def test_versions_and_sources(toy_kb):
    v = toy_kb.version
    for part in ("hp 2026-06-06", "hpoa 2026-06-06", "orphanet 2026-06-23", "mondo 2026-08-04"):
        assert part in v
    by_key = {s.key: s for s in toy_kb.sources}
    assert set(by_key) == {
        "hp_obo", "hpoa", "genes", "orphanet_product1", "orphanet_product9", "mondo_omim", "mondo_orphanet",
    }
    assert by_key["orphanet_product9"].version == "2025-12-09"
    assert by_key["hp_obo"].file == "hp.obo" and len(by_key["hp_obo"].sha256) == 64
    assert by_key["hpoa"].url.startswith("http")
    assert len(toy_kb.fingerprint) == 16


def test_find_source_files_finds_every_toy_file():
    files = find_source_files(TOY)
    assert {k: p.name for k, p in files.items()} == {
        "hp_obo": "hp.obo",
        "hpoa": "phenotype.hpoa",
        "genes": "genes_to_disease.txt",
        "orphanet_product1": "en_product1.xml",
        "orphanet_product9": "en_product9_ages.xml",
        "mondo_omim": "mondo_exactmatch_omim.sssom.tsv",
        "mondo_orphanet": "mondo_exactmatch_orphanet.sssom.tsv",
    }


# -- broken or missing files ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "missing, named",
    [
        ("genes_to_disease.txt", "genes_to_disease.txt"),
        ("en_product9_ages.xml", "en_product9_ages.xml"),
        ("hp.obo", "hp.obo"),
    ],
)
def test_missing_file_raises_naming_it(toy_copy, tmp_path, missing, named):
    (toy_copy / missing).unlink()
    with pytest.raises(KnowledgeBaseError, match=named.replace(".", r"\.")):
        find_source_files(toy_copy)
    with pytest.raises(KnowledgeBaseError, match=named.replace(".", r"\.")):
        load_knowledge_base(toy_copy, cache=tmp_path / "cache")


def test_missing_directory_raises(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        load_knowledge_base(tmp_path / "nowhere", cache=tmp_path / "cache")


def test_wrong_hpoa_header_raises_naming_the_line(toy_copy):
    p = toy_copy / "phenotype.hpoa"
    p.write_text(p.read_text().replace("database_id\tdisease_name", "disease\tname", 1))
    with pytest.raises(KnowledgeBaseError, match=r"phenotype\.hpoa: line 5"):
        build_knowledge_base(find_source_files(toy_copy))


def test_short_hpoa_row_raises(toy_copy):
    p = toy_copy / "phenotype.hpoa"
    p.write_text(p.read_text() + "OMIM:100009\tBroken row\t\tHP:0001166\n")
    with pytest.raises(KnowledgeBaseError, match="columns"):
        build_knowledge_base(find_source_files(toy_copy))


def test_malformed_orphanet_xml_raises(toy_copy):
    p = toy_copy / "en_product1.xml"
    p.write_text(p.read_text()[:2000])
    with pytest.raises(KnowledgeBaseError, match="en_product1"):
        build_knowledge_base(find_source_files(toy_copy))


def test_sssom_without_its_columns_raises(toy_copy):
    (toy_copy / "mondo_exactmatch_omim.sssom.tsv").write_text("# mapping_set_version: x\nmondo\tomim\n")
    with pytest.raises(KnowledgeBaseError, match="SSSOM"):
        build_knowledge_base(find_source_files(toy_copy))


def test_one_to_many_mondo_mapping_does_not_merge(toy_copy):
    p = toy_copy / "mondo_exactmatch_omim.sssom.tsv"
    p.write_text(p.read_text() + "MONDO:0007947\tMarfan syndrome\tskos:exactMatch\tOMIM:100004\tx\tsemapv:ManualMappingCuration\n")
    kb = build_knowledge_base(find_source_files(toy_copy))
    assert kb.concept("OMIM:154700") is not kb.concept("ORPHA:558")
    assert kb.concept("OMIM:154700") is not kb.concept("OMIM:100004")
    assert len(kb.concepts) == 17


def test_gzipped_release_files_build_the_same_knowledge(tmp_path, toy_kb):
    gz = tmp_path / "gz"
    gz.mkdir()
    for f in TOY.iterdir():
        with open(f, "rb") as src, gzip.open(gz / (f.name + ".gz"), "wb") as dst:
            shutil.copyfileobj(src, dst)
    kb = build_knowledge_base(find_source_files(gz))
    assert kb.concepts == toy_kb.concepts
    assert np.array_equal(kb.annotations.term, toy_kb.annotations.term)
    assert kb.version == toy_kb.version


# -- cache ------------------------------------------------------------------------------------------
def assert_same_kb(a: KnowledgeBase, b: KnowledgeBase) -> None:
    assert a.concepts == b.concepts
    assert a.source_diseases == b.source_diseases
    assert a.sources == b.sources
    assert a.fingerprint == b.fingerprint and a.version == b.version
    oa, ob = a.ontology, b.ontology
    assert (oa.version, oa.ids, oa.labels, oa.synonyms) == (ob.version, ob.ids, ob.labels, ob.synonyms)
    assert oa.redirects == ob.redirects and oa.obsolete == ob.obsolete
    assert np.array_equal(oa.anc_idx, ob.anc_idx) and np.array_equal(oa.anc_ptr, ob.anc_ptr)
    for field in ("concept", "term", "negated", "sex", "source", "ref_ptr", "ref_pmid"):
        x, y = getattr(a.annotations, field), getattr(b.annotations, field)
        assert x.dtype == y.dtype and np.array_equal(x, y), field
    assert np.array_equal(a.annotations.frequency, b.annotations.frequency, equal_nan=True)


def test_save_then_load_round_trip(toy_kb, tmp_path):
    path = tmp_path / "kb.npz"
    toy_kb.save(path)
    assert_same_kb(KnowledgeBase.load(path), toy_kb)


def test_load_knowledge_base_uses_the_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = load_knowledge_base(TOY, cache=cache)
    files = list(cache.glob("kb-*.npz"))
    assert [f.name for f in files] == [f"kb-{first.fingerprint}.npz"]

    def no_build(*args, **kwargs):
        raise AssertionError("the knowledge base was rebuilt although the cache is valid")

    monkeypatch.setattr(build_module, "build_knowledge_base", no_build)
    assert_same_kb(load_knowledge_base(TOY, cache=cache), first)
    with pytest.raises(AssertionError, match="rebuilt"):
        load_knowledge_base(TOY, cache=cache, rebuild=True)


def test_changed_source_file_gets_a_new_cache_entry(toy_copy, tmp_path):
    cache = tmp_path / "cache"
    before = load_knowledge_base(toy_copy, cache=cache)
    p = toy_copy / "genes_to_disease.txt"
    p.write_text(p.read_text() + "NCBIGene:1\tTOYGENE\tMENDELIAN\tOMIM:100001\ttest\n")
    after = load_knowledge_base(toy_copy, cache=cache)
    assert after.fingerprint != before.fingerprint
    assert after.concept("OMIM:100001").genes == ("TOYGENE",)
    assert len(list(cache.glob("kb-*.npz"))) == 2


def test_garbage_cache_file_is_rebuilt(tmp_path, caplog):
    cache = tmp_path / "cache"
    kb = load_knowledge_base(TOY, cache=cache)
    path = cache / f"kb-{kb.fingerprint}.npz"
    path.write_bytes(b"not an npz file at all")
    with caplog.at_level(logging.WARNING):
        again = load_knowledge_base(TOY, cache=cache)
    assert_same_kb(again, kb)
    assert "rebuilding" in caplog.text


def test_truncated_cache_file_is_rebuilt(tmp_path):
    cache = tmp_path / "cache"
    kb = load_knowledge_base(TOY, cache=cache)
    path = cache / f"kb-{kb.fingerprint}.npz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_same_kb(load_knowledge_base(TOY, cache=cache), kb)


def test_unwritable_cache_still_loads(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    kb = load_knowledge_base(TOY, cache=blocker / "cache")
    assert len(kb.concepts) == 16



def test_phenotypes_named_in_a_disease_name(toy_kb):
    from raredx.kb._names import NameMatcher

    o = toy_kb.ontology
    m = NameMatcher(o)
    found = [o.ids[t] for t in m.terms("Deafness with seizures and impaired intellectual development")]
    assert found == ["HP:0000365", "HP:0001250", "HP:0001249"]
    # "with or without" / "without" name no phenotype the patient must have
    assert m.terms("Cataract without deafness") == [o.index("HP:0000518")]
    assert m.terms("Marfan syndrome") == []


def test_name_annotations_are_never_masked(toy_kb):
    a = toy_kb.annotations
    rows = a.from_name.nonzero()[0]
    assert len(rows) > 0
    assert all(a.ref_ptr[r] == a.ref_ptr[r + 1] for r in rows)  # no references at all


# -- phenotypes of Orphanet's definitions -----------------------------------------------------------
def _definition_terms(directory: Path, product1_sha: str, rows: list[tuple[str, str]]) -> None:
    lines = [f"# raredx: HPO terms in Orphanet definitions; product1 sha256 {product1_sha}"]
    (directory / "orphanet_definition_terms.tsv").write_text(
        "\n".join(lines + [f"{o}\t{t}\twords" for o, t in rows]) + "\n")


def test_definition_terms_become_annotations_the_concept_lacks(toy_copy: Path) -> None:
    files = find_source_files(toy_copy)
    _definition_terms(toy_copy, sha256(files["orphanet_product1"]), [
        ("ORPHA:558", "HP:0000365"),  # hearing impairment: new for Marfan
        ("ORPHA:558", "HP:0001166"),  # arachnodactyly: Marfan is annotated with it already
        ("ORPHA:558", "HP:0001167"),  # abnormal finger morphology: implied by arachnodactyly
        ("ORPHA:999999", "HP:0001250"),  # no such disorder
    ])
    kb = build_knowledge_base(find_source_files(toy_copy))
    a = kb.annotations
    marfan = kb.concept("ORPHA:558").index
    rows = np.flatnonzero(a.from_definition)
    assert [(int(a.concept[r]), kb.ontology.ids[a.term[r]]) for r in rows] == [(marfan, "HP:0000365")]
    assert np.isnan(a.frequency[rows]).all() and not a.from_name[rows].any()
    assert {s.key for s in kb.sources} >= {"orphanet_definitions"}  # in the fingerprint: a change rebuilds


def test_definition_terms_of_another_release_are_not_used(toy_copy: Path, caplog: pytest.LogCaptureFixture) -> None:
    _definition_terms(toy_copy, "0" * 64, [("ORPHA:558", "HP:0000365")])
    kb = build_knowledge_base(find_source_files(toy_copy))
    assert not kb.annotations.from_definition.any()
    assert "derived from another en_product1" in caplog.text
