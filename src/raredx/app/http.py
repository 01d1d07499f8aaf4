"""The HTTP shell the interfaces are installed into: a FastAPI app whose lifespan opens the :class:`Services`
once, and the dependencies that hand them to routes. The REST API (:mod:`raredx.api`) and the workbench
(:mod:`raredx.web`) both build on it and never import each other; :mod:`raredx.server` puts them together."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from raredx import __version__
from raredx.app._limits import BodyLimit
from raredx.app._services import Services
from raredx.config import Settings
from raredx.core import RareDx
from raredx.errors import RaredxError
from raredx.registry import Registry
from raredx.registry.errors import PermissionDeniedError

Installer = Callable[[FastAPI], None]


def create_app(settings: Settings | None = None, *, rdx: RareDx | None = None, registry: Registry | None = None,
               install: Iterable[Installer] = (), **fastapi: Any) -> FastAPI:
    """A FastAPI app that opens the services at start-up (``rdx`` and ``registry`` default to loading from
    ``settings``) and closes them at shut-down, with each of ``install`` applied to it in order."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = Services.open(settings, rdx=rdx, registry=registry)
        yield
        app.state.services.close()

    app = FastAPI(version=__version__, lifespan=lifespan, **fastapi)
    app.state.upload_paths = set()
    app.add_middleware(BodyLimit, max_body_kb=settings.max_body_kb, max_upload_mb=settings.max_upload_mb,
                       upload_paths=app.state.upload_paths)
    for step in install:
        step(app)
    _audit_denials(app)
    return app


def allow_uploads(app: FastAPI, *paths: str) -> None:
    """Give the routes at ``paths`` the upload limit (``RAREDX_MAX_UPLOAD_MB``) instead of the body limit."""
    app.state.upload_paths.update(paths)


def _audit_denials(app: FastAPI) -> None:
    """Every refused request (403) goes to the audit log, then to the handler that answers it."""
    answer = app.exception_handlers.get(RaredxError) or app.exception_handlers.get(Exception)
    if answer is None:
        return

    async def audited(request: Request, exc: Exception) -> Response:
        await run_in_threadpool(_record_denial, request, exc)
        response = answer(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(PermissionDeniedError, audited)


def _record_denial(request: Request, exc: Exception) -> None:
    actor = getattr(exc, "actor", None) or getattr(request.state, "actor", None)
    params = request.path_params
    raw = params.get("patient_id", params.get("pid"))
    patient_id = int(raw) if isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit()) else None
    detail = {"method": request.method, "path": request.url.path, "permission": getattr(exc, "permission", None)}
    services(request).registry.audit_denied(actor, patient_id=patient_id, **{k: v for k, v in detail.items() if v})


def services(request: Request) -> Services:
    """The services of the app serving ``request``."""
    svc: Services = request.app.state.services
    return svc


async def _services(request: Request) -> Services:
    # a dependency that does not block is async: FastAPI runs sync dependencies in its thread pool, a hop per call
    return services(request)


ServicesDep = Annotated[Services, Depends(_services)]


def private_file(path: Path, media_type: str, filename: str) -> FileResponse:
    """A stored file given to a user who may see it (an attachment, a conclusion): served as the type recorded for
    it, never sniffed, never kept by a cache."""
    return FileResponse(path, media_type=media_type, filename=filename,
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
