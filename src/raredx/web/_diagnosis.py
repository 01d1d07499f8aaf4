"""The quick diagnosis (no patient record), HPO term autocomplete and terms from clinical text."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from raredx.app import case_of_features
from raredx.app.http import services
from raredx.errors import InputError, Message
from raredx.extract import LANGUAGES, demographics
from raredx.registry import Permission
from raredx.web import _case
from raredx.web._render import language, render
from raredx.web._session import CsrfChecked, WebActor

router = APIRouter()
MAX_TEXT = 200_000
REFERRAL_PHENOTYPE = "/referrals/phenotype"  # the referral form's phenotype editor (raredx.web._referrals)


def _text_target(target: str) -> tuple[str, str, str]:
    """Where terms accepted from a text go: (URL, the element the answer replaces, the fields sent with them)."""
    if target == REFERRAL_PHENOTYPE:
        return target, "#ref-phenotype-editor", "#case-form, #ref-form"
    if target.startswith("/patients/"):
        return target, "#patient-body", "#case-form"
    return "/diagnose", "#workspace", "#case-form"


def _workspace(request: Request, template: str, features: tuple[Any, ...], skip: tuple[str, ...], sex: str | None,
               focus_search: bool = False) -> Response:
    rdx = services(request).rdx
    result, suggestions = _case.diagnose(rdx, case_of_features(features, sex=sex, id="quick"), skip)
    return render(request, template, features=features, groups=_case.by_system(rdx.kb.ontology, features), skip=skip, sex=sex or "", result=result,
                  suggestions=suggestions, focus_search=focus_search, case_url="/diagnose", p=None)


@router.get("/diagnose")
def quick_page(request: Request, actor: WebActor) -> Response:
    actor.require(Permission.DIAGNOSE)
    return _workspace(request, "diagnose.html", (), (), None)


def _quick_edit(request: Request, form: Any) -> Response:
    rdx = services(request).rdx
    edit = _case.apply(rdx, _case.features_from_form(rdx, form), form)
    sex = str(form.get("sex") or form.get("stated_sex") or "") or None  # chosen, else as the accepted note says
    return _workspace(request, "_workspace.html", edit.features, edit.skip, sex, edit.focus_search)


@router.post("/diagnose", dependencies=[CsrfChecked])
async def quick_edit(request: Request, actor: WebActor) -> Response:
    actor.require(Permission.DIAGNOSE)
    return await run_in_threadpool(_quick_edit, request, await request.form())


@router.get("/terms/suggest")
def suggest(request: Request, _actor: WebActor, q: Annotated[str, Query(max_length=200)] = "") -> Response:
    """Autocomplete options (an ARIA listbox); ``Server-Timing`` says how long the search took."""
    t0 = time.perf_counter()
    hits = services(request).terms.search(q, language(request), 12) if q.strip() else []
    ms = (time.perf_counter() - t0) * 1000
    return render(request, "_options.html", hits=hits, q=q, headers={"Server-Timing": f"search;dur={ms:.2f}"})


@router.post("/text", dependencies=[CsrfChecked])
def from_text(request: Request, actor: WebActor, text: Annotated[str, Form()] = "",
              lang: Annotated[str, Form()] = "auto", target: Annotated[str, Form()] = "/diagnose") -> Response:
    """Find HPO terms in a clinical note; they are shown highlighted, to accept or reject before adding (the referral
    form's too: a referring physician may, without the permission to diagnose)."""
    url, swap, include = _text_target(target)
    if not (url == REFERRAL_PHENOTYPE and actor.can(Permission.REFER)):
        actor.require(Permission.DIAGNOSE)
    if not text.strip():
        raise InputError(Message("the text is empty: paste a clinical note (English or Russian) first.", "text.empty"))
    if len(text) > MAX_TEXT:
        raise InputError(Message(f"the text is longer than {MAX_TEXT:,} characters; paste a shorter part.", "text.too_long",
                                 n=MAX_TEXT))
    if lang not in LANGUAGES:
        raise InputError(Message(f"language {lang!r}: choose one of {', '.join(LANGUAGES)}.", "text.language",
                                 lang=repr(lang), languages=", ".join(LANGUAGES)))
    terms = [t for t in services(request).rdx.extractor.extract(text, lang) if not t.onset]
    return render(request, "_text_terms.html", pieces=_case.highlight(text, terms), terms=terms, stated=demographics(text),
                  target=url, swap=swap, include=include)
