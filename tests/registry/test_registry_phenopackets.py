"""Phenopacket import (validation report, strict/lenient, atomic per record) and export round trips."""

from __future__ import annotations

import json
import random
import shutil
import zipfile
from pathlib import Path

import pytest
from registry.conftest import BAD, DEV, PHENOPACKETS, SYSTEM, actor

from raredx.registry import Registry, held_fields, patient_from_phenopacket
from raredx.registry._demo import add_synthetic_fields


def test_round_trip_on_toy_phenopackets(registry: Registry) -> None:
    report = registry.import_phenopackets(SYSTEM, PHENOPACKETS)
    assert report.rejected == 0 and report.imported == report.records >= 4
    originals = {}
    for f in PHENOPACKETS.rglob("*.json"):
        d = json.loads(f.read_text())
        originals[d["id"]] = d
    for doc in registry.export_phenopackets(SYSTEM):
        assert held_fields(doc) == held_fields(originals[doc["id"]])


@pytest.mark.skipif(not DEV.exists(), reason="the shared development phenopackets are not beside the checkout")
def test_round_trip_on_a_sample_of_the_dev_set(tmp_path: Path, database_url: str) -> None:
    """export(import(x)) == x for every field the registry holds, on 200 dev phenopackets (all: benchmarks/)."""
    with zipfile.ZipFile(DEV) as zf:
        names = sorted(n for n in zf.namelist() if n.endswith(".json"))
        sample = random.Random(3).sample(names, 200)
        for n in sample:
            (tmp_path / "in" / n).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / "in" / n).write_bytes(zf.read(n))
    reg = Registry.open(database_url)  # no ontology: the toy HPO does not know the dev terms
    report = reg.import_phenopackets(SYSTEM, tmp_path / "in")
    assert (report.imported, report.rejected) == (200, 0), report.issues[:3]
    exported = {d["id"]: d for d in reg.export_phenopackets(SYSTEM)}
    for n in sample:
        original = json.loads((tmp_path / "in" / n).read_text())
        assert held_fields(exported[original["id"]]) == held_fields(original), n
    reg.close()


def test_strict_and_lenient_policies(registry: Registry, tmp_path: Path) -> None:
    doc = json.loads((PHENOPACKETS / "marfan_case.json").read_text())
    doc["phenotypicFeatures"].append({"type": {"id": "HP:0099999", "label": "not a term"}})
    doc["subject"]["dateOfBirth"] = "yesterday"
    doc["files"] = [{"uri": "file://x.vcf"}]
    strict, issues = patient_from_phenopacket(doc, "case.json", policy="strict", ontology=registry.ontology)
    assert strict is None
    by_field = {i.field: i for i in issues}
    assert by_field["phenotypicFeatures[5].type.id"].severity == "warning" and "HP:0099999" in by_field["phenotypicFeatures[5].type.id"].reason
    assert by_field["subject.dateOfBirth"].severity == "warning"
    assert by_field["files"].severity == "note" and "not held" in by_field["files"].reason
    lenient, _ = patient_from_phenopacket(doc, "case.json", policy="lenient", ontology=registry.ontology)
    assert lenient is not None and "HP:0099999" not in [f.hpo_id for f in lenient.phenotypic_features]
    assert len(lenient.phenotypic_features) == 5


def test_bad_records_leave_the_database_unchanged_and_good_ones_are_kept(registry: Registry, tmp_path: Path) -> None:
    src = tmp_path / "in"
    shutil.copytree(PHENOPACKETS, src)
    shutil.copy(BAD / "broken.json", src / "broken.json")
    shutil.copy(BAD / "missing_type_id.json", src / "missing_type_id.json")
    dup = json.loads((PHENOPACKETS / "marfan_case.json").read_text())
    (src / "zz_duplicate.json").write_text(json.dumps(dup))
    before = registry.counts()
    report = registry.import_phenopackets(actor("registry_manager"), src, policy="strict")
    good = len(list(PHENOPACKETS.rglob("*.json")))
    assert report.imported == good and report.rejected == 3 and report.records == good + 3
    named = {(Path(i.record).name, i.field) for i in report.issues if i.severity == "error"}
    assert ("missing_type_id.json", "phenotypicFeatures[1].type.id") in named
    assert ("zz_duplicate.json", "id") in named
    assert any(Path(i.record).name == "broken.json" and "malformed JSON" in i.reason for i in report.issues)
    after = registry.counts()
    assert after["patients"] - before["patients"] == good
    assert after["audit_log"] - before["audit_log"] == good  # one "import" entry per patient
    assert after["patient_revisions"] - before["patient_revisions"] == good
    pseudonyms = {p.pseudonym for p in registry.list_patients(SYSTEM, limit=100).data}
    assert "toy-missing-type-id" not in pseudonyms


def test_synthetic_demo_fields_are_marked_and_round_trip(registry: Registry) -> None:
    rng = random.Random(1)
    report = registry.import_phenopackets(SYSTEM, PHENOPACKETS, transform=lambda p: add_synthetic_fields(p, rng))
    page = registry.list_patients(SYSTEM, limit=100)
    assert page.count == report.imported and all(p.synthetic and p.region and p.identity for p in page.data)
    assert all(p.identity.family_name.startswith("Synthetic-") for p in page.data)  # type: ignore[union-attr]


def test_dry_run_checks_everything_and_writes_nothing(registry: Registry) -> None:
    from raredx.registry import PatientFilter

    fresh = registry.import_phenopackets(SYSTEM, PHENOPACKETS, dry_run=True)
    assert fresh.imported == fresh.records >= 4 and fresh.patient_ids == ()
    assert registry.search_ids(SYSTEM, PatientFilter())[0] == 0  # nothing written
    registry.import_phenopackets(SYSTEM, PHENOPACKETS)
    again = registry.import_phenopackets(SYSTEM, PHENOPACKETS, dry_run=True)
    assert again.imported == 0  # every pseudonym is taken now, and the dry run says so
    assert any("already in the registry" in i.reason for i in again.issues)


def test_the_demo_has_unsolved_cases() -> None:
    """About 15% of the demo patients have no confirmed diagnosis but keep their phenotype and variants, so the
    workbench can show an unsolved case; the others keep their diagnoses as published."""
    from raredx.io.phenopackets import iter_phenopackets
    from raredx.registry._demo import UNDIAGNOSED, demo_phenopackets
    from raredx.registry.phenopackets import patient_from_phenopacket

    rng = random.Random(1)
    imported = [patient_from_phenopacket(r.document, r.source)[0] for r in iter_phenopackets(demo_phenopackets())]
    pairs = [(p, add_synthetic_fields(p, rng)) for p in imported if p is not None]
    unsolved = [(p, q) for p, q in pairs if not any(d.status == "confirmed" for d in q.diagnoses)]
    solved_before = [p for p, _ in unsolved if any(d.status == "confirmed" for d in p.diagnoses)]
    assert abs(len(solved_before) / len(pairs) - UNDIAGNOSED) < 0.04, f"{len(solved_before)} of {len(pairs)} made unsolved"
    for p, q in unsolved:
        assert q.phenotypic_features == p.phenotypic_features and len(q.genetic_findings) == len(p.genetic_findings)
        assert all(i.disease_id is None and i.progress_status == "UNSOLVED" for i in q.interpretations)
        assert all(f.interpretation_status != "CAUSATIVE" for f in q.genetic_findings)
    kept = [(p, q) for p, q in pairs if any(d.status == "confirmed" for d in q.diagnoses)]
    assert kept and all([d.disease_id for d in q.diagnoses] == [d.disease_id for d in p.diagnoses] for p, q in kept)
