"""The OBO reader and the Ontology view over the toy hp.obo."""

from __future__ import annotations

import pytest
from conftest import TOY

from raredx.errors import InputError, KnowledgeBaseError, RaredxError, UnknownTermError
from raredx.kb import build_knowledge_base, find_source_files
from raredx.ontology import Ontology, parse_obo

HPO_HEADER = ["format-version: 1.2", "data-version: hp/releases/2026-06-06", ""]


@pytest.fixture(scope="module")
def doc():
    with open(TOY / "hp.obo", encoding="utf-8") as fh:
        return parse_obo(fh, source="hp.obo")


@pytest.fixture(scope="module")
def onto(doc) -> Ontology:
    return Ontology.from_obo(doc)


def ids_of(onto: Ontology, indices) -> set[str]:
    return {onto.ids[int(i)] for i in indices}


# -- parse_obo -----------------------------------------------------------------------------------
def test_parse_reads_version_and_every_term_stanza(doc):
    assert doc.version == "hp/releases/2026-06-06"
    assert len(doc.terms) == 54  # 52 current + 2 obsolete; the [Typedef] stanza is not a term
    ids = [t.id for t in doc.terms]
    assert "has_part" not in ids
    assert ids[0] == "HP:0000001" and "HP:0410280" in ids


def test_parse_term_fields(doc):
    by_id = {t.id: t for t in doc.terms}
    arach = by_id["HP:0001166"]
    assert arach.name == "Arachnodactyly"
    assert arach.parents == ["HP:0001238", "HP:0100807"]  # the trailing "! label" comment is stripped
    assert arach.alt_ids == ["HP:0001505"]
    assert "Spider fingers" in arach.synonyms and "Long slender fingers" in arach.synonyms
    assert not arach.obsolete and arach.replaced_by is None

    replaced = by_id["HP:0001724"]
    assert replaced.obsolete and replaced.replaced_by == "HP:0004942" and replaced.parents == []
    considered = by_id["HP:0008012"]
    assert considered.obsolete and considered.replaced_by is None and considered.consider == ["HP:0000545"]


def test_parse_synonym_with_escaped_quotes_and_unknown_tags():
    lines = HPO_HEADER + [
        "[Term]",
        "id: HP:0000001",
        "name: All",
        "",
        "[Term]",
        "id: HP:0000118",
        "name: Phenotypic abnormality",
        'def: "A phenotypic abnormality." [https://orcid.org/0000-0002-0736-9199]',
        'synonym: "The \\"organ\\" abnormality" EXACT []',
        'synonym: "Not a valid synonym line"',
        "xref: UMLS:C4021790",
        "is_a: HP:0000001 ! All",
    ]
    doc = parse_obo(lines)
    pa = doc.terms[1]
    assert pa.synonyms == ['The "organ" abnormality']
    assert pa.parents == ["HP:0000001"]


@pytest.mark.parametrize(
    "lines",
    [
        ["hello", "world"],  # not OBO at all
        ['{"graphs": []}'],  # the obographs JSON release
        HPO_HEADER,  # a header without any [Term]
        ["[Term]", "id: HP:0000001", "name: All"],  # terms without the format-version header
    ],
    ids=["text", "json", "header-only", "no-header"],
)
def test_parse_rejects_non_obo_input_naming_the_source(lines):
    with pytest.raises(KnowledgeBaseError, match="my-file.obo"):
        parse_obo(lines, source="my-file.obo")


def test_building_from_a_non_obo_file_raises_knowledge_base_error(toy_copy):
    (toy_copy / "hp.obo").write_text('{"graphs": [{"id": "http://purl.obolibrary.org/obo/hp.json"}]}\n')
    with pytest.raises(KnowledgeBaseError, match="hp.obo"):
        build_knowledge_base(find_source_files(toy_copy))


# -- Ontology structure ----------------------------------------------------------------------------
def test_obsolete_terms_are_not_current_terms(onto):
    assert len(onto) == 52
    assert "HP:0001166" in onto
    assert "HP:0001724" not in onto and onto.index("HP:0001724") is None
    assert "HP:0001505" not in onto  # an alt id is not a term of its own
    assert onto.index("HP:0001505") is None  # index() does not follow alt ids


def test_labels_and_synonyms(onto):
    i = onto.index("HP:0001166")
    assert onto.label(i) == "Arachnodactyly"
    assert "Spider fingers" in onto.synonyms[i]


def test_ancestors_include_self_and_the_whole_is_a_closure(onto):
    i = onto.index("HP:0001166")
    assert ids_of(onto, onto.ancestors(i)) == {
        "HP:0001166", "HP:0001238", "HP:0100807", "HP:0001167", "HP:0011297", "HP:0011842", "HP:0000924",
        "HP:0000118", "HP:0000001",
    }
    assert len(onto.ancestors(i)) == 9  # no duplicates although two paths lead upwards


def test_ancestors_of_a_term_with_two_parents(onto):
    i = onto.index("HP:0004322")  # Short stature: Abnormality of body height + Growth delay
    assert ids_of(onto, onto.parents(i)) == {"HP:0000002", "HP:0001510"}
    assert ids_of(onto, onto.ancestors(i)) == {
        "HP:0004322", "HP:0000002", "HP:0001510", "HP:0001507", "HP:0000118", "HP:0000001",
    }


def test_root_is_its_own_only_ancestor(onto):
    root = onto.index("HP:0000001")
    assert ids_of(onto, onto.ancestors(root)) == {"HP:0000001"}
    assert len(onto.parents(root)) == 0


def test_is_ancestor_and_descendants(onto):
    seizure, focal = onto.index("HP:0001250"), onto.index("HP:0007359")
    assert onto.is_ancestor(seizure, focal)
    assert onto.is_ancestor(focal, focal)
    assert not onto.is_ancestor(focal, seizure)
    assert ids_of(onto, onto.descendants(seizure)) == {"HP:0001250", "HP:0007359", "HP:0002373"}


def test_branch_masks_split_phenotypes_from_onset_and_inheritance(onto):
    pm = onto.phenotype_mask
    assert pm[onto.index("HP:0001166")] and pm[onto.index("HP:0000118")]
    for not_phenotype in ("HP:0000001", "HP:0003593", "HP:0003674", "HP:0000006", "HP:0012823"):
        assert not pm[onto.index(not_phenotype)], not_phenotype
    assert onto.in_branch(onto.index("HP:0003593"), "HP:0003674")  # Infantile onset via Pediatric onset
    assert onto.in_branch(onto.index("HP:0000007"), "HP:0000005")
    assert not onto.in_branch(onto.index("HP:0000007"), "HP:0003674")
    assert not onto.branch_mask("HP:9999999").any()


# -- resolve -------------------------------------------------------------------------------------
def test_resolve_current_id(onto):
    r = onto.resolve(" HP:0001166 ")
    assert (onto.ids[r.index], r.term_id, r.replaced) == ("HP:0001166", "HP:0001166", None)


def test_resolve_alt_id_redirects_with_replaced_set(onto):
    r = onto.resolve("HP:0001505")
    assert r.term_id == "HP:0001166" and onto.ids[r.index] == "HP:0001166"
    assert r.replaced == "HP:0001505"


def test_resolve_obsolete_with_replacement_redirects_with_replaced_set(onto):
    r = onto.resolve("HP:0001724")
    assert r.term_id == "HP:0004942" and onto.labels[r.index] == "Aortic aneurysm"
    assert r.replaced == "HP:0001724"


def test_resolve_obsolete_without_replacement_names_what_to_consider(onto):
    with pytest.raises(InputError) as exc:
        onto.resolve("HP:0008012", where="observed terms")
    msg = str(exc.value)
    assert "HP:0008012" in msg and "obsolete" in msg and "HP:0000545" in msg and "observed terms" in msg


def test_resolve_unknown_id_raises_unknown_term_error_naming_it(onto):
    with pytest.raises(UnknownTermError) as exc:
        onto.resolve("HP:9999999", where="excluded terms")
    assert exc.value.term_id == "HP:9999999"
    assert "HP:9999999" in str(exc.value) and "excluded terms" in str(exc.value)
    assert isinstance(exc.value, InputError)  # the CLI maps it to a user-input exit code
    assert exc.value.exit_code == 2


def test_a_cycle_in_is_a_is_refused():
    lines = HPO_HEADER + [
        "[Term]", "id: HP:0000001", "name: All", "",
        "[Term]", "id: HP:0000002", "name: A", "is_a: HP:0000003", "",
        "[Term]", "id: HP:0000003", "name: B", "is_a: HP:0000002",
    ]
    with pytest.raises(RaredxError, match="cycle"):
        Ontology.from_obo(parse_obo(lines))


def test_a_term_under_two_organ_systems_is_listed_under_the_narrower():
    stanzas = {"HP:0000001": [], "HP:0000118": ["HP:0000001"], "HP:0000152": ["HP:0000118"],  # head or neck
               "HP:0000234": ["HP:0000152"], "HP:0000271": ["HP:0000234"], "HP:0001574": ["HP:0000118"],  # integument
               "HP:0045075": ["HP:0000271", "HP:0001574"], "HP:0000005": ["HP:0000001"]}  # sparse eyebrow; inheritance
    lines = [*HPO_HEADER]
    for term, parents in stanzas.items():
        lines += ["[Term]", f"id: {term}", f"name: term {term}", *(f"is_a: {p}" for p in parents), ""]
    onto = Ontology.from_obo(parse_obo(lines))
    system = {t: onto.organ_system(onto.index(t)) for t in stanzas}
    assert onto.ids[system["HP:0045075"]] == "HP:0001574"  # 2 terms in the integument, 4 under head or neck
    assert onto.ids[system["HP:0000271"]] == "HP:0000152" and onto.ids[system["HP:0000152"]] == "HP:0000152"
    assert system["HP:0000005"] is None and system["HP:0000118"] is None
