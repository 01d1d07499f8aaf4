"""A small, fast reader for the OBO 1.2 flat-file format as used by ``hp.obo``.

Only the tags raredx needs are kept. (hpo-toolkit reads the obographs JSON release; the
OBO release is what the HPO consortium and the shared data ship, so it is read here.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from raredx.errors import KnowledgeBaseError

_SYNONYM = re.compile(r'^"((?:[^"\\]|\\.)*)"\s+(EXACT|BROAD|NARROW|RELATED)')


@dataclass(slots=True)
class OboTerm:
    id: str
    name: str = ""
    parents: list[str] = field(default_factory=list)
    alt_ids: list[str] = field(default_factory=list)
    synonyms: list[str] = field(default_factory=list)
    obsolete: bool = False
    replaced_by: str | None = None
    consider: list[str] = field(default_factory=list)


@dataclass(slots=True)
class OboDocument:
    version: str
    terms: list[OboTerm]


def parse_obo(lines: Iterable[str], source: str = "hp.obo") -> OboDocument:
    """Parse OBO text lines into terms. Raises KnowledgeBaseError naming ``source`` if it is not OBO."""
    version = ""
    terms: list[OboTerm] = []
    current: OboTerm | None = None
    in_term = False
    saw_header = False
    for line in lines:
        line = line.rstrip("\n")
        if not line or line.startswith("!"):
            continue
        if line.startswith("["):
            if current is not None:
                terms.append(current)
            current = None
            in_term = line == "[Term]"
            continue
        tag, _, value = line.partition(": ")
        if not in_term:
            if tag == "data-version":
                version = value.strip()
            if tag == "format-version":
                saw_header = True
            continue
        value = _strip_comment(value)
        if tag == "id":
            current = OboTerm(id=value)
        elif current is None:
            continue
        elif tag == "name":
            current.name = value
        elif tag == "is_a":
            current.parents.append(value.split(" ", 1)[0])
        elif tag == "alt_id":
            current.alt_ids.append(value)
        elif tag == "synonym":
            m = _SYNONYM.match(value)
            if m:
                current.synonyms.append(m.group(1).replace('\\"', '"'))
        elif tag == "is_obsolete":
            current.obsolete = value.strip() == "true"
        elif tag == "replaced_by":
            current.replaced_by = value.strip()
        elif tag == "consider":
            current.consider.append(value.strip())
    if current is not None:
        terms.append(current)
    if not saw_header or not terms:
        raise KnowledgeBaseError(
            f"{source} is not an OBO ontology file (no 'format-version' header or no [Term] stanzas); "
            "point the loader at the official hp.obo release."
        )
    return OboDocument(version=version, terms=terms)


def _strip_comment(value: str) -> str:
    # OBO trailing comments start with " ! " outside quotes; names and ids never contain it.
    if " ! " in value and not value.startswith('"'):
        value = value.split(" ! ", 1)[0]
    return value.strip()
