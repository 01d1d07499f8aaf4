"""Phenopacket uploads, the same for the API and the workbench: one size limit (``RAREDX_MAX_UPLOAD_MB``), one
type check (the bytes must be JSON or a ZIP; a declared ZIP must be one), one message each; then the import
(or its dry run) and its report, with the records named after the uploaded file.

On disk, a server's uploads live in a private folder beside the registry (see :class:`KeptUploads`), which the
server clears of what a crash or a stop left behind before its workers start."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from raredx.errors import InputError, Message
from raredx.io import looks_like_zip
from raredx.registry import Actor, Registry, check_policy
from raredx.registry.errors import NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError

log = logging.getLogger(__name__)

ZIP_TYPES = ("application/zip", "application/x-zip-compressed", "application/x-zip")
CHUNK = 1 << 20


def store_upload(stream: BinaryIO, filename: str | None, content_type: str | None, *, max_mb: int,
                 directory: Path | None = None) -> Path:
    """Copy an upload into a private directory (made in ``directory``, default the temporary directory), under its
    own name (``.zip`` added to a ZIP without it); refuse what is empty, larger than ``max_mb`` MiB, or neither
    JSON nor a ZIP (nothing is left on disk then). Remove it with :func:`discard_upload`."""
    name = Path(filename or "upload").name or "upload"
    folder = Path(tempfile.mkdtemp(prefix="raredx-upload-", dir=directory))
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
                raise PayloadTooLargeError(Message(f"{name} is larger than {max_mb} MiB; split it or raise "
                                                  "RAREDX_MAX_UPLOAD_MB.", "upload.too_large", name=name, mib=max_mb))
            out.write(chunk)
    if size == 0:
        raise InputError(Message("no file chosen (or the file is empty): choose a phenopacket .json or a .zip of them.",
                                 "upload.empty"))


def _checked(path: Path, content_type: str) -> Path:
    is_zip = zipfile.is_zipfile(path)
    if not is_zip and looks_like_zip(path):
        raise InputError(Message(f"{path.name} is a damaged or truncated ZIP archive; make it again (or upload it "
                                 "again).", "upload.damaged_zip", name=path.name))
    if content_type in ZIP_TYPES and not is_zip:
        raise UnsupportedMediaTypeError(Message(f"{path.name} is declared as a ZIP but is not one; upload the archive "
                                                "itself.", "upload.not_zip", name=path.name))
    if not is_zip and _head(path).strip()[:1] not in (b"{", b"["):
        declared = f" (content type {content_type})" if content_type else ""
        raise UnsupportedMediaTypeError(Message(f"{path.name}{declared} is neither a ZIP nor JSON; upload a phenopacket "
                                                ".json or a .zip of them.", "upload.not_json", name=path.name))
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
    """A server's uploads on disk, in ``root`` (a private folder beside the registry, shared by the server's worker
    processes): stored there while checked (:meth:`store`), then, for the workbench's two-step import, kept under
    a token until the user's "Import" (:meth:`keep`, :meth:`take`) — whichever worker gets it finds the upload.
    At most ``PER_USER`` a user (the oldest is dropped for a new one), forgotten after ``KEEP_SECONDS``; a rejected
    upload is removed at once (:func:`store_upload`, :func:`discard_upload`). :meth:`clean_at_start`, run by the
    server before its workers start, removes what a stopped or crashed server left."""

    KEEP_SECONDS = 3600
    PER_USER = 2
    _META = "kept.json"

    def __init__(self, root: Path) -> None:
        self.root = root  # made at the first upload

    def store(self, stream: BinaryIO, filename: str | None, content_type: str | None, *, max_mb: int) -> Path:
        """:func:`store_upload` into :attr:`root`."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        return store_upload(stream, filename, content_type, max_mb=max_mb, directory=self.root)

    def keep(self, path: Path, actor: Actor) -> str:
        """A token that :meth:`take` exchanges for the upload ``path`` (by the same user only); the user's oldest
        kept upload is removed when they already have ``PER_USER``."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._forget_old()
        mine = sorted((f.stat().st_mtime, f.name) for f in self._folders()
                      if f.name.startswith(KEPT) and (self._meta(f) or {}).get("username") == actor.username)
        for _, old in mine[:max(0, len(mine) - self.PER_USER + 1)]:
            shutil.rmtree(self.root / old, ignore_errors=True)
        token = secrets.token_urlsafe(16)
        staging = self.root / f"{token}.new"
        shutil.move(str(path.parent), staging)
        (staging / self._META).write_text(json.dumps({"name": path.name, "username": actor.username}))
        staging.rename(self.root / f"{KEPT}{token}")
        return token

    def take(self, token: str, actor: Actor) -> Path:
        """The upload kept under ``token`` for ``actor``, now theirs to import and discard (once: a second take, by
        any worker, finds nothing)."""
        self._forget_old()
        folder = self.root / f"{KEPT}{token}"
        meta = self._meta(folder) if _TOKEN.fullmatch(token) else None
        taken = self.root / f"{token}.taken"
        try:
            if meta is None or meta["username"] != actor.username:
                raise FileNotFoundError(token)
            folder.rename(taken)  # atomic: of two takes, one wins
            os.utime(taken)  # its import starts now
        except OSError as exc:
            raise NotFoundError(Message("this upload is no longer kept (over an hour old, replaced by newer uploads, or "
                                        "imported already); upload the file again.", "upload.gone")) from exc
        return taken / str(meta["name"])

    def clear(self) -> None:
        """Forget every upload."""
        for folder in self._folders():
            shutil.rmtree(folder, ignore_errors=True)

    @classmethod
    def clean_at_start(cls, root: Path) -> int:
        """Before a server's workers start, nothing is being uploaded or imported: remove every upload in ``root``
        but those kept for an "Import" within the hour, and single uploads older versions left in the temporary
        directory over an hour ago; how many were removed."""
        removed = 0
        now = time.time()
        for folder in cls(root)._folders():
            if folder.name.startswith(KEPT) and now - folder.stat().st_mtime <= cls.KEEP_SECONDS:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed += not folder.exists()
        removed += _remove_legacy(Path(tempfile.gettempdir()), cls.KEEP_SECONDS)
        if removed:
            log.info("removed %d uploads left behind by a server that stopped", removed)
        return removed

    def _folders(self) -> list[Path]:
        return [p for p in self.root.iterdir() if p.is_dir() and not p.is_symlink()] if self.root.is_dir() else []

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
KEPT = "kept-"  # the folder of an upload kept under a token


def _remove_legacy(tmp: Path, max_age: float) -> int:
    """Single uploads of older raredx versions in the temporary directory (``raredx-upload-*``,
    ``raredx-web-upload-*``), ours and older than ``max_age`` seconds."""
    removed = 0
    for entry in tmp.glob("raredx-*upload-*"):
        try:
            gone = (entry.is_dir() and not entry.is_symlink() and entry.stat().st_uid == os.getuid()
                    and time.time() - entry.stat().st_mtime > max_age)
        except (OSError, AttributeError):
            continue
        if gone:
            shutil.rmtree(entry, ignore_errors=True)
            removed += not entry.exists()
    return removed
