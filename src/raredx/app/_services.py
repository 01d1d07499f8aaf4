"""What a server opens once and every request uses: settings, the core object, the registry, the token signer,
the HPO term names and search (English and Russian) and the uploads kept for confirmation; and what the server's
parent process does once before it starts its workers (:meth:`Services.prepare`)."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from raredx.app._conclusion import Centre
from raredx.app._referrals import AttachmentStore
from raredx.app._similar import RegistryMatcher
from raredx.app._uploads import KeptUploads
from raredx.config import Settings, private_dir
from raredx.core import RareDx
from raredx.engine import Case
from raredx.extract import TermLabels
from raredx.registry import Actor, Registry
from raredx.registry.errors import AuthenticationError
from raredx.registry.schemas import unstorable
from raredx.registry.security import TokenSigner, check_secret_key, load_or_create_secret

if TYPE_CHECKING:
    from raredx.app.mme import Matchmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

DEMO_BANNER = ("DEMO MODE: the demo users' published passwords work and the data are synthetic. "
               "Never use demo mode for real patients.")


@dataclass
class Services:
    settings: Settings
    rdx: RareDx
    registry: Registry
    signer: TokenSigner
    terms: TermLabels
    uploads: KeptUploads
    owns_registry: bool = False
    # CPU-bound work (a diagnosis) runs one at a time per worker process, first come first served: requests
    # queue instead of sharing the interpreter's lock, so each runs at full speed and latency stays even
    _compute: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(1))
    _matcher: RegistryMatcher | None = None
    _mme: Matchmaker | None = None

    @property
    def matcher(self) -> RegistryMatcher:
        """Patients like this one, and solved cases as evidence, over this registry (its index kept until the
        registry changes)."""
        if self._matcher is None:
            self._matcher = RegistryMatcher(self.rdx, self.registry)
        return self._matcher

    @property
    def mme(self) -> Matchmaker:
        """This centre in the Matchmaker Exchange (the server's index of consenting patients, and the client)."""
        if self._mme is None:
            from raredx.app.mme import Matchmaker

            self._mme = Matchmaker(self.rdx, self.registry, self.settings, self.signer.secret)
        return self._mme

    @property
    def attachments(self) -> AttachmentStore:
        """Referral attachments on disk (``RAREDX_ATTACHMENTS_DIR``, ``RAREDX_MAX_ATTACHMENT_MB``)."""
        return AttachmentStore(self.settings.attachments, self.settings.max_attachment_mb)

    @property
    def centre(self) -> Centre:
        """The issuer of referral conclusions (``RAREDX_CENTRE_NAME``, ``RAREDX_CENTRE_ADDRESS``)."""
        return Centre.of(self.settings)

    @staticmethod
    def prepare(settings: Settings) -> None:
        """What the parent process of ``raredx serve`` does once, so that its workers do not race to do it: the
        registry's schema migrated, the token-signing key made, the knowledge base and engine compiled into the
        cache (each worker then loads them from there)."""
        Registry.open(settings.url).close()
        if not settings.secret_key:
            signing_key(settings)
        RareDx.load(settings.data_dir, cache_dir=settings.cache_dir).engine  # noqa: B018 - compile into the cache
        KeptUploads.clean_at_start(settings.registry_dir / "uploads")

    @classmethod
    def open(cls, settings: Settings | None = None, *, rdx: RareDx | None = None,
             registry: Registry | None = None) -> Services:
        """Load what is not given from ``settings``: the knowledge base and engine (built now, not at the first
        request), the registry (migrated), the token key (made once, kept in the registry dir)."""
        settings = settings or Settings()
        rdx = rdx or RareDx.load(settings.data_dir, cache_dir=settings.cache_dir)
        rdx.engine  # noqa: B018 - build the engine before the first request
        rdx.labels.russian  # noqa: B018 - and the term search in both languages
        kb = rdx.kb

        def equivalent_ids(disease_id: str) -> tuple[str, ...]:
            c = kb.concept(disease_id)
            return tuple(c.ids) if c is not None else (disease_id,)

        owns = registry is None
        reg = registry or Registry.open(settings.url, ontology=kb.ontology, equivalent_ids=equivalent_ids)
        if reg.ontology is None:
            reg.ontology, reg.equivalent_ids = kb.ontology, equivalent_ids
        reg.referral_due_days = settings.due_days()
        secret = signing_key(settings)
        if settings.demo:
            log.warning(DEMO_BANNER)
        return cls(settings, rdx, reg, TokenSigner(secret, settings.token_minutes), rdx.labels,
                   KeptUploads(settings.registry_dir / "uploads"), owns_registry=owns)

    async def diagnose_json(self, case: Case, *, top: int = 10, strict: bool = True) -> str:
        """The differential of ``case`` as the JSON of ``raredx diagnose --format json``, computed in turn with the
        other diagnoses of this process (plain dataclasses of str/float/tuple: ``json.dumps`` directly, without a
        web framework's generic encoder, several ms a call on an answer this size)."""

        def run() -> str:
            return json.dumps(self.rdx.diagnose(case, top=top, strict=strict).to_dict(), ensure_ascii=False)

        return await self.compute(run)

    async def compute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a worker thread, after the CPU-bound work queued before it in this process."""
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=self._compute)

    def close(self) -> None:
        if self.owns_registry:
            self.registry.close()

    def sign_in(self, username: str, password: str, *, client: str | None = None) -> tuple[Actor, str]:
        """The user and a new token for them, if the password is right (demo users only in demo mode; too many
        wrong passwords lock sign-in, see the ``login_*`` settings). ``client``: their address, for the audit log."""
        if unstorable(username) or unstorable(password):  # no user has such a name or password
            raise AuthenticationError("wrong user name or password (or the user is disabled).")
        s = self.settings
        who = self.registry.sign_in(username, password, demo_mode=s.demo, max_failures=s.login_max_failures,
                                    lockout_minutes=s.login_lockout_minutes, client=client)
        return who.actor, self.signer.issue(who)

    def actor(self, token: str | None) -> Actor:
        """The user a bearer token (the API's header, the workbench's cookie) belongs to, as they are now;
        refused once it is signed out, or once the account was changed (role, password, disabled) or removed."""
        if not token:
            raise AuthenticationError("not authenticated: send 'Authorization: Bearer TOKEN' (get one from "
                                      "POST /api/auth/token).")
        actor = self.registry.token_actor(self.signer.verify(token), demo_mode=self.settings.demo)
        if actor is None:
            raise AuthenticationError("the token no longer works: it was signed out, or the account was changed, "
                                      "disabled or removed since; sign in again (POST /api/auth/token).")
        return actor

    def sign_out(self, token: str | None) -> None:
        """Revoke ``token`` (nothing to do if it is missing, invalid or already expired)."""
        try:
            claims = self.signer.verify(token or "")
        except AuthenticationError:
            return
        actor = self.registry.token_actor(claims, demo_mode=self.settings.demo)
        self.registry.revoke_token(actor or Actor(claims.username, ""), claims)


def signing_key(settings: Settings) -> str:
    """The token-signing key: ``RAREDX_SECRET_KEY``, else the key kept in the registry dir (made on first use);
    refused when shorter than 32 bytes, with how to make a good one."""
    if settings.secret_key is not None:
        return check_secret_key(settings.secret_key, "RAREDX_SECRET_KEY")
    path = private_dir(settings.registry_dir) / "token-key"
    return check_secret_key(load_or_create_secret(path), f"the key file {path}")
