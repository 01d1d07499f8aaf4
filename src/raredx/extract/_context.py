"""Context of a mention: negated, uncertain, or about another person (NegEx-style cue windows).

Cues are token sequences over *cue keys*: the lower-case word for Latin script, the pymorphy3 lemma for
Cyrillic. In each sentence the cues are found longest-first (so ``не исключается`` is an uncertainty cue,
not the negation ``исключается``; ``not only`` is a pseudo-cue that does nothing). A cue before a mention
applies when at most ``window`` words stand between them, not counting other mentions, commas and
conjunctions (so ``no seizures, ataxia or hypotonia`` negates all three), and no terminator (``but``,
``however``, ``но``...) intervenes. Windows are shorter after the mention than before it; a Russian
relative reaches to the end of the clause (``отец умер в 40 лет от расслоения аорты``).
"""

from __future__ import annotations

from dataclasses import dataclass

from raredx.extract._normalise import is_cyrillic

NEGATED, UNCERTAIN, FAMILY, PSEUDO, TERMINATE, REPORTER = "neg", "unc", "fam", "pseudo", "term", "reporter"
PRE, POST, BOTH = "pre", "post", "both"

# (kind, direction, words before, words after): how far a cue reaches.
WINDOW = {NEGATED: (5, 3), UNCERTAIN: (4, 2), FAMILY: (4, 2)}
# A Russian relative reaches to the end of the clause: «отец умер в 40 лет от расслоения аорты».
RU_FAMILY_REACH = 12

_EN: dict[str, tuple[str, ...]] = {
    f"{NEGATED} {PRE}": (
        "no", "not", "without", "denies", "denied", "deny", "absence of", "absent", "negative for", "free of",
        "never", "lack of", "lacks", "lacked", "lacking", "nor", "neither", "no evidence of", "no sign of",
        "no signs of", "no history of", "ruled out", "excluded", "did not have", "does not have", "has no",
        "had no", "none", "unremarkable for", "resolution of", "resolved",
    ),
    f"{NEGATED} {POST}": (
        "not observed", "not seen", "not present", "not detected", "not found", "not noted", "not identified",
        "not reported", "not evident", "not demonstrated", "absent", "negative", "ruled out", "excluded",
        "was absent", "were absent", "is absent", "are absent", "resolved", "none",
    ),
    f"{UNCERTAIN} {PRE}": (
        "possible", "possibly", "probable", "probably", "suspected", "suspect", "suspicion of", "suspicious for",
        "questionable", "query", "likely", "unlikely", "may have", "might have", "could be", "rule out", "r o",
        "presumed", "presumably", "equivocal", "borderline", "differential diagnosis", "versus", "vs", "?",
    ),
    f"{UNCERTAIN} {POST}": (
        "cannot be excluded", "cannot be ruled out", "can not be excluded", "not excluded", "not ruled out",
        "suspected", "questionable", "is possible", "was possible", "?",
    ),
    f"{FAMILY} {PRE}": (
        "mother", "father", "brother", "sister", "sibling", "aunt", "uncle", "cousin", "grandmother",
        "grandfather", "grandparent", "niece", "nephew", "family history", "family history of", "fhx",
        "maternal", "paternal", "relative", "mom", "dad", "half brother", "half sister",
    ),
    f"{FAMILY} {POST}": (
        "in mother", "in father", "in brother", "in sister", "in sibling", "in aunt", "in uncle", "in cousin",
        "in grandmother", "in grandfather", "in his mother", "in her mother", "in his father", "in her father",
        "in his brother", "in her brother", "in his sister", "in her sister", "in relatives",
    ),
    f"{PSEUDO} {BOTH}": (
        "not only", "no further", "no change", "no increase", "no significant change", "not necessarily",
        "without difficulty", "no longer", "gram negative", "not certain whether", "absent or", "or absent",
        "no or", "negative or", "normal or",
    ),
    f"{TERMINATE} {BOTH}": (
        "but", "however", "although", "though", "except", "apart from", "aside from", "whereas", "while",
        "which", "who", "whose", "yet", "besides", "nevertheless", "presented", "presents", "presenting",
        "patient", "proband", "he has", "she has", "he had", "she had", "(", ")",
    ),
    f"{REPORTER} {PRE}": ("according to", "per", "reported by", "as told by"),
    f"{REPORTER} {POST}": (
        "reports", "reported", "states", "stated", "noticed", "says", "describes", "described", "brought",
        "is concerned", "was concerned", "complains", "complained",
    ),
}

# Russian cues as lemmas (pymorphy3 normal forms, ё -> е): «не выявлено» -> «не выявить».
_RU: dict[str, tuple[str, ...]] = {
    f"{NEGATED} {PRE}": ("без", "отсутствие", "ни", "нет данные за", "данные за"),
    f"{NEGATED} {BOTH}": (
        "нет", "отрицать", "отсутствовать", "не выявить", "не выявляться",
        "не отмечаться", "не отметить", "не отмечать", "не наблюдаться", "не наблюдать", "не быть",
        "не обнаружить", "не обнаруживаться", "не определяться", "не регистрироваться", "не иметь",
        "не зарегистрировать", "не диагностировать", "не диагностироваться", "не страдать", "не подтвердиться",
        "не подтвердить", "не выявлять", "не обнаруживать", "не определить", "не проявляться", "не возникать",
        "исключить", "исключать", "отрицательный", "не выявить признак", "не визуализироваться",
        "не визуализировать", "не фиксироваться",
    ),
    f"{UNCERTAIN} {BOTH}": (
        "возможно", "возможный", "вероятно", "вероятный", "подозрение", "подозрение на", "подозревать",
        "сомнительный", "под вопрос", "не исключить", "не исключаться", "нельзя исключить", "не исключать",
        "предположительно", "предполагать", "?",
    ),
    f"{FAMILY} {PRE}": (
        "мать", "отец", "брат", "сестра", "бабушка", "дедушка", "дед", "бабка", "тетя", "дядя", "сибс",
        "родственник",
        "мама", "папа", "семейный анамнез", "в семья", "по линия", "двоюродный", "родной брат", "родной сестра",
        "у мать", "у отец", "у брат", "у сестра", "у бабушка", "у дедушка", "у дед", "у бабка", "у тетя",
        "у дядя", "у мама", "у папа", "у родственник", "у сибс", "по линия мать", "по линия отец",
        # «отец ребёнка», «мать пробанда»: the relative of the patient, not the patient
        "мать ребенок", "отец ребенок", "мама ребенок", "папа ребенок", "брат ребенок", "сестра ребенок",
        "мать пациент", "отец пациент", "брат пациент", "сестра пациент", "мать пробанд", "отец пробанд",
        "брат пробанд", "сестра пробанд", "мать больной", "отец больной",
    ),
    f"{FAMILY} {POST}": (
        "у мать", "у отец", "у брат", "у сестра", "у бабушка", "у дедушка", "у тетя", "у дядя", "у мама",
        "у папа", "у родственник", "у сибс", "у дед", "у бабка", "в семья", "по линия мать", "по линия отец",
    ),
    f"{PSEUDO} {BOTH}": (
        "не только", "не менее", "не более", "не всегда", "не совсем", "нет изменение", "не смотря",
    ),
    f"{TERMINATE} {BOTH}": (
        "но", "однако", "хотя", "кроме", "а", "за исключение", "тогда как", "при этом", "ребенок", "пациент",
        "пробанд", "больной", "у ребенок", "у пациент", "у больной", "у пробанд",
    ),
    f"{REPORTER} {PRE}": ("со слово", "по слово", "по данные"),
    f"{REPORTER} {POST}": (
        "отмечать", "жаловаться", "сообщать", "обратиться", "заметить", "замечать", "указывать", "предъявлять",
        "обращать", "обратить",
    ),
}

CONJUNCTIONS = frozenset({"and", "or", "nor", ",", "и", "или", "ни", "либо", "also", "/", "as", "well"})


@dataclass(frozen=True, slots=True)
class Cue:
    kind: str
    direction: str
    length: int


@dataclass(frozen=True, slots=True)
class Context:
    """What the cues around one mention say."""

    excluded: bool = False
    uncertain: bool = False
    family: bool = False


def _table(*sources: dict[str, tuple[str, ...]]) -> dict[str, list[tuple[tuple[str, ...], Cue]]]:
    """First cue word -> (cue words, cue), longest first."""
    directions: dict[tuple[tuple[str, ...], str], str] = {}
    for source in sources:
        for spec, phrases in source.items():
            kind, direction = spec.split()
            for phrase in phrases:
                key = (tuple(phrase.split()), kind)
                old = directions.get(key)
                directions[key] = direction if old in (None, direction) else BOTH
    table: dict[str, list[tuple[tuple[str, ...], Cue]]] = {}
    for (words, kind), direction in directions.items():
        table.setdefault(words[0], []).append((words, Cue(kind, direction, len(words))))
    for entries in table.values():
        entries.sort(key=lambda e: -len(e[0]))
    return table


CUES = _table(_EN, _RU)


def russian_cue_words() -> set[str]:
    """Every Cyrillic cue lemma: the lexicon compiler adds their inflected forms to its form table."""
    return {w for phrases in _RU.values() for p in phrases for w in p.split() if w != "?"}


def find_cues(keys: list[str], lo: int, hi: int) -> list[tuple[int, int, Cue]]:
    """Cues in ``keys[lo:hi]`` as (first token, last token, cue), longest match first, left to right."""
    found: list[tuple[int, int, Cue]] = []
    i = lo
    while i < hi:
        entries = CUES.get(keys[i])
        step = 1
        if entries:
            for words, cue in entries:
                n = len(words)
                if i + n <= hi and tuple(keys[i : i + n]) == words:
                    found.append((i, i + n - 1, cue))
                    step = n
                    break
        i += step
    return found


def classify(
    span: tuple[int, int],
    cues: list[tuple[int, int, Cue]],
    keys: list[str],
    in_mention: list[bool],
) -> Context:
    """The context of the mention covering tokens ``span`` (inclusive), given the sentence's cues."""
    first, last = span
    flags = {NEGATED: False, UNCERTAIN: False, FAMILY: False}
    cues = [c for c in cues if not in_mention[c[0]]]  # "absence of speech" is a finding, not a cue
    before = [c for c in cues if c[1] < first]
    after = [c for c in cues if c[0] > last]
    # nearest first; a terminator ends the scope on that side
    for side, ordered in ((PRE, reversed(before)), (POST, after)):
        for a, b, cue in ordered:
            if cue.kind == TERMINATE:
                break
            if cue.kind not in flags or cue.direction not in (side, BOTH):
                continue
            lo, hi = (b + 1, first) if side == PRE else (last + 1, a)
            reach = WINDOW[cue.kind][0 if side == PRE else 1]
            if cue.kind == FAMILY and is_cyrillic(keys[b]):
                if side == POST and "," in keys[lo:hi]:
                    continue  # «судороги, у матери эпилепсия»: the relative begins the next clause
                reach = RU_FAMILY_REACH if side == PRE else reach
            if _within(lo, hi, reach, keys, in_mention):
                if cue.kind == FAMILY and (_informant(a, b, cues, keys) or _with_patient(a, keys)):
                    continue
                flags[cue.kind] = True
    return Context(excluded=flags[NEGATED], uncertain=flags[UNCERTAIN], family=flags[FAMILY])


def _within(lo: int, hi: int, reach: int, keys: list[str], in_mention: list[bool]) -> bool:
    """At most ``reach`` words in ``keys[lo:hi]`` besides mentions and conjunctions, and no comma after
    such a word (``no seizures, ataxia`` is one scope; ``отсутствие сосательного рефлекса, крипторхизм`` is
    two)."""
    gap = 0
    loose = False
    for k in range(lo, hi):
        if in_mention[k]:
            continue
        if keys[k] == ",":
            if loose:
                return False
        elif keys[k] not in CONJUNCTIONS:
            gap += 1
            loose = True
    return gap <= reach


def _with_patient(first: int, keys: list[str]) -> bool:
    """``the patient and his younger brother had``, ``both siblings``: the relative shares the finding with
    the patient."""
    back = keys[max(0, first - 3) : first]
    return "both" in back[-2:] or (any(w in ("his", "her", "their") for w in back[-2:]) and "and" in back[:-1])


def _informant(first: int, last: int, cues: list[tuple[int, int, Cue]], keys: list[str]) -> bool:
    """``according to his mother``, ``mother reports``, ``со слов матери``, ``мать отмечает``: the relative
    is the informant, not the person with the finding."""
    for a, b, c in cues:
        if c.kind == REPORTER and (
            (c.direction == PRE and 0 <= first - b - 1 <= 1 and "," not in keys[b + 1 : first])
            or (c.direction == POST and 0 <= a - last - 1 <= 2)
        ):
            return True
    return False
