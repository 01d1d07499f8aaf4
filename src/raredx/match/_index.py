"""Patients like this one: every patient of a registry (or of a phenopacket collection) in one vectorised index,
ranked against a query by how alike their phenotypes, onsets, sexes and genes are, with the reasons.

A patient is three vectors. Its *phenotype*: the observed terms closed upwards, each worth its information content
in the knowledge base (the rarer among diseases, the more telling). Its *differential*: the engine's probabilities
of the diseases it most resembles (the knowledge base's view of the phenotype: two patients with the same disease
described by different terms still share it). Its *exclusions*: excluded terms, which contradict the other's
observed terms at or below them. Two patients score

    (I - λ·C) / (W_a + W_b - I)  +  w_dis · Σ_d √(p_a(d) p_b(d))  +  w_onset · onset  +  w_sex · sex  (+ w_genes)

with ``I`` the information they share, ``W`` each one's, ``C`` the information of one's excluded terms the other
shows, ``onset`` +1 when their onset classes agree and -1 when they are far apart, ``sex`` -1 when both are known
and differ, and, when genes count, ``w_genes`` per gene they share (a candidate gene or a variant's gene). A query
is a :class:`~raredx.engine.Case` (features, sex, onset and a genotype), so a Matchmaker Exchange request maps
onto one directly. Each score is a few posting-list sums over all patients (numpy ``bincount``), so a query over
100,000 patients takes tens of milliseconds (``benchmarks/match_speed.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

import numpy as np

from raredx.engine import Case, DiagnosisEngine, PreparedCase
from raredx.errors import InputError, RaredxError
from raredx.match._csr import gather
from raredx.match._rerank import CANDIDATES, RerankModel, pair_features

DISEASES_KEPT = 30  # of each patient's differential: the most probable diseases
REASON_TERMS = 5  # shared terms named per match
WEIGHTS_FILE = "weights.json"


@dataclass(frozen=True, slots=True)
class MatchWeights:
    """How the parts of a match add up (see the module docstring); ``benchmarks/fit_match.py`` chose them."""

    contradiction: float = 1.0  # λ
    differential: float = 1.0  # w_dis
    onset: float = 0.03
    sex: float = 0.0
    genes: float = 1.0  # per shared gene, with genes

    @classmethod
    def fitted(cls) -> MatchWeights:
        data = json.loads((resources.files("raredx.match") / WEIGHTS_FILE).read_text())
        return cls(**{k: float(v) for k, v in data["match"].items()})


@dataclass(frozen=True, slots=True)
class MatchPatient:
    """One patient of the index. ``family``: patients with the same (non-empty) family never match each other;
    ``publication``: the same for a cross-publication search; ``diagnoses``: confirmed disease ids (a solved
    patient); ``label``: what a result shows of it (its pseudonym)."""

    key: str
    case: Case
    family: str = ""
    publication: str = ""
    diagnoses: tuple[str, ...] = ()
    label: str = ""


@dataclass(frozen=True, slots=True)
class SharedTerm:
    term_id: str
    label: str


@dataclass(frozen=True, slots=True)
class Match:
    """One similar patient: its score and what it was made of, and why (the terms, genes, diseases in common; the
    excluded terms of one that the other shows)."""

    rank: int
    key: str
    label: str
    score: float
    phenotype: float  # the phenotype part: shared information over joint information, less contradictions
    differential: float  # how alike their differentials are (0..1)
    onset: float
    sex: float
    genes: float
    shared_terms: tuple[SharedTerm, ...]  # the most specific shared terms, most informative first
    shared_genes: tuple[str, ...] = ()
    shared_diseases: tuple[str, ...] = ()  # diseases leading both differentials
    contradictions: tuple[str, ...] = ()  # "excluded X, observed in the other"
    diagnoses: tuple[str, ...] = ()  # the other patient's confirmed diagnoses (ids)
    reasons: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank, "key": self.key, "label": self.label, "score": self.score,
            "parts": {"phenotype": self.phenotype, "differential": self.differential, "onset": self.onset,
                      "sex": self.sex, "genes": self.genes},
            "shared_terms": [{"term_id": t.term_id, "label": t.label} for t in self.shared_terms],
            "shared_genes": list(self.shared_genes), "shared_diseases": list(self.shared_diseases),
            "contradictions": list(self.contradictions), "diagnoses": list(self.diagnoses),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class _Vector:
    """What a query is matched with: a prepared case's closure, exclusions, onset, sex, differential and genes."""

    closure: np.ndarray  # sorted term indices
    excluded: np.ndarray
    onset_bins: int
    sex: int  # 0 unknown, 1 male, 2 female
    diseases: np.ndarray  # concept indices of its differential's leaders
    root_p: np.ndarray  # √ of their probabilities
    genes: tuple[str, ...]


def _csr(lists: Sequence[np.ndarray], dtype: type = np.int32) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(lists) + 1, np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    return ptr, (np.concatenate(lists).astype(dtype) if lists and ptr[-1] else np.zeros(0, dtype))


def _transpose(ptr: np.ndarray, idx: np.ndarray, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-major CSR (rows -> columns) to column-major (column -> sorted rows)."""
    rows = np.repeat(np.arange(len(ptr) - 1, dtype=np.int32), np.diff(ptr))
    order = np.argsort(idx, kind="stable")
    return np.searchsorted(idx[order], np.arange(n_cols + 1)).astype(np.int64), rows[order]


def _genes(case: Case) -> tuple[str, ...]:
    g = case.genotype
    if g is None:
        return ()
    return tuple(sorted({*g.genes, *(v.gene for v in g.variants if v.gene)}))


class MatchIndex:
    """Every patient of a registry or collection, ready to be matched (see the module docstring).

    >>> index = MatchIndex.build(engine, patients)                      # doctest: +SKIP
    >>> index.similar("RDX-12", top=5)[0].reasons                        # doctest: +SKIP
    """

    def __init__(self, engine: DiagnosisEngine, patients: Sequence[MatchPatient], vectors: Sequence[_Vector],
                 weights: MatchWeights | None = None, *, rerank: bool = True) -> None:
        self.engine = engine
        self.ontology = engine.ontology
        self.weights = weights or MatchWeights.fitted()
        self.patients = tuple(patients)
        self.n = len(self.patients)
        self.row_of = {p.key: i for i, p in enumerate(self.patients)}
        if len(self.row_of) != self.n:
            raise InputError("two patients of the index have the same key; give each a unique key.")
        self.ic = engine.matrix.ic.astype(np.float64)
        T = len(self.ontology)
        self.vectors = tuple(vectors)
        self.c_ptr, self.c_term = _csr([v.closure for v in vectors])
        self.t_ptr, self.t_rows = _transpose(self.c_ptr, self.c_term, T)
        self.e_ptr, self.e_term = _csr([v.excluded for v in vectors])
        self.x_ptr, self.x_rows = _transpose(self.e_ptr, self.e_term, T)
        self.total = np.array([self.ic[v.closure].sum() for v in vectors], np.float64)
        self.onset_bins = np.array([v.onset_bins for v in vectors], np.int64)
        self.sex = np.array([v.sex for v in vectors], np.int8)
        d_ptr, d_idx = _csr([v.diseases for v in vectors])
        _, d_val = _csr([v.root_p for v in vectors], np.float64)
        self.d_ptr, self.d_idx, self.d_val = d_ptr, d_idx, d_val  # row-major: each patient's differential
        self.l_ptr, self.l_term = _csr([self.leaves_of(v.closure) for v in vectors])
        systems = self.ontology.organ_systems
        self.systems = np.array([int(np.bitwise_or.reduce(systems[v.closure])) if v.closure.size else 0
                                 for v in vectors], np.int64)
        # a term's information among the registry's patients (how rare it is here, not among diseases)
        self.registry_ic = np.where(self.ic > 0, -np.log((np.diff(self.t_ptr) + 1.0) / (self.n + 1.0)), 0.0)
        self.registry_total = np.array([self.registry_ic[v.closure].sum() for v in vectors], np.float64)
        # fitted on the full knowledge base: on a partial or toy one (where the engine has no second stage either)
        # its differential features mean something else, and the first stage decides
        self.reranker: RerankModel | None = RerankModel.load() if rerank and engine.ranker is not None else None
        order_rows = np.repeat(np.arange(self.n, dtype=np.int32), np.diff(d_ptr))
        order = np.argsort(d_idx, kind="stable")
        self.dz_ptr = np.searchsorted(d_idx[order], np.arange(len(engine.kb.concepts) + 1)).astype(np.int64)
        self.dz_rows, self.dz_val = order_rows[order], d_val[order]
        with_gene: dict[str, list[int]] = {}
        for i, v in enumerate(vectors):
            for g in v.genes:
                with_gene.setdefault(g, []).append(i)
        self.gene_rows = {g: np.array(r, np.int64) for g, r in with_gene.items()}
        self.family = _codes([p.family for p in self.patients])
        self.publication = _codes([p.publication for p in self.patients])
        kb = engine.kb
        self.diagnosis = np.full(self.n, -1, np.int64)  # the first confirmed diagnosis in the knowledge base
        for i, p in enumerate(self.patients):
            for d in p.diagnoses:
                c = kb.concept(d)
                if c is not None:
                    self.diagnosis[i] = c.index
                    break

    # -- building ---------------------------------------------------------------------------------
    @classmethod
    def build(cls, engine: DiagnosisEngine, patients: Iterable[MatchPatient], *, weights: MatchWeights | None = None,
              problems: list[tuple[str, str]] | None = None,
              differential: Callable[[PreparedCase], np.ndarray] | None = None, rerank: bool = True) -> MatchIndex:
        """Index ``patients``. One that cannot be matched (no observed phenotypic abnormality, an unknown term)
        is appended to ``problems`` as (key, why) and left out; without ``problems`` it raises. ``differential``:
        each prepared case's disease probabilities (default: the engine's ranking of its phenotype). ``rerank``:
        order the leading matches with the shipped second stage (``reranker.json``), else by the first's score."""
        kept: list[MatchPatient] = []
        vectors: list[_Vector] = []
        rank = differential or (lambda prepared: phenotype_differential(engine, prepared))
        for p in patients:
            try:
                prepared = engine.prepare(p.case, strict=False)
                vectors.append(vector_of(engine, prepared, rank(prepared)))
            except RaredxError as exc:
                if problems is None:
                    raise
                problems.append((p.key, str(exc)))
                continue
            kept.append(p)
        return cls(engine, kept, vectors, weights, rerank=rerank)

    def query_vector(self, case: Case) -> _Vector:
        """The vector of an ad-hoc case (raises :class:`InputError` for a case without observed phenotypes)."""
        prepared = self.engine.prepare(case, strict=False)
        return vector_of(self.engine, prepared, phenotype_differential(self.engine, prepared))

    # -- scoring ----------------------------------------------------------------------------------
    def parts(self, q: _Vector, *, with_genes: bool = False) -> dict[str, np.ndarray]:
        """Every patient's match with ``q``, part by part (see the module docstring), and ``score``, their sum."""
        n, w, ic = self.n, self.weights, self.ic
        informative = q.closure[ic[q.closure] > 0]  # the root and its like share nothing worth counting
        rows, pos = gather(self.t_ptr, self.t_rows, informative)
        shared = _sums(rows, ic[informative][pos], n)
        rows, pos = gather(self.t_ptr, self.t_rows, q.excluded)  # the query excludes what they show
        contra = _sums(rows, ic[q.excluded][pos], n)
        rows, pos = gather(self.x_ptr, self.x_rows, q.closure)  # they exclude what the query shows
        contra += _sums(rows, ic[q.closure][pos], n)
        union = np.maximum(ic[q.closure].sum() + self.total - shared, 1e-9)
        phenotype = (shared - w.contradiction * contra) / union
        rows, pos = gather(self.dz_ptr, self.dz_rows, q.diseases)
        vals, _ = gather(self.dz_ptr, self.dz_val, q.diseases)
        differential = _sums(rows, vals * q.root_p[pos], n)
        onset = np.zeros(n)
        if q.onset_bins:
            b = q.onset_bins
            near = (b << 1) | (b >> 1) | b
            om = self.onset_bins
            onset = ((om & b) != 0).astype(np.float64) - ((om != 0) & ((om & near) == 0))
        sex = -((self.sex != 0) & (self.sex != q.sex)).astype(np.float64) if q.sex else np.zeros(n)
        genes = np.zeros(n)
        if with_genes:
            for g in q.genes:
                r = self.gene_rows.get(g)
                if r is not None:
                    genes[r] += 1.0
        score = (phenotype + w.differential * differential + w.onset * onset + w.sex * sex
                 + (w.genes * genes if with_genes else 0.0))
        return {"score": score, "phenotype": phenotype, "differential": differential, "onset": onset, "sex": sex,
                "genes": genes, "shared": shared, "contradiction": contra / union}

    def leaves_of(self, closure: np.ndarray) -> np.ndarray:
        """The most specific informative terms of an ancestor-closed set (none of them the parent of another)."""
        o = self.ontology
        closure = closure[self.ic[closure] > 0]
        if not closure.size:
            return closure.astype(np.int32)
        parents, _ = gather(o.parent_ptr.astype(np.int64), o.parent_idx, closure.astype(np.int64))
        return np.setdiff1d(closure, parents).astype(np.int32)

    def ranked(self, q: _Vector, *, with_genes: bool = False, exclude: np.ndarray | None = None,
               candidates: int = CANDIDATES) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """(the first stage's ``candidates`` best patients in the second stage's order, best first; their final
        scores; the first stage's parts over all patients, with ``exclude``'s scores ``-inf``). Without a
        re-ranker (``rerank=False`` or no model shipped) the order and scores are the first stage's."""
        parts = self.parts(q, with_genes=with_genes)
        score = parts["score"]
        if exclude is not None:
            score[exclude] = -np.inf
        rows = top_rows(score, candidates)
        if self.reranker is None or not len(rows):
            return rows, score[rows], parts
        x = pair_features(self, q, rows, parts)[:, self.reranker.columns]
        final = self.reranker.probability(x)
        if with_genes:
            final = final + self.weights.genes * parts["genes"][rows]
        order = np.lexsort((np.arange(len(rows)), -final))  # ties keep the first stage's order
        return rows[order], final[order], parts

    def excluded_rows(self, row: int, *, cross_publication: bool = False) -> np.ndarray:
        """Whom patient ``row`` may not be matched with: itself, its family, with ``cross_publication`` its
        publication's patients (a boolean mask)."""
        out = np.zeros(self.n, bool)
        out[row] = True
        if self.family[row] >= 0:
            out |= self.family == self.family[row]
        if cross_publication and self.publication[row] >= 0:
            out |= self.publication == self.publication[row]
        return out

    def excluded_keys(self, keys: Iterable[str]) -> np.ndarray:
        """The patients keyed in ``keys`` and their families (a boolean mask; unknown keys are ignored)."""
        out = np.zeros(self.n, bool)
        for k in keys:
            row = self.row_of.get(k)
            if row is not None:
                out |= self.excluded_rows(row)
        return out

    def similar(self, key: str, *, top: int = 10, cross_publication: bool = False,
                with_genes: bool = False) -> tuple[Match, ...]:
        """The patients most like patient ``key`` (never itself or its family), most similar first."""
        row = self.row_of.get(key)
        if row is None:
            raise InputError(f"patient {key!r} is not in the match index (it has no observed phenotypic "
                             "abnormality, or no such patient); add observed HPO terms to it.")
        return self.search(self.vectors[row], top=top, with_genes=with_genes,
                           exclude=self.excluded_rows(row, cross_publication=cross_publication))

    def search(self, q: _Vector, *, top: int = 10, with_genes: bool = False,
               exclude: np.ndarray | None = None) -> tuple[Match, ...]:
        """The ``top`` patients most like ``q`` (``exclude``: a mask of patients never returned), with reasons."""
        rows, final, parts = self.ranked(q, with_genes=with_genes, exclude=exclude, candidates=max(top, CANDIDATES))
        return tuple(self._match(rank, int(r), q, parts, float(s))
                     for rank, (r, s) in enumerate(zip(rows[:top].tolist(), final[:top].tolist()), 1))

    # -- reasons ----------------------------------------------------------------------------------
    def _match(self, rank: int, r: int, q: _Vector, parts: dict[str, np.ndarray], score: float) -> Match:
        o, kb, p = self.ontology, self.engine.kb, self.patients[r]
        v = self.vectors[r]
        terms = self.most_specific_shared(q.closure, v.closure)
        genes = tuple(sorted(set(q.genes) & set(v.genes)))
        lead_q, lead_v = set(q.diseases[:3].tolist()), set(v.diseases[:3].tolist())
        diseases = tuple(kb.concepts[c].name for c in q.diseases[:3].tolist() if c in lead_v)
        contra = [f"excluded {o.labels[e]} ({o.ids[e]}), observed in {p.label or p.key}"
                  for e in q.excluded.tolist() if _in_sorted(v.closure, e)]
        contra += [f"observed {o.labels[e]} ({o.ids[e]}), excluded in {p.label or p.key}"
                   for e in v.excluded.tolist() if _in_sorted(q.closure, e)]
        reasons = []
        if terms:
            reasons.append("shared: " + ", ".join(t.label for t in terms))
        if genes and parts["genes"][r]:
            reasons.append("same gene: " + ", ".join(genes))
        if diseases and lead_q:
            reasons.append("both differentials lead with " + "; ".join(diseases))
        if parts["onset"][r] > 0:
            reasons.append("same onset class")
        elif parts["onset"][r] < 0:
            reasons.append("onsets far apart")
        reasons += contra
        return Match(
            rank=rank, key=p.key, label=p.label or p.key, score=round(score, 4),
            phenotype=round(float(parts["phenotype"][r]), 4), differential=round(float(parts["differential"][r]), 4),
            onset=float(parts["onset"][r]), sex=float(parts["sex"][r]), genes=float(parts["genes"][r]),
            shared_terms=terms, shared_genes=genes, shared_diseases=diseases, contradictions=tuple(contra),
            diagnoses=p.diagnoses, reasons=tuple(reasons),
        )

    def most_specific_shared(self, a: np.ndarray, b: np.ndarray, k: int = REASON_TERMS) -> tuple[SharedTerm, ...]:
        """The ``k`` most informative terms both closures hold, none an ancestor of another one named."""
        o = self.ontology
        both = np.intersect1d(a, b)
        both = both[self.ic[both] > 0]
        out: list[int] = []
        for t in both[np.argsort(-self.ic[both], kind="stable")].tolist():
            if not any(o.is_ancestor(t, x) for x in out):
                out.append(t)
                if len(out) == k:
                    break
        return tuple(SharedTerm(o.ids[t], o.labels[t]) for t in out)


def phenotype_differential(engine: DiagnosisEngine, prepared: PreparedCase) -> np.ndarray:
    """The engine's disease probabilities for the phenotype alone (genes count in a match only when asked)."""
    return engine.rank(replace(prepared, genotype=None)).probability


def vector_of(engine: DiagnosisEngine, prepared: PreparedCase, probability: np.ndarray) -> _Vector:
    """A prepared case as the index matches it (``probability``: its differential)."""
    o = engine.ontology
    closure = np.unique(np.concatenate([o.ancestors(t) for t in prepared.observed_all]))
    closure = closure[o.phenotype_mask[closure]].astype(np.int32)
    k = min(DISEASES_KEPT, len(probability))
    lead = np.argpartition(-probability, k - 1)[:k] if k < len(probability) else np.arange(k)
    lead = lead[np.argsort(-probability[lead], kind="stable")]
    lead = lead[probability[lead] > 0]
    p = probability[lead] / max(float(probability[lead].sum()), 1e-12)
    genes = _genes(Case(genotype=prepared.genotype)) if prepared.genotype else ()
    return _Vector(closure, np.array(sorted(prepared.excluded), np.int32), prepared.onset_bins,
                   {"male": 1, "female": 2}.get(prepared.sex or "", 0), lead.astype(np.int64), np.sqrt(p), genes)


def top_rows(score: np.ndarray, k: int) -> np.ndarray:
    """The rows of the ``k`` best finite scores, best first (ties: the lower row)."""
    ok = np.isfinite(score)
    k = min(k, int(ok.sum()))
    if k <= 0:
        return np.zeros(0, np.int64)
    some = np.argpartition(-score, k - 1)[:k] if k < len(score) else np.arange(len(score))
    some = some[np.isfinite(score[some])]
    return some[np.lexsort((some, -score[some]))][:k]


def _sums(rows: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """The sum of ``weights`` per row, over ``n`` rows (float, also when there is nothing to sum)."""
    return np.bincount(rows, weights=weights, minlength=n).astype(np.float64, copy=False)


def _codes(values: list[str]) -> np.ndarray:
    """An integer per distinct non-empty value (-1 for empty)."""
    seen: dict[str, int] = {}
    return np.array([seen.setdefault(v, len(seen)) if v else -1 for v in values], np.int64)


def _in_sorted(a: np.ndarray, x: int) -> bool:
    i = int(np.searchsorted(a, x))
    return i < len(a) and int(a[i]) == x
