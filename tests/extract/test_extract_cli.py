"""`raredx extract` and `raredx extract-eval` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from raredx.extract._eval import evaluate, read_corpus
from extract_fixtures import extract_cache, extractor  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parents[2]
RU_CORPUS = REPO / "tests" / "data" / "ru-corpus"


def _run(args: list[str], cache: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RAREDX_DATA_DIR"}
    env["RAREDX_CACHE_DIR"] = str(cache)
    env["XDG_DATA_HOME"] = str(cache / "no-updates")  # the bundled release, never an installed one
    return subprocess.run([sys.executable, "-m", "raredx", *args], cwd=REPO, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def notes(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("notes")
    (d / "a.txt").write_text("Seizures since infancy; no hearing loss.\n", encoding="utf-8")
    (d / "b.txt").write_text("Девочка 3 лет. Судорогами не страдает. Микроцефалия.", encoding="utf-8")
    return d


def test_extract_jsonl_one_object_per_file(notes, extractor, extract_cache) -> None:
    r = _run(["extract", str(notes), "--format", "jsonl"], extract_cache)
    assert r.returncode == 0, r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [Path(d["file"]).name for d in docs] == ["a.txt", "b.txt"]
    assert [d["lang"] for d in docs] == ["en", "ru"]
    for d in docs:
        text = Path(d["file"]).read_text(encoding="utf-8")
        for t in d["terms"]:
            assert {"id", "label", "excluded", "start", "end", "text"} <= set(t)
            assert text[t["start"] : t["end"]] == t["text"]
    assert {(t["id"], t["excluded"]) for t in docs[0]["terms"]} == {("HP:0001250", False), ("HP:0000365", True)}
    assert {(t["id"], t["excluded"]) for t in docs[1]["terms"]} == {("HP:0001250", True), ("HP:0000252", False)}


def test_extract_stdin_and_phenopacket(extract_cache) -> None:
    r = _run(["extract", "-", "--format", "phenopacket", "--lang", "en"], extract_cache,
             stdin="Infantile onset seizures. No scoliosis.")
    assert r.returncode == 0, r.stderr
    packet = json.loads(r.stdout)
    feats = {f["type"]["id"]: f for f in packet["phenotypicFeatures"]}
    assert feats["HP:0002650"]["excluded"] is True
    assert feats["HP:0001250"]["onset"]["ontologyClass"]["id"] == "HP:0003593"


def test_extract_table_and_bad_input(notes, extract_cache, tmp_path) -> None:
    r = _run(["extract", str(notes / "a.txt")], extract_cache)
    assert r.returncode == 0 and "HP:0001250" in r.stdout and "excluded" in r.stdout
    (tmp_path / "x.txt").write_bytes(b"")
    r = _run(["extract", str(tmp_path / "x.txt")], extract_cache)
    assert r.returncode == 2 and "x.txt: the text is empty" in r.stderr and "Traceback" not in r.stderr


def test_extract_eval_prints_and_writes_a_summary(extract_cache, tmp_path) -> None:
    out = tmp_path / "summary.json"
    r = _run(["extract-eval", str(RU_CORPUS), "--out", str(out)], extract_cache)
    assert r.returncode == 0, r.stderr
    brief = json.loads(r.stdout)
    assert brief["documents"] == 20 and 0 <= brief["f1"] <= 1
    assert len(json.loads(out.read_text())["per_document"]) == 20


@pytest.mark.parametrize(("corpus", "floor"), [(RU_CORPUS, 0.7), (REPO / "tests" / "data" / "en-corpus", 0.8)])
def test_self_made_corpus_quality(extractor, corpus, floor) -> None:
    """A regression guard on the project's own small corpora (self-made; see docs/extraction.md)."""
    result = evaluate(extractor, read_corpus(corpus))
    assert result.f1 >= floor, result.summary()
