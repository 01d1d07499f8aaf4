"""Dependencies of the routes: the registry, the core object, settings and the acting user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from raredx.core import RareDx
from raredx.registry import Actor, Permission, Registry, Settings
from raredx.registry.errors import AuthenticationError
from raredx.registry.security import TokenSigner

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def _state(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state


def get_registry(request: Request) -> Registry:
    return request.app.state.registry


def get_rdx(request: Request) -> RareDx:
    return request.app.state.rdx


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_signer(request: Request) -> TokenSigner:
    return request.app.state.signer


RegistryDep = Annotated[Registry, Depends(get_registry)]
RdxDep = Annotated[RareDx, Depends(get_rdx)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SignerDep = Annotated[TokenSigner, Depends(get_signer)]


def current_actor(registry: RegistryDep, signer: SignerDep, settings: SettingsDep,
                  token: Annotated[str | None, Depends(oauth2)]) -> Actor:
    if not token:
        raise AuthenticationError("not authenticated: send 'Authorization: Bearer TOKEN' (get one from POST /api/auth/token).")
    claimed = signer.verify(token)
    actor = registry.active_actor(claimed.username, demo_mode=settings.demo)
    if actor is None:
        raise AuthenticationError(f"user {claimed.username!r} no longer exists or is disabled; ask an admin.")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def requires(permission: Permission):  # type: ignore[no-untyped-def]
    """A dependency that checks a permission before the route runs (the service checks again)."""

    def check(actor: CurrentActor) -> Actor:
        actor.require(permission)
        return actor

    return Depends(check)
