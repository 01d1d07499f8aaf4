"""Benchmarks: ranking accuracy and speed on phenopacket collections."""

from raredx.benchmark._runner import CaseRank, pessimistic_rank, run_benchmark, summarise

__all__ = ["CaseRank", "pessimistic_rank", "run_benchmark", "summarise"]
