"""The HPO onset terms (subclasses of HP:0003674 *Onset*) and the ages they stand for: the one vocabulary of age
of onset, as hpo-toolkit's ``hpotk.constants.hpo.onset``. The engine's onset bins, the registry's age statistics,
the workbench's onset choices and the phenopacket readers all use these names.

>>> from raredx.ontology import onset
>>> onset.age_bin(3.0), onset.BINS[onset.age_bin(3.0)]
(3, 'childhood')
>>> onset.REPRESENTATIVE_YEARS[onset.JUVENILE]
10.0
"""

from __future__ import annotations

import itertools
import math
import re
from functools import cache

ANTENATAL = "HP:0030674"
EMBRYONAL = "HP:0011460"
FETAL = "HP:0011461"
CONGENITAL = "HP:0003577"
NEONATAL = "HP:0003623"
INFANTILE = "HP:0003593"
PEDIATRIC = "HP:0410280"
CHILDHOOD = "HP:0011463"
JUVENILE = "HP:0003621"
ADULT = "HP:0003581"
YOUNG_ADULT = "HP:0011462"
MIDDLE_AGE = "HP:0003596"
LATE = "HP:0003584"

# The onset terms a clinician picks from in the workbench, youngest first.
CHOICES: tuple[str, ...] = (ANTENATAL, CONGENITAL, NEONATAL, INFANTILE, CHILDHOOD, JUVENILE, ADULT)

# The engine compares ages on seven bins; ``UPPER_YEARS[i]`` is the (exclusive) upper age of bin i.
BINS: tuple[str, ...] = ("antenatal", "neonatal", "infantile", "childhood", "juvenile", "young adult", "later adult")
UPPER_YEARS: tuple[float, ...] = (0.0, 28 / 365.25, 1.0, 5.0, 16.0, 40.0, math.inf)

# The bins of each HPO onset term (as bit masks over BINS; descendants inherit their nearest listed ancestor's).
TERM_BINS: dict[str, int] = {
    ANTENATAL: 0b0000001,
    CONGENITAL: 0b0000010,
    NEONATAL: 0b0000010,
    INFANTILE: 0b0000100,
    PEDIATRIC: 0b0011110,
    CHILDHOOD: 0b0001000,
    JUVENILE: 0b0010000,
    ADULT: 0b1100000,
    YOUNG_ADULT: 0b0100000,
    MIDDLE_AGE: 0b1000000,
    LATE: 0b1000000,
}

# A representative age (years) of each onset term, for statistics over ages (age at onset, diagnostic delay).
REPRESENTATIVE_YEARS: dict[str, float] = {
    ANTENATAL: 0.0, EMBRYONAL: 0.0, FETAL: 0.0, CONGENITAL: 0.0, NEONATAL: 0.04, INFANTILE: 0.5, PEDIATRIC: 6.0,
    CHILDHOOD: 5.0, JUVENILE: 10.0, ADULT: 35.0, YOUNG_ADULT: 25.0, MIDDLE_AGE: 50.0, LATE: 65.0,
}

_ISO_DURATION = re.compile(r"^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?$")


def parse_iso_age(text: str) -> float | None:
    """ISO 8601 duration (P3Y6M, P10D) -> age in years; None if it is not one."""
    m = _ISO_DURATION.match(text.strip().upper())
    if not m or not any(m.groups()):
        return None
    y, mo, w, d = (float(g) if g else 0.0 for g in m.groups())
    return y + mo / 12.0 + w * 7 / 365.25 + d / 365.25


def age_bin(years: float) -> int:
    """The index in :data:`BINS` of an age in years (negative: antenatal)."""
    if years < 0:
        return 0
    return next(i for i, upper in enumerate(UPPER_YEARS) if i > 0 and years < upper)


@cache
def year_bins() -> tuple[str, ...]:
    """Labels of the age ranges a cohort dashboard counts (``<1``, ``1-4``, ``5-15``, ``16-39``, ``>=40``): the
    engine's bins, with those under one year merged, in whole years."""
    edges = [int(u) for u in UPPER_YEARS if 1 <= u < math.inf]
    return (f"<{edges[0]}", *(f"{a}-{b - 1}" for a, b in itertools.pairwise(edges)), f">={edges[-1]}")


def year_bin(years: float) -> str:
    """The :func:`year_bins` label of an age in years."""
    labels = year_bins()
    edges = [u for u in UPPER_YEARS if 1 <= u < math.inf]
    return next((label for label, upper in zip(labels, edges) if years < upper), labels[-1])
