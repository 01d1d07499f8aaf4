"""Sex, age and age at onset stated in a clinical note, in English or Russian: ``a 4-year-old girl``,
``onset at 6 months``, «Девочка 4 лет», «мальчик 10 лет», «с 6 месяцев», «с рождения».

Ages become ISO 8601 durations (``P4Y``, ``P1Y6M``, ``P6M``), as :class:`raredx.engine.Case` takes them;
onset from birth becomes the HPO term *Congenital onset*. The first statement of sex and of age wins;
of several onsets, the earliest.

>>> demographics("A 4-year-old girl with seizures since the age of 6 months.")
Demographics(sex='female', age='P4Y', onset='P6M')
>>> demographics("Мальчик 10 лет. Судороги с рождения.")
Demographics(sex='male', age='P10Y', onset='HP:0003577')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

CONGENITAL_ONSET, NEONATAL_ONSET, INFANTILE_ONSET = "HP:0003577", "HP:0003623", "HP:0003593"
ONSET_LABELS = {CONGENITAL_ONSET: "Congenital onset", NEONATAL_ONSET: "Neonatal onset", INFANTILE_ONSET: "Infantile onset"}

_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "одного": 1, "одному": 1, "двух": 2, "трех": 3, "трёх": 3, "четырех": 4, "четырёх": 4, "пяти": 5, "шести": 6,
    "семи": 7, "восьми": 8, "девяти": 9, "десяти": 10, "полугода": 0.5, "полутора": 1.5,
}
_N = r"\d+(?:[.,]\d+)?|" + "|".join(sorted(_WORDS, key=len, reverse=True))
_YEARS = re.compile(r"^(?:years?|yrs?|y|yo|лет|года?|г)$", re.IGNORECASE)
_MONTHS = re.compile(r"^(?:months?|mos?|m|мес(?:яц(?:а|ев)?)?)$", re.IGNORECASE)
_WEEKS = re.compile(r"^(?:weeks?|wks?|w|недел[ьяи]|нед)$", re.IGNORECASE)
_DAYS = re.compile(r"^(?:days?|d|дн(?:я|ей)|день|сут(?:ок|ки)?)$", re.IGNORECASE)
_UNIT = (r"years?|yrs?|yo\b|y(?=[/\s.,-]|$)|months?|mos?|weeks?|wks?|days?|"
         r"лет|года?|г(?=\.)|месяц(?:а|ев)?|мес|недел[ьяи]|нед|дн(?:я|ей)|день|сут(?:ок|ки)?")
_AGE = rf"(?P<n>{_N})(?:\s*(?:-|–)\s*|\s+)?(?P<unit>{_UNIT})(?:\s+(?:and\s+|и\s+)?(?P<n2>\d+)\s*(?P<unit2>months?|mos?|мес(?:яц(?:а|ев)?)?))?"

_ANY_AGE = re.sub(r"\?P<\w+>", "?:", _AGE)  # the same, without groups, to embed

# Nouns for the patient (not son/daughter: in adult notes they are relatives).
_FEMALE_EN = r"girl|woman|female|lady"
_MALE_EN = r"boy|man|male|gentleman"
_FEMALE_RU = r"девочк\w*|девушк\w*|женщин\w*|пациентк\w*|больная"
_MALE_RU = r"мальчик\w*|юнош\w*|мужчин\w*"

_SEX_NOUN = re.compile(
    rf"\b(?:(?P<f>{_FEMALE_EN})|(?P<m>{_MALE_EN}))s?\b|(?<![\wё])(?:(?P<fr>{_FEMALE_RU})|(?P<mr>{_MALE_RU}))",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"\b(?:(?P<f>she|her|hers|herself)|(?P<m>he|his|him|himself))\b", re.IGNORECASE)
_RELATIVE = re.compile(r"\b(?:mother|father|sister|brother|parent|sibling|aunt|uncle|cousin|grand\w+|mom|dad)s?\b"
                       r"|(?<![\wё])(?:мать|матер\w*|мам\w*|отец|отц\w*|пап\w*|брат\w*|сестр\w*|бабушк\w*|дедушк\w*)",
                       re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?;\n](?=\s)|\n")

_AGE_STATED = re.compile(
    rf"(?P<a>{_ANY_AGE})(?:\s*(?:-|–)\s*|\s+)old\b"                                   # 4-year-old, 4 years old
    rf"|\baged?\s+(?:of\s+)?(?P<b>{_ANY_AGE})"                                        # aged 4 years
    rf"|\baged?\s+(?P<bare>\d{{1,2}})\b(?!\s*(?:-|%|/))"                          # aged 30
    rf"|\b(?:{_FEMALE_EN}|{_MALE_EN}|child|infant|patient),?\s+(?P<c>{_ANY_AGE})"      # Boy, 8 years
    rf"|(?<![\wё])(?:{_FEMALE_RU}|{_MALE_RU}|ребен\w*|ребён\w*|пациент\w*|больн\w*),?\s+(?P<d>{_ANY_AGE})"  # девочка 4 лет
    rf"|в\s+возрасте\s+(?P<e>{_ANY_AGE})"                                            # в возрасте 5 лет
    rf"|(?P<f>\d+)[\s-]*(?:летн|месячн)\w*",                                        # 5-летний
    re.IGNORECASE,
)
_ONSET = re.compile(
    r"(?P<birth>\b(?:since|from|at|present\s+at|noted\s+at|evident\s+at)\s+birth\b|\bcongenital(?:ly)?\b(?=\s+onset)"
    r"|(?<![\wё])с\s+рождения|(?<![\wё])от\s+рождения|(?<![\wё])врожденн\w*\s+(?=характер)|(?<![\wё])при\s+рождении)"
    r"|(?P<neonatal>\b(?:since|from|in)\s+the\s+neonatal\s+period\b|\bsince\s+the\s+first\s+(?:days|weeks)\s+of\s+life\b"
    r"|(?<![\wё])с\s+периода\s+новорожденности|(?<![\wё])с\s+первых\s+(?:дней|недель)\s+жизни)"
    r"|(?P<infancy>\b(?:since|from|in)\s+(?:early\s+)?infancy\b|(?<![\wё])с\s+грудного\s+возраста)"
    rf"|\b(?:onset|began|begun|started|starting|beginning|appeared|presented|first\s+noted|first\s+noticed|noticed|"
    rf"noted|developed|since|from|начал\w*|появил\w*|отмеча\w*|дебют\w*)\s+(?:\w+\s+)?(?:at|in|from|since|by|around|"
    rf"с|в)?\s*(?:the\s+)?(?:age\s+(?:of\s+)?)?(?:возраст[еа]\s+)?(?P<a>{_ANY_AGE})"
    rf"|(?<![\wё])с\s+(?:возраста\s+)?(?P<r>{_ANY_AGE})",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Demographics:
    """What a note says of the patient: ``sex`` (``male``/``female``), ``age`` (ISO 8601, at the visit) and
    ``onset`` (ISO 8601, or an HPO onset term); None where the note does not say."""

    sex: Literal["male", "female"] | None = None
    age: str | None = None
    onset: str | None = None


def age_in_months(number: str, unit: str) -> float | None:
    """``3``, ``years`` -> 36; ``two``, ``months`` -> 2; None when either is not understood."""
    n = _number(number)
    if n is None:
        return None
    unit = unit.strip(" .").lower()
    for pattern, factor in ((_YEARS, 12.0), (_MONTHS, 1.0), (_WEEKS, 12 / 52), (_DAYS, 12 / 365)):
        if pattern.match(unit):
            return n * factor
    return None


def iso_duration(months: float) -> str:
    """36 -> ``P3Y``; 18 -> ``P1Y6M``; 0.5 -> ``P15D``."""
    if months < 1:
        return f"P{max(1, round(months * 365 / 12))}D"
    years, rest = divmod(round(months), 12)
    return "P" + (f"{years}Y" if years else "") + (f"{rest}M" if rest or not years else "")


def demographics(text: str) -> Demographics:
    """The patient's sex, age and onset as stated in ``text`` (English or Russian)."""
    return Demographics(sex=_sex(text), age=_age(text), onset=_onset(text))


def _number(word: str) -> float | None:
    word = word.lower().replace(",", ".")
    if word in _WORDS:
        return float(_WORDS[word])
    try:
        return float(word)
    except ValueError:
        return None


def _months(m: re.Match[str], group: str) -> float | None:
    months = age_in_months(m.group(group), m.group("unit") or "")
    if months is not None and m.group("n2"):
        months += float(m.group("n2"))
    return months


def _sex(text: str) -> Literal["male", "female"] | None:
    for m in _SEX_NOUN.finditer(text):
        if _about_relative(text, m.start()):
            continue
        return "female" if m.group("f") or m.group("fr") else "male"
    female = male = 0
    for m in _PRONOUN.finditer(text):
        female, male = (female + 1, male) if m.group("f") else (female, male + 1)
    if female != male and max(female, male) >= 2:
        return "female" if female > male else "male"
    return None


def _age(text: str) -> str | None:
    for m in _AGE_STATED.finditer(text):
        if _about_relative(text, m.start()):
            continue
        if m.group("bare"):
            return iso_duration(12 * float(m.group("bare")))
        if m.group("f"):
            unit = "months" if "месяч" in m.group().lower() else "years"
            return iso_duration(age_in_months(m.group("f"), unit) or 0)
        span = next(g for g in "abcde" if m.group(g))
        sub = re.fullmatch(_AGE, m.group(span), re.IGNORECASE)
        months = _months(sub, "n") if sub else None
        if months is not None:
            return iso_duration(months)
    return None


def _onset(text: str) -> str | None:
    earliest: tuple[float, str] | None = None
    for m in _ONSET.finditer(text):
        if _about_relative(text, m.start()):
            continue
        if m.group("birth"):
            found = (-1.0, CONGENITAL_ONSET)
        elif m.group("neonatal"):
            found = (-0.5, NEONATAL_ONSET)
        elif m.group("infancy"):
            found = (0.0, INFANTILE_ONSET)
        else:
            sub = re.fullmatch(_AGE, m.group("a") or m.group("r"), re.IGNORECASE)
            months = _months(sub, "n") if sub else None
            if months is None or _is_age_statement(text, m):
                continue
            found = (months, iso_duration(months))
        if earliest is None or found[0] < earliest[0]:
            earliest = found
    return earliest[1] if earliest else None


def _about_relative(text: str, pos: int) -> bool:
    """A relative is named earlier in the sentence (``Her mother is a 40-year-old woman``, «у отца с 30 лет»)."""
    start = max(0, pos - 120)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, start, pos)]
    return _RELATIVE.search(text, ends[-1] if ends else start, pos) is not None


def _is_age_statement(text: str, m: re.Match[str]) -> bool:
    """«девочка в возрасте 5 лет» / ``aged 5`` is the age at the visit, not an onset."""
    before = text[max(0, m.start() - 25) : m.start()].lower()
    return bool(re.search(r"(?:девочк|мальчик|ребен|ребён|пациент|больн)\w*,?\s*$", before))
