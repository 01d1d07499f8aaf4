"""One exception handler: every error becomes ``{"error": TYPE, "detail": MESSAGE, "problems": [...]}``
(:class:`raredx.api.schemas.ErrorOut`) with the status its class carries (``RaredxError.http_status``), and
:func:`errors`, which documents those answers in the OpenAPI schema with that model (the routers say which)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from raredx.api.schemas import ErrorOut
from raredx.errors import Message, RaredxError

log = logging.getLogger(__name__)

WHY: dict[int, str] = {
    401: "Not authenticated: no bearer token, or it is invalid or expired (or the user was disabled)",
    403: "The user's role does not allow this",
    404: "No such patient (or it was deleted), referral, attachment or organisation",
    409: "Conflict: the name is taken, someone saved the record since you read it (send the new version), or the "
         "referral's status does not allow this (the detail names the allowed ones)",
    413: "The request body is larger than the server accepts",
    415: "The upload is not of a type this route takes (a phenopacket import: JSON or a ZIP of them; a referral "
         "attachment: PDF, PNG, JPEG, VCF, CSV, TSV or XLSX); the detail says which",
    422: "The request is not valid: the detail and the problems say which field and why",
    429: "Too many failed sign-ins: wait before trying again",
    503: "The server cannot do this now (e.g. the PDF of a referral's conclusion cannot be made); nothing was "
         "changed, the detail says why",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route or router: the error answers it may give, each with the model the handler
    below sends. 413 (the body-size limit) applies to every route, so it is always included."""
    return {status: {"model": ErrorOut, "description": WHY[status]} for status in sorted({413, *statuses})}


class ErrorWithProblems(RaredxError):
    """A request error that carries a list of problems (e.g. an import's validation report)."""

    def __init__(self, message: str, problems: list[dict[str, Any]], status: int = 422) -> None:
        super().__init__(message)
        self.problems = problems
        self.http_status = status


# Messages whose text names a CLI option, as the API says them (its own options): the Message key -> the text
_API_TEXT = {
    "unknown_term": "unknown HPO term {term!r}: it is not in the loaded HPO release. Check the id (format HP:0000118), "
                    "or skip unknown terms: lenient=true for a diagnosis, policy=lenient for an import.",
    "unknown_term_in": "unknown HPO term {term!r} in {where}: it is not in the loaded HPO release. Check the id (format "
                       "HP:0000118), or skip unknown terms: lenient=true for a diagnosis, policy=lenient for an import.",
}


def api_text(message: object) -> str:
    """A message (an error's, an import problem's) in the API's words where its text names a CLI option."""
    if isinstance(message, Message) and message.key in _API_TEXT:
        return _API_TEXT[message.key].format(**{k: str(v) for k, v in message.params.items()})
    return str(message)


def _detail(exc: RaredxError) -> str:
    return api_text(exc.args[0]) if len(exc.args) == 1 else str(exc)


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("body",)) or "body"


async def handle_error(request: Request, exc: Exception) -> JSONResponse:
    headers = None
    problems: list[dict[str, Any]] = []
    if isinstance(exc, RequestValidationError):
        status, kind = 422, "InputError"
        for e in exc.errors():
            reason = str(e.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append({"field": _where(tuple(e.get("loc", ()))), "reason": reason})
        detail = "; ".join(f"{p['field']}: {p['reason']}" for p in problems[:5]) or "the request is not valid"
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            detail = f"the body is not valid JSON ({problems[0]['reason']}); send a JSON object."
    elif isinstance(exc, StarletteHTTPException) and exc.status_code == 400 and (why := exc.__cause__ or exc.__context__):
        # FastAPI or Starlette could not read the body (not UTF-8, a broken multipart form): malformed input, as
        # bad JSON is (FastAPI's own message says nothing, the cause does)
        status, kind = 422, "InputError"
        reason = str(exc.detail) if exc.detail != "There was an error parsing the body" else str(why) or type(why).__name__
        reason = reason.splitlines()[0][:200]
        detail = f"the body cannot be read ({reason}); send UTF-8 JSON, or a multipart/form-data form for uploads."
        problems = [{"field": "body", "reason": reason}]
    elif isinstance(exc, StarletteHTTPException):
        status, kind, detail = exc.status_code, "HTTPError", str(exc.detail)
        headers = getattr(exc, "headers", None)
    elif isinstance(exc, RaredxError):
        status, kind, detail = exc.http_status, type(exc).__name__, _detail(exc)
        problems = getattr(exc, "problems", [])
        if status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
    else:  # pragma: no cover - a bug: log it, say little
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        status, kind, detail = 500, "InternalError", "internal error; the server log has the details."
    body: dict[str, Any] = {"error": kind, "detail": detail}
    if problems:
        body["problems"] = problems
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    for exc_type in (RaredxError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(exc_type, handle_error)
