"""Explanations (which patient term matched which disease annotation) and next-best phenotypes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from raredx.engine._profiles import _expand_to_ancestors
from raredx.engine._result import Suggestion, TermEvidence

if TYPE_CHECKING:
    from raredx.engine._engine import PreparedCase
    from raredx.engine._profiles import ProfileMatrix

UNSPECIFIC_IC = 1.0  # a shared ancestor with less information than this is no match
ABSENT_IF_UNANNOTATED = 0.02  # P(term | disease) for a term outside the disease's annotations
MIN_SUGGESTION_IC = 2.0


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


def explain(m: ProfileMatrix, p: int, case: PreparedCase) -> tuple[TermEvidence, ...]:
    o, ic = m.ontology, m.ic
    cterms, clogp = m.closure(p)
    nots = m.not_terms(p)
    anns = _Annotations(m, p)
    gam = m.params.frequency_weight
    out: list[TermEvidence] = []

    def ev(t: int, excluded: bool, match: str, contribution: float, ann: int | None = None,
           freq: float | None = None, via: int | None = None) -> TermEvidence:
        return TermEvidence(
            term_id=o.ids[t], term_label=o.labels[t], excluded=excluded, match=match,  # type: ignore[arg-type]
            contribution=round(float(contribution), 4),
            annotation_id=None if ann is None else o.ids[ann],
            annotation_label=None if ann is None else o.labels[ann],
            frequency=None if freq is None else round(float(freq), 4),
            via=None if via is None else o.ids[via],
        )

    for t in case.observed:
        anc = o.ancestors(t)
        contribution = float(m.observed_row(t)[p])
        hit = [n for n in nots.tolist() if n in set(anc.tolist())]
        if hit:
            out.append(ev(t, False, "contradicted", contribution, ann=hit[0]))
            continue
        if _lookup(cterms, np.array([t]))[0] >= 0:  # the disease has the term itself or a descendant
            best = anns.best_below(t)
            kind = "exact" if best and best[0] == t else "disease term more specific"
            out.append(ev(t, False, kind, contribution, *(best or (None, None))))
            continue
        pos = _lookup(cterms, anc)
        ok = pos >= 0
        cand, lp = anc[ok], clogp[pos[ok]]
        k = int(np.argmax(gam * lp + ic[cand])) if len(cand) else -1
        a = int(cand[k]) if k >= 0 else -1
        if a < 0 or ic[a] < UNSPECIFIC_IC:
            out.append(ev(t, False, "unmatched", contribution))
            continue
        best = anns.best_below(a)
        kind = "patient term more specific" if best and best[0] == a else "related"
        out.append(ev(t, False, kind, contribution, *(best or (None, None)), via=a if kind == "related" else None))
    for t in case.excluded:
        contribution = float(m.excluded_row(t)[p])
        pos = _lookup(cterms, np.array([t]))
        best = anns.best_below(t) if pos[0] >= 0 else None
        if best and best[1] >= m.params.excluded_min_frequency:
            out.append(ev(t, True, "counted against", contribution, best[0], best[1]))
            continue
        anc = set(o.ancestors(t).tolist())
        hit = [n for n in nots.tolist() if n in anc]
        if hit:
            out.append(ev(t, True, "consistent", contribution, ann=hit[0]))
        else:
            out.append(ev(t, True, "neutral", contribution, *(best or (None, None))))
    return tuple(out)


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
    cand = cand[(ic[cand] >= MIN_SUGGESTION_IC) & o.phenotype_mask[cand] & ~np.isin(cand, present)]
    if case.excluded and len(cand):  # drop terms at or below an excluded term: already known absent
        pos, anc = _expand_to_ancestors(o, cand)
        below_excluded = np.zeros(len(cand), dtype=bool)
        below_excluded[pos[np.isin(anc, case.excluded)]] = True
        cand = cand[~below_excluded]
    if not len(cand):
        return ()
    q = np.full((len(profiles), len(cand)), ABSENT_IF_UNANNOTATED)
    for i, (terms, logp) in enumerate(closures):
        pos = _lookup(cand, terms)
        ok = pos >= 0
        q[i, pos[ok]] = np.maximum(np.exp(logp[ok]), ABSENT_IF_UNANNOTATED)
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
