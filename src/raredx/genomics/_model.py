"""Genotype evidence as the engine sees it: variants, candidate genes, family members."""

from __future__ import annotations

from dataclasses import dataclass, field

ZYGOSITIES = ("heterozygous", "homozygous", "hemizygous")
# ACMG/AMP variant classes as phenopackets spell them (AcmgPathogenicityClassification), most pathogenic first,
# and the abbreviations labs write.
ACMG_CLASSES = ("PATHOGENIC", "LIKELY_PATHOGENIC", "UNCERTAIN_SIGNIFICANCE", "LIKELY_BENIGN", "BENIGN")
ACMG_ABBREVIATIONS = dict(zip(("P", "LP", "VUS", "LB", "B"), ACMG_CLASSES))


@dataclass(frozen=True, slots=True)
class Variant:
    """One alternate allele in one gene of the patient (the proband)."""

    gene: str
    chrom: str = ""
    pos: int = 0
    ref: str = ""
    alt: str = ""
    hgvs: str = ""  # c. and/or p. notation when known
    consequence: str = ""  # Sequence Ontology term, e.g. missense_variant
    impact: str = ""  # HIGH / MODERATE / LOW / MODIFIER (VEP, SnpEff); "" unknown
    allele_frequency: float | None = None  # the highest population frequency given (gnomAD)
    clinvar: str = ""  # pathogenic / likely_pathogenic / uncertain / likely_benign / benign / conflicting
    acmg: str = ""  # one of ACMG_CLASSES, "" unknown
    zygosity: str = ""  # heterozygous / homozygous / hemizygous / "" unknown
    de_novo: bool | None = None  # absent from both parents (trio), None when unknown
    segregates: bool | None = None  # consistent with the family's affected / unaffected members
    inherited_from: str = ""  # "father" / "mother" / "" (unknown or both)
    source: str = ""  # where it was read: file and line


@dataclass(frozen=True, slots=True)
class Genotype:
    """What sequencing says about a patient: variants, and/or candidate genes without variant detail."""

    variants: tuple[Variant, ...] = ()
    genes: tuple[str, ...] = ()  # candidate genes (a lab's list, or a benchmark's)
    gene_level_only: bool = False  # variants mapped to genes by position only (no consequence known)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __bool__(self) -> bool:
        return bool(self.variants or self.genes)

    def merged(self, other: Genotype) -> Genotype:
        return Genotype(
            self.variants + other.variants,
            tuple(dict.fromkeys(self.genes + other.genes)),
            self.gene_level_only or other.gene_level_only,
            self.warnings + other.warnings,
        )
