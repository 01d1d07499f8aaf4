"""What only Russian text needs: look-alike letters, predicate forms, word order, the clinical phrase table
and the decisions on phrases that several terms claim.

* **Look-alike letters.** ``Т-клеточная`` is typed with a Cyrillic or a Latin ``T``, ``СD4`` with a Cyrillic
  ``С``, ``гипoплазия`` with a Latin ``o``: :func:`unify_script` writes such a token in one script, for the
  lexicon and the text alike.
* **Predicate forms.** Case histories state findings as predicates (``тонус мышц снижен``, ``селезёнка
  увеличена``, ``ушные раковины низко посажены``) where the lexicon has nouns (``снижение мышечного
  тонуса``). :data:`SAME_LEMMAS` makes the participle, the adjective and the noun one key, and
  :func:`word_order_variants` adds the rotations of longer phrases (the two- and three-word permutations
  are made for every language by the compiler).
* **Coordination.** ``гипоплазия ногтей и зубов`` also states *гипоплазия зубов*, but ``высокий рост и
  миопия`` states no *высокая миопия*: :func:`may_swap_last_word` lets a coordinated word replace only a
  dependent word, not the head noun written in its dictionary form.
* **Clinical phrases** (``data/ru_phrases.tsv``): abbreviations and phrases with one, several (``ЗПРР`` ->
  global developmental delay and speech delay) or no term (``МАРС``, ``ЛХЛЖ``: normal variants, read so that
  no shorter phrase inside them fires), each with the reason for the decision.
* **Shared phrases** (``data/ru_shared_phrases.tsv``, written by ``scripts/resolve_ru_shared_phrases.py``):
  the term that keeps a phrase several terms of the lexicon claim, or ``-`` when none does.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from raredx.errors import InputError
from raredx.extract._normalise import fold

NO_TERM = "-"
RU_PHRASE_COLUMNS = ("phrase", "hpo_ids", "meaning", "decision")
SHARED_COLUMNS = ("key", "phrase", "claimants", "keep", "rule")

_CYR_LOOKALIKE = "АВЕКМНОРСТХаеорсх"
_LAT_LOOKALIKE = "ABEKMHOPCTXaeopcx"
_TO_LATIN = str.maketrans(_CYR_LOOKALIKE, _LAT_LOOKALIKE)
_TO_CYRILLIC = str.maketrans(_LAT_LOOKALIKE, _CYR_LOOKALIKE)
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LATIN = re.compile(r"[a-zA-Z]")
# Upper-case Cyrillic letters that stand for a Latin one when alone or with digits (Т-клетки, В12, С3);
# not А and У, which are words (the conjunction «а», the preposition «у»).
_LONE_LATIN = frozenset("ВЕКМНОРСТХ")

# Lemmas that name one thing: the participle and adjective of a change and its noun («снижен»,
# «сниженный», «снижение»), and «мышечный» / «мышц» («мышечный тонус» / «тонус мышц»).
# Never a cue word of _context (their lemmas are the cue keys).
SAME_LEMMAS: dict[str, str] = {
    "снизить": "снижение", "сниженный": "снижение", "понизить": "понижение", "пониженный": "понижение",
    "повысить": "повышение", "повышенный": "повышение", "увеличить": "увеличение", "увеличенный": "увеличение",
    "уменьшить": "уменьшение", "уменьшенный": "уменьшение", "расширить": "расширение",
    "расширенный": "расширение", "сузить": "сужение", "суженный": "сужение", "укоротить": "укорочение",
    "укороченный": "укорочение", "удлинить": "удлинение", "удлиненный": "удлинение", "утолщить": "утолщение",
    "утолщенный": "утолщение", "истончить": "истончение", "истонченный": "истончение",
    "оживить": "оживление", "оживленный": "оживление", "ослабить": "ослабление", "ослабленный": "ослабление",
    "усилить": "усиление", "усиленный": "усиление", "деформировать": "деформация",
    "деформированный": "деформация", "задержать": "задержка", "задержанный": "задержка",
    "мышечный": "мышца",
    # adjectives and the participles of the same change («короткая шея» / «шея укорочена»)
    "узкий": "сужение", "длинный": "удлинение", "короткий": "укорочение", "толстый": "утолщение",
    "тонкий": "истончение",
    # adjectives of the nouns of the lexicon («ногти гипопластичные», «суставы гипермобильны»)
    "гипопластичный": "гипоплазия", "гипопластический": "гипоплазия", "атрофичный": "атрофия",
    "атрофический": "атрофия", "гипертрофированный": "гипертрофия", "дилатированный": "дилатация",
    "гиперэластичный": "гиперэластичность", "гипермобильный": "гипермобильность",
    "гиперактивный": "гиперактивность", "диспластичный": "дисплазия", "диспластический": "дисплазия",
    # forms the analyser reads first as another word: «стоп» (of «стопа», not "stop"), «век» (of «веко»),
    # «вен» (of «вена»), «большие» (of «большой», not the comparative «больший»)
    "стоп": "стопа", "век": "веко", "вено": "вена", "больший": "большой",
}
MIN_ROTATED, MAX_ROTATED = 4, 6  # word counts of the phrases whose rotations are indexed
ABSENCE, ABSENT = "отсутствие", "отсутствовать"  # lemmas


def unify_script(word: str) -> str:
    """``word`` written in one script when it mixes look-alike letters of both (``СD4`` -> ``CD4``,
    ``гипoплазия`` -> ``гипоплазия``) or is a lone upper-case Cyrillic letter that stands for a Latin one,
    alone or with digits (``Т`` -> ``T``, ``В12`` -> ``B12``); else ``word`` itself."""
    if word.isascii():
        return word
    latin = _LATIN.search(word) is not None
    if latin:
        if all(c in _CYR_LOOKALIKE for c in _CYRILLIC.findall(word)):
            return word.translate(_TO_LATIN)
        if all(c in _LAT_LOOKALIKE for c in _LATIN.findall(word)):
            return word.translate(_TO_CYRILLIC)
        return word
    letters = _CYRILLIC.findall(word)
    if letters and all(c in _LONE_LATIN for c in letters) and (len(letters) == 1 or len(letters) < len(word)):
        return word.translate(_TO_LATIN)
    return word


def word_order_variants(keys: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The rotations of a phrase of 4-6 words (``низко посаженные ушные раковины`` is also read as ``ушные
    раковины низко посажены``; shorter phrases are permuted by the compiler), and ``отсутствие X`` also as
    ``отсутствуют X`` and, when X has two words or more, ``X отсутствует`` (``сухожильные рефлексы
    отсутствуют`` states areflexia: the negation cue is part of the phrase)."""
    out = [keys[k:] + keys[:k] for k in range(1, len(keys))] if MIN_ROTATED <= len(keys) <= MAX_ROTATED else []
    if keys[0] == ABSENCE and 2 <= len(keys) <= 4:
        out.append((ABSENT, *keys[1:]))
        if len(keys) > 2:  # not «рефлекс отсутствует»: in «сосательный рефлекс отсутствует» it is no areflexia
            out.append((*keys[1:], ABSENT))
    return out


def may_swap_last_word(old_word: str, old_key: str | None, new_word: str, new_key: str | None) -> bool:
    """May ``new_word`` (coordinated after a phrase) replace the phrase's last word ``old_word``? Not for
    Russian words written in their dictionary form: there the last word is the head noun (``высокий рост и
    миопия``), while a dependent word is inflected (``гипоплазия ногтей и зубов``)."""
    if old_key is None or new_key is None or not _CYRILLIC.search(old_word + new_word):
        return True
    return fold(old_word) != old_key and fold(new_word) != new_key


# Motor milestones stated with the age they were reached («сидит с 11 мес.», «пошёл в 2 года»): late means
# delayed. The ages are the usual upper limits of normal (sitting unaided by 9 months, walking by 18).
_MILESTONE = re.compile(
    r"\b(?P<what>сидит|сел|села|садится|ходит|пошел|пошёл|пошла|ходить\s+начал|ходить\s+начала)"
    r"(?:\s+самостоятельно)?\s+(?:с|в)\s+(?P<n>\d+(?:[.,]\d+)?)\s*(?P<unit>мес|г\b|г\.|год|лет)",
    re.IGNORECASE,
)
# their keys (lemmas where the lexicon knows the word, else the folded word): a text without any is not scanned
MILESTONE_WORDS = frozenset({"сидеть", "сесть", "садиться", "садится", "сел", "села", "ходить", "пойти", "пошел", "пошла"})
_LATE_AFTER = {"sit": (9, "HP:0025336"), "walk": (18, "HP:0031936")}  # months, Delayed ability to sit / walk


def late_milestones(text: str) -> list[tuple[int, int, str]]:
    """(start, end, HPO id) of each motor milestone ``text`` says was reached late: «сидит с 11 мес.» ->
    Delayed ability to sit, «ходит с 2 лет» -> Delayed ability to walk."""
    out = []
    for m in _MILESTONE.finditer(text):
        what = "sit" if m["what"].lower().startswith(("сид", "сел", "садит")) else "walk"
        months = float(m["n"].replace(",", ".")) * (1 if m["unit"].lower().startswith("мес") else 12)
        limit, hpo_id = _LATE_AFTER[what]
        if months > limit:
            out.append((m.start(), m.end(), hpo_id))
    return out


# -- data files -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RuPhrase:
    """One row of ``ru_phrases.tsv``: a phrase and the terms it states (none for a normal variant)."""

    phrase: str
    hpo_ids: tuple[str, ...]
    excluded: bool
    decision: str


def default_ru_phrases() -> Path:
    return Path(str(resources.files("raredx.extract") / "data" / "ru_phrases.tsv"))


def default_shared_decisions() -> Path:
    return Path(str(resources.files("raredx.extract") / "data" / "ru_shared_phrases.tsv"))


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it ({exc}); give a UTF-8 TSV file.") from exc
    rows = list(csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or tuple(c.strip() for c in rows[0]) != columns:
        raise InputError(f"{path}:1: the header must be {' '.join(columns)} (tab-separated)")
    out = []
    for line, row in enumerate(rows[1:], start=2):
        if not row or not row[0].strip() or row[0].startswith("#"):
            continue
        if len(row) != len(columns):
            raise InputError(f"{path}:{line}: {len(row)} columns, expected {len(columns)}; fix the tabs in this row")
        out.append((line, [c.strip() for c in row]))
    return out


def read_ru_phrases(path: Path) -> list[RuPhrase]:
    """The clinical phrase table: ``phrase``, ``hpo_ids`` (comma-separated, or ``-`` for no term),
    ``meaning`` (observed | excluded) and the ``decision`` that explains the row."""
    out = []
    for line, (phrase, ids, meaning, decision) in _rows(path, RU_PHRASE_COLUMNS):
        hpo_ids = () if ids == NO_TERM else tuple(i.strip() for i in ids.split(","))
        if meaning not in ("observed", "excluded") or not all(i.startswith("HP:") for i in hpo_ids) or not decision:
            raise InputError(f"{path}:{line}: expected hpo_ids (HP:…, comma-separated, or -), meaning "
                             "(observed | excluded) and a decision saying why")
        out.append(RuPhrase(phrase, hpo_ids, meaning == "excluded", decision))
    return out


def read_shared_decisions(path: Path) -> dict[tuple[str, ...], str]:
    """Phrase key (lemmas) -> the HPO id that keeps the phrase, or ``-`` when no term does."""
    return {tuple(key.split()): keep for _, (key, _p, _c, keep, _r) in _rows(path, SHARED_COLUMNS)}
