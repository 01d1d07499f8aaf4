"""Roles, permissions, password hashes (argon2id) and signed bearer tokens (JWT, HS256)."""

from __future__ import annotations

import datetime as dt
import enum
import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from raredx.errors import Message
from raredx.registry.errors import AuthenticationError, PasswordPolicyError, PermissionDeniedError


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
    MATCHMAKE = "send patients to other centres (Matchmaker Exchange)"
    MANAGE_PEERS = "manage the Matchmaker Exchange peers"
    REFER = "refer patients to the centre (their own referrals only)"
    TRIAGE = "triage referrals: accept, return, assign experts, close, see the overdue list"
    REVIEW = "review the referrals assigned to them: opinions and the conclusion"
    MANAGE_ORGANISATIONS = "manage the referring organisations"


_P = Permission
ROLES: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "clinician": frozenset({_P.READ, _P.READ_IDENTITY, _P.WRITE, _P.IMPORT, _P.STATISTICS, _P.DIAGNOSE,
                            _P.MATCHMAKE}),
    "registry_manager": frozenset({_P.READ, _P.READ_IDENTITY, _P.WRITE, _P.DELETE, _P.IMPORT, _P.STATISTICS,
                                   _P.DIAGNOSE, _P.AUDIT, _P.MATCHMAKE}),
    "researcher": frozenset({_P.READ, _P.STATISTICS, _P.DIAGNOSE}),
    # remote consultation (docs/referrals.md): an external doctor sees only their own referrals, never the registry
    "referring_physician": frozenset({_P.REFER}),
    "coordinator": frozenset({_P.READ, _P.READ_IDENTITY, _P.WRITE, _P.STATISTICS, _P.DIAGNOSE, _P.TRIAGE}),
    "expert": frozenset({_P.READ, _P.READ_IDENTITY, _P.STATISTICS, _P.DIAGNOSE, _P.REVIEW}),
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
            raise PermissionDeniedError(Message(
                f"user {self.username!r} (role {self.role}) may not {permission.value}; "
                "ask an admin for a role that allows it.", "registry.permission", user=self.username, role=self.role,
            ), actor=self, permission=permission.name)


SYSTEM = Actor("system", "admin")  # the command line acting on the local registry (audited as such)
ANONYMOUS = Actor("anonymous", "")  # who a refused request came from when no one had signed in (audit only)

# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): ~50 ms a hash; old hashes keep their own parameters
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_dummy: tuple[PasswordHasher, str] | None = None

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MIN_SECRET_BYTES = 32
PASSPHRASE_HINT = "a passphrase of three or four unrelated words is long, easy to remember and hard to guess"
GENERATE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash (an unknown user) a dummy hash is checked instead, so that the
    answer takes as long as for a real user (no user enumeration by timing)."""
    global _dummy
    if password_hash is None:
        if _dummy is None or _dummy[0] is not _hasher:
            _dummy = (_hasher, _hasher.hash(secrets.token_urlsafe(16)))
        password_hash = _dummy[1]
        _verify(password_hash, password)
        return False
    return _verify(password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords (``data/common_passwords.txt``, made by
    ``scripts/make_common_passwords.py``; its header says where the entries come from)."""
    text = resources.files("raredx.registry").joinpath("data", "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


_EDGES = re.compile(r"^[\d\W_]+|[\d\W_]+$")


def check_password_strength(password: str, username: str | None = None) -> None:
    """Refuse a password that is short, common (the bundled list, also with digits or punctuation around it),
    one character or chunk repeated, or the user's own name; the message says what to choose instead."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"the password is shorter than {MIN_PASSWORD_LENGTH} characters; choose a longer one "
                                  f"({PASSPHRASE_HINT}).", code="short")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"the password is longer than {MAX_PASSWORD_LENGTH} characters; choose a shorter "
                                  "one.", code="long")
    lower = unicodedata.normalize("NFKC", password).casefold()
    core = _EDGES.sub("", lower)
    name = unicodedata.normalize("NFKC", username or "").casefold().strip()
    if name and name in (lower, core, lower.replace(" ", "")):
        raise PasswordPolicyError("the password is the user name (or the user name with digits added); choose one "
                                  f"that has nothing to do with it ({PASSPHRASE_HINT}).", code="username")
    listed = common_passwords()
    if lower in listed or core in listed or lower.replace(" ", "") in listed or re.fullmatch(r"(.+?)\1+", lower):
        raise PasswordPolicyError("the password is one of the most commonly used ones (or a variant of one, or a "
                                  f"repetition) and is guessed first by attackers; choose another ({PASSPHRASE_HINT}).",
                                  code="common")


def check_secret_key(secret: str, where: str) -> str:
    """The token-signing key, if it is long enough to resist guessing (at least 32 bytes)."""
    from raredx.errors import InputError

    size = len(secret.encode())
    if size < MIN_SECRET_BYTES:
        raise InputError(f"{where} is {size} byte{'s' if size != 1 else ''} long; the token-signing key must be at least "
                         f"{MIN_SECRET_BYTES} bytes of random text. Generate one with: {GENERATE_SECRET}")
    return secret


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says: whose it is (user name and row id), the user's token generation when it was
    issued (an account change raises it, which revokes every older token), its own id and when it expires."""

    username: str
    user_id: int
    generation: int
    jti: str
    expires: dt.datetime


@dataclass(frozen=True, slots=True)
class SignIn:
    """A successful sign-in: the user, their row id and their token generation (what a token records)."""

    actor: Actor
    user_id: int
    generation: int


@dataclass(frozen=True, slots=True)
class TokenSigner:
    secret: str
    minutes: int = 60

    def issue(self, who: SignIn) -> str:
        now = dt.datetime.now(dt.UTC)
        actor = who.actor
        claims = {"sub": actor.username, "role": actor.role, "uid": who.user_id, "gen": who.generation,
                  "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + dt.timedelta(minutes=self.minutes)}
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"],
                                options={"require": ["sub", "exp", "jti", "uid", "gen"]})
            return TokenClaims(str(claims["sub"]), int(claims["uid"]), int(claims["gen"]), str(claims["jti"]),
                               dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC))
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("the token has expired; get a new one from POST /api/auth/token.") from exc
        except (jwt.PyJWTError, TypeError, ValueError) as exc:
            raise AuthenticationError("the token is invalid; get one from POST /api/auth/token.") from exc


def load_or_create_secret(path: Path) -> str:
    """The token-signing key kept beside the registry (mode 0600), made on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(secret + "\n")
    return secret
