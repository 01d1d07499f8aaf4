"""GA4GH Matchmaker Exchange (MME API v1.0 and v1.1): the MME patient and its conversion from and to a registry
patient, the server side (a peer's match request scored by :class:`raredx.match.MatchIndex` over the patients whose
consent allows matchmaking) and the client side (a patient sent to every enabled peer). The API router
(``/mme/...``), the workbench and ``raredx mme`` all use this module; ``docs/mme.md`` describes the exchange.

What leaves the centre is the MME patient only: a pseudonymous id (an HMAC of the registry id, so it says
nothing of the patient and never changes), the centre's contact, the observed and excluded HPO terms, the genes of
the genetic findings, sex and age of onset. Never a name, a pseudonym, a date or a variant.

>>> to_case(MmePatient.model_validate({"id": "p1", "contact": {"name": "A", "href": "mailto:a@b.org"},
...     "features": [{"id": "HP:0001250"}, {"id": "HP:0000365", "observed": "no"}],
...     "genomicFeatures": [{"gene": {"id": "SCN1A"}}]})).observed
('HP:0001250',)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from raredx import __version__
from raredx.app._cases import case_of
from raredx.app._similar import match_patient
from raredx.config import Settings
from raredx.core import RareDx
from raredx.engine import Case
from raredx.errors import InputError, Message
from raredx.genomics import Genotype
from raredx.match import MatchIndex, SharedTerm
from raredx.ontology import onset as onsets
from raredx.registry import Actor, PatientPublic, Registry
from raredx.registry.schemas import PeerPublic, PeerTarget

log = logging.getLogger(__name__)

VERSIONS = ("1.0", "1.1")
LATEST = VERSIONS[-1]
MEDIA_TYPE = "application/vnd.ga4gh.matchmaker.v{}+json"
ACCEPTED = tuple(MEDIA_TYPE.format(v) for v in VERSIONS)
_MEDIA = re.compile(r"^\s*application/vnd\.ga4gh\.matchmaker\.v(\d+\.\d+)\+json\s*(?:;.*)?$", re.IGNORECASE)
HUMAN = "NCBITaxon:9606"
MAX_RESPONSE_BYTES = 10 * 2**20  # what the client reads of a peer's answer at most
DISCLAIMER = ("The data in Matchmaker Exchange are provided for research use only; a match is a hint to contact the "
              "other centre, not a diagnosis. Do not use them to identify patients.")
_ONSET_OF_BIN = (onsets.ANTENATAL, onsets.NEONATAL, onsets.INFANTILE, onsets.CHILDHOOD, onsets.JUVENILE,
                 onsets.YOUNG_ADULT, onsets.ADULT)


# -- the MME schema (the parts raredx reads and writes; other fields of a peer are ignored) ---------------------
class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class MmeContact(_Lenient):
    name: str = Field(min_length=1, max_length=255)
    institution: str | None = Field(default=None, max_length=255)
    href: str = Field(min_length=3, max_length=500, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
    email: str | None = Field(default=None, max_length=255)
    roles: list[str] | None = Field(default=None, max_length=10)


class MmeFeature(_Lenient):
    id: str = Field(pattern=r"^HP:\d{7}$")
    label: str | None = Field(default=None, max_length=500)
    observed: Literal["yes", "no"] = "yes"
    ageOfOnset: str | None = Field(default=None, max_length=100)


class MmeGene(_Lenient):
    id: str = Field(min_length=1, max_length=100)


class MmeGenomicFeature(_Lenient):
    gene: MmeGene
    zygosity: int | None = Field(default=None, ge=0, le=2)


class MmePatient(_Lenient):
    id: str = Field(min_length=1, max_length=255)
    label: str | None = Field(default=None, max_length=255)
    contact: MmeContact
    species: str | None = Field(default=None, max_length=100)
    sex: Literal["FEMALE", "MALE", "OTHER", "MIXED_SAMPLE", "NOT_APPLICABLE"] | None = None
    ageOfOnset: str | None = Field(default=None, max_length=100)
    features: list[MmeFeature] = Field(default=[], max_length=1000)
    genomicFeatures: list[MmeGenomicFeature] = Field(default=[], max_length=200)

    @model_validator(mode="after")
    def _something_to_match(self) -> MmePatient:
        if not self.features and not self.genomicFeatures:
            raise ValueError("give features or genomicFeatures (at least one of the two)")
        return self


class MmeRequest(_Lenient):
    patient: MmePatient
    disclaimer: str | None = Field(default=None, max_length=20000)
    terms: str | None = Field(default=None, max_length=20000)


class MmeScore(_Lenient):
    patient: float = Field(ge=0.0, le=1.0)


class MmeResult(_Lenient):
    score: MmeScore
    patient: MmePatient


class MmeResponse(_Lenient):
    results: list[MmeResult] = Field(max_length=1000)
    disclaimer: str | None = Field(default=None, max_length=20000)
    terms: str | None = Field(default=None, max_length=20000)


class MmeError(InputError):
    """A request the MME server refuses, with the status it answers (the message names the field or header)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = status
        self.message = message


class MatchmakingNotAllowed(InputError):
    """The patient's consent does not allow matchmaking, so it is not sent anywhere."""

    http_status = 409


def validation_message(exc: ValidationError, prefix: str = "") -> str:
    """A pydantic error as one line naming each field (``patient.features.0.id: ...``), at most five of them."""
    parts = []
    for e in exc.errors()[:5]:
        where = ".".join(str(p) for p in e.get("loc", ())) or "body"
        parts.append(f"{prefix}{where}: {str(e.get('msg', 'invalid')).removeprefix('Value error, ')}")
    return "; ".join(parts)


def parse_request(body: bytes) -> MmeRequest:
    """A match request's body, checked (raises :class:`MmeError` 400 naming the field)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MmeError(400, f"the body is not JSON ({exc}); send an MME match request object.") from None
    if not isinstance(data, dict):
        raise MmeError(400, "body: expected a JSON object with a 'patient'.")
    try:
        return MmeRequest.model_validate(data)
    except ValidationError as exc:
        raise MmeError(400, "malformed match request: " + validation_message(exc)) from None


def negotiate(content_type: str | None, accept: str | None) -> str:
    """The MME version to answer in: that of ``Content-Type`` (v1.0 or v1.1; plain ``application/json`` counts as
    the latest), which ``Accept``, when it names an MME version, must allow. Raises :class:`MmeError` 406 for
    another version and 415 for another media type."""
    ct = (content_type or "").strip()
    m = _MEDIA.match(ct)
    if m:
        version = m.group(1)
        if version not in VERSIONS:
            raise MmeError(406, f"unsupported API version v{version} (Content-Type); this server speaks "
                                f"{', '.join('v' + v for v in VERSIONS)}.")
    elif ct.split(";")[0].strip().lower() == "application/json":
        version = LATEST
    else:
        raise MmeError(415, f"Content-Type {ct or '(none)'!r}: send {MEDIA_TYPE.format(LATEST)}.")
    wanted = [w.group(1) for part in (accept or "").split(",") if (w := _MEDIA.match(part.strip()))]
    if wanted and version not in wanted:
        supported = [w for w in wanted if w in VERSIONS]
        if not supported:
            raise MmeError(406, f"unsupported API version {', '.join('v' + w for w in wanted)} (Accept); this server "
                                f"speaks {', '.join('v' + v for v in VERSIONS)}.")
        version = max(supported)
    return version


# -- conversion ------------------------------------------------------------------------------------------------
def to_case(patient: MmePatient) -> Case:
    """An MME patient as the engine's case: observed and excluded terms, sex, onset, genes (by symbol)."""
    genes = tuple(dict.fromkeys(g.gene.id.strip() for g in patient.genomicFeatures if g.gene.id.strip()))
    onset = patient.ageOfOnset if patient.ageOfOnset and patient.ageOfOnset.startswith("HP:") else None
    return Case(observed=tuple(f.id for f in patient.features if f.observed == "yes"),
                excluded=tuple(f.id for f in patient.features if f.observed == "no"),
                sex=patient.sex.lower() if patient.sex in ("MALE", "FEMALE") else None,  # type: ignore[arg-type]
                onset=onset, id=patient.id, genotype=Genotype(genes=genes) if genes else None)


def onset_term(value: str | None) -> str | None:
    """An onset (an HPO onset term or an ISO 8601 age) as the HPO onset term MME sends."""
    if not value:
        return None
    if value.startswith("HP:"):
        return value
    years = onsets.parse_iso_age(value)
    return None if years is None else _ONSET_OF_BIN[onsets.age_bin(years)]


def contact_of(settings: Settings) -> MmeContact:
    """The centre's contact (``RAREDX_MME_CONTACT_NAME``, ``_INSTITUTION``, ``_EMAIL``, ``_HREF``); raises :class:`InputError` saying what to set."""
    if not settings.mme_contact_name or not (settings.mme_contact_email or settings.mme_contact_href):
        raise InputError(Message("Matchmaker Exchange needs the centre's contact: set RAREDX_MME_CONTACT_NAME and "
                                 "RAREDX_MME_CONTACT_EMAIL (or RAREDX_MME_CONTACT_HREF).", "mme.no_contact"))
    href = settings.mme_contact_href or f"mailto:{settings.mme_contact_email}"
    return MmeContact(name=settings.mme_contact_name, institution=settings.mme_contact_institution, href=href,
                      email=settings.mme_contact_email, roles=["clinician"])


def mme_id(key: str, patient_id: int) -> str:
    """The id a patient has in MME: an HMAC of its registry id under the server's key (stable, says nothing)."""
    return hmac.new(key.encode(), f"mme-patient:{patient_id}".encode(), hashlib.sha256).hexdigest()[:32]


def mme_patient(patient: PatientPublic, *, key: str, contact: MmeContact, labels: Any = None) -> MmePatient:
    """What a registry patient is in MME (see the module docstring: no identity, no pseudonym, no date)."""
    sex = {"MALE": "MALE", "FEMALE": "FEMALE", "OTHER_SEX": "OTHER"}.get(patient.sex or "")
    features = []
    for f in patient.phenotypic_features:
        label = f.label or (labels(f.hpo_id) if labels else None)
        features.append(MmeFeature(id=f.hpo_id, label=label, observed="no" if f.excluded else "yes"))
    genes = dict.fromkeys(g.gene_symbol for g in patient.genetic_findings if g.gene_symbol)
    return MmePatient(id=mme_id(key, patient.id), contact=contact, species=HUMAN, sex=sex,
                      ageOfOnset=onset_term(case_of(patient).onset), features=features,
                      genomicFeatures=[MmeGenomicFeature(gene=MmeGene(id=g)) for g in genes if g])


def media_type(version: str) -> str:
    return MEDIA_TYPE.format(version)


# -- the client's view of a peer's answer ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PeerMatch:
    """One patient a peer returned: its score, the other centre's contact, what it shares with ours."""

    score: float
    patient_id: str
    contact: MmeContact
    shared_terms: tuple[SharedTerm, ...]
    shared_genes: tuple[str, ...]
    n_features: int

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "patient_id": self.patient_id, "contact": self.contact.model_dump(exclude_none=True),
                "shared_terms": [{"term_id": t.term_id, "label": t.label} for t in self.shared_terms],
                "shared_genes": list(self.shared_genes), "n_features": self.n_features}


@dataclass(frozen=True, slots=True)
class PeerAnswer:
    """A peer's answer to one request: its matches, or why there are none (the error it gave, or ours)."""

    peer: str
    matches: tuple[PeerMatch, ...] = ()
    error: str | None = None
    disclaimer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"peer": self.peer, "error": self.error, "disclaimer": self.disclaimer,
                "matches": [m.to_dict() for m in self.matches]}


@dataclass(frozen=True, slots=True)
class PeerSearch:
    """A patient sent to every enabled peer, and what each answered."""

    patient_id: int
    pseudonym: str
    answers: tuple[PeerAnswer, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"patient_id": self.patient_id, "pseudonym": self.pseudonym,
                "answers": [a.to_dict() for a in self.answers]}


class Matchmaker:
    """This centre in the Matchmaker Exchange: it answers peers' match requests over its consenting patients (the
    index kept until the registry changes) and sends its own patients to the peers."""

    def __init__(self, rdx: RareDx, registry: Registry, settings: Settings, key: str) -> None:
        self.rdx, self.registry, self.settings, self._key = rdx, registry, settings, key
        self._lock = threading.Lock()
        self._built: tuple[tuple[int, str], MatchIndex] | None = None

    # -- the server --------------------------------------------------------------------------------
    def index(self) -> MatchIndex:
        """The match index of the consenting patients, rebuilt when the registry changed."""
        generation = self.registry.match_generation()
        with self._lock:
            if self._built is None or self._built[0] != generation:
                patients = self.registry.patients_for_matchmaking()
                problems: list[tuple[str, str]] = []  # patients without observed phenotypes cannot be matched
                index = MatchIndex.build(self.rdx.engine, [match_patient(p) for p in patients], problems=problems)
                self._built = (generation, index)
            return self._built[1]

    def _label(self, term_id: str) -> str | None:
        o = self.rdx.engine.ontology
        i = o.index(term_id)
        return o.labels[i] if i is not None else None

    def match(self, peer: PeerPublic, request: MmeRequest) -> tuple[dict[str, Any], list[int]]:
        """The answer to a peer's request (the MME response JSON) and the registry ids of the patients in it. Scores
        are the match score over its most it could be, in [0, 1]; those under ``RAREDX_MME_MIN_SCORE`` are left
        out, at most ``RAREDX_MME_TOP`` kept. Genes count when the request has genomic features."""
        contact = contact_of(self.settings)
        index = self.index()
        case = to_case(request.patient)
        if case.onset and case.onset not in self.rdx.engine.ontology:  # a peer's onset term this release lacks
            case = replace(case, onset=None)
        genes = case.genotype.genes if case.genotype else ()
        scored: list[tuple[float, int]] = []
        if index.n:
            try:
                q = index.query_vector(case)
            except InputError:  # no observed term this knowledge base knows: match on the genes alone
                q = None
            if q is not None:
                w = index.weights
                most = 1.0 + w.differential + max(w.onset, 0.0) + (w.genes * len(q.genes) if q.genes else 0.0)
                for m in index.search(q, top=self.settings.mme_top, with_genes=bool(q.genes)):
                    scored.append((min(1.0, max(0.0, m.score / most)), int(m.key)))
            elif genes:
                hits = np.zeros(index.n)
                for g in genes:
                    rows = index.gene_rows.get(g)
                    if rows is not None:
                        hits[rows] += 1.0
                for r in np.argsort(-hits, kind="stable")[: self.settings.mme_top]:
                    if hits[r] > 0:
                        scored.append((float(hits[r]) / len(genes), int(index.patients[int(r)].key)))
        kept = [(s, pid) for s, pid in scored if s >= self.settings.mme_min_score]
        # read again, just before they go: a consent withdrawn since the index was built is never shared
        by_id = {p.id: p for p in self.registry.patients_for_matchmaking([pid for _, pid in kept])} if kept else {}
        results = []
        returned: list[int] = []
        for s, pid in kept:
            p = by_id.get(pid)
            if p is None:  # consent withdrawn since the index was built: never returned
                continue
            patient = mme_patient(p, key=self._key, contact=contact, labels=self._label)
            results.append({"score": {"patient": round(s, 4)}, "patient": patient.model_dump(exclude_none=True)})
            returned.append(pid)
        return {"results": results, "disclaimer": DISCLAIMER}, returned

    def heartbeat(self) -> dict[str, Any]:
        return {"heartbeat": {"production": not self.settings.demo, "version": __version__, "accept": list(ACCEPTED)},
                "disclaimer": DISCLAIMER}

    def metrics(self) -> dict[str, Any]:
        """The MME metrics of this node: what it shares (consenting patients only) and what it answered."""
        import datetime as dt

        patients = self.registry.patients_for_matchmaking()
        genes = [g.gene_symbol for p in patients for g in p.genetic_findings if g.gene_symbol]
        features = [f.hpo_id for p in patients for f in p.phenotypic_features if not f.excluded]
        feature_sets = {frozenset(f.hpo_id for f in p.phenotypic_features if not f.excluded) for p in patients}
        counts = self.registry.mme_counts()
        return {"metrics": {
            "numberOfCases": len(patients),
            "numberOfSubmitters": len({p.created_by for p in patients}),
            "numberOfGenes": len(genes), "numberOfUniqueGenes": len(set(genes)),
            "numberOfVariants": 0, "numberOfUniqueVariants": 0,  # variants never leave the centre
            "numberOfFeatures": len(features), "numberOfUniqueFeatures": len(set(features)),
            "numberOfFeatureSets": len(feature_sets),
            "numberOfCasesWithDiagnosis": sum(any(d.status == "confirmed" for d in p.diagnoses) for p in patients),
            "numberOfRequestsReceived": counts["requests_received"],
            "numberOfPotentialMatchesSent": counts["matches_sent"],
            "dateGenerated": dt.datetime.now(dt.UTC).date().isoformat(),
        }, "disclaimer": DISCLAIMER}

    # -- the client --------------------------------------------------------------------------------
    def request_for(self, actor: Actor, patient_id: int) -> tuple[PatientPublic, MmeRequest]:
        """The MME request that sends patient ``patient_id`` (refused unless its consent allows matchmaking)."""
        patient = self.registry.patient_to_share(actor, patient_id)
        if patient.consent_matchmaking is not True:
            raise MatchmakingNotAllowed(Message(
                f"patient {patient.pseudonym} has not consented to matchmaking, so it is not sent to other centres; "
                "record the consent (consent_matchmaking) first if the patient agrees.", "mme.not_consented",
                name=patient.pseudonym))
        contact = contact_of(self.settings)
        mp = mme_patient(patient, key=self._key, contact=contact, labels=self._label)
        if not mp.features and not mp.genomicFeatures:
            raise InputError(Message(f"patient {patient.pseudonym} has neither phenotypic features nor genes to "
                                     "match on; add some first.", "mme.nothing_to_send", name=patient.pseudonym))
        return patient, MmeRequest(patient=mp, disclaimer=DISCLAIMER)

    def search_peers(self, actor: Actor, patient_id: int) -> PeerSearch:
        """Send patient ``patient_id`` to every enabled peer at once; each answer (or error) is audited, and nothing
        of it is stored in the registry beyond that line."""
        patient, request = self.request_for(actor, patient_id)
        peers = self.registry.peer_targets(actor)
        body = request.model_dump_json(exclude_none=True).encode("utf-8")
        answers: list[PeerAnswer] = []
        if peers:
            with ThreadPoolExecutor(max_workers=min(8, len(peers))) as pool:
                answers = list(pool.map(lambda peer: self._ask(peer, body, request.patient), peers))
        self.registry.audit_mme_outgoing(actor, patient_id, [
            {"peer": a.peer, "results": len(a.matches), "error": a.error} if a.error else
            {"peer": a.peer, "results": len(a.matches)} for a in answers])
        return PeerSearch(patient_id, patient.pseudonym, tuple(answers))

    def _ask(self, peer: PeerTarget, body: bytes, ours: MmePatient) -> PeerAnswer:
        url = peer.base_url.rstrip("/") + "/match"
        headers = {"X-Auth-Token": peer.outgoing_token, "Content-Type": media_type(LATEST),
                   "Accept": media_type(LATEST), "User-Agent": f"raredx/{__version__}"}
        started = time.monotonic()
        try:
            req = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with _NO_REDIRECTS.open(req, timeout=self.settings.mme_timeout_seconds) as resp:
                raw = resp.read(MAX_RESPONSE_BYTES + 1)
            if len(raw) > MAX_RESPONSE_BYTES:
                return PeerAnswer(peer.name, error=f"the answer is larger than {MAX_RESPONSE_BYTES // 2**20} MiB")
            answer = MmeResponse.model_validate(json.loads(raw))
        except urllib.error.HTTPError as exc:
            return PeerAnswer(peer.name, error=f"HTTP {exc.code}: {_error_message(exc)}")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
                return PeerAnswer(peer.name, error=f"no answer within {self.settings.mme_timeout_seconds:g} s")
            return PeerAnswer(peer.name, error=f"cannot reach {url}: {reason}")
        except ValueError as exc:  # not JSON, or not an MME response
            why = validation_message(exc) if isinstance(exc, ValidationError) else str(exc)
            return PeerAnswer(peer.name, error=f"the answer is not an MME response ({why[:300]})")
        log.info("MME peer %s answered in %.2f s with %d results", peer.name, time.monotonic() - started,
                 len(answer.results))
        matches = tuple(self._peer_match(r, ours) for r in answer.results)
        return PeerAnswer(peer.name, tuple(sorted(matches, key=lambda m: -m.score)),
                          disclaimer=answer.disclaimer)

    def _peer_match(self, result: MmeResult, ours: MmePatient) -> PeerMatch:
        o = self.rdx.engine.ontology
        mine = _closure(o, [f.id for f in ours.features if f.observed == "yes"])
        theirs = _closure(o, [f.id for f in result.patient.features if f.observed == "yes"])
        ic = self.rdx.engine.matrix.ic
        both = np.intersect1d(mine, theirs)
        both = both[ic[both] > 0]
        named: list[int] = []
        for t in both[np.argsort(-ic[both], kind="stable")].tolist():
            if not any(o.is_ancestor(t, x) for x in named):
                named.append(t)
        shared = tuple(SharedTerm(o.ids[t], o.labels[t]) for t in named[:10])
        genes = tuple(sorted({g.gene.id for g in ours.genomicFeatures} & {g.gene.id for g in result.patient.genomicFeatures}))
        return PeerMatch(result.score.patient, result.patient.id, result.patient.contact, shared, genes,
                         sum(f.observed == "yes" for f in result.patient.features))


class _Refuse(urllib.request.HTTPRedirectHandler):
    """A peer's redirect is an error, not followed: the token must not go to another address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_Refuse)


def _closure(ontology: Any, term_ids: Sequence[str]) -> np.ndarray:
    idx = [i for t in term_ids if (i := ontology.index(t)) is not None]
    if not idx:
        return np.zeros(0, np.int64)
    closure = np.unique(np.concatenate([ontology.ancestors(i) for i in idx]))
    return closure[ontology.phenotype_mask[closure]]


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(exc.read(65536))
        message = data.get("message") if isinstance(data, dict) else None
    except (ValueError, OSError):
        message = None
    return str(message or exc.reason)[:300]
