"""The members of a ZIP archive, read one by one (for phenopackets and for clinical notes alike): a member that cannot
be read is one :class:`Problem` naming it, and the others are still read; an archive damaged as a whole is one
:class:`InputError`."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from raredx.errors import InputError, Message, Problem

SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")  # a local file header, an empty archive, a spanned one
# what reading one damaged member raises: a bad CRC (also when a header understates the size), a bad header or
# overlapping entries (BadZipFile), a broken deflate stream (zlib.error), a truncated one (EOFError), an unsupported
# method (NotImplementedError), an encrypted member (RuntimeError)
MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError)


def looks_like_zip(path: str | Path) -> bool:
    """The file starts with a ZIP signature (it may still be damaged or truncated: see :func:`zipfile.is_zipfile`)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) in SIGNATURES
    except OSError:
        return False


def is_zip(path: str | Path) -> bool:
    """A ZIP archive, or a file that begins like one (read as a ZIP, it says what is damaged)."""
    return zipfile.is_zipfile(path) or looks_like_zip(path)


def zip_members(path: Path, suffix: str, max_bytes: int,
                too_large: Callable[[str], Problem]) -> Iterator[tuple[str, bytes | Problem]]:
    """(``path!member``, its bytes) of each member whose name ends in ``suffix``, sorted by name (folders and macOS
    resource forks left out). One that cannot be read gives a Problem instead of its bytes, one whose header says it
    is larger than ``max_bytes`` the Problem ``too_large(source)``; at most ``max_bytes + 1`` bytes are read of the
    others (a member may hold more than its header says: the caller sees that it is too large)."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        detail = "its table of contents is missing" if str(exc) == "File is not a zip file" else str(exc)
        raise InputError(f"{path}: a damaged or truncated ZIP archive ({detail}); make the archive again, or "
                         "download it again.") from exc
    with zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            if info.is_dir() or not info.filename.endswith(suffix) or "/__MACOSX/" in f"/{info.filename}":
                continue
            source = f"{path}!{info.filename}"
            raw: bytes | Problem
            if info.file_size > max_bytes:
                raw = too_large(source)
            else:
                try:
                    with zf.open(info) as member:
                        raw = member.read(max_bytes + 1)
                except MEMBER_ERRORS as exc:
                    raw = Problem(source, "", Message(f"is damaged in the archive ({exc})", "import.damaged", error=str(exc)),
                                  solution=Message("make the ZIP again, or take this file out of it.", "import.damaged.fix"))
            yield source, raw
