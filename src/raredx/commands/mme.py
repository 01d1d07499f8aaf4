"""The Matchmaker Exchange commands (``raredx mme match``, ``raredx mme peers add|list|set|remove``; docs/mme.md),
added to the ``raredx`` CLI by :func:`register`. They act on the local registry as the system user (audited as
such), with the settings of ``raredx serve`` (the centre's contact, the token key that makes the MME ids)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from raredx.commands._options import CacheDir, DatabaseUrl, DataDir, RegistryDir

mme_app = typer.Typer(help="Matchmaker Exchange: send a patient to the other centres, manage the peer nodes.",
                      no_args_is_help=True)
peers_app = typer.Typer(help="The Matchmaker Exchange peers this centre matches with (admin).", no_args_is_help=True)
mme_app.add_typer(peers_app, name="peers")

TokenStdin = Annotated[bool, typer.Option("--token-stdin", help="Read the token the peer gave us (the one we send it "
                                          "as X-Auth-Token) from the first line of standard input.")]


def _token(stdin: bool) -> str | None:
    if not stdin:
        return None
    from raredx.errors import InputError

    token = sys.stdin.readline().strip()
    if not token:
        raise InputError("--token-stdin: standard input is empty; pipe the peer's token in (echo TOKEN | ...).")
    return token


def _checked(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """``fn(...)`` with a pydantic validation error said as an input error naming the field."""
    from pydantic import ValidationError

    from raredx.app.mme import validation_message
    from raredx.errors import InputError

    try:
        return fn(*args, **kwargs)
    except ValidationError as exc:
        raise InputError(validation_message(exc)) from None


@mme_app.command("match")
def mme_match(
    patient: Annotated[str, typer.Argument(help="The patient: its id or its pseudonym (it must consent to matchmaking).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Send a patient to every enabled peer as an MME match request and show what each answered (the other
    centre's contact, score, shared features). Nothing is stored but the audit line per peer."""
    from raredx.app import RegistryMatcher, signing_key
    from raredx.app.mme import Matchmaker
    from raredx.commands.registry import _registry, _settings
    from raredx.core import RareDx
    from raredx.errors import InputError
    from raredx.registry import SYSTEM

    if fmt not in ("table", "json"):
        raise InputError(f"--format {fmt!r}: choose table or json.")
    settings = _settings(registry_dir, database_url)
    rdx = RareDx.load(data_dir, cache_dir=cache_dir)
    reg = _registry(registry_dir, database_url)
    pid = RegistryMatcher(rdx, reg).patient_id(SYSTEM, patient)
    found = Matchmaker(rdx, reg, settings, signing_key(settings)).search_peers(SYSTEM, pid)
    if fmt == "json":
        typer.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    if not found.answers:
        typer.echo("no enabled peer with a token; add one with: raredx mme peers add NAME --url URL --token-stdin",
                   err=True)
    for a in found.answers:
        table = Table(title=f"{a.peer}: " + (f"error: {a.error}" if a.error else f"{len(a.matches)} match(es)"),
                      title_justify="left")
        for col in ("score", "contact", "institution", "e-mail / href", "shared"):
            table.add_column(col)
        for m in a.matches:
            table.add_row(f"{m.score:.3f}", m.contact.name, m.contact.institution or "",
                          m.contact.email or m.contact.href,
                          ", ".join([t.label for t in m.shared_terms] + [f"gene {g}" for g in m.shared_genes]))
        Console().print(table)


@peers_app.command("add")
def peers_add(
    name: Annotated[str, typer.Argument(help="A short name for the peer (letters, digits, space . _ -).")],
    url: Annotated[str, typer.Option("--url", help="The base URL of its MME API (/match is appended).")],
    token_stdin: TokenStdin = False,
    contact_name: Annotated[str | None, typer.Option(help="Whom to contact there.")] = None,
    contact_email: Annotated[str | None, typer.Option(help="Their e-mail address.")] = None,
    institution: Annotated[str | None, typer.Option(help="Their institution.")] = None,
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a peer; prints the token it is to send us (shown this once: only its SHA-256 is kept). Give it the
    token it gave us with --token-stdin now, or later with raredx mme peers set NAME --token-stdin."""
    from raredx.commands.registry import _registry
    from raredx.registry import SYSTEM
    from raredx.registry.schemas import PeerCreate

    data = _checked(PeerCreate, name=name, base_url=url, outgoing_token=_token(token_stdin),
                    contact_name=contact_name, contact_email=contact_email, contact_institution=institution)
    peer, token = _registry(registry_dir, database_url).add_peer(SYSTEM, data)
    typer.echo(f"peer {peer.name!r} added ({peer.base_url}). The token it is to send us as X-Auth-Token "
               "(shown once; give it to its admin over a safe channel):", err=True)
    typer.echo(token)
    if not peer.has_outgoing_token:
        typer.echo(f"no token to send it yet: raredx mme peers set {peer.name!r} --token-stdin", err=True)


@peers_app.command("list")
def peers_list(registry_dir: RegistryDir = None, database_url: DatabaseUrl = None) -> None:
    """List the peers: name, base URL, enabled or not, whether we have a token to send it, contact."""
    from raredx.commands.registry import _registry
    from raredx.registry import SYSTEM

    peers = _registry(registry_dir, database_url).list_peers(SYSTEM)
    if not peers:
        typer.echo("no peers yet; add one with: raredx mme peers add NAME --url URL --token-stdin", err=True)
    for p in peers:
        contact = ", ".join(x for x in (p.contact_name, p.contact_institution, p.contact_email) if x)
        typer.echo("\t".join([p.name, p.base_url, "enabled" if p.enabled else "disabled",
                              "token" if p.has_outgoing_token else "no token", contact]))


@peers_app.command("set")
def peers_set(
    name: Annotated[str, typer.Argument(help="The peer's name.")],
    token_stdin: TokenStdin = False,
    enable: Annotated[bool | None, typer.Option("--enable/--disable", help="Match with it, or stop for now.")] = None,
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Set the token we send a peer, or enable or disable it."""
    from raredx.commands.registry import _registry
    from raredx.registry import SYSTEM

    peer = _checked(_registry(registry_dir, database_url).update_peer, SYSTEM, name, enabled=enable,
                    outgoing_token=_token(token_stdin))
    typer.echo(f"peer {peer.name!r}: {'enabled' if peer.enabled else 'disabled'}, "
               f"{'a token to send' if peer.has_outgoing_token else 'no token to send yet'}")


@peers_app.command("remove")
def peers_remove(name: Annotated[str, typer.Argument(help="The peer's name.")], registry_dir: RegistryDir = None,
                 database_url: DatabaseUrl = None) -> None:
    """Remove a peer: its token stops working at once (the audit log keeps its name)."""
    from raredx.commands.registry import _registry
    from raredx.registry import SYSTEM

    typer.echo(f"peer {_registry(registry_dir, database_url).remove_peer(SYSTEM, name)!r} removed")


def register(app: typer.Typer) -> None:
    """Add ``raredx mme`` to the ``raredx`` command line."""
    app.add_typer(mme_app, name="mme")

