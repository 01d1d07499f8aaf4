"""Term lists: HPO ids on the command line or in a TSV file."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from raredx.errors import InputError

HPO_ID = re.compile(r"^HP:\d{7}$")
_TRUE = {"yes", "true", "1", "y", "+"}
_FALSE = {"no", "false", "0", "n", "-", ""}
_STATUS_EXCLUDED = {"excluded", "absent", "not", "negated"} | _FALSE - {""}
_STATUS_OBSERVED = {"observed", "present"} | _TRUE | {""}


def _normalise(token: str) -> str:
    return token.strip().upper().replace("_", ":")


def split_terms(values: list[str] | tuple[str, ...], where: str) -> list[str]:
    """Terms given as separate arguments and/or comma-separated; each must look like HP:0000000."""
    out: list[str] = []
    for v in values:
        for token in (p.strip() for p in v.split(",")):
            if not token:
                continue
            if not HPO_ID.match(_normalise(token)):
                raise InputError(f"{where}: {token!r} is not an HPO id; write it as HP: followed by 7 digits (HP:0001250).")
            out.append(_normalise(token))
    return out


def read_term_tsv(path: str | Path) -> tuple[list[str], list[str]]:
    """(observed, excluded) from a TSV whose first column is an HPO id. An optional header names a column
    ``excluded`` (true/false), ``observed`` (true/false) or ``status`` (observed/excluded); without a
    header the second column, if any, is the status. ``#`` comments and blank lines are skipped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; give a TSV of HPO ids (one per line).") from None
    observed: list[str] = []
    excluded: list[str] = []
    col, kind = 1, "status"
    first_row = True
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        row = next(csv.reader([line], delimiter="\t"))
        term = _normalise(row[0])
        if first_row and not HPO_ID.match(term):
            header = [c.strip().lower() for c in row]
            col, kind = next(((i, c) for i, c in enumerate(header) if c in ("excluded", "observed", "status")), (1, "status"))
            first_row = False
            continue
        first_row = False
        if not HPO_ID.match(term):
            raise InputError(f"{path}: line {lineno}: {row[0]!r} is not an HPO id (HP:0000000).")
        value = row[col].strip().lower() if len(row) > col else ""
        if not value:
            known, is_excluded = True, False  # a bare id is an observed term
        elif kind == "status":
            is_excluded = value in _STATUS_EXCLUDED if value not in _STATUS_OBSERVED else False
            known = value in _STATUS_EXCLUDED or value in _STATUS_OBSERVED
        else:
            known = value in _TRUE or value in _FALSE
            is_excluded = (value in _TRUE) == (kind == "excluded")
        if not known:
            raise InputError(
                f"{path}: line {lineno}: {kind} value {row[col]!r} of {term} is not understood "
                "(use observed/excluded, yes/no or true/false)."
            )
        (excluded if is_excluded else observed).append(term)
    if not observed and not excluded:
        raise InputError(f"{path}: no HPO terms found; put one HPO id per line.")
    return observed, excluded
