"""The consilium's conclusion as the document the centre issues (docs/referrals.md): one to three A4 pages in
Russian or English with the centre's header, the referral, the patient, the question, the phenotype, the
diagnoses, the conclusion and its recommendations, the consilium, the expert who issued it and the date, and the
decision-support disclaimer. :func:`conclusion_document` renders its HTML (``templates/conclusion_pdf.html``, the
translations of :mod:`raredx.i18n`), :func:`raredx.app.report_pdf` makes the PDF, as for the case report.
:func:`raredx.app.transition_referral` issues it when a referral is concluded; :func:`conclusion_file` gives it back."""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape

from raredx.app._reports import report_pdf
from raredx.config import Settings
from raredx.errors import Message, RaredxError
from raredx.extract import TermLabels
from raredx.i18n import LANGUAGES, Translator
from raredx.registry import Actor, Registry
from raredx.registry.errors import NotFoundError
from raredx.registry.schemas import Conclusion, ConclusionPdf, ReferralPublic

if TYPE_CHECKING:
    from raredx.app._referrals import AttachmentStore

log = logging.getLogger(__name__)
API_LANGUAGE = "ru"  # a conclusion issued through the API without a language: the centre's working language


class ConclusionNotIssued(RaredxError):
    """The conclusion's PDF could not be made or kept: the referral is not concluded."""

    http_status = 503


@dataclass(frozen=True, slots=True)
class Centre:
    """The issuer atop the document: the centre's name (``None``: the default name in the document's language)
    and address (``RAREDX_CENTRE_NAME``, ``RAREDX_CENTRE_ADDRESS``); ``demo``: the server runs in demo mode, and
    the document says so."""

    name: str | None = None
    address: str | None = None
    demo: bool = False

    @classmethod
    def of(cls, settings: Settings) -> Centre:
        return cls(settings.centre_name, settings.centre_address, settings.demo)


@dataclass(frozen=True, slots=True)
class ConclusionDocument:
    """What the document holds: the referral as the issuing expert sees it, its conclusion, the language, when and
    by whom it is issued, the centre, and the referring organisation's name."""

    referral: ReferralPublic
    conclusion: Conclusion
    language: str
    issued_at: dt.datetime
    issued_by: str
    centre: Centre
    organisation: str | None = None


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("raredx.app", "templates"), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


@cache
def stylesheet() -> str:
    return resources.files("raredx.app").joinpath("templates", "conclusion.css").read_text(encoding="utf-8")


def conclusion_document(doc: ConclusionDocument, terms: TermLabels) -> str:
    """The conclusion as a standalone HTML document in ``doc.language`` (HPO terms named in it)."""
    if doc.language not in LANGUAGES:
        raise ValueError(f"language: {doc.language!r} is not one of {', '.join(LANGUAGES)}.")
    return _environment().get_template("conclusion_pdf.html").render(
        d=doc, r=doc.referral, c=doc.conclusion, t=Translator(doc.language), lang=doc.language,
        label=lambda term_id, english=None: terms.label(term_id, doc.language, english))


def conclusion_pdf(doc: ConclusionDocument, terms: TermLabels) -> bytes:
    return report_pdf(conclusion_document(doc, terms), stylesheet())


def issue_conclusion(registry: Registry, store: AttachmentStore, terms: TermLabels, actor: Actor, referral: ReferralPublic,
                     *, language: str | None, centre: Centre) -> tuple[ConclusionPdf, bool]:
    """Render the conclusion of ``referral`` and keep its PDF in ``store``: its record, and whether the file is new
    (to remove it again if the status change fails). A failure raises :class:`ConclusionNotIssued`, leaving nothing."""
    conclusion = referral.conclusion
    if conclusion is None:
        raise ValueError("the referral has no conclusion to issue")
    lang = conclusion.language or language or API_LANGUAGE
    issued_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    organisation = None
    if referral.organisation_id is not None:
        organisation = next((o.name for o in registry.list_organisations(actor) if o.id == referral.organisation_id),
                            None)
    doc = ConclusionDocument(referral, conclusion, lang, issued_at, actor.username, centre, organisation)
    try:
        pdf = conclusion_pdf(doc, terms)
        stored = store.store(io.BytesIO(pdf), f"conclusion-{referral.id}-{lang}.pdf")
    except Exception as exc:  # whatever the renderer or the disk raised (logged): the referral stays in review
        log.exception("the conclusion of referral %s could not be issued", referral.id)
        reason = str(exc.args[0]) if len(exc.args) == 1 else type(exc).__name__
        raise ConclusionNotIssued(Message(
            f"referral {referral.id} was not concluded: the PDF of its conclusion could not be made or kept "
            f"({reason}). It stays in review with the conclusion as written; try again, and if it fails again tell "
            "the administrator (the server needs WeasyPrint with Debian's Pango, and room in the attachments "
            "directory).", "referral.pdf_failed", id=referral.id, reason=reason)) from None
    record = ConclusionPdf(sha256=stored.sha256, size=stored.size, language=lang, issued_at=issued_at,
                           issued_by=actor.username)
    return record, stored.new


def conclusion_file(registry: Registry, store: AttachmentStore, actor: Actor,
                    referral_id: int) -> tuple[ConclusionPdf, Path]:
    """The issued conclusion's record and PDF file, for a user who may see the referral (the registry refuses
    anyone else, and answers 404 while none is issued)."""
    pdf = registry.conclusion_pdf(actor, referral_id)
    path = store.path_of(pdf.sha256)
    if not path.is_file():
        raise NotFoundError(Message(f"the PDF of the conclusion of referral {referral_id} is missing from the "
                                    f"attachments directory {store.root}; restore it from a backup.",
                                    "referral.conclusion_missing", id=referral_id))
    return pdf, path


def conclusion_filename(referral_id: int, pdf: ConclusionPdf) -> str:
    """The name the conclusion downloads under: ``conclusion-12-ru.pdf``."""
    return f"conclusion-{referral_id}-{pdf.language}.pdf"
