"""Reading clinical text files: UTF-8 only, with errors that say what to do."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from raredx.errors import InputError, Problem
from raredx.io import is_zip, zip_members

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


def read_texts(paths: list[str], problems: list[Problem] | None = None) -> list[tuple[str, str]]:
    """(name, text) of every note ``paths`` stand for: files, directories (every ``*.txt`` in them), ZIPs (every
    ``*.txt`` member, named ``zip!member``) and ``-`` for standard input. A note that cannot be read raises
    :class:`InputError`; with ``problems`` it is appended there instead and the others are read (unless none can be)."""
    out: list[tuple[str, str]] = []
    for name, text in _texts(expand_inputs(paths)):
        if isinstance(text, InputError):
            if problems is None:
                raise text
            problems.append(Problem(name, "", str(text).removeprefix(f"{name}: ")))
        else:
            out.append((name, text))
    if problems and not out:
        raise InputError(f"none of the notes can be read; the first: {problems[0]}")
    return out


def _texts(files: list[str]) -> Iterator[tuple[str, str | InputError]]:
    for f in files:
        if f != "-" and Path(f).is_file() and is_zip(f):
            yield from _zip_texts(Path(f))
            continue
        try:
            text = read_text(f)
        except InputError as exc:
            yield f, exc
        else:
            yield f, text


def _zip_texts(path: Path) -> Iterator[tuple[str, str | InputError]]:
    try:
        members = list(zip_members(path, ".txt", MAX_TEXT_BYTES, _too_large))
    except InputError as exc:
        yield str(path), exc
        return
    if not members:
        yield str(path), InputError(f"{path}: a ZIP without .txt files; put the notes in it as UTF-8 .txt files.")
    for name, raw in members:
        if isinstance(raw, Problem):
            yield name, InputError(str(raw))
        elif len(raw) > MAX_TEXT_BYTES:  # more than its header said
            yield name, InputError(str(_too_large(name)))
        else:
            yield name, _decoded(raw, name)


def _decoded(raw: bytes, name: str) -> str | InputError:
    try:
        return decode_text(raw, name)
    except InputError as exc:
        return exc


def _too_large(source: str) -> Problem:
    return Problem(source, "", f"larger than {MAX_TEXT_BYTES >> 20} MiB", solution="split it into one file per patient.")
