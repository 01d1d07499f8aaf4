"""Mount the workbench into the service's FastAPI app (done by :func:`raredx.server.create_app`)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

Handler = Callable[[Request, Exception], Awaitable[Response]]
AnyHandler = Callable[[Request, Any], Response | Awaitable[Response]]  # what FastAPI keeps


def install(app: FastAPI) -> None:
    """Add the pages, ``/static``, and an HTML face to the app's error handlers (JSON stays for ``/api``)."""
    from raredx.app.http import allow_uploads
    from raredx.web import (
        _admin,
        _auth,
        _cohort,
        _dashboard,
        _diagnosis,
        _mme,
        _organisations,
        _patients,
        _reanalysis,
        _referrals,
        _render,
    )

    # the dashboard before the referral pages: /referrals/dashboard is not a referral's /referrals/{id}
    for module in (_auth, _mme, _patients, _diagnosis, _cohort, _reanalysis, _dashboard, _referrals, _admin, _organisations):
        app.include_router(module.router, include_in_schema=False)
    allow_uploads(app, "/import", _referrals.UPLOAD)
    static = resources.files("raredx.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    def either(json_handler: AnyHandler) -> Handler:
        async def handle(request: Request, exc: Exception) -> Response:
            if _render.is_web(request):
                return await _render.web_error(request, exc)
            response = json_handler(request, exc)
            return await response if inspect.isawaitable(response) else response

        return handle

    for exc_type, handler in list(app.exception_handlers.items()):
        app.add_exception_handler(exc_type, either(handler))
