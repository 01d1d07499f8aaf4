"""HPO term search for autocomplete: labels and synonyms, word-prefix matching, typo tolerance (trigrams)."""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass

from raredx.ontology._ontology import PHENOTYPIC_ABNORMALITY, Ontology

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class TermHit:
    id: str
    label: str
    matched: str  # the label or synonym that matched
    score: float


def _trigrams(word: str) -> set[str]:
    w = f"  {word} "
    return {w[i:i + 3] for i in range(len(w) - 2)}


class TermIndex:
    """Built once from the ontology (~0.3 s for the HPO); queries take about a millisecond."""

    def __init__(self, ontology: Ontology, root: str = PHENOTYPIC_ABNORMALITY) -> None:
        self.ontology = ontology
        mask = ontology.branch_mask(root) if root in ontology else None
        self.names: list[tuple[int, str, bool]] = []  # (term index, text, is the label)
        postings: dict[str, set[int]] = defaultdict(set)
        for i, label in enumerate(ontology.labels):
            if mask is not None and not mask[i]:
                continue
            for text, is_label in ((label, True), *((s, False) for s in ontology.synonyms[i])):
                n = len(self.names)
                self.names.append((i, text, is_label))
                for w in _WORD.findall(text.lower()):
                    postings[w].add(n)
        self.postings = dict(postings)
        self.vocab = sorted(self.postings)
        grams: dict[str, set[str]] = defaultdict(set)
        for w in self.vocab:
            for g in _trigrams(w):
                grams[g].add(w)
        self.grams = dict(grams)

    def _words(self, token: str) -> dict[str, float]:
        """Vocabulary words a query token may mean, with a match quality (1 exact, 0.9 prefix, <0.8 fuzzy)."""
        out: dict[str, float] = {}
        k = bisect.bisect_left(self.vocab, token)
        while k < len(self.vocab) and self.vocab[k].startswith(token) and len(out) < 2000:
            out[self.vocab[k]] = 1.0 if self.vocab[k] == token else 0.9
            k += 1
        if len(token) >= 4 and len(out) < 5:
            mine = _trigrams(token)
            shared: dict[str, int] = defaultdict(int)
            for g in mine:
                for w in self.grams.get(g, ()):
                    shared[w] += 1
            for w, n in shared.items():
                # Dice similarity against the word, or against its prefix of the token's length (typo while typing)
                sim = max(2 * n / (len(mine) + len(_trigrams(w))), 2 * len(mine & _trigrams(w[:len(token)])) / (2 * len(mine)))
                if sim >= 0.5 and w not in out:
                    out[w] = 0.8 * sim
        return out

    def search(self, query: str, limit: int = 10) -> list[TermHit]:
        query = query.strip()
        if not query:
            return []
        o = self.ontology
        if re.fullmatch(r"(?i)hp:\d{7}", query):
            i = o.index(query.upper())
            if i is None and query.upper() in o.redirects:
                i = o.index(o.redirects[query.upper()])
            return [TermHit(o.ids[i], o.labels[i], o.labels[i], 1.0)] if i is not None else []
        tokens = _WORD.findall(query.lower())
        if not tokens:
            return []
        scores: dict[int, float] = {}
        for k, t in enumerate(tokens):
            here: dict[int, float] = {}
            for w, q in self._words(t).items():
                for n in self.postings[w]:
                    if q > here.get(n, 0.0):
                        here[n] = q
            scores = here if k == 0 else {n: s + here[n] for n, s in scores.items() if n in here}
            if not scores:
                return []
        best: dict[int, TermHit] = {}
        for n, s in scores.items():
            i, text, is_label = self.names[n]
            score = s / len(tokens) + (0.05 if is_label else 0.0) - 0.002 * len(text)
            if text.lower() == query.lower():
                score += 1.0
            if i not in best or score > best[i].score:
                best[i] = TermHit(o.ids[i], o.labels[i], text, round(score, 4))
        return sorted(best.values(), key=lambda h: (-h.score, h.label))[:limit]
