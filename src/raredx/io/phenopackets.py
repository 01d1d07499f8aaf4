"""GA4GH Phenopacket v2 JSON in: single files, directories (nested) and ZIP archives."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from raredx.engine import Case
from raredx.errors import InputError

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad record: where it is, which field, what is wrong and what to do."""

    source: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.field}: {self.message}" if self.field else f"{self.source}: {self.message}"


@dataclass(frozen=True, slots=True)
class PhenopacketRecord:
    source: str  # file name (inside the archive, for ZIPs)
    document: dict[str, Any]


def iter_phenopackets(path: str | Path, problems: list[Problem] | None = None) -> Iterator[PhenopacketRecord]:
    """Yield every phenopacket in a JSON file, a directory (searched recursively) or a ZIP.

    Unreadable documents are appended to ``problems`` (if given) and skipped; with ``problems=None``
    the first one raises :class:`InputError`.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory; give a phenopacket JSON file, a directory or a ZIP.")

    def bad(source: str, message: str) -> None:
        if problems is None:
            raise InputError(f"{source}: {message}")
        problems.append(Problem(source, "", message))

    def parse(source: str, raw: bytes) -> PhenopacketRecord | None:
        if len(raw) > MAX_DOCUMENT_BYTES:
            bad(source, f"larger than {MAX_DOCUMENT_BYTES // 2**20} MiB; a phenopacket is far smaller — is this the right file?")
            return None
        try:
            doc = json.loads(raw)
        except UnicodeDecodeError:
            bad(source, "is not UTF-8 text; give a phenopacket JSON file.")
            return None
        except json.JSONDecodeError as exc:
            bad(source, f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; fix or remove the file.")
            return None
        if not isinstance(doc, dict):
            bad(source, "the JSON is not an object; a phenopacket is a JSON object with 'phenotypicFeatures'.")
            return None
        return PhenopacketRecord(source, doc)

    found = 0
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*.json") if p.is_file()):
            found += 1
            rec = parse(str(f), f.read_bytes())
            if rec:
                yield rec
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                if info.is_dir() or not info.filename.endswith(".json") or "/__MACOSX/" in f"/{info.filename}":
                    continue
                found += 1
                if info.file_size > MAX_DOCUMENT_BYTES:
                    bad(f"{path}!{info.filename}", f"larger than {MAX_DOCUMENT_BYTES // 2**20} MiB; not a phenopacket.")
                    continue
                rec = parse(f"{path}!{info.filename}", zf.read(info))
                if rec:
                    yield rec
    else:
        found += 1
        rec = parse(str(path), path.read_bytes())
        if rec:
            yield rec
    if not found:
        raise InputError(f"{path}: no phenopacket JSON files (*.json) found; point at a file, a directory or a ZIP of them.")


def _get(doc: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(k)  # type: ignore[assignment]
    return doc


def _time_element(el: Any) -> str | None:
    """An onset / age TimeElement as an ISO 8601 duration or an HPO onset term id."""
    if not isinstance(el, dict):
        return None
    iso = _get(el, "age", "iso8601duration")
    if isinstance(iso, str):
        return iso
    term = _get(el, "ontologyClass", "id")
    if isinstance(term, str):
        return term
    if "gestationalAge" in el:
        return "HP:0030674"  # antenatal onset
    return None


def case_from_phenopacket(doc: dict[str, Any], source: str = "phenopacket") -> Case:
    """The engine's view of a phenopacket. Raises :class:`InputError` naming the field that is wrong."""
    feats = doc.get("phenotypicFeatures", [])
    if not isinstance(feats, list):
        raise InputError(f"{source}: phenotypicFeatures must be a list of features with type.id.")
    observed: list[str] = []
    excluded: list[str] = []
    onsets: list[str] = []
    for i, f in enumerate(feats):
        tid = _get(f, "type", "id")
        if not isinstance(tid, str) or not tid.strip():
            raise InputError(f"{source}: phenotypicFeatures[{i}].type.id is missing; every feature needs an HPO id.")
        excl = f.get("excluded", False)
        if not isinstance(excl, bool):
            raise InputError(f"{source}: phenotypicFeatures[{i}].excluded must be true or false, not {excl!r}.")
        (excluded if excl else observed).append(tid)
        onset = _time_element(f.get("onset"))
        if onset and not excl:
            onsets.append(onset)
    onset = next((o for d in doc.get("diseases") or [] if (o := _time_element(_get(d, "onset")))), None)
    if onset is None and onsets:
        onset = min(onsets, key=_onset_sort_key)
    sex = _get(doc, "subject", "sex")
    sex = sex.lower() if isinstance(sex, str) and sex.upper() in ("MALE", "FEMALE") else None
    pmids = []
    for ref in _get(doc, "metaData", "externalReferences") or []:
        m = re.fullmatch(r"PMID:\s*(\d+)", str(_get(ref, "id") or ""))
        if m:
            pmids.append(int(m.group(1)))
    return Case(
        observed=tuple(observed),
        excluded=tuple(excluded),
        sex=sex,
        onset=onset,
        age=_time_element(_get(doc, "subject", "timeAtLastEncounter")),
        id=str(doc.get("id") or source),
        source_pmids=tuple(pmids),
    )


def _onset_sort_key(value: str) -> float:
    from raredx.kb import parse_iso_age

    years = parse_iso_age(value)
    return years if years is not None else 1e9


def diagnosis_ids(doc: dict[str, Any]) -> list[str]:
    """The diagnosed disease ids of a phenopacket (``interpretations[].diagnosis.disease.id``)."""
    out = []
    for interp in doc.get("interpretations") or []:
        did = _get(interp, "diagnosis", "disease", "id")
        if isinstance(did, str):
            out.append(did)
    return out
