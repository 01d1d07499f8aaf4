"""Notes in a ZIP and notes that cannot be read: one bad note stops `raredx extract` with a message naming it, and
with --lenient it is reported and the others are read."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from extract_fixtures import extract_cache  # noqa: F401 - fixtures
from test_extract_cli import _run

from raredx.errors import InputError, Problem
from raredx.extract._io import read_texts
from test_cli_edges import corrupt_member


@pytest.fixture
def notes_zip(tmp_path: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("notes/a.txt", "Seizures since infancy; no hearing loss. " * 5)
        zf.writestr("notes/b.txt", "Microcephaly. " * 20)
        zf.writestr("notes/c.txt", "Судороги".encode("cp1251"))
        zf.writestr("notes/readme.md", "not a note")
    path = tmp_path / "notes.zip"
    path.write_bytes(corrupt_member(buf.getvalue(), "notes/b.txt"))
    return path


def test_read_texts_strict_and_lenient(notes_zip: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"notes\.zip!notes/b\.txt: is damaged in the archive"):
        read_texts([str(notes_zip)])
    problems: list[Problem] = []
    texts = read_texts([str(notes_zip)], problems)
    assert [name.split("!")[1] for name, _ in texts] == ["notes/a.txt"]
    assert [(p.record.split("!")[1], p.reason.split(" (")[0]) for p in problems] == [
        ("notes/b.txt", "is damaged in the archive"), ("notes/c.txt", "not UTF-8 text")]
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(InputError, match="none of the notes can be read"):
        read_texts([str(tmp_path / "empty.txt")], [])


def test_extract_a_zip_with_a_bad_note(notes_zip: Path, extract_cache) -> None:  # noqa: F811
    r = _run(["extract", str(notes_zip), "--format", "jsonl"], extract_cache)
    assert r.returncode == 2 and r.stdout == "" and "notes/b.txt: is damaged" in r.stderr and "Traceback" not in r.stderr
    r = _run(["extract", str(notes_zip), "--format", "jsonl", "--lenient"], extract_cache)
    assert r.returncode == 0, r.stderr
    assert [json.loads(line)["file"].split("!")[1] for line in r.stdout.splitlines()] == ["notes/a.txt"]
    assert "warning: skipped" in r.stderr and "notes/b.txt" in r.stderr and "notes/c.txt" in r.stderr
