"""Exceptions raised by raredx.

Every error names what was wrong (a file, a field, a term) and says what to do about it.
The CLI prints ``str(error)`` and exits with ``exit_code``; the web layer maps ``http_status``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "note"]


class RaredxError(Exception):
    """Base class of all raredx errors."""

    exit_code = 1
    http_status = 400


class InputError(RaredxError):
    """The user's input (a file, a term list, a JSON document) cannot be used."""

    exit_code = 2
    http_status = 422


class UnknownTermError(InputError):
    """An HPO id that is not in the ontology (or is obsolete without a replacement)."""

    def __init__(self, term_id: str, where: str | None = None) -> None:
        self.term_id = term_id
        place = f" in {where}" if where else ""
        super().__init__(
            f"unknown HPO term {term_id!r}{place}: it is not in the loaded HPO release. "
            "Check the id (format HP:0000118), or use --lenient to skip unknown terms."
        )


class KnowledgeBaseError(RaredxError):
    """A knowledge-base source file is missing or malformed."""

    exit_code = 3
    http_status = 500


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of one record of a batch input (a phenopacket in a ZIP, a row of a file), collected into a
    report instead of stopping at the first (gpsea's notepad issue): where (``record``, ``field``), what is wrong
    (``reason``), how bad (``severity``) and what to do about it (``solution``, when there is more to say than
    the reason does). The import report's JSON uses the same names."""

    record: str
    field: str
    reason: str
    severity: Severity = "error"
    solution: str = ""

    @property
    def source(self) -> str:  # the name the phenopacket readers and the benchmark runner use
        return self.record

    @property
    def message(self) -> str:  # ditto
        return self.reason

    def __str__(self) -> str:
        where = f"{self.record}: {self.field}" if self.field else self.record
        return f"{where}: {self.reason}" + (f"; {self.solution}" if self.solution else "")

    def to_dict(self) -> dict[str, str]:
        out = {"record": self.record, "field": self.field, "reason": self.reason, "severity": self.severity}
        return {**out, "solution": self.solution} if self.solution else out
