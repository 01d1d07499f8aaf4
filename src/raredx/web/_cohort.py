"""The cohort dashboard (server-side SVG charts of the registry's statistics) and the phenopacket import.

Import is two steps: the upload is checked without writing anything (the same record checks the registry
applies) and the report shown; "Import" then imports the kept upload (both through :mod:`raredx.app`). An
upload with nothing to import is removed at once; a user has at most two waiting."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from raredx.app import discard_upload, import_upload
from raredx.app.http import services
from raredx.registry import POLICIES, Permission, check_policy
from raredx.web._render import render
from raredx.web._session import CsrfChecked, WebActor

router = APIRouter()


# -- dashboard ----------------------------------------------------------------------------------------------
def bars(rows: list[dict[str, Any]], label: str = "value", count: str = "patients", top: int = 12) -> list[dict[str, Any]]:
    """Rows of a horizontal bar chart: label, count and the bar's share of the longest (0..1)."""
    rows = [r for r in rows if r.get(count)][:top]
    most = max((r[count] for r in rows), default=0) or 1
    return [{"label": r.get(label), "n": r[count], "share": r[count] / most} for r in rows]


def bins(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return bars([{"value": k, "patients": v} for k, v in summary.get("bins", {}).items()], top=10) if summary.get("n") else []


@router.get("/cohort")
def cohort(request: Request, actor: WebActor) -> Response:
    s = services(request).registry.statistics(actor)
    charts = [
        ("chart.disease", bars(s["by_disease"], "label"), "disease", s["by_disease"]),
        ("chart.region", bars(s["by_region"]), "region", None),
        ("chart.onset", bins(s["age_at_onset_years"]), "years", s["age_at_onset_years"]),
        ("chart.diagnosis", bins(s["age_at_diagnosis_years"]), "years", s["age_at_diagnosis_years"]),
        ("chart.delay", bins(s["diagnostic_delay_years"]), "years", s["diagnostic_delay_years"]),
        ("chart.provision", bars(s["by_provision_status"]), "status", None),
        ("chart.diagnosis_status", bars(s["by_diagnosis_status"]), "status", None),
        ("chart.sex", bars(s["by_sex"]), "sex", None),
    ]
    return render(request, "cohort.html", stats=s, charts=charts)


# -- import -------------------------------------------------------------------------------------------------
@router.get("/import")
def import_page(request: Request, actor: WebActor) -> Response:
    actor.require(Permission.IMPORT)
    return render(request, "import.html", report=None, token=None, policy="lenient", policies=POLICIES, final=False)


@router.post("/import", dependencies=[CsrfChecked])
def import_check(request: Request, actor: WebActor, file: UploadFile,
                 policy: Annotated[str, Form()] = "lenient") -> Response:
    """Check the upload without writing anything (the registry's own checks, per record) and keep it for
    "Import"."""
    actor.require(Permission.IMPORT)
    svc = services(request)
    check_policy(policy)
    path = svc.uploads.store(file.file, file.filename, file.content_type, max_mb=svc.settings.max_upload_mb)
    try:
        report = import_upload(svc.registry, actor, path, policy, dry_run=True)
    except BaseException:
        discard_upload(path)
        raise
    if not report["imported"]:  # nothing to import: the file is not kept
        discard_upload(path)
        return render(request, "_import_report.html", report=report, token=None, policy=policy, final=False)
    token = svc.uploads.keep(path, actor)
    return render(request, "_import_report.html", report=report, token=token, policy=policy, final=False)


@router.post("/import/confirm", dependencies=[CsrfChecked])
async def import_confirm(request: Request, actor: WebActor, token: Annotated[str, Form()],
                         policy: Annotated[str, Form()] = "lenient") -> Response:
    svc = services(request)
    path = svc.uploads.take(token, actor)
    try:
        report = await run_in_threadpool(import_upload, svc.registry, actor, path, policy)
    finally:
        discard_upload(path)
    return render(request, "_import_report.html", report=report, token=None, policy=policy, final=True)
