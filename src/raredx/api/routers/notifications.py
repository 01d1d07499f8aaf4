"""Your notifications (what happened to the referrals you take part in), and a referral's video consultation
(docs/referrals.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from raredx.api._errors import errors
from raredx.api.deps import CurrentActor, RegistryDep
from raredx.api.schemas import (
    MAX_ID,
    NotificationPublic,
    NotificationQuery,
    NotificationsPublic,
    NotificationsRead,
    ReferralPublic,
    VideoIn,
)

router = APIRouter(prefix="/api/notifications", tags=["notifications"], responses=errors(401, 422))
video = APIRouter(prefix="/api/referrals", tags=["referrals"], responses=errors(401, 403, 404, 409, 422))
ReferralId = Annotated[int, Path(ge=1, le=MAX_ID, description="the referral's id")]


@router.get("", response_model=NotificationsPublic, summary="Your notifications, unread first, newest first")
def list_notifications(registry: RegistryDep, actor: CurrentActor,
                       q: Annotated[NotificationQuery, Query()]) -> NotificationsPublic:
    return registry.list_notifications(actor, unread_only=q.unread, offset=q.offset, limit=q.limit)


@router.post("/read-all", response_model=NotificationsRead, summary="Mark all your notifications read")
def read_all(registry: RegistryDep, actor: CurrentActor) -> NotificationsRead:
    return NotificationsRead(marked=registry.mark_notifications_read(actor))


@router.post("/{notification_id}/read", response_model=NotificationPublic, responses=errors(404),
             summary="Mark one of your notifications read (another user's is not found)")
def read_one(notification_id: Annotated[int, Path(ge=1, le=MAX_ID)], registry: RegistryDep,
             actor: CurrentActor) -> NotificationPublic:
    return registry.mark_notification_read(actor, notification_id)


@video.put("/{referral_id}/video", response_model=ReferralPublic,
           summary="Schedule or change the video consultation (a coordinator or an assigned expert, while the "
                   "referral is open); the referrer and the experts are notified")
def set_video(referral_id: ReferralId, body: VideoIn, registry: RegistryDep, actor: CurrentActor) -> ReferralPublic:
    return registry.set_video(actor, referral_id, body, version=body.version)


@video.delete("/{referral_id}/video", response_model=ReferralPublic,
              summary="Cancel the video consultation; send the version you read")
def clear_video(referral_id: ReferralId, registry: RegistryDep, actor: CurrentActor,
                version: Annotated[int, Query(ge=1, le=MAX_ID)]) -> ReferralPublic:
    return registry.clear_video(actor, referral_id, version=version)
