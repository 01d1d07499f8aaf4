"""Reading cases (phenopackets, term lists, TSV) and writing results (table, JSON, TSV)."""

from raredx.io.phenopackets import (
    PhenopacketRecord,
    Problem,
    case_from_features,
    case_from_phenopacket,
    diagnosis_ids,
    iter_phenopackets,
)

__all__ = ["PhenopacketRecord", "Problem", "case_from_features", "case_from_phenopacket", "diagnosis_ids", "iter_phenopackets"]
