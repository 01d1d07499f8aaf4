"""Notifications and the video consultation of a referral (docs/referrals.md). A part of
:class:`raredx.registry.Registry` (it inherits these methods), beside :class:`raredx.registry._referrals.Referrals`.

A notification is written in the same transaction as the event it tells of (a submission, a return for
information, an assignment, a message, a conclusion, a video consultation scheduled, changed or cancelled), for
each user concerned but never the one who acted. Its row is also the e-mail outbox: once the transaction has
committed, the registry hands the new rows' ids to ``on_notified`` (``raredx.app`` sends them, if an SMTP server
is configured) and :meth:`record_emails` keeps what came of it; a failed e-mail never touches the event."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from raredx.errors import InputError, Message
from raredx.registry import _models as m
from raredx.registry.errors import ConflictError, NotFoundError, PermissionDeniedError
from raredx.registry.referrals import OPEN
from raredx.registry.schemas import (
    MAX_ID,
    NotificationPublic,
    NotificationsPublic,
    OutgoingEmail,
    ReferralPublic,
    VideoPublic,
    VideoSlot,
)
from raredx.registry.security import ROLES, Actor, Permission

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

log = logging.getLogger(__name__)
_P = Permission
MAX_EMAIL_ATTEMPTS = 5  # an e-mail that failed this often is no longer pending
# the roles told of what the centre as a whole must act on (submissions, conclusions): those that triage
# referrals, admins aside (they hold every permission, and are not the centre's desk)
COORDINATOR_ROLES = tuple(r for r, p in ROLES.items() if _P.TRIAGE in p and _P.MANAGE_USERS not in p)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Notifications:
    """The notification and video part of the registry service (see the module's documentation)."""

    # set by raredx.app.Services: called with the ids of the notifications a transaction wrote, once it committed
    on_notified: Callable[[list[int]], None] | None = None
    video_url_prefix: str | None = None  # RAREDX_VIDEO_URL_PREFIX: a video link must start with it

    if TYPE_CHECKING:
        _sessions: sessionmaker[Session]

        @staticmethod
        def _audit(s: Session, actor: Actor, action: str, patient_id: int | None = None, **detail: Any) -> None: ...
        def _referral(self, s: Session, actor: Actor, referral_id: int) -> m.Referral: ...
        def _relation(self, s: Session, actor: Actor, row: m.Referral) -> set[Permission]: ...
        def _bump(self, s: Session, row: m.Referral, expected: int, actor: Actor, **values: Any) -> None: ...
        def _public(self, s: Session, actor: Actor, row: m.Referral) -> ReferralPublic: ...

    def _listen_for_commits(self) -> None:
        """Hand each committed transaction's new notifications to :attr:`on_notified` (a rolled-back one's are gone
        with it)."""
        event.listen(self._sessions, "after_commit", self._committed)
        event.listen(self._sessions, "after_rollback", lambda s: s.info.pop("notified", None))

    def _committed(self, s: Session) -> None:
        ids = s.info.pop("notified", None)
        if ids and self.on_notified is not None:
            try:
                self.on_notified(list(ids))
            except Exception:  # the event is committed: nothing the sender does may undo or fail it
                log.exception("could not hand notifications %s to the e-mail sender", ids)

    # -- writing them (inside the event's transaction) --------------------------------------------------------------
    def _notify(self, s: Session, actor: Actor, row: m.Referral, kind: str, recipients: Iterable[str],
                **detail: Any) -> None:
        """A ``kind`` notification about ``row`` for each active user of ``recipients`` but ``actor``."""
        names = {n for n in recipients if n and n != actor.username}
        if not names:
            return
        U = m.User
        found = sorted(s.scalars(select(U.username).where(U.username.in_(names), U.active)))
        now = _now()
        rows = [m.Notification(username=n, referral_id=row.id, kind=kind, actor=actor.username[:100],
                               detail=detail or None, created_at=now, email_attempts=0) for n in found]
        if rows:
            s.add_all(rows)
            s.flush()
            s.info.setdefault("notified", []).extend(r.id for r in rows)

    @staticmethod
    def _coordinators(s: Session) -> list[str]:
        return list(s.scalars(select(m.User.username).where(m.User.role.in_(COORDINATOR_ROLES), m.User.active)))

    @staticmethod
    def _experts_of(s: Session, referral_id: int) -> list[str]:
        A = m.ReferralAssignment
        return list(s.scalars(select(A.expert).where(A.referral_id == referral_id)))

    def _notify_status(self, s: Session, actor: Actor, row: m.Referral, before: str | None, to: str) -> None:
        """What a status change tells whom: a submission the coordinators; a return for information the referrer;
        a conclusion the referrer and the coordinators."""
        if to == "submitted":
            kind = "resubmitted" if before == "returned_for_information" else "submitted"
            self._notify(s, actor, row, kind, self._coordinators(s))
        elif to == "returned_for_information":
            self._notify(s, actor, row, to, [row.referrer])
        elif to == "concluded":
            self._notify(s, actor, row, to, [row.referrer, *self._coordinators(s)])

    def _notify_message(self, s: Session, actor: Actor, row: m.Referral) -> None:
        """A new message on the thread: for the other parties of the referral: its referrer, its experts and the
        coordinators who dealt with it (changed its status, assigned or wrote); the referrer's message, while none of
        the centre has dealt with it, every coordinator."""
        C, A, M = m.ReferralStatusChange, m.ReferralAssignment, m.ReferralMessage
        desk = set(COORDINATOR_ROLES)
        involved = set(s.scalars(select(C.by).where(C.referral_id == row.id, C.role.in_(desk))))
        involved |= set(s.scalars(select(M.author).where(M.referral_id == row.id, M.role.in_(desk))))
        involved |= set(s.scalars(select(A.assigned_by).where(A.referral_id == row.id)))
        centre = (involved | set(self._experts_of(s, row.id))) - {actor.username}
        if not centre and actor.username == row.referrer:
            centre = set(self._coordinators(s))
        self._notify(s, actor, row, "message", {row.referrer, *centre})

    # -- reading them -----------------------------------------------------------------------------------------------
    def list_notifications(self, actor: Actor, *, unread_only: bool = False, offset: int = 0,
                           limit: int = 50) -> NotificationsPublic:
        """``actor``'s own notifications, unread first, newest first (anyone signed in has theirs)."""
        from raredx.registry._service import _check_page

        _check_page(offset, limit)
        N = m.Notification
        mine = [N.username == actor.username]
        where = [*mine, N.read_at.is_(None)] if unread_only else mine
        with self._sessions() as s:
            count = s.scalar(select(func.count()).select_from(N).where(*where)) or 0
            unread = s.scalar(select(func.count()).select_from(N).where(*mine, N.read_at.is_(None))) or 0
            rows = s.scalars(select(N).where(*where).order_by(N.read_at.is_not(None), N.id.desc())
                             .offset(offset).limit(limit))
            return NotificationsPublic(data=[NotificationPublic.model_validate(r) for r in rows], count=count,
                                       unread=unread, offset=offset, limit=limit)

    def unread_notifications(self, actor: Actor) -> int:
        """How many of ``actor``'s notifications are unread (the workbench's nav shows it)."""
        N = m.Notification
        with self._sessions() as s:
            return s.scalar(select(func.count()).select_from(N).where(N.username == actor.username,
                                                                      N.read_at.is_(None))) or 0

    def mark_notification_read(self, actor: Actor, notification_id: int) -> NotificationPublic:
        """Mark one of ``actor``'s notifications read (someone else's is not found, as one that does not exist)."""
        N = m.Notification
        with self._sessions.begin() as s:
            row = s.get(N, notification_id) if 0 < notification_id <= MAX_ID else None
            if row is None or row.username != actor.username:
                raise NotFoundError(Message(f"you have no notification {notification_id}; GET /api/notifications "
                                            "lists yours.", "notify.none", id=notification_id))
            if row.read_at is None:
                row.read_at = _now()
            return NotificationPublic.model_validate(row)

    def mark_notifications_read(self, actor: Actor, *, referral_id: int | None = None) -> int:
        """Mark all of ``actor``'s unread notifications read (of one referral, if given); how many were."""
        N = m.Notification
        where = [N.username == actor.username, N.read_at.is_(None)]
        if referral_id is not None:
            where.append(N.referral_id == referral_id)
        with self._sessions.begin() as s:
            done = s.execute(update(N).where(*where).values(read_at=_now()).execution_options(synchronize_session=False))
            return int(getattr(done, "rowcount", 0) or 0)

    # -- the e-mail outbox ------------------------------------------------------------------------------------------
    def pending_emails(self, ids: Iterable[int] | None = None, *, since: dt.datetime | None = None,
                       limit: int = 200) -> list[OutgoingEmail]:
        """Notifications still to e-mail (not sent, tried fewer than :data:`MAX_EMAIL_ATTEMPTS` times, to a user
        with an e-mail address): those of ``ids``, else all (made after ``since``, if given), oldest first."""
        N, U = m.Notification, m.User
        where = [N.emailed_at.is_(None), N.email_attempts < MAX_EMAIL_ATTEMPTS, U.email.is_not(None), U.active]
        if ids is not None:
            where.append(N.id.in_(list(ids)))
        if since is not None:
            where.append(N.created_at >= since)
        with self._sessions() as s:
            rows = s.execute(select(N, U.email).join(U, U.username == N.username).where(*where).order_by(N.id)
                             .limit(limit))
            return [OutgoingEmail(notification_id=n.id, to=email, username=n.username, referral_id=n.referral_id,
                                  kind=n.kind, actor=n.actor, detail=n.detail, created_at=n.created_at)
                    for n, email in rows]

    def record_email(self, notification_id: int, *, error: str | None = None) -> None:
        """What came of e-mailing a notification: sent (``error`` None) or the reason it failed (kept, and counted
        as an attempt)."""
        N = m.Notification
        values: dict[str, Any] = {"email_attempts": N.email_attempts + 1}
        values.update({"emailed_at": _now(), "email_error": None} if error is None else {"email_error": error[:2000]})
        with self._sessions.begin() as s:
            s.execute(update(N).where(N.id == notification_id).values(**values)
                      .execution_options(synchronize_session=False))

    def notification_emails(self, referral_id: int) -> list[dict[str, Any]]:
        """Each notification of a referral with its e-mail state (recipient, kind, sent at, last error): for checks
        and the tests, not shown to users."""
        N = m.Notification
        with self._sessions() as s:
            return [{"id": n.id, "username": n.username, "kind": n.kind, "emailed_at": n.emailed_at,
                     "email_error": n.email_error, "email_attempts": n.email_attempts}
                    for n in s.scalars(select(N).where(N.referral_id == referral_id).order_by(N.id))]

    # -- the video consultation -------------------------------------------------------------------------------------
    def _video_editor(self, s: Session, actor: Actor, row: m.Referral, what: str) -> None:
        rel = self._relation(s, actor, row)
        if _P.TRIAGE not in rel and _P.REVIEW not in rel:
            raise PermissionDeniedError(Message(
                f"user {actor.username!r} (role {actor.role}) may not {what} the video consultation of referral "
                f"{row.id}: only a coordinator or an expert assigned to it may.", "video.may_not",
                user=actor.username, id=row.id), actor=actor, permission=_P.TRIAGE.name)
        if row.status not in OPEN:
            raise ConflictError(Message(
                f"referral {row.id} is {row.status!r}: a video consultation is scheduled while it is open (submitted, "
                "accepted, assigned or in review).", "video.not_open", id=row.id, status=row.status))

    def set_video(self, actor: Actor, referral_id: int, slot: VideoSlot, *, version: int) -> ReferralPublic:
        """Schedule the referral's video consultation, or change it (a coordinator or an assigned expert, while the
        referral is open); the referrer and the experts are notified; audited."""
        prefix = self.video_url_prefix
        if prefix and not slot.url.startswith(prefix):
            raise InputError(Message(
                f"video.url: {slot.url} is not on the centre's video service; the link must start with {prefix} "
                "(RAREDX_VIDEO_URL_PREFIX). Create the room there and paste its link.", "video.prefix",
                url=slot.url, prefix=prefix))
        with self._sessions.begin() as s:
            row = self._referral(s, actor, referral_id)
            self._video_editor(s, actor, row, "schedule")
            kind = "video_changed" if row.video_at is not None else "video_scheduled"
            at = slot.at.astimezone(dt.UTC)
            self._bump(s, row, version, actor, video_at=at, video_timezone=slot.timezone, video_url=slot.url,
                       video_by=actor.username[:100])
            self._audit(s, actor, "referral_video", row.patient_id, referral=row.id, at=at.isoformat(),
                        url=slot.url, version=row.version)
            self._notify(s, actor, row, kind, [row.referrer, *self._experts_of(s, row.id)], at=at.isoformat(),
                         timezone=slot.timezone)
            return self._public(s, actor, row)

    def clear_video(self, actor: Actor, referral_id: int, *, version: int) -> ReferralPublic:
        """Cancel the referral's video consultation (as :meth:`set_video`: who, when, notified, audited)."""
        with self._sessions.begin() as s:
            row = self._referral(s, actor, referral_id)
            self._video_editor(s, actor, row, "cancel")
            if row.video_at is None:
                raise ConflictError(Message(f"referral {row.id} has no video consultation to cancel.", "video.none",
                                            id=row.id))
            at = row.video_at
            self._bump(s, row, version, actor, video_at=None, video_timezone=None, video_url=None, video_by=None)
            self._audit(s, actor, "referral_video", row.patient_id, referral=row.id, cancelled=at.isoformat(),
                        version=row.version)
            self._notify(s, actor, row, "video_cancelled", [row.referrer, *self._experts_of(s, row.id)],
                         at=at.isoformat())
            return self._public(s, actor, row)


def video_of(row: m.Referral) -> VideoPublic | None:
    """The referral's video consultation, if one is scheduled."""
    if row.video_at is None or row.video_url is None:
        return None
    return VideoPublic(at=row.video_at, timezone=row.video_timezone, url=row.video_url, by=row.video_by)


__all__ = ["COORDINATOR_ROLES", "MAX_EMAIL_ATTEMPTS", "Notifications", "video_of"]
