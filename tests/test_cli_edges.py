"""The command line's edges: each bad input is one line naming the file and what to do (no traceback), and the
exit code says whether anything was done. Run as ``python -m raredx`` processes over the toy knowledge base, all
at once for speed (as tests/test_cli.py does)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import PHENOPACKETS, REPO, TOY

VCF = Path(__file__).parent / "data" / "vcf"
GOOD = json.loads((PHENOPACKETS / "marfan_case.json").read_text())


def one_text(stderr: str) -> str:
    return " ".join(stderr.split())


def corrupt_member(archive: bytes, member: str) -> bytes:
    """``archive`` with a byte of ``member``'s compressed data flipped: its CRC no longer matches."""
    info = zipfile.ZipFile(io.BytesIO(archive)).getinfo(member)
    raw = bytearray(archive)
    raw[info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2] ^= 0xFF
    return bytes(raw)


def make_files(d: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("a", "b", "c"):
            zf.writestr(f"cases/{name}.json", json.dumps({**GOOD, "id": f"case-{name}"}))
    (d / "one-bad-member.zip").write_bytes(corrupt_member(buf.getvalue(), "cases/b.json"))
    (d / "truncated.zip").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (d / "zip-named.json").write_bytes(b"PK\x03\x04" + b"\x00garbage" * 20)
    (d / "empty.json").write_text("")
    lines = (VCF / "trio_vep.vcf").read_text().splitlines()
    data = [n for n, line in enumerate(lines) if line and not line.startswith("#")]
    cols = lines[data[1]].split("\t")
    cols[9] = "0/X"
    lines[data[1]] = "\t".join(cols)
    (d / "bad-gt.vcf").write_text("\n".join(lines) + "\n")


DIAGNOSE = {  # name: (arguments, exit code, parts of stderr, whether stdout has a result)
    "bad-gt": (["HP:0001166", "--vcf", "{d}/bad-gt.vcf"], 2, ["bad-gt.vcf", "line 11", "GT '0/X'", "not a genotype"], False),
    "zip-signature-json": (["{d}/zip-named.json"], 2, ["zip-named.json", "damaged or truncated ZIP"], False),
    "truncated-zip": (["{d}/truncated.zip"], 2, ["truncated.zip", "damaged or truncated ZIP", "again"], False),
    "empty-json": (["{d}/empty.json"], 2, ["empty.json", "is empty"], False),
    "unknown-gene": (["HP:0001166", "--genes", "NOTAGENE"], 2, ["'NOTAGENE'", "not a gene of any disease", "--lenient"], False),
    "close-gene": (["HP:0001166", "--genes", "FBN1,FBN"], 2, ["'FBN'", "did you mean FBN1?"], False),
    "unknown-gene-lenient": (["HP:0001166", "--genes", "NOTAGENE", "--lenient"], 0, ["warning:", "'NOTAGENE'", "left out"], True),
    "bad-member": (["{d}/one-bad-member.zip"], 2, ["one-bad-member.zip!cases/b.json", "damaged", "--lenient"], False),
    "bad-member-lenient": (["{d}/one-bad-member.zip", "--lenient", "--format", "tsv"], 0,
                           ["warning: skipped", "one-bad-member.zip!cases/b.json", "damaged"], True),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cli-edges")
    make_files(d)
    return d


@pytest.fixture(scope="module")
def env(_cli_cache_dir) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    out.update(RAREDX_DATA_DIR=str(TOY), RAREDX_CACHE_DIR=str(_cli_cache_dir))
    return out


@pytest.fixture(scope="module")
def diagnose_runs(files, env) -> dict[str, subprocess.CompletedProcess[str]]:
    procs = {name: subprocess.Popen([sys.executable, "-m", "raredx", "diagnose", *(a.format(d=files) for a in args)],
                                    cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, (args, *_) in DIAGNOSE.items()}
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        out[name] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return out


@pytest.mark.parametrize("case", list(DIAGNOSE))
def test_diagnose_edges(diagnose_runs, case: str) -> None:
    r = diagnose_runs[case]
    _, code, parts, has_result = DIAGNOSE[case]
    assert "Traceback" not in r.stderr and "UnboundLocalError" not in r.stderr, r.stderr[-800:]
    assert r.returncode == code, (r.returncode, r.stderr)
    assert bool(r.stdout.strip()) == has_result, r.stdout[:300]
    if code:
        assert r.stderr.startswith("error: ") and r.stderr.count("error:") == 1, r.stderr
    text = one_text(r.stderr)
    for part in parts:
        assert part in text, (part, text)
    if case == "bad-member-lenient":
        assert {row.split("\t")[0] for row in r.stdout.splitlines()[1:]} == {"case-a", "case-c"}
    if case == "bad-gt":
        assert "[E::" not in r.stderr  # not htslib's own message either


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "raredx", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)


def test_registry_import_exit_code_says_whether_anything_was_imported(files, env, tmp_path: Path) -> None:
    env = {**env, "RAREDX_REGISTRY_DIR": str(tmp_path / "reg")}
    r = cli(env, "registry", "import", str(files / "one-bad-member.zip"))
    assert r.returncode == 0, r.stderr
    assert "2 of 3 records imported, 1 rejected" in r.stdout and "cases/b.json" in r.stderr and "damaged" in r.stderr
    assert "Traceback" not in r.stderr and "BadZipFile" not in r.stderr
    r = cli(env, "registry", "import", str(files / "one-bad-member.zip"))  # every record is in the registry already
    assert r.returncode == 1 and "0 of 3 records imported" in r.stdout and "nothing was imported" in r.stderr
    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    shutil.copy(files / "empty.json", only_bad / "empty.json")
    r = cli(env, "registry", "import", str(only_bad))
    assert r.returncode == 1 and "is empty" in r.stderr and "nothing was imported" in r.stderr
    r = cli(env, "registry", "import", str(files / "truncated.zip"))
    assert r.returncode == 2 and "damaged or truncated ZIP" in one_text(r.stderr) and "Traceback" not in r.stderr


def test_user_list_on_an_empty_registry_says_how_to_add_one(env, tmp_path: Path) -> None:
    r = cli({**env, "RAREDX_REGISTRY_DIR": str(tmp_path / "reg")}, "user", "list")
    assert r.returncode == 0 and r.stdout == "" and "no users yet" in r.stderr and "raredx user add" in r.stderr


def test_registry_export_of_old_traversal_pseudonyms_stays_inside(env, tmp_path: Path) -> None:
    from raredx.registry import SYSTEM, Registry
    from registry.conftest import make_patient
    from sqlalchemy import text

    reg_dir = tmp_path / "reg"
    reg = Registry.open(f"sqlite:///{reg_dir / 'registry.sqlite3'}")
    for n, bad in enumerate(("../../outside", "/tmp/abs", "a/b")):
        pid = reg.create_patient(SYSTEM, make_patient(f"ok-{n}")).id
        with reg.engine.begin() as conn:
            conn.execute(text("UPDATE patients SET pseudonym = :p WHERE id = :id"), {"p": bad, "id": pid})
    reg.close()
    out = tmp_path / "exports" / "out"
    r = cli({**env, "RAREDX_REGISTRY_DIR": str(reg_dir)}, "registry", "export", str(out))
    assert r.returncode == 0 and "3 phenopackets written" in r.stdout, r.stderr
    assert sorted(p.name for p in (tmp_path / "exports").rglob("*") if p.is_file()) == ["a_b_3.json", "outside_1.json",
                                                                                        "tmp_abs_2.json"]
    r = cli({**env, "RAREDX_REGISTRY_DIR": str(reg_dir)}, "registry", "export", str(tmp_path / "exports" / "x.zip"))
    assert r.returncode == 0
    assert zipfile.ZipFile(tmp_path / "exports" / "x.zip").namelist() == [
        "phenopackets/outside_1.json", "phenopackets/tmp_abs_2.json", "phenopackets/a_b_3.json"]
