"""The organisations page (admins): the referring organisations with their region and how many users and referrals
name each, and the changes (add, rename or change the region, delete). Plain forms with the CSRF token; each change
goes through :class:`raredx.registry.Registry`, which checks and audits it; a refused one comes back on the page with
the reason in the page's language (with 200, as on the users page), and the typed values kept."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from raredx.app.http import services
from raredx.errors import RaredxError
from raredx.registry import Actor, Permission
from raredx.registry.schemas import OrganisationCreate, OrganisationUpdate
from raredx.web._i18n import Translator
from raredx.web._render import redirect, render, translator
from raredx.web._session import CsrfChecked, WebActor

router = APIRouter(prefix="/admin/organisations")
DONE = ("add", "edit", "delete")
FIELDS = ("name", "region")


def _page(request: Request, actor: Actor, *, error: str | None = None, form: dict[str, str] | None = None,
          open_org: int | None = None) -> Response:
    organisations = services(request).registry.organisation_usage(actor)
    done = request.query_params.get("done")
    return render(request, "organisations.html", organisations=organisations, error=error,
                  done=done if done in DONE else None, done_name=request.query_params.get("name", ""),
                  form=form or {}, open_org=open_org)


def _invalid(t: Translator, exc: ValidationError) -> str:
    """The first field the schema refused, said in the page's language."""
    e = exc.errors()[0]
    field = next((str(p) for p in e.get("loc", ()) if str(p) in FIELDS), None)
    if field and e.get("type") == "string_too_long":
        return t(f"orgs.error.{field}.long")
    if field == "name":
        return t("orgs.error.name")
    return t("orgs.error.invalid", reason=e.get("msg", ""))


def _done(request: Request, action: str, name: str) -> Response:
    return redirect(request, "/admin/organisations?" + urlencode({"done": action, "name": name}))


@router.get("")
def organisations_page(request: Request, actor: WebActor) -> Response:
    actor.require(Permission.MANAGE_ORGANISATIONS)
    return _page(request, actor)


@router.post("", dependencies=[CsrfChecked])
def add_organisation(request: Request, actor: WebActor, name: Annotated[str, Form()] = "",
                     region: Annotated[str, Form()] = "") -> Response:
    actor.require(Permission.MANAGE_ORGANISATIONS)
    t = translator(request)
    form = {"name": name, "region": region}
    try:
        data = OrganisationCreate.model_validate(form)
        org = services(request).registry.add_organisation(actor, data)
    except ValidationError as exc:
        return _page(request, actor, error=_invalid(t, exc), form=form)
    except RaredxError as exc:
        return _page(request, actor, error=t.message(exc), form=form)
    return _done(request, "add", org.name)


@router.post("/{oid}/edit", dependencies=[CsrfChecked])
def edit_organisation(request: Request, oid: int, actor: WebActor, name: Annotated[str, Form()] = "",
                      region: Annotated[str, Form()] = "") -> Response:
    actor.require(Permission.MANAGE_ORGANISATIONS)
    t = translator(request)
    try:
        data = OrganisationUpdate.model_validate({"name": name, "region": region})
        org = services(request).registry.update_organisation(actor, oid, data)
    except ValidationError as exc:
        return _page(request, actor, error=_invalid(t, exc), open_org=oid)
    except RaredxError as exc:
        return _page(request, actor, error=t.message(exc), open_org=oid)
    return _done(request, "edit", org.name)


@router.post("/{oid}/delete", dependencies=[CsrfChecked])
def delete_organisation(request: Request, oid: int, actor: WebActor) -> Response:
    actor.require(Permission.MANAGE_ORGANISATIONS)
    reg = services(request).registry
    try:
        name = next((o.name for o in reg.list_organisations(actor) if o.id == oid), str(oid))
        reg.delete_organisation(actor, oid)
    except RaredxError as exc:
        return _page(request, actor, error=translator(request).message(exc))
    return _done(request, "delete", name)
