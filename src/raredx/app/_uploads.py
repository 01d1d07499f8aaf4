"""Phenopacket uploads, the same for the API and the workbench: one size limit (``RAREDX_MAX_UPLOAD_MB``), one
type check (the bytes must be JSON or a ZIP; a declared ZIP must be one), one message each; then the import
(or its dry run) and its report, with the records named after the uploaded file."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from raredx.errors import InputError
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


class KeptUploads:
    """Checked uploads waiting for the user's "Import" (the workbench's two-step import); forgotten after an hour.

    They are kept on disk under ``root`` (a private folder beside the registry), so that whichever worker process
    of the server gets the "Import" finds the upload another one checked."""

    KEEP_SECONDS = 3600
    _META = "kept.json"

    def __init__(self, root: Path) -> None:
        self.root = root  # made at the first upload kept

    def keep(self, path: Path, actor: Actor) -> str:
        """A token that :meth:`take` exchanges for the upload ``path`` (by the same user only); the upload's folder
        (from :func:`store_upload`) moves under :attr:`root`."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._forget_old()
        token = secrets.token_urlsafe(16)
        staging = self.root / f"{token}.new"
        shutil.move(str(path.parent), staging)
        (staging / self._META).write_text(json.dumps({"name": path.name, "username": actor.username}))
        staging.rename(self.root / token)
        return token

    def take(self, token: str, actor: Actor) -> Path:
        """The upload kept under ``token`` for ``actor``, now theirs to import and discard (once: a second take, by
        any worker, finds nothing)."""
        self._forget_old()
        folder = self.root / token
        meta = self._meta(folder) if _TOKEN.fullmatch(token) else None
        taken = self.root / f"{token}.taken"
        try:
            if meta is None or meta["username"] != actor.username:
                raise FileNotFoundError(token)
            folder.rename(taken)  # atomic: of two takes, one wins
        except OSError as exc:
            raise NotFoundError("this upload is no longer kept (over an hour old, or imported already); "
                                "upload the file again.") from exc
        return taken / str(meta["name"])

    def clear(self) -> None:
        """Forget every kept upload."""
        for folder in self._folders():
            shutil.rmtree(folder, ignore_errors=True)

    def _folders(self) -> list[Path]:
        return list(self.root.iterdir()) if self.root.is_dir() else []

    def _meta(self, folder: Path) -> dict[str, Any] | None:
        try:
            meta: dict[str, Any] = json.loads((folder / self._META).read_text())
        except (OSError, ValueError):
            return None
        return meta

    def _forget_old(self) -> None:
        now = time.time()
        for folder in self._folders():
            try:
                old = now - folder.stat().st_mtime > self.KEEP_SECONDS
            except OSError:
                continue
            if old:
                shutil.rmtree(folder, ignore_errors=True)


_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
