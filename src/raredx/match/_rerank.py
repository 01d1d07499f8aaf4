"""The second stage of a match: the index's ``CANDIDATES`` best patients re-ranked by a learned model.

The first stage (:meth:`MatchIndex.parts`) sums a few parts with fixed weights. The second one looks closer at
each of the leading pairs: how much of each patient's most specific findings the other explains (best-match
Resnik both ways: for each leaf term, the most informative ancestor the other patient has), the most
informative shared term, how many informative terms they share, each one's size, organ systems in common, and
their differentials compared at several depths (do the two lead with the same disease; where does one's leading
disease stand in the other's list). A conditional logit over the candidates (``reranker.json``: a weight per
standardised feature, the phenotype part's held positive and the contradictions' negative, fitted by ``benchmarks/fit_match.py`` on cohorts of the development
cases, cross-publication) orders them, and a logistic calibration turns its logit into the probability that the
two patients have the same disease: the score a match shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from raredx.errors import KnowledgeBaseError
from raredx.match._csr import gather

if TYPE_CHECKING:
    from raredx.match._index import MatchIndex, _Vector

RERANKER_FILE = "reranker.json"
CANDIDATES = 50  # patients of the first stage the model re-ranks
INFORMATIVE_IC = 3.0  # a shared term at least this informative counts in ``n_shared_informative``

PAIR_FEATURES = (
    # the first stage
    "score", "phenotype", "differential", "onset", "sex", "contradiction", "position", "gap",
    # the phenotypes
    "shared", "cover_query", "cover_other", "size_query", "size_other", "max_shared", "n_shared_informative",
    "bma_query", "bma_other", "bma_query_share", "bma_other_share", "leaves_query_in", "leaves_other_in",
    "leaves_query", "leaves_other", "systems", "registry_jaccard", "registry_max_shared",
    # the differentials
    "dis_3", "dis_10", "overlap", "same_top1", "query_top1_in_other", "other_top1_in_query", "top1_query",
    "top1_other",
)


# +1: may only raise a match; -1: may only lower it; the others are free (holding every feature with a direction
# to it kept the held-out p_at_1 of unseen queries at 0.451, against 0.498 with these two: the features overlap,
# and a free weight corrects another)
FEATURE_SIGNS = {"phenotype": 1, "contradiction": -1}


@dataclass(frozen=True)
class RerankModel:
    """A conditional logit over the first stage's candidates: ``z = w · x`` with ``x`` the standardised
    :data:`PAIR_FEATURES` (``mean``, ``scale``), the phenotype part never counting against a match and contradictions never for
    it (:data:`FEATURE_SIGNS`); ``probability`` turns ``z`` into the chance that the two patients
    have the same disease (logistic, ``calibration`` = slope, intercept, fitted on held-out folds)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    calibration: tuple[float, float] = (1.0, 0.0)
    description: str = ""

    @cached_property
    def columns(self) -> np.ndarray:
        """The model's features as columns of :func:`pair_features`."""
        return np.array([PAIR_FEATURES.index(f) for f in self.features], np.int64)

    @classmethod
    def load(cls, path: str | Path | None = None) -> RerankModel | None:
        """The shipped model (``match/reranker.json``) or the one at ``path``; None if there is none."""
        src = Path(path) if path is not None else resources.files("raredx.match") / RERANKER_FILE
        if not src.is_file():
            return None
        data = json.loads(src.read_text())
        unknown = [f for f in data["features"] if f not in PAIR_FEATURES]
        if unknown:
            raise KnowledgeBaseError(f"{src}: features {', '.join(unknown)} are unknown to this raredx; refit it "
                                     "with benchmarks/fit_match.py.")
        return cls(tuple(data["features"]), np.array(data["mean"]), np.array(data["scale"]),
                   np.array(data["weights"]), tuple(data["calibration"]), data.get("description", ""))

    def to_json(self) -> dict[str, object]:
        return {"description": self.description, "features": list(self.features),
                "mean": [round(float(v), 6) for v in self.mean], "scale": [round(float(v), 6) for v in self.scale],
                "weights": [round(float(v), 6) for v in self.weights], "calibration": list(self.calibration)}

    def logits(self, x: np.ndarray) -> np.ndarray:
        """``z`` for each row of ``x`` (columns: ``features``; any leading shape)."""
        return ((x - self.mean) / self.scale) @ self.weights

    def probability(self, x: np.ndarray) -> np.ndarray:
        a, b = self.calibration
        return 1.0 / (1.0 + np.exp(-(a * self.logits(x) + b)))


def pair_features(index: MatchIndex, q: _Vector, rows: np.ndarray, parts: dict[str, np.ndarray]) -> np.ndarray:
    """A (len(rows), len(PAIR_FEATURES)) matrix: how the query ``q`` and each patient of ``rows`` (the first
    stage's best, best first) match; ``parts``: the first stage's parts over all patients."""
    ic, o = index.ic, index.ontology
    k = len(rows)
    out = np.zeros((k, len(PAIR_FEATURES)), np.float64)
    f = {name: out[:, i] for i, name in enumerate(PAIR_FEATURES)}
    if not k:
        return out
    for name in ("score", "phenotype", "differential", "onset", "sex", "contradiction"):
        f[name][:] = parts[name][rows]
    f["position"][:] = np.arange(k)
    f["gap"][:] = parts["score"][rows] - parts["score"][rows[0]]
    w_q = float(ic[q.closure].sum())
    w_c = index.total[rows]
    shared = parts["shared"][rows]
    f["shared"][:] = shared
    f["cover_query"][:] = shared / max(w_q, 1e-9)
    f["cover_other"][:] = shared / np.maximum(w_c, 1e-9)
    f["size_query"][:] = np.log1p(w_q)
    f["size_other"][:] = np.log1p(w_c)
    # the candidates' closures as a (k, terms) membership table; the query's as one row
    member = np.zeros((k, len(ic)), bool)
    terms, owner = gather(index.c_ptr, index.c_term, rows)
    member[owner, terms] = True
    in_query = np.zeros(len(ic), bool)
    in_query[q.closure] = True
    shared_ic = np.where(member[:, q.closure], ic[q.closure][None, :], 0.0)
    f["max_shared"][:] = shared_ic.max(axis=1) if q.closure.size else 0.0
    f["n_shared_informative"][:] = (shared_ic >= INFORMATIVE_IC).sum(axis=1)
    # the same with each term worth how rare it is among the registry's patients (not among diseases)
    ric = index.registry_ic
    r_shared = member[:, q.closure] @ ric[q.closure]
    f["registry_jaccard"][:] = r_shared / np.maximum(ric[q.closure].sum() + index.registry_total[rows] - r_shared, 1e-9)
    f["registry_max_shared"][:] = (np.where(member[:, q.closure], ric[q.closure][None, :], 0.0).max(axis=1)
                                   if q.closure.size else 0.0)
    # best-match (Resnik) query -> candidate: each query leaf's most informative ancestor the candidate has
    q_leaves = index.leaves_of(q.closure)
    if len(q_leaves):
        anc, leaf = _ancestors_of(o, q_leaves)
        val = np.where(member[:, anc], ic[anc][None, :], 0.0)  # (k, entries), grouped by leaf
        starts = np.flatnonzero(np.r_[True, leaf[1:] != leaf[:-1]])
        mica = np.maximum.reduceat(val, starts, axis=1)  # (k, leaves)
        own = np.maximum(ic[q_leaves], 1e-9)
        f["bma_query"][:] = mica.mean(axis=1)
        f["bma_query_share"][:] = (mica / own[None, :]).mean(axis=1)
        f["leaves_query_in"][:] = member[:, q_leaves].mean(axis=1)
    f["leaves_query"][:] = len(q_leaves)
    # candidate -> query: each candidate leaf's most informative ancestor the query has
    lv, lowner = gather(index.l_ptr, index.l_term, rows)
    if len(lv):
        anc, leaf = _ancestors_of(o, lv)
        val = np.where(in_query[anc], ic[anc], 0.0)
        starts = np.flatnonzero(np.r_[True, leaf[1:] != leaf[:-1]])
        mica = np.maximum.reduceat(val, starts)
        n_leaves = np.bincount(lowner, minlength=k).astype(np.float64)
        denom = np.maximum(n_leaves, 1)
        f["bma_other"][:] = np.bincount(lowner, weights=mica, minlength=k) / denom
        f["bma_other_share"][:] = np.bincount(lowner, weights=mica / np.maximum(ic[lv], 1e-9), minlength=k) / denom
        f["leaves_other_in"][:] = np.bincount(lowner, weights=in_query[lv].astype(np.float64), minlength=k) / denom
        f["leaves_other"][:] = n_leaves
    qs = int(np.bitwise_or.reduce(o.organ_systems[q.closure])) if q.closure.size else 0
    cs = index.systems[rows]
    both, either = np.bitwise_count(cs & qs), np.bitwise_count(cs | qs)
    f["systems"][:] = both / np.maximum(either, 1)
    # the differentials at several depths
    n_dis = len(q.diseases)
    if n_dis:
        rank_q = np.full(len(index.engine.kb.concepts), -1, np.int64)
        rank_q[q.diseases] = np.arange(n_dis)
        dis, downer = gather(index.d_ptr, index.d_idx, rows)
        val, _ = gather(index.d_ptr, index.d_val, rows)
        lens = index.d_ptr[rows + 1] - index.d_ptr[rows]
        rank_c = np.arange(len(dis)) - (np.cumsum(lens) - lens)[downer]  # each disease's place in its patient's list
        rq = rank_q[dis]
        hit = rq >= 0
        prod = np.where(hit, q.root_p[np.maximum(rq, 0)] * val, 0.0)
        for depth, name in ((3, "dis_3"), (10, "dis_10")):
            keep = hit & (rq < depth) & (rank_c < depth)
            f[name][:] = np.bincount(downer[keep], weights=prod[keep], minlength=k)
        mins = np.where(hit, np.minimum(q.root_p[np.maximum(rq, 0)] ** 2, val**2), 0.0)
        f["overlap"][:] = np.bincount(downer, weights=mins, minlength=k)
        missing = float(DEPTH_MISSING)
        first_c = rank_c == 0
        f["same_top1"][:] = np.bincount(downer[first_c], weights=(rq[first_c] == 0).astype(np.float64), minlength=k)
        other_top1_in_q = np.full(k, missing)
        other_top1_in_q[downer[first_c]] = np.where(rq[first_c] >= 0, rq[first_c], missing)
        f["other_top1_in_query"][:] = other_top1_in_q
        q_top1_in_c = np.full(k, missing)
        at = rq == 0
        q_top1_in_c[downer[at]] = rank_c[at]
        f["query_top1_in_other"][:] = q_top1_in_c
        f["top1_query"][:] = q.root_p[0] ** 2
        top1_c = np.zeros(k)
        top1_c[downer[first_c]] = val[first_c] ** 2
        f["top1_other"][:] = top1_c
    return out


DEPTH_MISSING = 40  # the place given to a disease absent from a differential (it keeps 30)


def _ancestors_of(o, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Every ancestor (and the term itself) of each of ``terms``, and for each the position of its term."""
    return gather(o.anc_ptr, o.anc_idx, np.asarray(terms, np.int64))
