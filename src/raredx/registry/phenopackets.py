"""GA4GH Phenopacket v2 <-> registry records, with a validation report instead of a first-error stop.

``patient_from_phenopacket`` checks one document and turns it into a :class:`PatientCreate` plus the
issues found; ``phenopacket_from_patient`` is its inverse. What the registry holds of a phenopacket
(and therefore what ``export(import(x))`` gives back) is listed in ``HELD``; anything else is reported
as a note when imported and is not kept.

Policies (as in gpsea): ``strict`` rejects a record with any error or warning; ``lenient`` rejects
records with errors only, and fixes or drops what a warning names (an unknown HPO term, an
unparseable date), saying so in the report.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from pydantic import ValidationError

from raredx.errors import InputError, Message, Problem, RaredxError
from raredx.ontology import Ontology, onset
from raredx.registry.schemas import (
    PSEUDONYM_RULE,
    Diagnosis,
    DiagnosisBasis,
    DiagnosisStatus,
    GeneticFinding,
    Identity,
    Interpretation,
    Measurement,
    PatientCreate,
    PatientPublic,
    PhenotypicFeature,
    Sample,
    Sex,
    Treatment,
    VitalStatus,
    pseudonym_problem,
)

Policy = Literal["strict", "lenient"]
POLICIES: tuple[Policy, ...] = get_args(Policy)

HELD: dict[str, str] = {
    "id": "patient pseudonym",
    "subject": "id, sex, dateOfBirth, timeAtLastEncounter, vitalStatus (status, timeOfDeath as a date, causeOfDeath)",
    "phenotypicFeatures": "type, excluded, onset, resolution, severity, modifiers, evidence, description",
    "measurements": "assay, value, description, timeObserved",
    "biosamples": "id, sampleType, sampledTissue, timeOfCollection",
    "interpretations": "id, progressStatus, summary, diagnosis.disease, genomicInterpretations (gene or variant)",
    "diseases": "term, excluded, onset",
    "medicalActions": "treatment.agent, treatment.routeOfAdministration (label), treatmentTarget (id)",
    "metaData": "kept as given",
}

HPO_ID = re.compile(r"^HP:\d{7}$")
MISSING = Message("missing", "import.missing")
LEFT_OUT = Message("it is left out.", "import.left_out")
NOT_OBJECT = Message("must be an object.", "import.not_object")
NOT_HELD = Message("not held by the registry: it is not imported.", "import.not_held")
CURIE = re.compile(r"^[A-Za-z][A-Za-z0-9.]*:\S+$")


@dataclass(slots=True)
class _Checker:
    """The problems of one record, and whether they reject it under the policy."""

    record: str
    policy: Policy
    ontology: Ontology | None
    problems: list[Problem] = field(default_factory=list)

    def error(self, where: str, reason: str, solution: str = "") -> None:
        self.problems.append(Problem(self.record, where, reason, "error", solution))

    def warn(self, where: str, reason: str, solution: str = "") -> None:
        self.problems.append(Problem(self.record, where, reason, "warning", solution))

    def note(self, where: str, reason: str) -> None:
        self.problems.append(Problem(self.record, where, reason, "note"))

    @property
    def rejected(self) -> bool:
        bad = ("error",) if self.policy == "lenient" else ("error", "warning")
        return any(i.severity in bad for i in self.problems)


def held_fields(doc: Any) -> Any:
    """The part of a phenopacket the registry holds (top-level keys in ``HELD``), without the defaults that
    mean the same as leaving a field out (false, empty): what ``export(import(x))`` keeps of ``x``."""
    if isinstance(doc, dict):
        return {k: _canonical(v) for k, v in doc.items() if k in HELD and v not in (None, [], {}, "", False)}
    return _canonical(doc)


def _canonical(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _canonical(v) for k, v in doc.items() if v not in (None, [], {}, "", False)}
    if isinstance(doc, list):
        return [_canonical(v) for v in doc]
    return doc


def _obj(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) and value else None


def _date(c: _Checker, where: str, value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        c.warn(where, Message(f"{value!r} is not an ISO 8601 date or timestamp (YYYY-MM-DD...)", "import.not_date",
                              value=repr(value)), LEFT_OUT)
        return None


def _enum(c: _Checker, where: str, value: Any, allowed: Iterable[str]) -> str | None:
    if value is None:
        return None
    allowed = tuple(allowed)
    if value not in allowed:
        c.warn(where, Message(f"{value!r} is not one of {', '.join(allowed)}", "import.not_one_of", value=repr(value),
                              allowed=", ".join(allowed)), LEFT_OUT)
        return None
    return str(value)


def _term(c: _Checker, where: str, value: Any, *, required: bool = True) -> dict[str, Any] | None:
    tid = value.get("id") if isinstance(value, dict) else None
    if not isinstance(tid, str) or not CURIE.match(tid):
        if required or value is not None:
            c.error(f"{where}.id", Message(f"missing or not a CURIE (PREFIX:ID): {tid!r}", "import.not_curie", value=repr(tid)),
                    Message("every term needs an id such as HP:0001166.", "import.not_curie.fix"))
        return None
    return value


def _hpo(c: _Checker, where: str, term_id: str) -> str | None:
    """The HPO id to keep, or None if the feature is dropped (lenient) / the record rejected (strict)."""
    if not HPO_ID.match(term_id):
        c.error(where, Message(f"{term_id!r} is not an HPO id (HP: followed by 7 digits).", "import.not_hpo_id",
                               value=repr(term_id)))
        return None
    if c.ontology is None:
        return term_id
    try:
        res = c.ontology.resolve(term_id)  # the problem names the field already
    except RaredxError as exc:
        c.warn(where, exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], Message) else str(exc))
        return None
    if res.replaced:
        c.warn(where, Message(f"{term_id} is an alternative or obsolete id of {res.term_id}", "import.replaced",
                              old=term_id, term=res.term_id),
               Message(f"{res.term_id} is used instead.", "import.replaced.fix", term=res.term_id))
        return res.term_id
    return term_id


def _list(c: _Checker, doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        c.error(key, Message(f"must be a list, not {type(value).__name__}.", "import.not_list",
                             type=type(value).__name__))
        return []
    return value


def years_of(time_element: dict[str, Any] | None) -> float | None:
    """A TimeElement as years of age (an onset class at its representative age), for statistics."""
    if not time_element:
        return None
    iso = (time_element.get("age") or {}).get("iso8601duration")
    if isinstance(iso, str):
        return onset.parse_iso_age(iso)
    if "gestationalAge" in time_element:
        return 0.0
    term = (time_element.get("ontologyClass") or {}).get("id")
    return onset.REPRESENTATIVE_YEARS.get(term) if isinstance(term, str) else None


# -- import ---------------------------------------------------------------------------------------
def check_policy(policy: str) -> Policy:
    """``policy`` if it names one (raises :class:`InputError` saying which, if not)."""
    if policy not in POLICIES:
        raise InputError(f"policy {policy!r}: choose {' or '.join(POLICIES)}.")
    return policy


def patient_from_phenopacket(
    doc: dict[str, Any], record: str, *, policy: Policy = "lenient", ontology: Ontology | None = None
) -> tuple[PatientCreate | None, list[Problem]]:
    """Check one phenopacket; the patient (or None when rejected under ``policy``) and every problem found.
    One function per section of the phenopacket (as gpsea's ``_add_phenotypes``, ``_add_diseases``)."""
    c = _Checker(record, check_policy(policy), ontology)
    pid = doc.get("id")
    if not isinstance(pid, str) or not pid.strip():
        c.error("id", MISSING, Message("every phenopacket needs an id, which becomes the patient's pseudonym.",
                                       "import.no_id.fix"))
    elif problem := pseudonym_problem(pid.strip()):
        shown = repr(pid if len(pid) <= 60 else pid[:57] + "...")
        c.error("id", Message(f"{shown} cannot be a pseudonym: it {problem}", "import.bad_pseudonym", value=shown,
                              problem=problem),
                Message(f"give the phenopacket another id ({PSEUDONYM_RULE}); it becomes the patient's pseudonym and "
                        "the name of its exported file.", "import.bad_pseudonym.fix", rule=PSEUDONYM_RULE))
    for key in doc:
        if key not in HELD:
            c.note(key, Message("not held by the registry: it is not imported and will not be exported.",
                                 "import.not_held_exported"))
    subject = _subject(c, doc)
    features = _phenotypic_features(c, doc)
    interpretations, findings = _interpretations(c, doc)
    diagnoses = _diseases(c, doc, interpretations, findings)
    fields: dict[str, Any] = {
        **subject, "phenotypic_features": features, "diagnoses": diagnoses, "interpretations": interpretations,
        "genetic_findings": findings, "measurements": _measurements(c, doc), "samples": _biosamples(c, doc),
        "treatments": _medical_actions(c, doc), "phenopacket_meta": _obj(doc.get("metaData")),
        "age_at_onset": next((d.onset for d in diagnoses if d.onset), None) or _earliest(features),
    }
    if c.rejected or not isinstance(pid, str):
        return None, c.problems
    try:
        patient = PatientCreate(pseudonym=pid.strip(), **fields)
    except ValidationError as exc:
        c.error(_loc(exc), _first_error(exc))
        return None, c.problems
    return patient, c.problems


def _subject(c: _Checker, doc: dict[str, Any]) -> dict[str, Any]:
    """The patient fields from ``subject``: id, sex, date of birth, vital status, age at last encounter."""
    subject = doc.get("subject") or {}
    if not isinstance(subject, dict):
        c.error("subject", NOT_OBJECT)
        subject = {}
    for key in subject:
        if key not in ("id", "sex", "dateOfBirth", "timeAtLastEncounter", "vitalStatus"):
            c.note(f"subject.{key}", NOT_HELD)
    vital = _obj(subject.get("vitalStatus")) or {}
    death = _obj(vital.get("timeOfDeath"))
    if death and "timestamp" not in death:
        c.note("subject.vitalStatus.timeOfDeath", Message(
            "only a timestamp is held; an age or ontology class is not imported.", "import.death_timestamp"))
    dob = _date(c, "subject.dateOfBirth", subject.get("dateOfBirth"))
    return {
        "subject_id": subject.get("id"), "sex": _enum(c, "subject.sex", subject.get("sex"), get_args(Sex)),
        "vital_status": _enum(c, "subject.vitalStatus.status", vital.get("status"), get_args(VitalStatus)),
        "date_of_death": _date(c, "subject.vitalStatus.timeOfDeath", (death or {}).get("timestamp")),
        "cause_of_death": _obj(vital.get("causeOfDeath")),
        "age_at_last_encounter": _obj(subject.get("timeAtLastEncounter")),
        "identity": Identity(date_of_birth=dob) if dob else None,
    }


def _phenotypic_features(c: _Checker, doc: dict[str, Any]) -> list[PhenotypicFeature]:
    features = []
    for i, f in enumerate(_list(c, doc, "phenotypicFeatures")):
        where = f"phenotypicFeatures[{i}]"
        if not isinstance(f, dict):
            c.error(where, Message("must be an object with type.id.", "import.not_feature"))
            continue
        if not _term(c, f"{where}.type", f.get("type")):
            continue
        excluded = f.get("excluded", False)
        if not isinstance(excluded, bool):
            c.error(f"{where}.excluded", Message(f"must be true or false, not {excluded!r}.", "import.not_bool",
                                                value=repr(excluded)))
            continue
        hpo = _hpo(c, f"{where}.type.id", f["type"]["id"])
        if hpo is None:
            continue
        features.append(PhenotypicFeature(
            hpo_id=hpo, label=_label(c.ontology, hpo, f["type"]), excluded=excluded, onset=_obj(f.get("onset")),
            resolution=_obj(f.get("resolution")), severity=_obj(f.get("severity")),
            modifiers=f.get("modifiers") or None, evidence=f.get("evidence") or None,
            description=f.get("description") or None,
        ))
    return features


def _label(ontology: Ontology | None, hpo: str, term: dict[str, Any]) -> str | None:
    """The label as given, or the ontology's when the id was replaced (an alternative or obsolete id)."""
    if hpo == term["id"]:
        return term.get("label")
    index = ontology.index(hpo) if ontology is not None else None
    return ontology.labels[index] if ontology is not None and index is not None else None


def _interpretations(c: _Checker, doc: dict[str, Any]) -> tuple[list[Interpretation], list[GeneticFinding]]:
    interpretations, findings = [], []
    for i, interp in enumerate(_list(c, doc, "interpretations")):
        where = f"interpretations[{i}]"
        if not isinstance(interp, dict) or not isinstance(interp.get("id"), str):
            c.error(f"{where}.id", MISSING, Message("every interpretation needs an id.", "import.no_interpretation_id.fix"))
            continue
        diag = _obj(interp.get("diagnosis")) or {}
        disease = _term(c, f"{where}.diagnosis.disease", diag.get("disease"), required=False)
        interpretations.append(Interpretation(
            interpretation_id=interp["id"], progress_status=interp.get("progressStatus"),
            disease_id=disease["id"] if disease else None, disease_label=disease.get("label") if disease else None,
            summary=interp.get("summary") or None,
        ))
        for j, gi in enumerate(diag.get("genomicInterpretations") or []):
            finding = _finding(c, f"{where}.diagnosis.genomicInterpretations[{j}]", gi, interp["id"])
            if finding:
                findings.append(finding)
    return interpretations, findings


def _diseases(c: _Checker, doc: dict[str, Any], interpretations: list[Interpretation],
              findings: list[GeneticFinding]) -> list[Diagnosis]:
    """Diseases become diagnoses: ruled out if excluded, confirmed if an interpretation solved them (on a molecular
    basis if a causative finding supports it), else suspected."""
    solved = {i.disease_id for i in interpretations if i.progress_status == "SOLVED"}
    molecular = {i.disease_id for i in interpretations
                 if any(f.interpretation_id == i.interpretation_id and f.interpretation_status == "CAUSATIVE" for f in findings)}
    diagnoses = []
    for i, d in enumerate(_list(c, doc, "diseases")):
        term = _term(c, f"diseases[{i}].term", d.get("term") if isinstance(d, dict) else None)
        if not term:
            continue
        status: DiagnosisStatus = ("ruled_out" if d.get("excluded", False) is True
                                   else "confirmed" if term["id"] in solved else "suspected")
        basis: DiagnosisBasis | None = None if status != "confirmed" else (
            "molecular" if term["id"] in molecular else "clinical")
        diagnoses.append(Diagnosis(disease_id=term["id"], label=term.get("label"), status=status, basis=basis,
                                   onset=_obj(d.get("onset"))))
    return diagnoses


def _measurements(c: _Checker, doc: dict[str, Any]) -> list[Measurement]:
    measurements = []
    for i, m in enumerate(_list(c, doc, "measurements")):
        if not isinstance(m, dict) or not _term(c, f"measurements[{i}].assay", m.get("assay")):
            continue
        if "complexValue" in m:
            c.note(f"measurements[{i}].complexValue", NOT_HELD)
        measurements.append(Measurement(assay=m["assay"], value=_obj(m.get("value")), description=m.get("description") or None,
                                        time_observed=_obj(m.get("timeObserved"))))
    return measurements


def _biosamples(c: _Checker, doc: dict[str, Any]) -> list[Sample]:
    samples = []
    for i, b in enumerate(_list(c, doc, "biosamples")):
        if not isinstance(b, dict) or not isinstance(b.get("id"), str):
            c.error(f"biosamples[{i}].id", MISSING, Message("every biosample needs an id.", "import.no_biosample_id.fix"))
            continue
        samples.append(Sample(sample_id=b["id"], sample_type=_obj(b.get("sampleType")), sampled_tissue=_obj(b.get("sampledTissue")),
                              time_of_collection=_obj(b.get("timeOfCollection"))))
    return samples


def _medical_actions(c: _Checker, doc: dict[str, Any]) -> list[Treatment]:
    """Treatments with an agent (other medical actions are not held)."""
    treatments = []
    for i, a in enumerate(_list(c, doc, "medicalActions")):
        t = a.get("treatment") if isinstance(a, dict) else None
        agent = _term(c, f"medicalActions[{i}].treatment.agent", t.get("agent"), required=False) if t else None
        if not t or not agent:
            c.note(f"medicalActions[{i}]", Message("only treatments with an agent are held; this action is not imported.",
                                                  "import.action_without_agent"))
            continue
        atc = agent["id"][4:] if agent["id"].startswith("ATC:") else None
        target = _obj(a.get("treatmentTarget")) or {}
        route = _obj(t.get("routeOfAdministration")) or {}
        try:
            treatments.append(Treatment(drug_inn=agent.get("label") or agent["id"], agent_id=agent["id"], atc_code=atc,
                                        indication=target.get("id"), route=route.get("label")))
        except ValidationError as exc:
            c.warn(f"medicalActions[{i}].treatment.agent", Message(f"{_first_error(exc)}; the treatment is left out.",
                                                                  "import.treatment_left_out", error=_first_error(exc)))
    return treatments


def _first_error(exc: ValidationError) -> str:
    e = exc.errors()[0]
    return f"{e['msg']} (got {e.get('input')!r})"


def _loc(exc: ValidationError) -> str:
    return ".".join(str(p) for p in exc.errors()[0]["loc"])


def _earliest(features: list[PhenotypicFeature]) -> dict[str, Any] | None:
    onsets = [(y, f.onset) for f in features if not f.excluded and f.onset and (y := years_of(f.onset)) is not None]
    return min(onsets, key=lambda o: o[0])[1] if onsets else None


def _finding(c: _Checker, where: str, gi: Any, interpretation_id: str) -> GeneticFinding | None:
    if not isinstance(gi, dict):
        c.error(where, NOT_OBJECT)
        return None
    common = {"interpretation_id": interpretation_id, "interpretation_status": gi.get("interpretationStatus"),
                  "subject_or_biosample_id": gi.get("subjectOrBiosampleId")}
    if "gene" in gi:
        gene = _obj(gi["gene"]) or {}
        return GeneticFinding(gene_symbol=gene.get("symbol"), gene_id=gene.get("valueId"), **common)
    vi = _obj(gi.get("variantInterpretation"))
    vd = _obj((vi or {}).get("variationDescriptor"))
    if not vi or not vd:
        c.error(f"{where}.variantInterpretation.variationDescriptor", MISSING,
                Message("give a gene or a variant descriptor.", "import.no_variant.fix"))
        return None
    gene = _obj(vd.get("geneContext")) or {}
    allelic = _obj(vd.get("allelicState")) or {}
    for key in vd:
        if key not in ("id", "label", "description", "geneContext", "expressions", "vcfRecord", "moleculeContext",
                       "structuralType", "allelicState"):
            c.note(f"{where}.variantInterpretation.variationDescriptor.{key}",
                   Message("not held by the registry.", "import.not_held_short"))
    try:
        return GeneticFinding(
            gene_symbol=gene.get("symbol"), gene_id=gene.get("valueId"), expressions=vd.get("expressions") or [],
            zygosity=allelic.get("id"), zygosity_label=allelic.get("label"),
            acmg_class=vi.get("acmgPathogenicityClassification"), therapeutic_actionability=vi.get("therapeuticActionability"),
            variant_id=vd.get("id"), variant_label=vd.get("label"), variant_description=vd.get("description"),
            molecule_context=vd.get("moleculeContext"), structural_type=_obj(vd.get("structuralType")),
            vcf=_obj(vd.get("vcfRecord")), **common,
        )
    except ValidationError as exc:
        c.error(f"{where}.variantInterpretation.variationDescriptor.{_loc(exc)}", _first_error(exc))
        return None


# -- export ---------------------------------------------------------------------------------------
EXPORT_NAME_BYTES = 100


def export_name(patient_id: int, pseudonym: str) -> str:
    """The file name of a patient's phenopacket in an export (a directory or a ZIP): the pseudonym made safe for any
    file system and archive tool (letters, digits, ``-``, ``_`` and ``.`` kept, anything else ``_``, no leading dot,
    at most 100 bytes), then ``_`` and the patient id. Whatever a stored pseudonym holds (rows written before
    pseudonyms were checked), the name stays inside the export; the id keeps two patients' names apart, also on
    file systems that ignore case."""
    slug = re.sub(r"[^\w.-]+", "_", unicodedata.normalize("NFKC", pseudonym))
    slug = slug.encode()[:EXPORT_NAME_BYTES].decode("utf-8", "ignore").strip("._-")
    return f"{slug or 'patient'}_{patient_id}.json"


def _drop_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, [], {}, "")}


def phenopacket_from_patient(p: PatientPublic | PatientCreate, *, created_by: str = "raredx") -> dict[str, Any]:
    """The patient as a Phenopacket v2 document (identity, if visible, gives subject.dateOfBirth only)."""
    dob = p.identity.date_of_birth if p.identity else None
    vital = _drop_empty({
        "status": p.vital_status,
        "timeOfDeath": {"timestamp": f"{p.date_of_death}T00:00:00Z"} if p.date_of_death else None,
        "causeOfDeath": p.cause_of_death,
    })
    subject = _drop_empty({
        "id": p.subject_id or p.pseudonym, "dateOfBirth": f"{dob}T00:00:00Z" if dob else None,
        "timeAtLastEncounter": p.age_at_last_encounter, "vitalStatus": vital or None, "sex": p.sex,
    })
    features = [_drop_empty({
        "type": _drop_empty({"id": f.hpo_id, "label": f.label}), "excluded": f.excluded or None, "onset": f.onset,
        "resolution": f.resolution, "severity": f.severity, "modifiers": f.modifiers, "evidence": f.evidence,
        "description": f.description,
    }) for f in p.phenotypic_features]
    interpretations = []
    attached = {i.interpretation_id for i in p.interpretations}
    loose = [f for f in p.genetic_findings if f.interpretation_id not in attached]
    interps = list(p.interpretations)
    if loose:
        main = next((d for d in p.diagnoses if d.status != "ruled_out"), None)
        interps.append(Interpretation(interpretation_id=f"{p.pseudonym}-findings", progress_status="IN_PROGRESS",
                                      disease_id=main.disease_id if main else None, disease_label=main.label if main else None))
    for interp in interps:
        mine = [f for f in p.genetic_findings if f.interpretation_id == interp.interpretation_id
                or (f in loose and interp.interpretation_id == f"{p.pseudonym}-findings")]
        diagnosis = _drop_empty({
            "disease": _drop_empty({"id": interp.disease_id, "label": interp.disease_label}) or None,
            "genomicInterpretations": [_genomic(f) for f in mine],
        })
        interpretations.append(_drop_empty({"id": interp.interpretation_id, "progressStatus": interp.progress_status,
                                            "diagnosis": diagnosis or None, "summary": interp.summary}))
    diseases = [_drop_empty({"term": _drop_empty({"id": d.disease_id, "label": d.label}),
                             "excluded": True if d.status == "ruled_out" else None, "onset": d.onset}) for d in p.diagnoses]
    measurements = [_drop_empty({"assay": m.assay, "value": m.value, "description": m.description, "timeObserved": m.time_observed})
                    for m in p.measurements]
    biosamples = [_drop_empty({"id": s.sample_id, "sampleType": s.sample_type, "sampledTissue": s.sampled_tissue,
                               "timeOfCollection": s.time_of_collection}) for s in p.samples]
    actions = [_drop_empty({"treatment": _drop_empty({
        "agent": {"id": t.agent_id or (f"ATC:{t.atc_code}" if t.atc_code else f"INN:{t.drug_inn}"), "label": t.drug_inn},
        "routeOfAdministration": {"id": "NCIT:C38288", "label": t.route} if t.route else None}),
        "treatmentTarget": {"id": t.indication} if t.indication else None}) for t in p.treatments]
    meta = p.phenopacket_meta or {
        "created": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "createdBy": created_by,
        "resources": [{"id": "hp", "name": "human phenotype ontology", "url": "http://purl.obolibrary.org/obo/hp.owl",
                       "version": "", "namespacePrefix": "HP", "iriPrefix": "http://purl.obolibrary.org/obo/HP_"}],
        "phenopacketSchemaVersion": "2.0",
    }
    return _drop_empty({
        "id": p.pseudonym, "subject": subject, "phenotypicFeatures": features, "measurements": measurements,
        "biosamples": biosamples, "interpretations": interpretations, "diseases": diseases, "medicalActions": actions,
        "metaData": meta,
    })


def _genomic(f: GeneticFinding) -> dict[str, Any]:
    common = {"subjectOrBiosampleId": f.subject_or_biosample_id, "interpretationStatus": f.interpretation_status}
    gene = _drop_empty({"valueId": f.gene_id, "symbol": f.gene_symbol})
    if not (f.variant_id or f.expressions or f.vcf or f.zygosity):
        return _drop_empty({**common, "gene": gene or None})
    vd = _drop_empty({
        "id": f.variant_id, "label": f.variant_label, "description": f.variant_description, "geneContext": gene or None,
        "expressions": [e.model_dump(exclude_none=True) for e in f.expressions], "vcfRecord": f.vcf,
        "moleculeContext": f.molecule_context, "structuralType": f.structural_type,
        "allelicState": _drop_empty({"id": f.zygosity, "label": f.zygosity_label}) or None,
    })
    vi = _drop_empty({"acmgPathogenicityClassification": f.acmg_class, "therapeuticActionability": f.therapeutic_actionability,
                      "variationDescriptor": vd})
    return _drop_empty({**common, "variantInterpretation": vi})
