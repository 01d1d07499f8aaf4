"""Age-of-onset classes shared by disease annotations (HPO, Orphanet) and patient data.

Ages are compared on the seven bins of :mod:`raredx.ontology.onset`. A disease's onset is a bit mask over the bins.
"""

from __future__ import annotations

from raredx.ontology import Ontology, onset
from raredx.ontology.onset import parse_iso_age

__all__ = ["ALL_BINS", "BINS", "age_bin", "bins_label", "hpo_onset_bins", "orphanet_onset_bins", "parse_iso_age"]

BINS = onset.BINS
ALL_BINS = (1 << len(BINS)) - 1

_ORPHANET_ONSET_BINS = {
    "Antenatal": 0b0000001,
    "Neonatal": 0b0000010,
    "Infancy": 0b0000100,
    "Childhood": 0b0001000,
    "Adolescent": 0b0010000,
    "Adult": 0b0100000 | 0b1000000,
    "Elderly": 0b1000000,
    "All ages": ALL_BINS,
}

def hpo_onset_bins(ontology: Ontology, term_index: int) -> int:
    """Bins of an HPO onset term (0 if the term is not an onset term)."""
    mask = 0
    best_depth = -1
    anc = ontology.ancestors(term_index)
    for a in anc:
        bins = onset.TERM_BINS.get(ontology.ids[a])
        if bins is not None:
            depth = len(ontology.ancestors(int(a)))
            if depth > best_depth:
                best_depth, mask = depth, bins
    return mask


def orphanet_onset_bins(label: str) -> int:
    return _ORPHANET_ONSET_BINS.get(label, 0)


def age_bin(age_years: float) -> int:
    """The bin mask of an age in years (negative: antenatal; under 28 days: neonatal)."""
    return 1 << onset.age_bin(age_years)


def bins_label(mask: int) -> str:
    return ", ".join(b for i, b in enumerate(BINS) if mask >> i & 1)
