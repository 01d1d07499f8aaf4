"""Phenotypes named in a disease's own name ("... with microcephaly and seizures").

Many recent OMIM entries are named by their features; when a disease has few annotations of its own
(a syndrome described in one paper), its name still says what it looks like. Matching is exact on HPO
labels and synonyms (case-insensitive, whole words, a trailing plural "s" ignored), longest match first;
a phrase after "without" is not taken.
"""

from __future__ import annotations

import re

import numpy as np

from raredx.ontology import Ontology

MAX_WORDS = 6
_WORD = re.compile(r"[a-z0-9]+")


# how OMIM names say what HPO says otherwise
ALIASES = {
    "impaired intellectual development": "HP:0001249",
    "intellectual developmental disorder": "HP:0001249",
    "developmental delay": "HP:0001263",
}


def _words(text: str) -> list[str]:
    words = _WORD.findall(text.lower().replace("-", " "))
    return [w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w for w in words]


class NameMatcher:
    """Finds Phenotypic abnormality terms named in disease names."""

    def __init__(self, ontology: Ontology, min_ic_terms: np.ndarray | None = None) -> None:
        allowed = ontology.phenotype_mask if min_ic_terms is None else ontology.phenotype_mask & min_ic_terms
        self.phrases: dict[tuple[str, ...], int] = {}
        for i in np.flatnonzero(allowed):
            for text in (ontology.labels[i], *ontology.synonyms[i]):
                key = tuple(_words(text))
                if 0 < len(key) <= MAX_WORDS and len(" ".join(key)) >= 4:
                    self.phrases.setdefault(key, int(i))
        for text, tid in ALIASES.items():
            t = ontology.index(tid)
            if t is not None:
                self.phrases[tuple(_words(text))] = t

    def terms(self, name: str) -> list[int]:
        words = _words(name)
        found: list[int] = []
        i = 0
        while i < len(words):
            if words[i] == "without":  # "with or without X": X is optional; "without X": absent
                i += 2
                continue
            for n in range(min(MAX_WORDS, len(words) - i), 0, -1):
                t = self.phrases.get(tuple(words[i : i + n]))
                if t is not None:
                    if t not in found:
                        found.append(t)
                    i += n
                    break
            else:
                i += 1
        return found
