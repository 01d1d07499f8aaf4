"""Validate the Russian lexicon batches and merge them into the shipped data file.

    .venv/bin/python scripts/merge_ru_lexicon.py /tmp/lex/out_*.tsv [--terms /tmp/lex/terms.tsv]
        [--out src/raredx/extract/data/hpo_ru.tsv]

Each batch is a TSV with the columns hpo_id, label_ru, synonyms_ru (" | "-separated), source, status.
Checked: header and column count, the id is a term of the bundled HPO release (alt ids are rewritten to
the current id), a non-empty label, no id twice (within or across batches). Bad rows are listed with
file and line and left out; with --terms, ids of the term list that no batch covers are listed too.
The output keeps the batches' row order. Exit status 1 when any problem was found (the file is still
written from the good rows).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from raredx.extract._lexicon import RU_COLUMNS, RuEntry, read_ru_lexicon
from raredx.kb import load_knowledge_base

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src" / "raredx" / "extract" / "data" / "hpo_ru.tsv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("batches", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--terms", type=Path, help="the term list the batches were made from (hpo_id first)")
    args = parser.parse_args()

    ontology = load_knowledge_base().ontology
    known = lambda i: i in ontology or i in ontology.redirects  # noqa: E731
    merged: dict[str, RuEntry] = {}
    origin: dict[str, str] = {}
    problems: list[str] = []
    for batch in args.batches:
        entries, found = read_ru_lexicon(batch, known=known)
        problems += found
        for e in entries:
            current = ontology.redirects.get(e.hpo_id, e.hpo_id)
            if current != e.hpo_id:
                problems.append(f"{batch}: {e.hpo_id} is an alt id of {current}; written as {current}")
            if current in merged:
                problems.append(f"{batch}: {current} is also in {origin[current]}; the first row is kept")
                continue
            merged[current] = RuEntry(current, e.label, e.synonyms, e.source, e.status)
            origin[current] = str(batch)
    if args.terms:
        with open(args.terms, encoding="utf-8") as fh:
            wanted = [r[0] for r in csv.reader(fh, delimiter="\t") if r and r[0].startswith("HP:")]
        missing = [t for t in wanted if ontology.redirects.get(t, t) not in merged]
        if missing:
            examples = ", ".join(missing[:10])
            problems.append(f"{len(missing)} of {len(wanted)} listed terms have no row yet, e.g. {examples}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
        w.writerow(RU_COLUMNS)
        for e in merged.values():
            w.writerow([e.hpo_id, e.label, " | ".join(e.synonyms), e.source, e.status])
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{args.out}: {len(merged)} terms, {sum(len(e.synonyms) for e in merged.values())} synonyms; "
          f"{len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
