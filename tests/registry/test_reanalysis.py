"""Re-analysis: the analysis history keeps every differential with its knowledge base; when the toy knowledge base
gains an annotation and a gene link, a re-analysis reports exactly the patients they change, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from raredx.core import RareDx
from raredx.errors import InputError
from raredx.reanalysis import compare, diagnose_patient, reanalyse
from raredx.registry import SYSTEM, PatientCreate, PatientUpdate, Registry
from raredx.registry.errors import PermissionDeniedError
from raredx.registry.schemas import AnalysisCreate, AnalysisRecord, AnalysisResult

from .conftest import actor

# the patients: C's hearing loss and congenital onset gain Geleophysic dysplasia 2 (rank 7 today) an annotation; E
# carries a TTN variant that the knowledge base gains a link for; D is E without the variant; B has Marfan syndrome
PATIENTS = {
    "B": (("HP:0001166", "HP:0001083", "HP:0002616"), (), True),
    "C": (("HP:0000365", "HP:0003577"), (), False),
    "D": (("HP:0001250", "HP:0001249"), (), False),
    "E": (("HP:0001250", "HP:0001249"), ("TTN",), False),
}


def gain_knowledge(toy: Path) -> None:
    """What a new release brings: hearing impairment in Geleophysic dysplasia 2, and TTN linked to a disease."""
    with open(toy / "phenotype.hpoa", "a", encoding="utf-8") as fh:
        fh.write("OMIM:614185\tGeleophysic dysplasia 2\t\tHP:0000365\tPMID:21683322\tPCS\t\t19/19\t\t\tP\t"
                 "HPO:raredx-tests[2026-12-02]\n")
    with open(toy / "genes_to_disease.txt", "a", encoding="utf-8") as fh:
        fh.write("NCBIGene:7273\tTTN\tMENDELIAN\tOMIM:100003\tftp://ftp.ncbi.nlm.nih.gov/gene/DATA/mim2gene_medgen\n")


def add_patients(registry: Registry) -> dict[str, int]:
    ids = {}
    for name, (terms, genes, solved) in PATIENTS.items():
        record = {"pseudonym": name, "phenotypic_features": [{"hpo_id": t} for t in terms],
                  "genetic_findings": [{"gene_symbol": g} for g in genes],
                  "diagnoses": [{"disease_id": "OMIM:154700", "status": "confirmed"}] if solved else []}
        ids[name] = registry.create_patient(SYSTEM, PatientCreate.model_validate(record)).id
    # a patient without an observed finding has nothing to rank: never re-analysed
    registry.create_patient(SYSTEM, PatientCreate(pseudonym="empty"))
    return ids


def test_a_gained_annotation_and_gene_link_report_exactly_the_patients_they_change(
        registry: Registry, toy_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    old = RareDx.load(toy_copy, cache_dir=cache)
    ids = add_patients(registry)
    assert registry.count_reanalysis_targets(SYSTEM, old.kb.fingerprint) == (0, 4)
    first = reanalyse(old, registry, SYSTEM, data_dir=toy_copy, cache_dir=cache)
    assert (first.analysed, first.changed, first.failed) == (4, (), ())  # a first analysis has nothing to compare with
    assert reanalyse(old, registry, SYSTEM, data_dir=toy_copy, cache_dir=cache).analysed == 0  # all are up to date

    gain_knowledge(toy_copy)
    new = RareDx.load(toy_copy, cache_dir=cache)
    assert new.kb.fingerprint != old.kb.fingerprint
    assert registry.count_reanalysis_targets(SYSTEM, new.kb.fingerprint) == (4, 0)
    assert registry.count_reanalysis_targets(SYSTEM, new.kb.fingerprint, unsolved=True) == (3, 0)
    report = reanalyse(new, registry, SYSTEM, data_dir=toy_copy, cache_dir=cache)

    assert report.analysed == 4
    assert {c.pseudonym: c.patient_id for c in report.changed} == {"C": ids["C"], "E": ids["E"]}
    c, e = report.changed
    assert [(x.kind, x.disease_id) for x in c.changes] == [("new_in_top", "OMIM:614185")]
    assert c.changes[0].newly_matched == ("HP:0000365",) and c.changes[0].rank_before == 7
    assert "Hearing impairment (HP:0000365)" in c.changes[0].reason
    assert [(x.kind, x.gene, x.disease_id) for x in e.changes] == [("new_gene_link", "TTN", "OMIM:100003")]
    assert c.previous_kb_version == old.kb.version

    page = registry.changed_patients(actor("clinician"))
    assert sorted(p.pseudonym for p in page.data) == ["C", "E"] and page.count == 2
    history = registry.analyses(actor("researcher"), ids["C"]).data
    assert [(a.kb_fingerprint, a.trigger, a.triggered_by) for a in history] == [
        (new.kb.fingerprint, "reanalysis", "system"), (old.kb.fingerprint, "reanalysis", "system")]
    assert history[0].compared_with == history[1].id and history[0].raredx_version

    # running it again on the same knowledge base touches nobody, and the list stays as it is
    assert reanalyse(new, registry, SYSTEM, data_dir=toy_copy, cache_dir=cache).analysed == 0
    assert registry.changed_patients(actor("clinician")).count == 2


def test_unsolved_leaves_out_the_patients_with_a_confirmed_diagnosis(registry: Registry, toy_copy: Path,
                                                                     tmp_path: Path) -> None:
    rdx = RareDx.load(toy_copy, cache_dir=tmp_path / "cache")
    ids = add_patients(registry)
    report = reanalyse(rdx, registry, SYSTEM, data_dir=toy_copy, cache_dir=tmp_path / "cache", unsolved=True)
    assert report.analysed == 3
    assert registry.analyses(SYSTEM, ids["B"]).count == 0 and registry.analyses(SYSTEM, ids["C"]).count == 1


def test_a_local_dask_cluster_gives_the_same_report(registry: Registry, toy_copy: Path, tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    cache = tmp_path / "cache"
    add_patients(registry)
    reanalyse(RareDx.load(toy_copy, cache_dir=cache), registry, SYSTEM)
    gain_knowledge(toy_copy)
    new = RareDx.load(toy_copy, cache_dir=cache)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        report = reanalyse(new, registry, SYSTEM, data_dir=toy_copy, cache_dir=cache, client=client, batch=2)
    assert report.analysed == 4 and "Dask" in report.where
    assert sorted(c.pseudonym for c in report.changed) == ["C", "E"]


def test_a_dask_worker_on_another_knowledge_base_is_refused(registry: Registry, toy_copy: Path,
                                                            tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    from raredx.errors import KnowledgeBaseError

    add_patients(registry)
    old = RareDx.load(toy_copy, cache_dir=tmp_path / "cache")
    gain_knowledge(toy_copy)  # the workers will load the new files, this process ranks on the old ones
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client, pytest.raises(KnowledgeBaseError, match="install the same release"):
        reanalyse(old, registry, SYSTEM, data_dir=toy_copy, cache_dir=tmp_path / "cache", client=client)


def test_a_diagnosis_is_kept_once_per_knowledge_base_and_record_version(registry: Registry, toy_copy: Path,
                                                                        tmp_path: Path) -> None:
    rdx = RareDx.load(toy_copy, cache_dir=tmp_path / "cache")
    pid = add_patients(registry)["C"]
    clinician = actor("clinician")
    result = diagnose_patient(rdx, registry, clinician, pid, top=3)
    assert len(result.diseases) == 3
    diagnose_patient(rdx, registry, clinician, pid)  # the same ranking again: not kept twice
    (kept,) = registry.analyses(clinician, pid).data
    assert (kept.trigger, kept.triggered_by, kept.patient_version, len(kept.results)) == ("diagnose", "test-clinician", 1, 10)
    assert kept.results[0].disease_ids == result.diseases[0].ids
    registry.update_patient(clinician, pid, PatientUpdate(version=1, phenotypic_features=[{"hpo_id": "HP:0000365"}]))
    diagnose_patient(rdx, registry, clinician, pid)
    assert [a.patient_version for a in registry.analyses(clinician, pid).data] == [2, 1]


def test_the_analysis_history_needs_the_right_role(registry: Registry) -> None:
    pid = registry.create_patient(SYSTEM, PatientCreate(pseudonym="X")).id
    with pytest.raises(PermissionDeniedError):
        registry.analyses(actor("none"), pid)
    with pytest.raises(PermissionDeniedError):
        registry.reanalysis_targets(actor("none"), None)


def _analysis(version: int, fingerprint: str, *results: tuple[str, int, float], genes: dict[str, tuple[str, ...]]
              | None = None) -> AnalysisCreate:
    return AnalysisCreate(patient_version=version, trigger="t", kb_version=fingerprint, kb_fingerprint=fingerprint,
                          raredx_version="0", linked_genes=genes or {},
                          results=tuple(AnalysisResult(rank=r, disease_ids=(d,), name=d, probability=p) for d, r, p in results))


def _record(a: AnalysisCreate) -> AnalysisRecord:
    import datetime as dt

    return AnalysisRecord(**a.model_dump(), id=1, patient_id=1, created_at=dt.datetime.now(dt.UTC), triggered_by="t")


def test_compare_names_entries_rises_over_the_threshold_and_new_links() -> None:
    before = _record(_analysis(1, "old", ("A", 1, 0.5), ("B", 2, 0.2), ("C", 6, 0.05), genes={"G": ("A",)}))
    after = _analysis(1, "new", ("B", 1, 0.45), ("A", 2, 0.3), ("C", 5, 0.06), ("D", 6, 0.04),
                      genes={"G": ("A", "D"), "H": ("B",)})
    changes = compare(before, after, rise=0.2)
    assert [(c.kind, c.disease_id, c.gene) for c in changes] == [
        ("probability_rise", "B", None), ("new_in_top", "C", None), ("new_gene_link", "D", "G"),
        ("new_gene_link", "B", "H")]
    assert changes[0].probability_before == 0.2 and changes[0].probability_after == 0.45
    assert changes[0].reason.startswith("B: probability 20% -> 45%")
    assert changes[1].reason.startswith("C entered the top 5 (rank 6 -> rank 5)")
    assert [c.kind for c in compare(before, after, rise=0.3)].count("probability_rise") == 0
    assert compare(None, after) == ()
    assert not compare(before, _analysis(1, "new", ("A", 1, 0.5), ("B", 2, 0.2), ("C", 6, 0.05), genes={"G": ("A",)}))


def test_bad_options_say_what_to_give(registry: Registry, toy_copy: Path, tmp_path: Path) -> None:
    rdx = RareDx.load(toy_copy, cache_dir=tmp_path / "cache")
    with pytest.raises(InputError, match="between 0 and 1"):
        reanalyse(rdx, registry, SYSTEM, rise=1.5)
    with pytest.raises(InputError, match="at least 1"):
        reanalyse(rdx, registry, SYSTEM, workers=0)


def test_the_commands_reanalyse_here_and_on_a_dask_scheduler_and_data_update_counts(
        cli_env: dict[str, str], toy_copy: Path, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from distributed import LocalCluster

    from .conftest import REPO

    env = {**cli_env, "RAREDX_DATA_DIR": str(toy_copy), "RAREDX_REGISTRY_DIR": str(tmp_path / "reg"),
           "XDG_DATA_HOME": str(tmp_path / "xdg"), "RAREDX_CACHE_DIR": str(tmp_path / "cache")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "raredx", *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=300)

    r = cli("data", "update", "--from", str(toy_copy))
    assert r.returncode == 0 and "registry patients" not in r.stdout, r.stderr  # no registry: nothing to say
    reg = Registry.open(f"sqlite:///{tmp_path / 'reg' / 'registry.sqlite3'}")
    add_patients(reg)
    reg.close()
    r = cli("registry", "reanalyse", "--workers", "1", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert (json.loads(r.stdout)["analysed"], json.loads(r.stdout)["changed"]) == (4, [])

    gain_knowledge(toy_copy)
    r = cli("data", "update", "--from", str(toy_copy))
    assert "a re-analysis would touch 4 registry patients (3 unsolved): 4 last analysed on an older knowledge base, " \
           "0 never analysed" in " ".join(r.stdout.split()), r.stdout + r.stderr
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, protocol="tcp",
                      host="127.0.0.1") as cluster:  # a scheduler another process can reach, its worker a thread here
        r = cli("registry", "reanalyse", "--scheduler", cluster.scheduler_address)
    assert r.returncode == 0, r.stderr
    assert "4 patients re-analysed" in r.stdout and "on the Dask cluster at tcp://" in r.stdout
    assert "2 changed materially" in r.stdout and "TTN" in r.stdout and "Geleophysic" in r.stdout
    r = cli("registry", "reanalyse", "--format", "xml")
    assert r.returncode != 0 and "choose table or json" in r.stderr and "Traceback" not in r.stderr


def test_a_scheduler_that_does_not_answer_says_what_to_do(toy_copy: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reg = Registry.open(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    try:
        with pytest.raises(InputError, match="no Dask scheduler answers at .* leave --scheduler out"):
            reanalyse(RareDx.load(toy_copy, cache_dir=tmp_path / "cache"), reg, SYSTEM, scheduler=f"tcp://127.0.0.1:{port}")
    finally:
        reg.close()
