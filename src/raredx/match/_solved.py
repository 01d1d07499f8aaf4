"""The centre's solved cases as knowledge: the confirmed diagnoses of the patients most like this one.

Of the ``neighbours`` most similar solved patients (never the patient itself or its family), each one whose match
score ``s`` passes ``min_similarity`` adds ``weight · (s - min_similarity)`` to the log-odds of its diagnosis, if
that disease is among the ``within`` most probable of the knowledge base's differential (0: wherever it is). The
differential shows it apart from the knowledge base's evidence ("2 solved patients in this registry with a similar
phenotype had X"). ``benchmarks/fit_match.py`` chose the three numbers by cohort-grouped cross-validation on the
development cases whose publication the knowledge base does not cite.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import numpy as np

from raredx.engine import PreparedCase, SolvedCaseEvidence
from raredx.match._index import WEIGHTS_FILE, MatchIndex, phenotype_differential, top_rows, vector_of


@dataclass(frozen=True, slots=True)
class SolvedWeights:
    weight: float = 2.0
    neighbours: int = 10
    min_similarity: float = 0.0
    within: int = 0

    @classmethod
    def fitted(cls) -> SolvedWeights:
        data = json.loads((resources.files("raredx.match") / WEIGHTS_FILE).read_text())["solved"]
        return cls(float(data["weight"]), int(data["neighbours"]), float(data["min_similarity"]),
                   int(data.get("within", 0)))


def solved_logits(index: MatchIndex, score: np.ndarray, weights: SolvedWeights, probability: np.ndarray
                  ) -> dict[int, list[tuple[int, float]]]:
    """Disease concept -> [(row of a similar solved patient, its score)], from every patient's match ``score``
    with the query (``-inf`` for those that may not count) and the query's differential ``probability``; the rows
    counted, most similar first."""
    score = np.where(index.diagnosis >= 0, score, -np.inf)
    out: dict[int, list[tuple[int, float]]] = {}
    rankable = index.engine.profiles.rankable.copy()
    if weights.within:
        k = min(weights.within, len(probability))
        plausible = np.zeros(len(rankable), bool)
        plausible[np.argpartition(-probability, k - 1)[:k]] = True
        rankable &= plausible
    for r in top_rows(score, weights.neighbours).tolist():
        s = float(score[r])
        c = int(index.diagnosis[r])
        if s > weights.min_similarity and rankable[c]:
            out.setdefault(c, []).append((r, s))
    return out


def logit_of(hits: list[tuple[int, float]], weights: SolvedWeights) -> float:
    return weights.weight * sum(s - weights.min_similarity for _, s in hits)


def solved_case_evidence(index: MatchIndex, prepared: PreparedCase, probability: np.ndarray, *,
                         exclude: Iterable[str] = (), weights: SolvedWeights | None = None
                         ) -> dict[int, SolvedCaseEvidence]:
    """What the index's solved patients say of each disease for ``prepared`` (differential ``probability``),
    leaving out the patients keyed in ``exclude`` and their families."""
    weights = weights or SolvedWeights.fitted()
    phenotype = phenotype_differential(index.engine, prepared) if prepared.genotype else probability
    q = vector_of(index.engine, prepared, phenotype)  # matched as the index is: on the phenotype's differential
    score = index.parts(q)["score"]
    score[index.excluded_keys(exclude)] = -np.inf
    out = {}
    for c, hits in solved_logits(index, score, weights, probability).items():
        n = len(hits)
        name = index.engine.kb.concepts[c].name
        out[c] = SolvedCaseEvidence(
            logit=round(logit_of(hits, weights), 4), patients=tuple(index.patients[r].label or index.patients[r].key
                                                                    for r, _ in hits),
            similarity=tuple(round(s, 4) for _, s in hits),
            text=f"{n} solved patient{'s' if n > 1 else ''} in this registry with a similar phenotype had {name}")
    return out
