"""Matchmaker Exchange in the workbench: "Search other centres" on a patient page (the patient, if it consents, is
sent to every enabled peer; the results page shows each centre's answer with its contact) and the peers page of
the admin area (add a peer: its incoming token is shown once; set the token we send it; enable, disable, remove).
Everything goes through :class:`raredx.app.mme.Matchmaker` and :class:`raredx.registry.Registry`, which check the
permissions and write the audit log; the results are shown, never stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from raredx.app.http import services
from raredx.app.mme import MatchmakingNotAllowed, validation_message
from raredx.errors import RaredxError
from raredx.registry import Actor, Permission
from raredx.registry.schemas import PeerCreate
from raredx.web._render import redirect, render, translator
from raredx.web._session import CsrfChecked, WebActor

router = APIRouter()
PEER_ACTIONS = ("enable", "disable", "remove", "token")


@router.post("/patients/{pid}/mme", dependencies=[CsrfChecked])
async def search_other_centres(request: Request, pid: int, actor: WebActor) -> Response:
    """Send the patient to the other centres and show what they answered (or why it was not sent)."""
    actor.require(Permission.MATCHMAKE)
    svc = services(request)
    t = translator(request)
    try:
        # network waits, not CPU: outside the diagnoses' queue (a peer may be this very server)
        found = await run_in_threadpool(svc.mme.search_peers, actor, pid)
    except MatchmakingNotAllowed as exc:
        return render(request, "patient_mme.html", pid=pid, found=None, refused=t.message(exc), consent=False)
    except RaredxError as exc:
        if exc.http_status in (401, 403, 404):
            raise
        return render(request, "patient_mme.html", pid=pid, found=None, refused=t.message(exc), consent=True)
    return render(request, "patient_mme.html", pid=pid, found=found, refused=None, consent=True)


def _peers_page(request: Request, actor: Actor, *, error: str | None = None, new_token: str | None = None,
                new_peer: str | None = None, form: dict[str, str] | None = None) -> Response:
    peers = services(request).registry.list_peers(actor)
    done = request.query_params.get("done")
    return render(request, "peers.html", peers=peers, error=error, new_token=new_token, new_peer=new_peer,
                  form=form or {}, done=done if done in PEER_ACTIONS else None,
                  done_peer=request.query_params.get("peer", ""))


@router.get("/admin/peers")
def peers_page(request: Request, actor: WebActor) -> Response:
    actor.require(Permission.MANAGE_PEERS)
    return _peers_page(request, actor)


@router.post("/admin/peers", dependencies=[CsrfChecked])
def add_peer(request: Request, actor: WebActor, name: Annotated[str, Form()] = "", base_url: Annotated[str, Form()] = "",
             outgoing_token: Annotated[str, Form()] = "", contact_name: Annotated[str, Form()] = "",
             contact_email: Annotated[str, Form()] = "", contact_institution: Annotated[str, Form()] = "") -> Response:
    """Add a peer; the page then shows the token it is to send us, this once (with 200: nothing to redirect to that
    could show it again)."""
    actor.require(Permission.MANAGE_PEERS)
    form = {"name": name, "base_url": base_url, "contact_name": contact_name, "contact_email": contact_email,
            "contact_institution": contact_institution}
    try:
        data = PeerCreate(name=name.strip(), base_url=base_url.strip(), outgoing_token=outgoing_token.strip() or None,
                          contact_name=contact_name.strip() or None, contact_email=contact_email.strip() or None,
                          contact_institution=contact_institution.strip() or None)
        peer, token = services(request).registry.add_peer(actor, data)
    except ValidationError as exc:
        return _peers_page(request, actor, error=validation_message(exc), form=form)
    except RaredxError as exc:
        return _peers_page(request, actor, error=translator(request).message(exc), form=form)
    return _peers_page(request, actor, new_token=token, new_peer=peer.name)


@router.post("/admin/peers/{peer_id}/{action}", dependencies=[CsrfChecked])
def change_peer(request: Request, peer_id: int, action: str, actor: WebActor,
                outgoing_token: Annotated[str, Form()] = "") -> Response:
    actor.require(Permission.MANAGE_PEERS)
    reg = services(request).registry
    try:
        if action in ("enable", "disable"):
            name = reg.update_peer(actor, peer_id, enabled=action == "enable").name
        elif action == "token":
            name = reg.update_peer(actor, peer_id, outgoing_token=outgoing_token.strip()).name
        elif action == "remove":
            name = reg.remove_peer(actor, peer_id)
        else:
            return _peers_page(request, actor, error=translator(request)("peers.error.action"))
    except ValidationError as exc:
        return _peers_page(request, actor, error=validation_message(exc))
    except RaredxError as exc:
        return _peers_page(request, actor, error=translator(request).message(exc))
    from urllib.parse import urlencode

    return redirect(request, "/admin/peers?" + urlencode({"done": action, "peer": name}))
