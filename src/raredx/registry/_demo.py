"""Synthetic registry fields for demo and benchmark data (like datasette's fixtures: one module, used by
``raredx demo``, the tests and ``benchmarks/registry_bench.py``). Everything made here is marked
``synthetic=True``; names and identifiers are obviously fake."""

from __future__ import annotations

import datetime as dt
import random
import zlib
from importlib import resources
from pathlib import Path

from raredx.registry.schemas import DrugProvision, Identity, Interpretation, PatientCreate, Sample, Treatment, Visit

REGIONS = ("North", "South", "East", "West", "Central", "Capital", "Coastal", "Mountain")
DRUGS = (("nusinersen", "M09AX07"), ("eculizumab", "L04AJ01"), ("imiglucerase", "A16AB02"), ("ivacaftor", "R07AX02"),
         ("agalsidase beta", "A16AB04"), ("laronidase", "A16AB05"), ("somatrogon", "H01AC08"), ("burosumab", "M05BX05"))
STATUSES = ("need_identified", "request_submitted", "approved", "rejected", "dispensed", "dispensed", "discontinued")
UNDIAGNOSED = 0.15  # the share of demo patients left without a confirmed diagnosis (unsolved cases)
DEMO_USERS = (("demo-admin", "admin"), ("demo-clinician", "clinician"), ("demo-manager", "registry_manager"),
              ("demo-researcher", "researcher"))


def demo_phenopackets() -> Path:
    """The demo phenopackets shipped in the package: 300 published cases, one per cohort, from phenopacket-store
    (BSD-3-Clause; provenance in ``registry/data/DEMO_README``, cut by ``scripts/make_demo_phenopackets.py``)."""
    return Path(str(resources.files("raredx.registry") / "data" / "demo-phenopackets.zip"))


def demo_password(username: str) -> str:
    """The published password of a demo user (works only in demo mode)."""
    return f"{username}-password"


def is_undiagnosed(pseudonym: str, share: float = UNDIAGNOSED) -> bool:
    """Whether a demo patient is made an unsolved case: a fixed choice per pseudonym (the same in every build, and
    independent of the random fields), about ``share`` of the patients."""
    return zlib.crc32(pseudonym.encode("utf-8")) % 10_000 < share * 10_000


def unsolved(p: PatientCreate) -> PatientCreate:
    """The case as it stands before its diagnosis: no confirmed diagnosis (ruled-out ones kept), interpretations
    unsolved and naming no disease, the causative variants only candidates; phenotype and variants kept."""
    return p.model_copy(update={
        "diagnoses": [d for d in p.diagnoses if d.status == "ruled_out"],
        "interpretations": [Interpretation(interpretation_id=i.interpretation_id, progress_status="UNSOLVED", summary=i.summary)
                            for i in p.interpretations],
        "genetic_findings": [f.model_copy(update={"interpretation_status": "CANDIDATE"}) if f.interpretation_status == "CAUSATIVE"
                             else f for f in p.genetic_findings],
    })


def add_synthetic_fields(p: PatientCreate, rng: random.Random, *, today: dt.date = dt.date(2026, 6, 1),
                         undiagnosed: float = UNDIAGNOSED) -> PatientCreate:
    """Fill the registry-only fields (region, dates, consents, identity, drugs, visits, samples) with plausible
    synthetic values; the phenotype, diagnoses and variants stay as imported, except that about ``undiagnosed`` of
    the patients (:func:`is_undiagnosed`) are made unsolved cases (:func:`unsolved`)."""
    if is_undiagnosed(p.pseudonym, undiagnosed):
        p = unsolved(p)
    born = today - dt.timedelta(days=rng.randint(200, 70 * 365))
    first_contact = born + dt.timedelta(days=rng.randint(30, max(31, (today - born).days - 1)))
    diagnoses = [d.model_copy(update={"diagnosed_on": first_contact + dt.timedelta(days=rng.randint(0, 900)),
                                      "age_at_diagnosis": {"age": {"iso8601duration": f"P{max(0, (first_contact - born).days // 365)}Y"}}})
                 if d.status == "confirmed" else d for d in p.diagnoses]
    drugs, provisions, treatments = rng.sample(DRUGS, rng.choice((0, 0, 1, 1, 2))), [], []
    for inn, atc in drugs:
        status = rng.choice(STATUSES)
        need = first_contact + dt.timedelta(days=rng.randint(0, 400))
        provisions.append(DrugProvision(
            drug_inn=inn, atc_code=atc, status=status, need_identified_on=need,
            requested_on=need + dt.timedelta(days=20) if status != "need_identified" else None,
            decided_on=need + dt.timedelta(days=60) if status not in ("need_identified", "request_submitted") else None,
            dispensed_on=need + dt.timedelta(days=90) if status in ("dispensed", "discontinued") else None,
            funding_source=rng.choice(("federal", "regional", "insurance")),
        ))
        if status in ("dispensed", "discontinued"):
            treatments.append(Treatment(drug_inn=inn, atc_code=atc, start_date=need + dt.timedelta(days=95),
                                        indication=diagnoses[0].disease_id if diagnoses else None, dose="per label"))
    n = rng.randint(10000, 99999)
    return p.model_copy(update={
        "synthetic": True,
        "region": rng.choice(REGIONS),
        "first_contact_date": first_contact,
        "consent_contact_research": rng.random() < 0.7,
        "consent_data_reuse": rng.random() < 0.8,
        "consent_date": first_contact,
        "disability": rng.choice((None, None, "none", "group II", "group III", "child with disability")),
        "identity": Identity(family_name=f"Synthetic-{n}", given_name="Demo", date_of_birth=born,
                             national_id=f"000-000-{n}", insurance_policy=f"SYN{n:08d}"),
        "diagnoses": diagnoses,
        "drug_provisions": provisions,
        "treatments": list(p.treatments) + treatments,
        "samples": [Sample(sample_id=f"{p.pseudonym}-blood", sample_type={"id": "UBERON:0000178", "label": "blood"},
                           collected_on=first_contact, biobank_id="SYN-BIOBANK", consent_biobank=True)]
        if rng.random() < 0.4 else list(p.samples),
        "visits": [Visit(visit_date=first_contact + dt.timedelta(days=180 * k), kind="follow-up") for k in range(rng.randint(0, 3))],
    })
