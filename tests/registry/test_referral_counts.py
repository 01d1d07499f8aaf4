"""The coordinator's dashboard numbers on SQLite and PostgreSQL (``Registry.referral_counts``, the overdue list
narrowed as they are) over a set of referrals made through the service in several statuses, regions and
urgencies, two of them concluded (the median) and two overdue; and the organisations with their use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import update

from raredx.errors import InputError
from raredx.registry import SYSTEM, Actor, Registry
from raredx.registry import _models as m
from raredx.registry.errors import PermissionDeniedError
from raredx.registry.schemas import Conclusion, OrganisationCreate

from .test_referrals import PW, diff, referral


@dataclass(frozen=True)
class DashboardSet:
    """What :func:`dashboard_set` made: the referrals' ids by name, and the actors."""

    ids: dict[str, int]
    coord: Actor
    people: dict[str, Actor]


def _backdate(registry: Registry, rid: int, **ago: float | None) -> None:
    """Set the referral's ``submitted_at``, ``due_at`` or ``concluded_at`` to so many days ago."""
    now = dt.datetime.now(dt.UTC)
    with registry._sessions.begin() as s:
        s.execute(update(m.Referral).where(m.Referral.id == rid).values(
            **{k: now - dt.timedelta(days=v) for k, v in ago.items() if v is not None}))


def dashboard_set(registry: Registry) -> DashboardSet:
    """Two organisations (Tver, Pskov) and a referrer without one; five referrals sent and a draft:

    * ``marfan``: Tver, urgent, concluded (Marfan syndrome probable, Loeys-Dietz ruled out); submitted 10 days ago,
      concluded now;
    * ``marfan2``: Tver, routine, closed (Marfan syndrome confirmed, homocystinuria in the differential, no id);
      submitted 4 days ago, concluded now;
    * ``late3``: Pskov, emergency, submitted 5 days ago, due 3 days ago (overdue);
    * ``fresh``: Pskov, routine, submitted now;
    * ``late1``: no region, urgent, accepted; submitted 8 days ago, due a day and an hour ago (overdue);
    * a draft of Tver (never counted).

    So: 5 referrals, the median 7 days over 2 concluded, 2 overdue (``late3`` first), OMIM:154700 twice."""
    tver = registry.add_organisation(SYSTEM, OrganisationCreate(name="Tver Children's Hospital", region="Tver"))
    pskov = registry.add_organisation(SYSTEM, OrganisationCreate(name="Pskov Regional Hospital", region="Pskov"))
    people = {}
    for name, role, org in (("docT", "referring_physician", tver.id), ("docP", "referring_physician", pskov.id),
                            ("docN", "referring_physician", None), ("coord", "coordinator", None),
                            ("exp1", "expert", None)):
        registry.add_user(SYSTEM, name, PW, role, organisation_id=org)
        people[name] = Actor(name, role)
    coord, exp = people["coord"], people["exp1"]

    def sent(who: str, urgency: str) -> int:
        r = registry.create_referral(people[who], referral(urgency=urgency))
        return registry.transition(people[who], r.id, "submitted", version=r.version, differential=diff()).id

    def conclude(rid: int, *diagnoses: dict[str, str]) -> int:
        r = registry.transition(coord, rid, "accepted", version=2)
        r = registry.assign_experts(coord, rid, ["exp1"], version=r.version)
        r = registry.transition(exp, rid, "in_review", version=r.version)
        r = registry.save_conclusion(exp, rid, Conclusion.model_validate({"text": "Conclusion.", "diagnoses": diagnoses}),
                                     version=r.version)
        return registry.transition(exp, rid, "concluded", version=r.version).version

    ids = {"marfan": sent("docT", "urgent"), "marfan2": sent("docT", "routine"), "late3": sent("docP", "emergency"),
           "fresh": sent("docP", "routine"), "late1": sent("docN", "urgent")}
    conclude(ids["marfan"], {"disease_id": "OMIM:154700", "name": "Синдром Марфана", "status": "probable"},
             {"disease_id": "OMIM:609192", "name": "Loeys-Dietz syndrome", "status": "ruled_out"})
    version = conclude(ids["marfan2"], {"disease_id": "OMIM:154700", "name": "Marfan syndrome", "status": "confirmed"},
                       {"name": "Homocystinuria", "status": "differential"})
    registry.transition(coord, ids["marfan2"], "closed", version=version)
    registry.transition(coord, ids["late1"], "accepted", version=2)
    registry.create_referral(people["docT"], referral())  # a draft
    _backdate(registry, ids["marfan"], submitted_at=10, concluded_at=0)
    _backdate(registry, ids["marfan2"], submitted_at=4, concluded_at=0)
    _backdate(registry, ids["late3"], submitted_at=5, due_at=3)
    _backdate(registry, ids["late1"], submitted_at=8, due_at=1 + 1 / 24)
    return DashboardSet(ids, coord, people)


def test_the_counts_of_the_set(registry: Registry) -> None:
    d = dashboard_set(registry)
    c = registry.referral_counts(d.coord)
    assert c.total == 5 and c.overdue == 2
    assert c.by_status == {"submitted": 2, "accepted": 1, "concluded": 1, "closed": 1}
    assert c.by_region == {"Tver": 2, "Pskov": 2, "": 1}  # "" is no region
    assert c.by_urgency == {"urgent": 2, "routine": 2, "emergency": 1}
    assert c.by_diagnosis == {"OMIM:154700": 2, "Homocystinuria": 1}  # not the one ruled out
    assert c.diagnosis_names["Homocystinuria"] == "Homocystinuria"
    assert c.diagnosis_names["OMIM:154700"] in ("Синдром Марфана", "Marfan syndrome")
    assert c.median_days_to_conclusion == pytest.approx(7.0, abs=0.01) and c.concluded == 2
    overdue = registry.overdue_referrals(d.coord)
    assert [r.id for r in overdue.data] == [d.ids["late3"], d.ids["late1"]]  # the most overdue first


def test_the_counts_of_a_region_and_a_period(registry: Registry) -> None:
    d = dashboard_set(registry)
    tver = registry.referral_counts(d.coord, region="Tver")
    assert tver.total == 2 and tver.overdue == 0 and tver.by_region == {"Tver": 2} and tver.concluded == 2
    none = registry.referral_counts(d.coord, region="")
    assert none.total == 1 and none.overdue == 1 and none.by_status == {"accepted": 1}
    assert [r.id for r in registry.overdue_referrals(d.coord, region="").data] == [d.ids["late1"]]
    assert [r.id for r in registry.overdue_referrals(d.coord, region="Pskov").data] == [d.ids["late3"]]
    today = dt.datetime.now(dt.UTC).date()
    recent = registry.referral_counts(d.coord, submitted_from=today - dt.timedelta(days=6))
    assert recent.total == 3 and recent.by_region == {"Pskov": 2, "Tver": 1}  # marfan2, late3, fresh
    assert recent.median_days_to_conclusion == pytest.approx(4.0, abs=0.01) and recent.concluded == 1
    older = registry.referral_counts(d.coord, submitted_to=today - dt.timedelta(days=7))
    assert older.total == 2 and older.overdue == 1  # marfan, late1
    one_day = registry.referral_counts(d.coord, submitted_from=today, submitted_to=today)
    assert one_day.total == 1 and one_day.by_status == {"submitted": 1}
    assert registry.list_referrals(d.coord, submitted_from=today - dt.timedelta(days=6)).count == 3
    with pytest.raises(InputError, match=r"submitted_to \(.*\) is before submitted_from"):
        registry.referral_counts(d.coord, submitted_from=today, submitted_to=today - dt.timedelta(days=1))
    for who in ("docT", "exp1"):
        with pytest.raises(PermissionDeniedError):
            registry.referral_counts(d.people[who])


def test_organisations_with_their_use(registry: Registry) -> None:
    d = dashboard_set(registry)
    use = {o.name: (o.region, o.users, o.referrals) for o in registry.organisation_usage(SYSTEM)}
    assert use == {"Pskov Regional Hospital": ("Pskov", 1, 2), "Tver Children's Hospital": ("Tver", 1, 3)}  # a draft too
    with pytest.raises(PermissionDeniedError):
        registry.organisation_usage(d.coord)
