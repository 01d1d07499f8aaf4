"""Signing in and out, and the users (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from raredx.api._errors import errors
from raredx.api.deps import CurrentActor, RegistryDep, ServicesDep, TokenDep, requires
from raredx.api.schemas import MAX_ID, Token, UserCreate, UserPublic, UserUpdate, WhoAmI
from raredx.registry import Permission

router = APIRouter(prefix="/api", tags=["auth"], responses=errors(401))
ADMIN = [requires(Permission.MANAGE_USERS)]
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="the user's id")]


@router.post("/auth/token", response_model=Token, summary="Exchange user name and password for a bearer token",
             responses=errors(422, 429))
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], svc: ServicesDep, request: Request) -> Token:
    _, access_token = svc.sign_in(form.username, form.password, client=request.client.host if request.client else None)
    return Token(access_token=access_token)


@router.post("/auth/logout", status_code=204, summary="Revoke the bearer token (sign out)")
def logout(svc: ServicesDep, actor: CurrentActor, bearer: TokenDep) -> Response:
    svc.sign_out(bearer)
    return Response(status_code=204)


@router.get("/auth/me", response_model=WhoAmI, summary="Who the token belongs to")
def me(actor: CurrentActor) -> WhoAmI:
    return WhoAmI(username=actor.username, role=actor.role)


@router.get("/users", response_model=list[UserPublic], dependencies=ADMIN, summary="The users, their roles and locks",
            responses=errors(403))
def list_users(registry: RegistryDep, actor: CurrentActor) -> list[UserPublic]:
    return registry.list_users(actor)


@router.post("/users", response_model=UserPublic, status_code=201, dependencies=ADMIN, responses=errors(403, 409, 422))
def add_user(body: UserCreate, registry: RegistryDep, actor: CurrentActor) -> UserPublic:
    return registry.add_user(actor, body.username, body.password, body.role, organisation_id=body.organisation_id,
                             email=body.email)


@router.get("/users/{user_id}", response_model=UserPublic, dependencies=ADMIN, responses=errors(403, 404, 422))
def get_user(user_id: UserId, registry: RegistryDep, actor: CurrentActor) -> UserPublic:
    return registry.get_user(actor, user_id)


@router.patch("/users/{user_id}", response_model=UserPublic, dependencies=ADMIN,
              summary="Disable or enable a user, change their role or password (signs them out everywhere)",
              responses=errors(403, 404, 409, 422))
def update_user(user_id: UserId, body: UserUpdate, registry: RegistryDep, actor: CurrentActor) -> UserPublic:
    given = {k: getattr(body, k) for k in ("organisation_id", "email") if k in body.model_fields_set}
    return registry.update_user(actor, user_id, active=body.active, role=body.role, password=body.password, **given)


@router.delete("/users/{user_id}", status_code=204, dependencies=ADMIN, summary="Remove a user",
                responses=errors(403, 404, 409, 422))
def delete_user(user_id: UserId, registry: RegistryDep, actor: CurrentActor) -> Response:
    registry.delete_user(actor, user_id)
    return Response(status_code=204)


@router.post("/users/{user_id}/unlock", response_model=UserPublic, dependencies=ADMIN,
             summary="Lift the sign-in lock after too many wrong passwords", responses=errors(403, 404, 422))
def unlock_user(user_id: UserId, registry: RegistryDep, actor: CurrentActor) -> UserPublic:
    return registry.unlock_user(actor, user_id)
