"""HPO term names in the interface's language: the Russian lexicon's preferred labels (the English label where
the lexicon has none), and term search for autocomplete over the Russian labels and synonyms (any inflected
form, small typos) as well as over the English ones.

>>> from raredx.extract import TermLabels                             # doctest: +SKIP
>>> labels = TermLabels.load(ontology)                                 # doctest: +SKIP
>>> labels.label("HP:0001250", "ru")                                   # doctest: +SKIP
'судороги'
>>> [h.english_label for h in labels.search("судорог", "ru", 1)]       # doctest: +SKIP
['Seizure']
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from functools import cached_property, lru_cache
from pathlib import Path

from raredx.extract._lexicon import RuEntry, default_ru_lexicon, read_ru_lexicon
from raredx.extract._normalise import CYRILLIC, fold
from raredx.ontology import Ontology, TermHit, TermIndex

log = logging.getLogger(__name__)


class TermLabels:
    """Built once per process (the English index at once, ~0.3 s; the Russian one at the first Cyrillic query);
    thread-safe to read."""

    def __init__(self, ontology: Ontology, russian: Iterable[RuEntry] = ()) -> None:
        self.ontology = ontology
        self._ru = {e.hpo_id: e for e in russian}
        self.english = TermIndex(ontology)

    @classmethod
    def load(cls, ontology: Ontology, lexicon: Path | None = None) -> TermLabels:
        """The labels of the Russian lexicon (the bundled one unless ``lexicon`` is given); rows that the
        extractor would refuse are left out here too (the extractor's build reports them)."""
        entries, problems = read_ru_lexicon(lexicon or default_ru_lexicon(), known=ontology.__contains__)
        if problems:
            log.debug("%d rows of the Russian lexicon left out of the labels", len(problems))
        return cls(ontology, entries)

    def label(self, term_id: str, lang: str, english: str | None = None) -> str:
        """The name of ``term_id`` in ``lang``; else ``english`` (the label stored with the term), else the
        ontology's label, else the id itself."""
        if lang == "ru":
            entry = self._ru.get(term_id) or self._ru.get(self.ontology.redirects.get(term_id, ""))
            if entry is not None:
                return entry.label
        if english:
            return english
        i = self.ontology.index(term_id)
        return self.ontology.labels[i] if i is not None else term_id

    @cached_property
    def russian(self) -> TermIndex:
        """The search index of the Russian labels and synonyms, words also indexed by their pymorphy3 lemma."""
        names = {e.hpo_id: (e.label, e.synonyms) for e in self._ru.values()}
        return TermIndex(self.ontology, names=names, lemma=_lemma)

    def search(self, query: str, lang: str = "en", limit: int = 10) -> list[TermHit]:
        """Terms for an autocomplete query: a Cyrillic query searches the Russian names, any other the English
        ones (and HPO ids); each hit's ``label`` is in ``lang`` and ``english_label`` is the ontology's."""
        index = self.russian if CYRILLIC.search(query) else self.english
        hits = index.search(query, limit)
        return [replace(h, label=self.label(h.id, lang, h.english_label)) for h in hits]


@lru_cache(maxsize=65536)
def _lemma(word: str) -> str:
    """The dictionary form of a Russian word (``судорог`` -> ``судорога``); other words as they are."""
    if not CYRILLIC.search(word):
        return word
    return fold(_morph().parse(word)[0].normal_form)


@lru_cache(maxsize=1)
def _morph():  # type: ignore[no-untyped-def]
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")
