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
    pos = np.searchsorted(sorted_terms, terms)
    pos = np.minimum(pos, len(sorted_terms) - 1)
    return np.where((len(sorted_terms) > 0) & (sorted_terms[pos] == terms), pos, -1)


class _Annotations:
    """A profile's annotations with the ancestors of each, to find "the annotation at or below a term"."""

    def __init__(self, m: ProfileMatrix, p: int) -> None:
        self.terms, self.freqs = m.annotations(p)
        self.pos, self.anc = _expand_to_ancestors(m.ontology, self.terms)

    def best_below(self, a: int) -> tuple[int, float] | None:
        """The annotation at or below ``a`` with the highest frequency (exact ``a`` first on ties)."""
        hits = self.pos[self.anc == a]
        if not len(hits):
            return None
        f = self.freqs[hits]
        k = hits[np.lexsort((self.terms[hits] != a, -f))[0]]
        return int(self.terms[k]), float(self.freqs[k])


def explain(m: ProfileMatrix, p: int, case: PreparedCase) -> tuple[tuple[TermEvidence, ...], tuple[TermEvidence, ...]]:
    """How each of the case's terms counted for profile ``p``: (the findings that counted, for first and then
    against, then the observed ones the disease does not explain; the excluded findings that carried no weight)."""
    x = _Explainer(m, p)
    rows = [x.observed(t) for t in case.observed] + [x.excluded(t) for t in case.excluded]
    weighted = [e for e in rows if e.contribution != 0 or not e.excluded]
    weighted.sort(key=lambda e: (0 if e.contribution > 0 else 1 if e.contribution < 0 else 2, -abs(e.contribution)))
    return tuple(weighted), tuple(e for e in rows if e.excluded and e.contribution == 0)


class _Explainer:
    """One profile's annotations, closure and NOT terms, to say how a patient term matched it."""

    def __init__(self, m: ProfileMatrix, p: int) -> None:
        self.m, self.p = m, p
        self.anns = _Annotations(m, p)
        self.closure_terms, _ = m.closure(p)
        self.nots = m.not_terms(p).tolist()

    def evidence(self, t: int, excluded: bool, match: MatchKind, contribution: float, ann: int | None = None,
                 freq: float | None = None, via: int | None = None) -> TermEvidence:
        o = self.m.ontology
        return TermEvidence(
            term_id=o.ids[t], term_label=o.labels[t], excluded=excluded, match=match,
            contribution=round(float(contribution), 4) + 0.0,  # never "-0.0"
            annotation_id=None if ann is None else o.ids[ann],
            annotation_label=None if ann is None else o.labels[ann],
            frequency=None if freq is None else round(float(freq), 4),
            via=None if via is None else o.ids[via],
            via_label=None if via is None else o.labels[via],
        )

    def _not_at_or_above(self, t: int) -> int | None:
        anc = set(self.m.ontology.ancestors(t).tolist())
        return next((n for n in self.nots if n in anc), None)

    def _in_closure(self, t: int) -> bool:
        return bool(_lookup(self.closure_terms, np.array([t]))[0] >= 0)

    def observed(self, t: int) -> TermEvidence:
        m, p = self.m, self.p
        contribution = float(m.observed_row(t)[p])
        negated = self._not_at_or_above(t)
        if negated is not None:
            return self.evidence(t, False, "contradicted", contribution, ann=negated)
        if self._in_closure(t):  # the disease has the term itself or a descendant
            best = self.anns.best_below(t)
            kind: MatchKind = "exact" if best and best[0] == t else "disease term more specific"
            return self.evidence(t, False, kind, contribution, *(best or (None, None)))
        anc = m.ontology.ancestors(t)
        pos = _lookup(self.closure_terms, anc)
        ok = pos >= 0
        direct = np.isin(anc, self.anns.terms) & ok
        if direct.any() and contribution > MATCHED:  # the disease is annotated with an ancestor of the term
            values = m.prof_value[m.prof_ptr[self.p] + pos[direct]]  # what each such ancestor is worth, as scored
            a = int(anc[direct][np.argmax(values)])
            freq = float(self.anns.freqs[np.flatnonzero(self.anns.terms == a)[0]])
            return self.evidence(t, False, "patient term more specific", contribution, a, freq)
        # no support; say what the disease has nearby (the most specific shared ancestor and what is below it)
        shared = anc[ok & (m.ic[anc] >= m.params.nearby_min_ic)]
        if not len(shared):
            return self.evidence(t, False, "unmatched", contribution)
        a = int(shared[np.argmax(m.ic[shared])])
        best = self.anns.best_below(a)
        return self.evidence(t, False, "unmatched", contribution, best[0] if best else None,
                             best[1] if best else None, via=a)

    def excluded(self, t: int) -> TermEvidence:
        m = self.m
        contribution = float(m.excluded_row(t)[self.p])
        best = self.anns.best_below(t) if self._in_closure(t) else None
        if best and best[1] >= m.params.excluded_min_frequency:
            return self.evidence(t, True, "counted against", contribution, best[0], best[1])
        negated = self._not_at_or_above(t)
        if negated is not None:
            return self.evidence(t, True, "consistent", contribution, ann=negated)
        return self.evidence(t, True, "neutral", contribution, *(best or (None, None)))


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
