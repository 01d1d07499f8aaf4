"""What the second stage sees of a candidate: disease-agnostic features of how a case matches it.

Every feature describes the match, never the disease's identity (how many of the patient's findings the
disease has, how many of the disease's frequent features the patient shows, how many organ systems agree,
how richly the disease is annotated), so a ranker learned on some diseases applies to all. Excluded findings
are not among them (docs/method.md says why).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from raredx.kb import KnowledgeBase

if TYPE_CHECKING:
    from raredx.engine._prepare import PreparedCase
    from raredx.engine._profiles import ProfileMatrix

CORE_FREQUENCY = 0.5  # an annotation at least this frequent is one of the disease's "frequent features"
MATCHED = 0.05  # a contribution above this is a match

FEATURES = (
    # first-stage scores
    "score", "score_gap", "position", "background", "onset",
    # the patient's findings, by how the disease matches them
    "share_exact", "share_more_specific", "share_ancestor", "ic_exact", "ic_more_specific", "explained",
    "ancestor_explained", "best_term", "mean_frequency",
    # the disease's annotations the patient shows (the term or a more specific one)
    "n_frequent", "frequent_present", "frequent_ic_present", "all_present",
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


class ProfileStats:
    """Per-profile counts of one profile matrix, computed once per matrix."""

    def __init__(self, m: ProfileMatrix) -> None:
        self.m = m
        owner = np.repeat(np.arange(m.n, dtype=np.int64), np.diff(m.ann_ptr))
        core = m.ann_freq >= CORE_FREQUENCY
        systems = m.ontology.organ_systems[m.ann_term]
        self.systems = np.zeros(m.n, np.int64)
        self.core_systems = np.zeros(m.n, np.int64)
        np.bitwise_or.at(self.systems, owner, systems)
        np.bitwise_or.at(self.core_systems, owner[core], systems[core])
        self.n_annotations = np.diff(m.ann_ptr).astype(np.float32)
        self.n_frequent = np.bincount(owner[core], minlength=m.n).astype(np.float32)
        self.closure_size = np.diff(m.prof_ptr).astype(np.float32)


class ConceptStatics:
    """Per-concept features from the knowledge base (not from a profile, so masking leaves them)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        cs = kb.concepts
        a = kb.annotations
        from_name = np.bincount(a.concept[a.from_name], minlength=len(cs))
        publications = np.bincount(a.concept_pmids()[0], minlength=len(cs))
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
    stats: ProfileStats,
    profiles: np.ndarray,
    case: PreparedCase,
    *,
    score: np.ndarray,
    position: np.ndarray,
    best_score: float,
    onset: np.ndarray,
    statics: np.ndarray,
) -> np.ndarray:
    """A (len(profiles), len(FEATURES)) matrix for candidates ``profiles`` of ``stats``' matrix.

    ``score``: their first-stage scores; ``position``: their places in its ranking (0 first); ``best_score``:
    the case's best; ``onset``: their onset term; ``statics``: their :class:`ConceptStatics` rows."""
    m = stats.m
    order = np.argsort(profiles, kind="stable")
    P = profiles[order].astype(np.int64)
    out = np.zeros((len(P), len(FEATURES)), np.float32)
    f = {name: out[:, i] for i, name in enumerate(FEATURES)}
    f["score"][:] = score[order]
    f["score_gap"][:] = score[order] - best_score
    f["position"][:] = position[order]
    f["background"][:] = m.background[P]
    f["onset"][:] = onset[order]
    _match_features(m, P, np.asarray(case.observed, dtype=np.int64), f)
    _annotation_features(m, P, np.asarray(case.observed_all, dtype=np.int64), f)
    patient_sys = np.bitwise_or.reduce(m.ontology.organ_systems[np.asarray(case.observed, dtype=np.int64)])
    n_sys = max(int(np.bitwise_count(patient_sys)), 1)
    f["systems_covered"][:] = np.bitwise_count(stats.systems[P] & patient_sys) / n_sys
    core_sys = stats.core_systems[P]
    f["frequent_systems_covered"][:] = np.bitwise_count(core_sys & patient_sys) / np.maximum(np.bitwise_count(core_sys), 1)
    f["n_annotations"][:] = np.log1p(stats.n_annotations[P])
    f["closure_size"][:] = np.log1p(stats.closure_size[P])
    f["n_frequent"][:] = stats.n_frequent[P]
    out[:, len(FEATURES) - len(STATICS):] = statics[order]
    return out[np.argsort(order, kind="stable")]


def _match_features(m: ProfileMatrix, P: np.ndarray, obs: np.ndarray, f: dict[str, np.ndarray]) -> None:
    """How the disease matches each of the patient's scored findings, summed over the findings."""
    ic_obs = m.ic[obs].astype(np.float64)
    ic_total = max(float(ic_obs.sum()), 1e-6)
    contrib = np.stack([m.observed_row(int(t))[P] for t in obs]).astype(np.float64)  # (n, K)
    at, direct = zip(*(m.column(int(t), P) for t in obs))
    pos, exact = np.stack(at), np.stack(direct)
    in_closure = pos >= 0
    more_specific = in_closure & ~exact
    ancestor = ~in_closure & (contrib > MATCHED)
    f["share_exact"][:] = exact.mean(0)
    f["share_more_specific"][:] = more_specific.mean(0)
    f["share_ancestor"][:] = ancestor.mean(0)
    f["ic_exact"][:] = ic_obs @ exact / ic_total
    f["ic_more_specific"][:] = ic_obs @ more_specific / ic_total
    f["explained"][:] = contrib.sum(0) / ic_total
    f["ancestor_explained"][:] = (contrib * ancestor).sum(0) / ic_total
    f["best_term"][:] = contrib.max(0)
    # an empty matrix (a masked one whose profiles lost every annotation, ranked for a genotype) has no column
    logp = m.col_logp[np.maximum(pos, 0)] if len(m.col_logp) else np.zeros(pos.shape)
    p_term = np.where(in_closure, np.exp(logp), 0.0)
    f["mean_frequency"][:] = p_term.sum(0) / np.maximum(in_closure.sum(0), 1)


def _annotation_features(m: ProfileMatrix, P: np.ndarray, observed: np.ndarray, f: dict[str, np.ndarray]) -> None:
    """How many of each candidate's annotations (and of its frequent ones) the patient shows: the term or a
    more specific one."""
    o = m.ontology
    present = np.zeros(len(o), bool)
    present[np.concatenate([o.ancestors(int(t)) for t in observed])] = True
    starts, lens = m.ann_ptr[P], m.ann_ptr[P + 1] - m.ann_ptr[P]
    rows = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
    terms = m.ann_term[rows]
    core = m.ann_freq[rows] >= CORE_FREQUENCY
    shown = present[terms]
    ic = m.ic[terms].astype(np.float64)
    n_core = _segment_sums(core, lens)
    f["frequent_present"][:] = _segment_sums(core & shown, lens) / np.maximum(n_core, 1)
    f["frequent_ic_present"][:] = _segment_sums(ic * (core & shown), lens) / np.maximum(_segment_sums(ic * core, lens), 1e-6)
    f["all_present"][:] = _segment_sums(shown, lens) / np.maximum(lens, 1)


def _segment_sums(values: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Sums of consecutive segments of ``values`` with lengths ``lens`` (empty segments sum to 0)."""
    c = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    ends = np.cumsum(lens)
    return c[ends] - c[ends - lens]
