"""The Human Phenotype Ontology: reading ``hp.obo``, navigating terms, searching them by name; the onset terms
and their ages in :mod:`raredx.ontology.onset`."""

from raredx.ontology._obo import OboDocument, OboTerm, parse_obo
from raredx.ontology._ontology import (
    ALL,
    CLINICAL_MODIFIER,
    FREQUENCY,
    MODE_OF_INHERITANCE,
    ONSET,
    PHENOTYPIC_ABNORMALITY,
    Ontology,
    TermResolution,
)
from raredx.ontology._search import TermHit, TermIndex

__all__ = [
    "ALL",
    "CLINICAL_MODIFIER",
    "FREQUENCY",
    "MODE_OF_INHERITANCE",
    "ONSET",
    "PHENOTYPIC_ABNORMALITY",
    "OboDocument",
    "OboTerm",
    "Ontology",
    "TermHit",
    "TermIndex",
    "TermResolution",
    "parse_obo",
]
