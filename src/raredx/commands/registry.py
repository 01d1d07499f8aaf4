"""The registry and service commands (``serve``, ``user``, ``demo``, ``registry``), added to the ``raredx`` CLI
by :func:`register`. Heavy imports (FastAPI, SQLAlchemy) happen inside the commands."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from raredx.commands._options import CacheDir, DatabaseUrl, DataDir, RegistryDir

if TYPE_CHECKING:
    from raredx.config import Settings
    from raredx.registry import Registry

log = logging.getLogger(__name__)
NOTHING_DONE = 1  # the exit code of a command that did nothing (as grep's for no match)

user_app = typer.Typer(help="Users of the registry service and their roles.", no_args_is_help=True)
registry_app = typer.Typer(help="The registry database: migrate, import and export phenopackets, case reports.",
                           no_args_is_help=True)

def _settings(registry_dir: Path | None, database_url: str | None, **extra: object) -> Settings:
    """The options given; for the others, Settings reads RAREDX_* variables and its defaults."""
    from raredx.config import Settings

    values = {k: v for k, v in {"registry_dir": registry_dir, "database_url": database_url, **extra}.items() if v is not None}
    return Settings.model_validate(values)


def _registry(registry_dir: Path | None, database_url: str | None, *, ontology: bool = False,
              data_dir: Path | None = None, cache_dir: Path | None = None) -> Registry:
    from raredx.registry import Registry

    settings = _settings(registry_dir, database_url)
    onto = None
    if ontology:
        from raredx.core import RareDx

        onto = RareDx.load(data_dir, cache_dir=cache_dir).kb.ontology
    return Registry.open(settings.url, ontology=onto)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
    demo: Annotated[bool, typer.Option("--demo", help="Demo mode: the published demo passwords work (see raredx demo) [env: RAREDX_DEMO].")] = False,
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="Worker processes, each with the knowledge base loaded "
                                                "once [env: RAREDX_WORKERS] (default: one per core).")] = None,
) -> None:
    """Start the registry and diagnosis service (FastAPI; OpenAPI docs at /docs)."""
    import os

    import uvicorn

    from raredx.app import Services, signing_key

    settings = _settings(registry_dir, database_url, data_dir=data_dir, cache_dir=cache_dir, demo=demo or None,
                         workers=workers)
    signing_key(settings)  # a key too short to be safe stops here, with how to make one
    if settings.demo:
        _check_demo_users(settings)
    typer.echo(f"raredx service on http://{host}:{port} (API docs at /docs) with {settings.workers} worker(s); "
               f"database {_safe(settings.url)}", err=True)
    Services.prepare(settings)  # once, before the workers start: they load what it made
    os.environ.update(settings.environment())  # the workers' settings (raredx.server.app_from_environment)
    uvicorn.run("raredx.server:app_from_environment", factory=True, host=host, port=port, workers=settings.workers,
                log_level="info", access_log=False)


def _check_demo_users(settings: Settings) -> None:
    """Demo mode over a registry without demo users would only answer "wrong user name or password": say so."""
    from raredx.registry import SYSTEM, Registry

    reg = Registry.open(settings.url)
    try:
        if not any(u.demo for u in reg.list_users(SYSTEM)):
            typer.echo(f"no demo users in {_safe(settings.url)}: build a demo registry first with "
                       f"raredx demo --registry-dir DIR, then run raredx serve --demo --registry-dir DIR", err=True)
    finally:
        reg.close()


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    from raredx.registry._db import normalise_url

    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input instead of prompting.")]
UserName = Annotated[str, typer.Argument(help="The user name.", show_default=False)]


@user_app.command("add")
def user_add(
    name: UserName,
    role: Annotated[str, typer.Option(help="admin, clinician, registry_manager or researcher.")],
    password_stdin: PasswordStdin = False,
    email: Annotated[str | None, typer.Option(help="Where their notifications are e-mailed (default: none, in the "
                                                   "workbench only).")] = None,
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a user (the password is prompted for, or read from standard input). Passwords need at least 10
    characters and must not be a commonly used one or the user name."""
    from raredx.registry import SYSTEM
    from raredx.registry._service import check_email
    from raredx.registry.security import check_password_strength, check_role

    check_role(role)
    check_email(email)
    password = _password(password_stdin)
    check_password_strength(password, name)
    reg = _registry(registry_dir, database_url)
    user = reg.add_user(SYSTEM, name, password, role, email=email)
    typer.echo(f"user {user.username!r} ({user.role}) added")


@user_app.command("email")
def user_email(
    name: UserName,
    address: Annotated[str, typer.Argument(help="The e-mail address; \"\" removes it (notifications then stay in the "
                                                "workbench).", show_default=False)],
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Set (or remove) the address a user's notifications are e-mailed to."""
    from raredx.registry import SYSTEM

    user = _registry(registry_dir, database_url).update_user(SYSTEM, name, email=address)
    typer.echo(f"notifications of {user.username!r} are e-mailed to {user.email}" if user.email
               else f"{user.username!r} has no e-mail address: notifications stay in the workbench")


@user_app.command("list")
def user_list(registry_dir: RegistryDir = None, database_url: DatabaseUrl = None) -> None:
    """List the users: name, role, active or disabled, and demo / locked (with until when) where so."""
    from raredx.registry import SYSTEM

    users = _registry(registry_dir, database_url).list_users(SYSTEM)
    if not users:
        typer.echo("no users yet; add one with: raredx user add NAME --role admin", err=True)
    for u in users:
        flags = ["demo"] * u.demo + ([f"locked until {u.locked_until:%Y-%m-%d %H:%M} UTC"] if u.locked_until else [])
        typer.echo("\t".join([u.username, u.role, "active" if u.active else "disabled", *flags]))


@user_app.command("disable")
def user_disable(name: UserName, registry_dir: RegistryDir = None, database_url: DatabaseUrl = None) -> None:
    """Disable a user: they cannot sign in, and their sessions and tokens stop working at once."""
    from raredx.registry import SYSTEM

    _registry(registry_dir, database_url).update_user(SYSTEM, name, active=False)
    typer.echo(f"user {name!r} disabled (signed out everywhere)")


@user_app.command("enable")
def user_enable(name: UserName, registry_dir: RegistryDir = None, database_url: DatabaseUrl = None) -> None:
    """Enable a disabled user again."""
    from raredx.registry import SYSTEM

    _registry(registry_dir, database_url).update_user(SYSTEM, name, active=True)
    typer.echo(f"user {name!r} enabled")


@user_app.command("role")
def user_role(
    name: UserName,
    role: Annotated[str, typer.Argument(help="admin, clinician, registry_manager or researcher.", show_default=False)],
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change a user's role (they are signed out and sign in again with the new role)."""
    from raredx.registry import SYSTEM

    user = _registry(registry_dir, database_url).update_user(SYSTEM, name, role=role)
    typer.echo(f"user {user.username!r} is now {user.role} (signed out everywhere)")


@user_app.command("password")
def user_password(name: UserName, password_stdin: PasswordStdin = False, registry_dir: RegistryDir = None,
                  database_url: DatabaseUrl = None) -> None:
    """Set a new password for a user (prompted for, or read from standard input); it signs them out everywhere
    and lifts a sign-in lock."""
    from raredx.registry import SYSTEM
    from raredx.registry.security import check_password_strength

    reg = _registry(registry_dir, database_url)
    reg.get_user(SYSTEM, name)  # an unknown name fails before the prompt
    password = _password(password_stdin)
    check_password_strength(password, name)
    reg.update_user(SYSTEM, name, password=password)
    typer.echo(f"password of {name!r} changed (signed out everywhere)")


@user_app.command("unlock")
def user_unlock(name: UserName, registry_dir: RegistryDir = None, database_url: DatabaseUrl = None) -> None:
    """Lift the sign-in lock after too many wrong passwords (before it runs out by itself)."""
    from raredx.registry import SYSTEM

    _registry(registry_dir, database_url).unlock_user(SYSTEM, name)
    typer.echo(f"user {name!r} may sign in again")


@user_app.command("delete")
def user_delete(
    name: UserName,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Remove a user (the audit log and the records they wrote keep their name). Disabling keeps the account."""
    from raredx.registry import SYSTEM

    reg = _registry(registry_dir, database_url)
    reg.get_user(SYSTEM, name)
    if not yes:
        typer.confirm(f"delete user {name!r}?", abort=True)
    reg.delete_user(SYSTEM, name)
    typer.echo(f"user {name!r} deleted")


@registry_app.command("email-retry")
def registry_email_retry(
    days: Annotated[int, typer.Option(min=1, help="Only notifications of the last DAYS days (a user who adds an "
                                                  "address later gets no old ones).")] = 7,
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """E-mail the notifications still pending (the SMTP server was down, or refused them): for a cron job. Exit 1
    if any is still not sent."""
    import datetime as dt

    from raredx.app import Mailer

    settings = _settings(registry_dir, database_url)
    if not settings.smtp_host:
        typer.echo("RAREDX_SMTP_HOST is not set: notifications are not e-mailed, nothing to retry.", err=True)
        raise typer.Exit(NOTHING_DONE)
    reg = _registry(registry_dir, database_url)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    pending = len(reg.pending_emails(since=since))
    sent = Mailer(reg, settings).retry(since=since)
    typer.echo(f"{sent} of {pending} pending notification e-mails sent")
    if sent < pending:
        typer.echo("the others keep their error (see the log); they are tried again by the next run, at most "
                   "5 times each", err=True)
        raise typer.Exit(NOTHING_DONE)


@registry_app.command("migrate")
def registry_migrate(registry_dir: RegistryDir = None, database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the registry's tables (the service does this at start too)."""
    from raredx.registry._db import current_revision

    reg = _registry(registry_dir, database_url)
    typer.echo(f"schema at revision {current_revision(reg.engine)}")


@registry_app.command("import")
def registry_import(
    source: Annotated[Path, typer.Argument(help="A phenopacket JSON file, a directory or a ZIP of them.")],
    policy: Annotated[str, typer.Option(help="strict: reject records with any warning; lenient: fix or drop what a warning names.")] = "lenient",
    report: Annotated[Path | None, typer.Option(help="Write the full validation report (JSON) here.")] = None,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Import phenopackets; good records are saved, bad ones reported (record, field, reason) and left out."""
    from raredx.registry import SYSTEM, check_policy

    reg = _registry(registry_dir, database_url, ontology=True, data_dir=data_dir, cache_dir=cache_dir)
    result = reg.import_phenopackets(SYSTEM, source, policy=check_policy(policy))
    if report:
        report.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    for issue in result.issues[:20]:
        typer.echo(f"{issue.severity}: {issue}", err=True)
    if len(result.issues) > 20:
        typer.echo(f"... {len(result.issues) - 20} more issues" + (f" in {report}" if report else " (see --report)"), err=True)
    typer.echo(f"{result.imported} of {result.records} records imported, {result.rejected} rejected ({policy})")
    if result.imported == 0:  # the exit code says whether anything was done
        typer.echo("error: nothing was imported; fix the records named above (or see --report) and import again.",
                   err=True)
        raise typer.Exit(NOTHING_DONE)


@registry_app.command("export")
def registry_export(
    out: Annotated[Path, typer.Argument(help="A directory (one JSON per patient) or a .zip file.")],
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Export every patient as a GA4GH Phenopacket v2 (files named after the pseudonym and the patient id)."""
    from raredx.app import write_export
    from raredx.registry import SYSTEM

    n = write_export(_registry(registry_dir, database_url).export_phenopacket_files(SYSTEM), out)
    typer.echo(f"{n} phenopackets written to {out}")


@registry_app.command("similar")
def registry_similar(
    patient: Annotated[str, typer.Argument(help="The patient: its id or its pseudonym.")],
    top: Annotated[int, typer.Option(min=1, max=100, help="How many similar patients to show.")] = 10,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    with_genes: Annotated[bool, typer.Option("--with-genes", help="Count shared genes of the genetic findings too.")] = False,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Patients like this one: the registry's most similar other patients (never its family), with why."""
    from raredx.app import RegistryMatcher
    from raredx.core import RareDx
    from raredx.errors import InputError
    from raredx.registry import SYSTEM

    if fmt not in ("table", "json"):
        raise InputError(f"--format {fmt!r}: choose table or json.")
    rdx = RareDx.load(data_dir, cache_dir=cache_dir)
    reg = _registry(registry_dir, database_url)
    matcher = RegistryMatcher(rdx, reg)
    found = matcher.similar(SYSTEM, matcher.patient_id(SYSTEM, patient), top=top, with_genes=with_genes)
    if fmt == "json":
        typer.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Patients like {found.pseudonym} (id {found.patient_id}), of {found.n_patients}",
                  title_justify="left")
    for col in ("rank", "pseudonym", "id", "score", "diagnoses", "why"):
        table.add_column(col)
    for m in found.matches:
        table.add_row(str(m.rank), m.label, m.key, f"{m.score:.3f}", ", ".join(m.diagnoses), "; ".join(m.reasons))
    Console().print(table)
    if not found.matches:
        typer.echo("no similar patient: the registry has no other patient with observed phenotypes.", err=True)


@registry_app.command("reanalyse")
def registry_reanalyse(
    unsolved: Annotated[bool, typer.Option("--unsolved", help="Only patients without a confirmed diagnosis.")] = False,
    everyone: Annotated[bool, typer.Option("--all", help="Also the patients last analysed on this knowledge base.")] = False,
    workers: Annotated[int | None, typer.Option(min=1, max=256, help="Worker processes on this machine (a local Dask "
                                                "cluster; 1: this process; default: one per core).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Run on the Dask cluster of this scheduler (tcp://HOST:8786); its "
                                                  "workers need raredx and the same knowledge base.")] = None,
    rise: Annotated[float, typer.Option(help="A candidate's probability rising by this much (0.2: 20 points) is a "
                                        "material change.")] = 0.2,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Re-rank the registry's patients on the current knowledge base (those last analysed on an older one, or never),
    keep the new analyses, and list the patients whose picture changed materially: a new disease in the top 5, a
    large rise of a candidate's probability, a newly linked gene among their variants, with what changed and why."""
    import os

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from raredx.core import RareDx
    from raredx.errors import InputError
    from raredx.reanalysis import reanalyse
    from raredx.registry import SYSTEM

    if fmt not in ("table", "json"):
        raise InputError(f"--format {fmt!r}: choose table or json.")
    rdx = RareDx.load(data_dir, cache_dir=cache_dir)
    reg = _registry(registry_dir, database_url)
    reg.ontology = rdx.kb.ontology
    err = Console(stderr=True)
    show = err.is_terminal and not os.environ.get("CI")
    with Progress(TextColumn("re-analysing patients"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, disable=not show, transient=True) as progress:
        task = progress.add_task("patients", total=None)
        report = reanalyse(rdx, reg, SYSTEM, data_dir=data_dir, cache_dir=cache_dir, unsolved=unsolved,
                           everyone=everyone, rise=rise, workers=workers or os.cpu_count() or 1, scheduler=scheduler,
                           on_patients=lambda done, total: progress.update(task, completed=done, total=total))
    if fmt == "json":
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    for f in report.failed:
        typer.echo(f"patient {f.patient_id} not ranked: {f.message}", err=True)
    if report.changed:
        table = Table(title=f"Patients whose picture changed on {report.kb_version}", title_justify="left")
        for col in ("id", "pseudonym", "change", "what and why"):
            table.add_column(col, overflow="fold")
        for p in report.changed:
            for i, c in enumerate(p.changes):
                table.add_row(str(p.patient_id) if i == 0 else "", p.pseudonym if i == 0 else "", c.kind, c.reason)
        Console().print(table)
    typer.echo(f"{report.analysed} patients re-analysed in {report.seconds:.1f} s on {report.where} "
               f"({report.patients_per_second:.1f} per second); {len(report.changed)} changed materially"
               + (f", {len(report.failed)} could not be ranked" if report.failed else ""))


def reanalysis_note(kb_fingerprint: str, registry_dir: Path | None = None, database_url: str | None = None) -> str | None:
    """How many registry patients a re-analysis on the knowledge base ``kb_fingerprint`` would take (what ``raredx
    data update`` says after installing a release); ``None`` when there is no registry (it is not created here)."""
    from sqlalchemy.exc import SQLAlchemyError

    from raredx.registry import SYSTEM, Registry
    from raredx.registry._db import current_revision, head_revision

    settings = _settings(registry_dir, database_url)
    if settings.database_url is None and not (settings.registry_dir / "registry.sqlite3").exists():
        return None
    try:
        reg = Registry.open(settings.url, upgrade=False)
        try:
            if current_revision(reg.engine) != head_revision():
                return (f"the registry ({_safe(settings.url)}) has an older schema: run raredx registry migrate, then "
                        "raredx registry reanalyse")
            older, never = reg.count_reanalysis_targets(SYSTEM, kb_fingerprint)
            u_older, u_never = reg.count_reanalysis_targets(SYSTEM, kb_fingerprint, unsolved=True)
        finally:
            reg.close()
    except SQLAlchemyError as exc:
        return f"could not count the registry's patients to re-analyse ({_safe(settings.url)}): {exc.__class__.__name__}"
    return (f"a re-analysis would touch {older + never} registry patients ({u_older + u_never} unsolved): {older} last "
            f"analysed on an older knowledge base, {never} never analysed; run raredx registry reanalyse [--unsolved]")


@registry_app.command("report")
def registry_report(
    patient: Annotated[int, typer.Argument(help="The patient's id (as the workbench's patient list links it).")],
    out: Annotated[Path, typer.Option("--out", help="The PDF to write (readable by its owner only).")],
    lang: Annotated[str, typer.Option(help="The report's language: en or ru.")] = "en",
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Write a patient's case report as PDF (one to three A4 pages, the workbench's report to sign)."""
    import os

    from raredx.app import case_report
    from raredx.core import RareDx
    from raredx.registry import SYSTEM, Registry
    from raredx.web import case_report_pdf
    from raredx.web._i18n import LANGUAGES

    if lang not in LANGUAGES:
        raise typer.BadParameter(f"{lang!r}: use one of {', '.join(LANGUAGES)}.", param_hint="--lang")
    rdx = RareDx.load(data_dir, cache_dir=cache_dir)
    reg = Registry.open(_settings(registry_dir, database_url).url, ontology=rdx.kb.ontology)
    report = case_report(rdx, reg, SYSTEM, patient)
    pdf = case_report_pdf(report, lang, rdx.labels)
    with os.fdopen(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
        fh.write(pdf)
    typer.echo(f"case report of {report.patient.pseudonym} (patient {patient}) written to {out}")


def demo(
    phenopackets: Annotated[Path | None, typer.Argument(help="Phenopackets to start from (default: the 300 published cases shipped with raredx).")] = None,
    patients: Annotated[int, typer.Option(min=1, help="How many patients.")] = 300,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic fields.")] = 1,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
    registry_dir: Annotated[Path, typer.Option("--registry-dir", help="Where to build the demo registry.")] = Path("raredx-demo"),
    database_url: DatabaseUrl = None,
) -> None:
    """Build a demo registry: imported phenopackets plus synthetic registry fields, and demo users."""
    import random

    from raredx.registry import SYSTEM
    from raredx.registry._demo import DEMO_USERS, add_synthetic_fields, demo_password, demo_phenopackets

    source = phenopackets or demo_phenopackets()
    reg = _registry(registry_dir, database_url, ontology=True, data_dir=data_dir, cache_dir=cache_dir)
    rng = random.Random(seed)
    result = reg.import_phenopackets(SYSTEM, source, transform=lambda p: add_synthetic_fields(p, rng), limit=patients)
    existing = {u.username for u in reg.list_users(SYSTEM)}
    for name, role in DEMO_USERS:
        if name not in existing:
            reg.add_user(SYSTEM, name, demo_password(name), role, demo=True)
    typer.echo(f"demo registry: {result.imported} synthetic patients imported from {source}")
    typer.echo("DEMO users (published passwords; they work only with raredx serve --demo):")
    for name, role in DEMO_USERS:
        typer.echo(f"  {name:16} {role:17} password {demo_password(name)}")
    where = f"--database-url {_safe(reg.engine.url.render_as_string(hide_password=False))}" if database_url else f"--registry-dir {registry_dir}"
    typer.echo(f"start it with: raredx serve --demo {where}")


def register(app: typer.Typer) -> None:
    """Add the registry and service commands to the ``raredx`` command line."""
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.add_typer(user_app, name="user")
    app.add_typer(registry_app, name="registry")
