"""GA4GH Phenopacket v2 JSON in: single files, directories (nested) and ZIP archives."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast, get_args

from raredx.engine import Case
from raredx.engine._case import Sex
from raredx.errors import InputError, Message, Problem
from raredx.io._archive import is_zip, zip_members
from raredx.ontology import onset as onsets

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


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
    found = 0
    for source, raw in _documents(path):
        found += 1
        rec = _parse(source, raw) if isinstance(raw, bytes) else raw
        if isinstance(rec, Problem):
            if problems is None:
                raise InputError(f"{rec.record}: {rec.reason}; {rec.solution}")
            problems.append(rec)
        else:
            yield rec
    if not found:
        raise InputError(f"{path}: no phenopacket JSON files (*.json) found; point at a file, a directory or a ZIP of them.")


def _documents(path: Path) -> Iterator[tuple[str, bytes | Problem]]:
    """(source, raw bytes) of every JSON document in a file, a directory or a ZIP (a Problem for one that is too large
    or cannot be read, such as a damaged member of a ZIP)."""
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*.json") if p.is_file()):
            try:
                yield str(f), f.read_bytes()
            except OSError as exc:
                yield str(f), Problem(str(f), "", Message(f"cannot be read ({exc.strerror or exc})", "import.unreadable",
                                                     error=str(exc.strerror or exc)),
                                     solution=Message("check its permissions.", "import.unreadable.fix"))
    elif is_zip(path):
        yield from zip_members(path, ".json", MAX_DOCUMENT_BYTES, _too_large)
    else:
        try:
            yield str(path), path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or exc}); check the file and its permissions.") from exc


def _too_large(source: str) -> Problem:
    return Problem(source, "", Message(f"larger than {MAX_DOCUMENT_BYTES // 2**20} MiB", "import.too_large",
                                       mib=MAX_DOCUMENT_BYTES // 2**20),
                   solution=Message("a phenopacket is far smaller; is this the right file?", "import.too_large.fix"))


def _parse(source: str, raw: bytes) -> PhenopacketRecord | Problem:
    if len(raw) > MAX_DOCUMENT_BYTES:
        return _too_large(source)
    if not raw.strip():
        return Problem(source, "", Message("is empty", "import.empty"),
                       solution=Message("give a phenopacket: a JSON object with 'phenotypicFeatures'.", "import.empty.fix"))
    try:
        doc = json.loads(raw)
    except UnicodeDecodeError:
        return Problem(source, "", Message("is not UTF-8 text", "import.not_utf8"),
                       solution=Message("give a phenopacket JSON file.", "import.not_utf8.fix"))
    except json.JSONDecodeError as exc:
        return Problem(source, "", Message(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                                           "import.bad_json", line=exc.lineno, column=exc.colno, error=exc.msg),
                       solution=Message("fix or remove the file.", "import.bad_json.fix"))
    if not isinstance(doc, dict):
        return Problem(source, "", Message("the JSON is not an object", "import.not_json_object"),
                       solution=Message("a phenopacket is a JSON object with 'phenotypicFeatures'.",
                                        "import.not_json_object.fix"))
    return PhenopacketRecord(source, doc)


def _get(doc: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(k)
    return doc


def _list(value: Any) -> list[Any]:
    """A list field of a phenopacket, or none (a field of another type is not one)."""
    return value if isinstance(value, list) else []


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
        return onsets.ANTENATAL
    return None


def case_from_phenopacket(doc: dict[str, Any], source: str = "phenopacket") -> Case:
    """The engine's view of a phenopacket. Raises :class:`InputError` naming the field that is wrong."""
    feats = doc.get("phenotypicFeatures", [])
    if not isinstance(feats, list):
        raise InputError(f"{source}: phenotypicFeatures must be a list of features with type.id.")
    features: list[tuple[str, bool, Any]] = []
    for i, f in enumerate(feats):
        tid = _get(f, "type", "id")
        if not isinstance(tid, str) or not tid.strip():
            raise InputError(f"{source}: phenotypicFeatures[{i}].type.id is missing; every feature needs an HPO id.")
        excl = f.get("excluded", False)
        if not isinstance(excl, bool):
            raise InputError(f"{source}: phenotypicFeatures[{i}].excluded must be true or false, not {excl!r}.")
        features.append((tid, excl, f.get("onset")))
    pmids = []
    for ref in _list(_get(doc, "metaData", "externalReferences")):
        m = re.fullmatch(r"PMID:\s*(\d+)", str(_get(ref, "id") or ""))
        if m:
            pmids.append(int(m.group(1)))
    return case_from_features(features, sex=_get(doc, "subject", "sex"), age=_get(doc, "subject", "timeAtLastEncounter"),
                              disease_onsets=[_get(d, "onset") for d in _list(doc.get("diseases"))],
                              id=str(doc.get("id") or source), source_pmids=tuple(pmids))


def case_from_features(
    features: Iterable[tuple[str, bool, Any]],
    *,
    sex: Any = None,
    age: Any = None,
    disease_onsets: Iterable[Any] = (),
    id: str = "",
    source_pmids: tuple[int, ...] = (),
) -> Case:
    """A case from phenopacket-shaped parts (a phenopacket, a stored patient, a form): features as (HPO id,
    excluded, onset TimeElement or None), the subject's sex (``MALE``/``FEMALE``, any case) and age at last
    encounter (a TimeElement). The onset is the first disease's, else the earliest of the observed features'."""
    observed: list[str] = []
    excluded: list[str] = []
    onset_values: list[str] = []
    for term_id, is_excluded, onset_element in features:
        (excluded if is_excluded else observed).append(term_id)
        value = _time_element(onset_element)
        if value and not is_excluded:
            onset_values.append(value)
    onset = next((o for el in disease_onsets if (o := _time_element(el))), None)
    if onset is None and onset_values:
        onset = min(onset_values, key=_onset_sort_key)
    sex_value = sex.lower() if isinstance(sex, str) and sex.lower() in get_args(Sex) else None
    return Case(observed=tuple(observed), excluded=tuple(excluded), sex=cast("Sex | None", sex_value), onset=onset,
                age=_time_element(age), id=id, source_pmids=source_pmids)


def _onset_sort_key(value: str) -> float:
    years = onsets.parse_iso_age(value)
    return years if years is not None else 1e9


def diagnosis_ids(doc: dict[str, Any]) -> list[str]:
    """The diagnosed disease ids of a phenopacket (``interpretations[].diagnosis.disease.id``)."""
    out = []
    for interp in doc.get("interpretations") or []:
        did = _get(interp, "diagnosis", "disease", "id")
        if isinstance(did, str):
            out.append(did)
    return out
