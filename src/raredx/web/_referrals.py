"""Referral pages (docs/referrals.md): the list the user may see, a new referral (saved as a draft, or submitted),
and the referral page (details, status history, the differential kept at submission, attachments, the thread,
the workflow actions this user may take now, the consilium's experts, opinions and conclusion).
Thin over the services: every read and write goes through :class:`raredx.registry.Registry` and
:mod:`raredx.app` with the signed-in user as actor; the allowed actions are the referral's ``allowed``."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from raredx.app import attach_file, attachment_file, conclusion_file, conclusion_filename, transition_referral
from raredx.app.http import services
from raredx.errors import InputError, Message, RaredxError
from raredx.registry import Actor, Permission
from raredx.registry.schemas import SEXES, URGENCIES, Conclusion, ReferralCreate
from raredx.web import _forms, _i18n
from raredx.web._render import language, redirect, render, translator
from raredx.web._session import CsrfChecked, WebActor

router = APIRouter(prefix="/referrals")
PAGE = 50
UPLOAD = "/referrals/{rid}/attachments"
TEXTS = ("clinical_question", "history", "tests_done", "genetic_results")
CONCLUSION = ("text", "recommended_tests", "treatment", "drug_provision", "follow_up")
HPO = re.compile(r"HP:\d{7}")
DX_STATUSES = ("confirmed", "probable", "differential", "ruled_out")  # schemas.ConclusionDiagnosis.status


@router.get("")
def referral_list(request: Request, actor: WebActor) -> Response:
    reg = services(request).registry
    page = reg.list_referrals(actor, limit=PAGE)
    drafts = reg.list_referrals(actor, status="draft", limit=PAGE) if actor.can(Permission.REFER) else None
    overdue = reg.overdue_referrals(actor, limit=PAGE) if actor.can(Permission.TRIAGE) else None
    return render(request, "referrals.html", page=page, drafts=drafts, overdue=overdue)


# -- a new referral ---------------------------------------------------------------------------------------
def _form_values(form: Any) -> dict[str, str]:
    names = (*TEXTS, "urgency", "pseudonym", "family_name", "given_name", "sex", "date_of_birth", "phenotype")
    values = {k: str(form.get(k) or "").strip() for k in names}
    values["pseudonymous"] = "on" if form.get("pseudonymous") else ""
    return values


def _referral_data(values: dict[str, str]) -> dict[str, Any]:
    """The form's values as a :class:`ReferralCreate` payload (the schema and the registry check them)."""
    pseudonymous = bool(values["pseudonymous"])
    identity = {k: values[k] for k in ("family_name", "given_name") if values[k]}
    patient: dict[str, Any] = {"pseudonymous": pseudonymous, "pseudonym": values["pseudonym"] or None,
                               "sex": values["sex"] or None, "date_of_birth": values["date_of_birth"] or None,
                               "identity": identity if identity and not pseudonymous else None}
    tokens = [t for t in re.split(r"[\s,;]+", values["phenotype"]) if t]
    bad = [t for t in tokens if not HPO.fullmatch(t)]
    if bad:
        raise InputError(Message(f"phenotype: {bad[0]} is not an HPO id (HP: and seven digits, e.g. HP:0001250).",
                                 "referral.web_hpo_id", term=bad[0]))
    return {"urgency": values["urgency"] or "routine", "patient": patient,
            "clinical_question": values["clinical_question"], "phenotype": [{"hpo_id": t} for t in dict.fromkeys(tokens)],
            **{k: values[k] or None for k in TEXTS[1:]}}


def _new_page(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    return render(request, "referral_new.html", status=status, values=values, errors=errors, urgencies=URGENCIES,
                  sexes=SEXES)


@router.get("/new")
def new_referral_page(request: Request, actor: WebActor) -> Response:
    actor.require(Permission.REFER)
    return _new_page(request, {"urgency": "routine"}, {})


@router.post("/new", dependencies=[CsrfChecked])
async def create_referral(request: Request, actor: WebActor) -> Response:
    actor.require(Permission.REFER)
    form = await request.form()
    values = _form_values(form)
    t = translator(request)
    svc = services(request)
    try:
        data = ReferralCreate.model_validate(_referral_data(values))
    except ValidationError as exc:
        errors = _forms.errors_of(exc)
        if "clinical_question" in errors:  # the required field, named in the page's language
            errors["clinical_question"] = t("ref.error.question")
        return _new_page(request, values, errors, status=422)
    except InputError as exc:
        return _new_page(request, values, {"phenotype": t.message(exc)}, status=422)
    try:
        created = await run_in_threadpool(svc.registry.create_referral, actor, data)
    except InputError as exc:  # e.g. an HPO id the loaded release does not know
        return _new_page(request, values, {"phenotype": t.message(exc)}, status=422)
    if form.get("action") == "submit":  # the draft is kept; a refused submission is shown on its page

        async def submit() -> None:
            await svc.compute(transition_referral, svc.rdx, svc.registry, actor, created.id, "submitted",
                              version=created.version)

        return await _act(request, actor, created.id, submit, "status")
    return redirect(request, f"/referrals/{created.id}")


# -- the referral page --------------------------------------------------------------------------------------
def _page(request: Request, actor: Actor, rid: int, *, error: str | None = None, status: int = 200,
          notice: str | None = None) -> Response:
    reg = services(request).registry
    r = reg.get_referral(actor, rid)
    thread = reg.messages(actor, rid)
    diseases = ((r.differential.result or {}).get("diseases") or [])[:10] if r.differential else []
    mine = next((o for o in r.opinions if o.expert == actor.username), None)
    return render(request, "referral.html", status=status, r=r, thread=thread, diseases=diseases, error=error,
                  dx_rows=_dx_rows(r, diseases), dx_statuses=DX_STATUSES,
                  notice=notice, my_opinion=mine, is_expert=actor.username in r.experts or actor.can(Permission.MANAGE_USERS),
                  may_triage=actor.can(Permission.TRIAGE))


@router.get("/{rid}")
def referral_page(request: Request, rid: int, actor: WebActor) -> Response:
    return _page(request, actor, rid)


def _version(form: Any) -> int:
    try:
        return int(str(form.get("version") or ""))
    except ValueError:
        raise InputError(Message("the form did not say which version of the referral it shows; reload the page.",
                                 "referral.web_no_version")) from None


async def _act(request: Request, actor: Actor, rid: int, action: Any, notice: str) -> Response:
    """Run ``action`` (a coroutine function); on a refusal the page again with the reason, with its status."""
    try:
        await action()
    except RaredxError as exc:
        if exc.http_status == 404:
            raise
        return await run_in_threadpool(_page, request, actor, rid, error=translator(request).message(exc),
                                       status=exc.http_status)
    return redirect(request, f"/referrals/{rid}?done={notice}")


@router.post("/{rid}/transition", dependencies=[CsrfChecked])
async def transition(request: Request, rid: int, actor: WebActor) -> Response:
    form = await request.form()
    svc = services(request)
    to = str(form.get("to") or "")
    note = str(form.get("note") or "").strip() or None

    async def go() -> None:
        await svc.compute(transition_referral, svc.rdx, svc.registry, actor, rid, to, version=_version(form), note=note,
                          create_patient=bool(form.get("create_patient")), attachments=svc.attachments,
                          language=language(request), centre=svc.centre)

    return await _act(request, actor, rid, go, "status")


@router.post("/{rid}/experts", dependencies=[CsrfChecked])
async def assign(request: Request, rid: int, actor: WebActor) -> Response:
    form = await request.form()
    experts = [e for e in re.split(r"[\s,;]+", str(form.get("experts") or "")) if e]
    reg = services(request).registry

    async def go() -> None:
        await run_in_threadpool(reg.assign_experts, actor, rid, experts, version=_version(form))

    return await _act(request, actor, rid, go, "experts")


@router.post("/{rid}/opinion", dependencies=[CsrfChecked])
async def opinion(request: Request, rid: int, actor: WebActor) -> Response:
    form = await request.form()
    reg = services(request).registry

    async def go() -> None:
        await run_in_threadpool(reg.write_opinion, actor, rid, str(form.get("text") or ""))

    return await _act(request, actor, rid, go, "opinion")


def _diagnoses(form: Any) -> list[dict[str, Any]]:
    """The diagnoses the form's rows give (each: ``dx_id``, ``dx_name``, ``dx_status``; a row without a status or a
    name is left out): those kept so far, the candidates of the differential, and one the expert names."""
    rows = zip(form.getlist("dx_id"), form.getlist("dx_name"), form.getlist("dx_status"), strict=False)
    out = []
    for disease_id, name, status in ((str(i).strip(), str(n).strip(), str(st)) for i, n, st in rows):
        if status and name:
            out.append({"disease_id": disease_id or None, "name": name, "status": status})
    return out


def _dx_rows(r: Any, diseases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the conclusion form's diagnoses: the conclusion's, then the differential's candidates not among
    them (their first id), without a status until the expert gives one."""
    rows = [{"disease_id": d.disease_id, "name": d.name, "status": d.status} for d in (r.conclusion.diagnoses if r.conclusion else [])]
    taken = {row["disease_id"] for row in rows}
    for d in diseases:
        ids = d.get("ids") or []
        if ids and not taken & set(ids):
            rows.append({"disease_id": ids[0], "name": d.get("name") or ids[0], "status": ""})
    return rows


@router.post("/{rid}/conclusion", dependencies=[CsrfChecked])
async def conclusion(request: Request, rid: int, actor: WebActor) -> Response:
    form = await request.form()
    reg = services(request).registry
    values: dict[str, Any] = {k: str(form.get(k) or "").strip() or None for k in CONCLUSION}
    chosen = str(form.get("language") or "")
    values["language"] = chosen if chosen in _i18n.LANGUAGES else language(request)  # the language it is issued in
    values["diagnoses"] = _diagnoses(form)
    try:
        data = Conclusion.model_validate(values)
    except ValidationError as exc:
        dx = any(e.get("loc", ("",))[0] == "diagnoses" for e in exc.errors())
        return await run_in_threadpool(_page, request, actor, rid, status=422,
                                       error=translator(request)("ref.error.conclusion_dx" if dx else "ref.error.conclusion"))

    async def go() -> None:
        await run_in_threadpool(reg.save_conclusion, actor, rid, data, version=_version(form))

    return await _act(request, actor, rid, go, "conclusion")


@router.post("/{rid}/messages", dependencies=[CsrfChecked])
async def message(request: Request, rid: int, actor: WebActor) -> Response:
    form = await request.form()
    reg = services(request).registry

    async def go() -> None:
        await run_in_threadpool(reg.add_message, actor, rid, str(form.get("text") or ""))

    return await _act(request, actor, rid, go, "message")


@router.post("/{rid}/attachments", dependencies=[CsrfChecked])
async def attach(request: Request, rid: int, actor: WebActor) -> Response:
    form = await request.form()
    svc = services(request)
    upload = form.get("file")

    async def go() -> None:
        if not isinstance(upload, UploadFile):
            raise InputError(Message("file: choose the file to attach.", "attachment.empty"))
        await run_in_threadpool(attach_file, svc.registry, svc.attachments, actor, rid, upload.file, upload.filename)

    return await _act(request, actor, rid, go, "attachment")


@router.get("/{rid}/conclusion.pdf")
def conclusion_pdf(request: Request, rid: int, actor: WebActor) -> Response:
    """The issued conclusion, for users who may see the referral (404 before it is concluded)."""
    svc = services(request)
    pdf, path = conclusion_file(svc.registry, svc.attachments, actor, rid)
    return FileResponse(path, media_type="application/pdf", filename=conclusion_filename(rid, pdf),
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@router.get("/{rid}/attachments/{aid}")
def download(request: Request, rid: int, aid: int, actor: WebActor) -> Response:
    svc = services(request)
    att, path = attachment_file(svc.registry, svc.attachments, actor, rid, aid)
    return FileResponse(path, media_type=att.media_type, filename=att.filename,
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
