"""The disease profiles the engine scores against, compiled once (and cached on disk) from the knowledge base:
one profile per concept, male and female variants where annotations are sex-specific, and on request a
concept's profile without the annotations of given publications (``--mask-source-publication``)."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from functools import cached_property
from pathlib import Path

import numpy as np

from raredx import config
from raredx.engine._features import ProfileStats
from raredx.engine._params import Params
from raredx.engine._profiles import ProfileMatrix
from raredx.kb import ORIGIN_HPOA, SEX_FEMALE, SEX_MALE, KnowledgeBase, atomic_save_npz, load_npz

log = logging.getLogger(__name__)

ENGINE_FORMAT = 8  # bump when the compiled profile layout changes
BACKGROUND_DRAWS = 2000
_Rows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # profile, term, frequency, negated


class Profiles:
    """Every concept's profile in one :class:`ProfileMatrix`; ``select[sex][concept]`` is its row."""

    def __init__(self, kb: KnowledgeBase, params: Params, cache: str | Path | bool | None = None) -> None:
        self.kb = kb
        self.params = params
        a = kb.annotations
        n = len(kb.concepts)
        self._rows_by_concept = np.argsort(a.concept, kind="stable")
        self._concept_ptr = np.searchsorted(a.concept[self._rows_by_concept], np.arange(n + 1))
        self._pmid_rows = _rows_by_pmid(a.ref_ptr, a.ref_pmid)
        self.background = background_terms(kb)
        own_sexed = set(np.unique(a.concept[a.sex > 0]).tolist())
        self._sexed = np.array(
            [c.index for c in kb.concepts if c.index in own_sexed or own_sexed.intersection(c.broader)], dtype=np.int64
        )
        self.select: dict[str | None, np.ndarray] = {None: np.arange(n)}
        for k, sex in enumerate(("male", "female")):
            sel = np.arange(n)
            sel[self._sexed] = n + k * len(self._sexed) + np.arange(len(self._sexed))
            self.select[sex] = sel
        self.matrix = self._cached(cache)
        # a concept without any phenotype annotation (own, inherited or named) cannot be ranked
        self.rankable = np.diff(self.matrix.ann_ptr)[: n] > 0

    @cached_property
    def stats(self) -> ProfileStats:
        return ProfileStats(self.matrix)

    def _compile(self) -> ProfileMatrix:
        n = len(self.kb.concepts)
        parts = [self.rows(np.arange(n), None), self.rows(self._sexed, "male"), self.rows(self._sexed, "female")]
        offset = np.cumsum([0, n, len(self._sexed)])
        profile = np.concatenate([p[0] + o for p, o in zip(parts, offset)])
        term, frequency, negated = (np.concatenate([p[i] for p in parts]) for i in (1, 2, 3))
        return ProfileMatrix.compile(self.kb.ontology, n + 2 * len(self._sexed), profile, term, frequency, negated,
                                     self.params, ic_profiles=n, background=self.background)

    def _cached(self, cache: str | Path | bool | None) -> ProfileMatrix:
        """The compiled matrix from the disk cache (keyed by the sources and the parameters), or built."""
        if cache is False:
            return self._compile()
        key = hashlib.sha256(json.dumps([ENGINE_FORMAT, self.kb.fingerprint, self.params.to_dict()]).encode())
        path = config.cache_dir(None if cache is True else cache) / f"engine-{key.hexdigest()[:16]}.npz"
        if path.exists():
            try:
                return ProfileMatrix(self.kb.ontology, self.params, load_npz(path))
            except Exception as exc:  # noqa: BLE001 - a damaged or outdated cache is rebuilt, never fatal
                log.warning("rebuilding the engine cache %s: %s", path, exc)
        matrix = self._compile()
        try:
            atomic_save_npz(path, matrix.arrays())
        except OSError as exc:
            log.warning("could not write the engine cache %s: %s", path, exc)
        return matrix

    def masked(self, pmids: tuple[int, ...], sex: str | None) -> tuple[np.ndarray, ProfileMatrix | None]:
        """(concepts, their profiles without the annotations whose only references are ``pmids``); the
        concepts are those that lose an annotation."""
        a = self.kb.annotations
        keep = set(pmids)
        cand = [self._pmid_rows[p] for p in keep if p in self._pmid_rows]
        drop = np.unique(np.concatenate(cand)) if cand else np.zeros(0, np.int64)
        drop = np.array([r for r in drop if set(a.ref_pmid[a.ref_ptr[r] : a.ref_ptr[r + 1]].tolist()) <= keep],
                        dtype=np.int64)
        concepts = np.unique(a.concept[drop]) if len(drop) else np.zeros(0, np.int64)
        if not len(concepts):
            return concepts, None
        matrix = ProfileMatrix.compile(
            self.kb.ontology, len(concepts), *self.rows(concepts, sex, drop), self.params, ic=self.matrix.ic,
            dense=False, background=self.background,
        )
        return concepts, matrix

    def rows(self, concepts: np.ndarray, sex: str | None, drop: np.ndarray | None = None) -> _Rows:
        """Annotation rows of the profiles of ``concepts`` (profile i = concepts[i]) for a patient of ``sex``,
        without the rows in ``drop``.

        A concept also inherits the phenotype annotations of the broader Orphanet disorders that include it, at
        a fraction of their frequency, so a disease with few annotations of its own is still matched by its
        group's features (its own annotations win where both exist)."""
        a = self.kb.annotations
        p = self.params
        rows, profile, inherited = self._gather(concepts)
        other = {"male": SEX_FEMALE, "female": SEX_MALE}.get(sex or "", -1)
        keep = (a.sex[rows] != other) & ~(inherited & a.negated[rows])
        if p.name_frequency <= 0:
            keep &= ~a.from_name[rows]
        if drop is not None and len(drop):
            keep &= ~np.isin(rows, drop)
        rows, profile, inherited = rows[keep], profile[keep], inherited[keep]
        freq = a.frequency[rows].copy()
        freq[a.from_name[rows]] = p.name_frequency
        freq[a.from_definition[rows]] = p.definition_frequency
        freq[inherited] = np.where(np.isnan(freq[inherited]), p.default_frequency, freq[inherited]) * p.inherited_frequency
        return profile, a.term[rows], freq, a.negated[rows]

    def _gather(self, concepts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(annotation rows, profile of each, inherited from a broader disorder or not)."""
        parts: list[tuple[int, np.ndarray, bool]] = []
        for i, c in enumerate(concepts.tolist()):
            parts.append((i, self._rows_by_concept[self._concept_ptr[c] : self._concept_ptr[c + 1]], False))
            if self.params.inherited_frequency > 0:
                for b in self.kb.concepts[c].broader:
                    parts.append((i, self._rows_by_concept[self._concept_ptr[b] : self._concept_ptr[b + 1]], True))
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, bool)
        return (np.concatenate([r for _, r, _ in parts]),
                np.concatenate([np.full(len(r), i, np.int32) for i, r, _ in parts]),
                np.concatenate([np.full(len(r), inh) for _, r, inh in parts]))


def background_terms(kb: KnowledgeBase) -> tuple[np.ndarray, np.ndarray]:
    """A typical patient finding, as (terms, weights): 2,000 draws (fixed seed) from all phenotype
    annotations of the knowledge base, weighted by their frequency in their disease."""
    a = kb.annotations
    f = np.where(np.isnan(a.frequency), 0.5, a.frequency) * ~a.negated * (a.origin == ORIGIN_HPOA)
    weight = np.bincount(a.term, weights=f, minlength=len(kb.ontology))
    terms = np.flatnonzero(weight > 0)
    if not len(terms):
        return np.zeros(0, np.int32), np.zeros(0)
    draws = np.random.default_rng(0).choice(terms, BACKGROUND_DRAWS, p=weight[terms] / weight[terms].sum())
    uniq, counts = np.unique(draws, return_counts=True)
    return uniq.astype(np.int32), counts.astype(float)


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
    return {int(pm[s]): rows[s:e] for s, e in itertools.pairwise(cuts)}
