"""Russian clinician phrases: which expected terms the recogniser finds, phrase by phrase.

    .venv/bin/python benchmarks/ru_clinical.py [PHRASES_TSV] [--json]

The phrase file (default ``tests/data/ru-clinical/ru-clinical-phrases-2026-12.tsv``, 40 phrases written by
a Russian clinician) has the columns ``phrase`` and ``expected_hpo_ids``. In ``expected_hpo_ids`` a ``;``
separates findings and a ``,`` separates the ids accepted for one finding, most specific first (e.g.
``HP:0011682,HP:0001629``: perimembranous VSD, or VSD).

Scores, over the terms stated as present for the patient (as ``raredx extract-eval`` counts them):

* a finding is **hit** when any of its accepted ids is found; an id found outside every accepted list is a
  **false positive**; micro precision, recall and F1 over findings;
* **exact match**: the phrases whose findings are all hit with no false positive;
* **strict**: the phrases where the set of ids found equals the set of every id listed.

Prints one line per phrase (``ok`` / ``--``, the ids found, what was missed and what was extra), then the
totals; ``--json`` prints the totals as JSON instead.
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import dataclass
from pathlib import Path

from raredx.extract import Extractor, observed_and_excluded

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "tests" / "data" / "ru-clinical" / "ru-clinical-phrases-2026-12.tsv"


@dataclass(frozen=True, slots=True)
class PhraseResult:
    phrase: str
    findings: tuple[frozenset[str], ...]
    found: tuple[str, ...]

    @property
    def hits(self) -> int:
        return sum(1 for f in self.findings if f & set(self.found))

    @property
    def extra(self) -> tuple[str, ...]:
        accepted = set().union(*self.findings)
        return tuple(i for i in self.found if i not in accepted)

    @property
    def missed(self) -> tuple[frozenset[str], ...]:
        return tuple(f for f in self.findings if not f & set(self.found))

    @property
    def exact(self) -> bool:
        return not self.missed and not self.extra

    @property
    def strict(self) -> bool:
        return set(self.found) == set().union(*self.findings)


def read_phrases(path: Path) -> list[tuple[str, tuple[frozenset[str], ...]]]:
    """(phrase, findings) rows; each finding is the set of ids accepted for it."""
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        (r["phrase"], tuple(frozenset(i.strip() for i in f.split(",") if i.strip())
                            for f in r["expected_hpo_ids"].split(";") if f.strip()))
        for r in rows
    ]


def run(extractor: Extractor, path: Path = DEFAULT) -> list[PhraseResult]:
    out = []
    for phrase, findings in read_phrases(path):
        observed, _ = observed_and_excluded(extractor.extract(phrase, "ru"))
        out.append(PhraseResult(phrase, findings, observed))
    return out


def totals(results: list[PhraseResult]) -> dict[str, float | int]:
    tp = sum(r.hits for r in results)
    fn = sum(len(r.missed) for r in results)
    fp = sum(len(r.extra) for r in results)
    p = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return {
        "phrases": len(results), "findings": tp + fn, "hit": tp, "missed": fn, "false_positives": fp,
        "precision": round(p, 4), "recall": round(rec, 4), "f1": round(2 * p * rec / (p + rec) if p + rec else 0.0, 4),
        "exact_match": sum(r.exact for r in results), "strict_match": sum(r.strict for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phrases", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--json", action="store_true", help="print only the totals, as JSON")
    args = parser.parse_args()
    results = run(Extractor.load(), args.phrases)
    summary = totals(results)
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for r in results:
        missed = " ".join("/".join(sorted(f)) for f in r.missed)
        print(f"{'ok' if r.exact else '--'}  {r.phrase}\n    found: {' '.join(r.found) or '-'}"
              + (f"  missed: {missed}" if missed else "") + (f"  extra: {' '.join(r.extra)}" if r.extra else ""))
    n = summary["phrases"]
    print(f"\nexact match {summary['exact_match']}/{n}, strict {summary['strict_match']}/{n}; findings hit "
          f"{summary['hit']}/{summary['findings']}, false positives {summary['false_positives']}; "
          f"P {summary['precision']} R {summary['recall']} F1 {summary['f1']}")


if __name__ == "__main__":
    main()
