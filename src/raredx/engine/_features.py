"""What the second stage sees of a candidate: disease-agnostic features of how a case matches it.

Every feature describes the match, never the disease's identity (how many of the patient's findings the
disease has, how much of the disease's frequent features the patient shows or lacks, how many organ
systems agree, how richly the disease is annotated), so a ranker learned on some diseases applies to all.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from raredx.kb import KnowledgeBase

if TYPE_CHECKING:
    from raredx.engine._engine import PreparedCase
    from raredx.engine._profiles import ProfileMatrix

CORE_FREQUENCY = 0.5  # an annotation at least this frequent is one of the disease's "frequent features"
MATCHED = 0.05  # a contribution above this is a match

FEATURES = (
    # the case
    "n_observed", "n_excluded", "observed_ic", "sex", "onset_given",
    # first-stage scores
    "score", "score_gap", "position", "raw_score", "background", "onset",
    # the patient's findings, by how the disease matches them
    "share_exact", "share_more_specific", "share_ancestor", "share_unmatched",
    "ic_exact", "ic_more_specific", "explained", "ancestor_explained", "best_term", "mean_frequency",
    # the patient's excluded findings
    "excluded_annotated", "excluded_max_frequency", "excluded_log_absent", "excluded_score",
    # the disease's frequent features
    "n_frequent", "frequent_present", "frequent_excluded", "frequent_ic_present", "all_present",
    # organ systems
    "systems_covered", "frequent_systems_covered",
    # the disease's knowledge
    "n_annotations", "closure_size", *(STATICS := (
        "n_genes", "has_omim", "has_orpha", "onset_known", "n_broader", "n_from_name", "n_publications",
        "dominant", "recessive", "x_linked", "mitochondrial",
    )),
)
_INHERITANCE = (
    {"HP:0000006", "HP:0032113", "HP:0001475"},  # autosomal dominant, semidominant, male-limited dominant
    {"HP:0000007"},  # autosomal recessive
    {"HP:0001417", "HP:0001419", "HP:0001423"},  # X-linked
    {"HP:0001427"},  # mitochondrial
)


class ProfileIndex:
    """Look-ups over one profile matrix, computed once per matrix."""

    def __init__(self, m: ProfileMatrix) -> None:
        self.m = m
        T = np.int64(m.n_terms)
        self.closure_key = np.repeat(np.arange(m.n, dtype=np.int64), np.diff(m.prof_ptr)) * T + m.prof_term
        self.ann_profile = np.repeat(np.arange(m.n, dtype=np.int64), np.diff(m.ann_ptr))
        self.ann_key = self.ann_profile * T + m.ann_term

    @cached_property
    def stats(self) -> dict[str, np.ndarray]:
        m = self.m
        core = m.ann_freq >= CORE_FREQUENCY
        systems = m.ontology.organ_systems[m.ann_term]
        all_sys = np.zeros(m.n, np.int64)
        core_sys = np.zeros(m.n, np.int64)
        np.bitwise_or.at(all_sys, self.ann_profile, systems)
        np.bitwise_or.at(core_sys, self.ann_profile[core], systems[core])
        return {
            "n_annotations": np.diff(m.ann_ptr).astype(np.float32),
            "n_frequent": np.bincount(self.ann_profile[core], minlength=m.n).astype(np.float32),
            "closure_size": np.diff(m.prof_ptr).astype(np.float32),
            "systems": all_sys,
            "core_systems": core_sys,
        }

    def lookup(self, keys: np.ndarray, sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.minimum(np.searchsorted(sorted_keys, keys), max(len(sorted_keys) - 1, 0))
        hit = (sorted_keys[pos] == keys) if len(sorted_keys) else np.zeros(keys.shape, bool)
        return pos, hit


class ConceptStatics:
    """Per-concept features from the knowledge base (not from a profile, so masking leaves them)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        cs = kb.concepts
        a = kb.annotations
        from_name = np.bincount(a.concept[a.from_name], minlength=len(cs))
        row = np.repeat(np.arange(len(a)), np.diff(a.ref_ptr))
        pairs = np.unique(np.stack([a.concept[row], a.ref_pmid]), axis=1)
        publications = np.bincount(pairs[0][pairs[1] >= 0], minlength=len(cs))
        self.table = np.array(
            [
                [len(c.causal_genes), any(i.startswith("OMIM:") for i in c.ids),
                 any(i.startswith("ORPHA:") for i in c.ids), c.onset_bins != 0, len(c.broader), from_name[c.index],
                 np.log1p(publications[c.index]), *(bool(set(c.inheritance) & modes) for modes in _INHERITANCE)]
                for c in cs
            ],
            dtype=np.float32,
        ).reshape(len(cs), len(STATICS))


def candidate_features(
    index: ProfileIndex,
    profiles: np.ndarray,
    case: PreparedCase,
    *,
    score: np.ndarray,
    position: np.ndarray,
    best_score: float,
    hub: float,
    onset: np.ndarray,
    statics: np.ndarray,
) -> np.ndarray:
    """A (len(profiles), len(FEATURES)) matrix for candidates ``profiles`` of ``index``'s matrix.

    ``score``: their first-stage scores; ``position``: their places in its ranking (0 first); ``best_score``: the case's best; ``hub``: the background weight
    times the number of findings; ``onset``: their onset term; ``statics``: their :class:`ConceptStatics` rows."""
    m = index.m
    K = len(profiles)
    T = np.int64(m.n_terms)
    P = profiles.astype(np.int64)
    obs = np.asarray(case.observed, dtype=np.int64)
    exc = np.asarray(case.excluded, dtype=np.int64)
    ic_obs = m.ic[obs].astype(np.float64)
    ic_total = max(float(ic_obs.sum()), 1e-6)
    out = np.zeros((K, len(FEATURES)), np.float32)
    f = {name: out[:, i] for i, name in enumerate(FEATURES)}

    f["n_observed"][:], f["n_excluded"][:], f["observed_ic"][:] = len(obs), len(exc), ic_total
    f["sex"][:] = {"male": 1, "female": 2}.get(case.sex or "", 0)
    f["onset_given"][:] = case.onset_bins != 0
    f["score"][:] = score
    f["score_gap"][:] = score - best_score
    f["position"][:] = position
    bg = m.background[P]
    f["background"][:] = bg
    f["raw_score"][:] = score + hub * bg
    f["onset"][:] = onset

    contrib = np.stack([m.observed_row(int(t))[P] for t in obs]).astype(np.float64)  # (n, K)
    keys = P[None, :] * T + obs[:, None]
    pos, in_closure = index.lookup(keys, index.closure_key)
    _, direct = index.lookup(keys, index.ann_key)
    more_specific = in_closure & ~direct
    ancestor = ~in_closure & (contrib > MATCHED)
    f["share_exact"][:] = direct.mean(0)
    f["share_more_specific"][:] = more_specific.mean(0)
    f["share_ancestor"][:] = ancestor.mean(0)
    f["share_unmatched"][:] = (~in_closure & ~ancestor).mean(0)
    f["ic_exact"][:] = (ic_obs[:, None] * direct).sum(0) / ic_total
    f["ic_more_specific"][:] = (ic_obs[:, None] * more_specific).sum(0) / ic_total
    f["explained"][:] = contrib.sum(0) / ic_total
    f["ancestor_explained"][:] = (contrib * ancestor).sum(0) / ic_total
    f["best_term"][:] = contrib.max(0)
    p_term = np.where(in_closure, np.exp(m.prof_logp[pos]), 0.0)
    f["mean_frequency"][:] = p_term.sum(0) / np.maximum(in_closure.sum(0), 1)

    if len(exc):
        ekeys = P[None, :] * T + exc[:, None]
        epos, e_in = index.lookup(ekeys, index.closure_key)
        maxf = np.where(e_in, m.prof_maxf[epos], 0.0)
        f["excluded_annotated"][:] = e_in.mean(0)
        f["excluded_max_frequency"][:] = maxf.max(0)
        f["excluded_log_absent"][:] = np.log1p(-0.95 * maxf).sum(0)
        f["excluded_score"][:] = sum(m.excluded_row(int(t))[P] for t in exc)

    _frequent_features(m, index, P, obs, exc, f)
    st = index.stats
    patient_sys = np.bitwise_or.reduce(m.ontology.organ_systems[obs])
    n_sys = max(int(np.bitwise_count(patient_sys)), 1)
    f["systems_covered"][:] = np.bitwise_count(st["systems"][P] & patient_sys) / n_sys
    core_sys = st["core_systems"][P]
    f["frequent_systems_covered"][:] = np.bitwise_count(core_sys & patient_sys) / np.maximum(np.bitwise_count(core_sys), 1)
    f["n_annotations"][:] = np.log1p(st["n_annotations"][P])
    f["closure_size"][:] = np.log1p(st["closure_size"][P])
    f["n_frequent"][:] = st["n_frequent"][P]
    for j, name in enumerate(STATICS):
        f[name][:] = statics[:, j]
    return out


def _frequent_features(
    m: ProfileMatrix, index: ProfileIndex, P: np.ndarray, obs: np.ndarray, exc: np.ndarray, f: dict[str, np.ndarray]
) -> None:
    """How many of each candidate's annotations the patient shows (the term or a more specific one) or lacks."""
    o = m.ontology
    present = np.zeros(o.anc_ptr.shape[0] - 1, bool)
    present[np.concatenate([o.ancestors(int(t)) for t in obs])] = True
    absent = np.zeros_like(present)
    for t in exc:
        absent[o.descendant_array(int(t))] = True
    starts, ends = m.ann_ptr[P], m.ann_ptr[P + 1]
    lens = ends - starts
    owner = np.repeat(np.arange(len(P)), lens)
    rows = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
    terms, freq = m.ann_term[rows], m.ann_freq[rows]
    core = freq >= CORE_FREQUENCY
    is_present, is_absent = present[terms], absent[terms]
    n_core = np.maximum(np.bincount(owner[core], minlength=len(P)), 1)
    f["frequent_present"][:] = np.bincount(owner[core & is_present], minlength=len(P)) / n_core
    f["frequent_excluded"][:] = np.bincount(owner[core & is_absent], minlength=len(P)) / n_core
    ic = m.ic[terms]
    core_ic = np.maximum(np.bincount(owner[core], weights=ic[core], minlength=len(P)), 1e-6)
    f["frequent_ic_present"][:] = np.bincount(owner[core & is_present], weights=ic[core & is_present], minlength=len(P)) / core_ic
    f["all_present"][:] = np.bincount(owner[is_present], minlength=len(P)) / np.maximum(lens, 1)
