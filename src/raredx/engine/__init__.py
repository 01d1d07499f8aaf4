"""The differential-diagnosis engine: a likelihood-ratio model over HPO disease profiles."""

from raredx.engine._case import Case, Sex
from raredx.engine._engine import DiagnosisEngine, Ranking
from raredx.engine._params import Params
from raredx.engine._prepare import PreparedCase
from raredx.engine._ranker import RankerModel
from raredx.engine._result import (
    Differential,
    MatchKind,
    RankedDisease,
    RankedGene,
    SolvedCaseEvidence,
    Suggestion,
    TermEvidence,
)

__all__ = [
    "Case",
    "DiagnosisEngine",
    "Differential",
    "MatchKind",
    "Params",
    "PreparedCase",
    "RankedDisease",
    "RankedGene",
    "RankerModel",
    "Ranking",
    "Sex",
    "SolvedCaseEvidence",
    "Suggestion",
    "TermEvidence",
]
