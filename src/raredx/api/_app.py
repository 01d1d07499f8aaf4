"""The REST API's application: the routers and the JSON error handler, installed into the app shell of
:mod:`raredx.app.http` (``raredx serve`` adds the workbench beside it, see :mod:`raredx.server`)."""

from __future__ import annotations

from fastapi import FastAPI

from raredx.app import DEMO_BANNER
from raredx.app import http as shell
from raredx.config import Settings
from raredx.core import RareDx
from raredx.registry import Registry

DESCRIPTION = ("Rare-disease registry and diagnosis service. Get a token from `POST /api/auth/token`, then send "
               "`Authorization: Bearer TOKEN`; `POST /api/auth/logout` revokes it. Every read and write of patient data "
               "is written to the audit log.")


def create_app(settings: Settings | None = None, *, rdx: RareDx | None = None, registry: Registry | None = None,
               install: tuple[shell.Installer, ...] = ()) -> FastAPI:
    """The REST API (``/api``, OpenAPI docs at ``/docs``); ``rdx`` and ``registry`` default to loading from
    ``settings`` (done once, at start-up); ``install`` adds more (the workbench) after the API's routes."""
    settings = settings or Settings()
    return shell.create_app(
        settings, rdx=rdx, registry=registry, install=(install_api, *install),
        title="raredx registry" + (" — DEMO MODE" if settings.demo else ""),
        description=(DEMO_BANNER + "\n\n" if settings.demo else "") + DESCRIPTION,
    )


def install_api(app: FastAPI) -> None:
    from raredx.api import _errors
    from raredx.api.routers import auth, mme, notifications, patients, phenopackets, reanalysis, referrals, service

    _errors.install(app)
    for r in (auth.router, patients.router, phenopackets.router, reanalysis.router, referrals.router,
              referrals.organisations, notifications.router, notifications.video, service.router):
        app.include_router(r)
    # the Matchmaker Exchange's contract is the GA4GH specification (its own headers and error body), not this
    # API's OpenAPI document (docs/mme.md)
    app.include_router(mme.router, include_in_schema=False)
    shell.allow_uploads(app, "/api/phenopackets/import", referrals.UPLOAD)
