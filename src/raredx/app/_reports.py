"""The case report a clinician signs (one to three A4 pages): what it holds (:func:`case_report`: the patient,
the leading diseases with the few findings that decided each, what to examine or test next, the knowledge's
versions) and its PDF (:func:`report_pdf`, WeasyPrint over the report's HTML). The workbench renders the HTML;
the full evidence stays there."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from raredx import __version__
from raredx.app._cases import case_of
from raredx.core import RareDx
from raredx.engine import Case, RankedDisease, Suggestion, TermEvidence
from raredx.errors import InputError, RaredxError
from raredx.kb import SourceInfo
from raredx.registry import Actor, PatientPublic, Permission, Registry
from raredx.registry.schemas import Diagnosis, GeneticFinding

TOP = 5  # diseases in the report
KEY_FOR = 5  # findings shown for a disease
KEY_AGAINST = 3  # findings shown against it
SUGGESTIONS = 5
CAUSAL = frozenset({"CAUSATIVE", "CONTRIBUTORY"})
PATHOGENIC = frozenset({"PATHOGENIC", "LIKELY_PATHOGENIC"})


class ReportUnavailable(RaredxError):
    """The PDF cannot be made here (WeasyPrint or Debian's Pango is missing)."""

    http_status = 503


@dataclass(frozen=True, slots=True)
class Candidate:
    """A leading disease and the findings that decided it: those that counted most for it and against it."""

    disease: RankedDisease
    supports: tuple[TermEvidence, ...]
    against: tuple[TermEvidence, ...]
    more_for: int  # findings for it not shown
    recorded: str | None = None  # the status of the patient's diagnosis of this disease, if one is recorded


@dataclass(frozen=True, slots=True)
class RecordedRank:
    """Where a recorded diagnosis that is not among the leading diseases stands in the differential."""

    diagnosis: Diagnosis
    disease: RankedDisease | None  # None: the disease is not in the knowledge base


@dataclass(frozen=True, slots=True)
class CaseReport:
    patient: PatientPublic
    case: Case  # sex, age and onset as the engine read them
    candidates: tuple[Candidate, ...]  # empty without an observed finding or without the right to diagnose
    recorded_elsewhere: tuple[RecordedRank, ...]  # recorded (not ruled-out) diagnoses outside the candidates
    n_ranked: int
    warnings: tuple[str, ...]
    suggestions: tuple[Suggestion, ...]
    genes_to_test: tuple[tuple[str, int], ...]  # (gene, rank of the first candidate it causes), Mendelian genes
    causal_findings: tuple[GeneticFinding, ...]  # causative or (likely) pathogenic
    other_findings: int  # genetic findings not shown
    sources: tuple[SourceInfo, ...]
    kb_fingerprint: str
    raredx_version: str
    made_at: dt.datetime
    made_by: str


def key_evidence(d: RankedDisease, recorded: str | None = None) -> Candidate:
    """The findings that counted most for ``d`` (largest weight first) and most against it."""
    supports = sorted((e for e in d.evidence if e.contribution > 0), key=lambda e: -e.contribution)
    against = sorted((e for e in d.evidence if e.contribution < 0), key=lambda e: e.contribution)
    return Candidate(d, tuple(supports[:KEY_FOR]), tuple(against[:KEY_AGAINST]), max(0, len(supports) - KEY_FOR),
                     recorded)


def is_causal(f: GeneticFinding) -> bool:
    return (f.interpretation_status or "").upper() in CAUSAL or (f.acmg_class or "").upper() in PATHOGENIC


def case_report(rdx: RareDx, registry: Registry, actor: Actor, patient_id: int,
                now: dt.datetime | None = None) -> CaseReport:
    """The report of a stored patient, as ``actor`` may see it (the differential only with the right to diagnose;
    an unknown patient raises :class:`raredx.registry.errors.NotFoundError`)."""
    patient = registry.get_patient(actor, patient_id)
    case = case_of(patient)
    candidates: tuple[Candidate, ...] = ()
    elsewhere: list[RecordedRank] = []
    suggestions: tuple[Suggestion, ...] = ()
    warnings: tuple[str, ...] = ()
    n_ranked = 0
    if actor.can(Permission.DIAGNOSE) and case.observed:
        case = case_of(registry.patient_for_diagnosis(actor, patient_id))
        result = rdx.diagnose(case, top=TOP, strict=False, suggestions=SUGGESTIONS)
        recorded = {d.disease_id: d.status for d in patient.diagnoses}
        candidates = tuple(key_evidence(d, next((recorded[i] for i in d.ids if i in recorded), None))
                           for d in result.diseases[:TOP])
        shown = {i for c in candidates for i in c.disease.ids}
        for dx in patient.diagnoses:
            if dx.status != "ruled_out" and dx.disease_id not in shown:
                elsewhere.append(RecordedRank(dx, _explained(rdx, case, dx.disease_id)))
        suggestions, warnings, n_ranked = result.next_best_phenotypes[:SUGGESTIONS], result.warnings, result.n_ranked
    genes: dict[str, int] = {}
    for c in candidates:
        for g, kind in zip(c.disease.genes, c.disease.gene_associations or ("mendelian",) * len(c.disease.genes)):
            if kind == "mendelian":
                genes.setdefault(g, c.disease.rank)
    causal = tuple(f for f in patient.genetic_findings if is_causal(f))
    return CaseReport(
        patient=patient, case=case, candidates=candidates, recorded_elsewhere=tuple(elsewhere), n_ranked=n_ranked,
        warnings=warnings, suggestions=tuple(suggestions), genes_to_test=tuple(genes.items()), causal_findings=causal,
        other_findings=len(patient.genetic_findings) - len(causal), sources=tuple(rdx.kb.sources),
        kb_fingerprint=rdx.kb.fingerprint, raredx_version=__version__,
        made_at=now or dt.datetime.now(dt.UTC), made_by=actor.username)


def _explained(rdx: RareDx, case: Case, disease_id: str) -> RankedDisease | None:
    try:
        return rdx.explain(case, disease_id, strict=False)
    except InputError:  # not in the knowledge base
        return None


def report_pdf(html: str, stylesheet: str) -> bytes:
    """The PDF of a report's HTML (self-contained: no images or links are fetched) with its stylesheet."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango (Debian's libpango-1.0-0) is not installed
        raise ReportUnavailable(
            f"the PDF cannot be made on this server ({exc}); install raredx with its dependencies and Debian's "
            "libpango-1.0-0 and libpangoft2-1.0-0, or print the HTML report from the browser.") from None

    offline = weasyprint.URLFetcher(allowed_protocols=("data",))  # nothing is fetched from the network or disk
    doc = weasyprint.HTML(string=html, url_fetcher=offline)
    pdf: bytes = doc.write_pdf(stylesheets=[weasyprint.CSS(string=stylesheet, url_fetcher=offline)])
    return pdf
