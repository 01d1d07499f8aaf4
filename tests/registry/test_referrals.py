"""Referrals on SQLite and PostgreSQL: who sees what, the workflow table, its history and audit, the consilium, the
thread, due dates and the overdue list, acceptance linking or creating a registry patient, and the migration from a
registry at 0006 that holds patients."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from registry.conftest import make_patient
from sqlalchemy import select, text, update

from raredx.errors import InputError, UnknownTermError
from raredx.registry import SYSTEM, Actor, Registry
from raredx.registry import _models as m
from raredx.registry._db import current_revision, head_revision, make_engine, migrate
from raredx.registry.errors import ConflictError, IllegalTransitionError, NotFoundError, PermissionDeniedError
from raredx.registry.referrals import TRANSITIONS
from raredx.registry.security import hash_password
from raredx.registry.schemas import (
    Conclusion,
    OrganisationCreate,
    ReferralCreate,
    ReferralDifferential,
    ReferralUpdate,
)

PW = "a long test password"
DOC = Path(__file__).resolve().parents[2] / "docs" / "referrals.md"


def referral(**fields) -> ReferralCreate:  # type: ignore[no-untyped-def]
    base = {"urgency": "urgent", "clinical_question": "Marfan syndrome or another fibrillinopathy? Which test next?",
            "patient": {"sex": "FEMALE", "date_of_birth": "2015-04-01",
                        "identity": {"family_name": "Иванова", "given_name": "Анна"}},
            "phenotype": [{"hpo_id": "HP:0001166"}, {"hpo_id": "HP:0001083"}, {"hpo_id": "HP:0000365", "excluded": True}],
            "history": "tall since infancy", "tests_done": "echocardiography", "genetic_results": "none yet"}
    base.update(fields)
    return ReferralCreate.model_validate(base)


def diff() -> ReferralDifferential:
    return ReferralDifferential(made_at=dt.datetime.now(dt.UTC), kb_version="toy", kb_fingerprint="f" * 16,
                                result={"diseases": []})


@pytest.fixture
def people(registry: Registry) -> dict[str, Actor]:
    org = registry.add_organisation(SYSTEM, OrganisationCreate(name="Tver Children's Hospital", region="Tver"))
    out = {}
    for name, role in (("doc", "referring_physician"), ("doc2", "referring_physician"), ("coord", "coordinator"),
                       ("exp1", "expert"), ("exp2", "expert"), ("exp3", "expert"), ("clin", "clinician")):
        registry.add_user(SYSTEM, name, PW, role, organisation_id=org.id if role == "referring_physician" else None)
        out[name] = Actor(name, role)
    return out


def submitted(registry: Registry, who: Actor) -> int:
    r = registry.create_referral(who, referral())
    return registry.transition(who, r.id, "submitted", version=r.version, differential=diff()).id


def test_the_whole_path_with_history_audit_and_consilium(registry: Registry, people: dict[str, Actor]) -> None:
    doc, coord, e1, e2 = people["doc"], people["coord"], people["exp1"], people["exp2"]
    r = registry.create_referral(doc, referral())
    assert r.status == "draft" and r.region == "Tver" and r.organisation_id is not None
    assert r.phenotype[0].label == "Arachnodactyly"  # labelled from the ontology
    assert set(r.allowed) == {"submitted", "withdrawn"}
    r = registry.transition(doc, r.id, "submitted", version=r.version, differential=diff())
    assert r.due_at is not None and r.submitted_at is not None
    assert r.due_at - r.submitted_at == dt.timedelta(days=7)  # urgent
    assert r.differential is None  # the differential is the centre's
    r = registry.transition(coord, r.id, "accepted", version=r.version, create_patient=True)
    assert r.patient_id is not None and r.differential is not None
    patient = registry.get_patient(coord, r.patient_id)
    assert patient.pseudonym == f"REF-{r.id}" and patient.identity is not None and patient.identity.family_name == "Иванова"
    assert [f.hpo_id for f in patient.phenotypic_features] == ["HP:0001166", "HP:0001083", "HP:0000365"]
    r = registry.assign_experts(coord, r.id, ["exp1", "exp2"], version=r.version)
    assert r.status == "assigned" and r.experts == ["exp1", "exp2"]
    r = registry.transition(e1, r.id, "in_review", version=r.version)
    registry.write_opinion(e1, r.id, "FBN1 sequencing first.")
    registry.write_opinion(e2, r.id, "Agree; add an ophthalmology exam.")
    registry.write_opinion(e2, r.id, "Agree; add a slit-lamp exam.")  # replaces their opinion
    registry.add_message(doc, r.id, "Родители согласны на обследование.")
    registry.add_message(e1, r.id, "Thank you.")
    with pytest.raises(ConflictError, match="no conclusion yet"):
        registry.transition(e1, r.id, "concluded", version=r.version)
    r = registry.save_conclusion(e2, r.id, Conclusion(text="Probable Marfan syndrome.", recommended_tests="FBN1",
                                                      diagnoses=[{"disease_id": "OMIM:154700", "name": "Marfan syndrome"}]),
                                 version=r.version)
    assert registry.get_referral(doc, r.id).conclusion is None  # not the referrer's until concluded
    r = registry.transition(e1, r.id, "concluded", version=r.version, note="issued")
    seen = registry.get_referral(doc, r.id)
    assert seen.conclusion is not None and seen.conclusion.text == "Probable Marfan syndrome." and seen.opinions == []
    full = registry.get_referral(coord, r.id)
    assert [(o.expert, o.text) for o in full.opinions] == [("exp1", "FBN1 sequencing first."),
                                                           ("exp2", "Agree; add a slit-lamp exam.")]
    r = registry.transition(coord, r.id, "closed", version=r.version)
    assert [(c.from_status, c.to_status, c.by) for c in r.status_history] == [
        (None, "draft", "doc"), ("draft", "submitted", "doc"), ("submitted", "accepted", "coord"),
        ("accepted", "assigned", "coord"), ("assigned", "in_review", "exp1"), ("in_review", "concluded", "exp1"),
        ("concluded", "closed", "coord")]
    assert r.status_history[5].note == "issued" and r.allowed == []
    assert [m.author for m in registry.messages(doc, r.id)] == ["doc", "exp1"]
    audit = [a for a in registry.audit_log(SYSTEM, limit=500) if a.action == "referral_status"]
    assert [a.detail["to"] for a in reversed(audit) if a.detail["referral"] == r.id] == [
        "draft", "submitted", "accepted", "assigned", "in_review", "concluded", "closed"]
    assert all(a.username for a in audit)
    with pytest.raises(ConflictError, match="thread is closed"):
        registry.add_message(doc, r.id, "one more")


def test_who_sees_what(registry: Registry, people: dict[str, Actor]) -> None:
    doc, doc2, coord, e1, e3 = people["doc"], people["doc2"], people["coord"], people["exp1"], people["exp3"]
    rid = submitted(registry, doc)
    with pytest.raises(PermissionDeniedError, match=f"may not see referral {rid}: it is another physician's"):
        registry.get_referral(doc2, rid)
    with pytest.raises(PermissionDeniedError):
        registry.update_referral(doc2, rid, ReferralUpdate(version=2, history="x"))
    with pytest.raises(PermissionDeniedError, match="may not see referrals"):
        registry.get_referral(people["clin"], rid)
    with pytest.raises(NotFoundError, match="no referral with id 999"):
        registry.get_referral(doc, 999)
    assert registry.list_referrals(doc2).count == 0 and registry.list_referrals(doc).count == 1
    r = registry.transition(coord, rid, "accepted", version=2)
    with pytest.raises(PermissionDeniedError, match="not assigned to them"):
        registry.get_referral(e1, rid)
    registry.assign_experts(coord, rid, ["exp1"], version=r.version)
    assert registry.get_referral(e1, rid).status == "assigned"
    assert registry.list_referrals(e1).count == 1 and registry.list_referrals(e3).count == 0
    with pytest.raises(PermissionDeniedError, match="not assigned to them"):
        registry.write_opinion(e3, rid, "uninvited")
    with pytest.raises(PermissionDeniedError, match="only an expert assigned to it may"):
        registry.write_opinion(coord, rid, "not an expert")
    with pytest.raises(PermissionDeniedError, match="only a coordinator"):
        registry.assign_experts(doc, rid, ["exp3"], version=4)
    with pytest.raises(InputError, match=r"experts: 'doc' is not an active user whose role reviews referrals"):
        registry.assign_experts(coord, rid, ["doc"], version=4)
    # a draft is its referrer's: not in the coordinator's list
    registry.create_referral(doc, referral())
    assert registry.list_referrals(coord).count == 1 and registry.list_referrals(doc, status="draft").count == 1


def test_illegal_transitions_name_the_statuses_and_change_nothing(registry: Registry, people: dict[str, Actor]) -> None:
    doc, coord = people["doc"], people["coord"]
    r = registry.create_referral(doc, referral())
    with pytest.raises(IllegalTransitionError) as err:
        registry.transition(doc, r.id, "concluded", version=r.version)
    assert str(err.value) == (f"referral {r.id} is 'draft' and cannot go to 'concluded'; from 'draft' it can go to: "
                              "submitted, withdrawn.")
    assert err.value.http_status == 409
    with pytest.raises(PermissionDeniedError, match="only a coordinator may"):
        registry.transition(doc, submitted(registry, doc), "accepted", version=2)
    with pytest.raises(ConflictError, match="at version 1, not 5"):
        registry.transition(doc, r.id, "submitted", version=5, differential=diff())
    got = registry.get_referral(doc, r.id)
    assert got.status == "draft" and got.version == 1 and len(got.status_history) == 1
    r = registry.transition(doc, r.id, "withdrawn", version=1)
    with pytest.raises(IllegalTransitionError, match=r"from 'withdrawn' it can go to: none \(it is final\)"):
        registry.transition(doc, r.id, "submitted", version=r.version, differential=diff())
    with pytest.raises(ConflictError, match="can no longer be changed"):
        registry.update_referral(doc, r.id, ReferralUpdate(version=r.version, history="more"))
    # returned for information: the referrer edits and submits again
    rid = submitted(registry, doc)
    r = registry.transition(coord, rid, "returned_for_information", version=2, note="send the echo report")
    assert r.overdue is False
    r = registry.update_referral(doc, rid, ReferralUpdate(version=r.version, tests_done="echo: aortic root z=3.1"))
    r = registry.transition(doc, rid, "submitted", version=r.version, differential=diff())
    assert r.tests_done == "echo: aortic root z=3.1" and r.status == "submitted"


def test_the_docs_table_is_the_transition_table() -> None:
    section = DOC.read_text(encoding="utf-8").split("## The workflow")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \|", section, re.M)
    documented = {frm: set(re.findall(r"`(\w+)`", to)) for frm, to in rows}
    assert documented == {frm: set(to) for frm, to in TRANSITIONS.items()}


def test_bad_input_names_the_field(registry: Registry, people: dict[str, Actor]) -> None:
    with pytest.raises(ValidationError, match="clinical_question\n  Field required"):
        ReferralCreate.model_validate({"patient": {"pseudonym": "P-1", "pseudonymous": True}})
    with pytest.raises(ValidationError, match="clinical_question is empty; write the question"):
        referral(clinical_question="   ")
    with pytest.raises(ValidationError, match="patient.identity: a pseudonymous referral carries no identity"):
        referral(patient={"pseudonymous": True, "pseudonym": "P-1", "identity": {"family_name": "X"}})
    with pytest.raises(UnknownTermError, match=r"HP:9999999.*phenotype\[1\]"):
        registry.create_referral(people["doc"], referral(phenotype=[{"hpo_id": "HP:0001166"}, {"hpo_id": "HP:9999999"}]))
    with pytest.raises(PermissionDeniedError, match="may not refer patients"):
        registry.create_referral(people["coord"], referral())
    assert registry.list_referrals(people["doc"], status="draft").count == 0  # nothing half-stored
    with pytest.raises(InputError, match="a submission needs its differential"):
        r = registry.create_referral(people["doc"], referral())
        registry.transition(people["doc"], r.id, "submitted", version=1)


def test_due_dates_by_urgency_and_the_overdue_list(registry: Registry, people: dict[str, Actor]) -> None:
    doc, coord = people["doc"], people["coord"]
    registry.referral_due_days = {"routine": 30, "urgent": 7, "emergency": 1}
    ids = {}
    for urgency in ("routine", "urgent", "emergency"):
        r = registry.create_referral(doc, referral(urgency=urgency))
        r = registry.transition(doc, r.id, "submitted", version=1, differential=diff())
        assert r.due_at is not None and r.submitted_at is not None
        assert (r.due_at - r.submitted_at).days == registry.referral_due_days[urgency]
        ids[urgency] = r.id
    assert registry.overdue_referrals(coord).count == 0
    with registry._sessions.begin() as s:  # two of them submitted long ago
        for urgency, days in (("routine", 40), ("emergency", 3)):
            s.execute(update(m.Referral).where(m.Referral.id == ids[urgency]).values(
                submitted_at=m._now() - dt.timedelta(days=days),
                due_at=m._now() - dt.timedelta(days=days - registry.referral_due_days[urgency])))
    page = registry.overdue_referrals(coord)
    assert [r.id for r in page.data] == [ids["routine"], ids["emergency"]] and all(r.overdue for r in page.data)
    with pytest.raises(PermissionDeniedError):
        registry.overdue_referrals(doc)
    counts = registry.referral_counts(coord)
    assert counts.total == 3 and counts.overdue == 2 and counts.by_urgency == {"routine": 1, "urgent": 1, "emergency": 1}
    assert counts.by_region == {"Tver": 3} and counts.median_days_to_conclusion is None


def test_accept_links_an_existing_patient_or_refuses_a_taken_pseudonym(registry: Registry, people: dict[str, Actor]) -> None:
    doc, coord = people["doc"], people["coord"]
    pid = registry.create_patient(SYSTEM, make_patient("TVER-7")).id
    rid = submitted(registry, doc)
    r = registry.transition(coord, rid, "accepted", version=2, patient_id=pid)
    assert r.patient_id == pid
    r2 = registry.create_referral(doc, referral(patient={"pseudonymous": True, "pseudonym": "TVER-7", "sex": "MALE"}))
    assert registry.get_referral(coord, r2.id).patient.identity is None
    r2 = registry.transition(doc, r2.id, "submitted", version=1, differential=diff())
    with pytest.raises(ConflictError, match="pseudonym 'TVER-7' is taken in the registry; link that patient"):
        registry.transition(coord, r2.id, "accepted", version=r2.version, create_patient=True)
    assert registry.get_referral(coord, r2.id).status == "submitted"  # nothing half-done
    with pytest.raises(NotFoundError):
        registry.transition(coord, r2.id, "accepted", version=r2.version, patient_id=12345)


def test_organisations_are_managed_by_admins(registry: Registry, people: dict[str, Actor]) -> None:
    with pytest.raises(PermissionDeniedError):
        registry.add_organisation(people["coord"], OrganisationCreate(name="X"))
    with pytest.raises(ConflictError, match="exists already"):
        registry.add_organisation(SYSTEM, OrganisationCreate(name="Tver Children's Hospital"))
    org = registry.add_organisation(SYSTEM, OrganisationCreate(name="Pskov Hospital", region="Pskov"))
    user = registry.update_user(SYSTEM, "doc2", organisation_id=org.id)
    assert user.organisation_id == org.id
    assert registry.create_referral(people["doc2"], referral()).region == "Pskov"
    registry.delete_organisation(SYSTEM, org.id)
    assert registry.get_user(SYSTEM, "doc2").organisation_id is None
    assert registry.update_user(SYSTEM, "doc2", organisation_id=None).organisation_id is None
    with pytest.raises(NotFoundError, match="no organisation with id"):
        registry.update_user(SYSTEM, "doc2", organisation_id=org.id)


def test_two_writers_of_the_same_version_one_wins(registry: Registry, people: dict[str, Actor]) -> None:
    doc = people["doc"]
    r = registry.create_referral(doc, referral())
    registry.update_referral(doc, r.id, ReferralUpdate(version=1, history="first"))
    with pytest.raises(ConflictError, match="at version 2, not 1"):
        registry.update_referral(doc, r.id, ReferralUpdate(version=1, history="second"))
    assert registry.get_referral(doc, r.id).history == "first"


def test_upgrade_from_0006_with_patients_keeps_them(empty_database_url: str, toy_kb) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(empty_database_url)
    migrate(engine, "0006")
    reg = Registry(engine, ontology=toy_kb.ontology)
    ids = [reg.create_patient(SYSTEM, make_patient(f"OLD-{i}")).id for i in range(3)]
    with engine.begin() as conn:  # the users table as 0006 has it (the model has 0007's column)
        conn.execute(text("INSERT INTO users (username, password_hash, role, active, demo, created_at, token_generation) "
                          "VALUES ('old-clinician', :h, 'clinician', :t, :f, :now, 0)"),
                     {"h": hash_password(PW), "t": True, "f": False, "now": dt.datetime.now(dt.UTC)})
    before = [reg.get_patient(SYSTEM, i).model_dump(exclude={"updated_at"}) for i in ids]
    with engine.connect() as conn:
        audit_before = conn.execute(text("SELECT count(*) FROM audit_log")).scalar()
    migrate(engine)
    assert current_revision(engine) == head_revision()
    reg = Registry(engine, ontology=toy_kb.ontology)
    assert [reg.get_patient(SYSTEM, i).model_dump(exclude={"updated_at"}) for i in ids] == before
    assert reg.get_user(SYSTEM, "old-clinician").organisation_id is None
    assert reg.sign_in("old-clinician", PW).actor.role == "clinician"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() >= audit_before
        assert conn.execute(select(m.Referral.id)).all() == []
    reg.add_user(SYSTEM, "d", PW, "referring_physician")
    r = reg.create_referral(Actor("d", "referring_physician"), referral())
    assert r.id >= 1
    engine.dispose()
