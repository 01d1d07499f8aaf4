"""Genotype evidence per gene and per disease, to be added to the phenotype score.

Per variant, a probability of being pathogenic from (in order of precedence) the ACMG class, the ClinVar
significance, the predicted impact of its consequence; lowered for population frequency (variants above
``max_frequency`` are filtered out), raised when de novo or segregating, lowered when it does not
segregate; variants of low or modifier impact (synonymous, intronic, ...) without a pathogenic ClinVar
or ACMG class are filtered out. Per gene and mode of inheritance: dominant modes take the best variant; autosomal recessive
needs two hits (a homozygous variant, or two heterozygous ones not both from the same parent; a single
heterozygous hit counts a little, a second allele may have been missed); X-linked recessive needs a male,
or a homozygous female. A disease scores ``log(best gene score / background) - log(number of its genes)`` over its genes and
its modes of inheritance (a disease caused by any of n genes is explained by one of them with prior 1/n), or ``-no_variant_penalty`` when none of its genes has a qualifying variant.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from raredx.genomics._model import Genotype, Variant
from raredx.kb import KnowledgeBase

DOMINANT = {"HP:0000006", "HP:0001423", "HP:0001427", "HP:0032113", "HP:0001450", "HP:0001475"}
RECESSIVE = {"HP:0000007"}
X_RECESSIVE = {"HP:0001419"}
_ACMG_P = {"PATHOGENIC": 0.99, "LIKELY_PATHOGENIC": 0.9, "UNCERTAIN_SIGNIFICANCE": 0.3, "LIKELY_BENIGN": 0.02,
           "BENIGN": 0.005}
_CLINVAR_P = {"pathogenic": 0.95, "likely_pathogenic": 0.85, "conflicting": 0.4, "uncertain": 0.3,
              "likely_benign": 0.02, "benign": 0.005}
_IMPACT_P = {"HIGH": 0.8, "MODERATE": 0.4, "LOW": 0.05, "MODIFIER": 0.01}


@dataclass(frozen=True, slots=True)
class GenotypeParams:
    max_frequency: float = 0.01  # population allele frequency above which a variant is filtered out
    unknown_pathogenicity: float = 0.5  # a variant with no class, no ClinVar and no predicted impact
    candidate_gene: float = 0.5  # a listed candidate gene without variant detail
    single_recessive_hit: float = 0.05  # one heterozygous hit in an autosomal recessive gene
    background: float = 0.01  # how likely a random gene carries such evidence
    no_variant_penalty: float = 5.0  # a disease none of whose genes has a qualifying variant
    uncommon_frequency: float = 1e-4  # allele frequencies above this lower an unclassified variant's chance ...
    uncommon_factor: float = 0.8  # ... by this factor
    common_frequency: float = 1e-3  # and above this ...
    common_factor: float = 0.4  # ... by this one
    de_novo_gain: float = 0.5  # share of the remaining doubt a de novo variant removes
    segregation_gain: float = 0.3  # ditto, a variant that segregates with the disease in the family
    non_segregation_factor: float = 0.2  # a variant that does not segregate keeps this share of its chance
    max_pathogenicity: float = 0.999  # no variant is certain
    x_heterozygous_female: float = 0.1  # a heterozygous hit in a woman explains an X-linked recessive disease this much
    x_unknown_sex: float = 0.5  # ... and in a patient of unknown sex


@dataclass(frozen=True, slots=True)
class ScoredVariant:
    variant: Variant
    pathogenicity: float  # 0 when filtered out
    reasons: tuple[str, ...]  # why: class, ClinVar, impact, frequency, de novo, segregation


@dataclass(frozen=True, slots=True)
class GeneEvidence:
    gene: str
    variants: tuple[ScoredVariant, ...]
    dominant: float  # probability the gene explains a dominant disease
    recessive: float
    x_recessive: float


@dataclass(frozen=True, slots=True)
class DiseaseGenotype:
    """How the genotype counted for one disease."""

    status: str  # "variant in gene", "no qualifying variant in the disease's genes", "disease has no known gene"
    contribution: float
    gene: str | None = None
    inheritance: str | None = None  # the mode that explains it best
    variants: tuple[str, ...] = ()  # the variants used, readable


def variant_pathogenicity(v: Variant, p: GenotypeParams) -> ScoredVariant:
    reasons: list[str] = []
    if v.acmg in _ACMG_P:
        prob = _ACMG_P[v.acmg]
        reasons.append(f"ACMG {v.acmg.lower().replace('_', ' ')}")
    elif v.clinvar in _CLINVAR_P:
        prob = _CLINVAR_P[v.clinvar]
        reasons.append(f"ClinVar {v.clinvar.replace('_', ' ')}")
    elif v.impact in _IMPACT_P:
        prob = _IMPACT_P[v.impact]
        reasons.append(f"{v.consequence or 'consequence'} ({v.impact.lower()} impact)")
        if v.impact in ("LOW", "MODIFIER"):  # (ClinVar and ACMG were checked above)
            return ScoredVariant(v, 0.0, (*reasons, "filtered: low predicted impact and not reported pathogenic"))
    else:
        prob = p.unknown_pathogenicity
        reasons.append("pathogenicity unknown")
    af = v.allele_frequency
    classified = v.acmg in ("PATHOGENIC", "LIKELY_PATHOGENIC") or (not v.acmg and v.clinvar in ("pathogenic", "likely_pathogenic"))
    if af is not None and not classified:  # a pathogenic class already weighed the frequency
        if af > p.max_frequency:
            return ScoredVariant(v, 0.0, (*reasons, f"filtered: allele frequency {af:.3g} > {p.max_frequency}"))
        if af > p.common_frequency:
            prob *= p.common_factor
        elif af > p.uncommon_frequency:
            prob *= p.uncommon_factor
        reasons.append(f"allele frequency {af:.2g}")
    if v.de_novo:
        prob += (1 - prob) * p.de_novo_gain
        reasons.append("de novo")
    if v.segregates is True:
        prob += (1 - prob) * p.segregation_gain
        reasons.append("segregates")
    elif v.segregates is False:
        prob *= p.non_segregation_factor
        reasons.append("does not segregate")
    return ScoredVariant(v, min(prob, p.max_pathogenicity), tuple(reasons))


def gene_evidence(genotype: Genotype, sex: str | None, p: GenotypeParams) -> dict[str, GeneEvidence]:
    by_gene: dict[str, list[ScoredVariant]] = defaultdict(list)
    for v in genotype.variants:
        by_gene[v.gene].append(variant_pathogenicity(v, p))
    out: dict[str, GeneEvidence] = {}
    for gene, scored in by_gene.items():
        ok = sorted((s for s in scored if s.pathogenicity > 0), key=lambda s: -s.pathogenicity)
        dominant = ok[0].pathogenicity if ok else 0.0
        biallelic = [s.pathogenicity for s in ok if s.variant.zygosity in ("homozygous", "hemizygous")]
        hets = [s for s in ok if s.variant.zygosity not in ("homozygous", "hemizygous")]
        pairs = [a.pathogenicity * b.pathogenicity for i, a in enumerate(hets) for b in hets[i + 1 :]
                 if not (a.variant.inherited_from and a.variant.inherited_from == b.variant.inherited_from)]
        recessive = max([*biallelic, *pairs, *(s.pathogenicity * p.single_recessive_hit for s in hets), 0.0])
        het_share = p.x_heterozygous_female if sex == "female" else p.x_unknown_sex
        x_rec = dominant if sex == "male" else max([*biallelic, dominant * het_share])
        out[gene] = GeneEvidence(gene, tuple(sorted(scored, key=lambda s: -s.pathogenicity)), dominant, recessive, x_rec)
    for gene in genotype.genes:
        if gene not in out:
            c = p.candidate_gene
            out[gene] = GeneEvidence(gene, (), c, c, c)
    return out


class GenotypeScorer:
    """Adds genotype evidence to the phenotype scores of every disease concept."""

    def __init__(self, kb: KnowledgeBase, params: GenotypeParams | None = None) -> None:
        self.kb = kb
        self.params = params or GenotypeParams()
        self.concepts_of_gene: dict[str, list[int]] = defaultdict(list)
        for c in kb.concepts:
            for g in c.causal_genes:
                self.concepts_of_gene[g].append(c.index)
        self.has_gene = np.array([bool(c.causal_genes) for c in kb.concepts])

    def disease_scores(
        self, genotype: Genotype, sex: str | None
    ) -> tuple[np.ndarray, dict[int, DiseaseGenotype], dict[str, GeneEvidence]]:
        """(score per concept, its explanation where a gene has evidence, evidence per gene)."""
        p = self.params
        genes = gene_evidence(genotype, sex, p)
        scores = np.full(len(self.kb.concepts), -p.no_variant_penalty)
        why: dict[int, DiseaseGenotype] = {}
        for gene, ev in genes.items():
            for ci in self.concepts_of_gene.get(gene, ()):
                modes = set(self.kb.concepts[ci].inheritance)
                options = []
                if modes & DOMINANT or not modes:
                    options.append((ev.dominant, "dominant"))
                if modes & RECESSIVE or not modes:
                    options.append((ev.recessive, "autosomal recessive"))
                if modes & X_RECESSIVE:
                    options.append((ev.x_recessive, "X-linked recessive"))
                if not options:  # only multifactorial / other modes
                    options.append((ev.dominant, "other"))
                prob, mode = max(options)
                if prob <= 0:
                    continue
                # a disease caused by any of n genes is explained by this one with prior 1/n
                n_genes = len(self.kb.concepts[ci].causal_genes)
                contribution = max(math.log(prob / p.background) - math.log(n_genes), -p.no_variant_penalty)
                if contribution > scores[ci]:
                    scores[ci] = contribution
                    why[ci] = DiseaseGenotype(
                        "variant in gene", round(contribution, 4), gene, mode,
                        tuple(_describe(s) for s in ev.variants if s.pathogenicity > 0)
                        or (("candidate gene",) if gene in genotype.genes else ()),
                    )
        return scores, why, genes

    def explain_missing(self, ci: int) -> DiseaseGenotype:
        if not self.has_gene[ci]:
            return DiseaseGenotype("disease has no known gene", -self.params.no_variant_penalty)
        return DiseaseGenotype("no qualifying variant in the disease's genes", -self.params.no_variant_penalty)


def _describe(s: ScoredVariant) -> str:
    v = s.variant
    where = v.hgvs or (f"{v.chrom}:{v.pos}{v.ref}>{v.alt}" if v.chrom else "")
    return f"{v.gene} {where} {v.zygosity}".strip() + f" (P={s.pathogenicity:.2f}; {', '.join(s.reasons)})"
