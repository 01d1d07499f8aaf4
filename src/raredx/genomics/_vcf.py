"""Reading variants: VCF (VEP CSQ or SnpEff ANN annotated, or not at all), lab tables, PED files.

VCFs are parsed with cyvcf2 (htslib). A line-by-line check first reports malformed lines with their
numbers, since htslib only skips or stops at them.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from raredx.errors import InputError
from raredx.genomics._genes import GeneTable, default_gene_table
from raredx.genomics._model import ACMG_ABBREVIATIONS, ACMG_CLASSES, Genotype, Variant

BUILDS = ("GRCh38", "GRCh37")
_CHR1_LENGTH = {248956422: "GRCh38", 249250621: "GRCh37"}
_IMPACT_RANK = {"HIGH": 3, "MODERATE": 2, "LOW": 1, "MODIFIER": 0, "": -1}
_AF_FIELDS = ("gnomad_af", "gnomade_af", "gnomadg_af", "gnomad_exomes_af", "gnomad_genomes_af", "max_af",
              "gnomad_popmax_af", "af_popmax", "gnomad_af_popmax")
_GT = re.compile(r"^(?:\.|\d+)(?:[/|](?:\.|\d+))*$")
_ALLELE = re.compile(r"^([ACGTNacgtn]+|\*|\.|<[^>]+>|[ACGTNacgtn]*[\[\]][^\[\]]+[\[\]][ACGTNacgtn]*)$")
MAX_ERRORS = 10


@dataclass(frozen=True, slots=True)
class PedMember:
    family: str
    individual: str
    father: str
    mother: str
    sex: str  # male / female / ""
    affected: bool | None


def read_ped(path: str | Path) -> list[PedMember]:
    """A PED (linkage) file: family, individual, father, mother, sex (1/2), phenotype (1 unaffected, 2 affected)."""
    path = Path(path)
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split()
        if len(cols) < 6:
            raise InputError(f"{path}: line {lineno}: a PED line needs 6 columns (family, individual, father, "
                             f"mother, sex, phenotype); found {len(cols)}.")
        sex = {"1": "male", "2": "female"}.get(cols[4], "")
        affected = {"2": True, "1": False}.get(cols[5])
        out.append(PedMember(cols[0], cols[1], "" if cols[2] == "0" else cols[2], "" if cols[3] == "0" else cols[3],
                             sex, affected))
    if not out:
        raise InputError(f"{path}: no individuals; a PED file has one line per family member.")
    return out


def _open_text(path: Path) -> IO[str]:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def check_vcf(path: Path, declared_build: str) -> tuple[list[str], list[str], str | None]:
    """Validate the text of a VCF: (sample names, INFO header lines, build the header says).
    Malformed data lines raise one InputError listing them with their line numbers."""
    if declared_build not in BUILDS:
        raise InputError(f"--build {declared_build!r}: use GRCh38 or GRCh37.")
    samples: list[str] = []
    info: list[str] = []
    detected: str | None = None
    errors: list[str] = []
    saw_format = saw_chrom = False
    try:
        with _open_text(path) as fh:
            for lineno, line in enumerate(fh, 1):
                line = line.rstrip("\n")
                if line.startswith("##"):
                    saw_format |= line.startswith("##fileformat=VCF")
                    if line.startswith("##INFO="):
                        info.append(line)
                    detected = _header_build(line, detected)
                elif line.startswith("#CHROM"):
                    saw_chrom = True
                    samples = line.split("\t")[9:]
                elif line.strip() and (problem := _line_problem(line.split("\t"), saw_chrom, samples)):
                    errors.append(f"line {lineno}: {problem}")
                    if len(errors) >= MAX_ERRORS:
                        break
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read as a VCF ({exc}); give a plain or bgzipped VCF file.") from exc
    if not saw_format:
        raise InputError(f"{path}: not a VCF (no ##fileformat=VCF header line); give a plain or bgzipped VCF file.")
    if errors:
        more = " (stopped at the first ten)" if len(errors) >= MAX_ERRORS else ""
        raise InputError(f"{path}: malformed VCF lines{more}: " + "; ".join(errors) + ". Fix or remove them.")
    if detected and detected != declared_build:
        raise InputError(
            f"{path}: the header says {detected} but {declared_build} was declared; pass --build {detected} "
            "(the coordinates are used to map unannotated variants to genes)."
        )
    return samples, info, detected


def _header_build(line: str, detected: str | None) -> str | None:
    """The genome build a ``##`` header line says (chromosome 1's length, else the reference's name)."""
    m = re.match(r"##contig=<ID=(?:chr)?1,.*length=(\d+)", line)
    if m:
        return _CHR1_LENGTH.get(int(m.group(1)), detected)
    if line.startswith("##reference=") and detected is None:
        low = line.lower()
        if any(k in low for k in ("grch37", "hg19", "b37", "hs37")):
            return "GRCh37"
        return "GRCh38" if any(k in low for k in ("grch38", "hg38")) else None
    return detected


def _line_problem(cols: list[str], saw_chrom: bool, samples: list[str]) -> str | None:
    """What is wrong with a data line (None if nothing the text check can see)."""
    if not saw_chrom:
        return "data before the #CHROM header line"
    if len(cols) < 8:
        return f"{len(cols)} tab-separated columns, a VCF line has at least 8"
    if not cols[1].isdigit():
        return f"POS {cols[1]!r} is not a position"
    if not _ALLELE.match(cols[3]) or cols[3] in (".", "*"):
        return f"REF {cols[3]!r} is not a sequence"
    if not all(_ALLELE.match(a) for a in cols[4].split(",")):
        return f"ALT {cols[4]!r} is not a list of alleles"
    if samples and len(cols) != 9 + len(samples):
        return f"{len(cols) - 9} sample columns, the header names {len(samples)}"
    if samples:
        return _genotype_problem(cols, samples)
    return None


def _genotype_problem(cols: list[str], samples: list[str]) -> str | None:
    """What is wrong with the sample columns of a data line: more values than FORMAT names, or a GT that is not a
    genotype of this line's alleles (htslib's own message for these does not say where)."""
    keys = cols[8].split(":")
    gt = keys.index("GT") if "GT" in keys else None
    n_alt = 0 if cols[4] == "." else len(cols[4].split(","))
    for name, value in zip(samples, cols[9:], strict=True):
        parts = value.split(":")
        if len(parts) > len(keys):
            return f"sample {name}: {len(parts)} values {value!r}, FORMAT {cols[8]!r} names {len(keys)}"
        if gt is None or gt >= len(parts):  # trailing FORMAT values may be left out
            continue
        if not _GT.match(parts[gt]):
            return f"sample {name}: GT {parts[gt]!r} is not a genotype (such as 0/1, 1|1, 1 or ./.)"
        if (top := max((int(a) for a in re.split(r"[/|]", parts[gt]) if a != "."), default=0)) > n_alt:
            return f"sample {name}: GT {parts[gt]!r} names allele {top}, but ALT has {n_alt}"
    return None


def _info_format(info_lines: list[str], key: str) -> list[str] | None:
    for line in info_lines:
        if line.startswith(f"##INFO=<ID={key},"):
            m = re.search(r"Format: ?([^\"]+)\"", line) or re.search(r"'\s*([^']+)'", line)
            if m:
                return [f.strip().lower() for f in m.group(1).split("|")]
    return None


def _clinvar(text: str) -> str:
    t = text.lower().replace(" ", "_")
    if "conflicting" in t:
        return "conflicting"
    for label in ("likely_pathogenic", "pathogenic", "likely_benign", "benign", "uncertain"):
        if label in t:
            return label
    return ""


def _float(text: object) -> float | None:
    try:
        values = [float(v) for v in str(text).replace("&", ",").split(",") if v not in ("", ".", "None")]
    except ValueError:
        return None
    return max(values) if values else None


def read_vcf(
    path: str | Path,
    *,
    build: str = "GRCh38",
    sample: str | None = None,
    ped: list[PedMember] | None = None,
    gene_table: GeneTable | None = None,
) -> Genotype:
    """The proband's variants. The proband is ``sample``, else the affected individual of ``ped`` found in
    the VCF, else the first sample. With parents in the VCF (from ``ped``), de novo variants are marked;
    with other members, segregation."""
    from cyvcf2 import VCF  # cyvcf2 (htslib) does the parsing; imported here to keep start-up fast

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file; give a VCF file (plain or bgzipped).")
    samples, info_lines, _ = check_vcf(path, build)
    proband, father, mother, others = _family(samples, sample, ped, path)
    csq = _info_format(info_lines, "CSQ")
    ann = _info_format(info_lines, "ANN")
    warnings: list[str] = []
    gene_level = csq is None and ann is None
    if gene_level:
        if build != "GRCh38":
            raise InputError(f"{path}: no VEP (CSQ) or SnpEff (ANN) annotation, and genes can only be found by "
                             "position on GRCh38; annotate the VCF with VEP or SnpEff first.")
        gene_table = gene_table or default_gene_table()
        warnings.append(f"{path.name}: no VEP or SnpEff annotation; variants were mapped to genes by position only "
                        "(gene level: no consequence, frequency or ClinVar evidence).")
    family = _Family(samples, proband, father, mother, others)
    out: list[Variant] = []
    lineno = 0
    vcf = VCF(str(path), gts012=False, lazy=True)
    try:
        for lineno, rec in enumerate(vcf, 1):
            out.extend(_record_variants(rec, path.name, family, gene_table if gene_level else None, csq, ann))
    except Exception as exc:  # htslib errors on lines the text check could not see
        raise InputError(f"{path}: data record {lineno + 1} cannot be parsed ({type(exc).__name__}: {exc}); check "
                         "that line against the VCF specification, or remove it.") from exc
    finally:
        vcf.close()
    return Genotype(variants=tuple(out), gene_level_only=gene_level, warnings=tuple(warnings))


@dataclass(frozen=True, slots=True)
class _Family:
    samples: list[str]
    proband: str
    father: str  # "" when not in the VCF
    mother: str
    others: list[tuple[str, bool]]  # other members in the VCF, and whether they are affected

    @property
    def index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.samples)}


def _record_variants(rec: Any, file: str, family: _Family, gene_table: GeneTable | None, csq: list[str] | None,
                     ann: list[str] | None) -> Iterator[Variant]:
    """The proband's variants of one VCF record: one per alternate allele the proband carries and gene (by the
    annotation, or with ``gene_table`` by position)."""
    gts = rec.genotypes if family.samples else None
    index = family.index
    for k, alt in enumerate(rec.ALT, 1):
        zyg = ""
        if gts is not None:
            alleles = gts[index[family.proband]][:-1]
            n = sum(1 for a in alleles if a == k)
            if n == 0:
                continue
            zyg = "homozygous" if n >= 2 and len(alleles) >= 2 else ("hemizygous" if len(alleles) == 1 else "heterozygous")
        base: dict[str, Any] = {"chrom": rec.CHROM, "pos": rec.POS, "ref": rec.REF, "alt": alt, "zygosity": zyg,
                                "source": f"{file}:{rec.CHROM}:{rec.POS}"}
        if gts is not None:
            base.update(_family_evidence(gts, index, k, family.father, family.mother, family.others))
        info_af = max((v for v in (_float(rec.INFO.get(f)) for f in ("gnomAD_AF", "gnomad_AF", "AF_popmax",
                       "gnomAD_AF_popmax")) if v is not None), default=None)
        info_clin = _clinvar(str(rec.INFO.get("CLNSIG") or ""))
        if gene_table is not None:
            for gene in gene_table.genes_at(rec.CHROM, rec.POS):
                yield Variant(gene=gene, allele_frequency=info_af, clinvar=info_clin, **base)
        else:
            yield from _annotated(rec, alt, k, csq, ann, base, info_af, info_clin)


def _annotated(rec: Any, alt: str, k: int, csq: list[str] | None, ann: list[str] | None, base: dict[str, Any],
               info_af: float | None, info_clin: str) -> list[Variant]:
    """One Variant per gene from the CSQ / ANN entries of this allele (the most severe entry of each gene)."""
    per_gene: dict[str, Variant] = {}
    entries: list[dict[str, Any]] = []
    if csq is not None:
        raw = rec.INFO.get("CSQ") or ""
        vep_allele = _vep_allele(rec.REF, alt)
        for e in str(raw).split(","):
            fields = dict(zip(csq, e.split("|")))
            if len(rec.ALT) == 1 or fields.get("allele") in (alt, vep_allele) or fields.get("allele_num") == str(k):
                entries.append({"gene": fields.get("symbol", ""), "consequence": fields.get("consequence", ""),
                                "impact": fields.get("impact", ""),
                                "hgvs": " ".join(x.split(":")[-1] for x in (fields.get("hgvsc", ""), fields.get("hgvsp", "")) if x),
                                "af": max((v for v in (_float(fields.get(f, "")) for f in _AF_FIELDS) if v is not None), default=None),
                                "clinvar": _clinvar(fields.get("clin_sig", ""))})
    if ann is not None:
        raw = rec.INFO.get("ANN") or ""
        for e in str(raw).split(","):
            fields = dict(zip(ann, (x.strip() for x in e.split("|"))))
            if fields.get("allele") in (alt, None) or len(rec.ALT) == 1:
                entries.append({"gene": fields.get("gene_name", ""), "consequence": fields.get("annotation", ""),
                                "impact": fields.get("annotation_impact", ""),
                                "hgvs": " ".join(x for x in (fields.get("hgvs.c", ""), fields.get("hgvs.p", "")) if x),
                                "af": None, "clinvar": ""})
    for entry in entries:
        gene = entry["gene"]
        if not gene:
            continue
        impact = entry["impact"].upper()
        af = max((v for v in (entry["af"], info_af) if v is not None), default=None)
        v = Variant(gene=gene, hgvs=entry["hgvs"], consequence=entry["consequence"].split("&")[0], impact=impact,
                    allele_frequency=af, clinvar=entry["clinvar"] or info_clin, **base)
        old = per_gene.get(gene)
        if old is None or _IMPACT_RANK.get(impact, -1) > _IMPACT_RANK.get(old.impact, -1):
            per_gene[gene] = v
    return list(per_gene.values())


def _vep_allele(ref: str, alt: str) -> str:
    """VEP writes indel alleles without the shared first base ('-' for a deletion)."""
    if len(ref) == len(alt) == 1 or not alt or alt[0] != ref[0]:
        return alt
    return alt[1:] or "-"


def _family(samples: list[str], sample: str | None, ped: list[PedMember] | None,
            path: Path) -> tuple[str, str, str, list[tuple[str, bool]]]:
    if not samples:
        return "", "", "", []
    by_id = {m.individual: m for m in ped or []}
    if sample is None:
        affected = [m.individual for m in ped or [] if m.affected and m.individual in samples]
        with_parents = [i for i in affected if by_id[i].father in samples and by_id[i].mother in samples]
        sample = (with_parents or affected or [samples[0]])[0]
    if sample not in samples:
        raise InputError(f"{path}: sample {sample!r} is not in the VCF (samples: {', '.join(samples[:10])}); "
                         "pass --sample with one of them.")
    me = by_id.get(sample)
    father = me.father if me and me.father in samples else ""
    mother = me.mother if me and me.mother in samples else ""
    others = [(m.individual, m.affected) for m in ped or []
              if m.individual in samples and m.individual not in (sample, father, mother) and m.affected is not None]
    if father or mother:
        others += [(p, a) for p in (father, mother) if p and p in by_id and (a := by_id[p].affected) is not None]
    return sample, father, mother, others


def _family_evidence(gts: Any, index: dict[str, int], k: int, father: str, mother: str,
                     others: list[tuple[str, bool]]) -> dict[str, object]:
    def carries(name: str) -> bool | None:
        alleles = gts[index[name]][:-1]
        if any(a < 0 for a in alleles):
            return None
        return any(a == k for a in alleles)

    out: dict[str, object] = {}
    if father and mother:
        f, m = carries(father), carries(mother)
        if f is False and m is False:
            out["de_novo"] = True
        elif f is not None and m is not None:
            out["de_novo"] = False
            out["inherited_from"] = "father" if f and not m else ("mother" if m and not f else "")
    seg = [carries(name) == affected for name, affected in others if carries(name) is not None and affected]
    if seg:
        out["segregates"] = all(seg)
    return out


def read_variant_table(path: str | Path) -> Genotype:
    """A lab's variant table (TSV or CSV) with columns gene, hgvs, zygosity and optionally acmg
    (names are matched case-insensitively; 'symbol', 'variant', 'genotype', 'classification' also work)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; give a TSV or CSV variant table.") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise InputError(f"{path}: empty; give a table with columns gene, hgvs, zygosity[, acmg].")
    dialect = "\t" if "\t" in lines[0] else ","
    rows = list(csv.reader(lines, delimiter=dialect))
    header = [h.strip().lower() for h in rows[0]]

    def col(*names: str) -> int | None:
        return next((header.index(n) for n in names if n in header), None)

    gi = col("gene", "symbol", "gene_symbol")
    if gi is None:
        raise InputError(f"{path}: no 'gene' column in the header {rows[0]}; name the columns gene, hgvs, zygosity, acmg.")
    hi, zi, ai = col("hgvs", "variant", "hgvs_c", "hgvs.c"), col("zygosity", "genotype"), col("acmg", "classification", "acmg_class")
    out = []
    for n, row in enumerate(rows[1:], 2):
        if len(row) <= gi or not row[gi].strip():
            raise InputError(f"{path}: row {n}: no gene symbol.")
        zyg = row[zi].strip().lower() if zi is not None and zi < len(row) else ""
        zyg = {"het": "heterozygous", "hom": "homozygous", "hemi": "hemizygous", "0/1": "heterozygous",
               "1/1": "homozygous"}.get(zyg, zyg)
        acmg = row[ai].strip().upper().replace(" ", "_") if ai is not None and ai < len(row) else ""
        out.append(Variant(gene=row[gi].strip(), hgvs=row[hi].strip() if hi is not None and hi < len(row) else "",
                           zygosity=zyg, acmg=_acmg(acmg), source=f"{path.name}:{n}"))
    return Genotype(variants=tuple(out))


def _acmg(text: str) -> str:
    text = ACMG_ABBREVIATIONS.get(text, text)
    return text if text in ACMG_CLASSES else ""


def genotype_from_phenopacket(doc: dict[str, Any]) -> Genotype:
    """Variants of ``interpretations[].diagnosis.genomicInterpretations``."""
    out = []
    for interp in doc.get("interpretations") or []:
        for gi in (interp.get("diagnosis") or {}).get("genomicInterpretations") or []:
            vi = gi.get("variantInterpretation") or {}
            vd = vi.get("variationDescriptor") or {}
            gene = (vd.get("geneContext") or {}).get("symbol") or (gi.get("gene") or {}).get("symbol")
            if not gene:
                continue
            hgvs = " ".join(e.get("value", "").split(":")[-1] for e in vd.get("expressions") or []
                            if e.get("syntax") in ("hgvs.c", "hgvs.p"))
            rec = vd.get("vcfRecord") or {}
            out.append(Variant(gene=gene, hgvs=hgvs, chrom=rec.get("chrom", ""), pos=int(rec.get("pos") or 0),
                               ref=rec.get("ref", ""), alt=rec.get("alt", ""),
                               zygosity=((vd.get("allelicState") or {}).get("label") or "").lower(),
                               acmg=_acmg(vi.get("acmgPathogenicityClassification", "")),
                               source="phenopacket"))
    return Genotype(variants=tuple(out))
