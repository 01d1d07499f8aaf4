"""The command line, run as ``python -m raredx`` in a subprocess over the toy knowledge base."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from conftest import BAD, PHENOPACKETS, REPO, TOY

from raredx import __version__
from raredx.io.output import TSV_COLUMNS


def one_text(stderr: str) -> str:
    """The error message with Rich's line wrapping undone."""
    return " ".join(stderr.split())


# -- diagnose -------------------------------------------------------------------------------------
def test_diagnose_json(run_cli):
    r = run_cli("diagnose", "HP:0001166", "HP:0001083", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert {"kb_version", "warnings", "diseases", "next_best_phenotypes"} <= set(data)
    assert data["kb_version"].startswith("hp 2026-06-06; hpoa 2026-06-06")
    assert len(data["diseases"]) == 10
    d = data["diseases"][0]
    assert {"rank", "ids", "name", "score", "probability", "evidence"} <= set(d)
    names = [d["name"] for d in data["diseases"][:2]]
    assert "Marfan syndrome" in names  # with only these two terms homocystinuria is as likely
    assert any("only 2 specific observed term(s)" in w for w in data["warnings"])
    assert "Traceback" not in r.stderr


def test_diagnose_json_with_options(run_cli):
    r = run_cli("diagnose", "HP:0001166,HP:0001083", "HP:0002616", "-x", "HP:0001250", "--sex", "female",
                "--onset", "P3Y", "--age", "P20Y", "--top", "3", "-f", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert len(data["diseases"]) == 3
    top = data["diseases"][0]
    assert top["name"] == "Marfan syndrome"
    excluded = [e for e in top["evidence"] + top["not_counted"] if e["excluded"]]
    assert [e["term_id"] for e in excluded] == ["HP:0001250"]


def test_diagnose_tsv(run_cli):
    r = run_cli("diagnose", "HP:0001166", "HP:0001083", "HP:0002616", "--format", "tsv", "--top", "4")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout), delimiter="\t"))
    assert tuple(rows[0]) == TSV_COLUMNS
    assert len(rows) == 5
    assert rows[1][1] == "1" and rows[1][3] == "Marfan syndrome" and rows[1][2].startswith("OMIM:154700")


def test_diagnose_table(run_cli):
    r = run_cli("diagnose", "HP:0001166", "HP:0001083", "HP:0002616", extra_env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "Differential diagnosis" in r.stdout
    assert "Marfan syndrome" in r.stdout and "OMIM:154700" in r.stdout
    assert "16 disease concepts ranked" in r.stdout
    assert "Traceback" not in r.stderr


def test_diagnose_a_phenopacket_file(run_cli):
    r = run_cli("diagnose", str(PHENOPACKETS / "marfan_case.json"), "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["case_id"] == "toy-marfan-1"
    assert data["diseases"][0]["name"] == "Marfan syndrome"


def test_diagnose_a_directory_of_phenopackets(run_cli):
    r = run_cli("diagnose", str(PHENOPACKETS), "--format", "json", "--top", "2")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert isinstance(data, list) and len(data) == 6
    assert "toy-focal-epilepsy-5" in {d["case_id"] for d in data}


def test_diagnose_a_term_tsv(run_cli, tmp_path):
    f = tmp_path / "patient.tsv"
    f.write_text("hpo_id\tstatus\nHP:0001166\tobserved\nHP:0001083\tobserved\nHP:0002616\tyes\nHP:0001250\tno\n")
    r = run_cli("diagnose", str(f), "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["case_id"] == "patient"
    assert data["diseases"][0]["name"] == "Marfan syndrome"
    first = data["diseases"][0]
    assert any(e["excluded"] and e["term_id"] == "HP:0001250" for e in first["evidence"] + first["not_counted"])


def test_diagnose_lenient_skips_unknown_ids(run_cli):
    r = run_cli("diagnose", "HP:0001166", "HP:0001083", "HP:9999999", "--lenient", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert any("HP:9999999" in w for w in json.loads(r.stdout)["warnings"])


# -- bad input: one clear error, no traceback --------------------------------------------------------
BAD_INPUTS = {
    "malformed-json": ([str(BAD / "broken.json")], ["broken.json", "malformed JSON", "line 6"]),
    "missing-type-id": ([str(BAD / "missing_type_id.json")], ["phenotypicFeatures[1].type.id"]),
    "unknown-id": (["HP:0001166", "HP:9999999"], ["HP:9999999", "unknown HPO term"]),
    "obsolete-id": (["HP:0008012"], ["HP:0008012", "obsolete", "HP:0000545"]),
    "not-an-id": (["HP:0001166", "arachnodactyly"], ["'arachnodactyly' is not an HPO id"]),
    "empty-phenotype": (["--exclude", "HP:0001250"], ["no input"]),
    "only-non-phenotype": (["HP:0003593"], ["no observed phenotypic abnormality"]),
    "empty-directory": (["{empty_dir}"], ["no phenopacket JSON files"]),
    "nonexistent-file": (["no/such/case.json"], ["no/such/case.json", "no such file"]),
    "bad-sex": (["HP:0001166", "--sex", "unknown"], ["--sex", "'unknown'"]),
    "bad-onset": (["HP:0001166", "--onset", "yesterday"], ["onset", "'yesterday'"]),
    "bad-format": (["HP:0001166", "--format", "xml"], ["--format", "'xml'", "table, json, tsv"]),
}


@pytest.fixture(scope="module")
def bad_input_runs(tmp_path_factory, _cli_cache_dir) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every BAD_INPUTS case run as its own ``python -m raredx diagnose`` process, all at once (for speed)."""
    empty_dir = tmp_path_factory.mktemp("no-phenopackets")
    (empty_dir / "notes.txt").write_text("nothing here")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(RAREDX_DATA_DIR=str(TOY), RAREDX_CACHE_DIR=str(_cli_cache_dir))
    procs = {}
    for name, (args, _) in BAD_INPUTS.items():
        argv = [sys.executable, "-m", "raredx", "diagnose", *(a.format(empty_dir=empty_dir) for a in args)]
        procs[name] = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return results


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_gives_one_error_and_no_traceback(bad_input_runs, case):
    r = bad_input_runs[case]
    assert "Traceback" not in r.stderr, r.stderr[-500:]
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stdout == ""
    assert r.stderr.startswith("error: ")
    assert r.stderr.count("error:") == 1
    text = one_text(r.stderr)
    for part in BAD_INPUTS[case][1]:
        assert part in text, (part, text)


def test_long_error_message_stays_on_one_line(bad_input_runs):
    r = bad_input_runs["unknown-id"]
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_missing_knowledge_base_is_exit_code_3(run_cli, tmp_path):
    r = run_cli("diagnose", "HP:0001166", "--data-dir", str(tmp_path / "nowhere"))
    assert r.returncode == 3
    assert r.stderr.startswith("error: ") and "Traceback" not in r.stderr
    assert "does not exist" in one_text(r.stderr)


@pytest.mark.parametrize(
    "args",
    [["diagnose", "HP:0001166", "--top", "0"], ["diagnose", "HP:0001166", "--frobnicate"], ["benchmark", "x"], []],
    ids=["top-0", "unknown-option", "missing-out", "no-arguments"],
)
def test_usage_error_is_not_a_traceback(run_cli, args):
    r = run_cli(*args)
    assert "Traceback" not in r.stderr, r.stderr[-300:]
    assert r.returncode == 2


# -- benchmark, data info, version ------------------------------------------------------------------
def test_benchmark(run_cli, tmp_path):
    out = tmp_path / "bench"
    r = run_cli("benchmark", str(PHENOPACKETS), "--out", str(out))
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_cases"] == 5 and summary["n_skipped"] == 1
    assert "seconds_wall_including_load" in summary
    assert json.loads(r.stdout)["n_cases"] == 5
    with open(out / "ranks.tsv") as fh:
        assert fh.readline().split("\t")[:3] == ["case_id", "true_id", "rank"]
    assert (out / "skipped.tsv").exists()


def test_benchmark_masked_with_limit(run_cli, tmp_path):
    out = tmp_path / "bench"
    r = run_cli("benchmark", str(PHENOPACKETS), "--out", str(out), "--mask-source-publication", "--limit", "3")
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["masked"] is True
    assert summary["n_cases"] + summary["n_skipped"] == 3


def test_benchmark_of_a_missing_directory(run_cli, tmp_path):
    r = run_cli("benchmark", str(tmp_path / "nothing"), "--out", str(tmp_path / "out"))
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and "Traceback" not in r.stderr


def test_data_info(run_cli):
    r = run_cli("data", "info", extra_env={"COLUMNS": "250"})
    assert r.returncode == 0, r.stderr
    for key, name in (("hp_obo", "hp.obo"), ("hpoa", "phenotype.hpoa"), ("genes", "genes_to_disease.txt"),
                      ("orphanet_product1", "en_product1.xml"), ("orphanet_product9", "en_product9_ages.xml"),
                      ("mondo_omim", "mondo_exactmatch_omim.sssom.tsv"),
                      ("mondo_orphanet", "mondo_exactmatch_orphanet.sssom.tsv")):
        assert key in r.stdout and name in r.stdout
    for version in ("2026-06-06", "2026-06-23", "2025-12-09", "2026-08-04"):
        assert version in r.stdout
    assert "16 disease concepts, 65 phenotype annotations (+6 read from disease names, +0 from Orphanet's definitions), 52 HPO terms" in r.stdout


def test_version(run_cli):
    r = run_cli("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"raredx {__version__}"
