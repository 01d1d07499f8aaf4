"""Options shared by the commands. The environment variables named in the help are read by the library
(:mod:`raredx.config`), so that a value given neither way gets the same default everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Directory with the release files [env: RAREDX_DATA_DIR] (default: newest installed, else bundled).")]
CacheDir = Annotated[Path | None, typer.Option(
    "--cache-dir", help="Where the compiled index is cached [env: RAREDX_CACHE_DIR].")]
RegistryDir = Annotated[Path | None, typer.Option(
    "--registry-dir", help="Where the SQLite registry and the token key live [env: RAREDX_REGISTRY_DIR] "
    "(default: $XDG_DATA_HOME/raredx/registry).")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", help="sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB [env: RAREDX_DATABASE_URL] "
    "(default: SQLite in the registry dir).")]
