"""Evaluation on corpora in the GSC+ layout: ``corpus/<id>`` texts, ``ann/<id>`` lines
``[start::end]<TAB>HP_0001234 | mention``. Document-level micro precision, recall and F1 of HPO ids."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from raredx.errors import InputError
from raredx.extract._extractor import Extractor
from raredx.extract._io import decode_text

_ANN = re.compile(r"^\[(\d+)::(\d+)\]\t(HP[_:]\d{7})\s*\|?\s*(.*)$")


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    text: str
    gold: frozenset[str]


@dataclass(frozen=True, slots=True)
class DocumentScore:
    id: str
    tp: int
    false_positives: tuple[str, ...]
    false_negatives: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Evaluation:
    corpus: str
    documents: int
    characters: int
    tp: int
    fp: int
    fn: int
    seconds: float
    per_document: tuple[DocumentScore, ...]

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "corpus": self.corpus, "documents": self.documents, "characters": self.characters,
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4),
            "recall": round(self.recall, 4), "f1": round(self.f1, 4), "seconds_extracting": round(self.seconds, 3),
            "per_document": [
                {"id": d.id, "tp": d.tp, "fp": list(d.false_positives), "fn": list(d.false_negatives)}
                for d in self.per_document
            ],
        }


def read_corpus(directory: str | Path, normalise_id: Callable[[str], str] = lambda i: i) -> list[Document]:
    """The documents of a GSC+-layout corpus; gold ids are passed through ``normalise_id`` (alt ids)."""
    root = Path(directory)
    texts, anns = root / "corpus", root / "ann"
    if not texts.is_dir() or not anns.is_dir():
        raise InputError(f"{root}: expected the GSC+ layout, a corpus/ folder of texts and an ann/ folder of "
                         "annotations with the same file names.")
    docs: list[Document] = []
    for path in sorted(p for p in texts.iterdir() if p.is_file() and not p.name.startswith(".")):
        ann = anns / path.name
        if not ann.is_file():
            raise InputError(f"{ann}: missing; every corpus/<id> needs an ann/<id> (empty when it has no terms).")
        gold: set[str] = set()
        for line_no, line in enumerate(ann.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            m = _ANN.match(line)
            if m is None:
                raise InputError(f"{ann}:{line_no}: expected `[start::end]<TAB>HP_0001234 | mention`, got {line!r}.")
            gold.add(normalise_id(m.group(3).replace("_", ":")))
        docs.append(Document(path.name, decode_text(path.read_bytes(), str(path)), frozenset(gold)))
    if not docs:
        raise InputError(f"{texts}: no documents; put one text file per document there.")
    return docs


def restrict_gold(docs: list[Document], keep: Callable[[str], bool]) -> list[Document]:
    """The documents with only the gold ids ``keep`` accepts (e.g. those a recogniser can extract)."""
    return [Document(d.id, d.text, frozenset(i for i in d.gold if keep(i))) for d in docs]


def score(docs: list[Document], predict: Callable[[str], set[str]], corpus: str = "") -> Evaluation:
    """Micro-averaged scores of ``predict(text)`` (a set of HPO ids) against each document's gold ids.
    Any recogniser can be scored this way (see benchmarks/compare_fasthpocr.py)."""
    tp = fp = fn = 0
    per_doc: list[DocumentScore] = []
    seconds = 0.0
    for doc in docs:
        t0 = time.perf_counter()
        found = predict(doc.text)
        seconds += time.perf_counter() - t0
        hits = found & doc.gold
        tp, fp, fn = tp + len(hits), fp + len(found - doc.gold), fn + len(doc.gold - found)
        fps, fns = tuple(sorted(found - doc.gold)), tuple(sorted(doc.gold - found))
        per_doc.append(DocumentScore(doc.id, len(hits), fps, fns))
    return Evaluation(corpus, len(docs), sum(len(d.text) for d in docs), tp, fp, fn, seconds, tuple(per_doc))


def evaluate(
    extractor: Extractor, docs: list[Document], *, lang: str = "auto", include_excluded: bool = False,
    include_family: bool = False, corpus: str = "",
) -> Evaluation:
    """Scores of the extractor: the ids it finds stated as present for the patient per document (and those
    stated as absent, or of relatives, if asked: corpora like GSC+ annotate every mention)."""

    def predict(text: str) -> set[str]:
        terms = extractor.extract(text, lang, include_family=include_family)
        return {t.id for t in terms if include_excluded or not t.excluded}

    return score(docs, predict, corpus)
