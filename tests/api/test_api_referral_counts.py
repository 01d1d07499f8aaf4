"""GET /api/referrals/counts narrowed by region and period, on SQLite and PostgreSQL, over the referrals of
tests/registry/test_referral_counts.py; a bad period or date is a 422 naming it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient

from raredx.registry import Registry
from registry.test_referral_counts import dashboard_set


def test_the_counts_by_region_and_period(client: TestClient, registry: Registry,
                                         auth: Callable[[str], dict[str, str]]) -> None:
    dashboard_set(registry)
    coord = auth("coord")
    every = client.get("/api/referrals/counts", headers=coord).json()
    assert every["total"] == 5 and every["by_region"] == {"Tver": 2, "Pskov": 2, "": 1} and every["concluded"] == 2
    assert every["diagnosis_names"]["Homocystinuria"] == "Homocystinuria"
    tver = client.get("/api/referrals/counts", params={"region": "Tver"}, headers=coord).json()
    assert tver["total"] == 2 and tver["overdue"] == 0
    today = dt.datetime.now(dt.UTC).date()
    recent = client.get("/api/referrals/counts", params={"submitted_from": str(today - dt.timedelta(days=6))},
                        headers=coord).json()
    assert recent["total"] == 3 and recent["concluded"] == 1
    bad = client.get("/api/referrals/counts", params={"submitted_from": str(today), "submitted_to": "2000-01-01"},
                     headers=coord)
    assert bad.status_code == 422 and "submitted_to (2000-01-01) is before submitted_from" in bad.json()["detail"]
    bad = client.get("/api/referrals/counts", params={"submitted_from": "01.05.2026"}, headers=coord)
    assert bad.status_code == 422 and "submitted_from" in bad.text
    assert client.get("/api/referrals/counts", headers=auth("docT")).status_code == 403
