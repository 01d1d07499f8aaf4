"""The Human Phenotype Ontology: reading ``hp.obo`` and navigating terms."""

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
    "TermResolution",
    "parse_obo",
]
