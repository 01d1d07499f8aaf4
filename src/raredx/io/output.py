"""Writing a differential as JSON, TSV or a terminal table."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from raredx.engine import Differential

if TYPE_CHECKING:
    from rich.console import Console

FORMATS = ("table", "json", "tsv")


def to_json(results: Differential | list[Differential]) -> str:
    data = [r.to_dict() for r in results] if isinstance(results, list) else results.to_dict()
    return json.dumps(data, indent=2, ensure_ascii=False)


TSV_COLUMNS = ("case_id", "rank", "ids", "name", "score", "probability", "genes", "matched_terms", "evidence",
               "genotype")


def to_tsv(results: Iterable[Differential]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(TSV_COLUMNS)
    for r in results:
        for d in r.diseases:
            matched = [e for e in d.evidence if not e.excluded and e.match not in ("unmatched", "contradicted")]
            ev = "; ".join(
                f"{'-' if e.excluded else ''}{e.term_id}:{e.match}"
                + (f"->{e.annotation_id}" if e.annotation_id and e.annotation_id != e.term_id else "")
                for e in d.evidence
            )
            gt = "" if d.genotype is None else f"{d.genotype.status}: {d.genotype.gene or ''} {'; '.join(d.genotype.variants)}".strip()
            w.writerow([r.case_id, d.rank, ",".join(d.ids), d.name, d.score, d.probability, ",".join(d.genes),
                        len(matched), ev, gt])
    return buf.getvalue()


def render_table(result: Differential, console: Console) -> None:
    """Print a differential with rich."""
    from rich.table import Table

    title = f"Differential diagnosis{' for ' + result.case_id if result.case_id else ''}"
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("Disease")
    table.add_column("P", justify="right")
    table.add_column("Score", justify="right")
    table.add_column("Genes")
    table.add_column("Matched patient terms")
    for d in result.diseases:
        matched = [e for e in d.evidence if not e.excluded and e.match not in ("unmatched", "contradicted")]
        against = [e for e in d.evidence if e.match in ("contradicted", "counted against")]
        terms = ", ".join(e.term_label for e in matched[:6]) + (" …" if len(matched) > 6 else "")
        if against:
            terms += " [red]against: " + ", ".join(e.term_label for e in against[:3]) + "[/red]"
        table.add_row(str(d.rank), f"{d.name}\n[dim]{' '.join(d.ids)}[/dim]", f"{d.probability:.3f}", f"{d.score:.2f}",
                      ", ".join(d.gene_labels()[:4]) + (" …" if len(d.genes) > 4 else ""), terms)
    console.print(table)
    if result.genes:
        console.print("Genes with genotype evidence:")
        for g in result.genes[:10]:
            console.print(f"  {g.rank}. {g.gene}  {g.best_disease}  [dim]{'; '.join(g.variants[:2])}[/dim]")
    for d in result.diseases:
        if d.genotype and d.genotype.status != "variant in gene":
            console.print(f"[dim]#{d.rank} {d.name}: {d.genotype.status}[/dim]")
    for w in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    if result.next_best_phenotypes:
        console.print("Examine next (expected information gain):")
        for s in result.next_best_phenotypes:
            console.print(f"  {s.term_id} {s.label}  [dim]{s.information_gain:.2f} bits, P(present)={s.probability_present:.2f}[/dim]")
    console.print(f"[dim]{result.n_ranked} disease concepts ranked; knowledge base: {result.kb_version}[/dim]")
