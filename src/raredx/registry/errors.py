"""Registry errors: each carries the HTTP status the API answers with, and says what to do."""

from __future__ import annotations

from typing import Any

from raredx.errors import InputError, RaredxError


class NotFoundError(RaredxError):
    exit_code = 4
    http_status = 404


class ConflictError(RaredxError):
    exit_code = 5
    http_status = 409


class IllegalTransitionError(ConflictError):
    """A referral status change that the workflow does not allow from the current status (409): names the referral,
    its status, the status asked for and those it may go to (``raredx.registry.referrals.TRANSITIONS``)."""

    def __init__(self, referral_id: int, current: str, requested: str, allowed: tuple[str, ...]) -> None:
        from raredx.errors import Message

        options = ", ".join(allowed) if allowed else "none (it is final)"
        super().__init__(Message(
            f"referral {referral_id} is {current!r} and cannot go to {requested!r}; from {current!r} it can go to: "
            f"{options}.", "referral.illegal_transition", id=referral_id, current=current, requested=requested,
            allowed=options))
        self.current, self.requested, self.allowed = current, requested, allowed


class AuthenticationError(RaredxError):
    exit_code = 6
    http_status = 401


class PermissionDeniedError(RaredxError):
    """A user (``actor``, when known) may not do what they asked (``permission``, when one was missing); the
    service audits it."""

    exit_code = 7
    http_status = 403

    def __init__(self, message: str, *, actor: Any = None, permission: str | None = None) -> None:
        super().__init__(message)
        self.actor = actor
        self.permission = permission


class TooManyAttemptsError(AuthenticationError):
    """Sign-in is locked after too many wrong passwords, until ``until``."""

    http_status = 429

    def __init__(self, message: str, *, until: Any = None) -> None:
        super().__init__(message)
        self.until = until


class PasswordPolicyError(InputError):
    """A password the policy refuses; ``code`` names the rule (``short``, ``long``, ``common``, ``username``) so
    that an interface can say it in the user's language."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class AccountConflictError(ConflictError):
    """An account change that is refused; ``code`` names why (``exists``, ``self``, ``last_admin``)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class PayloadTooLargeError(InputError):
    http_status = 413


class UnsupportedMediaTypeError(InputError):
    http_status = 415


class DatabaseError(RaredxError):
    """The database cannot be reached or is not at the expected schema version."""

    exit_code = 8
    http_status = 503
