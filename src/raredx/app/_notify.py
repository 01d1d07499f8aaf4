"""Notifications in words, and by e-mail (docs/referrals.md).

:func:`notification_text` is the one sentence of a notification in Russian or English (``notify.text.*`` of the
message catalogues): the notifications page shows it, and the e-mail carries it. :class:`Mailer` sends the e-mails
through the SMTP server of the ``RAREDX_SMTP_HOST`` settings (the standard library's ``smtplib``) after the event's
transaction has committed, on a thread of its own, so that a slow or failed server never delays, fails or rolls
back the workflow action: each notification row records when it was e-mailed or the last error (the registry's
outbox; :meth:`Mailer.retry` sends what is still pending). An e-mail says what happened and links to the
workbench; it carries no patient data (those are seen only after signing in).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import smtplib
import ssl
import threading
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from raredx.config import Settings
from raredx.i18n import Translator
from raredx.registry import Registry
from raredx.registry.schemas import NotificationPublic, OutgoingEmail

log = logging.getLogger(__name__)

LANGUAGES = ("ru", "en")  # an e-mail is in both (a user's language is not known), Russian first


def video_time(at: str | dt.datetime | None, timezone: str | None, lang: str) -> str:
    """A video consultation's time as the language writes it, in the time zone it was given in (else UTC)."""
    if at is None:
        return "—"
    value = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    if timezone:
        try:
            value = value.astimezone(ZoneInfo(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            value = value.astimezone(dt.UTC)
    else:
        value = value.astimezone(dt.UTC)
    return f"{value:%d.%m.%Y %H:%M}" if lang == "ru" else f"{value:%Y-%m-%d %H:%M}"


def local_input(at: dt.datetime, timezone: str | None) -> str:
    """A time as a form's ``datetime-local`` input shows it: in its time zone (else UTC), to the minute."""
    try:
        value = at.astimezone(ZoneInfo(timezone)) if timezone else at.astimezone(dt.UTC)
    except (ZoneInfoNotFoundError, ValueError):
        value = at.astimezone(dt.UTC)
    return f"{value:%Y-%m-%dT%H:%M}"


def _when(detail: dict[str, Any], lang: str) -> str:
    zone = detail.get("timezone")
    return f"{video_time(detail.get('at'), zone, lang)} ({zone or 'UTC'})"


def notification_text(n: NotificationPublic | OutgoingEmail, lang: str) -> str:
    """The notification's sentence in ``lang`` (``ru`` or ``en``; another gives English)."""
    t = Translator(lang if lang in LANGUAGES else "en")
    return t("notify.text." + n.kind, id=n.referral_id, actor=n.actor, at=_when(n.detail or {}, lang))


def link(settings: Settings, notification_id: int) -> str | None:
    """Where an e-mail sends its reader: the workbench's page that marks the notification read and opens its
    referral (``RAREDX_PUBLIC_URL``; none without it)."""
    if not settings.public_url:
        return None
    return f"{settings.public_url.rstrip('/')}/notifications/{notification_id}/open"


def compose(settings: Settings, e: OutgoingEmail) -> EmailMessage:
    """The plain-text e-mail of a notification, in Russian and English."""
    sender = settings.smtp_from or f"raredx@{settings.smtp_host or 'localhost'}"
    url = link(settings, e.notification_id)
    parts = []
    for lang in LANGUAGES:
        t = Translator(lang)
        action = t("notify.email.open", url=url) if url else t("notify.email.sign_in")
        parts.append(f"{notification_text(e, lang)}\n{action}")
    footer = "\n".join(Translator(lang)("notify.email.footer") for lang in LANGUAGES)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = e.to
    msg["Subject"] = f"raredx: {notification_text(e, 'ru')} / {notification_text(e, 'en')}"
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid("raredx", domain=sender.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content("\n\n".join(parts) + "\n\n-- \n" + footer + "\n")
    return msg


class Mailer:
    """Sends the notification e-mails of one registry (one at a time, in this process, on a thread of its own)."""

    def __init__(self, registry: Registry, settings: Settings) -> None:
        self.registry = registry
        self.settings = settings
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._futures: set[concurrent.futures.Future[int]] = set()
        self._lock = threading.Lock()  # one sender at a time: a notification is not sent twice by this process
        self._queue_lock = threading.Lock()  # guards the pool and the e-mails under way

    @property
    def enabled(self) -> bool:
        return bool(self.settings.smtp_host)

    def notified(self, ids: list[int]) -> None:
        """A transaction committed these notifications: e-mail them, in the background."""
        if not self.enabled:
            return
        with self._queue_lock:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="raredx-mail")
            future = self._pool.submit(self.send, ids)
            self._futures.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: concurrent.futures.Future[int]) -> None:
        with self._queue_lock:
            self._futures.discard(future)
        if (exc := future.exception()) is not None:
            log.error("sending notification e-mails failed", exc_info=exc)

    def wait(self, timeout: float | None = None) -> None:
        """Until the e-mails handed over so far are sent (or have failed)."""
        with self._queue_lock:
            futures = list(self._futures)
        concurrent.futures.wait(futures, timeout=timeout)

    def retry(self, *, since: dt.datetime | None = None) -> int:
        """Send every pending e-mail (not sent, not given up on; made after ``since``, if given) now."""
        return self.send(None, since=since)

    def send(self, ids: Iterable[int] | None, *, since: dt.datetime | None = None) -> int:
        """E-mail the pending notifications among ``ids`` (all pending ones if ``None``); each row records the
        outcome. How many were sent."""
        if not self.enabled:
            return 0
        with self._lock:
            pending = self.registry.pending_emails(ids, since=since)
            if not pending:
                return 0
            try:
                server = self._connect()
            except (OSError, smtplib.SMTPException) as exc:
                reason = _reason(exc, f"cannot reach the SMTP server {self.settings.smtp_host}:{self.settings.smtp_port}")
                log.warning("notification e-mails not sent: %s", reason)
                for e in pending:
                    self.registry.record_email(e.notification_id, error=reason)
                return 0
            sent = 0
            try:
                for e in pending:
                    try:
                        server.send_message(compose(self.settings, e))
                    except (OSError, smtplib.SMTPException) as exc:
                        reason = _reason(exc, f"the SMTP server refused the e-mail to {e.to}")
                        log.warning("notification %s not e-mailed: %s", e.notification_id, reason)
                        self.registry.record_email(e.notification_id, error=reason)
                    else:
                        self.registry.record_email(e.notification_id)
                        sent += 1
            finally:
                try:
                    server.quit()
                except (OSError, smtplib.SMTPException):
                    server.close()
            return sent

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        host = s.smtp_host or ""
        context = ssl.create_default_context()
        server: smtplib.SMTP
        if s.smtp_security == "tls":
            server = smtplib.SMTP_SSL(host, s.smtp_port, timeout=s.smtp_timeout_seconds, context=context)
        else:
            server = smtplib.SMTP(host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        try:
            if s.smtp_security == "starttls":
                server.starttls(context=context)
            if s.smtp_user:
                server.login(s.smtp_user, s.smtp_password or "")
        except BaseException:
            server.close()
            raise
        return server

    def close(self) -> None:
        """Finish the e-mails under way (each waits at most ``RAREDX_SMTP_TIMEOUT_SECONDS`` for the server)."""
        with self._queue_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


def _reason(exc: BaseException, what: str) -> str:
    return f"{what}: {type(exc).__name__}: {exc}"[:2000]


__all__ = ["Mailer", "compose", "link", "local_input", "notification_text", "video_time"]
