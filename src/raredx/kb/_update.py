"""`raredx data update`: fetch newer official releases, check they build, then install them."""

from __future__ import annotations

import logging
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from raredx import config
from raredx.errors import KnowledgeBaseError
from raredx.kb._build import KnowledgeBase, load_knowledge_base
from raredx.kb._sources import RELEASES, find_source_files

log = logging.getLogger(__name__)


def update_releases(source_dir: str | Path | None = None, *, target: str | Path | None = None,
                    cache: str | Path | None = None, timeout: float = 60.0,
                    derive: Callable[[Path, KnowledgeBase], object] | None = None) -> KnowledgeBase:
    """Download every release from its official URL (or copy it from ``source_dir``), derive what raredx
    makes from them (``derive(staging_dir, knowledge_base)``, e.g. the terms of Orphanet's definitions), build the knowledge
    base from the new files, and only then replace the installed release. Returns the new knowledge base."""
    target = Path(target) if target else config.releases_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".raredx-update-") as tmp:
        staging = Path(tmp)
        if source_dir is not None:
            for path in find_source_files(Path(source_dir)).values():
                shutil.copy2(path, staging / path.name)
        else:
            for s in RELEASES:
                _download(s.url, staging / s.filename, timeout)
        kb = load_knowledge_base(staging, cache=cache)  # raises if any new file is unusable
        if derive is not None:
            derive(staging, kb)
            kb = load_knowledge_base(staging, cache=cache)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(staging, target)
    log.info("installed %s into %s", kb.version, target)
    return kb


def _download(url: str, dest: Path, timeout: float) -> None:
    log.info("downloading %s", url)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(dest, "wb") as fh:
            shutil.copyfileobj(resp, fh)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise KnowledgeBaseError(
            f"could not download {url}: {exc}. Nothing was changed; the installed release stays in use. "
            "Offline? Copy the release files into a directory and run `raredx data update --from DIR`."
        ) from exc
