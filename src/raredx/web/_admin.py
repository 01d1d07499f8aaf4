"""The users page (admins): every user with role, organisation, status and sign-in lock, and the account changes
(add, disable, enable, change role or organisation, set a new password, unlock, delete). Plain forms with the CSRF token; each change goes
through :class:`raredx.registry.Registry`, which audits it and signs the user out everywhere."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from raredx.app.http import services
from raredx.errors import InputError, Message, RaredxError
from raredx.registry import ROLES, Actor, Permission
from raredx.registry.errors import AccountConflictError, PasswordPolicyError
from raredx.registry.security import MIN_PASSWORD_LENGTH
from raredx.web._i18n import Translator
from raredx.web._render import redirect, render, translator
from raredx.web._session import CsrfChecked, WebActor

router = APIRouter(prefix="/admin")
ACTIONS = ("disable", "enable", "unlock", "delete", "role", "organisation", "password")


def message_of(t: Translator, exc: RaredxError) -> str:
    """An account error in the user's language when the catalogue has it, else as the registry says it."""
    if isinstance(exc, PasswordPolicyError):
        return t("users.error.password." + exc.code, n=MIN_PASSWORD_LENGTH)
    if isinstance(exc, AccountConflictError):
        return t("users.error." + exc.code)
    return t.message(exc)


def _page(request: Request, actor: Actor, *, error: str | None = None, form: dict[str, str] | None = None,
          open_user: int | None = None) -> Response:
    """The page; a refused change is shown on it (with 200, as the other forms of the workbench do)."""
    reg = services(request).registry
    users = reg.list_users(actor)
    organisations = reg.list_organisations(actor)
    done = request.query_params.get("done")
    return render(request, "users.html", users=users, roles=tuple(ROLES), error=error, organisations=organisations,
                  organisation_of={o.id: o for o in organisations},
                  done=done if done in (*ACTIONS, "add") else None, done_user=request.query_params.get("user", ""),
                  form=form or {}, open_user=open_user, min_length=MIN_PASSWORD_LENGTH)


def _organisation_id(value: str) -> int | None:
    """The organisation chosen in a form: its id, or none (the empty choice)."""
    if not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise InputError(Message(f"organisation_id: {value!r} is not an organisation's id; choose one from the list.",
                                 "users.web_organisation", value=repr(value))) from None


def _done(request: Request, action: str, username: str) -> Response:
    return redirect(request, "/admin/users?" + urlencode({"done": action, "user": username}))


@router.get("/users")
def users_page(request: Request, actor: WebActor) -> Response:
    actor.require(Permission.MANAGE_USERS)
    return _page(request, actor)


@router.post("/users", dependencies=[CsrfChecked])
def add_user(request: Request, actor: WebActor, username: Annotated[str, Form()] = "",
             role: Annotated[str, Form()] = "clinician", password: Annotated[str, Form()] = "",
             organisation_id: Annotated[str, Form()] = "") -> Response:
    actor.require(Permission.MANAGE_USERS)
    try:
        user = services(request).registry.add_user(actor, username.strip(), password, role,
                                                    organisation_id=_organisation_id(organisation_id))
    except RaredxError as exc:
        return _page(request, actor, error=message_of(translator(request), exc),
                     form={"username": username, "role": role, "organisation_id": organisation_id})
    return _done(request, "add", user.username)


@router.post("/users/{uid}/{action}", dependencies=[CsrfChecked])
def change_user(request: Request, uid: int, action: str, actor: WebActor, role: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "", organisation_id: Annotated[str, Form()] = "") -> Response:
    actor.require(Permission.MANAGE_USERS)
    reg = services(request).registry
    name: str | None = None
    try:
        name = reg.get_user(actor, uid).username
        if action == "disable" or action == "enable":
            reg.update_user(actor, uid, active=action == "enable")
        elif action == "role":
            reg.update_user(actor, uid, role=role)
        elif action == "organisation":
            reg.update_user(actor, uid, organisation_id=_organisation_id(organisation_id))
        elif action == "password":
            reg.update_user(actor, uid, password=password)
        elif action == "unlock":
            reg.unlock_user(actor, uid)
        elif action == "delete":
            reg.delete_user(actor, uid)
        else:
            return _page(request, actor, error=translator(request)("users.error.action"))
    except RaredxError as exc:
        t = translator(request)
        reason = message_of(t, exc)  # said of the user it is about
        return _page(request, actor, error=t("users.error.for", name=name, reason=reason) if name else reason,
                     open_user=uid if action in ("role", "organisation", "password") else None)
    return _done(request, action, name or str(uid))
