"""Review status of the Russian lexicon, and the 1,000 most-annotated terms to review first.

    .venv/bin/python scripts/ru_review_priority.py [--review REVIEW_TSV] [--hpoa phenotype.hpoa.gz]

1. With ``--review`` (a clinical review: columns ``n, hpo_id, …, verdict, comment``, e.g.
   ``tests/data/ru-clinical/ru-lexicon-review-2026-12.tsv``): every lexicon row the review judged
   ``CORRECT`` gets ``status`` = ``reviewed`` and ``source`` = the review's file name. Rows judged
   ``ACCEPTABLE`` or ``WRONG`` are fixed by hand from the review's comments and keep ``draft`` until a
   clinician has checked the fix (their ``source`` names the review row). Other rows are left as they are.
2. Counts, per HPO term, the diseases annotated with it in ``phenotype.hpoa`` (aspect P, not ``NOT``; alt
   ids mapped to current ids) and writes the 1,000 phenotype terms with the most diseases to
   ``src/raredx/extract/data/ru_review_priority.tsv`` (rank, hpo_id, diseases, English label, Russian
   label, status: ``reviewed``, ``draft`` or ``missing`` when the lexicon has no row). Reviewers take the
   list from the top; the recogniser does not read it.
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path

from raredx.extract._lexicon import RU_COLUMNS, default_ru_lexicon
from raredx.kb import find_source_files, load_knowledge_base, resolve_data_dir
from raredx.kb._readers import read_hpoa
from raredx.ontology import PHENOTYPIC_ABNORMALITY

OUT = default_ru_lexicon().with_name("ru_review_priority.tsv")
TOP = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--review", type=Path, help="a clinical review TSV whose CORRECT rows become reviewed")
    parser.add_argument("--hpoa", type=Path, help="phenotype.hpoa(.gz); default: the bundled release's")
    parser.add_argument("--lexicon", type=Path, default=default_ru_lexicon())
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    rows = read_rows(args.lexicon)
    if args.review:
        n = mark_reviewed(rows, args.review)
        write_rows(args.lexicon, rows)
        print(f"{n} rows marked reviewed from {args.review.name}")
    ontology = load_knowledge_base().ontology
    hpoa = args.hpoa or find_source_files(resolve_data_dir(None))["hpoa"]
    diseases: dict[str, set[str]] = defaultdict(set)
    for r in read_hpoa(hpoa)[1]:
        if r.aspect == "P" and not r.negated:
            diseases[ontology.redirects.get(r.term_id, r.term_id)].add(r.disease_id)
    phenotype = [t for t in diseases if t in ontology and ontology.in_branch(ontology.index(t), PHENOTYPIC_ABNORMALITY)]
    top = sorted(phenotype, key=lambda t: (-len(diseases[t]), t))[:TOP]
    by_id = {r["hpo_id"]: r for r in rows}
    with open(args.out, "w", encoding="utf-8", newline="") as fh:
        fh.write("rank\thpo_id\tdiseases\tlabel_en\tlabel_ru\tstatus\n")
        for rank, t in enumerate(top, start=1):
            row = by_id.get(t)
            label = ontology.labels[ontology.index(t)]
            status = row["status"] if row else "missing"
            fh.write(f"{rank}\t{t}\t{len(diseases[t])}\t{label}\t{row['label_ru'] if row else ''}\t{status}\n")
    counts: dict[str, int] = defaultdict(int)
    for t in top:
        counts[by_id[t]["status"] if t in by_id else "missing"] += 1
    print(f"{args.out}: the {len(top)} most-annotated terms, {dict(sorted(counts.items()))}")


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("\t".join(RU_COLUMNS) + "\n")
        for r in rows:
            fh.write("\t".join(r[c] for c in RU_COLUMNS) + "\n")


def mark_reviewed(rows: list[dict[str, str]], review: Path) -> int:
    with open(review, encoding="utf-8", newline="") as fh:
        correct = {r["hpo_id"] for r in csv.DictReader(fh, delimiter="\t") if r["verdict"] == "CORRECT"}
    n = 0
    for r in rows:
        if r["hpo_id"] in correct:
            r["status"], r["source"] = "reviewed", review.stem
            n += 1
    return n


if __name__ == "__main__":
    main()
