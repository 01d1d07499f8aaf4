"""Tokens and their normal forms: one key per word, the same for the lexicon and the text.

English words are lower-cased, British spellings folded, plurals and common medical suffixes stripped
(``hypoplasia``/``hypoplastic`` -> ``hypoplas``, ``seizures`` -> ``seizur``). Russian words are mapped to
their pymorphy3 lemma through a form table compiled with the lexicon (so the analyser itself is not needed
at run time). Upper-case abbreviations known to the lexicon (``VSD``, ``ЗПМР``) keep their case.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A word (letters or digits), or one punctuation mark that ends a phrase. Everything else is ignored.
TOKEN = re.compile(r"[^\W_]+|[.,;:!?()\[\]{}\n]")
BREAKS = frozenset(".;:!?()[]{}\n")  # end a phrase and a negation scope
COMMA = ","
CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
LATIN = re.compile(r"[a-zA-Z]")
SKIP = "\x00skip"  # determiners: skipped inside a term match
ABBREV_MARK = "\u00a7"

DETERMINERS = frozenset({"the", "a", "an", "both"})

_IRREGULAR = {
    "teeth": "tooth", "feet": "foot", "phalanges": "phalanx", "children": "child", "vertebrae": "vertebra",
    "bullae": "bulla", "epiphyses": "epiphysis", "metaphyses": "metaphysis", "diaphyses": "diaphysis",
    "apophyses": "apophysis", "ribs": "rib", "digits": "digit", "indices": "index", "testes": "testis",
    "women": "woman", "men": "man", "fingernails": "fingernail", "toenails": "toenail", "lenses": "lens",
    "atactic": "ataxic", "atretic": "atresia", "ectatic": "ectasia", "nevi": "nevus", "naevi": "nevus",
    "naevus": "nevus",
}
# Stems that clinicians use interchangeably in "X anomalies" / "abnormality of X" / "X malformation".
_SAME_WORDS = {
    "anomaly": "abnormality", "defect": "abnormality",  # "malformation" stays apart: it is morphology
    # what English notes write for "abnormality of X": "skin manifestations", "vision problems"
    "manifestation": "abnormality", "involvement": "abnormality", "disorder": "abnormality",
    "disturbance": "abnormality", "problem": "abnormality", "issue": "abnormality", "multiple": "numerous",
    "raised": "elevated", "facies": "face",
    # anatomical adjectives and their nouns ("renal cysts" / "kidney cysts", "muscular hypotonia")
    "renal": "kidney", "hepatic": "liver", "cardiac": "heart", "ocular": "eye", "dental": "tooth",
    "cutaneous": "skin", "muscular": "muscle", "pulmonary": "lung", "retinal": "retina", "tibial": "tibia",
    "ulnar": "ulna", "patellar": "patella", "scapular": "scapula", "vertebral": "vertebra",
    "clavicular": "clavicle", "mandibular": "mandible", "maxillary": "maxilla", "palmar": "palm",
    "plantar": "sole", "facial": "face", "nasal": "nose", "labial": "lip", "splenic": "spleen",
    "gastric": "stomach", "cerebral": "brain", "osseous": "bone", "spinal": "spine", "femoral": "femur",
    "humeral": "humerus", "cochlear": "cochlea", "auricular": "auricle", "anal": "anus", "ophthalmic": "eye",
    "ophthalmologic": "eye", "ophthalmological": "eye", "otic": "ear", "oral": "mouth", "auditory": "hearing",
    "articular": "joint",
}
_BRITISH = re.compile(r"(ae|oe)(?=[bcdfghjklmnpqrstvwxz][a-z])")
# Suffix rules, tried in order; the first that leaves a stem of >= 4 letters applies (at most twice).
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ically", ""), ("ations", ""), ("ation", ""), ("ness", ""), ("ment", ""), ("ity", ""), ("ism", ""),
    ("ions", ""), ("ion", ""), ("sis", ""), ("tic", ""), ("ing", ""), ("us", ""), ("ally", "al"), ("ly", ""),
    ("ia", ""), ("ic", ""),
    ("ed", ""), ("e", ""),
)


# Endings of the medical noun/adjective pairs that single-word matches may cross (microcephaly/microcephalic,
# myoclonus/myoclonic): a noun ending on one side, an adjective ending on the other.
NOUN_ENDINGS = ("ia", "y", "sis", "ias", "ies", "us", "um", "a", "ae", "i")
ADJECTIVE_ENDINGS = ("ic", "tic", "ical", "ics")
_KEEP = frozenset({"limbic", "tonic", "clonic", "static", "manic", "panic", "topic", "basic", "public", "into"})


@lru_cache(maxsize=200_000)
def light_en(word: str) -> str:
    """A lower-case word with spelling variants and the plural folded, nothing else."""
    w = _IRREGULAR.get(word, word)
    if len(w) <= 3 or not w.isalpha():
        return w
    w = _BRITISH.sub("e", w).replace("rrhoea", "rrhea")
    w = w.replace("our", "or") if w.endswith(("our", "ours")) and len(w) > 5 else w
    if w.endswith("ies") and len(w) > 5:
        w = w[:-3] + "y"
    elif w.endswith("oses") and len(w) > 6:
        w = w[:-2] + "is"
    elif w.endswith("mata") and len(w) > 6:
        w = w[:-2]  # carcinomata, colobomata
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    return w


@lru_cache(maxsize=200_000)
def stem_en(word: str) -> str:
    """The English key of a lower-case word: :func:`light_en`, then medical suffixes stripped, then a few
    interchangeable stems made one."""
    w = _stem(word)
    return _SAME.get(w, w)


def _stem(word: str) -> str:
    w = light_en(word)
    if len(w) <= 3 or not w.isalpha() or w in _KEEP:
        return w
    for _ in range(2):
        for suffix, repl in _SUFFIXES:
            if w.endswith(suffix) and len(w) - len(suffix) >= 4 and not (suffix == "ly" and w[-3] in "al"):
                w = w[: -len(suffix)] + repl
                break
        else:
            if w.endswith("y") and len(w) >= 5 and w[-2] not in "aeiou":
                w = w[:-1]
            break
    return w


_SAME = {_stem(a): _stem(b) for a, b in _SAME_WORDS.items()}


def is_abbreviation(word: str) -> bool:
    """``VSD``, ``IUGR``, ``ЗПМР``: 2-6 characters, all letters upper-case, at least two letters."""
    return 2 <= len(word) <= 6 and word.isupper() and sum(c.isalpha() for c in word) >= 2


def fold(word: str) -> str:
    """Lower case, ``ё`` -> ``е``, Latin accents dropped (``café`` -> ``cafe``)."""
    word = word.lower().replace("ё", "е")
    if not word.isascii() and _ACCENTED.search(word):
        word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
        word = word.replace("й", "й")  # NFKD splits й; put it back
    return word


_ACCENTED = re.compile(r"[à-öø-ÿ]")


def is_cyrillic(word: str) -> bool:
    return CYRILLIC.search(word) is not None


def detect_language(text: str) -> str:
    """``ru`` when the text has more Cyrillic than Latin letters, else ``en``."""
    sample = text[:200_000]
    return "ru" if len(CYRILLIC.findall(sample)) > len(LATIN.findall(sample)) else "en"
