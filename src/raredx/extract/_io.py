"""Reading clinical text files: UTF-8 only, with errors that say what to do."""

from __future__ import annotations

import sys
from pathlib import Path

from raredx.errors import InputError

MAX_TEXT_BYTES = 50 * 1024 * 1024


def decode_text(raw: bytes, source: str) -> str:
    """The text of ``raw`` (a UTF-8 BOM is dropped); :class:`InputError` naming ``source`` when it is
    empty, binary or not UTF-8."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise InputError(f"{source}: the text is empty; give a file with the clinical description in it.")
    if b"\x00" in raw[:8192]:
        raise InputError(f"{source}: this is a binary file, not text; save the note as plain UTF-8 text (.txt).")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: not UTF-8 text (byte {exc.start}); re-save it as UTF-8, e.g. "
            f"`iconv -f cp1251 -t utf-8 {source} > note.txt` for a Windows-1251 Russian file."
        ) from exc


def read_text(path: str | Path) -> str:
    """The UTF-8 text of a file, or of standard input for ``-``."""
    if str(path) == "-":
        return decode_text(sys.stdin.buffer.read(), "standard input")
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file; give a UTF-8 text file, a directory of .txt files, or - for stdin.")
    if p.stat().st_size > MAX_TEXT_BYTES:
        raise InputError(f"{p}: larger than {MAX_TEXT_BYTES >> 20} MiB; split it into one file per patient.")
    return decode_text(p.read_bytes(), str(p))


def expand_inputs(paths: list[str]) -> list[str]:
    """Files to read: a directory stands for every ``*.txt`` in it (sorted); ``-`` is standard input."""
    out: list[str] = []
    for p in paths:
        if p != "-" and Path(p).is_dir():
            files = sorted(str(f) for f in Path(p).glob("*.txt") if f.is_file())
            if not files:
                raise InputError(f"{p}: a directory without .txt files; put the notes there as UTF-8 .txt files.")
            out.extend(files)
        else:
            out.append(p)
    return out
