"""Registry errors: each carries the HTTP status the API answers with, and says what to do."""

from __future__ import annotations

from raredx.errors import InputError, RaredxError


class NotFoundError(RaredxError):
    exit_code = 4
    http_status = 404


class ConflictError(RaredxError):
    exit_code = 5
    http_status = 409


class AuthenticationError(RaredxError):
    exit_code = 6
    http_status = 401


class PermissionDeniedError(RaredxError):
    exit_code = 7
    http_status = 403


class PayloadTooLargeError(InputError):
    http_status = 413


class UnsupportedMediaTypeError(InputError):
    http_status = 415


class DatabaseError(RaredxError):
    """The database cannot be reached or is not at the expected schema version."""

    exit_code = 8
    http_status = 503
