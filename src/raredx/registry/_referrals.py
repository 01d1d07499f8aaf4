"""Referrals (remote consultation, docs/referrals.md): organisations, the referral, its workflow, consilium, thread
and attachments' records. A part of :class:`raredx.registry.Registry` (it inherits these methods); the workflow's
table is :data:`raredx.registry.referrals.TRANSITIONS`.

Who sees what: a referring physician their own referrals; an expert the referrals assigned to them; a coordinator
(and an admin) every referral. Anyone else, or a referral they may not see, gets a :class:`PermissionDeniedError`
(403) naming the referral; a referral that does not exist is a :class:`NotFoundError` (404)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from raredx.config import Settings
from raredx.errors import InputError, Message
from raredx.registry import _models as m
from raredx.registry.errors import ConflictError, NotFoundError, PermissionDeniedError
from raredx.registry.referrals import (
    CONTRIBUTING,
    EDITABLE,
    OPEN,
    TRANSITIONS,
    IllegalTransitionError,
)
from raredx.registry.schemas import (
    MAX_ID,
    AttachmentPublic,
    Conclusion,
    ConclusionPdf,
    MessagePublic,
    OpinionPublic,
    OrganisationCreate,
    OrganisationPublic,
    OrganisationUpdate,
    OrganisationUsage,
    PatientCreate,
    ReferralCounts,
    ReferralCreate,
    ReferralDifferential,
    ReferralPatient,
    ReferralPublic,
    ReferralsPublic,
    ReferralSummary,
    ReferralTerm,
    ReferralUpdate,
    StatusChange,
)
from raredx.registry.security import Actor, Permission

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from raredx.registry.schemas import PatientPublic

# the days from submission to the due date, by urgency: the settings' defaults (Services sets the configured ones)
DUE_DAYS: dict[str, int] = Settings.model_construct().due_days()
MAX_MESSAGE = 20000


class Unset:
    """The value of a keyword argument that was not given (``None`` may be a value: "no organisation")."""


UNSET = Unset()
_P = Permission


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Referrals:
    """The referral part of the registry service (see the module's documentation)."""

    if TYPE_CHECKING:
        ontology: Any
        referral_due_days: dict[str, int]
        _sessions: sessionmaker[Session]

        @staticmethod
        def _audit(s: Session, actor: Actor, action: str, patient_id: int | None = None, **detail: Any) -> None: ...
        def _create_in(self, s: Session, actor: Actor, data: PatientCreate, taken: ConflictError) -> PatientPublic: ...
        def _load(self, s: Session, patient_id: int, *, deleted_ok: bool = False) -> m.Patient: ...

    # -- organisations --------------------------------------------------------------------------
    def add_organisation(self, actor: Actor, data: OrganisationCreate) -> OrganisationPublic:
        actor.require(_P.MANAGE_ORGANISATIONS)
        with self._sessions.begin() as s:
            self._name_free(s, data.name)
            row = m.Organisation(name=data.name, region=data.region)
            s.add(row)
            s.flush()
            self._audit(s, actor, "organisation_add", organisation_id=row.id, name=data.name)
            return OrganisationPublic.model_validate(row)

    def list_organisations(self, actor: Actor) -> list[OrganisationPublic]:
        """Every organisation (anyone signed in may read them: a form offers them)."""
        with self._sessions() as s:
            return [OrganisationPublic.model_validate(r) for r in s.scalars(select(m.Organisation).order_by(m.Organisation.name))]

    def organisation_usage(self, actor: Actor) -> list[OrganisationUsage]:
        """Every organisation with how many users and referrals name it (admins: what a deletion would touch)."""
        actor.require(_P.MANAGE_ORGANISATIONS)
        Org, U, R = m.Organisation, m.User, m.Referral
        users = select(func.count()).where(U.organisation_id == Org.id).scalar_subquery()
        referrals = select(func.count()).where(R.organisation_id == Org.id).scalar_subquery()
        with self._sessions() as s:
            return [OrganisationUsage(**OrganisationPublic.model_validate(o).model_dump(), users=nu, referrals=nr)
                    for o, nu, nr in s.execute(select(Org, users, referrals).order_by(Org.name))]

    def update_organisation(self, actor: Actor, organisation_id: int, data: OrganisationUpdate) -> OrganisationPublic:
        actor.require(_P.MANAGE_ORGANISATIONS)
        values = data.model_dump(include=data.model_fields_set)
        if "name" in values and values["name"] is None:
            raise InputError("name cannot be removed; give a new one or leave it out.")
        with self._sessions.begin() as s:
            row = self._organisation(s, organisation_id)
            if "name" in values and values["name"] != row.name:
                self._name_free(s, values["name"])
            for k, v in values.items():
                setattr(row, k, v)
            self._audit(s, actor, "organisation_update", organisation_id=row.id, fields=sorted(values))
            return OrganisationPublic.model_validate(row)

    def delete_organisation(self, actor: Actor, organisation_id: int) -> None:
        """Remove an organisation (its users and referrals keep theirs as none; a referral keeps its region)."""
        actor.require(_P.MANAGE_ORGANISATIONS)
        with self._sessions.begin() as s:
            row = self._organisation(s, organisation_id)
            s.execute(update(m.User).where(m.User.organisation_id == row.id).values(organisation_id=None))
            s.execute(update(m.Referral).where(m.Referral.organisation_id == row.id).values(organisation_id=None))
            s.delete(row)
            self._audit(s, actor, "organisation_delete", organisation_id=organisation_id, name=row.name)

    @staticmethod
    def _organisation(s: Session, organisation_id: int) -> m.Organisation:
        row = s.get(m.Organisation, organisation_id) if 0 < organisation_id <= MAX_ID else None
        if row is None:
            raise NotFoundError(Message(f"no organisation with id {organisation_id}; GET /api/organisations lists them.",
                                        "referral.no_organisation", id=organisation_id))
        return row

    @staticmethod
    def _name_free(s: Session, name: str) -> None:
        if s.scalar(select(m.Organisation.id).where(m.Organisation.name == name)) is not None:
            raise ConflictError(Message(f"an organisation named {name!r} exists already; choose another name.",
                                        "referral.organisation_exists", name=repr(name)))

    # -- access ---------------------------------------------------------------------------------
    @staticmethod
    def _role_in(actor: Actor) -> str:
        if actor.can(_P.TRIAGE):
            return "triage"
        if actor.can(_P.REVIEW):
            return "review"
        if actor.can(_P.REFER):
            return "refer"
        raise PermissionDeniedError(Message(
            f"user {actor.username!r} (role {actor.role}) may not see referrals; a referring physician, coordinator "
            "or expert may.", "referral.no_role", user=actor.username, role=actor.role), actor=actor,
            permission=_P.REFER.name)

    def _visible(self, actor: Actor) -> list[Any]:
        """The conditions on referrals that ``actor`` may see."""
        R, A = m.Referral, m.ReferralAssignment
        kind = self._role_in(actor)
        if kind == "triage":
            return []
        if kind == "review":
            return [R.id.in_(select(A.referral_id).where(A.expert == actor.username))]
        return [R.referrer == actor.username]

    def _referral(self, s: Session, actor: Actor, referral_id: int) -> m.Referral:
        """The referral, if it exists (404) and ``actor`` may see it (403)."""
        row = s.get(m.Referral, referral_id) if 0 < referral_id <= MAX_ID else None
        kind = self._role_in(actor)
        if row is None:
            raise NotFoundError(Message(f"no referral with id {referral_id}.", "referral.none", id=referral_id))
        if (kind == "review" and not self._assigned(s, row.id, actor.username)) or (kind == "refer" and row.referrer != actor.username):
            raise PermissionDeniedError(Message(
                f"user {actor.username!r} may not see referral {referral_id}: "
                + ("it is not assigned to them" if kind == "review" else "it is another physician's") + ".",
                "referral.not_yours", user=actor.username, id=referral_id), actor=actor, permission=_P.REFER.name)
        return row

    @staticmethod
    def _assigned(s: Session, referral_id: int, username: str) -> bool:
        A = m.ReferralAssignment
        return s.scalar(select(A.id).where(A.referral_id == referral_id, A.expert == username)) is not None

    def _relation(self, s: Session, actor: Actor, row: m.Referral) -> set[Permission]:
        """The referral permissions ``actor`` holds for this referral: REFER if it is theirs (or they are an admin),
        TRIAGE if they triage, REVIEW if they are one of its experts (or an admin)."""
        admin = actor.can(_P.MANAGE_USERS)
        out: set[Permission] = set()
        if actor.can(_P.REFER) and (row.referrer == actor.username or admin):
            out.add(_P.REFER)
        if actor.can(_P.TRIAGE):
            out.add(_P.TRIAGE)
        if actor.can(_P.REVIEW) and (admin or self._assigned(s, row.id, actor.username)):
            out.add(_P.REVIEW)
        return out

    def _need(self, s: Session, actor: Actor, row: m.Referral, permission: Permission, what: str) -> None:
        if permission not in self._relation(s, actor, row):
            who = {_P.REFER: "the referring physician", _P.TRIAGE: "a coordinator",
                   _P.REVIEW: "an expert assigned to it"}[permission]
            raise PermissionDeniedError(Message(
                f"user {actor.username!r} (role {actor.role}) may not {what} referral {row.id}: only {who} may.",
                "referral.may_not", user=actor.username, id=row.id, what=what), actor=actor, permission=permission.name)

    # -- the referral ---------------------------------------------------------------------------
    def create_referral(self, actor: Actor, data: ReferralCreate) -> ReferralPublic:
        """A new referral of ``actor`` (a draft; :meth:`transition` to ``submitted`` sends it)."""
        actor.require(_P.REFER)
        values = self._checked(data.model_dump(mode="json"))
        now = _now()
        with self._sessions.begin() as s:
            org = s.get(m.Organisation, s.scalar(select(m.User.organisation_id).where(m.User.username == actor.username))
                        or 0)
            row = m.Referral(status="draft", referrer=actor.username[:100], organisation_id=org.id if org else None,
                             region=org.region if org else None, version=1, created_at=now, updated_at=now,
                             updated_by=actor.username[:100], **values)
            s.add(row)
            s.flush()
            self._status(s, actor, row, None, "draft", None)
            self._audit(s, actor, "referral_create", referral=row.id)
            return self._public(s, actor, row)

    def _checked(self, values: dict[str, Any]) -> dict[str, Any]:
        """The phenotype's HPO ids checked against the ontology (an alternative or obsolete id becomes the current
        one, labelled); the error names the term and its place."""
        if self.ontology is None or "phenotype" not in values:
            return values
        terms = []
        for i, t in enumerate(values["phenotype"] or []):
            res = self.ontology.resolve(t["hpo_id"], f"phenotype[{i}]")
            label = t.get("label") if not res.replaced else None
            terms.append({**t, "hpo_id": res.term_id, "label": label or self.ontology.label(res.index)})
        return {**values, "phenotype": terms}

    def get_referral(self, actor: Actor, referral_id: int) -> ReferralPublic:
        with self._sessions.begin() as s:
            row = self._referral(s, actor, referral_id)
            self._audit(s, actor, "referral_read", row.patient_id, referral=row.id)
            return self._public(s, actor, row)

    def update_referral(self, actor: Actor, referral_id: int, data: ReferralUpdate) -> ReferralPublic:
        """Change a draft, or a referral returned for information (its referrer only)."""
        values = data.model_dump(mode="json", include=data.model_fields_set)
        expected = values.pop("version")
        for key in ("patient", "clinical_question", "urgency"):
            if key in values and values[key] is None:
                raise InputError(Message(f"{key} cannot be removed; give a new one or leave it out.",
                                         "referral.required", field=key))
        for key in ("phenotype", "genetic_findings"):
            if key in values and values[key] is None:
                values[key] = []
        values = self._checked(values)
        with self._sessions.begin() as s:
            row = self._referral(s, actor, referral_id)
            self._need(s, actor, row, _P.REFER, "change")
            if row.status not in EDITABLE:
                raise ConflictError(Message(
                    f"referral {row.id} is {row.status!r} and can no longer be changed (only a draft or one returned for "
                    "information can); write a message on its thread instead.", "referral.not_editable",
                    id=row.id, status=row.status))
            self._bump(s, row, expected, actor, **values)
            self._audit(s, actor, "referral_update", row.patient_id, referral=row.id, fields=sorted(values),
                        version=row.version)
            return self._public(s, actor, row)

    def _bump(self, s: Session, row: m.Referral, expected: int, actor: Actor, **values: Any) -> None:
        """The optimistic lock (as for patients): one conditional UPDATE takes the referral from ``expected`` to the
        next version; of two writers who read the same version exactly one wins, the other gets a 409."""
        R = m.Referral
        now = _now()
        done = cast("CursorResult[Any]", s.execute(
            update(R).where(R.id == row.id, R.version == expected)
            .values(version=expected + 1, updated_at=now, updated_by=actor.username[:100], **values)
            .execution_options(synchronize_session=False)))
        if done.rowcount != 1:
            current = s.scalar(select(R.version).where(R.id == row.id))
            raise ConflictError(Message(
                f"referral {row.id} is at version {current}, not {expected}: someone changed it since you read it. "
                "Reload it, re-apply your change and send the new version.", "referral.stale", id=row.id,
                current=current, expected=expected))
        s.refresh(row)

    # -- the workflow ---------------------------------------------------------------------------
    def check_transition(self, actor: Actor, referral_id: int, to: str) -> ReferralPublic:
        """The referral, if ``actor`` may move it to ``to`` now (else the error :meth:`transition` would raise): what
        the use case reads before it runs the differential of a submission."""
        with self._sessions() as s:
            row = self._referral(s, actor, referral_id)
            self._legal(s, actor, row, to)
            return self._public(s, actor, row)

    def _legal(self, s: Session, actor: Actor, row: m.Referral, to: str) -> None:
        allowed = TRANSITIONS.get(row.status, {})
        if to not in allowed:
            raise IllegalTransitionError(row.id, row.status, to, tuple(allowed))
        self._need(s, actor, row, allowed[to], f"move to {to!r}")

    def transition(self, actor: Actor, referral_id: int, to: str, *, version: int, note: str | None = None,
                   differential: ReferralDifferential | None = None, patient_id: int | None = None,
                   create_patient: bool = False, conclusion_pdf: ConclusionPdf | None = None) -> ReferralPublic:
        """Move a referral to status ``to`` (the table :data:`TRANSITIONS` says from where and by whom), recorded in
        its status history and the audit log. ``submitted`` needs the ``differential`` made for it (the use case
        :func:`raredx.app.transition_referral` makes it) and sets the due date by urgency; ``accepted`` may link a
        registry patient (``patient_id``) or create one (``create_patient``); ``assigned`` needs experts
        (:meth:`assign_experts` moves there itself); ``concluded`` needs the conclusion (:meth:`save_conclusion`) and
        keeps the record of its PDF (``conclusion_pdf``: :func:`raredx.app.transition_referral` renders and stores
        it; the conclusion is then dated when the PDF was issued)."""
        if note is not None and len(note) > MAX_MESSAGE:
            raise InputError(f"note is longer than {MAX_MESSAGE} characters; shorten it.")
        with self._sessions.begin() as s:
            row = self._referral(s, actor, referral_id)
            self._legal(s, actor, row, to)
            values: dict[str, Any] = {"status": to}
            now = _now()
            linked = None
            if to == "submitted":
                if differential is None:
                    raise InputError("a submission needs its differential; submit through raredx.app.transition_referral "
                                     "(POST /api/referrals/{id}/transition).")
                submitted = row.submitted_at or now
                days = self.referral_due_days.get(row.urgency, DUE_DAYS["routine"])
                values.update(differential=differential.model_dump(mode="json"), submitted_at=submitted,
                              due_at=submitted + dt.timedelta(days=days))
            elif to == "accepted" and (patient_id is not None or create_patient):
                linked = self._patient_of(s, actor, row, patient_id, create_patient)
                values["patient_id"] = linked
            elif to == "assigned" and not s.scalar(select(func.count()).where(m.ReferralAssignment.referral_id == row.id)):
                raise ConflictError(Message(f"referral {row.id} has no experts yet; assign them (POST /api/referrals/"
                                            f"{row.id}/experts), which moves it to 'assigned'.", "referral.no_experts",
                                            id=row.id))
            elif to == "concluded":
                if row.conclusion is None:
                    raise ConflictError(Message(f"referral {row.id} has no conclusion yet; write it first (PUT "
                                                f"/api/referrals/{row.id}/conclusion).", "referral.no_conclusion",
                                                id=row.id))
                values["concluded_at"] = now
                if conclusion_pdf is not None:
                    values["concluded_at"] = conclusion_pdf.issued_at
                    values["conclusion"] = {**row.conclusion, "pdf": conclusion_pdf.model_dump(mode="json")}
            before = row.status
            self._bump(s, row, version, actor, **values)
            self._status(s, actor, row, before, to, note)
            return self._public(s, actor, row)

    def _patient_of(self, s: Session, actor: Actor, row: m.Referral, patient_id: int | None, create: bool) -> int:
        """The registry patient an acceptance links: ``patient_id`` (it must exist), or a new one made from the
        referral (pseudonym: the referral's, else ``REF-<id>``)."""
        if patient_id is not None and create:
            raise InputError("give patient_id (link an existing patient) or create_patient (make one), not both.")
        if patient_id is not None:
            actor.require(_P.READ)
            return self._load(s, patient_id).id
        actor.require(_P.WRITE)
        patient = ReferralPatient.model_validate(row.patient)
        pseudonym = patient.pseudonym or f"REF-{row.id}"
        identity = patient.identity.model_dump() if patient.identity else {}
        if patient.date_of_birth and not identity.get("date_of_birth"):
            identity["date_of_birth"] = patient.date_of_birth
        data = PatientCreate.model_validate({
            "pseudonym": pseudonym, "sex": patient.sex, "region": row.region, "identity": identity or None,
            "first_contact_date": (row.submitted_at or _now()).date(),
            "phenotypic_features": [{"hpo_id": t["hpo_id"], "label": t.get("label"), "excluded": t.get("excluded", False)}
                                    for t in row.phenotype],
            "genetic_findings": row.genetic_findings,
        })
        taken = ConflictError(Message(
            f"pseudonym {pseudonym!r} is taken in the registry; link that patient (patient_id) if it is the same one, "
            "or change the referral's pseudonym.", "referral.pseudonym_taken", pseudonym=repr(pseudonym)))
        return self._create_in(s, actor, data, taken).id

    def _status(self, s: Session, actor: Actor, row: m.Referral, before: str | None, to: str, note: str | None) -> None:
        s.add(m.ReferralStatusChange(referral_id=row.id, from_status=before, to_status=to, at=_now(),
                                     by=actor.username[:100], role=actor.role, note=note))
        self._audit(s, actor, "referral_status", row.patient_id, referral=row.id, to=to,
                    **({"from": before} if before else {}))

    def assign_experts(self, actor: Actor, referral_id: int, experts: Sequence[str], *, version: int) -> ReferralPublic:
        """Set the referral's consilium to ``experts`` (users whose role reviews referrals); an accepted referral
        moves to ``assigned``. An expert taken off keeps the opinion they wrote."""
        names = list(dict.fromkeys(e.strip() for e in experts if e.strip()))
        if not names:
            raise InputError("experts is empty; name at least one expert (their user names).")
        with self._sessions.begin() as s:
            row = self._referral(s, actor, referral_id)
            self._need(s, actor, row, _P.TRIAGE, "assign experts to")
            if row.status not in ("accepted", "assigned", "in_review"):
                raise IllegalTransitionError(row.id, row.status, "assigned", tuple(TRANSITIONS.get(row.status, {})))
            users = dict(s.execute(select(m.User.username, m.User.role).where(m.User.username.in_(names), m.User.active)).all())
            wrong = [n for n in names if n not in users or _P.REVIEW not in _roles(users[n])]
            if wrong:
                raise InputError(Message(
                    f"experts: {', '.join(map(repr, wrong))} {'is not an active user' if len(wrong) == 1 else 'are not active users'}"
                    " whose role reviews referrals (expert); check the names (GET /api/users).", "referral.not_experts",
                    names=", ".join(wrong)))
            A = m.ReferralAssignment
            had = set(s.scalars(select(A.expert).where(A.referral_id == row.id)))
            s.execute(delete(A).where(A.referral_id == row.id, A.expert.not_in(names)))
            now = _now()
            for name in names:
                if name not in had:
                    s.add(A(referral_id=row.id, expert=name, assigned_at=now, assigned_by=actor.username[:100]))
            before = row.status
            to = "assigned" if before == "accepted" else before
            self._bump(s, row, version, actor, status=to)
            self._audit(s, actor, "referral_assign", row.patient_id, referral=row.id, experts=names)
            if to != before:
                self._status(s, actor, row, before, to, None)
            return self._public(s, actor, row)

    # -- consilium, thread ----------------------------------------------------------------------
    def write_opinion(self, actor: Actor, referral_id: int, text: str) -> OpinionPublic:
        """``actor``'s opinion (an assigned expert's; writing again replaces it) while the referral is under review."""
        text = _text(text, "text", "write your opinion.")
        with self._sessions.begin() as s:
            row = self._referral(s, actor, referral_id)
            self._need(s, actor, row, _P.REVIEW, "write an opinion on")
            if row.status not in ("assigned", "in_review"):
                raise ConflictError(Message(f"referral {row.id} is {row.status!r}: opinions are written while it is "
                                            "'assigned' or 'in_review'.", "referral.no_opinion_now", id=row.id,
                                            status=row.status))
            Op = m.ReferralOpinion
            now = _now()
            op = s.scalar(select(Op).where(Op.referral_id == row.id, Op.expert == actor.username))
            if op is None:
                op = Op(referral_id=row.id, expert=actor.username[:100], text=text, created_at=now, updated_at=now)
                s.add(op)
            else:
                op.text, op.updated_at = text, now
            s.flush()
            self._audit(s, actor, "referral_opinion", row.patient_id, referral=row.id)
            return OpinionPublic.model_validate(op)

    def save_conclusion(self, actor: Actor, referral_id: int, conclusion: Conclusion, *, version: int) -> ReferralPublic:
        """The consilium's conclusion, written by an assigned expert while the referral is in review (the
        referrer sees it once the referral is concluded)."""
        with self._sessions.begin() as s:
            row = self._referral(s, actor, referral_id)
            self._need(s, actor, row, _P.REVIEW, "write the conclusion of")
            if row.status != "in_review":
                raise ConflictError(Message(f"referral {row.id} is {row.status!r}: the conclusion is written while it is "
                                            "'in_review'.", "referral.no_conclusion_now", id=row.id, status=row.status))
            self._bump(s, row, version, actor, conclusion=conclusion.model_dump(mode="json"),
                       concluded_by=actor.username[:100])
            self._audit(s, actor, "referral_conclusion", row.patient_id, referral=row.id, version=row.version)
            return self._public(s, actor, row)

    def conclusion_pdf(self, actor: Actor, referral_id: int) -> ConclusionPdf:
        """The record of the issued conclusion's PDF, for a download by someone who may see the referral (audited as
        an attachment's download); 404 while none is issued."""
        with self._sessions.begin() as s:
            row = self._referral(s, actor, referral_id)
            pdf = _pdf_of(row)
            if pdf is None:
                raise NotFoundError(Message(
                    f"referral {row.id} has no issued conclusion (it is {row.status!r}); its PDF is made when an "
                    "assigned expert concludes it.", "referral.no_conclusion_pdf", id=row.id, status=row.status))
            self._audit(s, actor, "referral_download", row.patient_id, referral=row.id, conclusion_pdf=pdf.sha256)
            return pdf

    def add_message(self, actor: Actor, referral_id: int, text: str) -> MessagePublic:
        """A message on the referral's thread, by anyone who may see it, until it is closed or withdrawn."""
        text = _text(text, "text", "write the message.")
        with self._sessions.begin() as s:
            row = self._referral(s, actor, referral_id)
            if row.status not in CONTRIBUTING:
                raise ConflictError(Message(f"referral {row.id} is {row.status!r}: its thread is closed.",
                                            "referral.thread_closed", id=row.id, status=row.status))
            msg = m.ReferralMessage(referral_id=row.id, at=_now(), author=actor.username[:100], role=actor.role, text=text)
            s.add(msg)
            s.flush()
            self._audit(s, actor, "referral_message", row.patient_id, referral=row.id, message=msg.id)
            return MessagePublic.model_validate(msg)

    def messages(self, actor: Actor, referral_id: int) -> list[MessagePublic]:
        with self._sessions.begin() as s:
            row = self._referral(s, actor, referral_id)
            M = m.ReferralMessage
            out = [MessagePublic.model_validate(r) for r in s.scalars(select(M).where(M.referral_id == row.id).order_by(M.id))]
            self._audit(s, actor, "referral_messages", row.patient_id, referral=row.id)
            return out

    # -- attachments (the records; the files are kept by raredx.app's AttachmentStore) ----------------------------------
    def check_attach(self, actor: Actor, referral_id: int) -> None:
        """Refuse now, before the file is read, what :meth:`add_attachment` would refuse."""
        with self._sessions() as s:
            self._attachable(s, actor, self._referral(s, actor, referral_id))

    @staticmethod
    def _attachable(s: Session, actor: Actor, row: m.Referral) -> None:
        if row.status not in CONTRIBUTING:
            raise ConflictError(Message(f"referral {row.id} is {row.status!r}: nothing can be attached to it any more.",
                                        "referral.no_attach", id=row.id, status=row.status))

    def add_attachment(self, actor: Actor, referral_id: int, *, sha256: str, filename: str, kind: str, media_type: str,
                       size: int) -> AttachmentPublic:
        with self._sessions.begin() as s:
            row = self._referral(s, actor, referral_id)
            self._attachable(s, actor, row)
            att = m.ReferralAttachment(referral_id=row.id, sha256=sha256, filename=filename[:255], kind=kind,
                                       media_type=media_type, size=size, uploaded_at=_now(), uploaded_by=actor.username[:100])
            s.add(att)
            s.flush()
            self._audit(s, actor, "referral_attach", row.patient_id, referral=row.id, attachment=att.id, kind=kind,
                        sha256=sha256)
            return AttachmentPublic.model_validate(att)

    def get_attachment(self, actor: Actor, referral_id: int, attachment_id: int) -> AttachmentPublic:
        """An attachment's record, for a download by someone who may see the referral (audited)."""
        with self._sessions.begin() as s:
            row = self._referral(s, actor, referral_id)
            att = s.get(m.ReferralAttachment, attachment_id) if 0 < attachment_id <= MAX_ID else None
            if att is None or att.referral_id != row.id:
                raise NotFoundError(Message(f"referral {row.id} has no attachment {attachment_id}.",
                                            "referral.no_attachment", id=row.id, attachment=attachment_id))
            self._audit(s, actor, "referral_download", row.patient_id, referral=row.id, attachment=att.id)
            return AttachmentPublic.model_validate(att)

    def attachment_in_use(self, sha256: str) -> bool:
        """Whether a record names the file ``sha256`` (a file whose record failed is removed unless another has it)."""
        with self._sessions() as s:
            return s.scalar(select(m.ReferralAttachment.id).where(m.ReferralAttachment.sha256 == sha256).limit(1)) is not None

    # -- lists ----------------------------------------------------------------------------------
    def list_referrals(self, actor: Actor, *, status: str | None = None, urgency: str | None = None,
                       region: str | None = None, submitted_from: dt.date | None = None,
                       submitted_to: dt.date | None = None, overdue: bool = False, offset: int = 0,
                       limit: int = 50) -> ReferralsPublic:
        """The referrals ``actor`` may see (drafts only when asked for by ``status``, and a coordinator sees only
        their own), newest first; ``region`` (``""``: those without one) and the submission dates (UTC, both
        included) narrow them; ``overdue``: those past their due date, most overdue first."""
        from raredx.registry._service import _check_page

        _check_page(offset, limit)
        R = m.Referral
        conds = self._visible(actor)
        if status is not None:
            conds.append(R.status == status)
            if status == "draft":
                conds.append(R.referrer == actor.username)
        else:
            conds.append(R.status != "draft")
        if urgency is not None:
            conds.append(R.urgency == urgency)
        if region is not None:
            conds.append(R.region == region if region else R.region.is_(None))
        conds += _period(submitted_from, submitted_to)
        order: list[Any] = [R.id.desc()]
        if overdue:
            actor.require(_P.TRIAGE)
            conds += [R.status.in_(OPEN), R.due_at < _now()]
            order = [R.due_at.asc(), R.id.asc()]
        with self._sessions.begin() as s:
            count = s.scalar(select(func.count()).select_from(R).where(*conds)) or 0
            rows = list(s.scalars(select(R).where(*conds).order_by(*order).offset(offset).limit(limit)))
            experts = self._experts(s, [r.id for r in rows])
            identity = actor.can(_P.READ_IDENTITY) or not (actor.can(_P.TRIAGE) or actor.can(_P.REVIEW))
            data = [ReferralSummary(
                id=r.id, status=r.status, urgency=r.urgency, referrer=r.referrer, region=r.region,
                patient=_patient_name(r.patient, identity), clinical_question=r.clinical_question[:300],
                submitted_at=r.submitted_at, due_at=r.due_at, overdue=_overdue(r), experts=experts.get(r.id, []),
                updated_at=r.updated_at) for r in rows]
            self._audit(s, actor, "referral_list", None, referrals=[r.id for r in rows][:100],
                        **({"overdue": True} if overdue else {}))
            return ReferralsPublic(data=data, count=count, offset=offset, limit=limit)

    def overdue_referrals(self, actor: Actor, *, region: str | None = None, submitted_from: dt.date | None = None,
                          submitted_to: dt.date | None = None, offset: int = 0, limit: int = 50) -> ReferralsPublic:
        """The coordinator's overdue list: open referrals past their due date, most overdue first (narrowed as
        :meth:`list_referrals` narrows)."""
        return self.list_referrals(actor, overdue=True, region=region, submitted_from=submitted_from,
                                   submitted_to=submitted_to, offset=offset, limit=limit)

    def referral_counts(self, actor: Actor, *, region: str | None = None, submitted_from: dt.date | None = None,
                        submitted_to: dt.date | None = None) -> ReferralCounts:
        """The coordinator's dashboard numbers (drafts are not counted), of the referrals from ``region`` (``""``:
        those without one) submitted from ``submitted_from`` to ``submitted_to`` (dates in UTC, both included) when
        given. ``by_region`` counts referrals without a region under ``""``; ``by_diagnosis`` the diagnoses of the
        conclusions (not those ruled out) by disease id, else by name, with ``diagnosis_names`` the name written most
        often for each; the median days from submission to conclusion is over ``concluded`` referrals."""
        actor.require(_P.TRIAGE)
        R = m.Referral
        conds = [R.status != "draft", *_period(submitted_from, submitted_to)]
        if region is not None:
            conds.append(R.region == region if region else R.region.is_(None))
        with self._sessions.begin() as s:
            def by(col: Any) -> dict[str, int]:
                return {"" if k is None else str(k): n for k, n in s.execute(
                    select(col, func.count()).where(*conds).group_by(col).order_by(func.count().desc(), col))}

            total = s.scalar(select(func.count()).select_from(R).where(*conds)) or 0
            overdue = s.scalar(select(func.count()).select_from(R).where(*conds, R.status.in_(OPEN), R.due_at < _now())) or 0
            times = [(c - sub).total_seconds() / 86400 for sub, c in s.execute(
                select(R.submitted_at, R.concluded_at).where(*conds, R.concluded_at.is_not(None), R.submitted_at.is_not(None)))
                if sub is not None and c is not None]
            diagnoses: Counter[str] = Counter()
            names: dict[str, Counter[str]] = {}
            for (conclusion,) in s.execute(select(R.conclusion).where(*conds, R.conclusion.is_not(None),
                                                                       R.concluded_at.is_not(None))):
                for d in (conclusion or {}).get("diagnoses", []):
                    if d.get("status") != "ruled_out":
                        key = d.get("disease_id") or d["name"]
                        diagnoses[key] += 1
                        names.setdefault(key, Counter())[d["name"]] += 1
            top = dict(diagnoses.most_common(50))
            self._audit(s, actor, "referral_counts", None,
                        **{k: str(v) for k, v in (("region", region), ("submitted_from", submitted_from),
                                                  ("submitted_to", submitted_to)) if v is not None})
            return ReferralCounts(total=total, by_status=by(R.status), by_urgency=by(R.urgency),
                                  by_region=by(R.region), by_diagnosis=top,
                                  diagnosis_names={k: names[k].most_common(1)[0][0] for k in top},
                                  overdue=overdue, concluded=len(times),
                                  median_days_to_conclusion=round(statistics.median(times), 2) if times else None)

    # -- conversion -----------------------------------------------------------------------------
    @staticmethod
    def _experts(s: Session, ids: list[int]) -> dict[int, list[str]]:
        A = m.ReferralAssignment
        out: dict[int, list[str]] = {}
        if ids:
            for rid, name in s.execute(select(A.referral_id, A.expert).where(A.referral_id.in_(ids)).order_by(A.id)):
                out.setdefault(rid, []).append(name)
        return out

    def _public(self, s: Session, actor: Actor, row: m.Referral) -> ReferralPublic:
        rel = self._relation(s, actor, row)
        centre = _P.TRIAGE in rel or _P.REVIEW in rel or actor.can(_P.TRIAGE) or actor.can(_P.REVIEW)
        own = row.referrer == actor.username
        patient = dict(row.patient)
        if not (own or actor.can(_P.READ_IDENTITY)):
            patient["identity"] = None
        Op, T, C = m.ReferralOpinion, m.ReferralAttachment, m.ReferralStatusChange
        opinions = [OpinionPublic.model_validate(o) for o in s.scalars(select(Op).where(Op.referral_id == row.id).order_by(Op.id))] if centre else []
        written = {k: v for k, v in row.conclusion.items() if k != "pdf"} if row.conclusion else None
        conclusion = written if centre or row.status in ("concluded", "closed") else None
        allowed = [to for to, need in TRANSITIONS.get(row.status, {}).items() if need in rel]
        return ReferralPublic(
            id=row.id, status=row.status, urgency=row.urgency, referrer=row.referrer, organisation_id=row.organisation_id,
            region=row.region, patient=ReferralPatient.model_validate(patient),
            clinical_question=row.clinical_question, phenotype=[ReferralTerm.model_validate(t) for t in row.phenotype],
            history=row.history, tests_done=row.tests_done, genetic_results=row.genetic_results,
            genetic_findings=row.genetic_findings, patient_id=row.patient_id if centre else None,
            differential=row.differential if centre else None, conclusion=conclusion,
            conclusion_pdf=_pdf_of(row) if conclusion else None,
            concluded_by=row.concluded_by if conclusion else None, concluded_at=row.concluded_at,
            submitted_at=row.submitted_at, due_at=row.due_at, overdue=_overdue(row), version=row.version,
            created_at=row.created_at, updated_at=row.updated_at, updated_by=row.updated_by,
            experts=self._experts(s, [row.id]).get(row.id, []), opinions=opinions,
            attachments=[AttachmentPublic.model_validate(a) for a in s.scalars(select(T).where(T.referral_id == row.id).order_by(T.id))],
            status_history=[StatusChange.model_validate(c) for c in s.scalars(select(C).where(C.referral_id == row.id).order_by(C.id))],
            allowed=allowed)


def _period(start: dt.date | None, end: dt.date | None) -> list[Any]:
    """The conditions on referrals submitted from ``start`` to ``end`` (dates in UTC, both included)."""
    if start is not None and end is not None and end < start:
        raise InputError(Message(f"submitted_to ({end}) is before submitted_from ({start}); swap them or leave one out.",
                                 "referral.submitted_period", start=str(start), end=str(end)))
    R = m.Referral
    out: list[Any] = []
    if start is not None:
        out.append(R.submitted_at >= dt.datetime.combine(start, dt.time(), dt.UTC))
    if end is not None:
        out.append(R.submitted_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC))
    return out


def _roles(role: str) -> frozenset[Permission]:
    from raredx.registry.security import ROLES

    return ROLES.get(role, frozenset())


def _pdf_of(row: m.Referral) -> ConclusionPdf | None:
    """The record of the conclusion's PDF, kept beside the conclusion (under ``pdf``) once it is issued."""
    pdf = (row.conclusion or {}).get("pdf") if row.status in ("concluded", "closed") else None
    return ConclusionPdf.model_validate(pdf) if pdf else None


def _overdue(row: m.Referral) -> bool:
    return row.status in OPEN and row.due_at is not None and row.due_at < _now()


def _patient_name(patient: dict[str, Any], identity: bool) -> str:
    if patient.get("pseudonym"):
        return str(patient["pseudonym"])
    ident = patient.get("identity") or {}
    if identity and (ident.get("family_name") or ident.get("given_name")):
        return " ".join(str(ident[k]) for k in ("family_name", "given_name") if ident.get(k))
    return "(identity hidden)"


def _text(value: str, name: str, what: str) -> str:
    from raredx.registry.schemas import unstorable

    if not value.strip():
        raise InputError(Message(f"{name} is empty; {what}", "referral.empty", field=name))
    if len(value) > MAX_MESSAGE:
        raise InputError(Message(f"{name} is longer than {MAX_MESSAGE} characters; shorten it.", "referral.too_long",
                                 field=name))
    if why := unstorable(value, name):
        raise InputError(why)
    return value.strip()


__all__ = ["DUE_DAYS", "UNSET", "Referrals", "Unset"]
