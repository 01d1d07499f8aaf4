"""Sex, age and onset stated in a note, in English and Russian, and where they go (case, phenopacket)."""

from __future__ import annotations

import json

import pytest

from raredx.extract import Demographics, demographics
from raredx.extract._demographics import age_in_months, iso_duration
from extract_fixtures import extract_cache, extractor  # noqa: F401 - fixtures
from test_extract_cli import _run


@pytest.mark.parametrize(("text", "expected"), [
    ("A 4-year-old girl with seizures.", Demographics("female", "P4Y", None)),
    ("12-year-old boy with tall stature.", Demographics("male", "P12Y", None)),
    ("Seizures, onset at 6 months.", Demographics(None, None, "P6M")),
    ("An 18-month-old female, seizures starting at 8 months.", Demographics("female", "P1Y6M", "P8M")),
    ("Woman aged 30 with hyperextensible skin.", Demographics("female", "P30Y", None)),
    ("Boy, 8 years, with obesity.", Demographics("male", "P8Y", None)),
    ("Seventeen-year-old with ataxia.", Demographics(None, "P17Y", None)),
    ("Hypotonia since birth.", Demographics(None, None, "HP:0003577")),
    ("Her mother is a 40-year-old woman. She is a 3-year-old girl.", Demographics("female", "P3Y", None)),
    ("His father has had seizures since 20 years. Boy, 6 years.", Demographics("male", "P6Y", None)),
])
def test_english(text, expected) -> None:
    assert demographics(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Девочка 4 лет. Судороги с 6 месяцев.", Demographics("female", "P4Y", "P6M")),
    ("Мальчик 10 лет, задержка развития с рождения.", Demographics("male", "P10Y", "HP:0003577")),
    ("Пациентка 25 лет. Жалобы с 3 лет.", Demographics("female", "P25Y", "P3Y")),
    ("Девочка 1 года 6 месяцев.", Demographics("female", "P1Y6M", None)),
    ("Мальчик 8 мес., гипотония с периода новорожденности.", Demographics("male", "P8M", "HP:0003623")),
    ("Ребенок в возрасте 5 лет.", Demographics(None, "P5Y", None)),
    ("У отца судороги с 30 лет. Девочка 7 лет.", Demographics("female", "P7Y", None)),
])
def test_russian(text, expected) -> None:
    assert demographics(text) == expected


def test_no_statement_gives_nothing() -> None:
    assert demographics("Seizures and hypotonia.") == Demographics()
    assert demographics("He was seen with his mother; he has seizures.") == Demographics("male", None, None)


def test_units_and_durations() -> None:
    assert age_in_months("3", "years") == 36 and age_in_months("two", "months") == 2
    assert age_in_months("3", "parsecs") is None
    assert [iso_duration(m) for m in (36, 18, 6, 0.5)] == ["P3Y", "P1Y6M", "P6M", "P15D"]


def test_case_from_text_fills_sex_age_onset(extract_cache) -> None:
    from raredx import RareDx
    from raredx.kb import bundled_data_dir

    rdx = RareDx.load(bundled_data_dir(), cache_dir=extract_cache)
    case = rdx.case_from_text("A 4-year-old girl with seizures since the age of 6 months. No hearing loss.")
    assert (case.sex, case.age, case.onset) == ("female", "P4Y", "P6M")
    assert "HP:0001250" in case.observed and "HP:0000365" in case.excluded
    assert rdx.case_from_text("Мальчик 10 лет. Судороги с рождения.").sex == "male"


def test_phenopacket_carries_sex_age_and_onset(extract_cache) -> None:
    r = _run(["extract", "-", "--format", "phenopacket"], extract_cache,
             stdin="Девочка 4 лет. Судороги с 6 месяцев.")
    assert r.returncode == 0, r.stderr
    packet = json.loads(r.stdout)
    assert packet["subject"]["sex"] == "FEMALE"
    assert packet["subject"]["timeAtLastEncounter"] == {"age": {"iso8601duration": "P4Y"}}
    seizure = next(f for f in packet["phenotypicFeatures"] if f["type"]["id"] == "HP:0001250")
    assert seizure["onset"] == {"age": {"iso8601duration": "P6M"}}

