"""The one object every interface wraps: knowledge base + engine (+ the text recogniser), loaded once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from raredx.engine import (
    Case,
    DiagnosisEngine,
    Differential,
    Params,
    PreparedCase,
    RankedDisease,
    Ranking,
    SolvedCaseEvidence,
)
from raredx.errors import InputError, Problem
from raredx.kb import KnowledgeBase, load_knowledge_base

if TYPE_CHECKING:
    from raredx.benchmark import BenchmarkOptions
    from raredx.extract import Extractor, TermLabels
    from raredx.genomics import Genotype
    from raredx.match import MatchIndex

log = logging.getLogger(__name__)


class RareDx:
    """Load once, diagnose many.

    >>> rdx = RareDx.load()                                              # doctest: +SKIP
    >>> result = rdx.diagnose(Case(observed=("HP:0001166", "HP:0001083")))  # doctest: +SKIP
    >>> result.diseases[0].name                                          # doctest: +SKIP
    'Marfan syndrome'
    """

    def __init__(self, kb: KnowledgeBase, params: Params | None = None, *, cache: str | Path | bool | None = None):
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

    @cached_property
    def labels(self) -> TermLabels:
        """HPO term names in English and Russian, and term search in both (autocomplete)."""
        from raredx.extract import TermLabels

        return TermLabels.load(self.kb.ontology)

    def case_from_text(self, text: str, *, lang: str = "auto", id: str = "") -> Case:
        """A case from a clinical note: observed and negated findings, and the sex, age and onset it states
        (``a 4-year-old girl``, «мальчик 10 лет», ``seizures since 6 months``, «с рождения»)."""
        from raredx.extract import demographics, observed_and_excluded, onset_of

        terms = self.extractor.extract(text, lang)
        observed, excluded = observed_and_excluded(terms)
        stated = demographics(text)
        return Case(observed=observed, excluded=excluded, sex=stated.sex, age=stated.age,
                    onset=onset_of(terms) or stated.onset, id=id)

    def cases_from(
        self,
        inputs: Sequence[str] = (),
        *,
        exclude: Sequence[str] = (),
        sex: str | None = None,
        onset: str | None = None,
        age: str | None = None,
        text: str | None = None,
        lang: str = "auto",
        genotype: Genotype | None = None,
        with_interpretations: bool = False,
        problems: list[Problem] | None = None,
    ) -> list[Case]:
        """The cases a user describes (what ``raredx diagnose`` does with its arguments): ``inputs`` are HPO ids,
        or one term TSV / phenopacket file / directory or ZIP of phenopackets (see :func:`raredx.io.read_cases`);
        ``exclude``, ``sex``, ``onset`` and ``age`` amend every case; ``text`` is a clinical note's file (``-``:
        standard input) whose findings are added to the one case; ``genotype`` is merged into each, and with
        ``with_interpretations`` a phenopacket's genomic interpretations are too. With ``problems``, a phenopacket
        of a directory or ZIP that cannot be read is appended there and skipped instead of failing the rest."""
        from raredx.io.cases import amend, check_sex, read_cases, with_note

        if not inputs and text is None:
            raise InputError("no input: give HPO ids (raredx diagnose HP:0001166 HP:0001083), a phenopacket / TSV "
                             "file, or --text NOTE.")
        check_sex(sex)
        cases = [amend(c, exclude=exclude, sex=sex, onset=onset, age=age, genotype=genotype)
                 for c in read_cases(inputs, with_interpretations=with_interpretations, problems=problems)]
        if text is None:
            return cases
        from raredx.extract import read_text

        if len(cases) != 1:
            raise InputError("--text adds a note's findings to one case; give terms or one phenopacket with it.")
        return [with_note(cases[0], self.case_from_text(read_text(text), lang=lang), Path(text).name)]

    @cached_property
    def gene_symbols(self) -> frozenset[str]:
        """Every gene symbol the knowledge base links to a disease."""
        return frozenset(g for c in self.kb.concepts for g in c.genes)

    def unknown_genes(self, symbols: Sequence[str]) -> dict[str, list[str]]:
        """The symbols that no disease of the knowledge base has, each with up to three close known symbols."""
        import difflib

        known = self.gene_symbols
        return {s: difflib.get_close_matches(s.upper(), known, n=3, cutoff=0.75) for s in symbols if s not in known}

    def diagnose(
        self, case: Case, *, top: int = 10, strict: bool = True, mask_source: bool = False, suggestions: int = 5,
        solved_cases: MatchIndex | None = None, exclude: Sequence[str] = (),
    ) -> Differential:
        """Rank every disease concept for ``case``; the ``top`` first come with their evidence. ``solved_cases``: an
        index of the registry's patients whose confirmed diagnoses add evidence (shown apart, see
        :func:`raredx.match.solved_case_evidence`), never from the patients keyed in ``exclude`` (the patient
        itself and its family)."""
        solved = None
        if solved_cases is not None:
            from raredx.match import solved_case_evidence

            index = solved_cases

            def solved(prepared: PreparedCase, ranking: Ranking) -> Mapping[int, SolvedCaseEvidence]:
                return solved_case_evidence(index, prepared, ranking.probability, exclude=exclude)

        return self.engine.diagnose(case, top=top, strict=strict, mask_source=mask_source, suggestions=suggestions,
                                    solved_cases=solved)

    def explain(self, case: Case, disease_id: str, *, strict: bool = True, mask_source: bool = False) -> RankedDisease:
        """One disease as it stands in ``case``'s differential, wherever it ranks (see
        :meth:`raredx.engine.DiagnosisEngine.explain`)."""
        return self.engine.explain(case, disease_id, strict=strict, mask_source=mask_source)

    def benchmark(self, phenopackets: str | Path, out_dir: str | Path, options: BenchmarkOptions | None = None, *,
                  on_case: Callable[[int], None] | None = None, started: float | None = None) -> dict[str, object]:
        """:func:`raredx.benchmark.run_benchmark` with this object's engine."""
        from raredx.benchmark import BenchmarkOptions, run_benchmark

        return run_benchmark(self.engine, phenopackets, out_dir, options or BenchmarkOptions(), on_case=on_case,
                             started=started)
