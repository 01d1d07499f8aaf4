"""Evidence worked out for the diseases an answer returns, and only those: the case's part computed once and each
disease's in a few array operations (``CaseExplainer``) says the same as the term-by-term rules it replaced, which
are kept here as the reference."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from raredx.engine import Case
from raredx.engine._explain import CaseExplainer, _lookup, explain
from raredx.engine._features import MATCHED
from raredx.engine._profiles import _expand_to_ancestors
from raredx.engine._result import TermEvidence


# -- the reference: one patient term at a time (the engine's rules before they were vectorised) ------------------
class _Reference:
    def __init__(self, m, p: int) -> None:  # type: ignore[no-untyped-def]
        self.m, self.p = m, p
        self.terms, self.freqs = m.annotations(p)
        self.pos, self.anc = _expand_to_ancestors(m.ontology, self.terms)
        self.closure_terms, _ = m.closure(p)
        self.nots = m.not_terms(p).tolist()

    def best_below(self, a: int) -> tuple[int, float] | None:
        hits = self.pos[self.anc == a]
        if not len(hits):
            return None
        k = hits[np.lexsort((self.terms[hits] != a, -self.freqs[hits]))[0]]
        return int(self.terms[k]), float(self.freqs[k])

    def ev(self, t, excluded, match, contribution, ann=None, freq=None, via=None) -> TermEvidence:  # type: ignore[no-untyped-def]
        o = self.m.ontology
        return TermEvidence(o.ids[t], o.labels[t], excluded, match, round(float(contribution), 4) + 0.0,
                            None if ann is None else o.ids[ann], None if ann is None else o.labels[ann],
                            None if freq is None else round(float(freq), 4), None if via is None else o.ids[via],
                            None if via is None else o.labels[via])

    def negated(self, t: int) -> int | None:
        anc = set(self.m.ontology.ancestors(t).tolist())
        return next((n for n in self.nots if n in anc), None)

    def in_closure(self, t: int) -> bool:
        return bool(_lookup(self.closure_terms, np.array([t]))[0] >= 0)

    def observed(self, t: int) -> TermEvidence:
        m = self.m
        c = float(m.observed_row(t)[self.p])
        if (n := self.negated(t)) is not None:
            return self.ev(t, False, "contradicted", c, ann=n)
        if self.in_closure(t):
            best = self.best_below(t)
            return self.ev(t, False, "exact" if best and best[0] == t else "disease term more specific", c,
                           *(best or (None, None)))
        anc = m.ontology.ancestors(t)
        pos = _lookup(self.closure_terms, anc)
        ok = pos >= 0
        direct = np.isin(anc, self.terms) & ok
        if direct.any() and c > MATCHED:
            a = int(anc[direct][np.argmax(m.prof_value[m.prof_ptr[self.p] + pos[direct]])])
            return self.ev(t, False, "patient term more specific", c, a, float(self.freqs[np.flatnonzero(self.terms == a)[0]]))
        shared = anc[ok & (m.ic[anc] >= m.params.nearby_min_ic)]
        if not len(shared):
            return self.ev(t, False, "unmatched", c)
        a = int(shared[np.argmax(m.ic[shared])])
        best = self.best_below(a)
        return self.ev(t, False, "unmatched", c, best[0] if best else None, best[1] if best else None, via=a)

    def excluded(self, t: int) -> TermEvidence:
        m = self.m
        c = float(m.excluded_row(t)[self.p])
        best = self.best_below(t) if self.in_closure(t) else None
        if best and best[1] >= m.params.excluded_min_frequency:
            return self.ev(t, True, "counted against", c, *best)
        if (n := self.negated(t)) is not None:
            return self.ev(t, True, "consistent", c, ann=n)
        return self.ev(t, True, "neutral", c, *(best or (None, None)))


def reference_explain(m, p, case):  # type: ignore[no-untyped-def]
    x = _Reference(m, p)
    rows = [x.observed(t) for t in case.observed] + [x.excluded(t) for t in case.excluded]
    weighted = [e for e in rows if e.contribution != 0 or not e.excluded]
    weighted.sort(key=lambda e: (0 if e.contribution > 0 else 1 if e.contribution < 0 else 2, -abs(e.contribution)))
    return tuple(weighted), tuple(e for e in rows if e.excluded and e.contribution == 0)


def random_cases(ontology, n: int, seed: int = 3) -> list[Case]:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    phenotypes = [ontology.ids[i] for i in np.flatnonzero(ontology.phenotype_mask)]
    cases = []
    for k in range(n):
        terms = rng.sample(phenotypes, rng.randint(1, min(9, len(phenotypes))))
        cut = rng.randint(1, len(terms))
        cases.append(Case(observed=tuple(terms[:cut]), excluded=tuple(terms[cut:]), id=f"random-{k}",
                          sex=rng.choice((None, "male", "female"))))
    return cases


def test_evidence_matches_the_term_by_term_rules_for_every_profile(toy_engine) -> None:  # type: ignore[no-untyped-def]
    m = toy_engine.matrix
    compared = 0
    for case in random_cases(toy_engine.ontology, 60):
        prepared = toy_engine.prepare(case, strict=False)
        explainer = CaseExplainer(m, prepared)
        for p in range(m.n):
            assert explainer.explain(p) == reference_explain(m, p, prepared), (case, p)
            compared += 1
    assert compared > 1000


def test_diagnose_explains_the_returned_diseases_as_explain_does(toy_engine) -> None:  # type: ignore[no-untyped-def]
    for case in random_cases(toy_engine.ontology, 20, seed=8):
        prepared = toy_engine.prepare(case, strict=False)
        diff = toy_engine.diagnose(case, top=4, strict=False)
        for d in diff.diseases:
            profile = int(toy_engine.profiles.select[prepared.sex][toy_engine.kb.concept(d.ids[0]).index])
            assert (d.evidence, d.not_counted) == reference_explain(toy_engine.matrix, profile, prepared)
            assert (d.evidence, d.not_counted) == explain(toy_engine.matrix, profile, prepared)
            assert toy_engine.explain(case, d.ids[0], strict=False) == d


@pytest.mark.parametrize("top", [1, 3])
def test_only_the_returned_diseases_are_explained(toy_engine, monkeypatch, top: int) -> None:  # type: ignore[no-untyped-def]
    explained: list[int] = []
    original = CaseExplainer.explain

    def counting(self, p: int):  # type: ignore[no-untyped-def]
        explained.append(p)
        return original(self, p)

    monkeypatch.setattr(CaseExplainer, "explain", counting)
    diff = toy_engine.diagnose(Case(observed=("HP:0001166", "HP:0001083")), top=top)
    assert len(explained) == len(diff.diseases) == top


def test_to_dict_is_asdict(toy_engine) -> None:  # type: ignore[no-untyped-def]
    diff = toy_engine.diagnose(Case(observed=("HP:0001166", "HP:0001083"), excluded=("HP:0000365",)), top=5)
    assert diff.to_dict() == dataclasses.asdict(diff)
    assert isinstance(diff.to_dict()["diseases"][0]["ids"], tuple)


@pytest.mark.kb
def test_evidence_matches_the_term_by_term_rules_on_the_real_release(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    import os
    from pathlib import Path

    from raredx import RareDx

    cache = Path(os.environ.get("RAREDX_CACHE_DIR") or tmp_path_factory.mktemp("cache"))
    engine = RareDx.load(cache_dir=cache).engine
    o, a = engine.ontology, engine.kb.annotations
    rng = random.Random(4)
    concepts = rng.sample(sorted(set(a.concept[~a.negated].tolist())), 40)
    for c in concepts:
        own = sorted({o.ids[t] for t in a.term[(a.concept == c) & ~a.negated].tolist()})
        other = [o.ids[t] for t in rng.sample(range(len(o)), 30) if o.phenotype_mask[t]]
        observed = rng.sample(own, min(6, len(own))) + other[:2]
        case = Case(observed=tuple(observed), excluded=tuple(t for t in other[2:5] if t not in observed),
                    sex=rng.choice((None, "male", "female")))
        prepared = engine.prepare(case, strict=False)
        diff = engine.diagnose(case, top=10, strict=False)
        for d in diff.diseases:
            profile = int(engine.profiles.select[prepared.sex][engine.kb.concept(d.ids[0]).index])
            assert (d.evidence, d.not_counted) == reference_explain(engine.matrix, profile, prepared), (case, d.name)
