"""The recogniser: text in, HPO terms with offsets and context out."""

from __future__ import annotations

import logging
import time
from bisect import bisect_left
from collections.abc import Callable
from pathlib import Path
from typing import Any

from raredx import config
from raredx.errors import InputError, KnowledgeBaseError
from raredx.extract import _russian
from raredx.extract._context import classify, find_cues
from raredx.extract._english import ADVERBS, COPULAS, DEGREE_WORDS, POSTMODIFIERS, blocked_tokens, functional_spans
from raredx.extract._lexicon import (
    EN,
    END,
    EXCLUDED_BIT,
    RU,
    CompiledLexicon,
    cache_key,
    compile_lexicon,
    default_phrases,
    default_ru_lexicon,
    ontology_digest,
    read_phrases,
    read_ru_lexicon,
)
from raredx.extract._model import ExtractedTerm
from raredx.extract._normalise import (
    ABBREV_MARK,
    ADJECTIVE_ENDINGS,
    DETERMINERS,
    NOUN_ENDINGS,
    SKIP,
    TOKEN,
    detect_language,
    fold,
    is_cyrillic,
    light_en,
    stem_en,
)
from raredx.ontology import Ontology

log = logging.getLogger(__name__)

LANGUAGES = ("auto", "en", "ru")
_SENTENCE_ENDS = frozenset(".!?;\n")
_COORDINATORS = frozenset({"and", "or", ",", "и", "или"})
_MEMO_LIMIT = 500_000
_INSIDE = frozenset({SKIP}) | COPULAS | ADVERBS  # skipped between two words of a phrase
_SKIPPABLE = frozenset({"of"})  # may be left out inside a phrase: "cysts of the jaws" (adding "in" cost precision)


class Extractor:
    """Finds HPO terms in English and Russian clinical text. Load once (≈0.1 s from the cache), then call
    :meth:`extract` for each text.

    >>> ex = Extractor.load()                                        # doctest: +SKIP
    >>> [(t.id, t.excluded) for t in ex.extract("Seizures; no hearing loss.")]  # doctest: +SKIP
    [('HP:0001250', False), ('HP:0000365', True)]
    """

    def __init__(self, lexicon: CompiledLexicon) -> None:
        self._lex = lexicon
        self._trie = lexicon.trie
        self._forms = lexicon.forms
        self._abbrev = lexicon.abbreviations
        self._memo: dict[str, tuple[str | None, str]] = {}
        self._position = {tid: p for p, tid in enumerate(lexicon.ids)}

    # -- loading ----------------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        data_dir: str | Path | None = None,
        *,
        cache_dir: str | Path | None = None,
        ru_lexicon: str | Path | None = None,
    ) -> Extractor:
        """The recogniser for the HPO release in ``data_dir`` (default: as :func:`raredx.kb.resolve_data_dir`),
        read from the cache when the HPO file, the Russian lexicon and the code are unchanged, else compiled
        (a few seconds) and cached."""
        from raredx.kb import find_source_files, resolve_data_dir, sha256

        obo = find_source_files(resolve_data_dir(data_dir))["hp_obo"]

        def ontology() -> Ontology:
            from raredx.kb import load_knowledge_base

            return load_knowledge_base(data_dir, cache=cache_dir).ontology

        return cls._cached(f"obo:{sha256(obo)}", ontology, cache_dir, ru_lexicon)

    @classmethod
    def from_ontology(
        cls, ontology: Ontology, *, cache_dir: str | Path | None = None, ru_lexicon: str | Path | None = None
    ) -> Extractor:
        """The recogniser for an already loaded ontology (e.g. ``RareDx.kb.ontology``), cached the same way."""
        return cls._cached(f"ontology:{ontology_digest(ontology)}", lambda: ontology, cache_dir, ru_lexicon)

    @classmethod
    def _cached(
        cls,
        ontology_key: str,
        ontology: Callable[[], Ontology],
        cache_dir: str | Path | None,
        ru_lexicon: str | Path | None,
    ) -> Extractor:
        ru_path = Path(ru_lexicon) if ru_lexicon is not None else default_ru_lexicon()
        phrases = default_phrases()
        for required in (ru_path, phrases):
            if not required.is_file():
                raise KnowledgeBaseError(
                    f"{required} is missing: give an existing Russian lexicon TSV, or reinstall raredx "
                    "(its package data raredx/extract/data/ holds hpo_ru.tsv and phrases.tsv)."
                )
        ru_phrases, shared = _russian.default_ru_phrases(), _russian.default_shared_decisions()
        key = cache_key(ontology_key, ru_path, phrases, ru_phrases, shared)
        path = config.cache_dir(cache_dir) / f"extract-{key}.marshal"
        lexicon = CompiledLexicon.load(path)
        if lexicon is None:
            t0 = time.perf_counter()
            onto = ontology()
            entries, problems = read_ru_lexicon(ru_path, known=lambda i: i in onto or i in onto.redirects)
            for p in problems:
                log.warning("Russian lexicon: %s", p)
            lexicon = compile_lexicon(onto, entries, read_phrases(phrases), _russian.read_ru_phrases(ru_phrases),
                                      _russian.read_shared_decisions(shared))
            try:
                lexicon.dump(path)
            except OSError as exc:  # a read-only cache still works, only slower
                log.warning("could not write the extraction cache %s: %s", path, exc)
            log.info("compiled the extraction lexicon in %.1f s", time.perf_counter() - t0)
        return cls(lexicon)

    @property
    def stats(self) -> dict[str, int]:
        """Sizes of the compiled lexicon (keys, terms, Russian entries)."""
        return dict(self._lex.stats)

    # -- extraction -------------------------------------------------------------------------------
    @staticmethod
    def detect_language(text: str) -> str:
        """``ru`` or ``en``: the script most letters of ``text`` are in."""
        return detect_language(text)

    def extract(self, text: str, lang: str = "auto", *, include_family: bool = False) -> list[ExtractedTerm]:
        """HPO terms stated in ``text``, in text order, with character offsets.

        ``lang``: ``en`` or ``ru`` use that lexicon only; ``auto`` uses both (mixed-language notes).
        Terms said of relatives are dropped unless ``include_family``; negated ones come with
        ``excluded=True``, possible or suspected ones with ``uncertain=True``.
        """
        if lang not in LANGUAGES:
            raise InputError(f"language {lang!r}: use one of {', '.join(LANGUAGES)}.")
        allowed = {"auto": EN | RU, "en": EN, "ru": RU}[lang]
        keys, cues, starts, ends = self._tokens(text)
        n = len(keys)
        spans = [
            (i, j, p) for i, j, p in self._match(keys, cues, allowed)
            if i < j or self._single_ok(keys[i], text[starts[i] : ends[i]])
        ]
        if allowed & EN:
            words = set(cues)
            if blocked := blocked_tokens(cues, words):
                spans = [s for s in spans if not any(k in blocked for k in range(s[0], s[1] + 1))]
            spans += functional_spans(text, cues, starts, ends, self._position, EN)
        taken = [False] * n
        accepted: list[tuple[int, int, int]] = []
        for i, j, payload in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
            if not any(taken[i : j + 1]):
                accepted.append((i, j, payload))
                for k in range(i, j + 1):
                    taken[k] = True
        accepted = sorted(set(accepted + self._coordinated(accepted, keys, cues, allowed,
                                                           lambda k: text[starts[k] : ends[k]])))
        if self._lex.combos:
            accepted = self._expand_combos(accepted)
        if allowed & RU and not _russian.MILESTONE_WORDS.isdisjoint(keys):
            accepted = sorted(set(accepted + self._milestones(text, starts, ends)))

        if not accepted:
            return []
        bounds = [k for k, c in enumerate(cues) if c in _SENTENCE_ENDS]
        sentence_cues: dict[int, list] = {}
        out: list[ExtractedTerm] = []
        for i, j, payload in accepted:
            s = bisect_left(bounds, i)
            found = sentence_cues.get(s)
            if found is None:
                lo = bounds[s - 1] + 1 if s > 0 else 0
                hi = bounds[s] + 1 if s < len(bounds) else n
                found = sentence_cues[s] = find_cues(cues, lo, hi)
            ctx = classify((i, j), found, cues, taken)
            if ctx.family and not include_family:
                continue
            start, end = starts[i], ends[j]
            pos = payload >> 3
            out.append(ExtractedTerm(
                id=self._lex.ids[pos], label=self._lex.labels[pos], start=start, end=end, text=text[start:end],
                excluded=ctx.excluded or bool(payload & EXCLUDED_BIT),
                uncertain=ctx.uncertain or text[max(0, start - 1) : start] == "?",
                family=ctx.family, onset=pos in self._lex.onset, lang="ru" if is_cyrillic(text[start:end]) else "en",
            ))
        return out

    def _expand_combos(self, accepted: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        """A phrase of several terms (ЗПРР) as one span per term; a phrase of none (МАРС) as no span."""
        n = len(self._lex.ids)
        out: list[tuple[int, int, int]] = []
        for i, j, p in accepted:
            if p >> 3 < n:
                out.append((i, j, p))
            else:
                out.extend((i, j, pos * 8 + (p & 7)) for pos in self._lex.combos[(p >> 3) - n])
        return sorted(set(out))

    def _milestones(self, text: str, starts: list[int], ends: list[int]) -> list[tuple[int, int, int]]:
        """Spans of the late motor milestones of Russian text (:func:`_russian.late_milestones`)."""
        out = []
        for a, b, hpo_id in _russian.late_milestones(text):
            pos = self._position.get(hpo_id)
            if pos is not None:
                out.append((bisect_left(starts, a), bisect_left(ends, b), pos * 8 + RU))
        return out

    def _tokens(self, text: str) -> tuple[list[str | None], list[str], list[int], list[int]]:
        memo = self._memo  # shared by threads: only whole-entry reads and writes, never a KeyError
        if len(memo) > _MEMO_LIMIT:
            self._memo = memo = {}
        words = TOKEN.findall(text)
        local = {w: memo.get(w) or self._normalise(w) for w in set(words)}
        memo.update(local)
        keys = [local[w][0] for w in words]
        cues = [local[w][1] for w in words]
        spans = [m.span() for m in TOKEN.finditer(text)]
        return keys, cues, [a for a, _ in spans], [b for _, b in spans]

    def _normalise(self, word: str) -> tuple[str | None, str]:
        """(trie key, cue key) of one token; punctuation has no trie key."""
        if not word[0].isalnum():
            return None, word
        same = _russian.unify_script(word)
        if same is not word:  # look-alike letters: the key of the word in one script, the cue as written
            return self._normalise_word(same)[0], self._normalise_word(word)[1]
        return self._normalise_word(word)

    def _normalise_word(self, word: str) -> tuple[str | None, str]:
        if word.isupper() and ABBREV_MARK + word in self._abbrev:
            return ABBREV_MARK + word, fold(word)
        low = fold(word)
        if low.isascii():
            return (SKIP if low in DETERMINERS else stem_en(low)), low
        lemma = self._forms.get(low, low)
        return lemma, lemma

    def _match(self, keys: list[str | None], cues: list[str], allowed: int) -> list[tuple[int, int, int]]:
        """The longest lexicon phrase starting at each token: (first token, last token, payload).

        Articles are skipped; *of* may be skipped too (``cysts of the jaws`` finds *jaw cyst*), except
        after *absence* (``absence of seizures`` is no *absence seizure*)."""
        root = self._trie
        n = len(keys)
        spans: list[tuple[int, int, int]] = []
        for i in [i for i, key in enumerate(keys) if key in root]:
            best: tuple[int, int, int] | None = None
            stack = [(root[keys[i]], i, 0)]
            while stack:
                node, k, denied = stack.pop()
                payload = node.get(END)
                if payload is not None and payload & allowed and (best is None or k > best[1]):
                    best = (i, k, payload | denied)
                last = keys[k]
                k += 1
                while k < n:
                    skip = keys[k]
                    if skip in _INSIDE:
                        k += 1
                        if skip in COPULAS:  # "kidneys are (markedly) enlarged", "liver is not enlarged"
                            while k < n and keys[k] in DEGREE_WORDS:
                                denied |= EXCLUDED_BIT if keys[k] == "not" else 0
                                k += 1
                    elif skip is None and cues[k] == "," and k + 1 < n and keys[k + 1] in POSTMODIFIERS:
                        k += 1  # "Intellectual disability, moderate"
                    else:
                        break
                if k >= n:
                    continue
                key = keys[k]
                if key in _SKIPPABLE and last != "absenc":
                    j = k + 1
                    while j < n and keys[j] == SKIP:
                        j += 1
                    if j < n and (child := node.get(keys[j])) is not None:
                        stack.append((child, j, denied))
                child = node.get(key)
                if child is not None:
                    stack.append((child, k, denied))
            if best is not None:
                spans.append(best)
        return spans

    def _single_ok(self, key: str | None, word: str) -> bool:
        """A one-word match must be the lexicon word itself (up to plural and spelling), a medical
        noun/adjective pair (``microcephalic`` for *microcephaly*) or the adjective of a *-ness* noun
        (``deaf``), not any word with the same stem (``negative`` is not *negativism*)."""
        forms = self._lex.single.get(key) if key is not None else None
        if forms is None:
            return True
        word = light_en(fold(word))
        if word in forms or word + "ness" in forms or word.rstrip("e") + "ity" in forms:  # deaf(ness), obese/obesity
            return True
        if word.endswith(ADJECTIVE_ENDINGS):
            return any(f.endswith(NOUN_ENDINGS) for f in forms)
        return word.endswith(NOUN_ENDINGS) and any(f.endswith(ADJECTIVE_ENDINGS) for f in forms)

    def _walk(self, seq: list[str | None], allowed: int) -> int | None:
        node: Any = self._trie  # nested dicts; a leaf's END holds the payload
        for key in seq:
            node = node.get(key)
            if node is None:
                return None
        payload = node.get(END)
        return payload if payload is not None and payload & allowed else None

    def _coordinated(
        self, accepted: list[tuple[int, int, int]], keys: list[str | None], cues: list[str], allowed: int,
        word: Callable[[int], str] | None = None,
    ) -> list[tuple[int, int, int]]:
        """``aplastic or hypoplastic nails`` -> also *aplastic nails*; ``гипоплазия ногтей и зубов`` -> also
        *гипоплазия зубов*: one word of a matched phrase swapped for a word coordinated with it."""
        extra: list[tuple[int, int, int]] = []
        n = len(keys)
        for i, j, _payload in accepted:
            if j == i:
                continue
            phrase = [k for k in keys[i : j + 1] if k != SKIP]
            inner = [p for p in range(1, len(phrase) - 1) if phrase[p] in _COORDINATORS]
            if len(inner) == 1:  # "cleft lip and palate" -> also cleft lip, cleft palate
                p = inner[0]
                left, right = phrase[:p], phrase[p + 1 :]
                for part in (left, left[: len(left) - len(right)] + right):
                    hit = self._walk(part, allowed) if len(part) < len(phrase) else None
                    if hit is not None:
                        extra.append((i, j, hit))
            k = i - 1
            while k >= 1 and cues[k] in _COORDINATORS:
                if cues[k - 1] in _COORDINATORS and k >= 2:  # ", and" / ", or"
                    k -= 1
                if keys[k - 1] in (None, SKIP) or (hit := self._walk([keys[k - 1], *phrase[1:]], allowed)) is None:
                    break
                extra.append((k - 1, j, hit))
                k -= 2
            k = j + 1
            while k + 1 < n and cues[k] in _COORDINATORS:
                if cues[k + 1] in _COORDINATORS and k + 2 < n:  # ", and" / ", or"
                    k += 1
                if keys[k + 1] in (None, SKIP):
                    break
                if word is not None and not _russian.may_swap_last_word(word(j), keys[j], word(k + 1), keys[k + 1]):
                    break
                hit = self._walk([*phrase[:-1], keys[k + 1]], allowed)
                if hit is None:
                    break
                extra.append((i, k + 1, hit))
                k += 2
        return extra
