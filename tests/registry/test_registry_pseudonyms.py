"""Pseudonyms that would be paths: refused on every way in (schemas, import), and exports that stay inside their
directory or archive whatever a stored pseudonym holds (rows written before pseudonyms were checked)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from pydantic import ValidationError
from registry.conftest import PHENOPACKETS, make_patient
from sqlalchemy import text

from raredx.app import write_export, write_zip
from raredx.registry import SYSTEM, PatientCreate, PatientUpdate, Registry
from raredx.registry.phenopackets import export_name

TRAVERSAL = ("../../escaped", "/tmp/absolute", "a/b", "..", "back\\slash", "line\r\nbreak", "tab\there", "nul\x00",
             "bidi\u202eevil", "x" * 201, " padded")


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_schemas_refuse_pseudonyms_that_are_paths_or_hold_control_characters(bad: str) -> None:
    with pytest.raises(ValidationError, match="pseudonym"):
        PatientCreate(pseudonym=bad)
    with pytest.raises(ValidationError, match="pseudonym"):
        PatientUpdate(version=1, pseudonym=bad)


def test_ordinary_pseudonyms_are_fine() -> None:
    for good in ("RDX-000123", "PMID_123_Patient_1", "ПАЦ-0001", "site:42", "a.b", "two words"):
        assert PatientCreate(pseudonym=good).pseudonym == good


def test_import_rejects_traversal_ids_naming_record_and_field(registry: Registry, tmp_path: Path) -> None:
    good = json.loads((PHENOPACKETS / "marfan_case.json").read_text())
    bad_ids = [b for b in TRAVERSAL if b == b.strip()]  # an import trims the id (' padded' is 'padded')
    archive = tmp_path / "cases.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("good.json", json.dumps(good))
        for n, bad in enumerate(bad_ids):
            zf.writestr(f"bad{n:02d}.json", json.dumps({**good, "id": bad}))
    report = registry.import_phenopackets(SYSTEM, archive)
    assert (report.imported, report.rejected) == (1, len(bad_ids))
    refused = {i.record.split("!")[-1] for i in report.issues if i.field == "id" and "cannot be a pseudonym" in i.reason}
    assert refused == {f"bad{n:02d}.json" for n in range(len(bad_ids))}
    assert all(i.solution and "/" in i.solution for i in report.issues if i.field == "id")


def _old_rows(registry: Registry, pseudonyms: tuple[str, ...]) -> list[int]:
    """Patients whose pseudonyms were stored before they were checked (written past the schemas, as SQL)."""
    ids = []
    for n, bad in enumerate(pseudonyms):
        pid = registry.create_patient(SYSTEM, make_patient(f"ok-{n}")).id
        with registry.engine.begin() as conn:
            conn.execute(text("UPDATE patients SET pseudonym = :p WHERE id = :id"), {"p": bad, "id": pid})
        ids.append(pid)
    return ids


OLD = ("../../escaped", "/tmp/absolute", "a/b", "..", "line\r\nbreak", "nul-less\x7f", "Same", "same", "same/")


def test_exports_stay_inside_their_directory_and_archive(registry: Registry, tmp_path: Path) -> None:
    ids = _old_rows(registry, OLD)
    base = tmp_path / "exports"
    out = base / "deep" / "export"
    assert write_export(registry.export_phenopacket_files(SYSTEM), out) == len(OLD)
    written = sorted(p for p in base.rglob("*") if p.is_file())
    assert len(written) == len(OLD) and all(p.parent == out for p in written)  # nothing outside, nothing lost
    assert len({p.name.lower() for p in written}) == len(OLD)  # apart also where case is ignored
    assert (out / f"same_{ids[-1]}.json").is_file() and (out / f"line_break_{ids[4]}.json").is_file()
    back = {json.loads(p.read_text())["id"] for p in written}
    assert back == set(OLD)  # the documents keep the pseudonym as stored
    again = write_export(registry.export_phenopacket_files(SYSTEM), out)  # the same names are replaced
    assert again == len(OLD) and len(list(out.iterdir())) == len(OLD)

    buf = io.BytesIO()
    assert write_zip(registry.export_phenopacket_files(SYSTEM), buf) == len(OLD)
    names = zipfile.ZipFile(io.BytesIO(buf.getvalue())).namelist()
    assert len(set(names)) == len(OLD)
    for name in names:
        folder, _, file = name.partition("/")
        assert folder == "phenopackets" and file and "/" not in file and "\\" not in file and ".." not in file
        assert file == Path(file).name and not file.startswith(".") and file.isprintable()
    zpath = base / "out.zip"
    assert write_export(registry.export_phenopacket_files(SYSTEM), zpath) == len(OLD)
    assert zipfile.ZipFile(zpath).namelist() == names and not list(base.glob(".out.zip*"))


def test_a_failed_export_leaves_nothing_half_written(registry: Registry, tmp_path: Path) -> None:
    _old_rows(registry, ("a", "b"))

    def failing():  # type: ignore[no-untyped-def]
        files = registry.export_phenopacket_files(SYSTEM)
        yield next(files)
        raise RuntimeError("the database went away")

    base = tmp_path / "exports"
    base.mkdir()
    for out in (base / "dir", base / "x.zip"):
        with pytest.raises(RuntimeError):
            write_export(failing(), out)
        assert not out.exists()
    assert list(base.iterdir()) == []


def test_export_names() -> None:
    assert export_name(3, "RDX-1") == "RDX-1_3.json"
    assert export_name(3, "../../x") == "x_3.json"
    assert export_name(3, "..") == "patient_3.json"
    assert export_name(3, "ПАЦ-1") == "ПАЦ-1_3.json"
    assert len(export_name(3, "\U00020000" * 200).encode()) <= 120
