"""The differential-diagnosis engine: load once, rank every disease concept for many cases."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

from raredx.engine._case import Case
from raredx.engine._explain import explain, next_best_phenotypes
from raredx.engine._params import Params
from raredx.engine._profiles import ProfileMatrix
from raredx.engine._result import Differential, RankedDisease, RankedGene
from raredx.genomics import Genotype, GenotypeScorer
from raredx.errors import InputError, UnknownTermError
from raredx.kb import (
    SEX_FEMALE,
    SEX_MALE,
    KnowledgeBase,
    age_bin,
    atomic_save_npz,
    bins_label,
    cache_dir,
    hpo_onset_bins,
    parse_iso_age,
)
from raredx.ontology import MODE_OF_INHERITANCE, ONSET

log = logging.getLogger(__name__)

MIN_TERMS = 3  # fewer observed terms than this draws a warning
GENERAL_IC = 3.0
ENGINE_FORMAT = 2  # bump when the compiled profile layout changes  # a case whose most specific term has less information than this is "only general terms"


@dataclass(frozen=True, slots=True)
class PreparedCase:
    """A case resolved against the ontology: term indices, onset bins, and the warnings raised."""

    id: str
    observed: tuple[int, ...]  # used for scoring
    observed_all: tuple[int, ...]  # as given (resolved), for explanations
    excluded: tuple[int, ...]
    sex: str | None
    onset_bins: int  # 0 = unknown
    age_bins: int  # age at last encounter, 0 = unknown
    inheritance: tuple[str, ...]
    warnings: tuple[str, ...]
    source_pmids: tuple[int, ...]
    genotype: Genotype | None = None


class DiagnosisEngine:
    """Ranks all disease concepts of a knowledge base for a case.

    >>> engine = DiagnosisEngine(kb)                      # doctest: +SKIP
    >>> engine.diagnose(Case(observed=("HP:0001166",)))   # doctest: +SKIP
    """

    def __init__(self, kb: KnowledgeBase, params: Params | None = None, *, cache: str | Path | None | bool = None) -> None:
        """``cache``: directory for the compiled profiles (default: the knowledge-base cache; False: none)."""
        self.kb = kb
        self.ontology = kb.ontology
        self.params = params or Params.fitted()
        a = kb.annotations
        n = len(kb.concepts)
        self.n_concepts = n
        self._rows_by_concept = np.argsort(a.concept, kind="stable")
        self._concept_ptr = np.searchsorted(a.concept[self._rows_by_concept], np.arange(n + 1))

        # one profile per concept, plus male / female variants where annotations are sex-specific
        own_sexed = set(np.unique(a.concept[a.sex > 0]).tolist())
        sexed = np.array(
            [c.index for c in kb.concepts if c.index in own_sexed or own_sexed.intersection(c.broader)], dtype=np.int64
        )
        self._select = {None: np.arange(n)}
        for k, sex in enumerate(("male", "female")):
            sel = np.arange(n)
            sel[sexed] = n + k * len(sexed) + np.arange(len(sexed))
            self._select[sex] = sel

        self._background = background_terms(kb)

        def build() -> ProfileMatrix:
            parts = [self._profile_rows(np.arange(n), None), self._profile_rows(sexed, "male"),
                     self._profile_rows(sexed, "female")]
            offset = np.cumsum([0, n, len(sexed)])
            return ProfileMatrix.compile(
                self.ontology, n + 2 * len(sexed), np.concatenate([p[0] + o for p, o in zip(parts, offset)]),
                *(np.concatenate([p[i] for p in parts]) for i in (1, 2, 3)), self.params, ic_profiles=n,
                background=self._background,
            )

        self.matrix = _cached(kb, self.params, cache, build)
        self.onset_mask = np.array([c.onset_bins for c in kb.concepts], dtype=np.int64)
        self._pmid_rows = _rows_by_pmid(a.ref_ptr, a.ref_pmid)
        self._phenotype = self.ontology.phenotype_mask
        self._onset_branch = self.ontology.branch_mask(ONSET)
        self._moi_branch = self.ontology.branch_mask(MODE_OF_INHERITANCE)

    # -- input -----------------------------------------------------------------------------------
    def prepare(self, case: Case, *, strict: bool = True) -> PreparedCase:
        """Resolve a case's terms. Unknown ids raise (strict) or are skipped with a warning (lenient)."""
        o = self.ontology
        warnings: list[str] = []
        onset_bins = _parse_onset(o, case.onset, "onset") if case.onset else 0
        age_bins = _parse_onset(o, case.age, "age") if case.age else 0
        inheritance: list[str] = []

        def resolve(ids: tuple[str, ...], kind: str) -> list[int]:
            out: list[int] = []
            for tid in ids:
                try:
                    res = o.resolve(tid, where=f"{kind} terms")
                except UnknownTermError:
                    if strict:
                        raise
                    warnings.append(f"{tid}: not in HPO {o.version}; skipped.")
                    continue
                t = res.index
                if res.replaced:
                    warnings.append(f"{res.replaced} is an alternative or obsolete id; used {res.term_id} ({o.labels[t]}).")
                if not self._phenotype[t]:
                    nonlocal onset_bins
                    if kind == "observed" and self._onset_branch[t]:
                        onset_bins = onset_bins or hpo_onset_bins(o, t)
                    elif kind == "observed" and self._moi_branch[t]:
                        inheritance.append(o.ids[t])
                    else:
                        warnings.append(
                            f"{o.ids[t]} ({o.labels[t]}) is not a phenotypic abnormality; not used as a {kind} phenotype."
                        )
                    continue
                if t not in out:
                    out.append(t)
            return out

        observed = resolve(case.observed, "observed")
        excluded = resolve(case.excluded, "excluded")
        if not observed:
            raise InputError(
                f"case {case.id or '(unnamed)'}: no observed phenotypic abnormality terms "
                "(HPO terms under HP:0000118); give at least one observed term."
            )
        anc = {t: set(o.ancestors(t).tolist()) for t in observed}
        for e in excluded:
            for t in observed:
                if e in anc[t]:
                    rel = "the same term" if e == t else f"an ancestor of observed {o.ids[t]} ({o.labels[t]})"
                    warnings.append(f"contradiction: excluded {o.ids[e]} ({o.labels[e]}) is {rel}.")
        implied = {a for t in observed for a in anc[t] if a != t}
        redundant = [t for t in observed if t in implied]
        if redundant:
            warnings.append(
                "redundant: "
                + ", ".join(f"{o.ids[t]} ({o.labels[t]})" for t in redundant)
                + " implied by more specific observed terms"
                + ("; counted once." if self.params.drop_redundant else ".")
            )
        scored = [t for t in observed if t not in implied] if self.params.drop_redundant else observed
        ic = self.matrix.ic
        if len(scored) < MIN_TERMS:
            warnings.append(
                f"only {len(scored)} specific observed term(s): the ranking is weakly determined; "
                "add more findings or excluded findings."
            )
        if max(float(ic[t]) for t in scored) < GENERAL_IC:
            warnings.append("only very general terms were given: add specific findings to narrow the differential.")
        return PreparedCase(
            id=case.id,
            observed=tuple(scored),
            observed_all=tuple(observed),
            excluded=tuple(excluded),
            sex=case.sex,
            onset_bins=onset_bins,
            age_bins=age_bins,
            inheritance=tuple(inheritance),
            warnings=tuple(warnings) + (case.genotype.warnings if case.genotype else ()),
            source_pmids=tuple(case.source_pmids),
            genotype=case.genotype or None,
        )

    # -- scoring ----------------------------------------------------------------------------------
    def scores(self, case: PreparedCase, *, mask_source: bool = False) -> np.ndarray:
        """Score of every concept (higher is better). ``mask_source`` leaves out annotations whose only
        references are the case's own publications (``case.source_pmids``)."""
        sel = self._select[case.sex]
        onset = self._onset_scores(case)
        obs, exc = list(case.observed), list(case.excluded)
        hub = self.params.background_weight * len(obs)
        s = (self.matrix.score(obs, exc) - hub * self.matrix.background)[sel] + onset
        if mask_source and case.source_pmids:
            concepts, matrix = self._masked_profiles(case)
            if len(concepts):
                s[concepts] = matrix.score(obs, exc) - hub * matrix.background + onset[concepts]
        if case.genotype:
            s += self.genotype_scorer.disease_scores(case.genotype, case.sex)[0]
        return s

    @cached_property
    def genotype_scorer(self) -> GenotypeScorer:
        return GenotypeScorer(self.kb)

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated post-test probabilities (softmax with a temperature fitted on the dev set)."""
        z = scores / self.params.temperature
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

    def _masked_profiles(self, case: PreparedCase) -> tuple[np.ndarray, ProfileMatrix]:
        a = self.kb.annotations
        pmids = set(case.source_pmids)
        cand = [self._pmid_rows[p] for p in pmids if p in self._pmid_rows]
        drop = np.unique(np.concatenate(cand)) if cand else np.zeros(0, np.int64)
        drop = np.array(
            [r for r in drop if set(a.ref_pmid[a.ref_ptr[r] : a.ref_ptr[r + 1]].tolist()) <= pmids], dtype=np.int64
        )
        concepts = np.unique(a.concept[drop]) if len(drop) else np.zeros(0, np.int64)
        if not len(concepts):
            return concepts, self.matrix
        matrix = ProfileMatrix.compile(
            self.ontology, len(concepts), *self._profile_rows(concepts, case.sex, drop), self.params,
            ic=self.matrix.ic, dense=False, background=self._background,
        )
        return concepts, matrix

    def _profile_rows(
        self, concepts: np.ndarray, sex: str | None, drop: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Annotation rows of the profiles of ``concepts`` (profile i = concepts[i]) for a patient of
        ``sex``, without the rows in ``drop``: (profile, term, frequency, negated).

        A concept also inherits the phenotype annotations of the broader Orphanet disorders that include
        it, at a fraction of their frequency, so a disease with few annotations of its own is still
        matched by its group's features (its own annotations win where both exist)."""
        a = self.kb.annotations
        p = self.params
        other = {"male": SEX_FEMALE, "female": SEX_MALE}.get(sex or "", -1)
        parts: list[tuple[int, np.ndarray, bool]] = []
        for i, c in enumerate(concepts.tolist()):
            parts.append((i, self._rows_by_concept[self._concept_ptr[c] : self._concept_ptr[c + 1]], False))
            if p.inherited_frequency > 0:
                for b in self.kb.concepts[c].broader:
                    parts.append((i, self._rows_by_concept[self._concept_ptr[b] : self._concept_ptr[b + 1]], True))
        if not parts:
            z = np.zeros(0, np.int64)
            return z.astype(np.int32), z.astype(np.int32), z.astype(np.float32), z.astype(bool)
        rows = np.concatenate([r for _, r, _ in parts])
        profile = np.concatenate([np.full(len(r), i, np.int32) for i, r, _ in parts])
        inherited = np.concatenate([np.full(len(r), inh) for _, r, inh in parts])
        keep = (a.sex[rows] != other) & ~(inherited & a.negated[rows])
        if p.name_frequency <= 0:
            keep &= ~a.from_name[rows]
        if drop is not None and len(drop):
            keep &= ~np.isin(rows, drop)
        rows, profile, inherited = rows[keep], profile[keep], inherited[keep]
        freq = a.frequency[rows].copy()
        freq[a.from_name[rows]] = p.name_frequency
        freq[inherited] = np.where(np.isnan(freq[inherited]), p.default_frequency, freq[inherited]) * p.inherited_frequency
        return profile, a.term[rows], freq, a.negated[rows]

    # -- the whole answer --------------------------------------------------------------------------
    def diagnose(
        self, case: Case, *, top: int = 10, strict: bool = True, mask_source: bool = False, suggestions: int = 5
    ) -> Differential:
        prepared = self.prepare(case, strict=strict)
        scores = self.scores(prepared, mask_source=mask_source)
        probs = self.probabilities(scores)
        order = np.argsort(-scores, kind="stable")
        profiles = self._select[prepared.sex]
        why, gene_ev = ({}, {})
        if prepared.genotype:
            _, why, gene_ev = self.genotype_scorer.disease_scores(prepared.genotype, prepared.sex)
        o = self.ontology
        diseases = []
        for rank, ci in enumerate(order[:top], 1):
            c = self.kb.concepts[ci]
            diseases.append(
                RankedDisease(
                    rank=rank,
                    ids=c.ids,
                    name=c.name,
                    score=round(float(scores[ci]), 4),
                    probability=round(float(probs[ci]), 6),
                    evidence=explain(self.matrix, int(profiles[ci]), prepared),
                    genes=c.genes,
                    inheritance=tuple(o.labels[o.index(t)] for t in c.inheritance if o.index(t) is not None),
                    onset=bins_label(c.onset_bins),
                    genotype=(why.get(int(ci)) or self.genotype_scorer.explain_missing(int(ci))) if prepared.genotype else None,
                )
            )
        nbp = next_best_phenotypes(self.matrix, profiles[order[:10]], probs[order[:10]], prepared, suggestions,
                                   [self.kb.concepts[i].name for i in order[:10]])
        return Differential(
            kb_version=self.kb.version,
            case_id=prepared.id,
            warnings=prepared.warnings,
            diseases=tuple(diseases),
            next_best_phenotypes=nbp,
            n_ranked=self.n_concepts,
            genes=self.rank_genes(scores, gene_ev, why, top=top) if prepared.genotype else (),
        )

    def rank_genes(self, scores: np.ndarray, gene_ev: dict, why: dict, top: int | None = None) -> tuple[RankedGene, ...]:  # type: ignore[type-arg]
        """Genes with genotype evidence, ranked by the best combined score of a disease they explain."""
        best: dict[str, tuple[float, int]] = {}
        for ci, d in why.items():
            if d.gene and (d.gene not in best or scores[ci] > best[d.gene][0]):
                best[d.gene] = (float(scores[ci]), ci)
        floor = float(scores.min()) - 1.0  # genes explaining no disease rank last
        rows = sorted(((best.get(g, (floor, -1)), g) for g in gene_ev), key=lambda r: (-r[0][0], r[1]))
        out = []
        for rank, ((score, ci), gene) in enumerate(rows[:top] if top else rows, 1):
            ev = gene_ev[gene]
            out.append(RankedGene(rank, gene, round(score, 4), self.kb.concepts[ci].name if ci >= 0 else "",
                                  tuple(str(s.variant.hgvs or s.variant.source) for s in ev.variants if s.pathogenicity > 0)))
        return tuple(out)


def _cached(kb: KnowledgeBase, params: Params, cache: str | Path | None | bool, build: Callable[[], ProfileMatrix]) -> ProfileMatrix:
    """The compiled profile matrix from the disk cache (keyed by the sources and the parameters), or built."""
    if cache is False:
        return build()
    key = hashlib.sha256(json.dumps([ENGINE_FORMAT, kb.fingerprint, params.to_dict()]).encode()).hexdigest()[:16]
    path = (cache_dir() if cache in (None, True) else Path(cache)) / f"engine-{key}.npz"  # type: ignore[arg-type]
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                return ProfileMatrix(kb.ontology, params, {k: z[k] for k in z.files})
        except Exception as exc:  # a damaged cache is rebuilt, never fatal
            log.warning("rebuilding the engine cache %s: %s", path, exc)
    matrix = build()
    try:
        atomic_save_npz(path, matrix.arrays())
    except OSError as exc:
        log.warning("could not write the engine cache %s: %s", path, exc)
    return matrix


BACKGROUND_DRAWS = 2000


def background_terms(kb: KnowledgeBase) -> tuple[np.ndarray, np.ndarray]:
    """A typical patient finding, as (terms, weights): 2,000 draws (fixed seed) from all phenotype
    annotations of the knowledge base, weighted by their frequency in their disease."""
    a = kb.annotations
    f = np.where(np.isnan(a.frequency), 0.5, a.frequency) * ~a.negated * ~a.from_name
    weight = np.bincount(a.term, weights=f, minlength=len(kb.ontology))
    terms = np.flatnonzero(weight > 0)
    if not len(terms):
        return np.zeros(0, np.int32), np.zeros(0)
    draws = np.random.default_rng(0).choice(terms, BACKGROUND_DRAWS, p=weight[terms] / weight[terms].sum())
    uniq, counts = np.unique(draws, return_counts=True)
    return uniq.astype(np.int32), counts.astype(float)


def _parse_onset(ontology, text: str, field: str) -> int:  # type: ignore[no-untyped-def]
    text = text.strip()
    if text.upper().startswith("HP:"):
        res = ontology.resolve(text, where=field)
        bins = hpo_onset_bins(ontology, res.index)
        if not bins:
            raise InputError(f"{field} {text} ({ontology.labels[res.index]}) is not an HPO onset term (under HP:0003674).")
        return bins
    years = parse_iso_age(text)
    if years is None:
        raise InputError(
            f"{field} {text!r} is neither an ISO 8601 age (e.g. P3Y, P6M, P10D) nor an HPO onset term (e.g. HP:0003577)."
        )
    return age_bin(years)


def _rows_by_pmid(ref_ptr: np.ndarray, ref_pmid: np.ndarray) -> dict[int, np.ndarray]:
    """PubMed id -> annotation rows whose references are all PubMed ids and include it."""
    n = len(ref_ptr) - 1
    row_of_ref = np.repeat(np.arange(n), np.diff(ref_ptr))
    bad = np.zeros(n, dtype=bool)
    bad[row_of_ref[ref_pmid < 0]] = True
    ok = (ref_pmid >= 0) & ~bad[row_of_ref]
    pm, rows = ref_pmid[ok], row_of_ref[ok]
    order = np.argsort(pm, kind="stable")
    pm, rows = pm[order], rows[order]
    if not len(pm):
        return {}
    cuts = np.flatnonzero(np.r_[True, pm[1:] != pm[:-1], True])
    return {int(pm[s]): rows[s:e] for s, e in zip(cuts[:-1], cuts[1:])}
