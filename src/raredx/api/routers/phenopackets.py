from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Form, Query, UploadFile
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from raredx.api._errors import ErrorWithProblems, api_text, errors
from raredx.api.deps import CurrentActor, RegistryDep, ServicesDep
from raredx.api.schemas import ImportReportOut, PatientFilter
from raredx.app import discard_upload, import_upload, write_zip
from raredx.registry import check_policy

router = APIRouter(prefix="/api/phenopackets", tags=["phenopackets"], responses=errors(401, 403, 422))
ZIP = {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
       "description": "A ZIP with one phenopacket JSON file per patient (phenopackets/PSEUDONYM.json)"}


@router.post("/import", response_model=ImportReportOut, responses=errors(415),
             summary="Import a phenopacket JSON file or a ZIP of them (multipart field 'file')")
async def import_phenopackets(file: UploadFile, svc: ServicesDep, actor: CurrentActor,
                              policy: Annotated[str, Form()] = "lenient") -> ImportReportOut:
    check_policy(policy)
    path = await run_in_threadpool(svc.uploads.store, file.file, file.filename, file.content_type,
                                   max_mb=svc.settings.max_upload_mb)
    try:
        report = await run_in_threadpool(import_upload, svc.registry, actor, path, policy)
    finally:
        discard_upload(path)
    for issue in report["issues"]:
        issue["reason"] = api_text(issue["reason"])
    if report["failed"]:
        raise ErrorWithProblems(f"nothing imported from {file.filename!r}: {report['issues'][0]['reason']}",
                                report["issues"])
    return ImportReportOut.model_validate(report)


@router.get("/export", summary="Matching patients as a ZIP of phenopackets", response_class=StreamingResponse,
            responses={200: ZIP})
def export_phenopackets(registry: RegistryDep, actor: CurrentActor, filters: Annotated[PatientFilter, Query()]) -> StreamingResponse:
    buf = io.BytesIO()
    write_zip(registry.export_phenopacket_files(actor, filters), buf)
    buf.seek(0)
    return StreamingResponse(buf, media_type="application/zip",
                             headers={"Content-Disposition": 'attachment; filename="phenopackets.zip"'})
