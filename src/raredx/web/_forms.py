"""Form fields <-> registry schemas. One field list per record kind drives the form, the table and the
parsing (templates: ``_fields.html``), so demographics, genetic findings, diagnoses, treatments and drug
provision share one code path."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from raredx.errors import Message
from raredx.genomics import ACMG_CLASSES, ZYGOSITIES
from raredx.registry.schemas import (
    DIAGNOSIS_BASES,
    DIAGNOSIS_STATUSES,
    FUNDING_SOURCES,
    PROVISION_STATUSES,
    SEXES,
    VITAL_STATUSES,
)

# GENO ids of the zygosities (allelic states) the form offers
ZYGOSITY = dict(zip(ZYGOSITIES, ("GENO:0000135", "GENO:0000136", "GENO:0000134"), strict=True))
# what a genetic finding's form takes (the registry's columns hold 40 and 400 characters): an HGNC-style symbol, and
# an HGVS expression, with or without its reference sequence (NM_000138.5:c.1129C>T, p.(Arg377Trp), g.48712345del)
GENE_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._-]{0,39}")
HGVS = re.compile(r"(?:[A-Za-z0-9_.-]+(?:\([A-Za-z0-9_.-]+\))?:)?[cgmnopr]\.\S+")
HGVS_MAX = 400


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: str = "text"  # text, date, select, checkbox, textarea
    options: tuple[str, ...] = ()  # for select: values (labels come from the catalogue "<name>.<value>")
    required: bool = False
    identity: bool = False  # lives in PatientCreate.identity
    in_table: bool = True  # shown as a column of the record table


DEMOGRAPHICS = (
    Field("pseudonym", required=True),
    Field("family_name", identity=True), Field("given_name", identity=True), Field("patronymic", identity=True),
    Field("sex", "select", SEXES),
    Field("date_of_birth", "date", identity=True),
    Field("region"),
    Field("vital_status", "select", VITAL_STATUSES),
    Field("date_of_death", "date"),
    Field("first_contact_date", "date"),
    Field("national_id", identity=True), Field("insurance_policy", identity=True),
    Field("identity_document", identity=True), Field("address", identity=True),
    Field("disability"),
    Field("consent_contact_research", "checkbox"), Field("consent_data_reuse", "checkbox"),
    Field("consent_matchmaking", "checkbox"),
    Field("consent_date", "date"),
)

ITEMS: dict[str, tuple[Field, ...]] = {
    "genetic_findings": (
        Field("gene_symbol", required=True), Field("hgvs"),
        Field("zygosity_label", "select", tuple(ZYGOSITY)), Field("acmg_class", "select", ACMG_CLASSES),
        Field("testing_lab"), Field("tested_on", "date"),
    ),
    "diagnoses": (
        Field("disease_id", required=True), Field("label"), Field("icd10"),
        Field("status", "select", DIAGNOSIS_STATUSES, required=True), Field("basis", "select", DIAGNOSIS_BASES),
        Field("diagnosed_on", "date"),
    ),
    "treatments": (
        Field("drug_inn", required=True), Field("atc_code"), Field("dose"), Field("route"),
        Field("start_date", "date"), Field("stop_date", "date"),
    ),
    "drug_provisions": (
        Field("drug_inn", required=True), Field("dosage_form"),
        Field("status", "select", PROVISION_STATUSES, required=True),
        Field("need_identified_on", "date"), Field("requested_on", "date"), Field("decided_on", "date"),
        Field("dispensed_on", "date"), Field("prescription_number"), Field("quantity"),
        Field("funding_source", "select", FUNDING_SOURCES),
    ),
}


def values_from_form(fields: tuple[Field, ...], form: Any) -> dict[str, Any]:
    """The submitted values as strings/booleans (empty fields left out): what a form re-shows on errors."""
    out: dict[str, Any] = {}
    for f in fields:
        if f.kind == "checkbox":
            out[f.name] = form.get(f.name) == "on"
        else:
            v = str(form.get(f.name) or "").strip()
            if v:
                out[f.name] = v
    return out


def patient_data(values: dict[str, Any]) -> dict[str, Any]:
    """Form values -> the keyword arguments of PatientCreate / PatientUpdate (identity nested)."""
    data: dict[str, Any] = {}
    identity: dict[str, Any] = {}
    for f in DEMOGRAPHICS:
        v = values.get(f.name, False if f.kind == "checkbox" else None)
        (identity if f.identity else data)[f.name] = v
    data["identity"] = identity if any(v is not None for v in identity.values()) else None
    return data


def item_data(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """Form values of one record -> its schema's fields (e.g. HGVS -> expressions, zygosity label -> GENO id)."""
    data = dict(values)
    if kind == "genetic_findings":
        hgvs = data.pop("hgvs", None)
        if hgvs:
            syntax = "hgvs.p" if ":p." in hgvs or hgvs.startswith("p.") else "hgvs.g" if ":g." in hgvs else "hgvs.c"
            data["expressions"] = [{"syntax": syntax, "value": hgvs}]
        if data.get("zygosity_label") in ZYGOSITY:
            data["zygosity"] = ZYGOSITY[data["zygosity_label"]]
    return data


def item_errors(kind: str, values: dict[str, Any]) -> dict[str, Message]:
    """What is wrong with one record's form values, by field (shown next to it, in the page's language): a date
    that is not one; for a genetic finding, no gene, a gene that is not a symbol, a variant that is not HGVS."""
    errors: dict[str, Message] = {}
    for f in ITEMS[kind]:
        v = values.get(f.name)
        if f.kind == "date" and v:
            try:
                dt.date.fromisoformat(str(v))
            except ValueError:
                errors[f.name] = Message(f"{f.name}: {v!r} is not a date; give it as YYYY-MM-DD (e.g. 2026-03-14).",
                                         "form.bad_date", value=str(v))
    if kind == "genetic_findings":
        gene, hgvs = values.get("gene_symbol"), values.get("hgvs")
        if not gene:
            errors["gene_symbol"] = Message("gene_symbol: give the gene of the finding, its HGNC symbol (e.g. FBN1).",
                                            "finding.no_gene")
        elif not GENE_SYMBOL.fullmatch(gene):
            errors["gene_symbol"] = Message(f"gene_symbol: {gene!r} is not a gene symbol; give the HGNC symbol, "
                                            "letters and digits (e.g. FBN1, SCN1A).", "finding.bad_gene", value=gene)
        if hgvs and (len(hgvs) > HGVS_MAX or not HGVS.fullmatch(hgvs)):
            errors["hgvs"] = Message(f"hgvs: {hgvs[:80]!r} is not an HGVS variant; write it as c.1129C>T, "
                                     "p.Arg377Trp or with its transcript, NM_000138.5:c.1129C>T.", "finding.bad_hgvs",
                                     value=hgvs[:80])
    return errors


def form_values(kind: str, item: BaseModel) -> dict[str, Any]:
    """A stored record -> the values of its form (an edit's starting point; a genetic finding's HGVS, not its
    label): as :func:`values_from_form` gives them, empty fields left out."""
    out: dict[str, Any] = {}
    for f in ITEMS[kind]:
        v = getattr(item, f.name, None)
        if f.kind == "checkbox":
            out[f.name] = bool(v)
        elif v is not None and v != "":
            out[f.name] = v.isoformat() if isinstance(v, dt.date) else str(v)
    return out


def edited_item(kind: str, values: dict[str, Any], before: BaseModel | None = None) -> dict[str, Any]:
    """:func:`item_data` of the form's values, over the stored record ``before`` it edits (if any): what the form
    does not show (a finding's interpretation status, gene id, other HGVS expressions, ...) stays as it was, and
    so does a field left as the form showed it."""
    data = item_data(kind, values)
    if before is None:
        return data
    old = before.model_dump(exclude_none=True)
    shown = form_values(kind, before)
    kept = {k: v for k, v in old.items() if k not in {f.name for f in ITEMS[kind]}}
    if kind == "genetic_findings":
        kept.pop("expressions", None)
        kept.pop("zygosity", None)
        if values.get("hgvs") == shown.get("hgvs") and old.get("expressions"):
            data["expressions"] = old["expressions"]
        if values.get("zygosity_label") == shown.get("zygosity_label") and old.get("zygosity"):
            data["zygosity"] = old["zygosity"]
    return {**kept, **data}


def item_values(kind: str, item: BaseModel) -> dict[str, Any]:
    """A stored record -> the values its table row shows (a genetic finding's variant column: its HGVS, else
    its label and structural type, :attr:`GeneticFinding.variant_text`)."""
    values = item.model_dump()
    if kind == "genetic_findings":
        values["hgvs"] = getattr(item, "variant_text", None)
    return values


def errors_of(exc: ValidationError) -> dict[str, str]:
    """Field name -> reason, for showing next to the inputs."""
    out: dict[str, str] = {}
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if not isinstance(p, int)]
        name = loc[-1] if loc else "form"
        if name == "expressions":
            name = "hgvs"
        out.setdefault(name, e.get("msg", "invalid"))
    return out

