"""Referral use cases shared by the API and the workbench: a status change (a submission runs the differential at
once and keeps it with the referral; a conclusion is issued as a PDF, kept with it), and attachments: their type told from the bytes (never the name), one size
limit (``RAREDX_MAX_ATTACHMENT_MB``), kept outside the database under their SHA-256 in the attachments directory
(``RAREDX_ATTACHMENTS_DIR``), written atomically, and given back only to users who may see the referral."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import logging
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from raredx.app._conclusion import Centre, issue_conclusion
from raredx.config import PRIVATE_FILE_MODE, private_dir
from raredx.core import RareDx
from raredx.errors import InputError, Message
from raredx.io import case_from_features
from raredx.registry import Actor, Registry
from raredx.registry.errors import NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError
from raredx.registry.schemas import AttachmentPublic, ReferralDifferential, ReferralPublic

log = logging.getLogger(__name__)

CHUNK = 1 << 20
TOP = 10  # diseases kept with a referral's differential
KINDS = {  # the kinds of attachment taken, with the media type each is served as
    "pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg", "vcf": "text/plain; charset=utf-8",
    "vcf.gz": "application/gzip", "csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ACCEPTED = "a PDF, a PNG or JPEG image, a VCF (plain or bgzipped), or a lab table (CSV, TSV or XLSX)"


# -- the workflow -----------------------------------------------------------------------------------------------------
def differential_of(rdx: RareDx, referral: ReferralPublic) -> ReferralDifferential:
    """The differential of a referral's phenotype (with the patient's sex and age), as it is kept with the referral;
    without an observed term there is none, and ``note`` says so."""
    kb = rdx.kb
    now = dt.datetime.now(dt.UTC)
    base = {"made_at": now, "kb_version": kb.version[:300], "kb_fingerprint": kb.fingerprint}
    observed = [t for t in referral.phenotype if not t.excluded]
    if not observed:
        return ReferralDifferential(**base, note="no observed phenotype term: no differential was made. Add HPO terms "
                                                 "and the experts can run it from the workbench.")
    patient = referral.patient
    age = None
    if patient.date_of_birth is not None:
        years = max(0, (now.date() - patient.date_of_birth).days // 365)
        age = {"age": {"iso8601duration": f"P{years}Y"}}
    case = case_from_features(((t.hpo_id, t.excluded, None) for t in referral.phenotype), sex=patient.sex, age=age,
                              id=f"referral-{referral.id}")
    try:
        result = rdx.diagnose(case, top=TOP, strict=False, suggestions=5)
    except InputError as exc:  # e.g. only terms outside the phenotypic abnormalities
        return ReferralDifferential(**base, note=f"no differential: {exc}")
    return ReferralDifferential(**base, result=result.to_dict())


def transition_referral(rdx: RareDx, registry: Registry, actor: Actor, referral_id: int, to: str, *, version: int,
                        note: str | None = None, patient_id: int | None = None, create_patient: bool = False,
                        attachments: AttachmentStore | None = None, language: str | None = None,
                        centre: Centre | None = None) -> ReferralPublic:
    """Move a referral to ``to`` (see :data:`raredx.registry.referrals.TRANSITIONS`); a submission (or a
    resubmission after a return for information) first checks that it is allowed, then runs the differential and
    keeps it with the referral. Concluding first checks, then renders the conclusion's PDF in its language (the
    conclusion's ``language``, else ``language``, else Russian) and keeps it in ``attachments``: if that fails the
    referral is not concluded (:class:`raredx.app.ConclusionNotIssued`), and if the status change fails the PDF is
    removed again."""
    differential = None
    if to == "submitted":
        differential = differential_of(rdx, registry.check_transition(actor, referral_id, to))
    if to == "concluded":
        referral = registry.check_transition(actor, referral_id, to)
        if referral.conclusion is not None and referral.version == version:  # else the registry says what is wrong
            if attachments is None:
                raise ValueError("concluding a referral needs the attachments store, where its PDF is kept")
            pdf, new = issue_conclusion(registry, attachments, rdx.labels, actor, referral, language=language,
                                        centre=centre or Centre())
            try:
                return registry.transition(actor, referral_id, to, version=version, note=note, conclusion_pdf=pdf)
            except BaseException:
                if new and not registry.attachment_in_use(pdf.sha256):
                    attachments.path_of(pdf.sha256).unlink(missing_ok=True)
                raise
    return registry.transition(actor, referral_id, to, version=version, note=note, differential=differential,
                               patient_id=patient_id, create_patient=create_patient)


# -- attachments ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size: int
    kind: str
    path: Path
    new: bool  # the store did not hold this content before

    @property
    def media_type(self) -> str:
        return KINDS[self.kind]


class AttachmentStore:
    """Attachments on disk: ``root/ab/abcdef...`` (the SHA-256 of the content; the same content is kept once),
    each written to a temporary file in ``root`` and moved into place, so a file is there whole or not at all."""

    def __init__(self, root: Path, max_mb: int) -> None:
        self.root = root
        self.max_mb = max_mb

    def path_of(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise InputError(f"{sha256!r} is not a SHA-256 digest.")
        return self.root / sha256[:2] / sha256

    def store(self, stream: BinaryIO, filename: str) -> StoredFile:
        """Copy ``stream`` in; refuse (leaving nothing) what is empty, larger than the limit or not of a kind taken."""
        private_dir(self.root)
        fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > self.max_mb * 2**20:
                        raise PayloadTooLargeError(Message(
                            f"file: {filename} is larger than {self.max_mb} MiB; send a smaller file (a PDF of the "
                            "pages that matter, a VCF of the region) or raise RAREDX_MAX_ATTACHMENT_MB.",
                            "attachment.too_large", name=filename, mib=self.max_mb))
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise InputError(Message(f"file: {filename or 'the upload'} is empty; choose the file to attach.",
                                         "attachment.empty"))
            kind = sniff(tmp)
            if kind is None:
                raise UnsupportedMediaTypeError(Message(
                    f"file: {filename} is not {ACCEPTED} (its content was checked, not its name); convert it to one of "
                    "them.", "attachment.type", name=filename))
            sha = digest.hexdigest()
            final = self.path_of(sha)
            private_dir(final.parent)
            if final.exists():
                tmp.unlink()
                return StoredFile(sha, size, kind, final, new=False)
            os.chmod(tmp, PRIVATE_FILE_MODE)
            os.replace(tmp, final)
            return StoredFile(sha, size, kind, final, new=True)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def discard(self, stored: StoredFile) -> None:
        """Remove a file stored just now whose record could not be written."""
        if stored.new:
            stored.path.unlink(missing_ok=True)


def sniff(path: Path) -> str | None:
    """The kind of attachment ``path`` holds, from its bytes; ``None`` if it is none of :data:`KINDS`."""
    with path.open("rb") as fh:
        head = fh.read(8192)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x1f\x8b"):
        try:
            with gzip.open(path, "rb") as gz:
                inner = gz.read(64)
        except (OSError, EOFError):
            return None
        return "vcf.gz" if inner.startswith(b"##fileformat=VCF") else None
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError):
            return None
        return "xlsx" if {"[Content_Types].xml", "xl/workbook.xml"} <= names else None
    return _text_kind(head)


def _text_kind(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the end of the head is fine
        if exc.start < len(head) - 4:
            return None
        text = head[:exc.start].decode("utf-8-sig")
    if text.startswith("##fileformat=VCF"):
        return "vcf"
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 1:
        return None
    complete = lines[:-1] if len(lines) > 1 else lines  # the last may be cut
    for sep, kind in (("\t", "tsv"), (",", "csv"), (";", "csv")):
        counts = {line.count(sep) for line in complete}
        if min(counts) >= 1 and len(counts) == 1:
            return kind
    return None


def safe_filename(name: str | None) -> str:
    """The name an attachment is shown and downloaded under: the last part of ``name``, printable, at most 255
    characters ("attachment" when nothing is left)."""
    base = Path((name or "").replace("\\", "/")).name
    clean = "".join(c for c in base if c.isprintable() and c not in '"').strip()
    return clean[-255:] or "attachment"


def attach_file(registry: Registry, store: AttachmentStore, actor: Actor, referral_id: int, stream: BinaryIO,
                filename: str | None) -> AttachmentPublic:
    """Attach an uploaded file to a referral: may ``actor`` (checked before the file is read), then the file kept
    (or refused whole), then its record; if the record fails, a file kept just for it is removed again."""
    registry.check_attach(actor, referral_id)
    name = safe_filename(filename)
    stored = store.store(stream, name)
    try:
        return registry.add_attachment(actor, referral_id, sha256=stored.sha256, filename=name, kind=stored.kind,
                                       media_type=stored.media_type, size=stored.size)
    except BaseException:
        if stored.new and not registry.attachment_in_use(stored.sha256):
            store.discard(stored)
        raise


def attachment_file(registry: Registry, store: AttachmentStore, actor: Actor, referral_id: int,
                    attachment_id: int) -> tuple[AttachmentPublic, Path]:
    """An attachment's record and file, for a user who may see the referral (the registry refuses anyone else)."""
    att = registry.get_attachment(actor, referral_id, attachment_id)
    path = store.path_of(att.sha256)
    if not path.is_file():
        raise NotFoundError(Message(f"the file of attachment {att.id} ({att.filename}) is missing from the "
                                    f"attachments directory {store.root}; restore it from a backup.",
                                    "attachment.missing", id=att.id, name=att.filename))
    return att, path
