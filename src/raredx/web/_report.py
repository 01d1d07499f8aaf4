"""The case report a clinician signs, as a printable page and as a PDF: the contents come from
:func:`raredx.app.case_report`, the PDF from :func:`raredx.app.report_pdf` (one stylesheet, ``static/report.css``,
for both)."""

from __future__ import annotations

from functools import cache, partial
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from raredx.app import CaseReport, case_report, report_pdf
from raredx.app.http import services
from raredx.extract import TermLabels
from raredx.registry import Actor
from raredx.web import _i18n
from raredx.web._render import SECURITY_HEADERS, environment, language, translator
from raredx.web._session import finish


def when(t: _i18n.Translator, value: str | dict[str, Any] | None) -> str:
    """An age or onset in words: an ISO 8601 duration or an HPO onset term (as the engine holds them), or a
    phenopacket TimeElement (as a phenotypic feature's onset is stored)."""
    if isinstance(value, dict):
        value = (value.get("ontologyClass") or {}).get("id") or (value.get("age") or {}).get("iso8601duration")
    if not value or not isinstance(value, str):
        return ""
    if value.startswith("HP:"):
        return t.maybe("onset." + value, value)
    return t.duration(value)


@cache
def stylesheet() -> str:
    return resources.files("raredx.web").joinpath("static", "report.css").read_text(encoding="utf-8")


def values(request: Request, actor: Actor, pid: int) -> dict[str, Any]:
    svc = services(request)
    return {"r": case_report(svc.rdx, svc.registry, actor, pid), "when": partial(when, translator(request))}


def document(r: CaseReport, lang: str, terms: TermLabels, *, demo: bool = False) -> str:
    """The report as a standalone HTML document (no request needed: the command line makes it too)."""
    t = _i18n.Translator(lang)
    return environment().get_template("report_pdf.html").render(
        r=r, t=t, lang=lang, label=lambda term_id, english=None: terms.label(term_id, lang, english),
        when=partial(when, t), demo=demo)


def case_report_pdf(r: CaseReport, lang: str, terms: TermLabels, *, demo: bool = False) -> bytes:
    """The PDF of a case report in ``lang`` (``en`` or ``ru``), the workbench's and ``raredx registry report``'s."""
    return report_pdf(document(r, lang, terms, demo=demo), stylesheet())


def pdf_response(request: Request, actor: Actor, pid: int) -> Response:
    """The report as a PDF, shown in the browser (saved as ``case-report-ID.pdf``)."""
    svc = services(request)
    pdf = case_report_pdf(case_report(svc.rdx, svc.registry, actor, pid), language(request), svc.terms,
                          demo=svc.settings.demo)
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'inline; filename="case-report-{pid}.pdf"',
               "Cache-Control": "no-store"}
    return finish(request, Response(pdf, media_type="application/pdf", headers=headers))
