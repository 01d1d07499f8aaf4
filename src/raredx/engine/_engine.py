"""The differential-diagnosis engine: load once, rank every disease concept for many cases.

Two stages (docs/method.md): a likelihood-ratio-style score of every concept's profile, then a model learned on
patients the knowledge base has never read about re-ranks the leading candidates and gives calibrated
probabilities.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from raredx.engine._case import Case
from raredx.engine._compile import Profiles
from raredx.engine._explain import CaseExplainer, next_best_phenotypes
from raredx.engine._features import FEATURES, ConceptStatics, ProfileStats, candidate_features
from raredx.engine._params import Params
from raredx.engine._prepare import CasePreparer, PreparedCase
from raredx.engine._profiles import ProfileMatrix
from raredx.engine._ranker import RankerModel
from raredx.engine._result import Differential, RankedDisease, RankedGene, SolvedCaseEvidence
from raredx.errors import InputError
from raredx.genomics import DiseaseGenotype, GeneEvidence, GenotypeScorer
from raredx.kb import KnowledgeBase, bins_label

NEXT_BEST_OVER = 10  # next-best phenotypes separate this many leading candidates


@dataclass(frozen=True, slots=True)
class Stage1:
    """First-stage scores of every concept for a case (``-inf``: not rankable), and the masked profiles."""

    scores: np.ndarray
    phenotype: np.ndarray  # the phenotype part of the scores (without genotype evidence)
    onset: np.ndarray  # the onset's part of them
    masked: np.ndarray  # concepts whose profile was masked
    masked_matrix: ProfileMatrix | None


@dataclass(frozen=True, slots=True)
class Ranking:
    """The probability and first-stage score of every concept; the differential is ordered by probability
    (ties by score). Concepts that cannot be ranked have probability 0 and score ``-inf``."""

    probability: np.ndarray
    score: np.ndarray  # the sum of the concept's evidence
    onset: np.ndarray  # the onset's part of the score
    n_ranked: int

    def with_evidence(self, solved: Mapping[int, SolvedCaseEvidence]) -> Ranking:
        """The ranking with each concept's odds multiplied by ``exp(logit)`` of its solved-case evidence (the
        scores stay the knowledge base's)."""
        if not solved:
            return self
        logit = np.zeros(len(self.probability))
        for c, ev in solved.items():
            logit[c] += ev.logit
        p = self.probability * np.exp(logit - logit.max())
        return Ranking(p / p.sum(), self.score, self.onset, self.n_ranked)

    def top(self, k: int) -> np.ndarray:
        """The ``k`` most probable concepts (at most the ranked ones), most probable first."""
        k = max(0, min(k, self.n_ranked))
        if k == 0:
            return np.zeros(0, np.int64)
        some = np.argpartition(-self.probability, k - 1)[:k] if k < len(self.probability) else np.arange(k)
        return some[np.lexsort((-self.score[some], -self.probability[some]))][:k]

    def rank_of(self, concept: int) -> int:
        """1 + the concepts more probable than ``concept`` + those as probable (a pessimistic rank)."""
        p = self.probability[concept]
        return int(np.count_nonzero(self.probability > p) + np.count_nonzero(self.probability == p))


SolvedCases = Callable[[PreparedCase, Ranking], Mapping[int, SolvedCaseEvidence]]  # the evidence of solved patients


class DiagnosisEngine:
    """Ranks all disease concepts of a knowledge base for a case.

    >>> engine = DiagnosisEngine(kb)                      # doctest: +SKIP
    >>> engine.diagnose(Case(observed=("HP:0001166",)))   # doctest: +SKIP
    """

    def __init__(self, kb: KnowledgeBase, params: Params | None = None, *, cache: str | Path | bool | None = None,
                 ranker: RankerModel | bool | None = None) -> None:
        """``cache``: directory for the compiled profiles (default: the knowledge-base cache; False: none).
        ``ranker``: the second stage (default: the shipped model; False: the first stage alone). It is not used
        for a knowledge base with fewer rankable diseases than the model has candidates."""
        self.kb = kb
        self.ontology = kb.ontology
        self.params = params or Params.fitted()
        self.profiles = Profiles(kb, self.params, cache)
        self.matrix = self.profiles.matrix
        self.n_concepts = len(kb.concepts)
        self.n_ranked = int(self.profiles.rankable.sum())
        model = RankerModel.load() if ranker is None or ranker is True else (ranker or None)
        # the model chooses among its number of candidates of a full knowledge base; with fewer diseases than
        # that (a toy or a partial knowledge base) its features mean something else, and the first stage decides
        self.ranker = model if model is not None and self.n_ranked >= model.candidates else None
        self.onset_mask = np.array([c.onset_bins for c in kb.concepts], dtype=np.int64)
        self._preparer = CasePreparer(self.ontology, self.matrix.ic, self.params.drop_redundant)

    def prepare(self, case: Case, *, strict: bool = True) -> PreparedCase:
        """Resolve a case's terms. Unknown ids raise (strict) or are skipped with a warning (lenient)."""
        return self._preparer.prepare(case, strict=strict)

    @cached_property
    def genotype_scorer(self) -> GenotypeScorer:
        return GenotypeScorer(self.kb)

    @cached_property
    def _statics(self) -> np.ndarray:
        return ConceptStatics(self.kb).table

    # -- stage 1 ----------------------------------------------------------------------------------
    def stage1(self, case: PreparedCase, *, mask_source: bool = False) -> Stage1:
        """First-stage score of every concept. ``mask_source`` leaves out annotations whose only references
        are the case's own publications (``case.source_pmids``)."""
        sel = self.profiles.select[case.sex]
        onset = self._onset_scores(case)
        obs, exc = list(case.observed), list(case.excluded)
        hub = self.params.background_weight * len(obs)
        s = (self.matrix.score(obs, exc) - hub * self.matrix.background)[sel] + onset
        masked, mm = (self.profiles.masked(case.source_pmids, case.sex) if mask_source and case.source_pmids
                      else (np.zeros(0, np.int64), None))
        if mm is not None:
            s[masked] = mm.score(obs, exc) - hub * mm.background + onset[masked]
        s[~self.profiles.rankable] = -np.inf
        phenotype = s
        if case.genotype:
            s = s + self.genotype_scorer.disease_scores(case.genotype, case.sex)[0]
        return Stage1(s, phenotype, onset, masked, mm)

    def scores(self, case: PreparedCase, *, mask_source: bool = False) -> np.ndarray:
        """First-stage score of every concept (higher is better; ``-inf`` for concepts that cannot be ranked)."""
        return self.stage1(case, mask_source=mask_source).scores

    # -- stage 2 ----------------------------------------------------------------------------------
    def candidates(self, case: PreparedCase, first: Stage1, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(the ``k`` best concepts of the first stage, best first; their :data:`FEATURES` rows)."""
        s = first.scores
        k = min(k, self.n_ranked)
        top = np.argpartition(-s, k - 1)[:k] if k < len(s) else np.arange(len(s))
        top = top[np.argsort(-s[top], kind="stable")]
        out = np.zeros((len(top), len(FEATURES)), np.float32)
        in_masked = np.isin(top, first.masked)
        groups = [(~in_masked, self.profiles.stats, self.profiles.select[case.sex][top[~in_masked]])]
        if first.masked_matrix is not None and in_masked.any():
            groups.append((in_masked, ProfileStats(first.masked_matrix), np.searchsorted(first.masked, top[in_masked])))
        for part, stats, rows in groups:
            c = top[part]
            out[part] = candidate_features(
                stats, rows, case, score=first.phenotype[c], position=np.flatnonzero(part),
                best_score=float(first.phenotype[top[0]]), onset=first.onset[c], statics=self._statics[c],
            )
        return top, out

    def rank(self, case: PreparedCase, *, mask_source: bool = False) -> Ranking:
        """Every rankable concept, most probable first (both stages)."""
        first = self.stage1(case, mask_source=mask_source)
        s = first.scores
        n_ranked = int(np.isfinite(s).sum())
        if self.ranker is None:
            return Ranking(self.probabilities(s), s, first.onset, n_ranked)
        top, x = self.candidates(case, first, self.ranker.candidates)
        genotype = s[top] - first.phenotype[top]  # genotype evidence adds to the learned phenotype logit
        p_top, outside = self.ranker.probabilities(self.ranker.logits(x, first.phenotype[top]) + genotype)
        rest = s.copy()
        rest[top] = -np.inf
        prob = outside * self.probabilities(rest) if np.isfinite(rest).any() else np.zeros(len(s))
        prob[top] = p_top
        return Ranking(prob, s, first.onset, n_ranked)

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """First-stage probabilities (softmax with the fitted temperature; 0 for ``-inf``): all of them without a
        second stage, else how the "none of these" share is spread over the diseases after its candidates."""
        z = np.where(np.isfinite(scores), scores / self.params.temperature, -np.inf)
        z = np.exp(z - z.max())
        return z / z.sum()

    def _onset_scores(self, case: PreparedCase) -> np.ndarray:
        om = self.onset_mask
        p = self.params
        if case.onset_bins:
            b = case.onset_bins
            near = (b << 1) | (b >> 1) | b
            match = (om & b) != 0
            far = (om != 0) & ((om & near) == 0)
            return p.onset_match * match - p.onset_mismatch * far
        if case.age_bins:
            youngest = om & -om  # the earliest onset bin of each disease
            return -p.onset_mismatch * ((om != 0) & (youngest > (case.age_bins << 1)))
        return np.zeros(len(om))

    # -- the whole answer --------------------------------------------------------------------------
    def diagnose(
        self, case: Case, *, top: int = 10, strict: bool = True, mask_source: bool = False, suggestions: int = 5,
        solved_cases: SolvedCases | None = None,
    ) -> Differential:
        """The differential: every rankable concept ranked, the ``top`` first with their evidence. ``solved_cases``:
        what similar solved patients say (a function of the prepared case and its ranking, see
        :func:`raredx.match.solved_case_evidence`), added apart from the knowledge base's evidence."""
        prepared, ranking, why, gene_ev = self._analyse(case, strict, mask_source)
        solved = solved_cases(prepared, ranking) if solved_cases is not None else {}
        ranking = ranking.with_evidence(solved)
        explainer = CaseExplainer(self.matrix, prepared)  # the evidence only of the diseases the answer shows
        diseases = tuple(self._ranked(rank, int(ci), ranking, prepared, why, explainer, solved.get(int(ci)))
                         for rank, ci in enumerate(ranking.top(top), 1))
        profiles = self.profiles.select[prepared.sex]
        lead = ranking.top(NEXT_BEST_OVER)
        nbp = next_best_phenotypes(self.matrix, profiles[lead], ranking.probability[lead], prepared, suggestions,
                                   [self.kb.concepts[i].name for i in lead])
        return Differential(
            kb_version=self.kb.version, case_id=prepared.id, warnings=prepared.warnings, diseases=diseases,
            next_best_phenotypes=nbp, n_ranked=ranking.n_ranked,
            genes=self.rank_genes(ranking.probability, gene_ev, why, top=top) if prepared.genotype else (),
        )

    def explain(self, case: Case, disease_id: str, *, strict: bool = True, mask_source: bool = False) -> RankedDisease:
        """One disease as it stands in ``case``'s differential (its rank, probability and evidence), wherever it
        ranks: "why is this disease not higher?". Raises :class:`InputError` for an id not in the knowledge base."""
        concept = self.kb.concept(disease_id)
        if concept is None:
            raise InputError(f"disease {disease_id}: not in the knowledge base ({self.kb.version}); give an OMIM, "
                             "ORPHA or MONDO id of an annotated disease.")
        prepared, ranking, why, _ = self._analyse(case, strict, mask_source)
        return self._ranked(ranking.rank_of(concept.index), concept.index, ranking, prepared, why)

    def _analyse(self, case: Case, strict: bool, mask_source: bool
                 ) -> tuple[PreparedCase, Ranking, dict[int, DiseaseGenotype], dict[str, GeneEvidence]]:
        """The case resolved and ranked, and how its genotype counted per disease and per gene."""
        prepared = self.prepare(case, strict=strict)
        ranking = self.rank(prepared, mask_source=mask_source)
        if not prepared.genotype:
            return prepared, ranking, {}, {}
        _, why, gene_ev = self.genotype_scorer.disease_scores(prepared.genotype, prepared.sex)
        return prepared, ranking, why, gene_ev

    def _ranked(self, rank: int, ci: int, ranking: Ranking, case: PreparedCase,
                why: dict[int, DiseaseGenotype], explainer: CaseExplainer | None = None,
                solved: SolvedCaseEvidence | None = None) -> RankedDisease:
        c = self.kb.concepts[ci]
        o = self.ontology
        profile = int(self.profiles.select[case.sex][ci])
        evidence, not_counted = (explainer or CaseExplainer(self.matrix, case)).explain(profile)
        hub = self.params.background_weight * len(case.observed)
        return RankedDisease(
            rank=rank, ids=c.ids, name=c.name, score=round(float(ranking.score[ci]), 4),
            probability=round(float(ranking.probability[ci]), 6), evidence=evidence, not_counted=not_counted,
            genes=c.genes, gene_associations=c.gene_associations,
            inheritance=tuple(o.labels[i] for i in (o.index(t) for t in c.inheritance) if i is not None),
            onset=bins_label(c.onset_bins),
            genotype=(why.get(ci) or self.genotype_scorer.explain_missing(ci)) if case.genotype else None,
            onset_fit=round(float(ranking.onset[ci]), 4),
            background=round(-hub * float(self.matrix.background[profile]), 4), solved_cases=solved,
        )

    def rank_genes(self, probability: np.ndarray, gene_ev: dict[str, GeneEvidence], why: dict[int, DiseaseGenotype],
                   top: int | None = None) -> tuple[RankedGene, ...]:
        """Genes with genotype evidence, ranked by the probability of the most probable disease they explain."""
        best: dict[str, tuple[float, int]] = {}
        for ci, d in why.items():
            if d.gene and (d.gene not in best or probability[ci] > best[d.gene][0]):
                best[d.gene] = (float(probability[ci]), ci)
        rows = sorted(((best.get(g, (-1.0, -1)), g) for g in gene_ev), key=lambda r: (-r[0][0], r[1]))
        out = []
        for rank, ((p, ci), gene) in enumerate(rows[:top] if top else rows, 1):
            ev = gene_ev[gene]
            out.append(RankedGene(rank, gene, round(max(p, 0.0), 6), self.kb.concepts[ci].name if ci >= 0 else "",
                                  tuple(str(s.variant.hgvs or s.variant.source) for s in ev.variants if s.pathogenicity > 0)))
        return tuple(out)
