"""One exception handler: every error becomes ``{"error": TYPE, "detail": MESSAGE, "problems": [...]}``
with the status its class carries (``RaredxError.http_status``)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from raredx.errors import RaredxError

log = logging.getLogger(__name__)


class ErrorWithProblems(RaredxError):
    """A request error that carries a list of problems (e.g. an import's validation report)."""

    def __init__(self, message: str, problems: list[dict[str, Any]], status: int = 422) -> None:
        super().__init__(message)
        self.problems = problems
        self.http_status = status


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("body",)) or "body"


async def handle_error(request: Request, exc: Exception) -> JSONResponse:
    headers = None
    problems: list[dict[str, Any]] = []
    if isinstance(exc, RequestValidationError):
        status, kind = 422, "InputError"
        for e in exc.errors():
            problems.append({"field": _where(tuple(e.get("loc", ()))), "reason": e.get("msg", "invalid")})
        detail = "; ".join(f"{p['field']}: {p['reason']}" for p in problems[:5]) or "the request is not valid"
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            detail = f"the body is not valid JSON ({problems[0]['reason']}); send a JSON object."
    elif isinstance(exc, StarletteHTTPException):
        status, kind, detail = exc.status_code, "HTTPError", str(exc.detail)
        headers = getattr(exc, "headers", None)
    elif isinstance(exc, RaredxError):
        status, kind, detail = exc.http_status, type(exc).__name__, str(exc)
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
