"""Re-analysis when the knowledge changes: every differential of a registry patient is kept with the knowledge base
that made it (the analysis history); :func:`reanalyse` re-ranks the patients on the current knowledge base, in this
process, on a local Dask cluster or on a remote one, keeps the new analyses and reports the patients whose picture
changed materially (:func:`compare`: a new disease in the top 5, a large rise of a candidate's probability, a newly
linked gene among their variants), with what changed and why.

A use case (``cli``, ``api``, ``web`` -> ``reanalysis`` -> ``app``, ``registry``, ``engine``).
"""

from raredx.reanalysis._analysis import (
    KEPT,
    RISE,
    TOP,
    analysis_of,
    compare,
    diagnose_patient,
    linked_genes,
    patient_genes,
    record_diagnosis,
)
from raredx.reanalysis._run import Failure, PatientChanges, ReanalysisReport, reanalyse

__all__ = [
    "KEPT",
    "RISE",
    "TOP",
    "Failure",
    "PatientChanges",
    "ReanalysisReport",
    "analysis_of",
    "compare",
    "diagnose_patient",
    "linked_genes",
    "patient_genes",
    "reanalyse",
    "record_diagnosis",
]
