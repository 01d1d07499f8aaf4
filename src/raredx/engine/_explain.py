"""Explanations (which patient term matched which disease annotation) and next-best phenotypes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from raredx.engine._features import MATCHED
from raredx.engine._profiles import _expand_to_ancestors
from raredx.engine._result import MatchKind, Suggestion, TermEvidence

if TYPE_CHECKING:
    from raredx.engine._prepare import PreparedCase
    from raredx.engine._profiles import ProfileMatrix


def _lookup(sorted_terms: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """The position of each of ``terms`` in ``sorted_terms``, -1 where it is not there."""
    if not len(sorted_terms):
        return np.full(len(terms), -1, np.int64)
    pos = np.minimum(np.searchsorted(sorted_terms, terms), len(sorted_terms) - 1)
    return np.where(sorted_terms[pos] == terms, pos, -1)


def explain(m: ProfileMatrix, p: int, case: PreparedCase) -> tuple[tuple[TermEvidence, ...], tuple[TermEvidence, ...]]:
    """How each of the case's terms counted for profile ``p``: (the findings that counted, for first and then
    against, then the observed ones the disease does not explain; the excluded findings that carried no weight)."""
    return CaseExplainer(m, case).explain(p)


class CaseExplainer:
    """Says how each of one case's terms matched a profile, for as many profiles as the answer shows. What only
    depends on the case (the terms' ancestors, their scores over all profiles) is worked out once; each profile
    then takes a fixed number of array operations, however many terms the case has."""

    def __init__(self, m: ProfileMatrix, case: PreparedCase) -> None:
        self.m = m
        o = m.ontology
        self.n_obs = len(case.observed)
        self.terms = np.array([*case.observed, *case.excluded], dtype=np.int64)
        self.excluded = np.arange(len(self.terms)) >= self.n_obs
        self.rows = [m.observed_row(t) for t in case.observed] + [m.excluded_row(t) for t in case.excluded]
        # every term's ancestors (the term included), one group per term, in the ontology's order
        self.pos, self.anc = _expand_to_ancestors(o, self.terms)
        lens = np.bincount(self.pos, minlength=len(self.terms))
        self.starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
        self.anc_ic = m.ic[self.anc]
        self.nearby = self.anc_ic >= m.params.nearby_min_ic

    def explain(self, p: int) -> tuple[tuple[TermEvidence, ...], tuple[TermEvidence, ...]]:
        """(the findings that counted, for first and then against, then the observed ones the disease does not
        explain; the excluded findings that carried no weight) for profile ``p``."""
        if not len(self.terms):
            return (), ()
        m, terms, anc, pos, starts = self.m, self.terms, self.anc, self.pos, self.starts
        params = m.params
        contribution = [float(r[p]) for r in self.rows]
        closure_terms, _ = m.closure(p)
        ann_terms, ann_freqs = m.annotations(p)
        in_closure = _lookup(closure_terms, terms) >= 0
        # the first NOT annotation (in term order) at or above each term
        nots = m.not_terms(p)
        negated = np.full(len(terms), -1, np.int64)
        if len(nots):
            big = m.n_terms  # no term
            first = np.minimum.reduceat(np.where(np.isin(anc, nots), anc, big), starts)
            negated = np.where(first < big, first, -1)
        # the annotation of the profile each ancestor is (-1: none), and its place in the profile's closure
        cpos = _lookup(closure_terms, anc)
        apos = _lookup(ann_terms, anc)
        direct = (apos >= 0) & (cpos >= 0)
        # observed terms outside the closure: the directly annotated ancestor worth most as scored
        value = np.where(direct, m.prof_value[m.prof_ptr[p] + np.maximum(cpos, 0)], -np.inf)
        best_anc = _first_max(value, starts, pos)
        # ... else the most specific ancestor the disease shares, to say what it has nearby
        shared = (cpos >= 0) & self.nearby
        via = _first_max(np.where(shared, self.anc_ic, -np.inf), starts, pos)
        has_direct = direct[best_anc]
        has_shared = shared[via]
        # the queries of "the most frequent annotation at or below a": the terms in the closure, the nearby ancestors
        queries = np.unique(np.concatenate([terms[in_closure], anc[via[has_shared & ~in_closure]]]))
        below = _BestBelow(m, ann_terms, ann_freqs, queries).found.get
        rows: list[TermEvidence] = []
        for i, (t, c, neg, is_excluded, closed) in enumerate(zip(terms.tolist(), contribution, negated.tolist(),
                                                                 self.excluded.tolist(), in_closure.tolist())):
            if is_excluded:
                best = below(t) if closed else None
                if best and best[1] >= params.excluded_min_frequency:
                    rows.append(self._evidence(t, True, "counted against", c, *best))
                elif neg >= 0:
                    rows.append(self._evidence(t, True, "consistent", c, ann=neg))
                else:
                    rows.append(self._evidence(t, True, "neutral", c, *(best or (None, None))))
            elif neg >= 0:
                rows.append(self._evidence(t, False, "contradicted", c, ann=neg))
            elif closed:  # the disease has the term itself or a descendant
                best = below(t)
                kind: MatchKind = "exact" if best and best[0] == t else "disease term more specific"
                rows.append(self._evidence(t, False, kind, c, *(best or (None, None))))
            elif has_direct[i] and c > MATCHED:  # the disease is annotated with an ancestor of the term
                k = int(best_anc[i])
                a = int(anc[k])
                rows.append(self._evidence(t, False, "patient term more specific", c, a, float(ann_freqs[apos[k]])))
            elif not has_shared[i]:  # no support, and nothing nearby worth naming
                rows.append(self._evidence(t, False, "unmatched", c))
            else:  # no support; say what the disease has nearby (the shared ancestor and what is below it)
                a = int(anc[via[i]])
                best = below(a)
                rows.append(self._evidence(t, False, "unmatched", c, best[0] if best else None,
                                           best[1] if best else None, via=a))
        weighted = [e for e in rows if e.contribution != 0 or not e.excluded]
        weighted.sort(key=lambda e: (0 if e.contribution > 0 else 1 if e.contribution < 0 else 2, -abs(e.contribution)))
        return tuple(weighted), tuple(e for e in rows if e.excluded and e.contribution == 0)

    def _evidence(self, t: int, excluded: bool, match: MatchKind, contribution: float, ann: int | None = None,
                  freq: float | None = None, via: int | None = None) -> TermEvidence:
        o = self.m.ontology
        return TermEvidence(
            term_id=o.ids[t], term_label=o.labels[t], excluded=excluded, match=match,
            contribution=round(contribution, 4) + 0.0,  # never "-0.0"
            annotation_id=None if ann is None else o.ids[ann],
            annotation_label=None if ann is None else o.labels[ann],
            frequency=None if freq is None else round(float(freq), 4),
            via=None if via is None else o.ids[via],
            via_label=None if via is None else o.labels[via],
        )


def _first_max(values: np.ndarray, starts: np.ndarray, group: np.ndarray) -> np.ndarray:
    """For each group of consecutive ``values`` (group ``g`` starts at ``starts[g]``; ``group``: each value's),
    the index of its first largest value."""
    best = np.maximum.reduceat(values, starts)
    at = np.where(values == best[group], np.arange(len(values)), len(values))
    return np.minimum.reduceat(at, starts)


class _BestBelow:
    """For each of the sorted ``queries``: the profile's annotation at or below it with the highest frequency
    (the query itself first on ties, then the lower term index), as (term, frequency)."""

    def __init__(self, m: ProfileMatrix, terms: np.ndarray, freqs: np.ndarray, queries: np.ndarray) -> None:
        self.found: dict[int, tuple[int, float]] = {}
        if not len(queries) or not len(terms):
            return
        pos, anc = _expand_to_ancestors(m.ontology, terms)
        keep = _lookup(queries, anc) >= 0
        pos, anc = pos[keep], anc[keep]
        order = np.lexsort((pos, terms[pos] != anc, -freqs[pos], anc))
        pos, anc = pos[order], anc[order]
        first = np.r_[True, anc[1:] != anc[:-1]] if len(anc) else np.zeros(0, bool)
        for a, k in zip(anc[first].tolist(), pos[first].tolist()):
            self.found[a] = (int(terms[k]), float(freqs[k]))


def _entropy(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.nansum(np.where(p > 0, p * np.log2(p), 0.0), axis=0)


def next_best_phenotypes(
    m: ProfileMatrix, profiles: np.ndarray, probs: np.ndarray, case: PreparedCase, k: int, names: list[str]
) -> tuple[Suggestion, ...]:
    """Terms whose presence or absence would most reduce the entropy over the top candidates."""
    if k <= 0 or len(profiles) < 2:
        return ()
    o, ic = m.ontology, m.ic
    prior = probs / probs.sum()
    present = np.unique(np.concatenate([o.ancestors(t) for t in case.observed_all]))
    closures = [m.closure(int(p)) for p in profiles]
    cand = np.unique(np.concatenate([c[0] for c in closures]))
    cand = cand[(ic[cand] >= m.params.suggestion_min_ic) & o.phenotype_mask[cand] & ~np.isin(cand, present)]
    if case.excluded and len(cand):  # drop terms at or below an excluded term: already known absent
        pos, anc = _expand_to_ancestors(o, cand)
        below_excluded = np.zeros(len(cand), dtype=bool)
        below_excluded[pos[np.isin(anc, case.excluded)]] = True
        cand = cand[~below_excluded]
    if not len(cand):
        return ()
    floor = m.params.suggestion_floor
    q = np.full((len(profiles), len(cand)), floor)
    for i, (terms, logp) in enumerate(closures):
        pos = _lookup(cand, terms)
        ok = pos >= 0
        q[i, pos[ok]] = np.maximum(np.exp(logp[ok]), floor)
    p_t = prior @ q
    post_yes = prior[:, None] * q / p_t
    post_no = prior[:, None] * (1 - q) / (1 - p_t)
    gain = _entropy(prior[:, None]) - p_t * _entropy(post_yes) - (1 - p_t) * _entropy(post_no)
    chosen: list[Suggestion] = []
    picked: list[int] = []
    for j in np.argsort(-gain, kind="stable"):
        c = int(cand[j])
        if any(o.is_ancestor(c, x) or o.is_ancestor(x, c) for x in picked):
            continue
        lift = post_yes[:, j] / prior
        favours = tuple(names[i] for i in np.argsort(-lift, kind="stable")[:3] if lift[i] > 1.2)
        chosen.append(Suggestion(o.ids[c], o.labels[c], round(float(gain[j]), 4), round(float(p_t[j]), 4), favours))
        picked.append(c)
        if len(chosen) == k:
            break
    return tuple(chosen)
