"""Readers for the official release files. Each returns plain records; assembly is in ``_build``."""

from __future__ import annotations

import csv
import gzip
import html
import io
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from raredx.errors import KnowledgeBaseError

# HPO frequency terms -> a representative probability (midpoints of the ranges HPO defines).
FREQUENCY_TERMS = {
    "HP:0040280": 1.0,  # Obligate
    "HP:0040281": 0.9,  # Very frequent 80-99%
    "HP:0040282": 0.55,  # Frequent 30-79%
    "HP:0040283": 0.17,  # Occasional 5-29%
    "HP:0040284": 0.025,  # Very rare 1-4%
    "HP:0040285": 0.0,  # Excluded 0%
}

ORPHANET_INHERITANCE = {
    "Autosomal dominant": "HP:0000006",
    "Autosomal recessive": "HP:0000007",
    "X-linked recessive": "HP:0001419",
    "X-linked dominant": "HP:0001423",
    "Mitochondrial inheritance": "HP:0001427",
    "Y-linked": "HP:0001450",
    "Multigenic/multifactorial": "HP:0001426",
    "Semi-dominant": "HP:0032113",
    "Oligogenic": "HP:0010983",
}


def open_text(path: Path) -> IO[str]:
    """Open a plain or gzip-compressed text file."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def open_binary(path: Path) -> io.BufferedIOBase:
    return gzip.GzipFile(path, "rb") if path.suffix == ".gz" else open(path, "rb")


# -- phenotype.hpoa ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HpoaRow:
    disease_id: str
    disease_name: str
    negated: bool
    term_id: str
    references: tuple[str, ...]
    onset: str
    frequency: float | None  # None when the annotation gives none
    sex: str  # "", "MALE" or "FEMALE"
    aspect: str  # P phenotype, I inheritance, C clinical course/onset, M modifier, H history


def parse_frequency(text: str) -> float | None:
    """An HPOA frequency (HPO frequency term, n/m or percentage) as a probability; None if absent."""
    text = text.strip()
    if not text:
        return None
    if text in FREQUENCY_TERMS:
        return FREQUENCY_TERMS[text]
    m = re.fullmatch(r"(\d+)\s*/\s*(\d+)", text)
    if m:
        # Laplace's rule of succession: 1/1 from a single patient is not "obligate"; 0/m stays 0 (NOT)
        n, d = int(m.group(1)), int(m.group(2))
        if not d:
            return None
        return 0.0 if n == 0 else min(1.0, (n + 1) / (d + 2))
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", text)
    if m:
        return min(1.0, float(m.group(1)) / 100.0)
    return None


def read_hpoa(path: Path) -> tuple[str, list[HpoaRow]]:
    """Read ``phenotype.hpoa``: (version, rows)."""
    version = ""
    rows: list[HpoaRow] = []
    header: list[str] | None = None
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("#"):
                if line.startswith("#version:"):
                    version = line.split(":", 1)[1].strip()
                continue
            parts = line.rstrip("\n").split("\t")
            if header is None:
                header = parts
                if header[:4] != ["database_id", "disease_name", "qualifier", "hpo_id"]:
                    raise KnowledgeBaseError(
                        f"{path}: line {lineno} is not the phenotype.hpoa header "
                        "(database_id, disease_name, qualifier, hpo_id, ...); use the official HPOA file."
                    )
                continue
            if len(parts) < 11:
                raise KnowledgeBaseError(f"{path}: line {lineno} has {len(parts)} columns, expected 12.")
            rows.append(
                HpoaRow(
                    disease_id=parts[0],
                    disease_name=parts[1],
                    negated=parts[2].strip().upper() == "NOT",
                    term_id=parts[3],
                    references=tuple(r for r in parts[4].split(";") if r),
                    onset=parts[6],
                    frequency=parse_frequency(parts[7]),
                    sex=parts[8].strip().upper(),
                    aspect=parts[10].strip(),
                )
            )
    if header is None:
        raise KnowledgeBaseError(f"{path} is empty; use the official phenotype.hpoa release.")
    return version, rows


# -- genes_to_disease.txt ---------------------------------------------------------------------
GENE_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")  # "-" and blanks in the release are not genes
ASSOCIATION_TYPES = ("MENDELIAN", "POLYGENIC", "UNKNOWN")


def read_genes_to_disease(path: Path) -> dict[str, dict[str, str]]:
    """disease id -> {gene symbol: association type (MENDELIAN, POLYGENIC or UNKNOWN)}."""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    with open_text(path) as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        if not header or "gene_symbol" not in header or "disease_id" not in header:
            raise KnowledgeBaseError(
                f"{path}: missing header with gene_symbol and disease_id; use the official genes_to_disease.txt."
            )
        gi, di = header.index("gene_symbol"), header.index("disease_id")
        ai = header.index("association_type") if "association_type" in header else None
        for row in reader:
            if len(row) <= max(gi, di) or not GENE_SYMBOL.fullmatch(row[gi]):
                continue
            kind = row[ai].upper() if ai is not None and len(row) > ai else "UNKNOWN"
            out[row[di]][row[gi]] = kind if kind in ASSOCIATION_TYPES else "UNKNOWN"
    return dict(out)


# -- Mondo SSSOM -----------------------------------------------------------------------------
def read_sssom_exact(path: Path) -> tuple[str, list[tuple[str, str]]]:
    """(mapping_set_version, [(MONDO id, other id)]) for skos:exactMatch rows."""
    version = ""
    pairs: list[tuple[str, str]] = []
    header: list[str] | None = None
    with open_text(path) as fh:
        for line in fh:
            if line.startswith("#"):
                if "mapping_set_version:" in line:
                    version = line.split("mapping_set_version:", 1)[1].strip()
                continue
            parts = line.rstrip("\n").split("\t")
            if header is None:
                header = parts
                if "subject_id" not in header or "object_id" not in header:
                    raise KnowledgeBaseError(f"{path}: not an SSSOM table (no subject_id/object_id columns).")
                si, pi, oi = header.index("subject_id"), header.index("predicate_id"), header.index("object_id")
                continue
            if len(parts) > oi and parts[pi] == "skos:exactMatch":
                obj = parts[oi].replace("Orphanet:", "ORPHA:")
                pairs.append((parts[si], obj))
    m = re.search(r"releases/([0-9-]+)/", version)
    return (m.group(1) if m else version), pairs


# -- Orphanet XML ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OrphaDisorder:
    orpha_id: str
    name: str
    synonyms: tuple[str, ...]
    icd10: tuple[str, ...]
    omim_exact: tuple[str, ...]
    omim_narrower: tuple[str, ...]  # OMIM entries this (broader) Orphanet disorder includes
    mondo_exact: tuple[str, ...]
    definition: str = ""  # Orphanet's definition text, plain


def _iter_disorders(path: Path) -> Iterator[tuple[str, str, ET.Element]]:
    """(JDBOR date, ORPHA id, Disorder element) for every top-level disorder with an OrphaCode; elements are
    cleared after use."""
    date = ""
    depth = 0
    try:
        with open_binary(path) as fh:
            for event, elem in ET.iterparse(fh, events=("start", "end")):
                if event == "start":
                    depth += 1
                    if elem.tag == "JDBOR":
                        date = (elem.get("date") or "").split(" ")[0]
                    continue
                depth -= 1
                if elem.tag == "Disorder" and depth == 2:
                    code = elem.findtext("OrphaCode")
                    if code:
                        yield date, f"ORPHA:{code}", elem
                    elem.clear()
    except ET.ParseError as exc:
        raise KnowledgeBaseError(f"{path}: not well-formed Orphanet XML ({exc}); use the official Orphadata file.") from exc


def read_orphanet_product1(path: Path) -> tuple[str, list[OrphaDisorder]]:
    out: list[OrphaDisorder] = []
    date = ""
    for date, orpha_id, d in _iter_disorders(path):
        icd10, omim, narrower, mondo = [], [], [], []
        for ref in d.iterfind("ExternalReferenceList/ExternalReference"):
            src = ref.findtext("Source")
            val = ref.findtext("Reference") or ""
            rel = ref.findtext("DisorderMappingRelation/Name") or ""
            if src == "ICD-10":
                icd10.append(val)
            elif src == "OMIM" and rel.startswith("E "):
                omim.append(f"OMIM:{val}")
            elif src == "OMIM" and rel.startswith("BTNT"):
                narrower.append(f"OMIM:{val}")
            elif src == "MONDO" and rel.startswith("E "):
                mondo.append(f"MONDO:{val}")
        out.append(
            OrphaDisorder(
                orpha_id=orpha_id,
                name=d.findtext("Name") or "",
                synonyms=tuple(s.text or "" for s in d.iterfind("SynonymList/Synonym")),
                icd10=tuple(icd10),
                omim_exact=tuple(omim),
                omim_narrower=tuple(narrower),
                mondo_exact=tuple(mondo),
                definition=_definition(d),
            )
        )
    if not out:
        raise KnowledgeBaseError(f"{path}: no Orphanet disorders found; use en_product1.xml from Orphadata.")
    return date, out


def _definition(d: ET.Element) -> str:
    for section in d.iterfind("SummaryInformationList/SummaryInformation/TextSectionList/TextSection"):
        if section.findtext("TextSectionType/Name") == "Definition":
            return re.sub(r"<[^>]+>", "", html.unescape(section.findtext("Contents") or "")).strip()
    return ""


# -- phenotypes mined from Orphanet's definitions (a file raredx derives; see raredx.extract.definitions) -----
DEFINITIONS_HEADER = "# raredx: HPO terms in Orphanet definitions; product1 sha256 "


def read_definition_terms(path: Path) -> tuple[str, list[tuple[str, str]]]:
    """(sha256 of the en_product1 the terms were mined from, [(ORPHA id, HPO id)])."""
    with open_text(path) as fh:
        first = fh.readline()
        if not first.startswith(DEFINITIONS_HEADER):
            raise KnowledgeBaseError(f"{path}: not a raredx definition-terms file; run `raredx data update` to derive it.")
        rows = [tuple(line.rstrip("\n").split("\t")[:2]) for line in fh if line.strip() and not line.startswith("#")]
    return first[len(DEFINITIONS_HEADER):].strip(), [(a, b) for a, b in rows]


@dataclass(frozen=True, slots=True)
class OrphaNaturalHistory:
    orpha_id: str
    onsets: tuple[str, ...]  # Orphanet age-of-onset labels (Neonatal, Infancy, ...)
    inheritance: tuple[str, ...]  # HPO mode-of-inheritance ids


def read_orphanet_product9(path: Path) -> tuple[str, list[OrphaNaturalHistory]]:
    out: list[OrphaNaturalHistory] = []
    date = ""
    for date, orpha_id, d in _iter_disorders(path):
        onsets = tuple(e.findtext("Name") or "" for e in d.iterfind("AverageAgeOfOnsetList/AverageAgeOfOnset"))
        inh = tuple(
            ORPHANET_INHERITANCE[n]
            for n in (e.findtext("Name") or "" for e in d.iterfind("TypeOfInheritanceList/TypeOfInheritance"))
            if n in ORPHANET_INHERITANCE
        )
        out.append(OrphaNaturalHistory(orpha_id, onsets, inh))
    return date, out
