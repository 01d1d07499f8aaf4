"""Benchmarks: ranking accuracy, calibration and speed on phenopacket collections."""

from raredx.benchmark._match import MatchBenchmarkOptions, family_of, run_match_benchmark
from raredx.benchmark._runner import (
    SUBSETS,
    BenchmarkOptions,
    CaseRank,
    calibration_error,
    cited_pmids,
    pessimistic_rank,
    run_benchmark,
    subset_of,
    summarise,
)

__all__ = [
    "SUBSETS",
    "BenchmarkOptions",
    "CaseRank",
    "MatchBenchmarkOptions",
    "calibration_error",
    "cited_pmids",
    "family_of",
    "pessimistic_rank",
    "run_benchmark",
    "run_match_benchmark",
    "subset_of",
    "summarise",
]
