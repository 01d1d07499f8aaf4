"""Sign in and out, the language switch, and the front page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from raredx.app.http import services
from raredx.registry import Permission
from raredx.registry.errors import AuthenticationError, TooManyAttemptsError
from raredx.web import _i18n
from raredx.web._render import redirect, render, translator
from raredx.web._session import CsrfChecked, end_session, safe_next, start_session, web_actor

router = APIRouter()


@router.get("/")
def home(request: Request) -> Response:
    """The patient list; a referring physician (who may not read the registry) their referrals."""
    try:
        actor = web_actor(request)
    except AuthenticationError:
        return redirect(request, "/patients")  # which sends to the login page
    return redirect(request, "/referrals" if actor.can(Permission.REFER) and not actor.can(Permission.READ) else "/patients")


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    try:
        web_actor(request)
        return redirect(request, safe_next(next))
    except AuthenticationError:
        return render(request, "login.html", next=safe_next(next), username="", error=None)


@router.post("/login", dependencies=[CsrfChecked])
def login(request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:
    try:
        _, token = services(request).sign_in(username, password, client=request.client.host if request.client else None)
    except TooManyAttemptsError as exc:  # locked for a while (the same for every user name, known or not)
        until = translator(request).date(exc.until) if exc.until else ""
        return render(request, "login.html", next=safe_next(next), username=username,
                      error="login.locked", until=until)
    except AuthenticationError:
        # the same answer for an unknown user and a wrong password; the user name is kept in the form
        return render(request, "login.html", next=safe_next(next), username=username, error="login.failed")
    response = redirect(request, safe_next(next))
    start_session(request, response, token)
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> Response:
    response = redirect(request, "/login")
    end_session(request, response)
    return response


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "/patients") -> Response:
    response = redirect(request, safe_next(next))
    if code in _i18n.LANGUAGES:
        response.set_cookie(_i18n.COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", path="/",
                            secure=request.url.scheme == "https")
    return response
