"""Time a whole-exome-sized, VEP-annotated VCF plus a phenotype through `raredx diagnose`.

    python benchmarks/exome_speed.py [--variants 40000]

The VCF is synthetic (written to a temporary directory): variants at random positions inside random
genes of the bundled GRCh38 gene table, with the consequence / impact / gnomAD / ClinVar mix of a
typical exome (mostly common and low-impact), one FBN1 missense as the causal variant. It measures
reading + filtering + scoring on one core; no real patient data is involved.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from raredx.genomics import read_vcf
from raredx.genomics._genes import GENE_TABLE

CONSEQUENCES = [("intron_variant", "MODIFIER", 40), ("synonymous_variant", "LOW", 20), ("missense_variant", "MODERATE", 20),
                ("3_prime_UTR_variant", "MODIFIER", 10), ("splice_region_variant", "LOW", 5), ("stop_gained", "HIGH", 1),
                ("frameshift_variant", "HIGH", 1), ("upstream_gene_variant", "MODIFIER", 3)]


def write_vcf(path: Path, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    genes = []
    table = Path(__file__).resolve().parents[1] / "src/raredx/genomics/data" / GENE_TABLE
    with gzip.open(table, "rt") as fh:
        next(fh)
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if f[3] and f[4] and f[9] == "protein-coding" and f[3] in [str(i) for i in range(1, 23)]:
                genes.append((f[1], f[3], int(float(f[4])), int(float(f[5]))))
    kinds = [c for c in CONSEQUENCES for _ in range(c[2])]
    rows = []
    for i in range(n):
        sym, chrom, start, end = rng.choice(genes)
        cons, impact, _ = rng.choice(kinds)
        af = rng.choice([0.3, 0.1, 0.02, 0.005, 0.0004, 0.00001, ""])
        gt = rng.choice(["0/1", "0/1", "1/1"])
        csq = f"A|{cons}|{impact}|{sym}|ENSG|c.{i}G>A||{af}|"
        rows.append((f"chr{chrom}", rng.randint(start, end), csq, gt))
    rows.append(("chr15", 48500000, "A|missense_variant|MODERATE|FBN1|ENSG00000166147|c.3037G>A|p.Gly1013Arg||", "0/1"))
    rows.sort(key=lambda r: (int(r[0][3:]), r[1]))
    with open(path, "w") as out:
        out.write("##fileformat=VCFv4.2\n##reference=GRCh38\n##contig=<ID=chr1,length=248956422>\n")
        out.writelines(f"##contig=<ID=chr{c}>\n" for c in range(2, 23))
        out.write('##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
                  'Format: Allele|Consequence|IMPACT|SYMBOL|Gene|HGVSc|HGVSp|gnomAD_AF|CLIN_SIG">\n')
        out.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
        out.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n")
        for chrom, pos, csq, gt in rows:
            out.write(f"{chrom}\t{pos}\t.\tG\tA\t50\tPASS\tCSQ={csq}\tGT\t{gt}\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", type=int, default=40000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vcf = Path(tmp) / "exome.vcf"
        write_vcf(vcf, args.variants)
        t = time.perf_counter()
        g = read_vcf(vcf)
        print(f"read_vcf: {len(g.variants)} gene-level variant records in {time.perf_counter() - t:.2f} s")
        cmd = [sys.executable, "-m", "raredx", "diagnose", "HP:0001166", "HP:0001083", "HP:0002616", "--vcf", str(vcf),
               "--format", "json", "--top", "3"]
        t = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        print(f"raredx diagnose --vcf ({args.variants} variants, cold process): {time.perf_counter() - t:.2f} s")
        print("top disease:", json.loads(out.stdout)["diseases"][0]["name"])


if __name__ == "__main__":
    main()
