"""Reading cases (phenopackets, term lists, TSV) and writing results (table, JSON, TSV); the members of a ZIP,
one by one (a damaged member is one problem)."""

from raredx.io._archive import is_zip, looks_like_zip, zip_members
from raredx.io.phenopackets import (
    PhenopacketRecord,
    Problem,
    case_from_features,
    case_from_phenopacket,
    diagnosis_ids,
    iter_phenopackets,
)

__all__ = ["PhenopacketRecord", "Problem", "case_from_features", "case_from_phenopacket", "diagnosis_ids", "is_zip",
           "iter_phenopackets", "looks_like_zip", "zip_members"]
