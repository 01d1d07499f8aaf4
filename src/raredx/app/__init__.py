"""The use cases that the interfaces share (``cli``, ``api``, ``web`` -> ``app`` -> ``registry``, ``engine``,
``extract``, ``genomics`` -> ``kb`` -> ``ontology``): the services a server opens once (:class:`Services`),
a bearer token -> the acting user, a stored patient -> the engine's case, and a phenopacket upload (one size
limit, one type check, one message) -> an import report, a phenopacket export (a ZIP or a directory, with
safe file names, never half-written), the case report a clinician signs (its contents and its PDF), and the
referrals' workflow, attachments and issued conclusion (a PDF). The
HTTP shell that the API and the workbench are installed into is :mod:`raredx.app.http`; neither interface
imports the other.
"""

from raredx.app._cases import case_for_patient, case_of, case_of_features
from raredx.app._conclusion import (
    Centre,
    ConclusionDocument,
    ConclusionNotIssued,
    conclusion_document,
    conclusion_file,
    conclusion_filename,
    conclusion_pdf,
)
from raredx.app._exports import write_export, write_zip
from raredx.app._referrals import (
    AttachmentStore,
    StoredFile,
    attach_file,
    attachment_file,
    differential_of,
    transition_referral,
)
from raredx.app._reports import Candidate, CaseReport, RecordedRank, ReportUnavailable, case_report, report_pdf
from raredx.app._services import DEMO_BANNER, Services, signing_key
from raredx.app._similar import RegistryMatcher, SimilarPatients, match_patient
from raredx.app._uploads import KeptUploads, discard_upload, import_upload, store_upload

__all__ = [
    "DEMO_BANNER",
    "AttachmentStore",
    "Candidate",
    "CaseReport",
    "Centre",
    "ConclusionDocument",
    "ConclusionNotIssued",
    "KeptUploads",
    "RecordedRank",
    "RegistryMatcher",
    "ReportUnavailable",
    "Services",
    "SimilarPatients",
    "StoredFile",
    "attach_file",
    "attachment_file",
    "case_for_patient",
    "case_of",
    "case_of_features",
    "case_report",
    "conclusion_document",
    "conclusion_file",
    "conclusion_filename",
    "conclusion_pdf",
    "differential_of",
    "discard_upload",
    "import_upload",
    "match_patient",
    "report_pdf",
    "signing_key",
    "store_upload",
    "transition_referral",
    "write_export",
    "write_zip",
]
