"""Disease phenotype profiles compiled into sparse matrices for vectorised scoring.

For a profile (a disease concept, possibly restricted to one sex) and every term ``a`` in the
upward closure of its annotations, ``P(a | disease) = 1 - prod(1 - f_x)`` over the annotations ``x``
at or below ``a`` (noisy-OR of annotation frequencies). An observed patient term ``t`` scores

    max over ancestors a of t in the closure:  IC(a) + gamma * log P(a|d)

i.e. the information the disease explains, discounted by how often the disease shows it. (Seen as a
log likelihood ratio, the part of the patient's term the disease does not explain, IC(t) - IC(a),
is the same for every disease and drops out of the ranking.) An excluded term scores
``w * log(1 - f * (1 - noise))`` where ``f``, the frequency of the disease's most frequent annotation
at or below ``t``, is high (``f >= min_frequency``): a feature that only some patients show is no
evidence against the disease when it is absent. NOT annotations penalise observed terms at or below them and
support excluded ones.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from raredx.engine._params import Params
from raredx.ontology import Ontology

DENSE_MIN_PROFILES = 800  # terms in at least this many profiles keep a dense propagated row
_MAX_FREQ = 0.995


def _expand_to_ancestors(ontology: Ontology, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each input position i, every ancestor of terms[i]: (position index, ancestor term)."""
    ptr = ontology.anc_ptr
    lens = ptr[terms + 1] - ptr[terms]
    starts = np.repeat(ptr[terms] - np.cumsum(lens) + lens, lens)
    offs = starts + np.arange(int(lens.sum()))
    return np.repeat(np.arange(len(terms)), lens), ontology.anc_idx[offs]


def _positive_annotations(x: dict[str, np.ndarray], n_profiles: int, T: int, key: np.ndarray,
                          f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One annotation per (profile, term) key, with the highest frequency any source gives: ``ann_*``."""
    order = np.lexsort((f, key))
    key, f = key[order], f[order]
    last = np.r_[key[1:] != key[:-1], True] if len(key) else np.zeros(0, bool)
    key, f = key[last], f[last]
    x["ann_ptr"] = np.searchsorted((key // T).astype(np.int32), np.arange(n_profiles + 1)).astype(np.int64)
    x["ann_term"], x["ann_freq"] = (key % T).astype(np.int32), f.astype(np.float32)
    return key, f


def _closure(x: dict[str, np.ndarray], ontology: Ontology, n_profiles: int, key: np.ndarray,
             f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every profile's annotations closed upwards: P(term | disease) by noisy-OR over the annotations at or
    below the term (``prof_*``, and term-major ``col_*`` with the highest single frequency among them).
    Returns the (profile, term) keys of the closure and the term-major order of its entries."""
    T = len(ontology)
    pos_i, anc = _expand_to_ancestors(ontology, x["ann_term"])
    ukey, inv = np.unique((key // T)[pos_i] * T + anc, return_inverse=True)
    logp = np.log(-np.expm1(np.bincount(inv, weights=np.log1p(-f[pos_i]), minlength=len(ukey)))).astype(np.float32)
    maxf = np.zeros(len(ukey), np.float32)
    np.maximum.at(maxf, inv, f[pos_i])
    c_profile, c_term = (ukey // T).astype(np.int32), (ukey % T).astype(np.int32)
    x["prof_ptr"] = np.searchsorted(c_profile, np.arange(n_profiles + 1)).astype(np.int64)
    x["prof_term"], x["prof_logp"] = c_term, logp
    order = np.lexsort((c_profile, c_term))
    x["col_ptr"] = np.searchsorted(c_term[order], np.arange(T + 1)).astype(np.int64)
    x["col_profile"], x["col_logp"], x["col_maxf"] = c_profile[order], logp[order], maxf[order]
    return ukey, order


_ARRAYS = (
    "ann_ptr", "ann_term", "ann_freq", "prof_ptr", "prof_term", "prof_logp", "col_ptr", "col_profile",
    "col_logp", "col_maxf", "col_value", "ic", "not_ptr", "not_profile", "dense_index", "dense_rows", "prof_value",
    "background", "col_direct",
)


class ProfileMatrix:
    """Profiles 0..n-1 compiled from annotation rows; see :meth:`compile`. Arrays only, so it caches."""

    # positive annotations, profile-major (CSR): one per (profile, term), the highest frequency given
    ann_ptr: np.ndarray
    ann_term: np.ndarray
    ann_freq: np.ndarray
    # the upward closure of each profile's annotations (CSR, sorted terms): log P(term | disease) and what the
    # term is worth as a match (``col_value`` in this order)
    prof_ptr: np.ndarray
    prof_term: np.ndarray
    prof_logp: np.ndarray
    prof_value: np.ndarray
    # the same closure, term-major (CSR over terms, sorted profiles), with the highest single frequency at or below
    # the term and whether the profile is annotated with the term itself
    col_ptr: np.ndarray
    col_profile: np.ndarray
    col_logp: np.ndarray
    col_maxf: np.ndarray
    col_value: np.ndarray
    col_direct: np.ndarray
    ic: np.ndarray  # information content of every term
    not_ptr: np.ndarray  # NOT annotations, term-major
    not_profile: np.ndarray
    dense_index: np.ndarray  # row in dense_rows of each general term (-1: none)
    dense_rows: np.ndarray  # max-propagated match values of general terms over all profiles
    background: np.ndarray  # each profile's expected match value for a typical finding

    def __init__(self, ontology: Ontology, params: Params, arrays: dict[str, np.ndarray]) -> None:
        self.ontology = ontology
        self.params = params
        for name in _ARRAYS:
            setattr(self, name, arrays[name])
        self.n = len(self.prof_ptr) - 1
        self.n_terms = len(ontology)
        self.observed_row = lru_cache(maxsize=1024)(self._observed_row)
        self.excluded_row = lru_cache(maxsize=256)(self._excluded_row)

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in _ARRAYS}

    @classmethod
    def compile(
        cls,
        ontology: Ontology,
        n_profiles: int,
        profile: np.ndarray,
        term: np.ndarray,
        frequency: np.ndarray,
        negated: np.ndarray,
        params: Params,
        ic: np.ndarray | None = None,
        ic_profiles: int | None = None,
        dense: bool = True,
        background: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> ProfileMatrix:
        """Build from annotation rows. ``ic`` reuses another matrix's information content; otherwise it
        is computed over the first ``ic_profiles`` profiles (the concepts, not their sex variants).
        ``background``: (terms, weights) of a typical patient term, for :meth:`background_scores`."""
        T = len(ontology)
        x: dict[str, np.ndarray] = {}
        pos = ~negated
        f = np.clip(np.where(np.isnan(frequency), params.default_frequency, frequency)[pos], 1e-4, _MAX_FREQ)
        key, f = _positive_annotations(x, n_profiles, T, profile[pos].astype(np.int64) * T + term[pos], f)
        ukey, order = _closure(x, ontology, n_profiles, key, f)
        if ic is None:
            c_profile, c_term = ukey // T, ukey % T
            counts = np.bincount(c_term[c_profile < (ic_profiles or n_profiles)], minlength=T)
            ic = np.maximum(-np.log((counts + 1.0) / ((ic_profiles or n_profiles) + 1.0)), 0.0)
        x["ic"] = ic = ic.astype(np.float32)
        col_term = np.repeat(np.arange(T), np.diff(x["col_ptr"]))
        # a patient term matches through an ancestor only if the disease is annotated with that ancestor itself
        # (the ontology says the two agree); an ancestor shared with a different annotation is no support: its
        # children are usually alternatives (sparse and thick eyebrows share "Abnormal eyebrow morphology")
        x["col_direct"] = direct = np.isin(ukey, key)[order]
        x["col_value"] = (params.frequency_weight * x["col_logp"] + ic[col_term] * direct).astype(np.float32)
        x["prof_value"] = np.empty_like(x["col_value"])
        x["prof_value"][order] = x["col_value"]
        # NOT annotations, term-major
        nk = np.unique(term[negated].astype(np.int64) * n_profiles + profile[negated])
        x["not_ptr"] = np.searchsorted((nk // n_profiles).astype(np.int32), np.arange(T + 1)).astype(np.int64)
        x["not_profile"] = (nk % n_profiles).astype(np.int32)
        x["dense_index"] = np.full(T, -1, dtype=np.int32)
        x["dense_rows"] = np.zeros((0, n_profiles), dtype=np.float32)
        x["background"] = np.zeros(n_profiles, dtype=np.float32)
        matrix = cls(ontology, params, x)
        if dense:
            matrix._build_dense()
        if background is not None:
            matrix.background = matrix.background_scores(*background)
        return matrix

    def background_scores(self, terms: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Each profile's expected score for one observed term drawn from ``terms`` with ``weights``.

        A disease annotated with hundreds of features partly matches almost any finding; this is how much,
        so that the engine can judge a disease by what it explains beyond that (see docs/method.md)."""
        if not len(terms):
            return np.zeros(self.n, np.float32)
        pos, anc = _expand_to_ancestors(self.ontology, terms)
        starts = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
        T = self.n_terms
        value = np.zeros(T, np.float32)
        exact = np.full(T, -np.inf, np.float32)
        out = np.zeros(self.n, np.float32)
        w = (weights / weights.sum()).astype(np.float32)
        p = self.params
        for i in range(self.n):
            s, e = self.prof_ptr[i], self.prof_ptr[i + 1]
            ct, lp = self.prof_term[s:e], self.prof_logp[s:e]
            value[ct] = np.maximum(self.prof_value[s:e], 0.0)
            exact[ct] = self.ic[ct] + p.frequency_weight * lp + p.exact_bonus
            best = np.maximum(np.maximum.reduceat(value[anc], starts), exact[terms])
            out[i] = float(w @ best)
            value[ct] = 0.0
            exact[ct] = -np.inf
        return out

    # -- dense propagated rows for general terms ----------------------------------------------
    def _build_dense(self) -> None:
        nnz = np.diff(self.col_ptr)
        terms = np.flatnonzero(nnz >= DENSE_MIN_PROFILES)
        # ancestors of a dense term are dense (closure sets only grow upwards); order by depth
        depth = np.diff(self.ontology.anc_ptr)[terms]
        terms = terms[np.argsort(depth, kind="stable")]
        self.dense_index[terms] = np.arange(len(terms), dtype=np.int32)
        rows = np.zeros((len(terms), self.n), dtype=np.float32)
        for k, t in enumerate(terms):
            s, e = self.col_ptr[t], self.col_ptr[t + 1]
            row = rows[k]
            row[self.col_profile[s:e]] = self.col_value[s:e]
            for p in self.ontology.parents(int(t)):
                dp = self.dense_index[p]
                if dp >= 0:
                    np.maximum(row, rows[dp], out=row)
        self.dense_rows = rows

    # -- rows over all profiles ------------------------------------------------------------------
    def _observed_row(self, t: int) -> np.ndarray:
        """Score of observed term ``t`` for every profile (read-only array)."""
        anc = self.ontology.ancestors(t)
        di = self.dense_index[anc]
        dense = di[di >= 0]
        out = self.dense_rows[dense].max(axis=0) if len(dense) else np.zeros(self.n, np.float32)
        for a in anc[di < 0]:
            s, e = self.col_ptr[a], self.col_ptr[a + 1]
            if s == e:
                continue
            idx = self.col_profile[s:e]
            out[idx] = np.maximum(out[idx], self.col_value[s:e])
        # the disease has the patient's term itself (or a descendant of it): full information, plus a bonus
        s, e = self.col_ptr[t], self.col_ptr[t + 1]
        idx = self.col_profile[s:e]
        exact = self.ic[t] + self.params.frequency_weight * self.col_logp[s:e] + self.params.exact_bonus
        out[idx] = np.maximum(out[idx], exact)
        hit = self._not_profiles(anc)
        if len(hit):  # the disease is annotated NOT to have it
            out[hit] -= self.params.not_penalty
        out.flags.writeable = False
        return out

    def _excluded_row(self, t: int) -> np.ndarray:
        out = np.zeros(self.n, np.float32)
        s, e = self.col_ptr[t], self.col_ptr[t + 1]
        p = self.col_maxf[s:e]
        counts = p >= self.params.excluded_min_frequency
        out[self.col_profile[s:e][counts]] = self.params.excluded_weight * np.log1p(
            -p[counts] * (1.0 - self.params.excluded_noise)
        )
        hit = self._not_profiles(self.ontology.ancestors(t))
        if len(hit):
            out[hit] += self.params.not_bonus
        out.flags.writeable = False
        return out

    def column(self, t: int, profiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For sorted ``profiles``: (position in term ``t``'s column, or -1 where ``t`` is not in the profile's
        closure; whether the profile is annotated with ``t`` itself)."""
        s, e = self.col_ptr[t], self.col_ptr[t + 1]
        col = self.col_profile[s:e]
        pos = np.searchsorted(col, profiles)
        hit = pos < len(col)
        hit[hit] = col[pos[hit]] == profiles[hit]
        at = np.where(hit, s + pos, -1)
        if not len(self.col_direct):  # no profile has any term (a masked matrix whose profiles lost them all)
            return at, hit
        return at, hit & self.col_direct[np.maximum(at, 0)]

    def _not_profiles(self, terms: np.ndarray) -> np.ndarray:
        parts = [self.not_profile[self.not_ptr[a] : self.not_ptr[a + 1]] for a in terms if self.not_ptr[a + 1] > self.not_ptr[a]]
        if not parts:
            return np.zeros(0, np.int32)
        return np.unique(np.concatenate(parts))

    def score(self, observed: list[int], excluded: list[int]) -> np.ndarray:
        total = np.zeros(self.n, np.float64)
        for t in observed:
            total += self.observed_row(t)
        for t in excluded:
            total += self.excluded_row(t)
        return total

    # -- per-profile look-ups for explanations -------------------------------------------------
    def closure(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        s, e = self.prof_ptr[p], self.prof_ptr[p + 1]
        return self.prof_term[s:e], self.prof_logp[s:e]

    def annotations(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        s, e = self.ann_ptr[p], self.ann_ptr[p + 1]
        return self.ann_term[s:e], self.ann_freq[s:e]

    def not_terms(self, p: int) -> np.ndarray:
        hit = np.flatnonzero(self.not_profile == p)
        return np.searchsorted(self.not_ptr, hit, side="right") - 1
