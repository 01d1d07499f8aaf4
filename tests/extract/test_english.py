"""English clinical wording: the phrases clinicians write that are no HPO label (issue 12's list), predicate
style, milestones with ages, coordination and variants."""

from __future__ import annotations

import pytest

from extract_fixtures import extract_cache, extractor, ids  # noqa: F401 - fixtures

HAND_FLAPPING, STEREOTYPY, SPEECH_DELAY, DELAYED_WALKING = "HP:0100023", "HP:0000733", "HP:0000750", "HP:0031936"
VISION, OBESITY, LEARNING, SWEAT_CHLORIDE = "HP:0000504", "HP:0001513", "HP:0001328", "HP:0012236"
TALL, SLENDER, HEPATOMEGALY, HEARING = "HP:0000098", "HP:0001533", "HP:0002240", "HP:0000365"


@pytest.mark.parametrize(("text", "expected"), [
    # issue 12: "English notes miss"
    ("Hand-flapping stereotypies.", {(HAND_FLAPPING, False), (STEREOTYPY, False)}),
    ("She has hand flapping.", {(HAND_FLAPPING, False)}),
    ("He speaks only a few words.", {(SPEECH_DELAY, False)}),
    ("He walked at 3 years.", {(DELAYED_WALKING, False)}),
    ("Denies vision problems.", {(VISION, True)}),
    ("Obese.", {(OBESITY, False)}),
    ("Learning disability.", {(LEARNING, False)}),
    ("Salty sweat.", {(SWEAT_CHLORIDE, False)}),
    ("Tall, thin.", {(TALL, False), (SLENDER, False)}),
])
def test_issue_12_english_phrases(ids, text, expected) -> None:
    assert ids(text, lang="en") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("She walked at 12 months.", set()),  # on time: no finding
    ("Walked independently at 24 months.", {(DELAYED_WALKING, False)}),
    ("He did not walk until 30 months.", {(DELAYED_WALKING, False)}),  # "not" is part of the statement
    ("Sat unsupported at 14 months.", {("HP:0025336", False)}),
    ("Sat at 7 months.", set()),
    ("First words at two years.", {(SPEECH_DELAY, False)}),
    ("No words at 2 years; she is non-verbal.", {("HP:0001344", False)}),
    ("He is unable to walk.", {("HP:0002540", False)}),
])
def test_milestones_and_speech(ids, text, expected) -> None:
    assert ids(text, lang="en") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("A tall, thin boy.", {(TALL, False), (SLENDER, False)}),
    ("She is tall.", {(TALL, False)}),
    ("Obese and tall.", {(OBESITY, False), (TALL, False)}),
    ("She is short for her age.", {("HP:0004322", False)}),
    ("A tall forehead.", {("HP:0000348", False)}),  # tall said of the forehead, not of the patient
    ("He is short of breath.", {("HP:0002094", False)}),  # dyspnoea, not short stature
])
def test_body_build_adjectives(ids, text, expected) -> None:
    assert ids(text, lang="en") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("The liver is enlarged.", {(HEPATOMEGALY, False)}),
    ("The liver was not enlarged.", {(HEPATOMEGALY, True)}),
    ("Hearing is normal.", {(HEARING, True)}),
    ("The kidneys are markedly enlarged.", {("HP:0000105", False)}),
    ("Creatine kinase was markedly elevated.", {("HP:0003236", False)}),
    ("Ears are low-set.", {("HP:0000369", False)}),
])
def test_predicate_style(ids, text, expected) -> None:
    assert ids(text, lang="en") == expected


def test_variants_hyphens_qualifiers_and_plurals(ids) -> None:
    assert ("HP:0004467", False) in ids("pre-auricular pits", lang="en")  # prefix written apart
    assert (HAND_FLAPPING, False) in ids("flapping of the hands", lang="en")  # "Recurrent" left out, inverted
    assert ("HP:0001054", False) in ids("multiple nevi", lang="en")  # multiple / numerous
    assert ("HP:0000951", False) in ids("skin manifestations", lang="en")  # abnormality of the skin
    assert ("HP:0002342", False) in ids("Intellectual disability, moderate.", lang="en")
    assert ("HP:0001830", False) in ids("Postaxial polydactyly of both feet.", lang="en")
    assert ids("Brachydactyly type A-1.", lang="en") == {("HP:0009371", False)}  # Type A1, word order


def test_coordination_across_comma_and(ids) -> None:
    found = {i for i, _ in ids("branchial, otic, and renal anomalies", lang="en")}
    assert {"HP:0000598", "HP:0000077"} <= found  # ear and kidney, from ", and"


def test_functional_findings_keep_context(ids) -> None:
    assert ids("His brother walked at 3 years.", lang="en") == set()  # a relative's
    assert ids("His brother walked at 3 years.", lang="en", include_family=True) == {(DELAYED_WALKING, False)}
    assert ids("No vision problems, not obese.", lang="en") == {(VISION, True), (OBESITY, True)}


def test_offsets_of_functional_findings(extractor) -> None:
    text = "Boy. He walked at 3 years and speaks only a few words."
    for t in extractor.extract(text, "en"):
        assert text[t.start : t.end] == t.text
    assert [t.text for t in extractor.extract(text, "en")] == ["walked at 3 years", "speaks only a few words"]


@pytest.mark.parametrize("text", [
    "Epilepsy clinic.", "Skeletal dysplasia clinic, second visit.",  # a service, not the patient
    "a deletion of the short arm of chromosome 15",  # no short arm
    "abnormalities affecting the eye lids",  # a verb, not *Abnormal affect*
])
def test_not_findings(ids, text) -> None:
    assert not any(i in ("HP:0001250", "HP:0002652", "HP:0009824", "HP:0025766") for i, _ in ids(text, lang="en"))
