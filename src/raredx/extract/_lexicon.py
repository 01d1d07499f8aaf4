"""The recogniser's lexicon: HPO labels and synonyms (English), the project's Russian lexicon and a few
hand-made phrases, compiled into one token trie and cached on disk.

The trie maps sequences of normalised tokens (see :mod:`raredx.extract._normalise`) to a term. Word-order
variants are added at compile time: every permutation of two- and three-word phrases
(``hypoplastic nails`` / ``nails hypoplastic``) and the inversion of ``X of Y`` (``hypoplasia of the nails``
-> ``nail hypoplasia``). Where two terms claim the same key, a label beats a synonym, a synonym beats a
variant, and otherwise the first term in ontology order wins; ambiguous abbreviations (``ASD``) are dropped.
Russian phrases that several terms share are decided beforehand (``data/ru_shared_phrases.tsv``), and the
Russian clinical phrases may stand for several terms or none (see :mod:`raredx.extract._russian`).
"""

from __future__ import annotations

import csv
import gc
import hashlib
import json
import logging
import marshal
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from itertools import permutations
from pathlib import Path
from typing import Any

import numpy as np

from raredx.errors import InputError
from raredx.extract._context import russian_cue_words
from raredx.extract._english import english_variants, split_letter_digits
from raredx.extract._normalise import (
    ABBREV_MARK,
    DETERMINERS,
    TOKEN,
    fold,
    is_abbreviation,
    is_cyrillic,
    light_en,
    stem_en,
)
from raredx.extract._russian import SAME_LEMMAS, RuPhrase, unify_script, word_order_variants
from raredx.ontology import ONSET, PHENOTYPIC_ABNORMALITY, Ontology

log = logging.getLogger(__name__)

FORMAT = 5  # bump when the compiled layout or its derivation changes
END = "\x01"  # trie key of a node's payload
EN, RU = 1, 2  # language bits of a payload
EXCLUDED_BIT = 4  # the phrase states the term's absence ("normal hearing")
RU_COLUMNS = ("hpo_id", "label_ru", "synonyms_ru", "source", "status")
PHRASE_COLUMNS = ("hpo_id", "lang", "phrase", "meaning", "note")
MAX_PHRASE_TOKENS = 12

# Single words that are HPO synonyms but mostly mean something else in running text.
GENERIC_WORDS = frozenset({
    "abnormal", "abnormality", "anomaly", "malformation", "disease", "disorder", "syndrome", "defect",
    "deformity", "lesion", "mass", "growth", "pain", "death", "slow", "arranging", "ordering",
    "weakness", "fatigue", "small", "large", "tall", "short", "big", "thin", "long", "broad", "narrow",
    "high", "low", "increased", "decreased", "absent", "aplasia", "hypoplasia", "dysplasia", "atrophy",
    "inflammation", "infection", "infections", "failure", "insufficiency", "stiffness", "swelling", "bleeding",
    "cyst", "cysts", "recurrent", "progressive", "delay", "delayed", "clumsiness", "clumsy", "shock",
    "collecting", "slowness", "alone", "dull",
})


@dataclass(frozen=True, slots=True)
class RuEntry:
    """One row of the Russian lexicon."""

    hpo_id: str
    label: str
    synonyms: tuple[str, ...]
    source: str
    status: str


@dataclass(slots=True)
class CompiledLexicon:
    """What the extractor needs at run time; plain builtin types so it loads fast from the cache."""

    ids: list[str]
    labels: list[str]
    trie: dict
    forms: dict[str, str]  # Russian word form -> lemma
    abbreviations: frozenset[str]
    onset: frozenset[int]  # positions (in ids) of onset terms
    single: dict[str, frozenset[str]]  # key of a one-word English phrase -> the words (light_en) it was made of
    combos: list[list[int]] = field(default_factory=list)  # phrases of several terms or none (_russian)
    stats: dict[str, int] = field(default_factory=dict)

    def dump(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = marshal.dumps({"format": FORMAT, **{k: getattr(self, k) for k in _FIELDS}})
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @classmethod
    def load(cls, path: Path) -> CompiledLexicon | None:
        """The cached lexicon, or None when the file is missing, damaged or of another format."""
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        gc.disable()  # hundreds of thousands of small dicts: collecting while they are built only costs time
        try:
            data = marshal.loads(blob)
        except (EOFError, ValueError, TypeError):
            return None
        finally:
            gc.enable()
        if not isinstance(data, dict) or data.get("format") != FORMAT or any(k not in data for k in _FIELDS):
            return None
        return cls(**{k: data[k] for k in _FIELDS})


_FIELDS = ("ids", "labels", "trie", "forms", "abbreviations", "onset", "single", "combos", "stats")


# -- reading the data files -------------------------------------------------------------------------
def default_ru_lexicon() -> Path:
    return Path(str(resources.files("raredx.extract") / "data" / "hpo_ru.tsv"))


def default_phrases() -> Path:
    return Path(str(resources.files("raredx.extract") / "data" / "phrases.tsv"))


def read_ru_lexicon(path: Path, known: Callable[[str], bool] | None = None) -> tuple[list[RuEntry], list[str]]:
    """Rows of a Russian lexicon TSV and the problems found (each naming file, line and what to do).

    Checks: the header, five columns, an HPO id known to ``known`` (when given), a non-empty label,
    no id twice. Bad rows are reported and left out.
    """
    entries: list[RuEntry] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the Russian lexicon ({exc}); give a UTF-8 TSV file.") from exc
    rows = list(csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or tuple(c.strip() for c in rows[0]) != RU_COLUMNS:
        problems.append(f"{path}:1: the header must be {' '.join(RU_COLUMNS)} (tab-separated)")
        return entries, problems
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        where = f"{path}:{line}"
        if len(row) != len(RU_COLUMNS):
            problems.append(f"{where}: {len(row)} columns, expected {len(RU_COLUMNS)}; fix the tabs in this row")
            continue
        hpo_id, label, synonyms, source, status = (c.strip() for c in row)
        if known is not None and not known(hpo_id):
            problems.append(f"{where}: {hpo_id!r} is not an HPO id of the loaded release; correct or delete the row")
            continue
        if not label:
            problems.append(f"{where}: {hpo_id} has an empty label_ru; write the Russian term or delete the row")
            continue
        if hpo_id in seen:
            problems.append(f"{where}: {hpo_id} already appears on line {seen[hpo_id]}; merge the two rows")
            continue
        seen[hpo_id] = line
        syns = tuple(dict.fromkeys(s.strip() for s in synonyms.split("|") if s.strip() and s.strip() != label))
        entries.append(RuEntry(hpo_id, label, syns, source, status))
    return entries, problems


def read_phrases(path: Path) -> list[tuple[str, str, str, bool]]:
    """(hpo id, lang, phrase, excluded) rows of the hand-made phrase table (abbreviations, ``normal X``)."""
    out: list[tuple[str, str, str, bool]] = []
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    for line, row in enumerate(rows[1:], start=2):
        if not row or row[0].startswith("#"):
            continue
        if len(row) < 4 or row[1] not in ("en", "ru") or row[3] not in ("observed", "excluded"):
            raise InputError(f"{path}:{line}: expected hpo_id, lang (en|ru), phrase, meaning (observed|excluded)")
        out.append((row[0], row[1], row[2], row[3] == "excluded"))
    return out


# -- compiling --------------------------------------------------------------------------------------
class _Lemmatiser:
    """pymorphy3 lemmas (ё folded) and the table of every inflected form of the lemmas used."""

    def __init__(self) -> None:
        import pymorphy3

        self._morph = pymorphy3.MorphAnalyzer(lang="ru")
        self._lemma: dict[str, str] = {}
        self.forms: dict[str, set[str]] = {}

    def lemma(self, word: str) -> str:
        word = fold(word)
        hit = self._lemma.get(word)
        if hit is None:
            parse = self._morph.parse(word)[0]
            hit = _same(fold(parse.normal_form))
            self._lemma[word] = hit
            self.forms.setdefault(word, set()).add(hit)
            for form in parse.lexeme:
                self.forms.setdefault(fold(form.word), set()).add(hit)
        return hit

    def form_table(self) -> dict[str, str]:
        """Each form's lemma; a form shared by two lemmas gets the analyser's first reading of it."""
        table: dict[str, str] = {}
        for form, lemmas in self.forms.items():
            if len(lemmas) == 1:
                table[form] = next(iter(lemmas))
            else:
                first = _same(fold(self._morph.parse(form)[0].normal_form))
                table[form] = first if first in lemmas else sorted(lemmas)[0]
        return table


def _same(lemma: str) -> str:
    return SAME_LEMMAS.get(lemma, lemma)


def phrase_keys(text: str, lemma: Callable[[str], str] | None) -> tuple[str, ...]:
    """The normalised tokens of a lexicon phrase (punctuation and determiners dropped)."""
    keys: list[str] = []
    for m in TOKEN.finditer(text):
        word = unify_script(m.group())
        if not word[0].isalnum():
            continue
        if is_abbreviation(word):
            keys.append(ABBREV_MARK + word)
        elif is_cyrillic(word):
            keys.append(lemma(word) if lemma is not None else fold(word))
        else:
            low = fold(word)
            if low not in DETERMINERS:
                keys.append(stem_en(low))
    return tuple(keys)


def variants(keys: tuple[str, ...], english: bool) -> list[tuple[tuple[str, ...], int]]:
    """Variants of a phrase (not including the phrase itself) with a rank penalty: word order (10), and
    *Abnormal X morphology* as *X anomalies* (5: it beats the inverted *Abnormality of X*, since
    anomalies and malformations are morphology)."""
    out: list[tuple[tuple[str, ...], int]] = []
    penalty = 10
    if english and keys.count("of") == 1 and 0 < keys.index("of") < len(keys) - 1:
        k = keys.index("of")
        out.append((keys[k + 1 :] + keys[:k], penalty))
    if english and keys[0] == "absent" and len(keys) > 1:
        out.append((("absenc", "of", *keys[1:]), penalty))
    if english and keys[0] == "abnormal" and keys[-1] == "morpholog" and len(keys) > 2:
        out.append(((*keys[1:-1], "malform"), 5))  # "Abnormal renal morphology": "renal malformation"
        out.append((("malform", "of", *keys[1:-1]), 5))
        keys, penalty = keys[:-1], 12  # "Abnormal nail morphology": also "nail anomalies", "abnormal nails"
        out.append((keys, penalty))
    content = tuple(k for k in keys if k != "of")
    if 2 <= len(content) <= 3:
        out.extend((p, penalty) for p in permutations(content) if p != keys)
    if english:
        out.extend((v, penalty + 5) for v in english_variants(keys))
        out.extend((split, p + 1) for v, p in [(keys, 0), *out] if (split := split_letter_digits(v)) is not None)
    return out


class _Builder:
    def __init__(self) -> None:
        # key -> (rank, ontology index, lang bits, excluded)
        self.best: dict[tuple[str, ...], tuple[int, int, int, bool]] = {}
        self.ambiguous: set[tuple[str, ...]] = set()
        self.combos: list[tuple[int, ...]] = []  # a term below 0 stands for combos[-term - 1]

    def combo(self, terms: tuple[int, ...]) -> int:
        """The term number of a phrase that states several terms, or none."""
        self.combos.append(terms)
        return -len(self.combos)

    def add(self, keys: tuple[str, ...], rank: int, term: int, lang: int, excluded: bool = False) -> None:
        if not keys or len(keys) > MAX_PHRASE_TOKENS or keys[0] == "of" or keys[-1] == "of":
            return
        old = self.best.get(keys)
        if old is None or rank < old[0]:
            self.best[keys] = (rank, term, lang, excluded)
            self.ambiguous.discard(keys)
        elif old[1] == term and old[3] == excluded:
            self.best[keys] = (old[0], term, old[2] | lang, excluded)
        elif rank == old[0] and len(keys) == 1 and keys[0].startswith(ABBREV_MARK):
            self.ambiguous.add(keys)

    def add_phrase(self, keys: tuple[str, ...], rank: int, term: int, lang: int, excluded: bool = False) -> None:
        self.add(keys, rank, term, lang, excluded)
        for v, penalty in variants(keys, english=lang == EN):
            self.add(v, rank + penalty, term, lang, excluded)
        if lang == RU:
            for v in word_order_variants(keys):
                self.add(v, rank + 10, term, lang, excluded)


def compile_lexicon(
    ontology: Ontology, ru_entries: Iterable[RuEntry], phrases: Iterable[tuple[str, str, str, bool]],
    ru_phrases: Iterable[RuPhrase] = (), shared: dict[tuple[str, ...], str] | None = None,
) -> CompiledLexicon:
    """Build the trie from the ontology (Phenotypic abnormality and onset terms), the Russian lexicon (a
    phrase several terms claim goes to the term ``shared`` names, or to none), the phrase table and the
    Russian clinical phrases."""
    usable = ontology.phenotype_mask.copy()
    onset = ontology.branch_mask(ONSET)
    for root_id in (PHENOTYPIC_ABNORMALITY, ONSET):
        root = ontology.index(root_id)
        if root is not None:
            usable[root] = onset[root] = False
    lemmatiser = _Lemmatiser()
    builder = _Builder()
    single = _add_english(builder, ontology, usable, onset)
    n_ru = _add_russian(builder, ontology, ru_entries, usable | onset, lemmatiser, shared or {})
    phrases = list(phrases)
    _add_phrases(builder, ontology, phrases, lemmatiser)
    for _, lang, text, _ in phrases:  # a one-word English phrase is the word itself ("stereotypies")
        keys = phrase_keys(text, None) if lang == "en" else ()
        if len(keys) == 1 and keys[0] in single:
            single[keys[0]].add(light_en(text.lower()))
    _add_ru_phrases(builder, ontology, ru_phrases, lemmatiser)
    cue_words = russian_cue_words()
    for word in (*cue_words, *SAME_LEMMAS):  # every form of these: the participles of SAME_LEMMAS too
        lemmatiser.lemma(word)
    order, trie, abbreviations, combos = _trie(builder)
    stats = {"keys": len(builder.best) - len(builder.ambiguous), "terms": len(order), "ru_entries": n_ru,
             "ambiguous_abbreviations": len(builder.ambiguous)}
    log.info("compiled the extraction lexicon: %s", stats)
    return CompiledLexicon(
        ids=[ontology.ids[i] for i in order],
        labels=[ontology.labels[i] for i in order],
        trie=trie,
        forms={**lemmatiser.form_table(), **{w: w for w in cue_words}},  # cue words are written as lemmas
        abbreviations=frozenset(abbreviations),
        onset=frozenset(p for p, i in enumerate(order) if onset[i]),
        single={k: frozenset(v) for k, v in single.items()},
        combos=combos,
        stats=stats,
    )


def _add_english(builder: _Builder, ontology: Ontology, usable: np.ndarray, onset: np.ndarray) -> dict[str, set[str]]:
    """The HPO labels and synonyms; returns the one-word keys with the words they stand for."""
    single: dict[str, set[str]] = {}
    for i, label in enumerate(ontology.labels):
        if not (usable[i] or onset[i]):
            continue
        for rank, text in enumerate((label, *ontology.synonyms[i])):
            if onset[i] and "onset" not in text.lower():
                continue  # "Congenital" alone is no statement of onset
            keys = phrase_keys(text, None)
            if len(keys) == 1:
                if text.lower() in GENERIC_WORDS or len(keys[0].lstrip(ABBREV_MARK)) < 3:
                    continue  # too generic, or a two-letter abbreviation (BO, RA, MI)
                if not keys[0].startswith(ABBREV_MARK):
                    single.setdefault(keys[0], set()).add(light_en(text.lower()))
            builder.add_phrase(keys, min(rank, 1), i, EN)
    return single


def _add_russian(builder: _Builder, ontology: Ontology, ru_entries: Iterable[RuEntry], wanted: np.ndarray,
                 lemmatiser: _Lemmatiser, shared: dict[tuple[str, ...], str]) -> int:
    """The Russian lexicon's labels and synonyms of the wanted terms; returns how many entries were used."""
    n_ru = 0
    for entry in ru_entries:
        i = _usable_index(ontology, entry.hpo_id)
        if i is None or not wanted[i]:
            continue
        n_ru += 1
        for rank, text in enumerate((entry.label, *entry.synonyms)):
            keys = phrase_keys(text, lemmatiser.lemma)
            if shared.get(keys, entry.hpo_id) == entry.hpo_id:
                builder.add_phrase(keys, min(rank, 1), i, RU)
    return n_ru


def _add_ru_phrases(builder: _Builder, ontology: Ontology, rows: Iterable[RuPhrase], lemmatiser: _Lemmatiser) -> None:
    """The Russian clinical phrases (rank -1, like the phrase table): one term, several, or none."""
    for row in rows:
        terms = tuple(i for i in (_usable_index(ontology, h) for h in row.hpo_ids) if i is not None)
        if len(terms) < len(row.hpo_ids):
            log.warning("Russian phrase %r: %s names a term not in this HPO release; skipped", row.phrase, row.hpo_ids)
            continue
        term = terms[0] if len(terms) == 1 else builder.combo(terms)
        builder.add_phrase(phrase_keys(row.phrase, lemmatiser.lemma), -1, term, RU, row.excluded)


def _add_phrases(builder: _Builder, ontology: Ontology, phrases: Iterable[tuple[str, str, str, bool]],
                 lemmatiser: _Lemmatiser) -> None:
    """The hand-made phrases (they win over the ontology's wording: rank -1)."""
    for hpo_id, lang, text, excluded in phrases:
        i = _usable_index(ontology, hpo_id)
        if i is None:
            log.warning("phrase %r: %s is not a current HPO term; skipped", text, hpo_id)
            continue
        builder.add_phrase(phrase_keys(text, lemmatiser.lemma), -1, i, RU if lang == "ru" else EN, excluded)


def _trie(builder: _Builder) -> tuple[list[int], dict[str, Any], set[str], list[list[int]]]:
    """The term indices in trie order, the token trie (a leaf ``END`` holds position * 8 + language + excluded
    bit; positions from ``len(order)`` on are combos), the abbreviation keys and the combos (as positions);
    ambiguous keys are left out."""
    kept = [(keys, v) for keys, v in builder.best.items() if keys not in builder.ambiguous]
    terms: dict[int, int] = {}
    for t in [i for _, (_, i, _, _) in kept if i >= 0] + [t for c in builder.combos for t in c]:
        terms.setdefault(t, len(terms))
    trie: dict[str, Any] = {}
    abbreviations: set[str] = set()
    for keys, (_, i, lang, excluded) in kept:
        pos = len(terms) - i - 1 if i < 0 else terms[i]
        node = trie
        for k in keys:
            node = node.setdefault(k, {})
            if k.startswith(ABBREV_MARK):
                abbreviations.add(k)
        node[END] = pos * 8 + lang + (EXCLUDED_BIT if excluded else 0)
    combos = [[terms[t] for t in c] for c in builder.combos]
    return sorted(terms, key=terms.__getitem__), trie, abbreviations, combos


def _usable_index(ontology: Ontology, hpo_id: str) -> int | None:
    i = ontology.index(hpo_id)
    if i is None and hpo_id in ontology.redirects:
        i = ontology.index(ontology.redirects[hpo_id])
    return i


def ontology_digest(ontology: Ontology) -> str:
    h = hashlib.sha256()
    for i, tid in enumerate(ontology.ids):
        h.update(f"{tid}\t{ontology.labels[i]}\t{'|'.join(ontology.synonyms[i])}\n".encode())
    h.update(np.ascontiguousarray(ontology.parent_idx).tobytes())
    return h.hexdigest()


def cache_key(ontology_key: str, ru_path: Path, phrases_path: Path, *more: Path) -> str:
    """Digest of everything the compiled lexicon depends on."""
    from importlib.metadata import version

    parts = [str(FORMAT), ontology_key, version("pymorphy3"), version("pymorphy3-dicts-ru")]
    for p in (ru_path, phrases_path, *more):
        parts.append(hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else "-")
    from raredx.extract import _context, _english, _normalise, _russian

    for module in (_context, _normalise, _english, _russian, sys.modules[__name__]):
        parts.append(hashlib.sha256(Path(module.__file__ or "").read_bytes()).hexdigest())
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]
