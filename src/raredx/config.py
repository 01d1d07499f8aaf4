"""Every setting of raredx in one place: the paths it reads and writes, the ``RAREDX_*`` environment variables
and the service's :class:`Settings`.

Each value is found the same way (gpsea's ``get_cache_dir_path`` is the model): an explicit argument (a
command-line option, a keyword argument), then its environment variable, then the default. The library's path
functions below do it with :func:`resolve`; :class:`Settings` does it for the service (pydantic-settings reads
``RAREDX_<FIELD>``). Every variable is a field of :class:`Settings`, so the field list is the list of variables
(``tests/test_docs.py`` checks that each is documented in the README).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "RAREDX_"
DATA_DIR_VAR = "RAREDX_DATA_DIR"
CACHE_DIR_VAR = "RAREDX_CACHE_DIR"
DEV_PHENOPACKETS = Path("shared", "data", "phenopacket-store", "dev-phenopackets.zip")  # beside the checkout


def resolve(explicit: str | Path | None, variable: str, default: Callable[[], Path]) -> Path:
    """``explicit`` if given, else the environment variable ``variable`` if set, else ``default()``."""
    if explicit is not None:
        return Path(explicit)
    value = os.environ.get(variable)
    return Path(value) if value else default()


def _xdg(variable: str, fallback: str) -> Path:
    """``$XDG_DATA_HOME/raredx`` or ``$XDG_CACHE_HOME/raredx`` (with the XDG fallbacks under the home directory)."""
    return Path(os.environ.get(variable) or Path.home() / fallback) / "raredx"


def user_data_home() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share")


def cache_dir(explicit: str | Path | None = None) -> Path:
    """The compiled knowledge base, engine profiles and extraction lexicon: ``--cache-dir``, ``RAREDX_CACHE_DIR``,
    ``$XDG_CACHE_HOME/raredx``."""
    return resolve(explicit, CACHE_DIR_VAR, lambda: _xdg("XDG_CACHE_HOME", ".cache"))


def data_dir(explicit: str | Path | None = None) -> Path | None:
    """The knowledge-base release files given by ``--data-dir`` or ``RAREDX_DATA_DIR``; ``None`` when neither is
    (then :func:`raredx.kb.resolve_data_dir` takes the installed release, else the bundled one)."""
    value = explicit if explicit is not None else os.environ.get(DATA_DIR_VAR) or None
    return Path(value) if value is not None else None


def releases_dir() -> Path:
    """Where ``raredx data update`` installs newer releases."""
    return user_data_home() / "releases"


def bundled_data_dir() -> Path:
    """The releases shipped inside the package."""
    return Path(str(resources.files("raredx.kb") / "data"))


def default_registry_dir() -> Path:
    return user_data_home() / "registry"


PRIVATE_DIR_MODE = 0o700  # the registry directory: patient data and the token key, for its owner only
PRIVATE_FILE_MODE = 0o600  # the SQLite registry (and its -wal, -shm, -journal files, which SQLite makes alike)


def private_dir(path: Path) -> Path:
    """``path``, made (with its parents) if missing; a directory raredx makes is its owner's only (0700). An
    existing directory is left as its owner set it."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
        os.chmod(path, PRIVATE_DIR_MODE)  # whatever the umask took off or left
    return path
def cpu_count() -> int:
    """The cores this process may run on (the default number of ``raredx serve`` workers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def dev_phenopackets(start: Path | None = None) -> Path | None:
    """The development phenopackets (``dev-phenopackets.zip``): in the working directory, else in ``shared/``
    beside the checkout (found from ``start``, default the working directory, and from this file); None if absent."""
    here = (start or Path.cwd()).resolve()
    candidates = [here / DEV_PHENOPACKETS.name, *(p.parent / DEV_PHENOPACKETS for p in (here, *here.parents))]
    candidates += [p.parent / DEV_PHENOPACKETS for p in Path(__file__).resolve().parents]
    return next((p for p in candidates if p.is_file()), None)


class Settings(BaseSettings):
    """The service's settings (``raredx serve`` and the registry commands): keyword arguments (the CLI passes its
    options), then ``RAREDX_<NAME>`` environment variables, then these defaults."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in registry_dir.")
    registry_dir: Path = Field(default_factory=default_registry_dir,
                               description="Where the SQLite registry and the token key live.")
    data_dir: Path | None = Field(default=None, description="Knowledge-base release files (as for raredx diagnose).")
    cache_dir: Path | None = Field(default=None, description="Compiled knowledge base and engine profiles.")
    secret_key: str | None = Field(default=None, description="Token-signing key (at least 32 bytes); default: made once, "
                                                             "kept in registry_dir.")
    token_minutes: int = Field(default=60, ge=1, description="Lifetime of a bearer token or a web session.")
    max_upload_mb: int = Field(default=100, ge=1, description="Largest phenopacket upload (API and workbench).")
    max_body_kb: int = Field(default=1024, ge=1, description="Largest request body of every other route (413 above).")
    login_max_failures: int = Field(default=5, ge=1, description="Wrong passwords in a row before sign-in is locked.")
    login_lockout_minutes: int = Field(default=15, ge=1, description="How long sign-in stays locked (an admin can "
                                                                     "unlock it sooner).")
    attachments_dir: Path | None = Field(default=None, description="Where referral attachments are kept (named by "
                                                                   "their SHA-256); default: attachments in registry_dir.")
    max_attachment_mb: int = Field(default=20, ge=1, description="Largest referral attachment (413 above).")
    referral_due_days_routine: int = Field(default=30, ge=1, description="Days from submission to the due date of a "
                                                                         "routine referral.")
    referral_due_days_urgent: int = Field(default=7, ge=1, description="... of an urgent referral.")
    referral_due_days_emergency: int = Field(default=2, ge=1, description="... of an emergency referral.")
    centre_name: str | None = Field(default=None, max_length=300,
                                    description="The centre's name atop a referral's conclusion (PDF); default: "
                                                "\"Rare disease competence centre\" in the document's language.")
    centre_address: str | None = Field(default=None, max_length=500,
                                       description="The centre's address (and contacts) under its name on the "
                                                   "conclusion.")
    demo: bool = Field(default=False, description="Demo mode: the demo users' published passwords work.")
    workers: int = Field(default_factory=cpu_count, ge=1, le=64,
                         description="Worker processes of raredx serve (each loads the knowledge base once).")
    # Matchmaker Exchange (docs/mme.md): the centre's contact, sent with every patient it shares
    mme_contact_name: str | None = Field(default=None, max_length=255,
                                         description="MME contact: the person or team other centres write to.")
    mme_contact_institution: str | None = Field(default=None, max_length=255, description="MME contact: institution.")
    mme_contact_email: str | None = Field(default=None, max_length=255, description="MME contact: e-mail address.")
    mme_contact_href: str | None = Field(default=None, max_length=500,
                                         description="MME contact: a public URL (default mailto: the e-mail).")
    mme_max_body_kb: int = Field(default=1024, ge=1, description="Largest MME match request (413 above).")
    mme_top: int = Field(default=10, ge=1, le=100, description="Most results an MME match answers with.")
    mme_min_score: float = Field(default=0.2, ge=0.0, le=1.0,
                                 description="Lowest MME score (0..1) a result must reach to be returned.")
    mme_timeout_seconds: float = Field(default=20.0, gt=0, le=300,
                                       description="How long an outgoing MME request waits for a peer.")

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.registry_dir / 'registry.sqlite3'}"

    @property
    def attachments(self) -> Path:
        """The directory of referral attachments (``attachments_dir``, else ``attachments`` in ``registry_dir``)."""
        return self.attachments_dir or self.registry_dir / "attachments"

    def due_days(self) -> dict[str, int]:
        """Days from submission to a referral's due date, by urgency."""
        return {"routine": self.referral_due_days_routine, "urgent": self.referral_due_days_urgent,
                "emergency": self.referral_due_days_emergency}

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 2**20

    def environment(self) -> dict[str, str]:
        """The ``RAREDX_*`` variables that give these settings (those that are set), for worker processes."""
        values = self.model_dump(exclude_none=True)
        return {ENV_PREFIX + name.upper(): str(v).lower() if isinstance(v, bool) else str(v)
                for name, v in values.items()}

    @classmethod
    def variables(cls) -> list[str]:
        """The ``RAREDX_*`` environment variables, one per setting."""
        return [ENV_PREFIX + name.upper() for name in cls.model_fields]
