"""Assembling the knowledge base from the release files, and its on-disk binary cache."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import mmap
import os
import re
import struct
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from raredx import config
from raredx.errors import KnowledgeBaseError, RaredxError
from raredx.kb import _readers as readers
from raredx.kb._names import NameMatcher
from raredx.kb._onset import hpo_onset_bins, orphanet_onset_bins
from raredx.kb._sources import SOURCES, find_source_files, resolve_data_dir, sha256
from raredx.ontology import MODE_OF_INHERITANCE, ONSET, Ontology, parse_obo

log = logging.getLogger(__name__)

CACHE_FORMAT = 11  # bump when the compiled layout or its derivation changes
SEX_ANY, SEX_MALE, SEX_FEMALE = 0, 1, 2
ORIGIN_HPOA, ORIGIN_NAME, ORIGIN_DEFINITION = 0, 1, 2  # where an annotation comes from
_SEX_CODES = {"": SEX_ANY, "MALE": SEX_MALE, "FEMALE": SEX_FEMALE}
_PREFIX_ORDER = {"OMIM": 0, "ORPHA": 1, "DECIPHER": 2, "MONDO": 3}


@dataclass(frozen=True, slots=True)
class SourceInfo:
    key: str
    file: str
    version: str
    sha256: str
    url: str


@dataclass(frozen=True, slots=True)
class Concept:
    """One disease as shown to the user: equivalent OMIM / ORPHA / MONDO ids merged."""

    index: int
    ids: tuple[str, ...]
    name: str
    genes: tuple[str, ...]  # Mendelian genes first, then genes of unknown type, then polygenic ones
    inheritance: tuple[str, ...]  # HPO mode-of-inheritance term ids
    onset_bins: int  # bit mask over raredx.kb.onset BINS; 0 = unknown
    icd10: tuple[str, ...]
    synonyms: tuple[str, ...]
    broader: tuple[int, ...] = ()  # concepts of Orphanet disorders that include this one (BTNT mappings)
    gene_associations: tuple[str, ...] = ()  # of each gene: "mendelian", "unknown" or "polygenic"

    @property
    def causal_genes(self) -> tuple[str, ...]:
        """Genes whose variants can cause the disease (polygenic risk and modifier-type links left out)."""
        kinds = self.gene_associations or ("unknown",) * len(self.genes)
        return tuple(g for g, kind in zip(self.genes, kinds) if kind != "polygenic")


@dataclass(frozen=True, slots=True)
class Annotations:
    """Phenotype annotations of all concepts as parallel arrays (one row per source annotation)."""

    concept: np.ndarray  # int32
    term: np.ndarray  # int32, ontology index
    frequency: np.ndarray  # float32, NaN when the source gives none
    negated: np.ndarray  # bool, a NOT annotation
    sex: np.ndarray  # int8, SEX_ANY / SEX_MALE / SEX_FEMALE
    source: np.ndarray  # int32, index into KnowledgeBase.source_diseases
    ref_ptr: np.ndarray  # int64, CSR pointer into ref_pmid
    ref_pmid: np.ndarray  # int64, PubMed id of each reference, -1 for non-PubMed references
    origin: np.ndarray  # int8: ORIGIN_HPOA, ORIGIN_NAME (named in the disease's name) or ORIGIN_DEFINITION

    def __len__(self) -> int:
        return len(self.concept)

    @property
    def from_name(self) -> np.ndarray:
        """A phenotype named in the disease's own name (see kb/_names.py)."""
        return self.origin == ORIGIN_NAME

    @property
    def from_definition(self) -> np.ndarray:
        """A phenotype stated in Orphanet's definition of the disease (found by raredx's text recogniser)."""
        return self.origin == ORIGIN_DEFINITION

    def concept_pmids(self) -> np.ndarray:
        """The distinct (concept, PubMed id) pairs of the annotations' references, as a (2, n) array."""
        row = np.repeat(np.arange(len(self)), np.diff(self.ref_ptr))
        ok = self.ref_pmid >= 0
        return np.unique(np.stack([self.concept[row[ok]].astype(np.int64), self.ref_pmid[ok]]), axis=1)


class KnowledgeBase:
    """The ontology, the disease concepts and their annotations, with provenance."""

    def __init__(
        self,
        ontology: Ontology,
        concepts: list[Concept],
        annotations: Annotations,
        source_diseases: list[str],
        sources: list[SourceInfo],
    ) -> None:
        self.ontology = ontology
        self.concepts = concepts
        self.annotations = annotations
        self.source_diseases = source_diseases
        self.sources = sources
        self._by_id = {cid: c.index for c in concepts for cid in c.ids}

    @property
    def fingerprint(self) -> str:
        """A digest of the source files and the compiled layout: equal fingerprints, equal knowledge."""
        return sha256_text(json.dumps([CACHE_FORMAT, sorted((s.key, s.sha256) for s in self.sources)]))[:16]

    @property
    def version(self) -> str:
        v = {s.key: s.version for s in self.sources}
        return (
            f"hp {v.get('hp_obo', '?')}; hpoa {v.get('hpoa', '?')}; orphanet {v.get('orphanet_product1', '?')}; "
            f"mondo {v.get('mondo_omim', '?')}"
        )

    def concept(self, disease_id: str) -> Concept | None:
        """The concept holding ``disease_id`` (OMIM:…, ORPHA:…, MONDO:…), or None."""
        i = self._by_id.get(_normalise_disease_id(disease_id))
        return None if i is None else self.concepts[i]

    def __repr__(self) -> str:
        return f"KnowledgeBase({len(self.concepts)} concepts, {len(self.annotations)} annotations; {self.version})"

    # -- cache ------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        o, a = self.ontology, self.annotations
        meta = {
            "format": CACHE_FORMAT,
            "ontology": {
                "version": o.version,
                "ids": o.ids,
                "labels": o.labels,
                "synonyms": o.synonyms,
                "redirects": o.redirects,
                "obsolete": o.obsolete,
            },
            "concepts": [asdict(c) for c in self.concepts],
            "source_diseases": self.source_diseases,
            "sources": [asdict(s) for s in self.sources],
        }
        blob = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        arrays = {"meta": blob, "parent_ptr": o.parent_ptr, "parent_idx": o.parent_idx, "anc_ptr": o.anc_ptr,
                  "anc_idx": o.anc_idx}
        arrays.update({f"ann_{k}": v for k, v in asdict(a).items()})
        atomic_save_npz(path, arrays)

    @classmethod
    def load(cls, path: Path) -> KnowledgeBase:
        z = load_npz(path)
        meta = json.loads(z["meta"].tobytes().decode("utf-8"))
        if meta.get("format") != CACHE_FORMAT:
            raise KnowledgeBaseError(f"{path} has an old cache format; it will be rebuilt.")
        om = meta["ontology"]
        ontology = Ontology(
            version=om["version"],
            ids=om["ids"],
            labels=om["labels"],
            synonyms=[tuple(s) for s in om["synonyms"]],
            parent_ptr=z["parent_ptr"],
            parent_idx=z["parent_idx"],
            redirects=om["redirects"],
            obsolete={k: tuple(v) for k, v in om["obsolete"].items()},
            closure=(z["anc_ptr"], z["anc_idx"]),
        )
        ann = Annotations(**{k[4:]: v for k, v in z.items() if k.startswith("ann_")})
        concepts = [Concept(**{k: tuple(v) if isinstance(v, list) else v for k, v in c.items()})  # type: ignore[arg-type]  # JSON of asdict(Concept)
                    for c in meta["concepts"]]
        sources = [SourceInfo(**s) for s in meta["sources"]]
        return cls(ontology, concepts, ann, meta["source_diseases"], sources)


def load_knowledge_base(
    data_dir: str | Path | None = None, *, cache: str | Path | None = None, rebuild: bool = False
) -> KnowledgeBase:
    """Load the knowledge base: from the binary cache when the source checksums match, else built anew.

    ``data_dir``: a directory with the release files (default: see :func:`resolve_data_dir`).
    ``cache``: the cache directory (default ``RAREDX_CACHE_DIR`` or ``~/.cache/raredx``).
    """
    files = find_source_files(resolve_data_dir(data_dir))
    digests = {k: sha256(p) for k, p in files.items()}
    key = sha256_text(json.dumps([CACHE_FORMAT, sorted(digests.items())]))[:16]  # == KnowledgeBase.fingerprint
    path = config.cache_dir(cache) / f"kb-{key}.npz"
    if path.exists() and not rebuild:
        try:
            return KnowledgeBase.load(path)
        except Exception as exc:  # noqa: BLE001 - a damaged or outdated cache is rebuilt, never fatal
            log.warning("rebuilding the knowledge-base cache %s: %s", path, exc)
    kb = build_knowledge_base(files, digests)
    try:
        kb.save(path)
    except OSError as exc:  # a read-only home still works, only slower
        log.warning("could not write the knowledge-base cache %s: %s", path, exc)
    return kb


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def atomic_save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an .npz so that a crash or a concurrent reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as the allow_pickle flag
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz written by :func:`atomic_save_npz`, memory-mapped read-only from the file (so the
    processes of a server that load the same cache share one copy in memory); a compressed member, or one of
    another layout, is read into memory as :func:`numpy.load` does."""
    out: dict[str, np.ndarray] = {}
    with path.open("rb") as fh, zipfile.ZipFile(fh) as zf:
        whole = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        for info in zf.infolist():
            name = info.filename.removesuffix(".npy")
            array = _mapped(whole, info) if info.compress_type == zipfile.ZIP_STORED else None
            if array is None:
                with zf.open(info) as member:
                    array = np.lib.format.read_array(member, allow_pickle=False)
            out[name] = array
    return out


def _mapped(whole: mmap.mmap, info: zipfile.ZipInfo) -> np.ndarray | None:
    """The array stored uncompressed as ``info``, as a view of the mapped file; None if it cannot be one."""
    local = info.header_offset
    if whole[local:local + 4] != b"PK\x03\x04":
        return None
    name_len, extra_len = struct.unpack("<HH", whole[local + 26:local + 30])
    start = local + 30 + name_len + extra_len
    member = io.BytesIO(whole[start:start + min(info.file_size, 1 << 16)])
    version = np.lib.format.read_magic(member)
    if version not in ((1, 0), (2, 0)):
        return None
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read_header(member)
    if dtype.hasobject:
        return None
    count = int(np.prod(shape, dtype=np.int64))
    offset = start + member.tell()
    if offset + count * dtype.itemsize > start + info.file_size:
        return None
    array = np.frombuffer(whole, dtype=dtype, count=count, offset=offset)
    return array.reshape(shape, order="F" if fortran else "C")


def _normalise_disease_id(disease_id: str) -> str:
    disease_id = disease_id.strip()
    if disease_id.startswith(("Orphanet:", "ORPHANET:")):
        return "ORPHA:" + disease_id.split(":", 1)[1]
    return disease_id


def build_knowledge_base(files: dict[str, Path], digests: dict[str, str] | None = None) -> KnowledgeBase:
    """Build from release files (keys as in :data:`SOURCES`), in phases: read the releases, merge equivalent
    diseases into concepts, collect the phenotype annotations (and inheritance and onset), describe each concept,
    add the phenotypes named in the diseases' names, record the sources."""
    digests = digests or {k: sha256(p) for k, p in files.items()}
    r = _read_releases(files)
    annotated = sorted({row.disease_id for row in r.rows})
    members, mondo_of = _merge_equivalents(annotated, r.omim_pairs, r.orpha_pairs)
    concept_of = {d: ci for ci, group in enumerate(members) for d in group}
    source_index = {d: i for i, d in enumerate(annotated)}
    cols = _Columns()
    inheritance, onset = _add_hpoa_rows(cols, r.ontology, r.rows, concept_of, source_index)
    _add_natural_history(members, r.history, inheritance, onset)
    names = {row.disease_id: row.disease_name for row in r.rows}
    concepts = _describe_concepts(members, mondo_of, names, r, inheritance, onset)
    _link_broader(concepts, r.orpha, concept_of)
    _add_name_terms(cols, NameMatcher(r.ontology), members, names, source_index)
    if "orphanet_definitions" in files:
        _add_definition_terms(cols, r.ontology, files, digests, concept_of, source_index)
    url = {s.key: s.url for s in SOURCES}
    sources = [SourceInfo(k, files[k].name, r.versions.get(k, ""), digests[k], url[k]) for k in files]
    return KnowledgeBase(r.ontology, concepts, cols.annotations(), annotated, sources)


@dataclass(frozen=True, slots=True)
class _Releases:
    """What the release files say, read once."""

    ontology: Ontology
    rows: list[readers.HpoaRow]
    genes: dict[str, dict[str, str]]
    orpha: list[readers.OrphaDisorder]
    history: list[readers.OrphaNaturalHistory]
    omim_pairs: list[tuple[str, str]]
    orpha_pairs: list[tuple[str, str]]
    versions: dict[str, str]


def _read_releases(files: dict[str, Path]) -> _Releases:
    with readers.open_text(files["hp_obo"]) as fh:
        doc = parse_obo(fh, source=str(files["hp_obo"]))
    hpoa_version, rows = readers.read_hpoa(files["hpoa"])
    orpha_date, orpha = readers.read_orphanet_product1(files["orphanet_product1"])
    p9_date, history = readers.read_orphanet_product9(files["orphanet_product9"])
    mondo_version, omim_pairs = readers.read_sssom_exact(files["mondo_omim"])
    _, orpha_pairs = readers.read_sssom_exact(files["mondo_orphanet"])
    versions = {
        "hp_obo": doc.version.replace("hp/releases/", ""), "hpoa": hpoa_version, "genes": "unversioned",
        "orphanet_product1": orpha_date, "orphanet_product9": p9_date, "mondo_omim": mondo_version,
        "mondo_orphanet": mondo_version, "orphanet_definitions": f"derived from en_product1 {orpha_date}",
    }
    return _Releases(Ontology.from_obo(doc), rows, readers.read_genes_to_disease(files["genes"]), orpha, history,
                     omim_pairs, orpha_pairs, versions)


class _Columns:
    """The annotation arrays while they are collected (one row per annotation; references in CSR form)."""

    def __init__(self) -> None:
        self.cols: dict[str, list[Any]] = defaultdict(list)
        self.ref_ptr = [0]
        self.ref_pmid: list[int] = []

    def add(self, concept: int, term: int, frequency: float, negated: bool, sex: int, source: int,
            origin: int, references: tuple[str, ...] = ()) -> None:
        for key, value in (("concept", concept), ("term", term), ("frequency", frequency), ("negated", negated),
                           ("sex", sex), ("source", source), ("origin", origin)):
            self.cols[key].append(value)
        for ref in references:
            m = re.fullmatch(r"PMID:\s*(\d+)", ref.strip())
            self.ref_pmid.append(int(m.group(1)) if m else -1)
        self.ref_ptr.append(len(self.ref_pmid))

    def annotations(self) -> Annotations:
        c = self.cols
        return Annotations(
            concept=np.asarray(c["concept"], np.int32), term=np.asarray(c["term"], np.int32),
            frequency=np.asarray(c["frequency"], np.float32), negated=np.asarray(c["negated"], bool),
            sex=np.asarray(c["sex"], np.int8), source=np.asarray(c["source"], np.int32),
            ref_ptr=np.asarray(self.ref_ptr, np.int64), ref_pmid=np.asarray(self.ref_pmid, np.int64),
            origin=np.asarray(c["origin"], np.int8),
        )


def _add_hpoa_rows(cols: _Columns, ontology: Ontology, rows: list[readers.HpoaRow], concept_of: dict[str, int],
                   source_index: dict[str, int]) -> tuple[dict[int, set[str]], dict[int, int]]:
    """The HPOA rows: phenotypes become annotations; inheritance and onset rows go to the concepts' inheritance
    and onset (returned)."""
    inheritance: dict[int, set[str]] = defaultdict(set)
    onset: dict[int, int] = defaultdict(int)
    moi_mask = ontology.branch_mask(MODE_OF_INHERITANCE)
    onset_mask = ontology.branch_mask(ONSET)
    unknown_terms: set[str] = set()
    for r in rows:
        ci = concept_of[r.disease_id]
        try:
            t = ontology.resolve(r.term_id).index
        except RaredxError:
            unknown_terms.add(r.term_id)
            continue
        if r.aspect == "I" or moi_mask[t]:
            if not r.negated:
                inheritance[ci].add(ontology.ids[t])
        elif r.aspect == "C" and onset_mask[t]:
            if not r.negated:
                onset[ci] |= hpo_onset_bins(ontology, t)
        elif r.aspect == "P" and ontology.phenotype_mask[t]:
            negated = r.negated or r.frequency == 0.0
            frequency = np.nan if r.frequency is None or negated else r.frequency
            cols.add(ci, t, frequency, negated, _SEX_CODES.get(r.sex, SEX_ANY), source_index[r.disease_id],
                     ORIGIN_HPOA, tuple(r.references))
    if unknown_terms:
        log.warning("%d annotation terms are not in %s and were skipped: %s", len(unknown_terms),
                    ontology.version, ", ".join(sorted(unknown_terms)[:5]))
    return inheritance, onset


def _add_natural_history(members: list[list[str]], history: list[readers.OrphaNaturalHistory],
                         inheritance: dict[int, set[str]], onset: dict[int, int]) -> None:
    """Orphanet's inheritance and age of onset, added to the concepts' own."""
    history_by_id = {h.orpha_id: h for h in history}
    for ci, group in enumerate(members):
        for d in group:
            h = history_by_id.get(d)
            if h:
                inheritance[ci].update(h.inheritance)
                for label in h.onsets:
                    onset[ci] |= orphanet_onset_bins(label)


def _describe_concepts(members: list[list[str]], mondo_of: dict[int, set[str]], names: dict[str, str],
                       r: _Releases, inheritance: dict[int, set[str]], onset: dict[int, int]) -> list[Concept]:
    """Each concept's ids (OMIM first), name (OMIM's, else Orphanet's), genes, inheritance, onset, ICD-10 codes
    and synonyms."""
    orpha_by_id = {d.orpha_id: d for d in r.orpha}
    concepts: list[Concept] = []
    for ci, group in enumerate(members):
        ids = sorted(group, key=lambda d: (_PREFIX_ORDER.get(d.split(":")[0], 9), d))
        ids += sorted(mondo_of.get(ci, ()))
        name = next((names[d] for d in ids if d.startswith("OMIM:") and names.get(d)), "")
        orpha_recs = [orpha_by_id[d] for d in ids if d in orpha_by_id]
        if not name:
            name = orpha_recs[0].name if orpha_recs else names.get(ids[0], ids[0])
        genes, associations = _ordered_genes(ids, r.genes, orpha_recs)
        concepts.append(Concept(
            index=ci, ids=tuple(ids), name=name, genes=genes, gene_associations=associations,
            inheritance=tuple(sorted(inheritance.get(ci, ()))), onset_bins=onset.get(ci, 0),
            icd10=tuple(sorted({c for o in orpha_recs for c in o.icd10})),
            synonyms=tuple(dict.fromkeys(s for o in orpha_recs for s in (o.name, *o.synonyms) if s != name)),
        ))
    return concepts


def _link_broader(concepts: list[Concept], orpha: list[readers.OrphaDisorder], concept_of: dict[str, int]) -> None:
    """Mark the concepts of OMIM entries that Orphanet files under a broader disorder (BTNT mappings)."""
    for o in orpha:
        b = concept_of.get(o.orpha_id)
        if b is None:
            continue
        for om in o.omim_narrower:
            c = concept_of.get(om)
            if c is not None and c != b:
                concepts[c] = replace(concepts[c], broader=tuple(sorted({*concepts[c].broader, b})))


def _add_name_terms(cols: _Columns, matcher: NameMatcher, members: list[list[str]], names: dict[str, str],
                    source_index: dict[str, int]) -> None:
    """Phenotypes named in a disease's own name (no reference: never masked)."""
    for ci, group in enumerate(members):
        have: set[int] = set()
        for d in group:
            for t in matcher.terms(names.get(d, "")):
                if t not in have:
                    have.add(t)
                    cols.add(ci, t, np.nan, False, SEX_ANY, source_index[d], ORIGIN_NAME)


def _add_definition_terms(cols: _Columns, ontology: Ontology, files: dict[str, Path], digests: dict[str, str],
                          concept_of: dict[str, int], source_index: dict[str, int]) -> None:
    """Phenotypes stated in Orphanet's definitions that the concept's annotations do not already imply
    (no reference: never masked). Terms mined from another en_product1 than the one in use are left out."""
    path = files["orphanet_definitions"]
    mined_from, pairs = readers.read_definition_terms(path)
    if mined_from != digests["orphanet_product1"]:
        log.warning("%s was derived from another en_product1 release and is not used; `raredx data update` "
                    "derives it again.", path)
        return
    implied: dict[int, set[int]] = defaultdict(set)
    for c, t in zip(cols.cols["concept"], cols.cols["term"]):
        implied[c].update(ontology.ancestors(t).tolist())
    for orpha_id, term_id in pairs:
        ci, t = concept_of.get(orpha_id), ontology.index(term_id)
        if ci is None or t is None or not ontology.phenotype_mask[t] or t in implied[ci]:
            continue
        implied[ci].update(ontology.ancestors(t).tolist())
        cols.add(ci, t, np.nan, False, SEX_ANY, source_index[orpha_id], ORIGIN_DEFINITION)


def _ordered_genes(
    ids: list[str], links: dict[str, dict[str, str]], orpha: list[readers.OrphaDisorder]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The concept's genes, Mendelian first, then those of unknown type, then polygenic ones. Where sources
    differ, the type that says most wins (Mendelian, then polygenic, then unknown). Orphadata gives no type,
    so an Orphanet gene counts as Mendelian when OMIM links it so to an entry Orphanet maps to the disorder
    (exact or narrower)."""
    known = {"MENDELIAN": 0, "POLYGENIC": 1, "UNKNOWN": 2}
    kinds: dict[str, str] = {}
    for d in ids:
        for g, k in links.get(d, {}).items():
            if known[k] < known[kinds.get(g, "UNKNOWN")] or g not in kinds:
                kinds[g] = k
    omim = {m for o in orpha for m in (*o.omim_exact, *o.omim_narrower)}
    for m in omim:
        for g, k in links.get(m, {}).items():
            if k == "MENDELIAN" and g in kinds:
                kinds[g] = "MENDELIAN"
    rank = {"MENDELIAN": 0, "UNKNOWN": 1, "POLYGENIC": 2}
    order = sorted(kinds, key=lambda g: (rank[kinds[g]], g))
    return tuple(order), tuple(kinds[g].lower() for g in order)


def _merge_equivalents(
    diseases: list[str], omim_pairs: list[tuple[str, str]], orpha_pairs: list[tuple[str, str]]
) -> tuple[list[list[str]], dict[int, set[str]]]:
    """Group annotated diseases into concepts: an OMIM and an ORPHA id join when one Mondo class
    is an exact match of exactly those two annotated diseases (one-to-one), so groups never chain
    unrelated diseases."""
    mondo_omim: dict[str, set[str]] = defaultdict(set)
    mondo_orpha: dict[str, set[str]] = defaultdict(set)
    for m, o in omim_pairs:
        mondo_omim[m].add(o)
    for m, o in orpha_pairs:
        mondo_orpha[m].add(o)
    annotated = set(diseases)
    links: list[tuple[str, str, str]] = []
    for m in set(mondo_omim) | set(mondo_orpha):
        omims, orphas = mondo_omim.get(m, set()) & annotated, mondo_orpha.get(m, set()) & annotated
        if len(omims) <= 1 and len(orphas) <= 1:
            links.append((m, next(iter(omims), ""), next(iter(orphas), "")))
    uses: dict[str, int] = defaultdict(int)
    for _, om, orp in links:
        uses[om] += 1
        uses[orp] += 1
    group_of: dict[str, int] = {}
    groups: list[list[str]] = []
    mondo_of: dict[int, set[str]] = defaultdict(set)
    for m, om, orp in sorted(links):
        ids = [d for d in (om, orp) if d and uses[d] == 1]
        if not ids:
            continue
        if len(ids) == 2 or ids[0] not in group_of:
            gi = len(groups)
            groups.append(ids)
            for d in ids:
                group_of[d] = gi
        mondo_of[group_of[ids[0]]].add(m)
    for d in diseases:
        if d not in group_of:
            group_of[d] = len(groups)
            groups.append([d])
    return groups, mondo_of
