"""Referral pages (docs/referrals.md): the list the user may see, a new referral (saved as a draft, or submitted) and
its edit while a draft or returned for information (the phenotype entered with the patient page's editor: HPO
autocomplete and terms from text), and the referral page (details, status history, the differential kept at
submission, attachments, the thread, the workflow actions this user may take now: accepting with a registry patient
created or linked; the consilium's experts, opinions and conclusion, its diagnoses chosen from the differential).
Thin over the services: every read and write goes through :class:`raredx.registry.Registry` and
:mod:`raredx.app` with the signed-in user as actor; the allowed actions are the referral's ``allowed``."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from raredx.app import attach_file, attachment_file, conclusion_file, conclusion_filename, transition_referral
from raredx.app.http import private_file, services
from raredx.errors import InputError, Message, RaredxError
from raredx.registry import Actor, PatientFilter, Permission
from raredx.registry.errors import ConflictError
from raredx.registry.referrals import EDITABLE
from raredx.registry.schemas import (
    MAX_ID,
    SEXES,
    URGENCIES,
    Conclusion,
    ConclusionDiagnosis,
    GeneticFinding,
    PhenotypicFeature,
    ReferralCreate,
    ReferralPublic,
    ReferralUpdate,
)
from raredx.web import _case, _forms, _i18n
from raredx.web._diagnosis import REFERRAL_PHENOTYPE
from raredx.web._render import language, redirect, render, translator
from raredx.web._session import CsrfChecked, WebActor

router = APIRouter(prefix="/referrals")
PAGE = 50
UPLOAD = "/referrals/{rid}/attachments"
TEXTS = ("clinical_question", "history", "tests_done", "genetic_results")
CONCLUSION = ("text", "recommended_tests", "treatment", "drug_provision", "follow_up")
DX_STATUSES: tuple[str, ...] = ("confirmed", "probable", "differential", "ruled_out")
HPO = re.compile(r"HP:\d{7}")
DISEASE_ID = re.compile(ConclusionDiagnosis.model_fields["disease_id"].metadata[0].pattern)
CARRY = "ref-form"  # the referral form's id: it carries the phenotype editor's terms (raredx.web._case)
FOUND = 10  # registry patients offered by the accept form's search
FINDING = "genetic_findings"  # the patient page's record kind whose fields and parsing the form's findings use
FINDINGS_MAX = 50  # rows of findings the form reads
# the rows' fields as the patient page's, none required by the browser: the empty row (to add one) may stay empty; a
# filled row without its gene is refused by the check (_forms.item_errors)
FINDING_FIELDS = tuple(replace(f, required=False) for f in _forms.ITEMS[FINDING])


@router.get("")
def referral_list(request: Request, actor: WebActor) -> Response:
    reg = services(request).registry
    page = reg.list_referrals(actor, limit=PAGE)
    drafts = reg.list_referrals(actor, status="draft", limit=PAGE) if actor.can(Permission.REFER) else None
    overdue = reg.overdue_referrals(actor, limit=PAGE) if actor.can(Permission.TRIAGE) else None
    return render(request, "referrals.html", page=page, drafts=drafts, overdue=overdue)


# -- a new referral, and its edit ---------------------------------------------------------------------------
IDENTITY = ("family_name", "given_name", "patronymic")


def _form_values(form: Any) -> dict[str, str]:
    names = (*TEXTS, *IDENTITY, "urgency", "pseudonym", "sex", "date_of_birth", "phenotype")
    values = {k: str(form.get(k) or "").strip() for k in names}
    values["pseudonymous"] = "on" if form.get("pseudonymous") else ""
    return values


def _referral_data(values: dict[str, str], terms: tuple[PhenotypicFeature, ...],
                   identity_kept: dict[str, Any] | None = None, findings: list[dict[str, Any]] | None = None
                   ) -> dict[str, Any]:
    """The form's values as a :class:`ReferralCreate` payload (the schema and the registry check them): the
    phenotype is the editor's terms, then the HPO ids typed in the box (the form without JavaScript), observed.
    ``identity_kept``: the identity's other fields (given through the API), which an edit keeps; ``findings``: the
    genetic findings (checked by :func:`_findings_of`)."""
    pseudonymous = bool(values["pseudonymous"])
    identity = {**(identity_kept or {}), **{k: values[k] or None for k in IDENTITY}}
    identity = {k: v for k, v in identity.items() if v}
    patient: dict[str, Any] = {"pseudonymous": pseudonymous, "pseudonym": values["pseudonym"] or None,
                               "sex": values["sex"] or None, "date_of_birth": values["date_of_birth"] or None,
                               "identity": identity if identity and not pseudonymous else None}
    tokens = [t for t in re.split(r"[\s,;]+", values["phenotype"]) if t]
    bad = [t for t in tokens if not HPO.fullmatch(t.upper())]
    if bad:
        raise InputError(Message(f"phenotype: {bad[0]} is not an HPO id (HP: and seven digits, e.g. HP:0001250).",
                                 "referral.web_hpo_id", term=bad[0]))
    phenotype = [{"hpo_id": f.hpo_id, "label": f.label, "excluded": f.excluded} for f in terms]
    have = {f.hpo_id for f in terms}
    phenotype += [{"hpo_id": t} for t in dict.fromkeys(t.upper() for t in tokens) if t not in have]
    return {"urgency": values["urgency"] or "routine", "patient": patient,
            "clinical_question": values["clinical_question"], "phenotype": phenotype,
            "genetic_findings": list(findings or []), **{k: values[k] or None for k in TEXTS[1:]}}


def _finding_rows(form: Any) -> list[dict[str, Any]]:
    """The genetic findings as the form sent them, a row each (``gf_<i>_<field>``, the patient page's fields; ``of``:
    the index of the referral's finding the row edits), the empty rows and those ticked for removal left out."""
    n = str(form.get("gf_n") or "0")
    rows = []
    for i in range(min(int(n) if n.isdigit() else 0, FINDINGS_MAX)):
        values = _forms.values_from_form(_forms.ITEMS[FINDING], {
            f.name: form.get(f"gf_{i}_{f.name}") for f in _forms.ITEMS[FINDING]})
        of = str(form.get(f"gf_{i}_of") or "")
        if values and not form.get(f"gf_{i}_remove"):
            rows.append({"values": values, "errors": {}, "of": int(of) if of.isdigit() else None})
    return rows


def _findings_of(rows: list[dict[str, Any]], before: list[GeneticFinding], t: Any) -> list[dict[str, Any]] | None:
    """The findings of the form's rows (each over the referral's finding it edits, which keeps what the form does
    not show), checked as the patient page checks them; None when a row is refused (its ``errors`` filled in, by
    field, in the page's language; a field left as it was stored is not checked again)."""
    out = []
    for row in rows:
        old = before[row["of"]] if row["of"] is not None and row["of"] < len(before) else None
        shown = _forms.form_values(FINDING, old) if old else None
        errors = {k: t.message(v) for k, v in _forms.item_errors(FINDING, row["values"]).items()
                  if shown is None or row["values"].get(k) != shown.get(k)}
        if not errors:
            try:
                out.append(GeneticFinding.model_validate(_forms.edited_item(FINDING, row["values"], old))
                           .model_dump(mode="json", exclude_none=True))
            except ValidationError as exc:
                errors = _forms.errors_of(exc)
        row["errors"] = errors
    return None if any(row["errors"] for row in rows) else out


def _rows_of(findings: list[GeneticFinding]) -> list[dict[str, Any]]:
    """A referral's findings as the form's rows (the edit's starting point)."""
    return [{"values": _forms.form_values(FINDING, f), "errors": {}, "of": i} for i, f in enumerate(findings)]


def _phenotype(request: Request, features: tuple[PhenotypicFeature, ...], **values: Any) -> dict[str, Any]:
    """What the phenotype editor (_phenotype.html) needs on the referral form."""
    onto = services(request).rdx.kb.ontology
    return {"features": features, "groups": _case.by_system(onto, features), "skip": (), "p": None,
            "case_url": REFERRAL_PHENOTYPE, "carry": CARRY, "phenotype_swap": "#ref-phenotype-editor",
            "phenotype_more": "_referral_phenotype_ids.html", **values}


def _form_page(request: Request, values: dict[str, str], errors: dict[str, str],
               features: tuple[PhenotypicFeature, ...] = (), *, referral: ReferralPublic | None = None,
               version: int | None = None, error: str | None = None, status: int = 200,
               findings: list[dict[str, Any]] | None = None) -> Response:
    """The referral form: new (``referral`` None) or the edit of ``referral`` at ``version`` (the one read), with
    the genetic findings' rows (``findings``; by default the referral's) and an empty one to add a finding."""
    rows = _rows_of(referral.genetic_findings) if findings is None and referral else list(findings or [])
    rows.append({"values": {}, "errors": {}, "of": None})
    return render(request, "referral_new.html", status=status, values=values, errors=errors, urgencies=URGENCIES,
                  sexes=SEXES, referral=referral, version=version, error=error, findings=rows,
                  finding_fields=FINDING_FIELDS, **_phenotype(request, features))


def _terms(request: Request, form: Any) -> tuple[PhenotypicFeature, ...]:
    return _case.features_from_form(services(request).rdx, form)


def _checked(request: Request, form: Any, values: dict[str, str], identity_kept: dict[str, Any] | None = None,
             before: ReferralPublic | None = None
             ) -> tuple[dict[str, Any] | None, tuple[PhenotypicFeature, ...], dict[str, str], list[dict[str, Any]]]:
    """The payload of the form (or None) with the editor's terms, the errors to show next to the fields and the
    genetic findings' rows (their errors next to theirs); ``before``: the referral edited."""
    t = translator(request)
    terms: tuple[PhenotypicFeature, ...] = ()
    rows = _finding_rows(form)
    findings = _findings_of(rows, list(before.genetic_findings) if before else [], t)
    try:
        terms = _terms(request, form)
        data = _referral_data(values, terms, identity_kept, findings or [])
        ReferralCreate.model_validate(data)
    except ValidationError as exc:
        errors = _forms.errors_of(exc)
        if "clinical_question" in errors:  # the required field, named in the page's language
            errors["clinical_question"] = t("ref.error.question")
        return None, terms, errors, rows
    except InputError as exc:
        return None, terms, {"phenotype": t.message(exc)}, rows
    if findings is None:
        return None, terms, {"genetic_findings": ""}, rows  # (the reasons are next to the rows' fields)
    return data, terms, {}, rows


@router.get("/new")
def new_referral_page(request: Request, actor: WebActor) -> Response:
    actor.require(Permission.REFER)
    return _form_page(request, {"urgency": "routine"}, {})


@router.post("/phenotype", dependencies=[CsrfChecked])
async def edit_phenotype(request: Request, actor: WebActor) -> Response:
    """One edit of the referral form's phenotype (the patient page's ops: add, toggle, remove, accept from text);
    the terms travel in the form, nothing is stored until the referral is saved."""
    actor.require(Permission.REFER)
    form = await request.form()

    def edit() -> Response:
        result = _case.apply(services(request).rdx, _terms(request, form), form)
        return render(request, "_referral_phenotype.html", values={"phenotype": str(form.get("phenotype") or "")},
                      **_phenotype(request, result.features, focus_search=result.focus_search))

    return await run_in_threadpool(edit)


async def _submit_after(request: Request, actor: Actor, saved: ReferralPublic, form: Any) -> Response:
    """After a save: the referral's page, or (the button "submit") its submission; a refused one shows there."""
    if form.get("action") != "submit":
        return redirect(request, f"/referrals/{saved.id}")
    svc = services(request)

    async def submit() -> None:
        await svc.compute(transition_referral, svc.rdx, svc.registry, actor, saved.id, "submitted",
                          version=saved.version)

    return await _act(request, actor, saved.id, submit, "status")


@router.post("/new", dependencies=[CsrfChecked])
async def create_referral(request: Request, actor: WebActor) -> Response:
    actor.require(Permission.REFER)
    form = await request.form()
    values = _form_values(form)
    data, terms, errors, rows = await run_in_threadpool(_checked, request, form, values)
    if data is None:
        return _form_page(request, values, errors, terms, status=422, findings=rows)
    try:
        created = await run_in_threadpool(services(request).registry.create_referral, actor,
                                          ReferralCreate.model_validate(data))
    except InputError as exc:  # e.g. an HPO id the loaded release does not know
        return _form_page(request, values, {"phenotype": translator(request).message(exc)}, terms, status=422,
                          findings=rows)
    return await _submit_after(request, actor, created, form)


def _values_of(r: ReferralPublic) -> dict[str, str]:
    """A referral as the form's values (the edit's starting point)."""
    ident = r.patient.identity
    values = {k: getattr(r, k) or "" for k in TEXTS}
    values.update({k: (getattr(ident, k) if ident else None) or "" for k in IDENTITY})
    values.update(urgency=r.urgency, pseudonym=r.patient.pseudonym or "", sex=r.patient.sex or "", phenotype="",
                  date_of_birth=r.patient.date_of_birth.isoformat() if r.patient.date_of_birth else "",
                  pseudonymous="on" if r.patient.pseudonymous else "")
    return values


def _editable(request: Request, actor: Actor, rid: int) -> ReferralPublic | Response:
    """The referral, if it may be changed now by ``actor`` (its referrer); else its page saying why (409)."""
    actor.require(Permission.REFER)
    r = services(request).registry.get_referral(actor, rid)
    if r.status not in EDITABLE or "submitted" not in r.allowed:
        return _page(request, actor, rid, status=409, error=translator(request)(
            "ref.edit.not_editable", status=translator(request)("ref.state." + r.status)))
    return r


@router.get("/{rid}/edit")
def edit_referral_page(request: Request, rid: int, actor: WebActor) -> Response:
    r = _editable(request, actor, rid)
    if isinstance(r, Response):
        return r
    terms = tuple(PhenotypicFeature(hpo_id=p.hpo_id, label=p.label, excluded=p.excluded) for p in r.phenotype)
    return _form_page(request, _values_of(r), {}, terms, referral=r, version=r.version)


@router.post("/{rid}/edit", dependencies=[CsrfChecked])
async def edit_referral(request: Request, rid: int, actor: WebActor) -> Response:
    """Save the form with the version it was read at: a change made since is refused (409) with the form as typed,
    so that nothing is lost; "submit" then (re)submits it."""
    actor.require(Permission.REFER)
    form = await request.form()
    # the status is checked by the save itself: a change since (submitted, withdrawn) keeps the form as typed
    r = await run_in_threadpool(services(request).registry.get_referral, actor, rid)
    values = _form_values(form)
    version = _version(form)
    kept = r.patient.identity.model_dump(exclude=set(IDENTITY), exclude_none=True) if r.patient.identity else None
    data, terms, errors, rows = await run_in_threadpool(_checked, request, form, values, kept, r)
    if data is None:
        return _form_page(request, values, errors, terms, referral=r, version=version, status=422, findings=rows)
    try:
        saved = await run_in_threadpool(services(request).registry.update_referral, actor, rid,
                                        ReferralUpdate.model_validate({**data, "version": version}))
    except ConflictError as exc:  # changed since it was read: the form again, as typed, with the reason
        return _form_page(request, values, {}, terms, referral=r, version=version, status=409,
                          error=translator(request).message(exc), findings=rows)
    except InputError as exc:
        return _form_page(request, values, {"phenotype": translator(request).message(exc)}, terms, referral=r,
                          version=version, status=422, findings=rows)
    return await _submit_after(request, actor, saved, form)


# -- the referral page --------------------------------------------------------------------------------------
def _page(request: Request, actor: Actor, rid: int, *, error: str | None = None, status: int = 200,
          notice: str | None = None, conclusion_form: dict[str, Any] | None = None,
          conclusion_errors: dict[str, str] | None = None) -> Response:
    reg = services(request).registry
    r = reg.get_referral(actor, rid)
    thread = reg.messages(actor, rid)
    diseases = ((r.differential.result or {}).get("diseases") or [])[:10] if r.differential else []
    mine = next((o for o in r.opinions if o.expert == actor.username), None)
    return render(request, "referral.html", status=status, r=r, thread=thread, diseases=diseases, error=error,
                  notice=notice, my_opinion=mine, is_expert=actor.username in r.experts or actor.can(Permission.MANAGE_USERS),
                  may_triage=actor.can(Permission.TRIAGE), dx_statuses=DX_STATUSES,
                  cform=conclusion_form or _conclusion_form(r, diseases), cerrors=conclusion_errors or {},
                  findings=[_forms.item_values(FINDING, f) for f in r.genetic_findings],
                  finding_fields=_forms.ITEMS[FINDING])


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
                          attachments=svc.attachments, language=language(request), centre=svc.centre,
                          **(_registry_patient(form) if to == "accepted" else {}))

    return await _act(request, actor, rid, go, "status")


def _registry_patient(form: Any) -> dict[str, Any]:
    """What the accept form asks of the registry: ``patient`` = ``create`` (a patient made from the referral),
    ``link`` (the patient picked from the search, else the id typed; a patient picked or typed links without the
    choice too) or nothing."""
    picked = str(form.get("link_id") or form.get("patient_id") or "").strip()
    choice = str(form.get("patient") or ("create" if form.get("create_patient") else "link" if picked else ""))
    if choice == "create":
        return {"create_patient": True}
    if choice != "link":
        return {}
    if not picked.isdigit() or not 0 < int(picked) <= MAX_ID:
        raise InputError(Message(f"patient_id: {picked or 'nothing'} is not a registry patient's id; type the id (a "
                                 "number) or find the patient by pseudonym.", "referral.web_patient_id",
                                 value=picked or "—"))
    return {"patient_id": int(picked)}


@router.get("/{rid}/patients")
def find_patients(request: Request, rid: int, actor: WebActor,
                  q: Annotated[str, Query(alias="patient_q", max_length=200)] = "") -> Response:
    """The accept form's search: registry patients whose pseudonym begins with ``patient_q``, to link (a coordinator)."""
    actor.require(Permission.TRIAGE)
    reg = services(request).registry
    reg.check_transition(actor, rid, "accepted")
    found = reg.list_summaries(actor, PatientFilter(pseudonym=q.strip()), limit=FOUND).data if q.strip() else []
    return render(request, "_referral_patients.html", found=found, q=q)


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


# -- the conclusion form: its diagnoses from the differential kept at submission, and a free row ------------------
def _preferred(ids: Any) -> str | None:
    ids = list(ids or [])
    return next((i for p in ("ORPHA:", "OMIM:") for i in ids if i.startswith(p)), ids[0] if ids else None)


def _conclusion_form(r: ReferralPublic, diseases: list[dict[str, Any]]) -> dict[str, Any]:
    """The conclusion form's values: the saved conclusion's, its diagnoses ticked among the differential's candidates
    (each with a status: the first "probable", the others "differential" until chosen), then those added by hand."""
    c = r.conclusion
    chosen = {(d.disease_id or d.name): d for d in (c.diagnoses if c else [])}
    rows = []
    for i, d in enumerate(diseases):
        did = _preferred(d.get("ids"))
        keys = [*(d.get("ids") or []), str(d.get("name") or "")]  # a diagnosis saved under any id of the candidate
        mine = next((chosen.pop(k) for k in keys if k in chosen), None)
        rows.append({"id": did or "", "name": mine.name if mine else d.get("name") or "", "on": mine is not None,
                     "status": mine.status if mine else ("probable" if i == 0 else "differential"),
                     "probability": d.get("probability")})
    rows += [{"id": d.disease_id or "", "name": d.name, "on": True, "status": d.status, "probability": None}
             for d in chosen.values()]
    texts = {k: (getattr(c, k) or "") if c else "" for k in CONCLUSION}
    return {**texts, "language": (c.language if c else None) or "", "rows": rows,
            "new": {"id": "", "name": "", "status": "differential"}}


def _conclusion_submitted(form: Any) -> dict[str, Any]:
    """The conclusion form as it was sent (to show again when it is refused)."""
    n = int(str(form.get("dx_n") or "0")) if str(form.get("dx_n") or "0").isdigit() else 0
    on = set(form.getlist("dx"))
    rows = [{"id": str(form.get(f"dx_id_{i}") or "").strip(), "name": str(form.get(f"dx_name_{i}") or "").strip(),
             "status": str(form.get(f"dx_status_{i}") or ""), "on": str(i) in on,
             "probability": _number(form.get(f"dx_p_{i}"))} for i in range(min(n, 60))]
    new = {k: str(form.get(f"dx_{k}_new") or "").strip() for k in ("id", "name", "status")}
    return {**{k: str(form.get(k) or "").strip() for k in CONCLUSION}, "language": str(form.get("language") or ""),
            "rows": rows, "new": new}


def _number(value: Any) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None


def _conclusion_of(cform: dict[str, Any], t: Any, lang: str) -> tuple[Conclusion | None, dict[str, str]]:
    """The :class:`Conclusion` the form gives, or the errors to show (by field, in the page's language); it is
    issued in the language chosen, else the page's (``lang``)."""
    errors: dict[str, str] = {}
    diagnoses = []
    for where, row in [(str(i), row) for i, row in enumerate(cform["rows"]) if row["on"]] + [("new", cform["new"])]:
        if where == "new" and not (row["id"] or row["name"]):
            continue
        if row["id"] and not DISEASE_ID.fullmatch(row["id"]):
            errors[f"dx_{where}"] = t("ref.conclusion.error_id", id=row["id"])
        elif not row["name"]:
            errors[f"dx_{where}"] = t("ref.conclusion.error_name", id=row["id"] or "—")
        elif row["status"] not in DX_STATUSES:
            errors[f"dx_{where}"] = t("ref.conclusion.error_status")
        else:
            diagnoses.append({"disease_id": row["id"] or None, "name": row["name"][:500], "status": row["status"]})
    try:
        issued_in = cform["language"] if cform["language"] in _i18n.LANGUAGES else lang
        data = Conclusion.model_validate({**{k: cform[k] or None for k in CONCLUSION}, "diagnoses": diagnoses,
                                          "language": issued_in})
    except ValidationError as exc:
        for name in _forms.errors_of(exc):
            errors.setdefault(name, t("ref.error.conclusion") if name == "text" else t("ref.conclusion.error_field"))
        return None, errors
    return (None if errors else data), errors


@router.post("/{rid}/conclusion", dependencies=[CsrfChecked])
async def conclusion(request: Request, rid: int, actor: WebActor) -> Response:
    """Save the consilium's conclusion with the version read; refused (a field, a change since), the form again as
    it was sent, with the reason."""
    form = await request.form()
    reg = services(request).registry
    t = translator(request)
    cform = _conclusion_submitted(form)
    data, errors = _conclusion_of(cform, t, language(request))
    if data is None:
        return await run_in_threadpool(_page, request, actor, rid, status=422, error=t("form.has_errors"),
                                       conclusion_form=cform, conclusion_errors=errors)
    try:
        await run_in_threadpool(reg.save_conclusion, actor, rid, data, version=_version(form))
    except RaredxError as exc:
        if exc.http_status == 404:
            raise
        return await run_in_threadpool(_page, request, actor, rid, status=exc.http_status, error=t.message(exc),
                                       conclusion_form=cform)
    return redirect(request, f"/referrals/{rid}?done=conclusion")


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
    return private_file(path, "application/pdf", conclusion_filename(rid, pdf))


@router.get("/{rid}/attachments/{aid}")
def download(request: Request, rid: int, aid: int, actor: WebActor) -> Response:
    svc = services(request)
    att, path = attachment_file(svc.registry, svc.attachments, actor, rid, aid)
    return private_file(path, att.media_type, att.filename)
