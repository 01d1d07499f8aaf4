"""Phenopacket exports, the same for the command line and the API: a ZIP (``phenopackets/NAME.json`` members) or a
directory of ``NAME.json`` files, with the safe, one-per-patient names of
:meth:`raredx.registry.Registry.export_phenopacket_files`. A file export is written beside its target and moved into
place when complete: an error leaves nothing half-written. Like the registry, an export holds patient data, so its
files are readable by their owner only (0600; a new directory 0700)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from raredx.errors import InputError

MEMBER_DIR = "phenopackets"


def write_zip(files: Iterable[tuple[str, dict[str, Any]]], fileobj: IO[bytes]) -> int:
    """Write the (name, phenopacket) pairs into a ZIP as ``phenopackets/NAME``; how many."""
    n = 0
    with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, (name, doc) in enumerate(files, 1):
            zf.writestr(f"{MEMBER_DIR}/{_plain(name)}", json.dumps(doc, indent=2))
    return n


def write_export(files: Iterable[tuple[str, dict[str, Any]]], out: Path) -> int:
    """Write the (name, phenopacket) pairs to ``out``: a ZIP if it ends in ``.zip``, else a directory (made if
    missing; files of an earlier export with the same names are replaced). How many were written."""
    try:
        return _write_zip_file(files, out) if out.suffix.lower() == ".zip" else _write_directory(files, out)
    except OSError as exc:
        raise InputError(f"{out}: cannot write the export ({exc.strerror or exc}); choose a writable place.") from exc


def _write_zip_file(files: Iterable[tuple[str, dict[str, Any]]], out: Path) -> int:
    if out.is_dir():
        raise InputError(f"{out}: is a directory; give a .zip file name, or a directory name without .zip.")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            n = write_zip(files, fh)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


def _write_directory(files: Iterable[tuple[str, dict[str, Any]]], out: Path) -> int:
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: is a file; give a directory (or a name ending in .zip).")
    new = not out.exists()
    parent = out.parent if new else out
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))  # mode 0700
    try:
        n = 0
        for n, (name, doc) in enumerate(files, 1):
            path = staging / _plain(name)
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as fh:
                fh.write(json.dumps(doc, indent=2) + "\n")
        if new:
            staging.rename(out)
        else:
            for path in staging.iterdir():
                os.replace(path, out / path.name)
            staging.rmdir()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return n


def _plain(name: str) -> str:
    """``name`` if it is one plain file name (the registry makes them so; this keeps any other caller inside)."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise ValueError(f"{name!r} is not a plain file name")
    return name
