"""Benchmarks: ranking accuracy, calibration and speed on phenopacket collections."""

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
    "calibration_error",
    "cited_pmids",
    "pessimistic_rank",
    "run_benchmark",
    "subset_of",
    "summarise",
]
