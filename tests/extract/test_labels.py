"""Term names in the interface's language and term search in Russian (TermLabels): on the toy HPO with a
Russian lexicon written here, and on the real release with the shipped lexicon (the words the issue names)."""

from __future__ import annotations

from pathlib import Path

import pytest
from extract_fixtures import extract_cache  # noqa: F401 - a fixture

from raredx.extract import TermLabels
from raredx.extract._lexicon import RU_COLUMNS

ROWS = [
    ("HP:0001250", "судороги", "судорожный приступ | эпилептический приступ"),
    ("HP:0002373", "фебрильные судороги", "судороги при лихорадке"),
    ("HP:0000098", "высокий рост", ""),
    ("HP:0001249", "умственная отсталость", "нарушение интеллектуального развития"),
    ("HP:0000365", "тугоухость", "глухота"),
    ("HP:0000364", "полная глухота", ""),  # test data: a label with one more word than the query
    ("HP:9999999", "не термин", ""),  # not in the toy HPO: left out
]


@pytest.fixture(scope="module")
def labels(toy_kb, tmp_path_factory) -> TermLabels:
    path = tmp_path_factory.mktemp("ru") / "hpo_ru.tsv"
    lines = ["\t".join(RU_COLUMNS)] + ["\t".join((*r, "test", "reviewed")) for r in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return TermLabels.load(toy_kb.ontology, path)


def ranked(labels: TermLabels, query: str, lang: str = "ru") -> list[str]:
    return [h.id for h in labels.search(query, lang)]


def test_label_in_russian_with_english_fallback(labels: TermLabels) -> None:
    assert labels.label("HP:0001250", "ru") == "судороги"
    assert labels.label("HP:0001250", "en") == "Seizure"
    assert labels.label("HP:0001250", "en", "Seizure (stored)") == "Seizure (stored)"
    # no Russian label: the stored English label, else the ontology's, else the id
    assert labels.label("HP:0001166", "ru", "Arachnodactyly") == "Arachnodactyly"
    assert labels.label("HP:0001166", "ru") == "Arachnodactyly"
    assert labels.label("HP:9999999", "ru") == "HP:9999999"
    # an alternative id has the Russian label of the term it stands for
    assert labels.label("HP:0002279", "ru") == "судороги"


@pytest.mark.parametrize("query", ["судорог", "судорогами", "судорожных приступов", "Судороги", "эпилептическ"])
def test_inflected_and_partial_russian_words(labels: TermLabels, query: str) -> None:
    assert ranked(labels, query)[0] == "HP:0001250"


@pytest.mark.parametrize(("query", "term"), [("судрог", "HP:0001250"), ("судороки", "HP:0001250"),
                                             ("умствена отсталость", "HP:0001249")])
def test_small_typos(labels: TermLabels, query: str, term: str) -> None:
    assert ranked(labels, query)[0] == term


def test_more_words_narrow_the_hits(labels: TermLabels) -> None:
    assert ranked(labels, "судороги при лихорадке") == ["HP:0002373"]
    assert ranked(labels, "фебрильн")[0] == "HP:0002373"
    assert ranked(labels, "рост высокий") == ["HP:0000098"]


def test_a_name_without_other_words_comes_first(labels: TermLabels) -> None:
    # the synonym «глухота» of HP:0000365 before the label «полная глухота», which has a word more
    assert ranked(labels, "глухот")[:2] == ["HP:0000365", "HP:0000364"]


def test_hits_carry_both_labels(labels: TermLabels) -> None:
    hit = labels.search("судорог", "ru")[0]
    assert (hit.label, hit.english_label) == ("судороги", "Seizure")
    # an English query in the Russian interface: found in English, labelled in Russian
    hit = labels.search("seiz", "ru")[0]
    assert (hit.id, hit.label, hit.english_label) == ("HP:0001250", "судороги", "Seizure")
    assert labels.search("HP:0000098", "ru")[0].label == "высокий рост"
    # the English interface keeps the English label, whatever the query's script
    assert labels.search("судорог", "en")[0].label == "Seizure"
    # a term the lexicon does not name: the English label in both
    hit = labels.search("arachnod", "ru")[0]
    assert (hit.id, hit.label) == ("HP:0001166", "Arachnodactyly")


def test_nothing_for_nonsense(labels: TermLabels) -> None:
    assert ranked(labels, "абырвалг") == []
    assert ranked(labels, "   ") == []


def test_shipped_lexicon_on_the_real_hpo(extract_cache: Path) -> None:  # noqa: F811
    from raredx.kb import bundled_data_dir, load_knowledge_base

    labels = TermLabels.load(load_knowledge_base(bundled_data_dir(), cache=extract_cache).ontology)
    seizure = labels.search("судорог", "ru")[0]
    assert (seizure.id, seizure.english_label) == ("HP:0001250", "Seizure")
    assert seizure.label == labels.label("HP:0001250", "ru") != "Seizure"
    assert labels.search("микроцефал", "ru")[0].id == "HP:0000252"
    assert labels.search("микроцефалией", "ru")[0].id == "HP:0000252"
    assert labels.search("микрацефалия", "ru")[0].id == "HP:0000252"
