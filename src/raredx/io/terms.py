"""Term lists: HPO ids on the command line or in a TSV file."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from raredx.errors import InputError

HPO_ID = re.compile(r"^HP:\d{7}$")
_EXCLUDED = {"excluded", "absent", "no", "false", "0", "not", "negated", "-"}
_OBSERVED = {"observed", "present", "yes", "true", "1", "", "+"}


def split_terms(values: list[str] | tuple[str, ...], where: str) -> list[str]:
    """Terms given as separate arguments and/or comma-separated; each must look like HP:0000000."""
    out: list[str] = []
    for v in values:
        for tid in (p.strip() for p in v.split(",")):
            if not tid:
                continue
            tid = tid.upper().replace("_", ":")
            if not HPO_ID.match(tid):
                raise InputError(f"{where}: {tid!r} is not an HPO id; write it as HP: followed by 7 digits (HP:0001250).")
            out.append(tid)
    return out


def read_term_tsv(path: str | Path) -> tuple[list[str], list[str]]:
    """(observed, excluded) from a TSV whose first column is an HPO id and whose optional second
    column (or a column named ``excluded`` / ``status``) says observed or excluded. A header row and
    ``#`` comments are allowed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; give a TSV of HPO ids (one per line).") from None
    observed: list[str] = []
    excluded: list[str] = []
    status_col = 1
    rows = [r for r in csv.reader(text.splitlines(), delimiter="\t") if r and not r[0].lstrip().startswith("#")]
    for lineno, row in enumerate(rows, 1):
        first = row[0].strip().upper().replace("_", ":")
        if lineno == 1 and not HPO_ID.match(first):
            header = [c.strip().lower() for c in row]
            status_col = next((i for i, c in enumerate(header) if c in ("excluded", "status", "observed")), 1)
            continue
        if not HPO_ID.match(first):
            raise InputError(f"{path}: line {lineno}: {row[0]!r} is not an HPO id (HP:0000000).")
        status = row[status_col].strip().lower() if len(row) > status_col else ""
        if status in _EXCLUDED:
            excluded.append(first)
        elif status in _OBSERVED:
            observed.append(first)
        else:
            raise InputError(
                f"{path}: line {lineno}: status {row[status_col]!r} of {first} is neither observed nor excluded "
                "(use observed/excluded, yes/no or true/false)."
            )
    if not observed and not excluded:
        raise InputError(f"{path}: no HPO terms found; put one HPO id per line.")
    return observed, excluded
