"""Roles, permissions, password hashes (argon2id) and signed bearer tokens (JWT, HS256)."""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from dataclasses import dataclass
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from raredx.registry.errors import AuthenticationError, PermissionDeniedError


class Permission(enum.Enum):
    READ = "read patients (pseudonymised)"
    READ_IDENTITY = "see patients' identities"
    WRITE = "create and change patients"
    DELETE = "delete patients"
    RESTORE = "restore deleted patients and see them"
    IMPORT = "import phenopackets"
    AUDIT = "read the audit log"
    MANAGE_USERS = "manage users"
    STATISTICS = "cohort statistics"
    DIAGNOSE = "run the diagnosis engine"


_P = Permission
ROLES: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "clinician": frozenset({_P.READ, _P.READ_IDENTITY, _P.WRITE, _P.IMPORT, _P.STATISTICS, _P.DIAGNOSE}),
    "registry_manager": frozenset({_P.READ, _P.READ_IDENTITY, _P.WRITE, _P.DELETE, _P.IMPORT, _P.STATISTICS,
                                   _P.DIAGNOSE, _P.AUDIT}),
    "researcher": frozenset({_P.READ, _P.STATISTICS, _P.DIAGNOSE}),
}


def check_role(role: str) -> str:
    from raredx.errors import InputError

    if role not in ROLES:
        raise InputError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    return role


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: every service call takes one, checks its permission and writes it to the audit log."""

    username: str
    role: str

    def can(self, permission: Permission) -> bool:
        return permission in ROLES.get(self.role, frozenset())

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDeniedError(
                f"user {self.username!r} (role {self.role}) may not {permission.value}; "
                "ask an admin for a role that allows it."
            )


SYSTEM = Actor("system", "admin")  # the command line acting on the local registry (audited as such)

# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): ~50 ms a hash; old hashes keep their own parameters
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str) -> None:
    from raredx.errors import InputError

    if len(password) < 8:
        raise InputError("the password is shorter than 8 characters; choose a longer one.")


@dataclass(frozen=True, slots=True)
class TokenSigner:
    secret: str
    minutes: int = 60

    def issue(self, actor: Actor) -> str:
        now = dt.datetime.now(dt.UTC)
        claims = {"sub": actor.username, "role": actor.role, "iat": now, "exp": now + dt.timedelta(minutes=self.minutes)}
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def verify(self, token: str) -> Actor:
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options={"require": ["sub", "exp"]})
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("the token has expired; get a new one from POST /api/auth/token.") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError("the token is invalid; get one from POST /api/auth/token.") from exc
        return Actor(str(claims["sub"]), str(claims.get("role", "")))


def load_or_create_secret(path: Path) -> str:
    """The token-signing key kept beside the registry (mode 0600), made on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(secret + "\n")
    return secret
