"""The Matchmaker Exchange server (GA4GH MME API v1.0 and v1.1; docs/mme.md): ``POST /mme/match`` for the peers
(``X-Auth-Token``), ``GET /mme/heartbeat`` for anyone, ``GET /mme/metrics`` for the peers. Errors answer MME's
``{"message": ...}`` with the status the specification names; every match request, answered or refused, is one
line of the audit log, and nothing else is stored."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from raredx.api.deps import ServicesDep
from raredx.app._limits import BodyTooLarge
from raredx.app.mme import LATEST, VERSIONS, MmeError, contact_of, media_type, negotiate, parse_request
from raredx.errors import InputError, RaredxError
from raredx.registry.schemas import PeerPublic

log = logging.getLogger(__name__)
router = APIRouter(prefix="/mme", tags=["matchmaker exchange"])
TOKEN_HEADER = "X-Auth-Token"


def _answer(body: dict[str, Any], status: int = 200, version: str = LATEST) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type=media_type(version))


def _refusal(exc: MmeError, version: str = LATEST) -> Response:
    body: dict[str, Any] = {"message": exc.message}
    if exc.http_status == 406:
        body["supportedVersions"] = list(VERSIONS)
    return _answer(body, exc.http_status, version)


async def _body(request: Request, limit: int) -> bytes:
    """The request body, at most ``limit`` bytes (413 above: a declared length before reading, else as it comes)."""
    declared = request.headers.get("content-length")
    too_large = MmeError(413, f"the match request is larger than {limit // 1024} KiB; send fewer features "
                              "(RAREDX_MME_MAX_BODY_KB is this server's limit).")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except BodyTooLarge:  # the service's own body limit (RAREDX_MAX_BODY_KB) came first
        raise too_large from None
    return b"".join(chunks)


@router.post("/match", summary="MME match request from a peer (X-Auth-Token; application/vnd.ga4gh.matchmaker.v1.1+json)",
             response_class=JSONResponse)
async def match(request: Request, svc: ServicesDep) -> Response:
    registry = svc.registry
    peer: PeerPublic | None = await run_in_threadpool(registry.peer_by_token, request.headers.get(TOKEN_HEADER))
    version = LATEST
    try:
        if peer is None:
            raise MmeError(401, f"missing or unknown {TOKEN_HEADER} (or the peer is disabled); ask this centre's "
                                "admin for a token.")
        version = negotiate(request.headers.get("content-type"), request.headers.get("accept"))
        try:
            contact_of(svc.settings)
        except InputError as exc:
            raise MmeError(503, f"this node cannot share patients yet: {exc}") from None
        body = await _body(request, svc.settings.mme_max_body_kb * 1024)
        query = parse_request(body)
        answer, returned = await svc.compute(svc.mme.match, peer, query)
    except MmeError as exc:
        await run_in_threadpool(registry.audit_mme_incoming, peer, status=exc.http_status, error=exc.message[:300])
        return _refusal(exc, version)
    except RaredxError as exc:  # e.g. the centre's contact is not configured
        log.warning("MME match request of %s refused: %s", peer.name if peer else "?", exc)
        await run_in_threadpool(registry.audit_mme_incoming, peer, status=exc.http_status, error=str(exc)[:300])
        return _answer({"message": str(exc)}, 503 if exc.http_status >= 500 else exc.http_status, version)
    await run_in_threadpool(registry.audit_mme_incoming, peer, status=200, returned=returned,
                            query_id=query.patient.id[:100])
    return _answer(answer, 200, version)


@router.get("/heartbeat", summary="MME heartbeat: running, version, the MME versions accepted (no authentication)")
async def heartbeat(svc: ServicesDep) -> Response:
    return _answer(svc.mme.heartbeat())


@router.get("/metrics", summary="MME metrics of this node (X-Auth-Token of a peer)")
async def metrics(request: Request, svc: ServicesDep) -> Response:
    peer = await run_in_threadpool(svc.registry.peer_by_token, request.headers.get(TOKEN_HEADER))
    if peer is None:
        return _refusal(MmeError(401, f"missing or unknown {TOKEN_HEADER} (or the peer is disabled)."))
    return _answer(await run_in_threadpool(svc.mme.metrics))
