"""Phenopacket uploads, the same for the API and the workbench: one size limit (``RAREDX_MAX_UPLOAD_MB``), one
type check (the bytes must be JSON or a ZIP; a declared ZIP must be one), one message each; then the import
(or its dry run) and its report, with the records named after the uploaded file.

On disk, a server's uploads live in one directory of its own under the temporary directory
(``raredx-uploads-*``, see :class:`KeptUploads`), locked while the server runs; a server starting up removes
the directories of servers that are gone (a crash or a restart leaves nothing behind for long)."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: leftovers are recognised by their age alone
    fcntl = None  # type: ignore[assignment]

from raredx.errors import InputError
from raredx.io import looks_like_zip
from raredx.registry import Actor, Registry, check_policy
from raredx.registry.errors import NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError

log = logging.getLogger(__name__)

ZIP_TYPES = ("application/zip", "application/x-zip-compressed", "application/x-zip")
CHUNK = 1 << 20
PREFIX = "raredx-uploads-"  # a server's own directory of uploads
LEGACY = ("raredx-upload-", "raredx-web-upload-")  # single uploads in the temporary directory (older versions)


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
    """A server's uploads on disk: the directory they are stored in (:meth:`store`), and the checked ones waiting
    for the user's "Import" (the workbench's two-step import; :meth:`keep`, :meth:`take`), at most
    ``PER_USER`` a user (an older one is dropped for a new one) and forgotten after an hour.

    The directory (``raredx-uploads-*`` in ``root``, default the temporary directory) holds a lock file locked
    while this object lives; making one removes the directories whose lock nobody holds (their server is gone)."""

    KEEP_SECONDS = 3600
    PER_USER = 2

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else Path(tempfile.gettempdir())
        self.removed = remove_leftovers(self.root, self.KEEP_SECONDS)
        self.dir = Path(tempfile.mkdtemp(prefix=PREFIX, dir=self.root))
        self._lock_file = _hold(self.dir / ".lock")
        self._kept: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    def store(self, stream: BinaryIO, filename: str | None, content_type: str | None, *, max_mb: int) -> Path:
        """:func:`store_upload` into this server's directory."""
        return store_upload(stream, filename, content_type, max_mb=max_mb, directory=self.dir)

    def keep(self, path: Path, actor: Actor) -> str:
        """A token that :meth:`take` exchanges for the upload (by the same user only). The user's oldest kept
        upload is removed when they already have ``PER_USER``."""
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._forget_old()
            mine = sorted((k.at, t) for t, k in self._kept.items() if k.username == actor.username)
            for _, old in mine[:max(0, len(mine) - self.PER_USER + 1)]:
                discard_upload(self._kept.pop(old).path)
            self._kept[token] = _Kept(path, actor.username, time.time())
        return token

    def take(self, token: str, actor: Actor) -> Path:
        with self._lock:
            self._forget_old()
            kept = self._kept.get(token)
            if kept is None or kept.username != actor.username:
                raise NotFoundError("this upload is no longer kept (over an hour old, replaced by newer uploads, or "
                                    "imported already); upload the file again.")
            del self._kept[token]
        return kept.path

    def clear(self) -> None:
        with self._lock:
            for kept in self._kept.values():
                discard_upload(kept.path)
            self._kept.clear()

    def close(self) -> None:
        """Remove every upload and the directory, and release its lock."""
        self.clear()
        shutil.rmtree(self.dir, ignore_errors=True)
        self._lock_file.close()

    def _forget_old(self) -> None:
        now = time.time()
        for token, kept in list(self._kept.items()):
            if now - kept.at > self.KEEP_SECONDS:
                discard_upload(kept.path)
                del self._kept[token]


def _hold(path: Path) -> IO[bytes]:
    """Open ``path`` and lock it (exclusively) for as long as the file stays open."""
    fh = path.open("wb")
    if fcntl is not None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fh


def _abandoned(folder: Path, max_age: float) -> bool:
    """Whether the server of an uploads directory is gone: nobody holds its lock (or, without locks, it is old)."""
    lock = folder / ".lock"
    try:
        age = time.time() - folder.stat().st_mtime
        if fcntl is None or not lock.exists():
            return age > (max_age if fcntl is None else 60)  # no lock file yet: give its server a minute to make it
        with lock.open("rb") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # held: its server is running
            return True
    except OSError:
        return False


def remove_leftovers(root: Path, max_age: float = 3600) -> int:
    """Remove the uploads directories in ``root`` whose server is gone, and single uploads of older versions
    that are older than ``max_age`` seconds; how many were removed."""
    removed = 0
    try:
        entries = list(root.iterdir())
    except OSError:
        return 0
    for entry in entries:
        if not entry.is_dir() or entry.is_symlink():
            continue
        if entry.name.startswith(PREFIX):
            gone = _abandoned(entry, max_age)
        elif entry.name.startswith(LEGACY):
            try:
                gone = time.time() - entry.stat().st_mtime > max_age and entry.stat().st_uid == os.getuid()
            except (OSError, AttributeError):
                gone = False
        else:
            continue
        if gone:
            shutil.rmtree(entry, ignore_errors=True)
            removed += not entry.exists()
    if removed:
        log.info("removed %d upload directories left behind in %s", removed, root)
    return removed
