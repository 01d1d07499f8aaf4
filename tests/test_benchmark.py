"""The benchmark runner on the toy phenopackets."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from conftest import BAD, PHENOPACKETS

from raredx.benchmark import BenchmarkOptions, CaseRank, pessimistic_rank, run_benchmark, summarise

REQUIRED_KEYS = {
    "n_cases", "n_skipped", "top1", "top3", "top10", "mrr", "median_rank", "seconds_per_case_median",
    "seconds_total", "kb_version",
}
RANKS_HEADER = ["case_id", "true_id", "rank", "n_observed", "n_excluded", "seconds", "probability", "top1_probability",
                "subset"]


def read_tsv(path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


# -- pessimistic rank -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "scores, truth, rank",
    [
        ([3, 5, 5, 5, 1], 1, 3),  # tied with two others: counted behind both
        ([3, 5, 5, 5, 1], 2, 3),
        ([3, 5, 5, 5, 1], 0, 4),
        ([3, 5, 5, 5, 1], 4, 5),
        ([9, 5, 5, 5, 1], 0, 1),
        ([2, 2, 2, 2], 3, 4),
        ([7.0], 0, 1),
    ],
)
def test_pessimistic_rank(scores, truth, rank):
    assert pessimistic_rank(np.array(scores, dtype=float), truth) == rank


# -- run_benchmark ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bench(toy_engine, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    summary = run_benchmark(toy_engine, PHENOPACKETS, out)
    return summary, out


def test_summary_has_the_required_keys_and_is_written(bench, toy_kb):
    summary, out = bench
    assert REQUIRED_KEYS <= set(summary)
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(summary))
    assert summary["kb_version"] == toy_kb.version
    assert summary["n_cases"] == 5
    assert summary["masked"] is False


def test_case_not_in_the_kb_is_skipped(bench):
    summary, out = bench
    assert summary["n_skipped"] == 1
    assert summary["n_skipped_not_in_kb"] == 1 and summary["n_skipped_unusable"] == 0
    (row,) = read_tsv(out / "skipped.tsv")
    assert row["source"].endswith("not_in_kb_case.json")
    assert "OMIM:129600" in row["reason"]


def test_ranks_tsv(bench):
    _, out = bench
    with open(out / "ranks.tsv") as fh:
        assert fh.readline().rstrip("\n").split("\t") == RANKS_HEADER
    rows = {r["case_id"]: r for r in read_tsv(out / "ranks.tsv")}
    assert set(rows) == {
        "toy-marfan-1", "toy-marfan-orpha-2", "PMID_11111111_Individual_1", "toy-focal-epilepsy-5", "toy-deafness-6",
    }
    marfan = rows["toy-marfan-1"]
    assert marfan["true_id"] == "OMIM:154700" and marfan["rank"] == "1"
    assert (marfan["n_observed"], marfan["n_excluded"]) == ("4", "1")
    assert rows["toy-marfan-orpha-2"]["true_id"] == "ORPHA:558"  # truth given as the Orphanet id
    assert rows["toy-marfan-orpha-2"]["rank"] == "1"
    assert rows["toy-focal-epilepsy-5"]["true_id"] == "OMIM:100001"
    assert (rows["toy-focal-epilepsy-5"]["n_observed"], rows["toy-focal-epilepsy-5"]["n_excluded"]) == ("2", "1")
    for r in rows.values():
        assert int(r["rank"]) >= 1 and float(r["seconds"]) >= 0 and 0 < float(r["probability"]) <= 1


def test_summary_statistics_match_ranks(bench):
    summary, out = bench
    ranks = np.array([int(r["rank"]) for r in read_tsv(out / "ranks.tsv")])
    assert summary["top1"] == pytest.approx(np.mean(ranks <= 1), abs=1e-4)
    assert summary["top3"] == pytest.approx(np.mean(ranks <= 3), abs=1e-4)
    assert summary["top10"] == pytest.approx(np.mean(ranks <= 10), abs=1e-4)
    assert summary["mrr"] == pytest.approx(np.mean(1 / ranks), abs=1e-4)
    assert summary["median_rank"] == float(np.median(ranks))
    assert summary["top1"] <= summary["top3"] <= summary["top10"] <= 1
    assert summary["seconds_per_case_median"] >= 0 and summary["seconds_total"] >= 0


def test_unusable_phenopackets_are_counted_as_skipped(toy_engine, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(PHENOPACKETS, mixed)
    shutil.copytree(BAD, mixed / "bad")
    summary = run_benchmark(toy_engine, mixed, tmp_path / "out")
    assert summary["n_cases"] == 5
    assert summary["n_skipped_unusable"] == 2  # broken JSON + missing type.id
    assert summary["n_skipped"] == 3
    reasons = {r["source"].rsplit("/", 1)[-1]: r["reason"] for r in read_tsv(tmp_path / "out" / "skipped.tsv")}
    assert "line 6" in reasons["broken.json"]
    assert "phenotypicFeatures[1].type.id" in reasons["missing_type_id.json"]


def test_masking_the_source_publication_lowers_the_truth(toy_engine, tmp_path):
    from raredx.engine import DiagnosisEngine

    # the toy disease's name ("tall stature-arachnodactyly") would otherwise still match after masking
    toy_engine = DiagnosisEngine(toy_engine.kb, toy_engine.params.with_(name_frequency=0.0), cache=False)
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(PHENOPACKETS / "toy_tall_pmid_case.json", one)
    plain = run_benchmark(toy_engine, one, tmp_path / "plain")
    masked = run_benchmark(toy_engine, one, tmp_path / "masked", BenchmarkOptions(mask_source=True))
    assert masked["masked"] is True
    (p,), (m,) = read_tsv(tmp_path / "plain" / "ranks.tsv"), read_tsv(tmp_path / "masked" / "ranks.tsv")
    assert int(m["rank"]) > int(p["rank"])
    assert float(m["probability"]) < float(p["probability"])
    assert masked["mrr"] < plain["mrr"]


def test_limit_and_progress_callback(toy_engine, tmp_path):
    seen: list[int] = []
    summary = run_benchmark(toy_engine, PHENOPACKETS, tmp_path, BenchmarkOptions(limit=2), on_case=seen.append)
    assert seen == [0, 1]
    assert summary["n_cases"] + summary["n_skipped"] == 2


def test_cases_are_split_into_cited_and_unseen(bench):
    summary, out = bench
    rows = {r["case_id"]: r for r in read_tsv(out / "ranks.tsv")}
    # their PMIDs are references of their disease's annotations: the knowledge base has read about these patients
    cited = {"PMID_11111111_Individual_1", "toy-marfan-1", "toy-focal-epilepsy-5"}
    assert {k for k, r in rows.items() if r["subset"] == "cited"} == cited
    assert {r["subset"] for k, r in rows.items() if k not in cited} == {"unseen"}
    subsets = summary["subsets"]
    assert set(subsets) == {"cited", "unseen"}
    assert (subsets["cited"]["n_cases"], subsets["unseen"]["n_cases"]) == (3, 2)
    for s in subsets.values():
        assert {"top1", "top10", "mrr", "top1_calibration_error"} <= set(s)
    unseen = [int(r["rank"]) for r in rows.values() if r["subset"] == "unseen"]
    assert subsets["unseen"]["top1"] == pytest.approx(np.mean(np.array(unseen) <= 1), abs=1e-4)


def test_reliability_diagram_is_written(bench):
    _, out = bench
    png = (out / "calibration.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_summarise_without_cases():
    s = summarise([], 0.5)
    assert s["n_cases"] == 0 and s["top1"] == 0.0 and s["mrr"] == 0.0
    assert s["median_rank"] is None and s["seconds_per_case_median"] is None
    assert s["seconds_total"] == 0.5


def test_summarise_values():
    results = [CaseRank(f"c{i}", "OMIM:1", rank, 3, 0, 0.01 * (i + 1), 0.5, 0.6) for i, rank in enumerate([1, 2, 4, 20])]
    s = summarise(results, 1.0)
    assert (s["top1"], s["top3"], s["top5"], s["top10"]) == (0.25, 0.5, 0.75, 0.75)
    assert s["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 4 + 1 / 20) / 4, abs=1e-4)
    assert s["median_rank"] == 3.0
    assert s["seconds_per_case_median"] == pytest.approx(0.025)
