"""Exceptions raised by raredx.

Every error names what was wrong (a file, a field, a term) and says what to do about it.
The CLI prints ``str(error)`` and exits with ``exit_code``; the web layer maps ``http_status``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "note"]


class Message(str):
    """A message for the user: its English text, which is what every caller gets (it is a ``str``: the CLI, the
    logs, the JSON of a report or a differential show it), with a catalogue key and the parameters by which the
    workbench shows it in the user's language (``msg.<key>`` in ``raredx/web/locales/*.json``, ``{name}``
    placeholders; there the web may also name its own options where the text names a CLI flag).

    >>> m = Message("only 2 specific observed term(s)", "engine.few_terms", n=2)
    >>> (m == "only 2 specific observed term(s)", m.key, m.params)
    (True, 'engine.few_terms', {'n': 2})
    """

    key: str
    params: dict[str, Any]

    def __new__(cls, text: str, key: str = "", /, **params: Any) -> Message:
        self = super().__new__(cls, text)
        self.key, self.params = key, params
        return self


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

    def __init__(self, term_id: str, where: str | Message | None = None) -> None:
        self.term_id = term_id
        place = f" in {where}" if where else ""
        super().__init__(Message(
            f"unknown HPO term {term_id!r}{place}: it is not in the loaded HPO release. "
            "Check the id (format HP:0000118), or use --lenient to skip unknown terms.",
            "unknown_term_in" if where else "unknown_term", term=term_id, where=where or "",
        ))


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
    reason: str  # often a Message, which the workbench translates (so is ``solution``)
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
