"""Genotype evidence: variants from VCFs, lab tables and phenopackets, scored per gene and disease."""

from raredx.genomics._genes import GeneTable, default_gene_table
from raredx.genomics._model import ACMG_CLASSES, ZYGOSITIES, Genotype, Variant
from raredx.genomics._score import (
    DiseaseGenotype,
    GeneEvidence,
    GenotypeParams,
    GenotypeScorer,
    ScoredVariant,
    gene_evidence,
    variant_pathogenicity,
)
from raredx.genomics._vcf import (
    PedMember,
    genotype_from_phenopacket,
    read_ped,
    read_variant_table,
    read_vcf,
)

__all__ = [
    "ACMG_CLASSES",
    "ZYGOSITIES",
    "DiseaseGenotype",
    "GeneEvidence",
    "GeneTable",
    "Genotype",
    "GenotypeParams",
    "GenotypeScorer",
    "PedMember",
    "ScoredVariant",
    "Variant",
    "default_gene_table",
    "gene_evidence",
    "genotype_from_phenopacket",
    "read_ped",
    "read_variant_table",
    "read_vcf",
    "variant_pathogenicity",
]
