"""`raredx data update`: newer releases are checked (built) before they replace the installed ones."""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path

import pytest
from conftest import TOY

from raredx.errors import KnowledgeBaseError
from raredx.kb import resolve_data_dir, update_releases


def test_update_from_a_directory_installs_and_is_used(tmp_path: Path) -> None:
    target = tmp_path / "releases"
    kb = update_releases(TOY, target=target, cache=tmp_path / "cache")
    assert len(kb.concepts) == 16
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in TOY.iterdir() if p.is_file())


def test_a_broken_release_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "releases"
    update_releases(TOY, target=target, cache=tmp_path / "cache")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    broken = tmp_path / "broken"
    shutil.copytree(TOY, broken)
    (broken / "phenotype.hpoa").write_text("not an annotation file\n")
    with pytest.raises(KnowledgeBaseError, match="phenotype.hpoa"):
        update_releases(broken, target=target, cache=tmp_path / "cache")
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before


def test_offline_download_fails_clearly_and_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise OSError("Network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    target = tmp_path / "releases"
    with pytest.raises(KnowledgeBaseError, match="Nothing was changed") as e:
        update_releases(target=target, cache=tmp_path / "cache")
    assert "purl.obolibrary.org" in str(e.value) and "--from DIR" in str(e.value)
    assert not target.exists()


def test_installed_release_is_preferred_to_the_bundled_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("RAREDX_DATA_DIR", raising=False)
    assert resolve_data_dir().name == "data"  # bundled
    update_releases(TOY, cache=tmp_path / "cache")
    assert resolve_data_dir() == tmp_path / "raredx" / "releases"


def test_update_derives_the_terms_of_orphanets_definitions(tmp_path: Path) -> None:
    from raredx.extract import DEFINITIONS_FILE, write_definition_terms
    from raredx.kb import find_source_files, sha256
    from raredx.kb._readers import read_definition_terms

    target = tmp_path / "releases"
    update_releases(TOY, target=target, cache=tmp_path / "cache", derive=write_definition_terms)
    derived = target / DEFINITIONS_FILE
    mined_from, _ = read_definition_terms(derived)
    assert mined_from == sha256(find_source_files(target)["orphanet_product1"])
    assert find_source_files(target)["orphanet_definitions"] == derived
