"""The FastAPI application factory: a thin layer over :class:`raredx.registry.Registry` and :class:`raredx.RareDx`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from raredx import __version__
from raredx.core import RareDx
from raredx.registry import Registry, Settings
from raredx.registry.security import TokenSigner, load_or_create_secret

log = logging.getLogger(__name__)

DEMO_BANNER = ("DEMO MODE: the demo users' published passwords work and the data are synthetic. "
               "Never use demo mode for real patients.")


def create_app(settings: Settings | None = None, *, rdx: RareDx | None = None, registry: Registry | None = None) -> FastAPI:
    """The service. ``rdx`` and ``registry`` default to loading from ``settings`` (done once, at startup)."""
    from raredx.api import _errors
    from raredx.api._terms import TermIndex
    from raredx.api.routers import auth, patients, phenopackets, service

    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_registry = registry is None
        app.state.settings = settings
        app.state.rdx = rdx or RareDx.load(settings.data_dir, cache_dir=settings.cache_dir)
        app.state.rdx.engine  # noqa: B018 - build the engine before the first request
        kb = app.state.rdx.kb

        def equivalent_ids(disease_id: str) -> tuple[str, ...]:
            c = kb.concept(disease_id)
            return tuple(c.ids) if c is not None else (disease_id,)

        reg = registry or Registry.open(settings.url, ontology=kb.ontology, equivalent_ids=equivalent_ids)
        if reg.ontology is None:
            reg.ontology, reg.equivalent_ids = kb.ontology, equivalent_ids
        app.state.registry = reg
        secret = settings.secret_key or load_or_create_secret(settings.registry_dir / "token-key")
        app.state.signer = TokenSigner(secret, settings.token_minutes)
        app.state.terms = TermIndex(kb.ontology)
        if settings.demo:
            log.warning(DEMO_BANNER)
        yield
        if own_registry:
            reg.close()

    app = FastAPI(
        title="raredx registry" + (" — DEMO MODE" if settings.demo else ""),
        version=__version__,
        description=(DEMO_BANNER + "\n\n" if settings.demo else "")
        + "Rare-disease registry and diagnosis service. Get a token from `POST /api/auth/token`, then send "
          "`Authorization: Bearer TOKEN`. Every read and write of patient data is written to the audit log.",
        lifespan=lifespan,
    )
    _errors.install(app)
    for r in (auth.router, patients.router, phenopackets.router, service.router):
        app.include_router(r)
    from raredx.web import install as install_workbench  # the clinician web pages (after the error handlers)

    install_workbench(app)
    return app
