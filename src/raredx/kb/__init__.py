"""The knowledge base: official HPO, Orphanet and Mondo releases, merged into disease concepts."""

from raredx import config
from raredx.kb._build import (
    ORIGIN_DEFINITION,
    ORIGIN_HPOA,
    ORIGIN_NAME,
    SEX_ANY,
    SEX_FEMALE,
    SEX_MALE,
    Annotations,
    Concept,
    KnowledgeBase,
    SourceInfo,
    atomic_save_npz,
    build_knowledge_base,
    load_knowledge_base,
    load_npz,
)
from raredx.kb._onset import BINS as ONSET_BINS
from raredx.kb._onset import age_bin, bins_label, hpo_onset_bins, parse_iso_age
from raredx.kb._sources import SOURCES, Source, find_source_files, resolve_data_dir, sha256
from raredx.kb._update import update_releases

bundled_data_dir = config.bundled_data_dir  # where the paths are decided: raredx.config
cache_dir = config.cache_dir

__all__ = [
    "ONSET_BINS",
    "ORIGIN_DEFINITION",
    "ORIGIN_HPOA",
    "ORIGIN_NAME",
    "SEX_ANY",
    "SEX_FEMALE",
    "SEX_MALE",
    "SOURCES",
    "Annotations",
    "Concept",
    "KnowledgeBase",
    "Source",
    "SourceInfo",
    "age_bin",
    "atomic_save_npz",
    "bins_label",
    "build_knowledge_base",
    "bundled_data_dir",
    "cache_dir",
    "find_source_files",
    "hpo_onset_bins",
    "load_knowledge_base",
    "load_npz",
    "parse_iso_age",
    "resolve_data_dir",
    "sha256",
    "update_releases",
]
