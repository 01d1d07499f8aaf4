"""The coordinator's dashboard (docs/referrals.md): referrals by status, urgency, region and concluded diagnosis as
server-rendered bar tables, the median time from submission to conclusion, and the overdue referrals, most overdue
first; narrowed to one region and a period of submission when the filter form asks. Coordinators and admins (the
TRIAGE permission); anyone else gets the 403 page. The numbers are :meth:`raredx.registry.Registry.referral_counts`,
the list :meth:`~raredx.registry.Registry.overdue_referrals`, with the signed-in user as actor."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from raredx.app.http import services
from raredx.errors import InputError, Message
from raredx.registry import Permission
from raredx.registry.schemas import REFERRAL_STATUSES, URGENCIES
from raredx.web._cohort import bars
from raredx.web._render import render, translator
from raredx.web._session import WebActor

router = APIRouter(prefix="/referrals")
NO_REGION = "-"  # the filter's value for referrals without a region
OVERDUE_ROWS = 50


def _date(request: Request, name: str) -> dt.date | None:
    value = (request.query_params.get(name) or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        field = Message("submitted from", "dash.field.from") if name == "from" else Message("submitted to", "dash.field.to")
        raise InputError(Message(f"{field}: {value!r} is not a date; give it as YYYY-MM-DD or leave it empty.",
                                 "dash.bad_date", field=field, value=repr(value))) from None


def _rows(counts: dict[str, int], order: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Bar-table rows (label, n, share of the longest bar) in ``order`` when given, else by count."""
    keys = [k for k in order if k in counts] if order else list(counts)
    return bars([{"value": k, "n": counts[k]} for k in keys], count="n", top=50)


@router.get("/dashboard")
def dashboard(request: Request, actor: WebActor) -> Response:
    actor.require(Permission.TRIAGE)
    reg = services(request).registry
    t = translator(request)
    chosen = (request.query_params.get("region") or "").strip()
    region = None if not chosen else "" if chosen == NO_REGION else chosen
    error, status = None, 200
    try:
        start, end = _date(request, "from"), _date(request, "to")
        counts = reg.referral_counts(actor, region=region, submitted_from=start, submitted_to=end)
    except InputError as exc:  # a date the form could not take, or a period that ends before it starts
        error, status, start, end = t.message(exc), 422, None, None
        counts = reg.referral_counts(actor, region=region)
    overdue = reg.overdue_referrals(actor, region=region, submitted_from=start, submitted_to=end, limit=OVERDUE_ROWS)
    now = dt.datetime.now(dt.UTC)
    late = [(r, (now - r.due_at).days if r.due_at else 0) for r in overdue.data]
    regions = sorted({o.region for o in reg.list_organisations(actor) if o.region} | {k for k in counts.by_region if k}
                     | ({region} if region else set()))
    charts = [
        ("dash.by_status", "status", _rows(counts.by_status, REFERRAL_STATUSES)),
        ("dash.by_urgency", "urgency", _rows(counts.by_urgency, URGENCIES)),
        ("dash.by_region", "region", _rows(counts.by_region)),
        ("dash.by_diagnosis", "diagnosis", _rows(counts.by_diagnosis)),
    ]
    return render(request, "dashboard.html", status=status, counts=counts, charts=charts, overdue=overdue, late=late,
                  regions=regions, chosen=chosen, no_region=NO_REGION, error=error,
                  start=start.isoformat() if start else "", end=end.isoformat() if end else "",
                  filtered=bool(chosen or start or end))
