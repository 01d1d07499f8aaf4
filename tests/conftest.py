"""Shared fixtures: the toy knowledge base (tests/data/toy), an engine over it, and CLI helpers.

Everything runs offline on the hand-written toy release files; see tests/data/README.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from raredx.engine import DiagnosisEngine
from raredx.kb import KnowledgeBase, load_knowledge_base

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
DATA = TESTS / "data"
TOY = DATA / "toy"
PHENOPACKETS = DATA / "phenopackets"
BAD = DATA / "bad"


@pytest.fixture(scope="session", autouse=True)
def _isolated_user_dirs(tmp_path_factory):
    """Never read or write the real user cache / installed releases while testing."""
    base = tmp_path_factory.mktemp("user-dirs")
    saved = {k: os.environ.get(k) for k in ("RAREDX_CACHE_DIR", "XDG_CACHE_HOME", "XDG_DATA_HOME", "RAREDX_DATA_DIR")}
    os.environ["RAREDX_CACHE_DIR"] = str(base / "cache")
    os.environ["XDG_CACHE_HOME"] = str(base / "xdg-cache")
    os.environ["XDG_DATA_HOME"] = str(base / "xdg-data")
    os.environ.pop("RAREDX_DATA_DIR", None)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def toy_kb(tmp_path_factory) -> KnowledgeBase:
    return load_knowledge_base(TOY, cache=tmp_path_factory.mktemp("kb-cache"))


@pytest.fixture(scope="session")
def toy_engine(toy_kb) -> DiagnosisEngine:
    return DiagnosisEngine(toy_kb, cache=False)


@pytest.fixture
def toy_copy(tmp_path) -> Path:
    """A writable copy of the toy release directory, for tests that break or change a file."""
    dest = tmp_path / "toy"
    shutil.copytree(TOY, dest)
    return dest


@pytest.fixture(scope="session")
def _cli_cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli-cache")


@pytest.fixture
def cli_env(monkeypatch, _cli_cache_dir) -> dict[str, str]:
    """Environment for CLI subprocesses: toy data, a temporary cache, no terminal width override."""
    monkeypatch.setenv("RAREDX_CACHE_DIR", str(_cli_cache_dir))
    monkeypatch.setenv("RAREDX_DATA_DIR", str(TOY))
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    return dict(os.environ)


@pytest.fixture
def run_cli(cli_env):
    """Run ``python -m raredx ARGS`` from the repository root; returns the CompletedProcess."""

    def run(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        env = {**cli_env, **(extra_env or {})}
        return subprocess.run(
            [sys.executable, "-m", "raredx", *args],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
        )

    return run


# -- helpers used by several test modules ---------------------------------------------------------
def concept_index(kb: KnowledgeBase, disease_id: str) -> int:
    c = kb.concept(disease_id)
    assert c is not None, f"{disease_id} is not in the toy knowledge base"
    return c.index


def annotation_rows(kb: KnowledgeBase, disease_id: str, term_id: str) -> np.ndarray:
    """Indices of the source annotation rows (not those read from the disease's name) of the concept
    holding ``disease_id`` for ``term_id``."""
    a = kb.annotations
    ci = concept_index(kb, disease_id)
    ti = kb.ontology.index(term_id)
    assert ti is not None, term_id
    return np.flatnonzero((a.concept == ci) & (a.term == ti) & ~a.from_name)
