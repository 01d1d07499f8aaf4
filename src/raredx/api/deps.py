"""Dependencies of the routes: the services (registry, core object, settings, token signer) and the acting user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from fastapi.security import OAuth2PasswordBearer

from raredx.app import Services
from raredx.app.http import ServicesDep, services
from raredx.config import Settings
from raredx.core import RareDx
from raredx.registry import Actor, Permission, Registry
from raredx.registry.security import TokenSigner

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)

__all__ = ["TOTAL_COUNT", "CurrentActor", "RdxDep", "RegistryDep", "Services", "ServicesDep", "SettingsDep", "SignerDep",
           "TokenDep", "requires"]


# The look-ups that do not block are async: FastAPI runs a sync dependency in its thread pool, a hop per call.
async def get_registry(request: Request) -> Registry:
    return services(request).registry


async def get_rdx(request: Request) -> RareDx:
    return services(request).rdx


async def get_settings(request: Request) -> Settings:
    return services(request).settings


async def get_signer(request: Request) -> TokenSigner:
    return services(request).signer


RegistryDep = Annotated[Registry, Depends(get_registry)]
RdxDep = Annotated[RareDx, Depends(get_rdx)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SignerDep = Annotated[TokenSigner, Depends(get_signer)]


TokenDep = Annotated[str | None, Depends(oauth2)]

# the responses of a route that pages (offset, limit) and gives the total in a header, for the OpenAPI document
TOTAL_COUNT: dict[int | str, dict[str, Any]] = {200: {"headers": {"X-Total-Count": {"description": "How many entries there are in all",
                                                   "schema": {"type": "integer"}}}}}


def current_actor(svc: ServicesDep, token: TokenDep) -> Actor:
    return svc.actor(token)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def requires(permission: Permission) -> DependsParam:
    """A dependency that checks a permission before the route runs (the service checks again)."""

    async def check(actor: CurrentActor) -> Actor:
        actor.require(permission)
        return actor

    return Depends(check)
