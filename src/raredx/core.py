"""The one object the CLI and the web layer wrap: knowledge base + engine, loaded once."""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from raredx.engine import Case, DiagnosisEngine, Differential, Params
from raredx.kb import KnowledgeBase, load_knowledge_base

if TYPE_CHECKING:
    from raredx.extract import Extractor

log = logging.getLogger(__name__)


class RareDx:
    """Load once, diagnose many.

    >>> rdx = RareDx.load()                                              # doctest: +SKIP
    >>> result = rdx.diagnose(Case(observed=("HP:0001166", "HP:0001083")))  # doctest: +SKIP
    >>> result.diseases[0].name                                          # doctest: +SKIP
    'Marfan syndrome'
    """

    def __init__(self, kb: KnowledgeBase, params: Params | None = None, *, cache: str | Path | None | bool = None):
        self.kb = kb
        self._params = params
        self._cache = cache

    @classmethod
    def load(
        cls, data_dir: str | Path | None = None, *, cache_dir: str | Path | None = None, params: Params | None = None
    ) -> RareDx:
        """Load the knowledge base from ``data_dir`` (default: the newest installed release, else the
        bundled one), using the binary cache in ``cache_dir``."""
        return cls(load_knowledge_base(data_dir, cache=cache_dir), params, cache=cache_dir)

    @cached_property
    def engine(self) -> DiagnosisEngine:
        return DiagnosisEngine(self.kb, self._params, cache=self._cache)

    @cached_property
    def extractor(self) -> Extractor:
        """The clinical-text recogniser (English and Russian) over this knowledge base's HPO."""
        from raredx.extract import Extractor

        cache = None if isinstance(self._cache, bool) else self._cache
        return Extractor.from_ontology(self.kb.ontology, cache_dir=cache)

    def case_from_text(self, text: str, *, lang: str = "auto", **fields: object) -> Case:
        """A case from a clinical note: observed and negated findings, onset where stated."""
        from raredx.extract import observed_and_excluded, onset_of

        terms = self.extractor.extract(text, lang)
        observed, excluded = observed_and_excluded(terms)
        fields.setdefault("onset", onset_of(terms))
        return Case(observed=tuple(observed), excluded=tuple(excluded), **fields)  # type: ignore[arg-type]

    def diagnose(
        self, case: Case, *, top: int = 10, strict: bool = True, mask_source: bool = False, suggestions: int = 5
    ) -> Differential:
        """Rank every disease concept for ``case``; the ``top`` first come with their evidence."""
        return self.engine.diagnose(case, top=top, strict=strict, mask_source=mask_source, suggestions=suggestions)

    def benchmark(
        self,
        phenopackets: str | Path,
        out_dir: str | Path,
        *,
        mask_source: bool = False,
        limit: int | None = None,
        on_case: Callable[[int], None] | None = None,
        candidate_genes: int | None = None,
        seed: int = 0,
    ) -> dict[str, object]:
        from raredx.benchmark import run_benchmark

        return run_benchmark(self.engine, phenopackets, out_dir, mask_source=mask_source, limit=limit, on_case=on_case,
                             candidate_genes=candidate_genes, seed=seed)
