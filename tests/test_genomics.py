"""Genotype evidence: VCF (VEP, SnpEff, unannotated), PED trios, lab tables, and the combined ranking."""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from raredx.engine import Case, DiagnosisEngine
from raredx.errors import InputError
from raredx.genomics import (
    GenotypeParams,
    Genotype,
    Variant,
    gene_evidence,
    genotype_from_phenopacket,
    read_ped,
    read_variant_table,
    read_vcf,
    variant_pathogenicity,
)

VCF = Path(__file__).parent / "data" / "vcf"
MARFAN_TERMS = ("HP:0001166", "HP:0001083", "HP:0002616")


def by_gene(genotype: Genotype) -> dict[str, Variant]:
    return {v.gene: v for v in genotype.variants}


def test_vep_trio_de_novo_compound_het_multiallelic_and_missing_fields() -> None:
    g = read_vcf(VCF / "trio_vep.vcf", ped=read_ped(VCF / "trio.ped"))
    genes = by_gene(g)
    fbn1 = genes["FBN1"]
    assert fbn1.de_novo is True and fbn1.zygosity == "heterozygous"
    assert fbn1.impact == "MODERATE" and fbn1.consequence == "missense_variant" and "p.Gly1013Arg" in fbn1.hgvs
    cbs = [v for v in g.variants if v.gene == "CBS"]
    assert {v.inherited_from for v in cbs} == {"father", "mother"}
    assert any(v.clinvar == "pathogenic" and v.allele_frequency == pytest.approx(1e-4) for v in cbs)
    # multi-allelic: the proband carries only the second allele, a stop in MYO7A; the first allele's
    # synonymous SCN1A annotation must not be attributed to it
    assert genes["MYO7A"].alt == "G" and genes["MYO7A"].impact == "HIGH" and genes["MYO7A"].zygosity == "heterozygous"
    assert "SCN1A" not in genes
    assert genes["NSD1"].impact == "" and genes["NSD1"].allele_frequency is None  # empty CSQ fields
    assert genes["FGFR3"].zygosity == "hemizygous"
    assert not g.gene_level_only


def test_compound_heterozygotes_satisfy_recessive_inheritance() -> None:
    g = read_vcf(VCF / "trio_vep.vcf", ped=read_ped(VCF / "trio.ped"))
    ev = gene_evidence(g, "male", GenotypeParams())
    assert ev["CBS"].recessive > 0.5  # two hits from different parents
    assert ev["MYO7A"].recessive < 0.1  # a single heterozygous hit
    assert ev["KCNQ1"].dominant == 0.0  # allele frequency 0.2: filtered
    same_parent = Genotype(variants=tuple(Variant("CBS", zygosity="heterozygous", impact="HIGH", inherited_from="father", pos=i)
                                          for i in (1, 2)))
    assert gene_evidence(same_parent, None, GenotypeParams())["CBS"].recessive < 0.1  # in cis, not compound


def test_filters_and_pathogenicity_are_documented_in_reasons() -> None:
    p = GenotypeParams()
    common = variant_pathogenicity(Variant("X", impact="HIGH", allele_frequency=0.05), p)
    assert common.pathogenicity == 0 and any("filtered" in r for r in common.reasons)
    syn = variant_pathogenicity(Variant("X", impact="LOW", consequence="synonymous_variant"), p)
    assert syn.pathogenicity == 0
    acmg = variant_pathogenicity(Variant("X", acmg="PATHOGENIC", allele_frequency=0.05), p)
    assert acmg.pathogenicity > 0.9  # a pathogenic class is not filtered for frequency


def test_snpeff_annotation() -> None:
    genes = by_gene(read_vcf(VCF / "snpeff.vcf"))
    assert genes["FBN1"].impact == "MODERATE" and "c.3037G>A" in genes["FBN1"].hgvs
    assert genes["MYO7A"].impact == "HIGH" and genes["SCN1A"].impact == "LOW"  # 1/2: both alleles carried
    assert genes["OTHER"].impact == "MODIFIER"


def test_bgzipped_vcf_reads_like_plain(tmp_path: Path) -> None:
    gz = tmp_path / "trio.vcf.gz"
    with open(VCF / "trio_vep.vcf", "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    def strip(g: Genotype) -> list[Variant]:
        return [replace(v, source="") for v in g.variants]

    assert strip(read_vcf(gz)) == strip(read_vcf(VCF / "trio_vep.vcf"))


def test_malformed_lines_are_reported_with_line_numbers() -> None:
    with pytest.raises(InputError) as e:
        read_vcf(VCF / "malformed.vcf")
    msg = str(e.value)
    assert "line 10: POS 'abc' is not a position" in msg and "line 11: 4 tab-separated columns" in msg


def test_wrong_genome_build_is_detected() -> None:
    with pytest.raises(InputError, match="header says GRCh37 but GRCh38 was declared"):
        read_vcf(VCF / "grch37.vcf", build="GRCh38")


def test_not_a_vcf_and_missing_sample(tmp_path: Path) -> None:
    other = tmp_path / "x.vcf"
    other.write_text("hello\n")
    with pytest.raises(InputError, match="not a VCF"):
        read_vcf(other)
    with pytest.raises(InputError, match="sample 'NOBODY' is not in the VCF"):
        read_vcf(VCF / "trio_vep.vcf", sample="NOBODY")


def test_unannotated_vcf_is_mapped_to_genes_by_position() -> None:
    g = read_vcf(VCF / "unannotated.vcf")
    assert g.gene_level_only and [v.gene for v in g.variants] == ["FBN1"]
    assert "gene level" in g.warnings[0]


def test_lab_table_and_phenopacket_interpretations() -> None:
    genes = by_gene(read_variant_table(VCF / "lab_variants.tsv"))
    assert genes["FBN1"].acmg == "LIKELY_PATHOGENIC" and genes["FBN1"].zygosity == "heterozygous"
    assert genes["CBS"].zygosity == "homozygous" and genes["CBS"].acmg == "UNCERTAIN_SIGNIFICANCE"
    pp = {"interpretations": [{"diagnosis": {"genomicInterpretations": [{"variantInterpretation": {
        "acmgPathogenicityClassification": "PATHOGENIC",
        "variationDescriptor": {"geneContext": {"symbol": "FBN1"}, "allelicState": {"label": "heterozygous"},
                                "expressions": [{"syntax": "hgvs.c", "value": "NM_000138.5:c.1A>G"}]}}}]}}]}
    (v,) = genotype_from_phenopacket(pp).variants
    assert (v.gene, v.acmg, v.zygosity, v.hgvs) == ("FBN1", "PATHOGENIC", "heterozygous", "c.1A>G")
    with pytest.raises(InputError, match="no 'gene' column"):
        read_variant_table(VCF / "trio.ped")


def test_combined_ranking_marks_diseases_without_a_variant(toy_kb) -> None:
    engine = DiagnosisEngine(toy_kb, cache=False)
    g = read_vcf(VCF / "trio_vep.vcf", ped=read_ped(VCF / "trio.ped"))
    result = engine.diagnose(Case(observed=MARFAN_TERMS, sex="male", genotype=g), top=16)
    first = result.diseases[0]
    assert "OMIM:154700" in first.ids
    assert first.genotype.status == "variant in gene" and first.genotype.gene == "FBN1"
    assert any("de novo" in v for v in first.genotype.variants)
    no_variant = [d for d in result.diseases if d.genotype.status != "variant in gene"]
    assert no_variant and all(d.genotype.contribution < 0 for d in no_variant)
    assert result.genes[0].gene == "FBN1"
    # the genotype moves diseases: without it the same phenotype scores the Marfan concept lower
    plain = engine.diagnose(Case(observed=MARFAN_TERMS, sex="male"), top=16)
    assert first.score > next(d.score for d in plain.diseases if "OMIM:154700" in d.ids)


def test_cli_diagnose_with_vcf_and_bad_vcf(run_cli) -> None:
    ok = run_cli("diagnose", *MARFAN_TERMS, "--vcf", str(VCF / "trio_vep.vcf"), "--ped", str(VCF / "trio.ped"),
                 "--format", "json", "--top", "3")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["genes"][0]["gene"] == "FBN1" and data["diseases"][0]["genotype"]["status"] == "variant in gene"
    bad = run_cli("diagnose", *MARFAN_TERMS, "--vcf", str(VCF / "malformed.vcf"))
    assert bad.returncode == 2 and "line 10" in bad.stderr and "Traceback" not in bad.stderr
    ped_only = run_cli("diagnose", *MARFAN_TERMS, "--ped", str(VCF / "trio.ped"))
    assert ped_only.returncode == 2 and "--vcf" in ped_only.stderr
