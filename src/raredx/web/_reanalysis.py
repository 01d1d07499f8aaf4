"""The re-analysis page: the patients whose picture changed when the knowledge base changed (what ``raredx
registry reanalyse`` and each diagnosis of a stored patient keep), newest first, with what changed and why."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from raredx.app.http import services
from raredx.web._render import render
from raredx.web._session import WebActor

router = APIRouter()
PAGE = 25


@router.get("/reanalysis")
def reanalysis(request: Request, actor: WebActor, offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    page = services(request).registry.changed_patients(actor, offset=offset, limit=PAGE)
    return render(request, "reanalysis.html", page=page, page_size=PAGE, kb_version=services(request).rdx.kb.version)
