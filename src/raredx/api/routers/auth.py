from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from raredx.api._errors import errors
from raredx.api.deps import CurrentActor, RegistryDep, ServicesDep, requires
from raredx.api.schemas import Token, UserCreate, UserPublic, WhoAmI
from raredx.registry import Permission

router = APIRouter(prefix="/api", tags=["auth"], responses=errors(401))


@router.post("/auth/token", response_model=Token, summary="Exchange user name and password for a bearer token",
             responses=errors(422, 429))
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], svc: ServicesDep) -> Token:
    return Token(access_token=svc.signer.issue(svc.authenticate(form.username, form.password)))


@router.get("/auth/me", response_model=WhoAmI, summary="Who the token belongs to")
def me(actor: CurrentActor) -> WhoAmI:
    return WhoAmI(username=actor.username, role=actor.role)


@router.get("/users", response_model=list[UserPublic], dependencies=[requires(Permission.MANAGE_USERS)],
            responses=errors(403))
def list_users(registry: RegistryDep, actor: CurrentActor) -> list[UserPublic]:
    return registry.list_users(actor)


@router.post("/users", response_model=UserPublic, status_code=201, dependencies=[requires(Permission.MANAGE_USERS)],
             responses=errors(403, 409, 422))
def add_user(body: UserCreate, registry: RegistryDep, actor: CurrentActor) -> UserPublic:
    return registry.add_user(actor, body.username, body.password, body.role)
