from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import StreamingResponse

from raredx.api._errors import ErrorWithProblems
from raredx.api.deps import CurrentActor, RegistryDep, SettingsDep
from raredx.api.schemas import ImportReportOut, PatientFilter
from raredx.registry.errors import PayloadTooLargeError, UnsupportedMediaTypeError
from raredx.registry.phenopackets import POLICIES

router = APIRouter(prefix="/api/phenopackets", tags=["phenopackets"])

JSON_TYPES = ("application/json",)
ZIP_TYPES = ("application/zip", "application/x-zip-compressed", "application/x-zip")


@router.post("/import", response_model=ImportReportOut,
             summary="Import a phenopacket JSON file or a ZIP of them (multipart field 'file')")
async def import_phenopackets(request: Request, file: UploadFile, registry: RegistryDep, settings: SettingsDep,
                              actor: CurrentActor, policy: Annotated[str, Form()] = "lenient") -> ImportReportOut:
    from starlette.concurrency import run_in_threadpool

    if policy not in POLICIES:
        raise ErrorWithProblems(f"policy {policy!r}: choose strict or lenient.", [{"field": "policy", "reason": "unknown"}])
    limit = settings.max_upload_bytes
    if int(request.headers.get("content-length") or 0) > limit + 64 * 1024:
        raise PayloadTooLargeError(f"the upload is larger than {settings.max_upload_mb} MiB; split it or raise RAREDX_MAX_UPLOAD_MB.")
    ctype = (file.content_type or "").split(";")[0].strip().lower()
    if ctype not in JSON_TYPES + ZIP_TYPES:
        raise UnsupportedMediaTypeError(
            f"file {file.filename!r} has content type {ctype or 'none'!r}; send application/json (one phenopacket) "
            "or application/zip (many).")
    suffix = ".zip" if ctype in ZIP_TYPES else ".json"
    fd, tmp = tempfile.mkstemp(suffix=suffix, prefix="raredx-upload-")
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLargeError(f"the upload is larger than {settings.max_upload_mb} MiB; split it or "
                                               "raise RAREDX_MAX_UPLOAD_MB.")
                out.write(chunk)
        if suffix == ".zip" and not zipfile.is_zipfile(tmp):
            raise UnsupportedMediaTypeError(f"file {file.filename!r} is declared as a ZIP but is not one.")
        report = await run_in_threadpool(registry.import_phenopackets, actor, tmp, policy=policy)  # type: ignore[arg-type]
    finally:
        os.unlink(tmp)
    out_report = report.to_dict()
    for issue in out_report["issues"]:  # name the uploaded file, not the temporary copy
        issue["record"] = issue["record"].replace(tmp, file.filename or "upload")
    if report.imported == 0 and any(i["severity"] != "note" for i in out_report["issues"]):
        raise ErrorWithProblems(
            f"nothing imported from {file.filename!r}: {out_report['issues'][0]['reason']}", out_report["issues"])
    return ImportReportOut.model_validate(out_report)


@router.get("/export", summary="Matching patients as a ZIP of phenopackets", response_class=StreamingResponse)
def export_phenopackets(registry: RegistryDep, actor: CurrentActor, filters: Annotated[PatientFilter, Query()]) -> StreamingResponse:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for doc in registry.export_phenopackets(actor, filters):
            zf.writestr(f"phenopackets/{doc['id']}.json", json.dumps(doc, indent=2))
    buf.seek(0)
    return StreamingResponse(buf, media_type="application/zip",
                             headers={"Content-Disposition": 'attachment; filename="phenopackets.zip"'})
