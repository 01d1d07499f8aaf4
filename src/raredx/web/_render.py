"""Templates and responses: one Jinja2 environment, a ``render`` that gives every template the same context
(translator, term labels in the page's language, user, CSRF token, permissions), and the HTML face of the app's error handler."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from raredx.app import local_input, video_time
from raredx.app.http import services
from raredx.errors import RaredxError
from raredx.ontology import onset
from raredx.registry import Permission
from raredx.web import _i18n
from raredx.web._session import LoginRequired, csrf_token, finish, login_url

log = logging.getLogger(__name__)


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("raredx.web", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["external_links"] = external_links
    env.globals["zip"] = zip
    env.globals["onsets"] = onset.CHOICES  # the onset terms a feature may be given
    env.globals["video_when"] = video_time  # a video consultation's time in its time zone, as the language writes it
    env.globals["video_local"] = local_input  # ... as the form's datetime-local input shows it
    return env


def external_links(ids: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """(label, URL) of a disease's OMIM, Orphanet and Mondo pages."""
    out = []
    for i in ids:
        prefix, _, local = i.partition(":")
        if prefix == "OMIM":
            out.append((i, f"https://omim.org/entry/{local}"))
        elif prefix == "ORPHA":
            out.append((i, f"https://www.orpha.net/en/disease/detail/{local}"))
        elif prefix == "MONDO":
            out.append((i, f"https://monarchinitiative.org/{i}"))
    return out


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def language(request: Request) -> str:
    return _i18n.negotiate(request.cookies.get(_i18n.COOKIE), request.headers.get("accept-language"))


def translator(request: Request) -> _i18n.Translator:
    return _i18n.Translator(language(request))


def context(request: Request, **values: Any) -> dict[str, Any]:
    actor = getattr(request.state, "actor", None)
    svc = services(request)
    lang = language(request)
    return {
        "request": request,
        "t": translator(request),
        "lang": lang,
        # label(term_id, english_label): the term's name in the page's language (the English label without one)
        "label": (lambda term_id, english_label=None: svc.terms.label(term_id, lang, english_label)),
        "languages": _i18n.LANGUAGES,
        "user": actor,
        "can": (lambda name: actor is not None and actor.can(Permission[name])),
        "unread_notifications": (lambda: _unread(request, actor)),  # the nav's count (asked for by base.html)
        "csrf": csrf_token(request),
        "demo": svc.settings.demo,
        "is_htmx": is_htmx(request),
        "path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **values,
    }


def _unread(request: Request, actor: Any) -> int:
    from raredx.web._notifications import unread

    return unread(request, actor)


def render(request: Request, template: str, status: int = 200, headers: dict[str, str] | None = None,
           **values: Any) -> HTMLResponse:
    html = environment().get_template(template).render(context(request, **values))
    response = HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
    return finish(request, response)


def redirect(request: Request, url: str) -> Response:
    """A redirect that htmx follows as a full page load."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def is_web(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith(("/api/", "/docs/", "/mme/")) or path in ("/api", "/docs", "/redoc", "/openapi.json"))


async def web_error(request: Request, exc: Exception) -> Response:
    """Errors on pages: a sign-in redirect for 401, else the message (as a notice for htmx requests)."""
    if isinstance(exc, LoginRequired) or (isinstance(exc, RaredxError) and exc.http_status == 401):
        target = login_url(request)
        if is_htmx(request):  # come back to the page, not to the fragment's URL
            current = urlsplit(request.headers.get("hx-current-url", "/"))
            target = "/login?next=" + (current.path + (f"?{current.query}" if current.query else ""))
        return redirect(request, target)
    if isinstance(exc, RaredxError):
        status, detail = exc.http_status, translator(request).message(exc)
    elif isinstance(exc, StarletteHTTPException):
        status, detail = exc.status_code, str(exc.detail)
    elif isinstance(exc, RequestValidationError):
        status = 422
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()[:5])
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        status, detail = 500, None
    if is_htmx(request):  # show it in the page's notice area; 200 so that htmx swaps it in
        return render(request, "_notice.html", headers={"HX-Retarget": "#notice", "HX-Reswap": "innerHTML"},
                      kind="error", status_code=status, detail=detail)
    return render(request, "error.html", status=status, status_code=status, detail=detail)
