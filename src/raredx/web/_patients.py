"""Patient pages: the list with filters, a new patient, the patient page (demographics, phenotype editor with
the differential, genetic findings, diagnoses, treatments, drug provision, history) and the case report (printable
page and PDF).
Every read and write goes through :class:`raredx.registry.Registry` with the signed-in user as actor."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from raredx.app import case_of
from raredx.app.http import services
from raredx.engine import Differential, Suggestion
from raredx.errors import InputError, Message, RaredxError
from raredx.reanalysis import record_diagnosis as keep_analysis
from raredx.registry import Actor, PatientCreate, PatientFilter, Permission, Registry
from raredx.registry.errors import ConflictError, NotFoundError
from raredx.registry.schemas import CHILD_SCHEMAS, DIAGNOSIS_STATUSES, PROVISION_STATUSES, Diagnosis, PatientUpdate
from raredx.web import _case, _forms, _report, _summary
from raredx.web._render import redirect, render, translator
from raredx.web._session import CsrfChecked, WebActor

router = APIRouter(prefix="/patients")
PAGE = 25
AUDIT_PAGE = 50
FILTERS = ("pseudonym", "disease", "gene", "hpo", "region", "diagnosis_status", "provision_status")


SIMILAR_SHOWN = 20


def _registry(request: Request) -> Registry:
    return services(request).registry


@router.get("")
def patient_list(request: Request, actor: WebActor, offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    raw = {k: request.query_params.get(k, "").strip() for k in FILTERS}
    error, page = None, None
    try:
        filters = PatientFilter.model_validate({k: v for k, v in raw.items() if v})
        page = _registry(request).list_summaries(actor, filters, offset=offset, limit=PAGE)
    except ValidationError as exc:
        error = "; ".join(f"{k}: {v}" for k, v in _forms.errors_of(exc).items())
    except RaredxError as exc:
        error = translator(request).message(exc)
    query = urlencode({k: v for k, v in raw.items() if v})
    return render(request, "patients.html", filters=raw, page=page, error=error, query=query, page_size=PAGE,
                  diagnosis_statuses=DIAGNOSIS_STATUSES, provision_statuses=PROVISION_STATUSES,
                  deleted=request.query_params.get("deleted"))


@router.get("/new")
def new_patient_page(request: Request, actor: WebActor) -> Response:
    actor.require(Permission.WRITE)
    return render(request, "patient_new.html", fields=_forms.DEMOGRAPHICS, values={}, errors={})


@router.post("/new", dependencies=[CsrfChecked])
async def create_patient(request: Request, actor: WebActor) -> Response:
    values = _forms.values_from_form(_forms.DEMOGRAPHICS, await request.form())
    try:
        patient = PatientCreate.model_validate(_forms.patient_data(values))
        created = await run_in_threadpool(_registry(request).create_patient, actor, patient)
    except ValidationError as exc:
        errors = _forms.errors_of(exc)
    except (ConflictError, InputError) as exc:
        errors = {"pseudonym" if isinstance(exc, ConflictError) else "form": translator(request).message(exc)}
    else:
        return redirect(request, f"/patients/{created.id}")
    return render(request, "patient_new.html", fields=_forms.DEMOGRAPHICS, values=values, errors=errors)


# -- the patient page ---------------------------------------------------------------------------------------
def _body(request: Request, actor: Actor, pid: int, *, template: str = "_patient_body.html",
          skip: tuple[str, ...] = (), focus_search: bool = False, notice: str | None = None,
          form_kind: str | None = None, form_values: dict[str, Any] | None = None,
          form_errors: dict[str, str] | None = None) -> Response:
    """The patient page (or its body, for htmx): the record, and the differential of its phenotype."""
    reg = _registry(request)
    p = reg.get_patient(actor, pid)
    result: Differential | None = None
    suggestions: list[Suggestion] = []
    if actor.can(Permission.DIAGNOSE):
        rdx = services(request).rdx
        patient = reg.patient_for_diagnosis(actor, pid)
        result, suggestions = _case.diagnose(rdx, case_of(patient), skip)
        if result is not None:  # kept in the analysis history (once per knowledge base and record version)
            keep_analysis(reg, actor, patient, result, rdx.kb)
    items = {kind: [_forms.item_values(kind, it) for it in getattr(p, kind)] for kind in _forms.ITEMS}
    groups = _case.by_system(services(request).rdx.kb.ontology, p.phenotypic_features)
    return render(request, template, p=p, result=result, suggestions=suggestions, skip=skip, items=items, groups=groups,
                  summary=_summary.summary(p), patient_genes=sorted({f.gene_symbol for f in p.genetic_findings if f.gene_symbol}),
                  item_fields=_forms.ITEMS, demographics=_forms.DEMOGRAPHICS, demo_values=_demo_values(p),
                  focus_search=focus_search, notice=notice, form_kind=form_kind, form_values=form_values or {},
                  form_errors=form_errors or {}, case_url=f"/patients/{pid}/case")


def _demo_values(p: Any) -> dict[str, Any]:
    values = {f.name: getattr(p, f.name, None) for f in _forms.DEMOGRAPHICS if not f.identity}
    if p.identity is not None:
        values.update({f.name: getattr(p.identity, f.name) for f in _forms.DEMOGRAPHICS if f.identity})
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items() if v is not None}


@router.get("/{pid}")
def patient_page(request: Request, pid: int, actor: WebActor) -> Response:
    return _body(request, actor, pid, template="patient.html")


def _save(request: Request, actor: Actor, pid: int, form: Any, **changes: Any) -> str | None:
    """Save a change with the version the page showed; on a conflict say so (the caller re-shows the record)."""
    try:
        version = int(str(form.get("version") or ""))
    except ValueError:
        raise InputError(Message("the form did not say which version of the record it shows; reload the page.",
                                 "patient.no_version")) from None
    try:
        _registry(request).update_patient(actor, pid, PatientUpdate(version=version, **changes))
    except ConflictError:
        return "notice.conflict"
    return None


def _edit_case(request: Request, actor: WebActor, pid: int, form: Any) -> Response:
    p = _registry(request).get_patient(actor, pid)
    edit = _case.apply(services(request).rdx, tuple(p.phenotypic_features), form)
    notice = _save(request, actor, pid, form, phenotypic_features=list(edit.features)) if edit.changed else None
    return _body(request, actor, pid, skip=edit.skip, focus_search=edit.focus_search, notice=notice)


@router.post("/{pid}/case", dependencies=[CsrfChecked])
async def edit_case(request: Request, pid: int, actor: WebActor) -> Response:
    return await run_in_threadpool(_edit_case, request, actor, pid, await request.form())


def _edit_items(request: Request, actor: Actor, pid: int, kind: str, form: Any, remove: int | None) -> Response:
    if kind not in _forms.ITEMS:
        raise NotFoundError(f"no section {kind!r} on the patient page.")
    p = _registry(request).get_patient(actor, pid)
    items = list(getattr(p, kind))
    if remove is not None:
        if not 0 <= remove < len(items):
            raise InputError(Message("that entry is no longer there; the page shows the current record.",
                                     "patient.entry_gone"))
        del items[remove]
    else:
        values = _forms.values_from_form(_forms.ITEMS[kind], form)
        t = translator(request)
        errors = {k: t.message(v) for k, v in _forms.item_errors(kind, values).items()}
        try:
            if not errors:
                items.append(CHILD_SCHEMAS[kind].model_validate(_forms.item_data(kind, values)))
        except ValidationError as exc:
            errors = _forms.errors_of(exc)
        if errors:  # show the form again, with what was typed and what is wrong
            return _body(request, actor, pid, form_kind=kind, form_values=values, form_errors=errors)
    return _body(request, actor, pid, notice=_save(request, actor, pid, form, **{kind: items}))


@router.post("/{pid}/items/{kind}", dependencies=[CsrfChecked])
async def add_item(request: Request, pid: int, kind: str, actor: WebActor) -> Response:
    return await run_in_threadpool(_edit_items, request, actor, pid, kind, await request.form(), None)


@router.post("/{pid}/items/{kind}/{index}/remove", dependencies=[CsrfChecked])
async def remove_item(request: Request, pid: int, kind: str, index: int, actor: WebActor) -> Response:
    return await run_in_threadpool(_edit_items, request, actor, pid, kind, await request.form(), index)


def _edit_demographics(request: Request, actor: Actor, pid: int, form: Any) -> Response:
    values = _forms.values_from_form(_forms.DEMOGRAPHICS, form)
    try:
        notice = _save(request, actor, pid, form, **_forms.patient_data(values))
    except ValidationError as exc:
        return _body(request, actor, pid, form_kind="demographics", form_values=values, form_errors=_forms.errors_of(exc))
    except (ConflictError, InputError) as exc:  # a pseudonym that is taken or left empty
        return _body(request, actor, pid, form_kind="demographics", form_values=values, form_errors={"pseudonym": translator(request).message(exc)})
    return _body(request, actor, pid, notice=notice or "notice.saved")


@router.post("/{pid}/demographics", dependencies=[CsrfChecked])
async def edit_demographics(request: Request, pid: int, actor: WebActor) -> Response:
    return await run_in_threadpool(_edit_demographics, request, actor, pid, await request.form())


def _record(request: Request, actor: Actor, pid: int, form: Any) -> Response:
    """Record a disease of the differential as a suspected or confirmed diagnosis (or change its status)."""
    status = str(form.get("status") or "")
    ids = str(form.get("disease_ids") or "").split()
    if status not in ("suspected", "confirmed") or not ids:
        raise InputError(Message("choose 'suspected' or 'confirmed' for a disease of the differential.",
                                 "patient.diagnosis_status"))
    preferred = next((i for p in ("ORPHA:", "OMIM:") for i in ids if i.startswith(p)), ids[0])
    diagnoses = list(_registry(request).get_patient(actor, pid).diagnoses)
    for n, d in enumerate(diagnoses):
        if d.disease_id in ids:
            diagnoses[n] = d.model_copy(update={"status": status})
            break
    else:
        diagnoses.append(Diagnosis.model_validate(
            {"disease_id": preferred, "label": str(form.get("label") or "") or None, "status": status, "basis": "clinical"}))
    return _body(request, actor, pid, notice=_save(request, actor, pid, form, diagnoses=diagnoses) or "notice.recorded")


@router.post("/{pid}/record", dependencies=[CsrfChecked])
async def record_diagnosis(request: Request, pid: int, actor: WebActor) -> Response:
    return await run_in_threadpool(_record, request, actor, pid, await request.form())


@router.post("/{pid}/delete", dependencies=[CsrfChecked])
def delete_patient(request: Request, pid: int, actor: WebActor, pseudonym: Annotated[str, Form()] = "",
                   version: Annotated[int | None, Form()] = None) -> Response:
    """Delete the version the page showed (409 if someone saved since); the list then says whom (the name goes into
    the URL encoded: whatever a stored pseudonym holds cannot break the redirect's header)."""
    _registry(request).delete_patient(actor, pid, version=version)
    return redirect(request, "/patients?" + urlencode({"deleted": pseudonym}))


@router.get("/{pid}/history")
def history(request: Request, pid: int, actor: WebActor) -> Response:
    revisions = _registry(request).history(actor, pid)
    changed: list[list[str]] = []
    before: dict[str, Any] = {}
    for r in revisions:
        keys = sorted(k for k in set(r.snapshot) | set(before)
                      if k not in ("version", "updated_by", "deleted_at") and r.snapshot.get(k) != before.get(k))
        changed.append(keys if before else [])
        before = r.snapshot
    return render(request, "_history.html", revisions=list(zip(revisions, changed))[::-1])


@router.get("/{pid}/audit")
def patient_audit(request: Request, pid: int, actor: WebActor, offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """Who did what with this patient's record (newest first, a page at a time): reads, the lists and exports
    that showed it, changes, refused attempts."""
    actor.require(Permission.AUDIT)
    reg = _registry(request)
    p = reg.get_patient(actor, pid)
    page = reg.audit_page(actor, patient_id=pid, offset=offset, limit=AUDIT_PAGE)
    return render(request, "patient_audit.html", p=p, page=page, page_size=AUDIT_PAGE)


@router.get("/{pid}/similar")
def similar(request: Request, pid: int, actor: WebActor) -> Response:
    """Patients like this one: the registry's most similar other patients (never its family), with why."""
    found = services(request).matcher.similar(actor, pid, top=SIMILAR_SHOWN)
    return render(request, "patient_similar.html", found=found)


@router.get("/{pid}/report")
def report(request: Request, pid: int, actor: WebActor) -> Response:
    """The case report to print and sign (one to three A4 pages; the full evidence stays on the patient page)."""
    return render(request, "report.html", **_report.values(request, actor, pid))


@router.get("/{pid}/report.pdf")
def report_pdf(request: Request, pid: int, actor: WebActor) -> Response:
    """The same report as a PDF."""
    return _report.pdf_response(request, actor, pid)
