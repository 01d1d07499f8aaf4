"""The cohort dashboard (server-side SVG charts of the registry's statistics) and the phenopacket import.

Import is two steps: the upload is checked without writing anything (the same record checks the registry
applies) and the report shown; "Import" then runs :meth:`Registry.import_phenopackets` on the kept upload."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from raredx.errors import InputError
from raredx.registry import Actor, Permission
from raredx.registry.errors import NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError
from raredx.registry.phenopackets import POLICIES
from raredx.web._render import render
from raredx.web._session import CsrfChecked, WebActor

router = APIRouter()
KEEP_SECONDS = 3600


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
    s = request.app.state.registry.statistics(actor)
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
@dataclass(frozen=True, slots=True)
class Upload:
    path: Path
    filename: str
    username: str
    at: float


def _uploads(request: Request) -> dict[str, Upload]:
    state = request.app.state
    if not hasattr(state, "web_uploads"):
        state.web_uploads = {}
    now = time.time()
    for key, up in list(state.web_uploads.items()):  # forget uploads nobody confirmed
        if now - up.at > KEEP_SECONDS:
            shutil.rmtree(up.path.parent, ignore_errors=True)
            del state.web_uploads[key]
    return state.web_uploads


@router.get("/import")
def import_page(request: Request, actor: WebActor) -> Response:
    actor.require(Permission.IMPORT)
    return render(request, "import.html", report=None, token=None, policy="lenient", final=False)


def _keep(request: Request, file: UploadFile) -> Path:
    """Copy the upload to a private temporary directory, refusing what is too large or not JSON/ZIP."""
    settings = request.app.state.settings
    name = Path(file.filename or "upload").name
    folder = Path(tempfile.mkdtemp(prefix="raredx-web-upload-"))
    path = folder / name
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    raise PayloadTooLargeError(f"{name} is larger than {settings.max_upload_mb} MiB; split it or "
                                               "raise RAREDX_MAX_UPLOAD_MB.")
                out.write(chunk)
        if size == 0:
            raise InputError("no file chosen (or the file is empty): choose a phenopacket .json or a .zip of them.")
        if not zipfile.is_zipfile(path) and path.read_bytes()[:1].strip() not in (b"{", b"["):
            raise UnsupportedMediaTypeError(f"{name} is neither a ZIP nor JSON; upload a phenopacket .json or a .zip of them.")
        if zipfile.is_zipfile(path) and path.suffix.lower() != ".zip":
            path = path.rename(path.with_suffix(".zip"))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path


def _check(request: Request, actor: Actor, path: Path, policy: str) -> dict[str, Any]:
    """What importing would do, without writing: the registry's own checks, per record."""
    report = request.app.state.registry.import_phenopackets(actor, path, policy=policy, dry_run=True)
    return _report(policy, report.records, report.imported, list(report.issues), path)


def _report(policy: str, records: int, imported: int, issues: list[Any], path: Path,
            patient_ids: tuple[int, ...] = ()) -> dict[str, Any]:
    where = str(path)
    return {"policy": policy, "records": records, "imported": imported, "rejected": records - imported,
            "patient_ids": list(patient_ids),
            "issues": [{"record": i.record.replace(where, path.name), "field": i.field, "reason": i.reason,
                        "severity": i.severity} for i in issues]}


@router.post("/import", dependencies=[CsrfChecked])
def import_check(request: Request, actor: WebActor, file: UploadFile,
                 policy: Annotated[str, Form()] = "lenient") -> Response:
    actor.require(Permission.IMPORT)
    if policy not in POLICIES:
        raise InputError(f"policy {policy!r}: choose strict or lenient.")
    path = _keep(request, file)
    report = _check(request, actor, path, policy)
    token = secrets.token_urlsafe(16)
    _uploads(request)[token] = Upload(path, path.name, actor.username, time.time())
    return render(request, "_import_report.html", report=report, token=token, policy=policy, final=False)


@router.post("/import/confirm", dependencies=[CsrfChecked])
async def import_confirm(request: Request, actor: WebActor, token: Annotated[str, Form()],
                         policy: Annotated[str, Form()] = "lenient") -> Response:
    up = _uploads(request).pop(token, None)
    if up is None or up.username != actor.username:
        raise NotFoundError("this upload is no longer kept (over an hour old, or imported already); upload the file again.")
    if policy not in POLICIES:
        raise InputError(f"policy {policy!r}: choose strict or lenient.")
    try:
        result = await run_in_threadpool(request.app.state.registry.import_phenopackets, actor, up.path, policy=policy)
    finally:
        shutil.rmtree(up.path.parent, ignore_errors=True)
    report = _report(policy, result.records, result.imported, list(result.issues), up.path, result.patient_ids)
    return render(request, "_import_report.html", report=report, token=None, policy=policy, final=True)
