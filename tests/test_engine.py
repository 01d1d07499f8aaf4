"""The diagnosis engine on the toy knowledge base: ranking, evidence, warnings, sex, masking, onset."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import TOY, concept_index

from raredx import RareDx
from raredx.engine import Case, DiagnosisEngine, Params
from raredx.errors import InputError, UnknownTermError
from raredx.kb import age_bin, build_knowledge_base, find_source_files

MARFAN_TERMS = ("HP:0001166", "HP:0001083", "HP:0002616")  # arachnodactyly, ectopia lentis, aortic root aneurysm
TALL_TERMS = ("HP:0000098", "HP:0001166", "HP:0000545")  # tall stature, arachnodactyly, myopia


# Values for the mechanisms these tests check, so that re-tuning the Params defaults does not change
# what a test means (the fitted values are used by the tests that only check robust outcomes).
MECHANISMS = dict(not_penalty=0.5, not_bonus=0.1, onset_match=0.3, onset_mismatch=0.6, inherited_frequency=0.1,
                  exact_bonus=2.0, excluded_weight=0.5, excluded_min_frequency=0.75,
                  name_frequency=0.0, background_weight=0.0)


@pytest.fixture(scope="module")
def engine(toy_kb) -> DiagnosisEngine:
    return DiagnosisEngine(toy_kb, Params.fitted().with_(**MECHANISMS), cache=False)


def ranked(diff, disease_id: str):
    """The RankedDisease of ``disease_id`` in a differential (None if it is not shown)."""
    return next((d for d in diff.diseases if disease_id in d.ids), None)


def evidence(disease, term_id: str):
    """How ``term_id`` counted for ``disease`` (in its evidence, or among the excluded findings not counted)."""
    return next(e for e in disease.evidence + disease.not_counted if e.term_id == term_id)


def score_of(engine: DiagnosisEngine, disease_id: str, case: Case, **kw) -> float:
    return float(engine.scores(engine.prepare(case), **kw)[concept_index(engine.kb, disease_id)])


# -- ranking and evidence -------------------------------------------------------------------------
def test_marfan_like_case_ranks_marfan_first_with_exact_evidence(toy_engine):
    diff = toy_engine.diagnose(Case(observed=MARFAN_TERMS))
    top = diff.diseases[0]
    assert top.ids == ("OMIM:154700", "ORPHA:558", "MONDO:0007947")
    assert top.name == "Marfan syndrome" and top.rank == 1
    assert top.genes == ("FBN1",)
    assert top.inheritance == ("Autosomal dominant inheritance",)
    assert top.onset == "antenatal, neonatal, infantile, childhood, juvenile, young adult, later adult"

    arach = evidence(top, "HP:0001166")
    assert arach.match == "exact" and not arach.excluded
    assert (arach.annotation_id, arach.annotation_label) == ("HP:0001166", "Arachnodactyly")
    assert arach.term_label == "Arachnodactyly"
    assert arach.frequency == pytest.approx(0.9)  # the highest of OMIM 124/197 and ORPHA "very frequent"
    assert arach.contribution > 0

    lens = evidence(top, "HP:0001083")
    assert lens.match == "exact" and lens.annotation_id == "HP:0001083"
    assert lens.frequency == pytest.approx(0.55)  # ORPHA "frequent" beats OMIM 119/251 -> 120/253

    assert {e.term_id for e in top.evidence} == set(MARFAN_TERMS)
    weights = [e.contribution for e in top.evidence]
    assert weights == sorted(weights, reverse=True)  # what counted most comes first
    assert top.background < 0  # what any findings would score for a disease annotated like Marfan
    assert top.score == pytest.approx(sum(weights) + top.onset_fit + top.background, abs=1e-3)


def test_ranks_scores_and_probabilities_are_consistent(toy_engine):
    diff = toy_engine.diagnose(Case(observed=MARFAN_TERMS), top=50)
    assert diff.n_ranked == 16
    assert len(diff.diseases) == 16  # top larger than the knowledge base shows everything
    assert [d.rank for d in diff.diseases] == list(range(1, 17))
    scores = [d.score for d in diff.diseases]
    assert scores == sorted(scores, reverse=True)
    assert sum(d.probability for d in diff.diseases) == pytest.approx(1.0, abs=1e-4)
    assert len(toy_engine.diagnose(Case(observed=MARFAN_TERMS), top=3).diseases) == 3


def test_probabilities_sum_to_one_and_follow_scores(toy_engine):
    s = toy_engine.scores(toy_engine.prepare(Case(observed=TALL_TERMS)))
    p = toy_engine.probabilities(s)
    assert p.shape == (16,)
    assert p.sum() == pytest.approx(1.0)
    assert (p > 0).all()
    assert np.array_equal(np.argsort(-s, kind="stable"), np.argsort(-p, kind="stable"))


def test_excluded_term_the_disease_usually_has_is_counted_against(engine):
    diff = engine.diagnose(Case(observed=("HP:0000365",), excluded=("HP:0001250",)), top=16)
    ev = evidence(ranked(diff, "OMIM:100001"), "HP:0001250")  # seizure: very frequent (HP:0040281)
    assert ev.excluded and ev.match == "counted against"
    assert ev.annotation_id == "HP:0001250" and ev.frequency == pytest.approx(0.9, abs=0.1)


def test_zero_of_m_annotation_acts_as_not(engine):
    # Loeys-Dietz syndrome 1: ectopia lentis 0/32 in the HPOA, i.e. documented absent in 32 patients
    observed = engine.diagnose(Case(observed=("HP:0002616", "HP:0001166", "HP:0001083")), top=16)
    ev = evidence(ranked(observed, "OMIM:609192"), "HP:0001083")
    assert ev.match == "contradicted" and ev.contribution < 0
    excluded = engine.diagnose(Case(observed=("HP:0002616", "HP:0001166"), excluded=("HP:0001083",)), top=16)
    assert evidence(ranked(excluded, "OMIM:609192"), "HP:0001083").match == "consistent"
    # in Marfan it is frequent (119/251, Orphanet 30-79%), not near-obligate: its absence is not held against it
    assert evidence(ranked(excluded, "OMIM:154700"), "HP:0001083").match == "neutral"
    # 0/10 short stature of the toy deafness is a NOT annotation as well
    short = engine.diagnose(Case(observed=("HP:0000365", "HP:0004322")), top=16)
    assert evidence(ranked(short, "OMIM:100002"), "HP:0004322").match == "contradicted"


def test_excluded_term_the_disease_is_annotated_not_to_have_is_consistent(engine):
    case = Case(observed=("HP:0000365",), excluded=("HP:0001250",))
    diff = engine.diagnose(case, top=16)
    deaf = ranked(diff, "OMIM:100002")
    ev = evidence(deaf, "HP:0001250")
    assert ev.excluded and ev.match == "consistent" and ev.annotation_id == "HP:0001250"
    assert ev.contribution > 0
    usher = ranked(diff, "OMIM:276900")
    assert evidence(usher, "HP:0001250").match == "neutral"
    assert evidence(usher, "HP:0001250").contribution == 0
    # the NOT annotation breaks the tie with the other deafness disorders
    assert score_of(engine, "OMIM:100002", case) > score_of(engine, "OMIM:276900", case)


def test_observed_term_the_disease_is_annotated_not_to_have_is_contradicted(engine):
    with_seizure = Case(observed=("HP:0000365", "HP:0001250"))
    diff = engine.diagnose(with_seizure, top=16)
    ev = evidence(ranked(diff, "OMIM:100002"), "HP:0001250")
    assert ev.match == "contradicted" and not ev.excluded and ev.annotation_id == "HP:0001250"
    assert ev.contribution < 0
    # a descendant of a NOT term is contradicted too
    focal = engine.diagnose(Case(observed=("HP:0000365", "HP:0007359")), top=16)
    assert evidence(ranked(focal, "OMIM:100002"), "HP:0007359").match == "contradicted"


def test_contradiction_lowers_the_score(engine):
    deaf = Case(observed=("HP:0000365",))
    deaf_seizure = Case(observed=("HP:0000365", "HP:0001250"))
    assert score_of(engine, "OMIM:100002", deaf_seizure) < score_of(engine, "OMIM:100002", deaf)
    assert score_of(engine, "OMIM:276900", deaf_seizure) == pytest.approx(
        score_of(engine, "OMIM:276900", deaf))  # Usher has nothing to say about seizures


def test_inherits_annotations_of_the_broader_orphanet_disorder(toy_kb):
    # OMIM:614185 (Geleophysic dysplasia 2) has only short stature; its broader ORPHA:2623 also has brachydactyly
    case = Case(observed=("HP:0004322", "HP:0001156"))
    default = DiagnosisEngine(toy_kb, Params.fitted().with_(**MECHANISMS), cache=False)
    off = DiagnosisEngine(toy_kb, Params.fitted().with_(**{**MECHANISMS, "inherited_frequency": 0.0}), cache=False)
    assert score_of(default, "OMIM:614185", case) > score_of(off, "OMIM:614185", case)
    # inherited annotations count less than the disorder's own
    assert score_of(default, "OMIM:614185", case) < score_of(default, "ORPHA:2623", case)
    # the inherited annotation shows in the evidence, at a fraction of the group's frequency
    gd2 = ranked(default.diagnose(case, top=16), "OMIM:614185")
    brachy = evidence(gd2, "HP:0001156")
    assert brachy.annotation_id == "HP:0001156"
    assert brachy.frequency == pytest.approx(0.9 * default.params.inherited_frequency)
    assert evidence(ranked(off.diagnose(case, top=16), "OMIM:614185"), "HP:0001156").annotation_id is None


# -- sex --------------------------------------------------------------------------------------------
def test_male_only_annotation_does_not_help_a_female_case(engine):
    terms = ("HP:0004322", "HP:0000028", "HP:0001249")  # short stature, cryptorchidism, intellectual disability
    male = score_of(engine, "OMIM:100003", Case(observed=terms, sex="male"))
    female = score_of(engine, "OMIM:100003", Case(observed=terms, sex="female"))
    unknown = score_of(engine, "OMIM:100003", Case(observed=terms))
    assert female < male
    assert male == pytest.approx(unknown)
    # diseases without sex-specific annotations score the same for both sexes
    assert score_of(engine, "OMIM:117550", Case(observed=terms, sex="female")) == pytest.approx(
        score_of(engine, "OMIM:117550", Case(observed=terms, sex="male")))
    diff = engine.diagnose(Case(observed=terms, sex="female"), top=16)
    assert evidence(ranked(diff, "OMIM:100003"), "HP:0000028").match == "unmatched"
    diff = engine.diagnose(Case(observed=terms, sex="male"))
    assert diff.diseases[0].ids == ("OMIM:100003",)
    assert evidence(diff.diseases[0], "HP:0000028").match == "exact"


def test_case_sex_is_normalised():
    assert Case(observed=("HP:0001166",), sex="FEMALE").sex == "female"
    assert Case(observed=("HP:0001166",), sex="other").sex is None


# -- masking the case's own publication ---------------------------------------------------------
def test_mask_source_drops_annotations_only_from_the_case_publication(engine):
    plain = Case(observed=TALL_TERMS, source_pmids=(11111111,))
    unmasked = score_of(engine, "OMIM:100004", plain)
    masked = score_of(engine, "OMIM:100004", plain, mask_source=True)
    assert masked < unmasked
    # the myopia annotation is also referenced by PMID:22222222, so it survives a mask of 11111111 alone
    both = Case(observed=TALL_TERMS, source_pmids=(11111111, 22222222))
    masked_both = score_of(engine, "OMIM:100004", both, mask_source=True)
    assert masked_both < masked
    # other diseases are untouched
    for other in ("OMIM:154700", "OMIM:236200", "OMIM:108300"):
        assert score_of(engine, other, plain, mask_source=True) == pytest.approx(
            score_of(engine, other, plain))


def test_mask_source_needs_the_flag_and_a_matching_pmid(toy_engine):
    unmasked = score_of(toy_engine, "OMIM:100004", Case(observed=TALL_TERMS))
    assert score_of(toy_engine, "OMIM:100004", Case(observed=TALL_TERMS, source_pmids=(11111111,))) == unmasked
    assert score_of(toy_engine, "OMIM:100004", Case(observed=TALL_TERMS, source_pmids=(99999999,)),
                    mask_source=True) == pytest.approx(unmasked)
    assert score_of(toy_engine, "OMIM:100004", Case(observed=TALL_TERMS), mask_source=True) == pytest.approx(unmasked)


def test_mask_source_in_diagnose_moves_the_disease_down(toy_kb):
    # (without the background correction, which falls with the masked profile's size in this three-term toy)
    engine = DiagnosisEngine(toy_kb, Params().with_(background_weight=0.0), cache=False)
    case = Case(observed=TALL_TERMS, source_pmids=(11111111, 22222222))
    before = ranked(engine.diagnose(case, top=16), "OMIM:100004")
    after = ranked(engine.diagnose(case, top=16, mask_source=True), "OMIM:100004")
    assert after.rank > before.rank and after.score < before.score


# -- warnings ---------------------------------------------------------------------------------------
def warnings_of(engine, case: Case, **kw) -> tuple[str, ...]:
    return engine.diagnose(case, **kw).warnings


def test_warning_for_fewer_than_three_terms(toy_engine):
    assert any(w.startswith("only 2 specific observed term(s)") for w in warnings_of(toy_engine, Case(observed=MARFAN_TERMS[:2])))
    assert not any("specific observed term(s)" in w for w in warnings_of(toy_engine, Case(observed=MARFAN_TERMS)))


def test_warning_for_excluded_ancestor_of_an_observed_term(toy_engine):
    ws = warnings_of(toy_engine, Case(observed=("HP:0007359", "HP:0001249"), excluded=("HP:0001250",)))
    (w,) = [w for w in ws if w.startswith("contradiction")]
    assert "HP:0001250" in w and "ancestor" in w and "HP:0007359" in w
    same = warnings_of(toy_engine, Case(observed=("HP:0007359",), excluded=("HP:0007359",)))
    assert any(w.startswith("contradiction") and "the same term" in w for w in same)
    assert not any(w.startswith("contradiction") for w in warnings_of(toy_engine, Case(observed=MARFAN_TERMS, excluded=("HP:0001250",))))


def test_warning_for_redundant_ancestor(toy_engine):
    case = Case(observed=("HP:0001250", "HP:0007359", "HP:0001249"))
    (w,) = [w for w in warnings_of(toy_engine, case) if w.startswith("redundant")]
    assert "HP:0001250" in w and "HP:0007359" not in w
    prepared = toy_engine.prepare(case)
    o = toy_engine.ontology
    assert [o.ids[t] for t in prepared.observed] == ["HP:0007359", "HP:0001249"]  # scored once
    assert [o.ids[t] for t in prepared.observed_all] == ["HP:0001250", "HP:0007359", "HP:0001249"]


def test_warning_for_alt_id_redirect_and_evidence_uses_the_current_id(toy_engine):
    diff = toy_engine.diagnose(Case(observed=("HP:0001505", "HP:0001083", "HP:0002616")))
    (w,) = [w for w in diff.warnings if "alternative or obsolete" in w]
    assert "HP:0001505" in w and "HP:0001166" in w and "Arachnodactyly" in w
    assert diff.diseases[0].name == "Marfan syndrome"
    assert evidence(diff.diseases[0], "HP:0001166").match == "exact"
    obsolete = warnings_of(toy_engine, Case(observed=("HP:0001724", "HP:0001166")))
    assert any("HP:0001724" in w and "HP:0004942" in w for w in obsolete)


def test_no_warning_for_a_clean_case(toy_engine):
    ws = warnings_of(toy_engine, Case(observed=MARFAN_TERMS, excluded=("HP:0001250",)))
    assert not [w for w in ws if re.match(r"(contradiction|redundant|only \d)", w) or "alternative" in w]


def test_excluded_non_phenotype_term_is_reported(toy_engine):
    ws = warnings_of(toy_engine, Case(observed=MARFAN_TERMS, excluded=("HP:0000006",)))
    assert any("HP:0000006" in w and "not a phenotypic abnormality" in w for w in ws)


# -- input errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "case",
    [
        Case(observed=()),
        Case(observed=(), excluded=("HP:0001250",)),
        Case(observed=("HP:0003593", "HP:0000006")),  # onset and inheritance only
    ],
    ids=["nothing", "only-excluded", "no-phenotype"],
)
def test_no_observed_phenotype_raises_input_error(toy_engine, case):
    with pytest.raises(InputError, match="no observed phenotypic abnormality"):
        toy_engine.diagnose(case)


def test_unknown_id_strict_raises(toy_engine):
    with pytest.raises(UnknownTermError, match="HP:9999999") as exc:
        toy_engine.diagnose(Case(observed=("HP:0001166", "HP:9999999")))
    assert "observed terms" in str(exc.value)
    with pytest.raises(UnknownTermError, match="excluded terms"):
        toy_engine.diagnose(Case(observed=("HP:0001166",), excluded=("HP:9999999",)))


def test_unknown_id_lenient_warns_and_skips(toy_engine):
    lenient = toy_engine.diagnose(Case(observed=MARFAN_TERMS + ("HP:9999999",)), strict=False)
    assert any("HP:9999999" in w and "skipped" in w for w in lenient.warnings)
    plain = toy_engine.diagnose(Case(observed=MARFAN_TERMS))
    assert [(d.ids, d.score) for d in lenient.diseases] == [(d.ids, d.score) for d in plain.diseases]
    with pytest.raises(InputError):  # nothing usable left
        toy_engine.diagnose(Case(observed=("HP:9999999",)), strict=False)


def test_obsolete_id_without_replacement_raises_naming_the_alternative(toy_engine):
    with pytest.raises(InputError, match="HP:0000545"):
        toy_engine.diagnose(Case(observed=("HP:0008012", "HP:0001166")))


# -- onset, age, inheritance ------------------------------------------------------------------------
def test_onset_term_given_as_observed_term_sets_onset(engine):
    prepared = engine.prepare(Case(observed=("HP:0007359", "HP:0001249", "HP:0003593")))
    assert prepared.onset_bins == 1 << 2  # infantile
    assert engine.ontology.index("HP:0003593") not in prepared.observed_all
    assert not any("not a phenotypic abnormality" in w for w in prepared.warnings)
    with_onset = Case(observed=("HP:0007359", "HP:0001249", "HP:0003593"))
    without = Case(observed=("HP:0007359", "HP:0001249"))
    assert score_of(engine, "OMIM:100001", with_onset) > score_of(engine, "OMIM:100001", without)


def test_explicit_onset_wins_over_an_observed_onset_term(toy_engine):
    prepared = toy_engine.prepare(Case(observed=("HP:0007359", "HP:0003593"), onset="P30Y"))
    assert prepared.onset_bins == age_bin(30.0)


@pytest.mark.parametrize("onset, expected", [("P5M", 1 << 2), ("P3Y", 1 << 3), ("HP:0003577", 1 << 1), ("P2W", 1 << 1)])
def test_onset_as_iso_age_or_hpo_term(toy_engine, onset, expected):
    assert toy_engine.prepare(Case(observed=("HP:0001166",), onset=onset)).onset_bins == expected


def test_onset_mismatch_lowers_the_score(engine):
    terms = ("HP:0007359", "HP:0001249")
    infant = score_of(engine, "OMIM:100001", Case(observed=terms, onset="P5M"))
    adult = score_of(engine, "OMIM:100001", Case(observed=terms, onset="P45Y"))
    unknown = score_of(engine, "OMIM:100001", Case(observed=terms))
    assert adult < unknown < infant
    # an adjacent class (childhood next to infantile) is neither a match nor a mismatch
    assert score_of(engine, "OMIM:100001", Case(observed=terms, onset="P3Y")) == pytest.approx(unknown)
    # a disease with unknown onset is not affected
    assert score_of(engine, "OMIM:100004", Case(observed=terms, onset="P45Y")) == pytest.approx(
        score_of(engine, "OMIM:100004", Case(observed=terms)))


@pytest.mark.parametrize("onset", ["three years", "HP:0001166", "P"])
def test_bad_onset_raises_input_error(toy_engine, onset):
    with pytest.raises(InputError, match="onset"):
        toy_engine.prepare(Case(observed=("HP:0001166",), onset=onset))


def test_age_at_last_encounter(toy_engine):
    prepared = toy_engine.prepare(Case(observed=("HP:0001166",), age="P1Y"))
    assert prepared.age_bins == age_bin(1.0) and prepared.onset_bins == 0
    with pytest.raises(InputError, match="age"):
        toy_engine.prepare(Case(observed=("HP:0001166",), age="old"))


def test_observed_inheritance_term_is_recorded_not_scored(toy_engine):
    prepared = toy_engine.prepare(Case(observed=("HP:0001166", "HP:0000006")))
    assert prepared.inheritance == ("HP:0000006",)
    assert [toy_engine.ontology.ids[t] for t in prepared.observed] == ["HP:0001166"]


# -- next best phenotypes ---------------------------------------------------------------------------
def test_next_best_phenotypes_are_new_informative_terms(toy_engine):
    case = Case(observed=("HP:0000365",), excluded=("HP:0001250",))
    diff = toy_engine.diagnose(case, suggestions=5)
    sugg = diff.next_best_phenotypes
    assert sugg, "the deafness differential (Usher, JLNS, ...) has terms that separate the candidates"
    o = toy_engine.ontology
    present = {o.ids[a] for a in o.ancestors(o.index("HP:0000365"))}
    ids = [s.term_id for s in sugg]
    assert len(ids) == len(set(ids)) <= 5
    for s in sugg:
        assert s.term_id not in present and s.term_id != "HP:0001250"
        assert s.label == o.labels[o.index(s.term_id)]
        assert o.phenotype_mask[o.index(s.term_id)]
        assert s.information_gain > 0 and 0 < s.probability_present < 1
    # no suggestion is an ancestor of another
    for a in ids:
        for b in ids:
            if a != b:
                assert not o.is_ancestor(o.index(a), o.index(b))
    gains = [s.information_gain for s in sugg]
    assert gains == sorted(gains, reverse=True)
    # Prolonged QT interval would single out Jervell and Lange-Nielsen syndrome
    qt = next(s for s in sugg if s.term_id == "HP:0001657")
    assert "Jervell and Lange-Nielsen syndrome 1" in qt.favours_if_present


def test_next_best_phenotypes_can_be_switched_off(toy_engine):
    assert toy_engine.diagnose(Case(observed=("HP:0000365",)), suggestions=0).next_best_phenotypes == ()
    assert len(toy_engine.diagnose(Case(observed=("HP:0000365",)), suggestions=1).next_best_phenotypes) == 1


# -- serialisation ----------------------------------------------------------------------------------
def test_differential_to_dict_is_json_serialisable(toy_engine):
    diff = toy_engine.diagnose(Case(observed=MARFAN_TERMS, excluded=("HP:0001250",), id="case-7"))
    data = json.loads(json.dumps(diff.to_dict()))
    assert {"kb_version", "warnings", "diseases", "next_best_phenotypes"} <= set(data)
    assert data["kb_version"] == toy_engine.kb.version and data["case_id"] == "case-7"
    assert isinstance(data["warnings"], list)
    first = data["diseases"][0]
    assert {"rank", "ids", "name", "score", "probability", "evidence"} <= set(first)
    assert first["rank"] == 1 and first["ids"][0] == "OMIM:154700" and first["name"] == "Marfan syndrome"
    assert isinstance(first["score"], float) and 0 < first["probability"] <= 1
    ev = {e["term_id"]: e for e in first["evidence"]}
    assert ev["HP:0001166"]["match"] == "exact"
    # an excluded finding Marfan rarely shows carries no weight: summarised apart, not a "+0.00" row
    assert [e["term_id"] for e in first["not_counted"]] == ["HP:0001250"] and "HP:0001250" not in ev
    for s in data["next_best_phenotypes"]:
        assert {"term_id", "label", "information_gain"} <= set(s)


# -- caches and the facade --------------------------------------------------------------------------
def test_engine_cache_round_trip(toy_kb, tmp_path):
    first = DiagnosisEngine(toy_kb, cache=tmp_path)
    files = list(tmp_path.glob("engine-*.npz"))
    assert len(files) == 1
    second = DiagnosisEngine(toy_kb, cache=tmp_path)
    case = Case(observed=TALL_TERMS, sex="female", excluded=("HP:0001250",))
    assert np.allclose(first.scores(first.prepare(case)), second.scores(second.prepare(case)))
    other = DiagnosisEngine(toy_kb, Params.fitted().with_(not_penalty=1.5), cache=tmp_path)
    assert len(list(tmp_path.glob("engine-*.npz"))) == 2  # parameters are part of the cache key
    assert other.params.not_penalty == 1.5


def test_raredx_facade(tmp_path):
    rdx = RareDx.load(TOY, cache_dir=tmp_path)
    diff = rdx.diagnose(Case(observed=MARFAN_TERMS), top=2)
    assert [d.rank for d in diff.diseases] == [1, 2]
    assert diff.diseases[0].name == "Marfan syndrome"
    assert list(tmp_path.glob("kb-*.npz")) and list(tmp_path.glob("engine-*.npz"))


# -- known bugs -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "terms, disease, term",
    [
        (("HP:0000365",), "OMIM:100002", "HP:0000365"),  # ties with Hearing abnormality (lower index)
        (MARFAN_TERMS, "OMIM:154700", "HP:0002616"),  # Aortic aneurysm has a higher noisy-OR frequency
    ],
    ids=["hearing-impairment", "aortic-root-aneurysm"],
)
def test_evidence_is_exact_when_the_disease_has_the_patients_term(toy_engine, terms, disease, term):
    diff = toy_engine.diagnose(Case(observed=terms), top=16)
    ev = evidence(ranked(diff, disease), term)
    assert ev.annotation_id == term
    assert ev.match == "exact"


def test_common_term_annotated_exactly_is_not_unmatched(toy_engine):
    diff = toy_engine.diagnose(Case(observed=TALL_TERMS), top=16)
    ev = evidence(ranked(diff, "OMIM:108300"), "HP:0000545")  # Stickler: myopia 28/28
    assert ev.contribution > 0
    assert ev.match != "unmatched"


def test_engine_builds_when_no_annotation_cites_pubmed(toy_copy):
    p = toy_copy / "phenotype.hpoa"
    lines = []
    for line in p.read_text().splitlines(keepends=True):
        parts = line.split("\t")
        if not line.startswith("#") and len(parts) > 4 and parts[0] != "database_id":
            parts[4] = parts[0]  # cite the disease entry itself, as OMIM/ORPHA rows often do
        lines.append("\t".join(parts))
    p.write_text("".join(lines))
    kb = build_knowledge_base(find_source_files(toy_copy))
    assert (kb.annotations.ref_pmid < 0).all()
    engine = DiagnosisEngine(kb, cache=False)
    assert engine.diagnose(Case(observed=MARFAN_TERMS)).diseases[0].name == "Marfan syndrome"
