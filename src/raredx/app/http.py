"""The HTTP shell the interfaces are installed into: a FastAPI app whose lifespan opens the :class:`Services`
once, and the dependencies that hand them to routes. The REST API (:mod:`raredx.api`) and the workbench
(:mod:`raredx.web`) both build on it and never import each other; :mod:`raredx.server` puts them together."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from raredx import __version__
from raredx.app._services import Services
from raredx.config import Settings
from raredx.core import RareDx
from raredx.registry import Registry

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
    for step in install:
        step(app)
    return app


def services(request: Request) -> Services:
    """The services of the app serving ``request``."""
    svc: Services = request.app.state.services
    return svc


async def _services(request: Request) -> Services:
    # a dependency that does not block is async: FastAPI runs sync dependencies in its thread pool, a hop per call
    return services(request)


ServicesDep = Annotated[Services, Depends(_services)]
