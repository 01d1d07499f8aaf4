"""Where the knowledge comes from: the official release files, their URLs, and where they are found."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from raredx import config
from raredx.errors import KnowledgeBaseError


@dataclass(frozen=True, slots=True)
class Source:
    key: str
    patterns: tuple[str, ...]  # glob patterns tried in a data directory, newest name wins
    url: str  # the official download location
    filename: str  # the name `raredx data update` saves it under
    what: str
    derived: bool = False  # made by raredx from the releases (not downloaded); optional in a data directory


SOURCES: tuple[Source, ...] = (
    Source("hp_obo", ("hp.obo", "hp.obo.gz"), "http://purl.obolibrary.org/obo/hp.obo", "hp.obo",
           "Human Phenotype Ontology (OBO)"),
    Source("hpoa", ("phenotype.hpoa", "phenotype.hpoa.gz"), "http://purl.obolibrary.org/obo/hp/hpoa/phenotype.hpoa",
           "phenotype.hpoa", "HPO disease annotations"),
    Source("genes", ("genes_to_disease.txt", "genes_to_disease.txt.gz"),
           "http://purl.obolibrary.org/obo/hp/hpoa/genes_to_disease.txt", "genes_to_disease.txt",
           "HPO gene-disease links"),
    Source("orphanet_product1", ("en_product1*.xml", "en_product1*.xml.gz"),
           "https://www.orphadata.com/data/xml/en_product1.xml", "en_product1.xml",
           "Orphanet nomenclature and cross-references"),
    Source("orphanet_product9", ("en_product9_ages*.xml", "en_product9_ages*.xml.gz"),
           "https://www.orphadata.com/data/xml/en_product9_ages.xml", "en_product9_ages.xml",
           "Orphanet age of onset and inheritance"),
    Source("mondo_omim", ("mondo_exactmatch_omim.sssom.tsv", "mondo_exactmatch_omim.sssom.tsv.gz"),
           "https://raw.githubusercontent.com/monarch-initiative/mondo/master/src/ontology/mappings/"
           "mondo_exactmatch_omim.sssom.tsv", "mondo_exactmatch_omim.sssom.tsv", "Mondo exact matches to OMIM"),
    Source("mondo_orphanet", ("mondo_exactmatch_orphanet.sssom.tsv", "mondo_exactmatch_orphanet.sssom.tsv.gz"),
           "https://raw.githubusercontent.com/monarch-initiative/mondo/master/src/ontology/mappings/"
           "mondo_exactmatch_orphanet.sssom.tsv", "mondo_exactmatch_orphanet.sssom.tsv",
           "Mondo exact matches to Orphanet"),
    Source("orphanet_definitions", ("orphanet_definition_terms.tsv", "orphanet_definition_terms.tsv.gz"), "",
           "orphanet_definition_terms.tsv", "HPO terms raredx found in Orphanet's definitions", derived=True),
)
RELEASES = tuple(s for s in SOURCES if not s.derived)


def resolve_data_dir(explicit: str | Path | None = None) -> Path:
    """Explicit argument, then ``RAREDX_DATA_DIR``, then an updated release, then the bundled one."""
    chosen = config.data_dir(explicit)
    if chosen is not None:
        return chosen
    updated = config.releases_dir()
    if updated.is_dir() and all(_find(updated, s) for s in RELEASES):
        return updated
    return config.bundled_data_dir()


def _find(directory: Path, source: Source) -> Path | None:
    hits: list[Path] = []
    for pattern in source.patterns:
        hits.extend(p for p in directory.glob(pattern) if p.is_file())
    return max(hits, key=lambda p: p.name) if hits else None


def find_source_files(directory: Path) -> dict[str, Path]:
    """The file for every source in ``directory``; raises naming each missing release (derived files are optional)."""
    if not directory.is_dir():
        raise KnowledgeBaseError(f"knowledge-base directory {directory} does not exist; pass an existing --data-dir.")
    found = {s.key: _find(directory, s) for s in SOURCES}
    missing = [s for s in RELEASES if found[s.key] is None]
    if missing:
        names = "; ".join(f"{s.filename} ({s.what})" for s in missing)
        raise KnowledgeBaseError(
            f"{directory} lacks {names}. Put the official release files there (plain or .gz), "
            "or run `raredx data update`."
        )
    return {k: v for k, v in found.items() if v is not None}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
