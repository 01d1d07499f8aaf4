"""The registry service: every read and write of patient data goes through here, is permission-checked
against the acting user's role, recorded in the append-only audit log, and (for writes) kept as a revision."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import (
    CursorResult,
    Engine,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from raredx.errors import InputError, Message, Problem
from raredx.ontology import onset
from raredx.registry import _models as m
from raredx.registry._db import make_engine, migrate
from raredx.registry._notifications import Notifications
from raredx.registry._referrals import DUE_DAYS, UNSET, Referrals, Unset
from raredx.registry.errors import (
    AccountConflictError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    TooManyAttemptsError,
)
from raredx.registry.phenopackets import (
    Policy,
    check_policy,
    export_name,
    patient_from_phenopacket,
    phenopacket_from_patient,
    years_of,
)
from raredx.registry.schemas import (
    CHILD_SCHEMAS,
    IDENTITY_FIELDS,
    MAX_ID,
    MAX_PAGE,
    AnalysisCreate,
    AnalysisPage,
    AnalysisRecord,
    AuditPage,
    AuditRecord,
    ChangedPatient,
    ChangedPatients,
    DiagnosisSummary,
    Identity,
    PatientCreate,
    PatientFilter,
    PatientPublic,
    PatientsPublic,
    PatientSummaries,
    PatientSummary,
    PatientUpdate,
    PeerCreate,
    PeerPublic,
    PeerTarget,
    Revision,
    UserPublic,
)
from raredx.registry.security import (
    ANONYMOUS,
    SYSTEM,
    Actor,
    Permission,
    SignIn,
    TokenClaims,
    check_password_strength,
    check_role,
    hash_password,
    verify_password,
)

log = logging.getLogger(__name__)

_BOOKKEEPING = ("id", "version", "created_at", "created_by", "updated_at", "updated_by", "deleted_at")
_SCALARS = tuple(k for k in PatientCreate.model_fields if k not in CHILD_SCHEMAS and k != "identity")
# The one pairing of the per-patient list tables with their schemas (both read off their own declarations).
CHILDREN: dict[str, tuple[type[m.Base], type[BaseModel]]] = {
    name: (m.CHILD_MODELS[name], schema) for name, schema in CHILD_SCHEMAS.items()
}


_NO_IDENTITY = Actor("matching", "researcher")  # reads records without identities, for matching


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did: counts, the new patients' ids, and every problem (naming record, field and reason)."""

    policy: str
    records: int
    imported: int
    rejected: int
    patient_ids: tuple[int, ...]
    issues: tuple[Problem, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy, "records": self.records, "imported": self.imported, "rejected": self.rejected,
            "patient_ids": list(self.patient_ids), "issues": [i.to_dict() for i in self.issues],
        }

    def for_display(self, upload: Path) -> dict[str, Any]:
        """:meth:`to_dict` with the records named after the uploaded file, not its temporary copy (what the API
        answers and the workbench shows)."""
        out = self.to_dict()
        where = str(upload)
        for issue in out["issues"]:
            issue["record"] = issue["record"].replace(where, upload.name)
        return out

    @property
    def failed(self) -> bool:
        """Nothing was imported, and not for want of records without problems (notes aside)."""
        return self.imported == 0 and any(i.severity != "note" for i in self.issues)


class Registry(Referrals, Notifications):
    """The registry over one database (its referrals: :class:`raredx.registry._referrals.Referrals`; their
    notifications and video consultations: :class:`raredx.registry._notifications.Notifications`). ``ontology`` (optional) checks HPO ids and expands term searches;
    ``equivalent_ids`` (optional) maps a disease id to all ids of its concept for disease searches."""

    def __init__(self, engine: Engine, *, ontology: Any = None, equivalent_ids: Callable[[str], tuple[str, ...]] | None = None):
        self.engine = engine
        self.ontology = ontology
        self.equivalent_ids = equivalent_ids
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.referral_due_days: dict[str, int] = dict(DUE_DAYS)  # days to a referral's due date, by urgency
        self._listen_for_commits()  # a committed transaction's notifications go to on_notified (e-mail)

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True, **kwargs: Any) -> Registry:
        """Connect to ``url`` and bring its schema up to date (an empty database gets every table)."""
        engine = make_engine(url)
        if upgrade:
            migrate(engine)
        return cls(engine, **kwargs)

    def close(self) -> None:
        self.engine.dispose()

    # -- audit ----------------------------------------------------------------------------------
    @staticmethod
    def _audit(s: Session, actor: Actor, action: str, patient_id: int | None = None, **detail: Any) -> None:
        s.add(m.AuditEntry(username=actor.username[:100], role=actor.role, action=action, patient_id=patient_id,
                           detail=detail or None))

    @staticmethod
    def _audit_shown(s: Session, actor: Actor, action: str, patient_ids: Sequence[int], **detail: Any) -> None:
        """One entry per patient shown (so each patient's audit trail says they were seen in a list); one without
        a patient when none was."""
        now = dt.datetime.now(dt.UTC)
        shown: list[int | None] = [*patient_ids] or [None]
        rows = [{"username": actor.username, "role": actor.role, "action": action, "patient_id": pid, "at": now,
                 "detail": detail or None} for pid in shown]
        s.execute(insert(m.AuditEntry), rows)

    def audit_page(self, actor: Actor, *, patient_id: int | None = None, offset: int = 0, limit: int = 100) -> AuditPage:
        """Audit entries, newest first (of one patient, if given): ``limit`` of them from ``offset``, and how many
        there are in all."""
        actor.require(Permission.AUDIT)
        _check_page(offset, limit)
        E = m.AuditEntry
        where = [E.patient_id == patient_id if abs(patient_id) <= MAX_ID else false()] if patient_id is not None else []
        with self._sessions() as s:
            count = s.scalar(select(func.count()).select_from(E).where(*where)) or 0
            rows = s.scalars(select(E).where(*where).order_by(E.id.desc()).offset(offset).limit(limit))
            return AuditPage(data=[AuditRecord.model_validate(r) for r in rows], count=count, offset=offset, limit=limit)

    def audit_log(self, actor: Actor, *, patient_id: int | None = None, offset: int = 0, limit: int = 100) -> list[AuditRecord]:
        return self.audit_page(actor, patient_id=patient_id, offset=offset, limit=limit).data

    def audit_denied(self, actor: Actor | None, *, patient_id: int | None = None, **detail: Any) -> None:
        """Record a refused request (403): who (``None``: not known, e.g. a failed CSRF check), and what. A database
        that cannot take it is logged, not raised: the refusal stands either way."""
        try:
            with self._sessions.begin() as s:
                self._audit(s, actor or ANONYMOUS, "denied", patient_id, **detail)
        except SQLAlchemyError:
            log.exception("could not audit a refused request of %s", (actor or ANONYMOUS).username)

    # -- users ----------------------------------------------------------------------------------
    def add_user(self, actor: Actor, username: str, password: str, role: str, *, demo: bool = False,
                 organisation_id: int | None = None, email: str | None = None) -> UserPublic:
        actor.require(Permission.MANAGE_USERS)
        check_role(role)
        email = check_email(email)
        if not username.strip() or len(username) > 100 or username != username.strip() or username != _printable(username):
            raise InputError("the user name must be 1 to 100 characters, without spaces at either end or control "
                             "characters; choose another.")
        check_password_strength(password, username)
        with self._sessions.begin() as s:
            if s.scalar(select(m.User.id).where(m.User.username == username)) is not None:
                raise AccountConflictError(f"user {username!r} exists already; choose another name.", code="exists")
            if organisation_id is not None:
                self._organisation(s, organisation_id)
            user = m.User(username=username, password_hash=hash_password(password), role=role, active=True, demo=demo,
                          token_generation=0, organisation_id=organisation_id, email=email)
            s.add(user)
            self._audit(s, actor, "user_add", user=username, role=role,
                        **({"organisation_id": organisation_id} if organisation_id is not None else {}))
            s.flush()
            return self._user_public(user, None)

    def list_users(self, actor: Actor) -> list[UserPublic]:
        actor.require(Permission.MANAGE_USERS)
        with self._sessions() as s:
            rows = s.execute(select(m.User, m.LoginLock).outerjoin(m.LoginLock, m.LoginLock.username == m.User.username)
                             .order_by(m.User.id))
            return [self._user_public(u, lock) for u, lock in rows]

    def get_user(self, actor: Actor, who: int | str) -> UserPublic:
        """A user by row id or by name."""
        actor.require(Permission.MANAGE_USERS)
        with self._sessions() as s:
            user = self._find_user(s, who)
            return self._user_public(user, s.get(m.LoginLock, user.username))

    def update_user(self, actor: Actor, who: int | str, *, active: bool | None = None, role: str | None = None,
                    password: str | None = None, organisation_id: int | Unset | None = UNSET,
                    email: str | Unset | None = UNSET) -> UserPublic:
        """Disable or enable a user, change their role, set a new password (which also lifts a sign-in lock).
        Each change is audited and revokes the user's tokens (sessions) issued before it; so is a new organisation or
        e-mail address (``None``: none), which do not sign the user out."""
        actor.require(Permission.MANAGE_USERS)
        if role is not None:
            check_role(role)
        if not isinstance(email, Unset):
            email = check_email(email)
        with self._sessions.begin() as s:
            user = self._find_user(s, who)
            if password is not None:
                check_password_strength(password, user.username)
            changed = False
            if active is False and user.active:
                self._keep_an_admin(s, actor, user, "disable")
                user.active, changed = False, True
                self._audit(s, actor, "user_disable", user=user.username)
            elif active is True and not user.active:
                user.active, changed = True, True
                self._audit(s, actor, "user_enable", user=user.username)
            if role is not None and role != user.role:
                if role != "admin":
                    self._keep_an_admin(s, actor, user, "change the role of")
                self._audit(s, actor, "user_role", user=user.username, role=role, previous_role=user.role)
                user.role, changed = role, True
            if password is not None:
                user.password_hash, changed = hash_password(password), True
                s.execute(delete(m.LoginLock).where(m.LoginLock.username == user.username))
                self._audit(s, actor, "user_password", user=user.username)
            if not isinstance(organisation_id, Unset) and organisation_id != user.organisation_id:
                if organisation_id is not None:
                    self._organisation(s, organisation_id)
                self._audit(s, actor, "user_organisation", user=user.username, organisation_id=organisation_id,
                            previous=user.organisation_id)
                user.organisation_id = organisation_id
            if not isinstance(email, Unset) and email != user.email:
                self._audit(s, actor, "user_email", user=user.username, **({"removed": True} if email is None else {}))
                user.email = email
            if changed:
                user.token_generation += 1
            s.flush()
            return self._user_public(user, s.get(m.LoginLock, user.username))

    def delete_user(self, actor: Actor, who: int | str) -> None:
        """Remove a user (their audit entries and the records they wrote keep their name)."""
        actor.require(Permission.MANAGE_USERS)
        with self._sessions.begin() as s:
            user = self._find_user(s, who)
            if user.active:
                self._keep_an_admin(s, actor, user, "delete")
            s.execute(delete(m.LoginLock).where(m.LoginLock.username == user.username))
            s.execute(delete(m.Notification).where(m.Notification.username == user.username))  # a new namesake's
            s.delete(user)
            self._audit(s, actor, "user_delete", user=user.username, role=user.role)

    def unlock_user(self, actor: Actor, who: int | str) -> UserPublic:
        """Lift a sign-in lock (after too many wrong passwords) before it runs out."""
        actor.require(Permission.MANAGE_USERS)
        with self._sessions.begin() as s:
            user = self._find_user(s, who)
            if s.execute(delete(m.LoginLock).where(m.LoginLock.username == user.username)).rowcount:  # type: ignore[attr-defined]
                self._audit(s, actor, "user_unlock", user=user.username)
            return self._user_public(user, None)

    @staticmethod
    def _find_user(s: Session, who: int | str) -> m.User:
        q = select(m.User).where(m.User.id == who if isinstance(who, int) else m.User.username == who)
        user = s.scalar(q)
        if user is None:
            which = f"no user {who!r}" if isinstance(who, str) else f"no user with id {who}"
            raise NotFoundError(Message(f"{which}; the list of users shows who there is (raredx user list).",
                                        "registry.no_user", who=repr(who) if isinstance(who, str) else str(who)))
        return user

    @staticmethod
    def _keep_an_admin(s: Session, actor: Actor, user: m.User, what: str) -> None:
        """Refuse to lock an admin out of their own account, or to leave the registry without an active admin."""
        if actor is not SYSTEM and user.username == actor.username:
            raise AccountConflictError(f"you cannot {what} your own account; ask another admin to do it.", code="self")
        if user.role == "admin" and user.active:
            admins = s.scalar(select(func.count()).select_from(m.User).where(
                m.User.role == "admin", m.User.active, m.User.demo.is_(False), m.User.id != user.id)) or 0
            if admins == 0 and not user.demo:
                raise AccountConflictError(f"{user.username!r} is the last active admin; make another user admin first "
                                           "(raredx user role NAME admin).", code="last_admin")

    @staticmethod
    def _user_public(user: m.User, lock: m.LoginLock | None) -> UserPublic:
        now = dt.datetime.now(dt.UTC)
        locked = lock.locked_until if lock is not None and lock.locked_until is not None else None
        return UserPublic(id=user.id, username=user.username, role=user.role, active=user.active, demo=user.demo,
                          organisation_id=user.organisation_id, email=user.email, created_at=user.created_at, failed_logins=lock.failures if lock is not None else 0,
                          locked_until=locked if locked is not None and locked > now else None)

    # -- signing in -----------------------------------------------------------------------------
    def sign_in(self, username: str, password: str, *, demo_mode: bool = False, max_failures: int = 5,
                lockout_minutes: int = 15, client: str | None = None) -> SignIn:
        """The user, if the password is right. ``max_failures`` wrong passwords in a row (none further apart than
        ``lockout_minutes``) lock sign-in for that name for ``lockout_minutes``, whether the name exists or not;
        an unknown name costs the same hash check as a known one. Demo users (published passwords) work only in
        demo mode. Every attempt is audited."""
        name = _printable(username)[:100]
        now = dt.datetime.now(dt.UTC)
        window = dt.timedelta(minutes=lockout_minutes)
        where: dict[str, Any] = {"client": client} if client else {}
        with self._sessions.begin() as s:
            user = s.scalar(select(m.User).where(m.User.username == name)) if username == name else None
            who = Actor(name, user.role if user is not None else "")
            lock = s.get(m.LoginLock, name)
            locked = lock.locked_until if lock is not None and lock.locked_until is not None else None
            if locked is not None and locked > now:
                self._audit(s, who, "login_failed", reason="locked", **where)
                error: AuthenticationError = TooManyAttemptsError(
                    f"too many wrong passwords for {name!r}: signing in is locked until {locked:%H:%M} UTC. Wait until "
                    "then, or ask an admin to unlock it (raredx user unlock NAME, or the Users page).", until=locked)
            elif (not verify_password(user.password_hash if user is not None else None, password)
                  or user is None or not user.active):
                reason = "unknown user" if user is None else "wrong password" if user.active else "disabled"
                failures = self._count_failure(s, name, now, window, lock)
                detail: dict[str, Any] = {"reason": reason, "failures": failures, **where}
                error = AuthenticationError("wrong user name or password (or the user is disabled).")
                if failures >= max_failures:
                    until = now + window
                    s.execute(update(m.LoginLock).where(m.LoginLock.username == name).values(locked_until=until))
                    detail["locked_minutes"] = lockout_minutes
                    error = TooManyAttemptsError(
                        f"wrong user name or password, {failures} times in a row: signing in as {name!r} is locked "
                        f"until {until:%H:%M} UTC. Wait until then, or ask an admin to unlock it (raredx user unlock "
                        "NAME, or the Users page).", until=until)
                self._audit(s, who, "login_failed", **detail)
            elif user.demo and not demo_mode:
                self._audit(s, who, "login_failed", reason="demo user outside demo mode", **where)
                error = AuthenticationError(f"{name!r} is a demo user with a published password; it works only when "
                                            "the service runs in demo mode (raredx serve --demo).")
            else:
                if lock is not None:
                    s.delete(lock)
                self._audit(s, who, "login", **where)
                return SignIn(Actor(user.username, user.role), user.id, user.token_generation)
        raise error

    def _count_failure(self, s: Session, name: str, now: dt.datetime, window: dt.timedelta,
                       lock: m.LoginLock | None) -> int:
        """Add a wrong password to the name's count (restarted when the last one is older than ``window``); forget
        counts that have run out. The count after this one."""
        L = m.LoginLock
        s.execute(delete(L).where(L.last_failure_at < now - window, L.username != name,
                                  or_(L.locked_until.is_(None), L.locked_until < now))
                  .execution_options(synchronize_session=False))
        if lock is None:
            try:
                with s.begin_nested():  # another sign-in may be adding the same name's row just now
                    s.add(m.LoginLock(username=name, failures=1, last_failure_at=now))
                return 1
            except IntegrityError:
                lock = s.get(m.LoginLock, name, populate_existing=True)
                if lock is None:  # pragma: no cover - added and removed again in between
                    return 1
        stale = lock.last_failure_at < now - window
        s.execute(update(L).where(L.username == name).values(
            failures=1 if stale else L.failures + 1, last_failure_at=now, locked_until=None))
        return 1 if stale else (s.scalar(select(L.failures).where(L.username == name)) or 1)

    def authenticate(self, username: str, password: str, *, demo_mode: bool = False) -> Actor:
        """The user, if the password is right (see :meth:`sign_in`)."""
        return self.sign_in(username, password, demo_mode=demo_mode).actor

    def token_actor(self, claims: TokenClaims, *, demo_mode: bool = False) -> Actor | None:
        """The user a verified token belongs to, as they are now; ``None`` if the token was revoked (signed out),
        the account changed since it was issued (its token generation), or the user is gone or disabled."""
        U, R = m.User, m.RevokedToken
        q = select(U.username, U.role, U.token_generation, U.demo, exists().where(R.jti == claims.jti)).where(
            U.id == claims.user_id, U.username == claims.username, U.active)
        with self._sessions() as s:
            row = s.execute(q).first()
        if row is None or row[2] != claims.generation or row[4] or (row[3] and not demo_mode):
            return None
        return Actor(row[0], row[1])

    def revoke_token(self, actor: Actor, claims: TokenClaims) -> None:
        """Sign out: the token stops working now instead of when it expires."""
        now = dt.datetime.now(dt.UTC)
        R = m.RevokedToken
        with self._sessions.begin() as s:
            s.execute(delete(R).where(R.expires_at < now).execution_options(synchronize_session=False))
            if s.get(R, claims.jti) is None:
                try:
                    with s.begin_nested():  # signed out twice at once: once is enough
                        s.add(R(jti=claims.jti, expires_at=claims.expires))
                except IntegrityError:
                    pass
            self._audit(s, actor, "logout")

    # -- conversion -----------------------------------------------------------------------------
    def _to_public(self, row: m.Patient, actor: Actor) -> PatientPublic:
        data: dict[str, Any] = {k: getattr(row, k) for k in (*_SCALARS, "pseudonym", *_BOOKKEEPING)}
        for name, (_, schema) in CHILDREN.items():
            data[name] = [schema.model_validate(c) for c in getattr(row, name)]
        data["birth_year"] = row.date_of_birth.year if row.date_of_birth else None
        if actor.can(Permission.READ_IDENTITY):
            ident = {k: getattr(row, k) for k in IDENTITY_FIELDS}
            data["identity"] = Identity(**ident) if any(v is not None for v in ident.values()) else None
        return PatientPublic.model_validate(data)

    @staticmethod
    def _apply(row: m.Patient, values: dict[str, Any]) -> None:
        """Copy schema values onto the row; child lists are replaced whole."""
        for k, v in _patient_columns(values).items():
            setattr(row, k, v)
        for name, (model, _) in CHILDREN.items():
            if name in values:
                setattr(row, name, [model(**r) for r in _child_rows(name, values[name])])

    @staticmethod
    def _snapshot(p: PatientPublic | PatientCreate) -> dict[str, Any]:
        return p.model_dump(mode="json", exclude={"created_at", "updated_at", "birth_year"}, exclude_defaults=True)

    def _load(self, s: Session, patient_id: int, *, deleted_ok: bool = False) -> m.Patient:
        row = s.get(m.Patient, patient_id) if 0 < patient_id <= MAX_ID else None  # larger: no database integer
        if row is None or (row.deleted_at is not None and not deleted_ok):
            raise NotFoundError(Message(
                f"no patient with id {patient_id}" + (" (it was deleted; an admin can restore it)" if row else "") + ".",
                "registry.no_patient_deleted" if row else "registry.no_patient", id=patient_id))
        return row

    def _new_row(self, s: Session, actor: Actor, data: PatientCreate) -> m.Patient:
        row = m.Patient(created_by=actor.username, updated_by=actor.username, version=1)
        self._apply(row, data.model_dump())
        s.add(row)
        return row

    # -- patients -------------------------------------------------------------------------------
    def create_patient(self, actor: Actor, data: PatientCreate) -> PatientPublic:
        actor.require(Permission.WRITE)
        taken = ConflictError(Message(f"pseudonym {data.pseudonym!r} is taken; choose another or update that patient.",
                                      "registry.pseudonym_taken", pseudonym=repr(data.pseudonym)))
        with self._sessions() as s, s.begin():
            out = self._create_in(s, actor, data, taken)
            return out if actor.can(Permission.READ_IDENTITY) else out.model_copy(update={"identity": None})

    def _create_in(self, s: Session, actor: Actor, data: PatientCreate, taken: ConflictError) -> PatientPublic:
        """A new patient in the session's transaction, with its first revision and audit entry (also used when a
        referral's acceptance creates its patient)."""
        if s.scalar(select(m.Patient.id).where(m.Patient.pseudonym == data.pseudonym)) is not None:
            raise taken
        row = self._new_row(s, actor, data)
        _flush(s, taken)  # someone else took it since the check
        out = self._to_public(row, SYSTEM)
        s.add(m.PatientRevision(patient_id=row.id, version=1, action="create", by=actor.username, snapshot=self._snapshot(out)))
        self._audit(s, actor, "create", row.id)
        return out

    def get_patient(self, actor: Actor, patient_id: int) -> PatientPublic:
        actor.require(Permission.READ)
        with self._sessions() as s, s.begin():
            row = self._load(s, patient_id, deleted_ok=actor.can(Permission.RESTORE))
            out = self._to_public(row, actor)
            self._audit(s, actor, "read", patient_id)
            return out

    def update_patient(self, actor: Actor, patient_id: int, update: PatientUpdate) -> PatientPublic:
        actor.require(Permission.WRITE)
        # the fields given, each dumped whole: a child record's defaults (a diagnosis' status) are part of its value
        values = update.model_dump(include=update.model_fields_set)
        expected = values.pop("version")
        with self._sessions() as s, s.begin():
            row = self._load(s, patient_id)
            if row.version != expected:
                raise _stale(patient_id, row.version, expected)
            if "pseudonym" in values and values["pseudonym"] is None:
                raise InputError("pseudonym cannot be removed; give a new one or leave it out.")
            taken = ConflictError(Message(f"pseudonym {values.get('pseudonym')!r} is taken; choose another.",
                                          "registry.pseudonym_taken_update", pseudonym=repr(values.get("pseudonym"))))
            if "pseudonym" in values and values["pseudonym"] != row.pseudonym and s.scalar(
                    select(m.Patient.id).where(m.Patient.pseudonym == values["pseudonym"])) is not None:
                raise taken
            for name in CHILD_SCHEMAS:
                if name in values and values[name] is None:
                    values[name] = []
            self._next_version(s, row, expected, updated_at=dt.datetime.now(dt.UTC), updated_by=actor.username)
            self._apply(row, values)
            _flush(s, taken if "pseudonym" in values else None)
            out = self._to_public(row, SYSTEM)
            s.add(m.PatientRevision(patient_id=row.id, version=row.version, action="update", by=actor.username,
                                    snapshot=self._snapshot(out)))
            self._audit(s, actor, "update", patient_id, fields=sorted(values), version=row.version)
            return out if actor.can(Permission.READ_IDENTITY) else out.model_copy(update={"identity": None})

    def _next_version(self, s: Session, row: m.Patient, expected: int, *, expect_deleted: bool = False,
                      **values: Any) -> None:
        """The optimistic lock: one conditional ``UPDATE patients SET version = expected + 1 ... WHERE id = :id AND
        version = :expected`` (and the deletion state the write expects) takes the patient to its next version and
        holds the row until the transaction ends. Of two writers who read the same version the database lets exactly
        one match; the other gets a :class:`ConflictError` naming the current version (or saying it was deleted)."""
        P = m.Patient
        state = P.deleted_at.is_not(None) if expect_deleted else P.deleted_at.is_(None)
        done = cast("CursorResult[Any]", s.execute(update(P).where(P.id == row.id, P.version == expected, state)
                    .values(version=expected + 1, **values).execution_options(synchronize_session=False)))
        if done.rowcount != 1:
            now = s.execute(select(P.version, P.deleted_at).where(P.id == row.id)).first()
            if now is None:
                raise NotFoundError(Message(f"no patient with id {row.id} (it was removed meanwhile).",
                                            "registry.patient_removed", id=row.id))
            if (now.deleted_at is not None) != expect_deleted:
                raise ConflictError(f"patient {row.id} was {'restored' if expect_deleted else 'deleted'} meanwhile (now at "
                                    f"version {now.version}); reload it.")
            raise _stale(row.id, now.version, expected)
        for key, value in {"version": expected + 1, **values}.items():  # what the UPDATE wrote, without a re-read
            set_committed_value(row, key, value)

    def _set_deleted(self, actor: Actor, patient_id: int, deleted: bool, version: int | None) -> None:
        with self._sessions() as s, s.begin():
            row = self._load(s, patient_id, deleted_ok=True)
            if (row.deleted_at is not None) == deleted:
                raise ConflictError(Message(f"patient {patient_id} is {'already deleted' if deleted else 'not deleted'}.",
                                            "registry.already_deleted" if deleted else "registry.not_deleted",
                                            id=patient_id))
            if version is not None and row.version != version:
                raise _stale(patient_id, row.version, version)
            self._next_version(s, row, row.version, expect_deleted=not deleted,
                               deleted_at=dt.datetime.now(dt.UTC) if deleted else None,
                               deleted_by=actor.username if deleted else None)
            action = "delete" if deleted else "restore"
            s.add(m.PatientRevision(patient_id=row.id, version=row.version, action=action, by=actor.username,
                                    snapshot=self._snapshot(self._to_public(row, SYSTEM))))
            self._audit(s, actor, action, patient_id)

    def delete_patient(self, actor: Actor, patient_id: int, *, version: int | None = None) -> None:
        """Soft delete: hidden from everyone but admins, restorable with :meth:`restore_patient`. With ``version``
        (the version the user saw) it is refused, as an update would be, when someone saved since."""
        actor.require(Permission.DELETE)
        self._set_deleted(actor, patient_id, True, version)

    def restore_patient(self, actor: Actor, patient_id: int, *, version: int | None = None) -> PatientPublic:
        actor.require(Permission.RESTORE)
        self._set_deleted(actor, patient_id, False, version)
        return self.get_patient(actor, patient_id)

    def history(self, actor: Actor, patient_id: int) -> list[Revision]:
        actor.require(Permission.READ_IDENTITY)
        with self._sessions() as s, s.begin():
            self._load(s, patient_id, deleted_ok=actor.can(Permission.RESTORE))
            revs = s.scalars(select(m.PatientRevision).where(m.PatientRevision.patient_id == patient_id)
                             .order_by(m.PatientRevision.version))
            out = [Revision.model_validate(r) for r in revs]
            self._audit(s, actor, "history", patient_id)
            return out

    def _conditions(self, actor: Actor, f: PatientFilter) -> list[Any]:
        """The filter as conditions on patients: its own columns, then each list filter as an uncorrelated
        "id IN (SELECT patient_id ...)", evaluated once, not once per patient."""
        P = m.Patient
        return [*self._patient_conditions(actor, f),
                *(P.id.in_(select(model.patient_id).where(*where)) for model, where, _ in self._list_filters(f))]

    def _patient_conditions(self, actor: Actor, f: PatientFilter) -> list[Any]:
        P = m.Patient
        conds: list[Any] = []
        if f.include_deleted:
            actor.require(Permission.RESTORE)
        else:
            conds.append(P.deleted_at.is_(None))
        if f.region:
            conds.append(P.region == f.region)
        if f.pseudonym:
            conds.append(P.pseudonym.startswith(f.pseudonym, autoescape=True))
            if self.engine.dialect.name == "sqlite":  # its LIKE ignores case and the index; a range uses the index
                conds.append(P.pseudonym.between(f.pseudonym, f.pseudonym + "\U0010ffff"))
        return conds

    def _list_filters(self, f: PatientFilter) -> list[tuple[Any, list[Any], bool]]:
        """The filters on the patients' lists: (table, conditions on its rows, whether they are few equalities, cheap
        to test for one patient at a time)."""
        out: list[tuple[Any, list[Any], bool]] = []
        if f.disease or f.diagnosis_status:
            D = m.Diagnosis
            sub = [D.status == f.diagnosis_status if f.diagnosis_status else D.status != "ruled_out"]
            if f.disease:
                ids = self.equivalent_ids(f.disease) if self.equivalent_ids else (f.disease,)
                sub.append(D.disease_id.in_(ids or (f.disease,)))
            out.append((D, sub, True))
        if f.gene:
            G = m.GeneticFinding
            out.append((G, [G.gene_symbol.in_({f.gene, f.gene.upper()})], True))
        if f.hpo:
            F = m.PhenotypicFeature
            out.append((F, [F.hpo_id.in_(self._descendants(f.hpo)), F.excluded.is_(False)], False))  # many terms
        if f.provision_status:
            R = m.DrugProvision
            out.append((R, [R.status == f.provision_status], True))
        return out

    def _descendants(self, term_id: str) -> list[str]:
        if self.ontology is None:
            return [term_id]
        res = self.ontology.resolve(term_id, "the hpo filter")
        return sorted(self.ontology.ids[i] for i in self.ontology.descendants(res.index))

    def list_patients(self, actor: Actor, f: PatientFilter | None = None, *, offset: int = 0, limit: int = 50) -> PatientsPublic:
        """A page of matching patients as whole records (:meth:`list_summaries` is the lighter list)."""
        f = self._list_query(actor, f, offset, limit)
        with self._sessions() as s, s.begin():
            count, ids = self._page(s, actor, f, offset, limit)
            rows = s.scalars(select(m.Patient).where(m.Patient.id.in_(ids)).order_by(m.Patient.id)
                             .options(*[selectinload(getattr(m.Patient, n)) for n in CHILDREN])).all() if ids else []
            data = [self._to_public(r, actor) for r in rows]
            self._audit_shown(s, actor, "list", ids, filter=f.model_dump(exclude_defaults=True))
            return PatientsPublic(data=data, count=count, offset=offset, limit=limit)

    def list_summaries(self, actor: Actor, f: PatientFilter | None = None, *, offset: int = 0,
                       limit: int = 50) -> PatientSummaries:
        """A page of matching patients as list lines (:class:`PatientSummary`): what a patient list shows, read
        without the records' lists (only their counts) and audited as :meth:`list_patients` is."""
        f = self._list_query(actor, f, offset, limit)
        with self._sessions() as s, s.begin():
            count, ids = self._page(s, actor, f, offset, limit)
            data = self._summaries(s, ids, actor)
            self._audit_shown(s, actor, "list", ids, filter=f.model_dump(exclude_defaults=True))
            return PatientSummaries(data=data, count=count, offset=offset, limit=limit)

    @staticmethod
    def _list_query(actor: Actor, f: PatientFilter | None, offset: int, limit: int) -> PatientFilter:
        actor.require(Permission.READ)
        _check_page(offset, limit)
        return f or PatientFilter()

    def _page(self, s: Session, actor: Actor, f: PatientFilter, offset: int, limit: int) -> tuple[int, list[int]]:
        """(how many patients match, the ids of the page asked for), each by the query shape that is quick for it."""
        P = m.Patient
        conds = self._conditions(actor, f)
        lists = self._list_filters(f)
        if len(lists) == 1 and not (f.region or f.pseudonym):
            # one list filter: count its distinct patients off its index (less the deleted ones) instead of
            # testing every patient against the set of matches
            model, where, _ = lists[0]
            q = select(func.count(func.distinct(model.patient_id))).where(*where)
            if not f.include_deleted:
                q = q.where(model.patient_id.not_in(select(P.id).where(P.deleted_at.is_not(None))))
            count = s.scalar(q) or 0
        else:
            count = s.scalar(select(func.count()).select_from(P).where(*conds)) or 0
        if count and lists and all(cheap for _, _, cheap in lists):
            # when matches are dense, walking the patients in order and testing each finds the page before the
            # set of all matches would be collected
            walk = (offset + limit) * (s.scalar(select(func.max(P.id))) or 0)
            if walk < count * count:
                conds = [*self._patient_conditions(actor, f),
                         *(select(1).where(model.patient_id == P.id, *where).exists() for model, where, _ in lists)]
        ids = list(s.scalars(select(P.id).where(*conds).order_by(P.id).offset(offset).limit(limit))) if count > offset else []
        return count, ids

    @staticmethod
    def _summaries(s: Session, ids: list[int], actor: Actor) -> list[PatientSummary]:
        if not ids:
            return []
        P, D = m.Patient, m.Diagnosis
        identity = actor.can(Permission.READ_IDENTITY)
        own = ("id", "pseudonym", "version", "sex", "date_of_birth", "vital_status", "region", "updated_at", "deleted_at")
        names = (*own, *(k for k in IDENTITY_FIELDS if identity and k not in own))
        counts: dict[int, dict[str, int]] = {i: {} for i in ids}
        per_list = [select(literal(name), model.patient_id, func.count()).where(model.patient_id.in_(ids))  # type: ignore[attr-defined]
                    .group_by(model.patient_id) for name, (model, _) in CHILDREN.items()]  # type: ignore[attr-defined]
        for name, pid, n in s.execute(union_all(*per_list)):
            counts[pid][name] = n
        main: dict[int, DiagnosisSummary] = {}
        for pid, disease_id, label, status in s.execute(
                select(D.patient_id, D.disease_id, D.label, D.status)
                .where(D.patient_id.in_(ids), D.status != "ruled_out").order_by(D.patient_id, D.position)):
            if pid not in main or (status == "confirmed" and main[pid].status != "confirmed"):
                main[pid] = DiagnosisSummary(disease_id=disease_id, label=label, status=status)
        out = []
        for row in s.execute(select(*(getattr(P, k) for k in names)).where(P.id.in_(ids)).order_by(P.id)):
            v = dict(zip(names, row))
            ident = {k: v[k] for k in IDENTITY_FIELDS} if identity else {}
            out.append(PatientSummary(
                id=v["id"], pseudonym=v["pseudonym"], version=v["version"], sex=v["sex"],
                birth_year=v["date_of_birth"].year if v["date_of_birth"] else None, vital_status=v["vital_status"],
                region=v["region"], identity=Identity(**ident) if any(x is not None for x in ident.values()) else None,
                main_diagnosis=main.get(v["id"]), counts=counts[v["id"]], updated_at=v["updated_at"],
                deleted_at=v["deleted_at"]))
        return out

    def search_ids(self, actor: Actor, f: PatientFilter, *, limit: int = 50) -> tuple[int, list[int]]:
        """Count and first ids of the matching patients (what a search page needs; used by the benchmark)."""
        actor.require(Permission.READ)
        conds = self._conditions(actor, f)
        with self._sessions() as s:
            count = s.scalar(select(func.count()).select_from(m.Patient).where(*conds)) or 0
            ids = list(s.scalars(select(m.Patient.id).where(*conds).order_by(m.Patient.id).limit(limit)))
        return count, ids

    # -- phenopackets ---------------------------------------------------------------------------
    def export_phenopacket(self, actor: Actor, patient_id: int) -> dict[str, Any]:
        actor.require(Permission.READ)
        with self._sessions() as s, s.begin():
            row = self._load(s, patient_id, deleted_ok=actor.can(Permission.RESTORE))
            doc = phenopacket_from_patient(self._to_public(row, actor))
            self._audit(s, actor, "export", patient_id)
            return doc

    def export_phenopackets(self, actor: Actor, f: PatientFilter | None = None, *, batch: int = 200) -> Iterator[dict[str, Any]]:
        """Every matching patient as a phenopacket (one audit entry per patient)."""
        for _, doc in self.export_phenopacket_files(actor, f, batch=batch):
            yield doc

    def export_phenopacket_files(self, actor: Actor, f: PatientFilter | None = None, *,
                                 batch: int = 200) -> Iterator[tuple[str, dict[str, Any]]]:
        """:meth:`export_phenopackets`, each with the name of its file in an export (:func:`export_name`: safe
        whatever the pseudonym holds, one per patient)."""
        actor.require(Permission.READ)
        conds = self._conditions(actor, f or PatientFilter())
        with self._sessions() as s:
            ids = list(s.scalars(select(m.Patient.id).where(*conds).order_by(m.Patient.id)))
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            with self._sessions() as s, s.begin():
                rows = s.scalars(select(m.Patient).where(m.Patient.id.in_(chunk)).order_by(m.Patient.id)
                                 .options(*[selectinload(getattr(m.Patient, n)) for n in CHILDREN])).all()
                docs = [(export_name(r.id, r.pseudonym), phenopacket_from_patient(self._to_public(r, actor))) for r in rows]
                for r in rows:
                    self._audit(s, actor, "export", r.id)
            yield from docs

    def import_phenopackets(
        self,
        actor: Actor,
        source: str | Path,
        *,
        policy: Policy = "lenient",
        batch: int = 250,
        transform: Callable[[PatientCreate], PatientCreate] | None = None,
        limit: int | None = None,
        dry_run: bool = False,
    ) -> ImportReport:
        """Import a phenopacket JSON file, a directory or a ZIP. Good records are written, bad ones are
        reported (record, field, reason) and leave the database as it was. ``dry_run``: check everything
        (including pseudonyms already taken) and report, but write nothing."""
        from raredx.io.phenopackets import iter_phenopackets

        actor.require(Permission.IMPORT)
        policy = check_policy(policy)
        problems: list[Problem] = []
        issues: list[Problem] = []
        pending: list[tuple[str, PatientCreate]] = []
        imported: list[int] = []
        records = 0
        for rec in iter_phenopackets(source, problems):
            records += 1
            patient, found = patient_from_phenopacket(rec.document, rec.source, policy=policy, ontology=self.ontology)
            issues.extend(found)
            if patient is not None:
                pending.append((rec.source, transform(patient) if transform else patient))
            if len(pending) >= batch:
                imported += self._write_batch(actor, pending, issues, dry_run)
                pending = []
            if limit is not None and records >= limit:
                break
        imported += self._write_batch(actor, pending, issues, dry_run)
        issues[:0] = problems
        records += len(problems)
        report = ImportReport(policy, records, len(imported), records - len(imported), tuple(i for i in imported if i),
                              tuple(issues))
        log.info("imported %d of %d phenopackets from %s", report.imported, report.records, source)
        return report

    def _write_batch(
        self, actor: Actor, batch: list[tuple[str, PatientCreate]], issues: list[Problem], dry_run: bool = False
    ) -> list[int]:
        """Write a batch in one transaction; if that fails, write record by record (savepoints) to isolate the bad one.
        A dry run returns 0 for each record that would be written."""
        if not batch:
            return []
        with self._sessions() as s:
            taken = set(s.scalars(select(m.Patient.pseudonym).where(m.Patient.pseudonym.in_([p.pseudonym for _, p in batch]))))
        good: list[tuple[str, PatientCreate]] = []
        for source, p in batch:
            if p.pseudonym in taken:
                issues.append(Problem(source, "id", Message(
                    f"pseudonym {p.pseudonym!r} is already in the registry (or twice in this import); the record is "
                    "not imported", "import.duplicate", pseudonym=repr(p.pseudonym)),
                    solution=Message("delete or rename one of them.", "import.duplicate.fix")))
            else:
                taken.add(p.pseudonym)
                good.append((source, p))
        if dry_run:
            return [0] * len(good)
        try:
            with self._sessions() as s, s.begin():
                return self._insert(s, actor, good)
        except IntegrityError:
            ids: list[int] = []
            with self._sessions() as s, s.begin():
                for source, p in good:
                    try:
                        with s.begin_nested():
                            ids += self._insert(s, actor, [(source, p)])
                    except IntegrityError as exc:
                        issues.append(Problem(source, "", Message(f"the database refused the record: {exc.orig}",
                                                                  "import.refused", error=str(exc.orig))))
            return ids

    def _insert(self, s: Session, actor: Actor, batch: list[tuple[str, PatientCreate]]) -> list[int]:
        """Bulk insert (Core executemany): an import is mostly this."""
        if not batch:
            return []
        now = dt.datetime.now(dt.UTC)
        dumps = [p.model_dump() for _, p in batch]
        book = {"version": 1, "created_at": now, "created_by": actor.username, "updated_at": now, "updated_by": actor.username}
        ids = list(s.scalars(insert(m.Patient).returning(m.Patient.id, sort_by_parameter_order=True),
                             [{**_patient_columns(d), **book} for d in dumps]))
        for name, (model, _) in CHILDREN.items():
            rows = [{**r, "patient_id": pid} for pid, d in zip(ids, dumps) for r in _child_rows(name, d[name])]
            if rows:
                s.execute(insert(model), rows)
        s.execute(insert(m.PatientRevision), [
            {"patient_id": pid, "version": 1, "action": "import", "by": actor.username, "at": now, "snapshot": self._snapshot(p)}
            for pid, (_, p) in zip(ids, batch)])
        s.execute(insert(m.AuditEntry), [
            {"username": actor.username, "role": actor.role, "action": "import", "patient_id": pid, "at": now,
             "detail": {"source": source}} for pid, (source, _) in zip(ids, batch)])
        return ids

    def patient_for_diagnosis(self, actor: Actor, patient_id: int) -> PatientPublic:
        """A stored patient, to diagnose (audited as a diagnose; see :func:`raredx.app.case_for_patient`)."""
        actor.require(Permission.DIAGNOSE)
        actor.require(Permission.READ)
        with self._sessions() as s, s.begin():
            out = self._to_public(self._load(s, patient_id), actor)
            self._audit(s, actor, "diagnose", patient_id)
            return out

    # -- analysis history -----------------------------------------------------------------------
    def patients_for_analysis(self, actor: Actor, patient_ids: Sequence[int]) -> list[PatientPublic]:
        """The stored patients (not deleted) of ``patient_ids``, read in one go to re-analyse them (each audited as
        a re-analysis)."""
        actor.require(Permission.DIAGNOSE)
        actor.require(Permission.READ)
        ids = [i for i in patient_ids if 0 < i <= MAX_ID]
        if not ids:
            return []
        with self._sessions() as s, s.begin():
            rows = s.scalars(select(m.Patient).where(m.Patient.id.in_(ids), m.Patient.deleted_at.is_(None))
                             .order_by(m.Patient.id).options(*[selectinload(getattr(m.Patient, n)) for n in CHILDREN])).all()
            out = [self._to_public(r, actor) for r in rows]
            if rows:
                self._audit_shown(s, actor, "reanalysis", [r.id for r in rows])
            return out

    def record_analyses(self, actor: Actor, analyses: Sequence[tuple[int, AnalysisCreate]]) -> list[AnalysisRecord]:
        """Keep differentials of stored patients (patient id, analysis) in the analysis history, in one transaction;
        ``triggered_by`` is the acting user."""
        actor.require(Permission.DIAGNOSE)
        if not analyses:
            return []
        now = dt.datetime.now(dt.UTC)
        by = actor.username[:100]
        rows = [{**a.model_dump(mode="json"), "patient_id": pid, "n_changes": len(a.changes), "created_at": now,
                 "triggered_by": by} for pid, a in analyses]
        A = m.Analysis
        with self._sessions.begin() as s:
            ids = list(s.scalars(insert(A).returning(A.id, sort_by_parameter_order=True), rows))
        return [AnalysisRecord(**a.model_dump(), id=i, patient_id=pid, created_at=now, triggered_by=by)
                for i, (pid, a) in zip(ids, analyses)]

    def analysis_baselines(self, actor: Actor, patient_ids: Sequence[int], kb_fingerprint: str) -> dict[int, AnalysisRecord]:
        """Each patient's latest analysis made on another knowledge base than ``kb_fingerprint``: what a new analysis
        is compared with (so that running it again on the same knowledge base reports the same changes)."""
        actor.require(Permission.READ)
        A = m.Analysis
        ids = [i for i in patient_ids if 0 < i <= MAX_ID]
        if not ids:
            return {}
        latest = select(func.max(A.id)).where(A.patient_id.in_(ids), A.kb_fingerprint != kb_fingerprint).group_by(A.patient_id)
        with self._sessions() as s:
            return {r.patient_id: AnalysisRecord.model_validate(r) for r in s.scalars(select(A).where(A.id.in_(latest)))}

    def latest_analyses(self, actor: Actor, patient_ids: Sequence[int]) -> dict[int, AnalysisRecord]:
        """Each patient's latest analysis (of those that have one)."""
        actor.require(Permission.READ)
        A = m.Analysis
        ids = [i for i in patient_ids if 0 < i <= MAX_ID]
        if not ids:
            return {}
        latest = select(func.max(A.id)).where(A.patient_id.in_(ids)).group_by(A.patient_id)
        with self._sessions() as s:
            return {r.patient_id: AnalysisRecord.model_validate(r) for r in s.scalars(select(A).where(A.id.in_(latest)))}

    def analyses(self, actor: Actor, patient_id: int, *, offset: int = 0, limit: int = 100) -> AnalysisPage:
        """A patient's analysis history, newest first: ``limit`` analyses from ``offset``, and how many in all."""
        actor.require(Permission.READ)
        _check_page(offset, limit)
        A = m.Analysis
        with self._sessions() as s, s.begin():
            self._load(s, patient_id, deleted_ok=actor.can(Permission.RESTORE))
            count = s.scalar(select(func.count()).select_from(A).where(A.patient_id == patient_id)) or 0
            rows = s.scalars(select(A).where(A.patient_id == patient_id).order_by(A.id.desc()).offset(offset).limit(limit))
            data = [AnalysisRecord.model_validate(r) for r in rows]
            self._audit(s, actor, "analyses", patient_id)
            return AnalysisPage(data=data, count=count, offset=offset, limit=limit)

    def _reanalysis_conditions(self, kb_fingerprint: str | None, unsolved: bool) -> list[Any]:
        """Patients a re-analysis takes: not deleted, with an observed finding, (``unsolved``: without a confirmed
        diagnosis), and (with ``kb_fingerprint``) whose latest analysis is not on that knowledge base."""
        P, F, D, A = m.Patient, m.PhenotypicFeature, m.Diagnosis, m.Analysis
        conds: list[Any] = [P.deleted_at.is_(None), P.id.in_(select(F.patient_id).where(F.excluded.is_(False)))]
        if unsolved:
            conds.append(P.id.not_in(select(D.patient_id).where(D.status == "confirmed")))
        if kb_fingerprint is not None:
            latest = select(func.max(A.id)).group_by(A.patient_id)
            conds.append(P.id.not_in(select(A.patient_id).where(A.id.in_(latest), A.kb_fingerprint == kb_fingerprint)))
        return conds

    def reanalysis_targets(self, actor: Actor, kb_fingerprint: str | None, *, unsolved: bool = False) -> list[int]:
        """The ids of the patients to re-analyse on the knowledge base ``kb_fingerprint``: those whose latest analysis
        was made on another one, or who have none (``None``: every patient with an observed finding)."""
        actor.require(Permission.DIAGNOSE)
        with self._sessions() as s:
            return list(s.scalars(select(m.Patient.id).where(*self._reanalysis_conditions(kb_fingerprint, unsolved))
                                  .order_by(m.Patient.id)))

    def count_reanalysis_targets(self, actor: Actor, kb_fingerprint: str, *, unsolved: bool = False) -> tuple[int, int]:
        """How many patients a re-analysis on ``kb_fingerprint`` would take: (last analysed on another knowledge base,
        never analysed)."""
        actor.require(Permission.DIAGNOSE)
        P, A = m.Patient, m.Analysis
        conds = self._reanalysis_conditions(kb_fingerprint, unsolved)
        with self._sessions() as s:
            total = s.scalar(select(func.count()).select_from(P).where(*conds)) or 0
            never = s.scalar(select(func.count()).select_from(P).where(*conds, P.id.not_in(select(A.patient_id)))) or 0
        return total - never, never

    def changed_patients(self, actor: Actor, *, offset: int = 0, limit: int = 50) -> ChangedPatients:
        """The patients whose latest analysis changed materially from their latest one on an older knowledge base
        (newest first), with what changed; each patient shown is audited as in a list."""
        actor.require(Permission.READ)
        _check_page(offset, limit)
        A, P = m.Analysis, m.Patient
        conds = [A.id.in_(select(func.max(A.id)).group_by(A.patient_id)), A.n_changes > 0, P.deleted_at.is_(None)]
        with self._sessions() as s, s.begin():
            count = s.scalar(select(func.count()).select_from(A).join(P, P.id == A.patient_id).where(*conds)) or 0
            rows = s.execute(select(A, P.pseudonym).join(P, P.id == A.patient_id).where(*conds)
                             .order_by(A.id.desc()).offset(offset).limit(limit)).all()
            baselines = [r.compared_with for r, _ in rows if r.compared_with is not None]
            before: dict[int, str] = {row.id: row.kb_version for row in s.execute(select(A.id, A.kb_version)
                                                                                  .where(A.id.in_(baselines)))}
            data = [ChangedPatient(patient_id=r.patient_id, pseudonym=pseudonym, analysis=AnalysisRecord.model_validate(r),
                                   previous_kb_version=before.get(r.compared_with or 0)) for r, pseudonym in rows]
            self._audit_shown(s, actor, "reanalysis_list", [r.patient_id for r, _ in rows])
            return ChangedPatients(data=data, count=count, offset=offset, limit=limit)
    def patients_to_match(self, actor: Actor, patient_id: int, *, everyone: bool = True
                          ) -> tuple[PatientPublic, list[PatientPublic]]:
        """(patient ``patient_id``, every live patient, or none without ``everyone``) for a "patients like this
        one" search, without identities (who is shown is audited by :meth:`audit_similar`)."""
        actor.require(Permission.READ)
        with self._sessions() as s, s.begin():
            query = self._to_public(self._load(s, patient_id), _NO_IDENTITY)
            if not everyone:
                return query, []
            rows = s.scalars(select(m.Patient).where(m.Patient.deleted_at.is_(None)).order_by(m.Patient.id)
                             .options(*[selectinload(getattr(m.Patient, n)) for n in CHILDREN])).all()
            return query, [self._to_public(r, _NO_IDENTITY) for r in rows]

    def match_generation(self) -> tuple[int, str]:
        """(live patients, the newest change): what a cached match index of the registry is valid for."""
        P = m.Patient
        with self._sessions() as s:
            n, newest = s.execute(select(func.count(), func.max(P.updated_at)).where(P.deleted_at.is_(None))).one()
        return int(n or 0), str(newest or "")

    def audit_similar(self, actor: Actor, patient_id: int, shown: Sequence[int]) -> None:
        """Log that ``actor`` searched patients like ``patient_id`` and was shown ``shown``."""
        with self._sessions() as s, s.begin():
            self._audit(s, actor, "similar", patient_id, shown=list(shown))
            self._audit_shown(s, actor, "list", list(shown), similar_to=patient_id)

    # -- Matchmaker Exchange --------------------------------------------------------------------
    def add_peer(self, actor: Actor, data: PeerCreate) -> tuple[PeerPublic, str]:
        """Add a Matchmaker Exchange peer; returns it and the token it is to send us (made here, shown once: only
        its SHA-256 is kept)."""
        actor.require(Permission.MANAGE_PEERS)
        token = secrets.token_urlsafe(32)
        with self._sessions() as s, s.begin():
            if s.scalar(select(m.MmePeer.id).where(m.MmePeer.name == data.name)) is not None:
                raise ConflictError(f"a peer named {data.name!r} exists; remove it first or choose another name.")
            row = m.MmePeer(**{**data.model_dump(), "outgoing_token": data.outgoing_token or ""},
                            incoming_token_sha256=token_digest(token), created_by=actor.username)
            s.add(row)
            s.flush()
            self._audit(s, actor, "mme_peer_add", None, peer=data.name, base_url=data.base_url)
            return _peer_public(row), token

    def list_peers(self, actor: Actor) -> list[PeerPublic]:
        actor.require(Permission.MANAGE_PEERS)
        with self._sessions() as s:
            return [_peer_public(r) for r in s.scalars(select(m.MmePeer).order_by(m.MmePeer.name))]

    @staticmethod
    def _find_peer(s: Session, who: int | str) -> m.MmePeer:
        if isinstance(who, int):
            row = s.get(m.MmePeer, who) if 0 < who <= MAX_ID else None
        else:
            row = s.scalar(select(m.MmePeer).where(m.MmePeer.name == who))
        if row is None:
            raise NotFoundError(f"no Matchmaker Exchange peer {who!r}; raredx mme peers list shows them.")
        return row

    def update_peer(self, actor: Actor, who: int | str, *, enabled: bool | None = None,
                    outgoing_token: str | None = None) -> PeerPublic:
        """Enable or disable a peer, or set the token we send it (the one its admin gave us)."""
        actor.require(Permission.MANAGE_PEERS)
        if outgoing_token is not None:
            PeerCreate(name="x", base_url="https://x", outgoing_token=outgoing_token)  # the same rule as on add
        with self._sessions() as s, s.begin():
            row = self._find_peer(s, who)
            changed = []
            if enabled is not None:
                row.enabled = enabled
                changed.append("enabled" if enabled else "disabled")
            if outgoing_token is not None:
                row.outgoing_token = outgoing_token
                changed.append("outgoing token")
            self._audit(s, actor, "mme_peer_change", None, peer=row.name, changed=changed)
            s.flush()
            return _peer_public(row)

    def remove_peer(self, actor: Actor, who: int | str) -> str:
        """Remove a peer (its token stops working at once); returns its name."""
        actor.require(Permission.MANAGE_PEERS)
        with self._sessions() as s, s.begin():
            row = self._find_peer(s, who)
            name = row.name
            s.delete(row)
            self._audit(s, actor, "mme_peer_remove", None, peer=name)
            return name

    def peer_by_token(self, token: str | None) -> PeerPublic | None:
        """The enabled peer whose incoming token this is (``None`` for a missing, unknown or disabled one)."""
        if not token or len(token) > 500:
            return None
        with self._sessions() as s:
            row = s.scalar(select(m.MmePeer).where(m.MmePeer.incoming_token_sha256 == token_digest(token)))
            return _peer_public(row) if row is not None and row.enabled else None

    def peer_targets(self, actor: Actor) -> list[PeerTarget]:
        """The enabled peers with the tokens to send them (for the MME client)."""
        actor.require(Permission.MATCHMAKE)
        with self._sessions() as s:
            rows = s.scalars(select(m.MmePeer).where(m.MmePeer.enabled.is_(True), m.MmePeer.outgoing_token != "")
                             .order_by(m.MmePeer.name))
            return [PeerTarget.model_validate(r) for r in rows]

    def patient_to_share(self, actor: Actor, patient_id: int) -> PatientPublic:
        """Patient ``patient_id`` without identity, to be sent to the peers (permission-checked; the sending is
        audited by :meth:`audit_mme_outgoing`)."""
        actor.require(Permission.MATCHMAKE)
        with self._sessions() as s:
            return self._to_public(self._load(s, patient_id), _NO_IDENTITY)

    def patients_for_matchmaking(self, ids: Sequence[int] | None = None) -> list[PatientPublic]:
        """Every live patient whose consent allows matchmaking (``consent_matchmaking`` true), or those of ``ids``,
        without identities: what a peer's request is matched against (who is returned is audited by
        :meth:`audit_mme_incoming`)."""
        P = m.Patient
        where = [P.deleted_at.is_(None), P.consent_matchmaking.is_(True)]
        if ids is not None:
            where.append(P.id.in_([i for i in ids if 0 < i <= MAX_ID]))
        with self._sessions() as s:
            rows = s.scalars(select(P).where(*where).order_by(P.id)
                             .options(*[selectinload(getattr(P, n)) for n in CHILDREN])).all()
            return [self._to_public(r, _NO_IDENTITY) for r in rows]

    def audit_mme_incoming(self, peer: PeerPublic | None, *, status: int, returned: Sequence[int] = (),
                           **detail: Any) -> None:
        """One line per incoming match request (the peer, the answer's status, how many results, which patients),
        and one per patient returned (their audit trail says they were shared)."""
        who = Actor(f"mme:{peer.name}"[:100], "mme_peer") if peer is not None else ANONYMOUS
        with self._sessions() as s, s.begin():
            self._audit(s, who, "mme_match_in", None, status=status, results=len(returned), patients=list(returned),
                        **detail)
            if returned:
                self._audit_shown(s, who, "mme_shared", list(returned))

    def audit_mme_outgoing(self, actor: Actor, patient_id: int, answers: Sequence[dict[str, Any]]) -> None:
        """One line per peer a patient was sent to: which peer, how many results, or the error."""
        with self._sessions() as s, s.begin():
            for a in answers:
                self._audit(s, actor, "mme_match_out", patient_id, **a)
            if not answers:
                self._audit(s, actor, "mme_match_out", patient_id, peer=None, results=0, error="no enabled peer")

    def mme_counts(self) -> dict[str, int]:
        """What the MME metrics count from the audit log: match requests answered, patients returned in all."""
        E = m.AuditEntry
        with self._sessions() as s:
            received = s.scalar(select(func.count()).select_from(E).where(
                E.action == "mme_match_in", E.role == "mme_peer")) or 0
            sent = s.scalar(select(func.count()).select_from(E).where(E.action == "mme_shared")) or 0
        return {"requests_received": int(received), "matches_sent": int(sent)}

    # -- statistics -----------------------------------------------------------------------------
    def statistics(self, actor: Actor) -> dict[str, Any]:
        """Cohort counts (non-deleted patients): by disease, region, sex, diagnosis and provision status;
        age at onset and at diagnosis, diagnostic delay (years, quartiles)."""
        actor.require(Permission.STATISTICS)
        P, D, R = m.Patient, m.Diagnosis, m.DrugProvision
        live = P.deleted_at.is_(None)
        with self._sessions() as s, s.begin():
            total = s.scalar(select(func.count()).select_from(P).where(live)) or 0

            def grouped(col: Any, *joins: Any, where: Any = None, top: int | None = None) -> list[dict[str, Any]]:
                q = select(col, func.count(func.distinct(P.id))).select_from(P)
                for j in joins:
                    q = q.join(j)
                q = q.where(live)
                if where is not None:
                    q = q.where(where)
                q = q.group_by(col).order_by(func.count(func.distinct(P.id)).desc())
                if top:
                    q = q.limit(top)
                return [{"value": v, "patients": n} for v, n in s.execute(q)]

            by_disease = [
                {"disease_id": d, "label": label, "patients": n}
                for d, label, n in s.execute(
                    select(D.disease_id, func.max(D.label), func.count(func.distinct(D.patient_id))).join(P)
                    .where(live, D.status == "confirmed").group_by(D.disease_id)
                    .order_by(func.count(func.distinct(D.patient_id)).desc()).limit(50))
            ]
            onset = [y for (y,) in s.execute(select(P.onset_years).where(live, P.onset_years.is_not(None))) if y is not None]
            at_dx = [(a, o) for a, o in s.execute(select(D.diagnosis_years, P.onset_years).join(P)
                     .where(live, D.status == "confirmed", D.diagnosis_years.is_not(None))) if a is not None]
            stats = {
                "patients": total,
                "by_disease": by_disease,
                "by_region": grouped(P.region),
                "by_sex": grouped(P.sex),
                "by_diagnosis_status": grouped(D.status, P.diagnoses),
                "by_provision_status": grouped(R.status, P.drug_provisions),
                "age_at_onset_years": _summary(onset),
                "age_at_diagnosis_years": _summary([a for a, _ in at_dx]),
                "diagnostic_delay_years": _summary([a - o for a, o in at_dx if o is not None and a >= o]),
                "undiagnosed": total - (s.scalar(select(func.count(func.distinct(D.patient_id))).join(P)
                                                 .where(live, D.status == "confirmed")) or 0),
            }
            self._audit(s, actor, "statistics", None)
        return stats

    def counts(self) -> Counter[str]:
        """Rows per table (for the CLI and tests)."""
        with self._sessions() as s:
            tables: list[type[m.Base]] = [m.Patient, m.PatientRevision, m.AuditEntry, m.User, m.MmePeer, *(c for c, _ in CHILDREN.values())]
            return Counter({t.__tablename__: s.scalar(select(func.count()).select_from(t)) or 0 for t in tables})


def _peer_public(row: m.MmePeer) -> PeerPublic:
    return PeerPublic(id=row.id, name=row.name, base_url=row.base_url, contact_name=row.contact_name,
                      contact_email=row.contact_email, contact_institution=row.contact_institution,
                      enabled=row.enabled, has_outgoing_token=bool(row.outgoing_token), created_at=row.created_at,
                      created_by=row.created_by)


def token_digest(token: str) -> str:
    """The SHA-256 (hex) of a peer's token: what the registry keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _stale(patient_id: int, current: int, expected: int) -> ConflictError:
    return ConflictError(Message(
        f"patient {patient_id} is at version {current}, not {expected}: someone saved it since you read it. "
        "Reload it, re-apply your change and send the new version.",
        "registry.stale", id=patient_id, current=current, expected=expected,
    ))


def _flush(s: Session, taken: ConflictError | None) -> None:
    """Flush; a pseudonym that another transaction took since it was checked is the conflict ``taken``."""
    try:
        s.flush()
    except IntegrityError as exc:
        if taken is not None and "pseudonym" in str(exc.orig):
            raise taken from exc
        raise


def _check_page(offset: int, limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE or not 0 <= offset <= MAX_ID:
        raise InputError(f"limit must be 1..{MAX_PAGE} and offset 0..{MAX_ID} (got limit={limit}, offset={offset}).")


_EMAIL = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+")


def check_email(value: str | None) -> str | None:
    """An e-mail address as given (trimmed; empty means none), if it looks like one: ``name@host.domain``."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > 255 or not _EMAIL.fullmatch(value):
        raise InputError(Message(f"email: {value!r} is not an e-mail address; give one such as doctor@hospital.ru, or "
                                 "leave it empty for none.", "notify.bad_email", value=repr(value)))
    return value


def _printable(text: str) -> str:
    """``text`` without control characters (a database cannot take some, e.g. NUL in PostgreSQL)."""
    return "".join(c for c in text if c.isprintable())


def _patient_columns(values: dict[str, Any]) -> dict[str, Any]:
    """Patient columns from (some of) a PatientCreate dump: scalars, identity, derived ages."""
    out = {k: values[k] for k in (*_SCALARS, "pseudonym") if k in values}
    if "age_at_onset" in values:
        out["onset_years"] = years_of(values["age_at_onset"])
    if "identity" in values:
        ident = values["identity"] or {}
        out.update({k: ident.get(k) for k in IDENTITY_FIELDS})
    return out


def _child_rows(name: str, items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Rows of one child table from a list of child values: their position, and derived search columns."""
    rows = []
    for pos, item in enumerate(items or []):
        row = {**item, "position": pos}
        if name == "genetic_findings":
            row["hgvs"] = next((e["value"] for e in item.get("expressions") or [] if e["syntax"].startswith("hgvs")), None)
        elif name == "diagnoses":
            row["diagnosis_years"] = years_of(item.get("age_at_diagnosis"))
        rows.append(row)
    return rows


def _summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    v = sorted(values)

    def q(p: float) -> float:
        return round(v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))], 2)

    bins = Counter(onset.year_bin(x) for x in v)  # the engine's onset bins, in whole years
    return {"n": len(v), "min": round(v[0], 2), "q1": q(0.25), "median": q(0.5), "q3": q(0.75), "max": round(v[-1], 2),
            "bins": {k: bins.get(k, 0) for k in onset.year_bins()}}
