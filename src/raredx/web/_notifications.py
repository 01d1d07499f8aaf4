"""Notifications and the video consultation in the workbench (docs/referrals.md): ``/notifications`` (yours, unread
first, each in the page's language with a link that marks it read and opens its referral; mark one or all read),
and the video consultation form of the referral page (``_referral_video.html``). Thin over the registry, with the
signed-in user as actor; the nav's unread count comes from :func:`unread`."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from raredx.app import notification_text
from raredx.app.http import services
from raredx.errors import InputError, Message
from raredx.registry import Actor
from raredx.registry.schemas import VideoSlot
from raredx.web._referrals import _act, _page, _version
from raredx.web._render import redirect, render, translator
from raredx.web._session import CsrfChecked, WebActor

log = logging.getLogger(__name__)
router = APIRouter()
PAGE = 50


def unread(request: Request, actor: Actor | None) -> int:
    """How many unread notifications the signed-in user has (0 for none signed in, and when the count cannot be
    read: every page, the error pages too, asks for it)."""
    if actor is None:
        return 0
    try:
        return services(request).registry.unread_notifications(actor)
    except Exception:  # e.g. the database is down: the page (perhaps the error page saying so) is shown without it
        log.exception("could not count the unread notifications of %s", actor.username)
        return 0


@router.get("/notifications")
def notifications_page(request: Request, actor: WebActor, page: int = 1) -> Response:
    page = max(1, min(page, 10**6))
    reg = services(request).registry
    items = reg.list_notifications(actor, offset=(page - 1) * PAGE, limit=PAGE)
    lang = translator(request).lang
    texts = {n.id: notification_text(n, lang) for n in items.data}
    return render(request, "notifications.html", items=items, texts=texts, page=page,
                  more=page * PAGE < items.count)


@router.get("/notifications/{nid}/open")
def open_notification(request: Request, nid: int, actor: WebActor) -> Response:
    """Mark the notification read and open its referral (the link of the page and of the e-mail)."""
    n = services(request).registry.mark_notification_read(actor, nid)
    return redirect(request, f"/referrals/{n.referral_id}")


@router.post("/notifications/read-all", dependencies=[CsrfChecked])
def read_all(request: Request, actor: WebActor) -> Response:
    services(request).registry.mark_notifications_read(actor)
    return redirect(request, "/notifications")


@router.post("/notifications/{nid}/read", dependencies=[CsrfChecked])
def read_one(request: Request, nid: int, actor: WebActor) -> Response:
    services(request).registry.mark_notification_read(actor, nid)
    return redirect(request, "/notifications")


# -- the video consultation of a referral ------------------------------------------------------------------------------
def _slot(form: Any) -> dict[str, Any]:
    at = str(form.get("at") or "").strip()
    zone = str(form.get("timezone") or "").strip() or None
    try:
        when = dt.datetime.fromisoformat(at) if at else None
    except ValueError:
        when = None
    if when is None:
        raise InputError(Message("video.at: give the date and time of the consultation.", "video.no_time"))
    return {"at": when, "timezone": zone, "url": str(form.get("url") or "").strip()}


def _problem(exc: ValidationError) -> str:
    """The key of the first thing wrong with a video form (its field, as the schema's message names it)."""
    text = " ".join(str(e.get("msg", "")) for e in exc.errors())
    for field in ("timezone", "at", "url"):
        if f"video.{field}" in text or any(field in map(str, e.get("loc", ())) for e in exc.errors()):
            return f"video.error.{field}"
    return "video.error.url"


@router.post("/referrals/{rid}/video", dependencies=[CsrfChecked])
async def set_video(request: Request, rid: int, actor: WebActor) -> Response:
    form = await request.form()
    reg = services(request).registry
    t = translator(request)
    try:
        slot = VideoSlot.model_validate(_slot(form))
    except InputError as exc:
        return await run_in_threadpool(_page, request, actor, rid, status=422, error=t.message(exc))
    except ValidationError as exc:
        return await run_in_threadpool(_page, request, actor, rid, status=422, error=t(_problem(exc)))

    async def go() -> None:
        await run_in_threadpool(reg.set_video, actor, rid, slot, version=_version(form))

    return await _act(request, actor, rid, go, "video")


@router.post("/referrals/{rid}/video/cancel", dependencies=[CsrfChecked])
async def cancel_video(request: Request, rid: int, actor: WebActor) -> Response:
    form = await request.form()
    reg = services(request).registry

    async def go() -> None:
        await run_in_threadpool(reg.clear_video, actor, rid, version=_version(form))

    return await _act(request, actor, rid, go, "video")
