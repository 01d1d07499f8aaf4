"""A limit on the size of request bodies, before anything reads them (a pure ASGI middleware, so that it also
holds for requests that are never authenticated): a declared ``Content-Length`` above the limit is refused
without reading a byte of the body, and a body without one (chunked) is counted as it arrives and refused as
soon as it passes the limit. Uploads (the paths the interfaces name with :func:`raredx.app.http.allow_uploads`)
get the upload limit instead.

The refusal is an HTTP 413 raised where the application reads the body, so the application's own error
handlers answer it (JSON for the API, a page or a notice for the workbench)."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """413: the request body is over the limit (the message says which limit and what to do)."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=413, detail=detail)


MULTIPART_SLACK = 2**20  # an upload's limit is the file's, plus this for the multipart envelope and form fields


class BodyLimit:
    """``max_body_kb`` KiB for a request body, ``max_upload_mb`` MiB (plus the multipart envelope) for an upload
    to one of ``upload_paths``."""

    def __init__(self, app: ASGIApp, *, max_body_kb: int, max_upload_mb: int, upload_paths: Collection[str]) -> None:
        self.app = app
        self.max_body_kb, self.max_upload_mb = max_body_kb, max_upload_mb
        self.limit = max_body_kb * 2**10
        self.upload_limit = max_upload_mb * 2**20 + MULTIPART_SLACK
        self.upload_paths = upload_paths  # read at each request: the interfaces add theirs after this is made

    def message(self, upload: bool) -> str:
        if upload:
            return (f"the upload is larger than {self.max_upload_mb} MiB; split it into smaller files or raise "
                    "RAREDX_MAX_UPLOAD_MB.")
        return (f"the request body is larger than {self.max_body_kb} KiB; send less (a patient's lists hold at most "
                "1000 entries each; phenopacket files go to POST /api/phenopackets/import) or raise RAREDX_MAX_BODY_KB.")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = _is_upload(scope.get("path") or "", self.upload_paths)
        limit = self.upload_limit if upload else self.limit
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            async def refuse() -> Message:
                raise BodyTooLarge(self.message(upload))

            await self.app(scope, refuse, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(self.message(upload))
            return message

        await self.app(scope, counted, send)


def _is_upload(path: str, paths: Collection[str]) -> bool:
    """Whether ``path`` is one of ``paths``, where ``{name}`` in one stands for a path segment."""
    return path in paths or any("{" in p and _pattern(p).fullmatch(path) is not None for p in paths)


@functools.lru_cache(maxsize=64)
def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(template)))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
