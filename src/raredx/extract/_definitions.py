"""Phenotypes stated in Orphanet's disease definitions, found by the text recogniser.

Orphanet defines most disorders in a sentence or two ("A rare syndrome characterized by macrocephaly,
epiphyseal dysplasia and joint swelling ..."). The terms found there become annotations of the disease
(``kb`` reads the file written here): knowledge for diseases whose HPO annotations are sparse.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

from raredx.extract._extractor import Extractor
from raredx.kb import KnowledgeBase, find_source_files, sha256
from raredx.kb._readers import DEFINITIONS_HEADER, read_orphanet_product1

DEFINITIONS_FILE = "orphanet_definition_terms.tsv.gz"


def write_definition_terms(data_dir: Path, kb: KnowledgeBase, extractor: Extractor | None = None) -> Path:
    """Mine the definitions of ``data_dir``'s en_product1 into ``data_dir/orphanet_definition_terms.tsv.gz``
    (one ``ORPHA id, HPO id, the words`` row per term stated as present)."""
    product1 = find_source_files(data_dir)["orphanet_product1"]
    extractor = extractor or Extractor.from_ontology(kb.ontology)
    _, disorders = read_orphanet_product1(product1)
    out = data_dir / DEFINITIONS_FILE
    with io.TextIOWrapper(gzip.GzipFile(out, "wb", mtime=0), encoding="utf-8") as fh:  # reproducible bytes
        fh.write(f"{DEFINITIONS_HEADER}{sha256(product1)}\n")
        fh.write(f"# from {product1.name} with raredx's English recogniser over {kb.ontology.version}\n")
        for d in disorders:
            seen: set[str] = set()
            for t in extractor.extract(d.definition, "en") if d.definition else ():
                if not (t.excluded or t.family or t.onset or t.id in seen):
                    seen.add(t.id)
                    fh.write(f"{d.orpha_id}\t{t.id}\t{t.text}\n")
    return out
