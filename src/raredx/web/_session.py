"""The browser session: the service's signed bearer token kept in an HttpOnly cookie (revoked on the server
when the user signs out), and CSRF protection.

CSRF: every page gets a random nonce in the ``rdx_csrf`` cookie; forms and htmx requests send
``HMAC(signing key, nonce)`` (hidden field ``csrf`` or header ``X-CSRF-Token``). A page on another site can
neither read the cookie nor compute the HMAC, and the session cookie is ``SameSite=Strict`` as well.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request, Response

from raredx.app.http import services
from raredx.registry import Actor
from raredx.registry.errors import AuthenticationError, PermissionDeniedError

R = TypeVar("R", bound=Response)
SESSION_COOKIE = "rdx_session"
CSRF_COOKIE = "rdx_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(AuthenticationError):
    """No (valid) session: the web layer answers with a redirect to the login page."""


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def csrf_nonce(request: Request) -> str:
    """The nonce of this browser (made, and later set as a cookie by :func:`finish`, when it has none)."""
    nonce = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_nonce", None)
    if not nonce:
        nonce = request.state.new_csrf_nonce = secrets.token_urlsafe(24)
    return nonce


def csrf_token(request: Request) -> str:
    key = services(request).signer.secret.encode()
    return hmac.new(key, b"csrf:" + csrf_nonce(request).encode(), hashlib.sha256).hexdigest()


def finish(request: Request, response: R) -> R:
    """Set the CSRF nonce cookie if this request made one."""
    nonce = getattr(request.state, "new_csrf_nonce", None)
    if nonce:
        response.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="strict", secure=_secure(request), path="/")
    return response


async def check_csrf(request: Request) -> None:
    """A dependency of every state-changing web route."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not request.cookies.get(CSRF_COOKIE) or not sent or not hmac.compare_digest(sent, csrf_token(request)):
        raise PermissionDeniedError("the form's security token is missing or stale (CSRF check); reload the page "
                                    "and submit again.")


def web_actor(request: Request) -> Actor:
    """The signed-in user, checked as for the API (a disabled user's session stops working)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired("please sign in.")
    try:
        actor = services(request).actor(token)
    except AuthenticationError as exc:
        raise LoginRequired(str(exc)) from exc
    request.state.actor = actor
    return actor


WebActor = Annotated[Actor, Depends(web_actor)]
CsrfChecked = Depends(check_csrf)


def start_session(request: Request, response: Response, token: str) -> None:
    """Keep the token of a sign-in in the session cookie."""
    minutes = services(request).settings.token_minutes
    response.set_cookie(SESSION_COOKIE, token, max_age=minutes * 60, httponly=True, samesite="strict",
                        secure=_secure(request), path="/")


def end_session(request: Request, response: Response) -> None:
    """Revoke the session's token on the server (it stops working at once, also if a copy of the cookie was
    kept), and drop the cookie."""
    services(request).sign_out(request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(SESSION_COOKIE, path="/")


def safe_next(target: str | None, default: str = "/patients") -> str:
    """Only a path on this site (never ``//host`` or ``https://...``) may be a redirect target."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def login_url(request: Request) -> str:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(path, safe="/")
