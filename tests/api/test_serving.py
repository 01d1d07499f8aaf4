"""What several worker processes of ``raredx serve`` rely on: the workers setting, the settings handed to them as
variables, uploads kept where any worker finds them, and caches memory-mapped read-only."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from raredx.app import KeptUploads, store_upload
from raredx.cli import app
from raredx.config import Settings, cpu_count
from raredx.kb import atomic_save_npz, load_npz
from raredx.registry import Actor
from raredx.registry.errors import NotFoundError


def test_workers_default_to_the_cores_and_come_from_the_option_or_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAREDX_WORKERS", raising=False)
    assert Settings().workers == cpu_count() >= 1
    monkeypatch.setenv("RAREDX_WORKERS", "3")
    assert Settings().workers == 3
    assert Settings.model_validate({"workers": 5}).workers == 5
    with pytest.raises(ValidationError):
        Settings(workers=0)


def test_serve_has_a_workers_option() -> None:
    out = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}).output
    assert "--workers" in out and "one per core" in out
    bad = CliRunner().invoke(app, ["serve", "--workers", "0"])
    assert bad.exit_code == 2


def test_settings_pass_to_workers_as_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    given = Settings(registry_dir=tmp_path, demo=True, workers=2, token_minutes=5)
    env = given.environment()
    assert env["RAREDX_DEMO"] == "true" and env["RAREDX_WORKERS"] == "2" and "RAREDX_DATABASE_URL" not in env
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert Settings() == given


def _upload(tmp_path: Path, name: str = "case.json") -> Path:
    source = tmp_path / "source.json"
    source.write_text('{"id": "x"}')
    with source.open("rb") as fh:
        return store_upload(fh, name, "application/json", max_mb=1)


def test_an_upload_kept_by_one_worker_is_taken_at_another_once(tmp_path: Path) -> None:
    alice, bob = Actor("alice", "clinician"), Actor("bob", "clinician")
    one, other = KeptUploads(tmp_path / "uploads"), KeptUploads(tmp_path / "uploads")  # two processes, one folder
    token = one.keep(_upload(tmp_path), alice)
    with pytest.raises(NotFoundError):
        other.take(token, bob)  # not another user's
    path = other.take(token, alice)
    assert path.name == "case.json" and path.read_text() == '{"id": "x"}'
    with pytest.raises(NotFoundError):
        one.take(token, alice)  # once
    for bad in ("../../etc", "", token + "x"):
        with pytest.raises(NotFoundError):
            one.take(bad, alice)


def test_kept_uploads_are_forgotten_after_an_hour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = KeptUploads(tmp_path / "uploads")
    token = kept.keep(_upload(tmp_path), Actor("alice", "clinician"))
    monkeypatch.setattr(KeptUploads, "KEEP_SECONDS", -1)
    with pytest.raises(NotFoundError):
        kept.take(token, Actor("alice", "clinician"))
    assert not list((tmp_path / "uploads").iterdir())


def test_npz_cache_is_memory_mapped_read_only(tmp_path: Path) -> None:
    arrays = {"a": np.arange(10, dtype=np.int32), "m": np.arange(12, dtype=np.float32).reshape(3, 4),
              "f": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "empty": np.zeros(0, np.int64),
              "b": np.array([True, False])}
    atomic_save_npz(tmp_path / "c.npz", arrays)
    got = load_npz(tmp_path / "c.npz")
    assert got.keys() == arrays.keys()
    for k, v in arrays.items():
        assert got[k].dtype == v.dtype and np.array_equal(got[k], v), k
    assert not got["m"].flags.writeable and isinstance(got["m"].base, memoryview | np.ndarray)
    with pytest.raises(ValueError, match="read-only"):
        got["a"][0] = 1


def test_compressed_npz_still_loads(tmp_path: Path) -> None:
    np.savez_compressed(tmp_path / "c.npz", a=np.arange(5))
    with zipfile.ZipFile(tmp_path / "c.npz") as zf:
        assert zf.infolist()[0].compress_type == zipfile.ZIP_DEFLATED
    assert load_npz(tmp_path / "c.npz")["a"].tolist() == [0, 1, 2, 3, 4]


def test_no_folder_for_kept_uploads_until_one_is_kept(tmp_path: Path) -> None:
    kept = KeptUploads(tmp_path / "uploads")
    kept.clear()
    with pytest.raises(NotFoundError):
        kept.take("A" * 22, Actor("alice", "clinician"))
    assert not (tmp_path / "uploads").exists()
