"""Phenopacket uploads, the same for the API and the workbench: one size limit (``RAREDX_MAX_UPLOAD_MB``), one
type check (the bytes must be JSON or a ZIP; a declared ZIP must be one), one message each; then the import
(or its dry run) and its report, with the records named after the uploaded file."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from raredx.errors import InputError
from raredx.io import looks_like_zip
from raredx.registry import Actor, Registry, check_policy
from raredx.registry.errors import NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError

ZIP_TYPES = ("application/zip", "application/x-zip-compressed", "application/x-zip")
CHUNK = 1 << 20


def store_upload(stream: BinaryIO, filename: str | None, content_type: str | None, *, max_mb: int) -> Path:
    """Copy an upload into a private temporary directory, under its own name (``.zip`` added to a ZIP without it);
    refuse what is empty, larger than ``max_mb`` MiB, or neither JSON nor a ZIP. Remove it with
    :func:`discard_upload`."""
    name = Path(filename or "upload").name or "upload"
    folder = Path(tempfile.mkdtemp(prefix="raredx-upload-"))
    path = folder / name
    try:
        _copy(stream, path, name, max_mb)
        return _checked(path, (content_type or "").split(";")[0].strip().lower())
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _copy(stream: BinaryIO, path: Path, name: str, max_mb: int) -> None:
    size = 0
    with path.open("wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > max_mb * 2**20:
                raise PayloadTooLargeError(f"{name} is larger than {max_mb} MiB; split it or raise RAREDX_MAX_UPLOAD_MB.")
            out.write(chunk)
    if size == 0:
        raise InputError("no file chosen (or the file is empty): choose a phenopacket .json or a .zip of them.")


def _checked(path: Path, content_type: str) -> Path:
    is_zip = zipfile.is_zipfile(path)
    if not is_zip and looks_like_zip(path):
        raise InputError(f"{path.name} is a damaged or truncated ZIP archive; make it again (or upload it again).")
    if content_type in ZIP_TYPES and not is_zip:
        raise UnsupportedMediaTypeError(f"{path.name} is declared as a ZIP but is not one; upload the archive itself.")
    if not is_zip and _head(path).strip()[:1] not in (b"{", b"["):
        declared = f" (content type {content_type})" if content_type else ""
        raise UnsupportedMediaTypeError(f"{path.name}{declared} is neither a ZIP nor JSON; upload a phenopacket .json "
                                        "or a .zip of them.")
    return path.rename(path.with_suffix(".zip")) if is_zip and path.suffix.lower() != ".zip" else path


def _head(path: Path, size: int = 64) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def discard_upload(path: Path) -> None:
    shutil.rmtree(path.parent, ignore_errors=True)


def import_upload(registry: Registry, actor: Actor, path: Path, policy: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Import (or, with ``dry_run``, only check) a stored upload; the report as shown to the user."""
    report = registry.import_phenopackets(actor, path, policy=check_policy(policy), dry_run=dry_run)
    return {**report.for_display(path), "failed": report.failed}


@dataclass(frozen=True, slots=True)
class _Kept:
    path: Path
    username: str
    at: float


class KeptUploads:
    """Checked uploads waiting for the user's "Import" (the workbench's two-step import); forgotten after an hour."""

    KEEP_SECONDS = 3600

    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    def keep(self, path: Path, actor: Actor) -> str:
        """A token that :meth:`take` exchanges for the upload (by the same user only)."""
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._forget_old()
            self._kept[token] = _Kept(path, actor.username, time.time())
        return token

    def take(self, token: str, actor: Actor) -> Path:
        with self._lock:
            self._forget_old()
            kept = self._kept.get(token)
            if kept is None or kept.username != actor.username:
                raise NotFoundError("this upload is no longer kept (over an hour old, or imported already); "
                                    "upload the file again.")
            del self._kept[token]
        return kept.path

    def clear(self) -> None:
        with self._lock:
            for kept in self._kept.values():
                discard_upload(kept.path)
            self._kept.clear()

    def _forget_old(self) -> None:
        now = time.time()
        for token, kept in list(self._kept.items()):
            if now - kept.at > self.KEEP_SECONDS:
                discard_upload(kept.path)
                del self._kept[token]
