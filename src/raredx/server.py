"""The service ``raredx serve`` runs: the REST API (:mod:`raredx.api`) and the clinician workbench
(:mod:`raredx.web`) in one FastAPI app, over the services of :mod:`raredx.app`. The one place that knows both."""

from __future__ import annotations

from fastapi import FastAPI

from raredx.config import Settings
from raredx.core import RareDx
from raredx.registry import Registry


def create_app(settings: Settings | None = None, *, rdx: RareDx | None = None, registry: Registry | None = None) -> FastAPI:
    """The API and the workbench; ``rdx`` and ``registry`` default to loading from ``settings`` at start-up."""
    from raredx import api, web

    return api.create_app(settings, rdx=rdx, registry=registry, install=(web.install,))


def app_from_environment() -> FastAPI:
    """The app of one worker process of ``raredx serve``: its settings from the ``RAREDX_*`` variables (the command
    puts its options there). Each worker loads the knowledge base and opens the registry once, at start-up."""
    return create_app(Settings())
