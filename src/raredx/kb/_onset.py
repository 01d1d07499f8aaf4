"""Age-of-onset classes shared by disease annotations (HPO, Orphanet) and patient data.

Ages are compared on seven bins. A disease's onset is a bit mask over the bins.
"""

from __future__ import annotations

import re

from raredx.ontology import Ontology

BINS = ("antenatal", "neonatal", "infantile", "childhood", "juvenile", "young adult", "later adult")
ALL_BINS = (1 << len(BINS)) - 1

# HPO onset terms -> bins (descendants inherit the bins of their nearest listed ancestor).
_HPO_ONSET_BINS = {
    "HP:0030674": 0b0000001,  # Antenatal onset
    "HP:0003577": 0b0000010,  # Congenital onset
    "HP:0003623": 0b0000010,  # Neonatal onset
    "HP:0003593": 0b0000100,  # Infantile onset
    "HP:0410280": 0b0011110,  # Pediatric onset
    "HP:0011463": 0b0001000,  # Childhood onset
    "HP:0003621": 0b0010000,  # Juvenile onset
    "HP:0003581": 0b1100000,  # Adult onset
    "HP:0011462": 0b0100000,  # Young adult onset
    "HP:0003596": 0b1000000,  # Middle age onset
    "HP:0003584": 0b1000000,  # Late onset
}

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

_ISO_DURATION = re.compile(r"^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?$")


def hpo_onset_bins(ontology: Ontology, term_index: int) -> int:
    """Bins of an HPO onset term (0 if the term is not an onset term)."""
    mask = 0
    best_depth = -1
    anc = ontology.ancestors(term_index)
    for a in anc:
        bins = _HPO_ONSET_BINS.get(ontology.ids[a])
        if bins is not None:
            depth = len(ontology.ancestors(int(a)))
            if depth > best_depth:
                best_depth, mask = depth, bins
    return mask


def orphanet_onset_bins(label: str) -> int:
    return _ORPHANET_ONSET_BINS.get(label, 0)


def parse_iso_age(text: str) -> float | None:
    """ISO 8601 duration (P3Y6M, P10D) -> age in years; None if it is not one."""
    m = _ISO_DURATION.match(text.strip().upper())
    if not m or not any(m.groups()):
        return None
    y, mo, w, d = (float(g) if g else 0.0 for g in m.groups())
    return y + mo / 12.0 + w * 7 / 365.25 + d / 365.25


def age_bin(age_years: float) -> int:
    """The bin mask of an age in years (negative or zero: congenital/neonatal)."""
    if age_years < 0:
        return 1 << 0
    if age_years < 28 / 365.25:
        return 1 << 1
    if age_years < 1:
        return 1 << 2
    if age_years < 5:
        return 1 << 3
    if age_years < 16:
        return 1 << 4
    if age_years < 40:
        return 1 << 5
    return 1 << 6


def bins_label(mask: int) -> str:
    return ", ".join(b for i, b in enumerate(BINS) if mask >> i & 1)
