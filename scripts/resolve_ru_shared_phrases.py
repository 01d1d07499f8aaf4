"""Decide, for every phrase of the Russian lexicon that several terms claim, which term keeps it.

    .venv/bin/python scripts/resolve_ru_shared_phrases.py [--out src/raredx/extract/data/ru_shared_phrases.tsv]

Phrases are compared as the recogniser reads them (pymorphy3 lemmas, look-alike letters unified), so
«врождённый стридор» and «врожденный стридор» are one phrase. For each phrase claimed by two or more
terms, the first rule that applies decides:

1. ``phrase table``: the phrase is in ``ru_phrases.tsv`` or ``phrases.tsv``, which the recogniser reads
   first: the id given there (``-`` when it gives several or none); ``manual``: a decision written below
   (``MANUAL``), with its reason;
2. ``label``: the phrase is the label of exactly one claimant and only a synonym of the others: the term it
   names keeps it (a synonym that is another term's name was a loose translation; the clinical review
   endorsed this for «лобно-височная деменция» and «спутанность сознания»);
3. ``specific``: one claimant is a descendant of every other: the most specific term keeps it (the phrase
   states at least that much, and the general term is implied by the ontology);
4. ``common``: one claimant is an ancestor of every other (which are not related among themselves): that
   general term keeps it (the phrase states at least that much, and no more specific reading is sure);
5. ``drop``: otherwise (unrelated terms, or two labels of unrelated terms) no term keeps it: an ambiguous
   phrase is better unread than read as an arbitrary one.

Writes one row per phrase: the lemma key, the phrase as written, the claimants (``id:L`` for a label,
``id:S`` for a synonym), the id that keeps it (or ``-``) and the rule. The recogniser reads the file when it
compiles the lexicon and indexes each shared phrase for the kept term only.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from raredx.extract._lexicon import (
    _Lemmatiser,
    default_phrases,
    default_ru_lexicon,
    phrase_keys,
    read_phrases,
    read_ru_lexicon,
)
from raredx.extract._russian import (
    NO_TERM,
    SHARED_COLUMNS,
    default_ru_phrases,
    default_shared_decisions,
    read_ru_phrases,
)
from raredx.kb import load_knowledge_base

# phrase (as written in the lexicon) -> (the id that keeps it, or "-", and why)
_TWIN = "two HPO terms for one concept carry the same Russian label; the term clinicians mean by it"
MANUAL: dict[str, tuple[str, str]] = {
    "гипотония": ("HP:0001252", "in Russian neurological notes bare «гипотония» is muscle tone; blood pressure "
                                "is written «артериальная гипотония»"),
    "деформация грудной клетки": ("HP:0000765", "clinical usage covers the sternum (pectus) deformities, not only "
                                                "the ribs (ru-clinical-phrases-2026-12)"),
    "БЦЖ-ит": ("HP:0020086", "BCGitis; BCGosis is «генерализованная БЦЖ-инфекция»"),
    "абдоминальное ожирение": ("HP:0012743", "Abdominal obesity; truncal obesity is «ожирение туловища»"),
    "аномалия строения спинки носа": ("HP:0011119", "спинка носа is the nasal dorsum; the bridge is «переносица»"),
    "асимметрия черепа": ("HP:0000267", _TWIN),
    "вторичная надпочечниковая недостаточность": ("HP:0011734", "central (secondary) adrenal insufficiency"),
    "двурогая матка": ("HP:0000813", "bicornuate uterus; a bifid uterus is «раздвоенная матка»"),
    "добавочные селезенки": ("HP:0009799", "plural: supernumerary spleens"),
    "крыловидные складки шеи": ("HP:0000465", _TWIN + " (Webbed neck)"),
    "крыловидная шея": ("HP:0000465", _TWIN + " (Webbed neck)"),
    "микропенис": ("HP:0000054", _TWIN + " (Micropenis)"),
    "нарушение функции печени": ("HP:0001410", "in a clinical note: decreased liver function"),
    "нестабильность шейного отдела позвоночника": ("HP:0010646", "cervical spine instability"),
    "подглазничная складка": ("HP:0100876", _TWIN),
    "расширение метафизов": ("HP:0003016", _TWIN + " (Metaphyseal widening)"),
    "центрально расположенные ядра в мышечных волокнах": ("HP:0003687", "centrally (not internally) nucleated fibres"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lexicon", type=Path, default=default_ru_lexicon())
    parser.add_argument("--out", type=Path, default=default_shared_decisions())
    args = parser.parse_args()

    ontology = load_knowledge_base().ontology
    entries, problems = read_ru_lexicon(args.lexicon, known=lambda i: i in ontology)
    for p in problems:
        print(p)
    lemmatiser = _Lemmatiser()
    claims: dict[tuple[str, ...], dict[str, str]] = defaultdict(dict)
    written: dict[tuple[str, ...], str] = {}
    for e in entries:
        for rank, text in enumerate((e.label, *e.synonyms)):
            keys = phrase_keys(text, lemmatiser.lemma)
            if keys:
                kind = "L" if rank == 0 else "S"
                claims[keys][e.hpo_id] = min(claims[keys].get(e.hpo_id, kind), kind)
                written.setdefault(keys, text)
    table = {phrase_keys(r.phrase, lemmatiser.lemma): r.hpo_ids for r in read_ru_phrases(default_ru_phrases())}
    for hpo_id, lang, text, _ in read_phrases(default_phrases()):
        if lang == "ru":
            table.setdefault(phrase_keys(text, lemmatiser.lemma), (hpo_id,))
    rows = []
    for keys, who in claims.items():
        if len(who) < 2:
            continue
        if keys in table:
            given = table[keys]
            keep, rule = (given[0] if len(given) == 1 else NO_TERM), "phrase table"
        else:
            keep, rule = decide(written[keys], who, ontology)
        claimants = " ".join(f"{i}:{k}" for i, k in sorted(who.items()))
        rows.append((" ".join(keys), written[keys], claimants, keep, rule))
    rows.sort()
    with open(args.out, "w", encoding="utf-8", newline="") as fh:
        fh.write("\t".join(SHARED_COLUMNS) + "\n")
        for row in rows:
            fh.write("\t".join(row) + "\n")
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row[4].split(":")[0]] += 1
    print(f"{len(rows)} shared phrases written to {args.out}: {dict(sorted(counts.items()))}")


def decide(phrase: str, who: dict[str, str], ontology) -> tuple[str, str]:
    if phrase in MANUAL:
        keep, why = MANUAL[phrase]
        return keep, f"manual: {why}"
    labels = [i for i, k in who.items() if k == "L"]
    if len(labels) == 1:
        return labels[0], "label"
    index = {i: ontology.index(i) for i in who}
    for i, ti in index.items():
        others = [t for j, t in index.items() if j != i]
        if ti is not None and all(t is not None and ontology.is_ancestor(t, ti) for t in others):
            return i, "specific"
    for i, ti in index.items():
        others = [t for j, t in index.items() if j != i]
        if ti is not None and all(t is not None and ontology.is_ancestor(ti, t) for t in others):
            return i, "common"
    return NO_TERM, "drop"


if __name__ == "__main__":
    main()
