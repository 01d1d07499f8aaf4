"""Gene coordinates (GRCh38) to map variants of an unannotated VCF to genes."""

from __future__ import annotations

import bisect
import csv
import gzip
import io
from functools import lru_cache
from importlib import resources
from pathlib import Path

GENE_TABLE = "org.Hs.eg.db_3.16_genes_hg38.tsv.gz"  # Entrez Gene 2022-09-12, UCSC hg38 locations
MAX_GENE_SPAN = 2_500_000  # the longest human gene (DMD) spans 2.1 Mb


class GeneTable:
    """Genes by chromosome, sorted by start: ``genes_at(chrom, pos)`` gives the symbols overlapping a position."""

    def __init__(self, rows: list[tuple[str, str, int, int]]) -> None:
        self._by_chrom: dict[str, tuple[list[int], list[tuple[int, int, str]]]] = {}
        rows = sorted(rows, key=lambda r: (r[1], r[2]))
        for chrom in {r[1] for r in rows}:
            genes = [(s, e, sym) for sym, c, s, e in rows if c == chrom]
            self._by_chrom[chrom] = ([g[0] for g in genes], genes)
        self._max_len = max((e - s for _, _, s, e in rows), default=0)

    @classmethod
    def load(cls, path: str | Path | None = None) -> GeneTable:
        src = Path(path) if path else Path(str(resources.files("raredx.genomics") / "data" / GENE_TABLE))
        rows = []
        with io.TextIOWrapper(gzip.open(src, "rb"), encoding="utf-8") as fh:
            for rec in csv.DictReader(fh, delimiter="\t"):
                if rec["start"] and rec["end"] and rec["chrom"]:
                    if int(float(rec["end"])) - int(float(rec["start"])) > MAX_GENE_SPAN:
                        continue  # a placement spanning tens of Mb (alternate loci merged) is not a gene's extent
                    rows.append((rec["symbol"], _norm_chrom(rec["chrom"]), int(float(rec["start"])), int(float(rec["end"]))))
        return cls(rows)

    def genes_at(self, chrom: str, pos: int) -> list[str]:
        starts, genes = self._by_chrom.get(_norm_chrom(chrom), ([], []))
        i = bisect.bisect_right(starts, pos)
        out = []
        j = i - 1
        while j >= 0 and pos - starts[j] <= self._max_len:
            s, e, sym = genes[j]
            if s <= pos <= e:
                out.append(sym)
            j -= 1
        return out


def _norm_chrom(chrom: str) -> str:
    c = chrom.removeprefix("chr")
    return "MT" if c == "M" else c


@lru_cache(maxsize=1)
def default_gene_table() -> GeneTable:
    return GeneTable.load()
