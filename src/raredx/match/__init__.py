"""Patients like this one: phenotype (and genotype) matching over a registry, and the registry's solved patients
as evidence in the differential. A query is a :class:`raredx.engine.Case` (features, sex, onset, genes), so a
Matchmaker Exchange server can hand its requests to :meth:`MatchIndex.search` as they are."""

from raredx.match._index import Match, MatchIndex, MatchPatient, MatchWeights, SharedTerm, top_rows, vector_of
from raredx.match._solved import SolvedWeights, solved_case_evidence, solved_logits

__all__ = [
    "Match",
    "MatchIndex",
    "MatchPatient",
    "MatchWeights",
    "SharedTerm",
    "SolvedWeights",
    "solved_case_evidence",
    "solved_logits",
    "top_rows",
    "vector_of",
]
