"""Concept recognition: matching, negation, family history, uncertainty, offsets, languages."""

from __future__ import annotations

import pytest

from raredx.errors import InputError
from raredx.extract import ExtractedTerm, observed_and_excluded, onset_of
from extract_fixtures import extract_cache, extractor, ids  # noqa: F401 - fixtures

SEIZURE, HEARING, HYPOTONIA, SCOLIOSIS = "HP:0001250", "HP:0000365", "HP:0001252", "HP:0002650"
ID, GDD, VSD, MICROCEPHALY = "HP:0001249", "HP:0001263", "HP:0001629", "HP:0000252"


def test_labels_synonyms_plurals_and_case(ids) -> None:
    assert ids("SEIZURES. Hypotonia.") == {(SEIZURE, False), (HYPOTONIA, False)}
    assert (ID, False) in ids("mental retardation")  # an HPO synonym
    assert (MICROCEPHALY, False) in ids("He is microcephalic.")  # noun/adjective pair


def test_word_order_and_of_inversion(ids) -> None:
    assert ("HP:0001792", False) in ids("nails hypoplastic")  # Small nail / hypoplastic nails
    assert ("HP:0000077", False) in ids("renal anomalies")  # Abnormality of the kidney


def test_genetics_abbreviations_are_case_sensitive(ids) -> None:
    assert (VSD, False) in ids("Echo: VSD.")
    assert ids("ASD") == set()  # atrial septal defect or autism: ambiguous, left out
    assert not any(i == ID for i, _ in ids("the id of the sample"))


def test_longest_match_wins_and_overlaps_resolve(extractor) -> None:
    terms = extractor.extract("Aortic root aneurysm was found.")
    assert [t.id for t in terms] == ["HP:0002616"]
    both = {t.id for t in extractor.extract("aplastic or hypoplastic nails")}
    assert {"HP:0001792", "HP:0001798"} <= both  # coordination: small nail and anonychia


@pytest.mark.parametrize(
    "text",
    [
        "No seizures.", "The patient denies seizures.", "without seizures", "Absence of seizures.",
        "Seizures were not observed.", "negative for seizures", "Seizures: absent.",
    ],
)
def test_english_negation(ids, text) -> None:
    assert ids(text) == {(SEIZURE, True)}


def test_negation_scope(ids) -> None:
    assert ids("No seizures, hypotonia or scoliosis.") == {(SEIZURE, True), (HYPOTONIA, True), (SCOLIOSIS, True)}
    assert ids("No seizures, but marked hypotonia.") == {(SEIZURE, True), (HYPOTONIA, False)}
    assert ids("No seizures. Hypotonia.") == {(SEIZURE, True), (HYPOTONIA, False)}
    assert ("HP:0001344", False) in ids("absence of speech")  # a finding, not a negation


def test_normal_findings_exclude_unambiguous_terms(ids) -> None:
    assert ids("Normal hearing.") == {(HEARING, True)}
    assert ids("normal intelligence") == {(ID, True)}


def test_family_history_is_not_the_patients(extractor, ids) -> None:
    assert ids("His mother has epilepsy.") == set()
    assert ids("Family history of seizures.") == set()
    assert ids("Seizures in his brother. The patient has hypotonia.") == {(HYPOTONIA, False)}
    flagged = extractor.extract("His mother has epilepsy.", include_family=True)
    assert [(t.id, t.family) for t in flagged] == [(SEIZURE, True)]
    assert ids("According to his mother, he has seizures.") == {(SEIZURE, False)}


def test_uncertainty_is_flagged_not_excluded(extractor) -> None:
    for text in ("Possible scoliosis.", "suspected scoliosis", "scoliosis?", "?scoliosis"):
        (t,) = extractor.extract(text)
        assert (t.id, t.uncertain, t.excluded) == (SCOLIOSIS, True, False), text
    (t,) = extractor.extract("Scoliosis.")
    assert not t.uncertain


@pytest.mark.parametrize("text", ["судороги", "Судорогами", "судорог", "СУДОРОГИ", "судорожный синдром", "эпилепсия"])
def test_cyrillic_case_and_inflection(ids, text) -> None:
    assert ids(f"У ребенка {text} с 6 месяцев.") == {(SEIZURE, False)}


@pytest.mark.parametrize(
    "text",
    ["Судорог нет.", "Судороги не отмечаются.", "без судорог", "Отрицает судороги.", "Судороги отсутствуют.",
     "Судорог не было.", "не выявлено судорог"],
)
def test_russian_negation(ids, text) -> None:
    assert ids(text) == {(SEIZURE, True)}


def test_russian_context(ids, extractor) -> None:
    assert ids("Умственная отсталость, ЗПМР. Слух сохранен.") == {(ID, False), (GDD, False), (HEARING, True)}
    assert ids("В семье у матери эпилепсия.") == set()
    assert ids("У брата судороги.") == set()
    assert ids("Со слов матери, судороги с 6 месяцев.") == {(SEIZURE, False)}
    (t,) = extractor.extract("Подозрение на сколиоз.")
    assert (t.id, t.uncertain) == (SCOLIOSIS, True)
    assert ids("Отсутствие сосательного рефлекса, крипторхизм.") >= {("HP:0000028", False)}


def test_mixed_language_text(ids) -> None:
    text = "Ребенок с seizures и выраженной гипотонией; no scoliosis."
    assert ids(text) >= {(SEIZURE, False), (SCOLIOSIS, True)}
    assert any(i in (HYPOTONIA, "HP:0006829") for i, _ in ids(text))
    assert {i for i, _ in ids(text, lang="en")} == {SEIZURE, SCOLIOSIS}
    assert SEIZURE not in {i for i, _ in ids(text, lang="ru")}


def test_offsets_point_into_the_text(extractor) -> None:
    text = "Жалобы: судороги.\nOn examination: short stature, no hearing loss."
    terms = extractor.extract(text)
    assert all(text[t.start : t.end] == t.text for t in terms)
    got = {(t.id, t.start, t.end, t.excluded) for t in terms}
    assert got == {(SEIZURE, 8, 16, False), ("HP:0004322", 34, 47, False), (HEARING, 52, 64, True)}
    assert {t.lang for t in terms} == {"ru", "en"}


def test_onset_terms_where_stated(extractor) -> None:
    terms = extractor.extract("Infantile onset seizures. Congenital heart defect.")
    assert onset_of(terms) == "HP:0003593"
    observed, _ = observed_and_excluded(terms)
    assert "HP:0003593" not in observed and SEIZURE in observed
    assert all(t.id != "HP:0003577" for t in terms)  # "congenital" alone states no onset


def test_observed_and_excluded_for_a_case() -> None:
    terms = [
        ExtractedTerm("HP:1", "a", 0, 1, "a"), ExtractedTerm("HP:2", "b", 2, 3, "b", excluded=True),
        ExtractedTerm("HP:1", "a", 4, 5, "a", excluded=True), ExtractedTerm("HP:3", "c", 6, 7, "c", family=True),
    ]
    assert observed_and_excluded(terms) == (("HP:1",), ("HP:2",))


def test_empty_text_and_bad_language(extractor) -> None:
    assert extractor.extract("") == []
    assert extractor.extract("....  ,,") == []
    with pytest.raises(InputError, match="language 'de'"):
        extractor.extract("seizures", lang="de")


def test_detect_language(extractor) -> None:
    assert extractor.detect_language("Судороги с рождения, seizures") == "ru"
    assert extractor.detect_language("Seizures since birth") == "en"
