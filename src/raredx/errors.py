"""Exceptions raised by raredx.

Every error names what was wrong (a file, a field, a term) and says what to do about it.
The CLI prints ``str(error)`` and exits with ``exit_code``; the web layer maps ``http_status``.
"""

from __future__ import annotations


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
