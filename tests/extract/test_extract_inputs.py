"""Reading notes: empty, binary and non-UTF-8 input fail with a clear error; the Russian lexicon file."""

from __future__ import annotations

from pathlib import Path

import pytest

from raredx.errors import InputError
from raredx.extract import read_text
from raredx.extract._io import expand_inputs
from raredx.extract._lexicon import default_ru_lexicon, read_ru_lexicon
from extract_fixtures import extract_cache  # noqa: F401 - fixtures

DATA = Path(__file__).parent / "data"


def test_reads_utf8_with_bom(tmp_path) -> None:
    p = tmp_path / "note.txt"
    p.write_bytes(b"\xef\xbb\xbf" + "судороги".encode())
    assert read_text(p) == "судороги"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"  \n\t ", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("Судороги".encode("cp1251"), "not UTF-8.*iconv"),
    ],
)
def test_unusable_input_names_the_file_and_says_what_to_do(tmp_path, content, message) -> None:
    p = tmp_path / "note.txt"
    p.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        read_text(p)
    assert str(p) in str(err.value)


def test_missing_file_and_empty_directory(tmp_path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_text(tmp_path / "nope.txt")
    with pytest.raises(InputError, match="without .txt files"):
        expand_inputs([str(tmp_path)])
    (tmp_path / "b.txt").write_text("x")
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "c.md").write_text("x")
    assert [Path(p).name for p in expand_inputs([str(tmp_path), "-"])[:2]] == ["a.txt", "b.txt"]


def test_lexicon_validation_reports_every_bad_row(tmp_path) -> None:
    p = tmp_path / "lex.tsv"
    p.write_text(
        (DATA / "seed_ru.tsv").read_text(encoding="utf-8")
        + "HP:9999999\tнечто\t\traredx-draft-2026-11\tdraft\n"
        + "HP:0001250\tсудороги\t\traredx-draft-2026-11\tdraft\n"
        + "HP:0000252\t\t\traredx-draft-2026-11\tdraft\n"
        + "HP:0000316\tгипертелоризм\n",
        encoding="utf-8",
    )
    entries, problems = read_ru_lexicon(p, known=lambda i: i != "HP:9999999")
    assert len(entries) == len(read_ru_lexicon(DATA / "seed_ru.tsv")[0])
    assert len(problems) == 4
    assert any("HP:9999999" in m and "not an HPO id" in m for m in problems)
    assert any("already appears" in m for m in problems)
    assert any("empty label_ru" in m for m in problems)
    assert any("2 columns" in m for m in problems)
    assert all(m.startswith(f"{p}:") for m in problems)


@pytest.mark.kb
def test_shipped_lexicon_is_valid(extract_cache) -> None:
    from raredx.kb import bundled_data_dir, load_knowledge_base

    ontology = load_knowledge_base(bundled_data_dir(), cache=extract_cache).ontology
    entries, problems = read_ru_lexicon(default_ru_lexicon(), known=lambda i: i in ontology)
    assert problems == []
    assert len(entries) >= 5000
    assert {e.status for e in entries} == {"draft", "reviewed"}  # every row says whether a clinician checked it
