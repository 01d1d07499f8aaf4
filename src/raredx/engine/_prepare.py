"""A case resolved against the ontology: term indices, onset, and the warnings a clinician should read."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from raredx.engine._case import Case
from raredx.errors import InputError, Message, UnknownTermError
from raredx.genomics import Genotype
from raredx.kb import age_bin, hpo_onset_bins, parse_iso_age
from raredx.ontology import MODE_OF_INHERITANCE, ONSET, Ontology

MIN_TERMS = 3  # fewer specific observed terms than this draws a warning
GENERAL_IC = 3.0  # a case whose most specific term has less information than this has "only general terms"


@dataclass(frozen=True, slots=True)
class PreparedCase:
    """A case resolved against the ontology: term indices, onset bins, and the warnings raised."""

    id: str
    observed: tuple[int, ...]  # used for scoring
    observed_all: tuple[int, ...]  # as given (resolved), for explanations
    excluded: tuple[int, ...]
    sex: str | None
    onset_bins: int  # 0 = unknown
    age_bins: int  # age at last encounter, 0 = unknown
    inheritance: tuple[str, ...]
    warnings: tuple[str, ...]
    source_pmids: tuple[int, ...]
    genotype: Genotype | None = None


@dataclass
class _Resolved:
    """What resolving a case's terms finds besides phenotypes."""

    warnings: list[str] = field(default_factory=list)
    onset_bins: int = 0
    inheritance: list[str] = field(default_factory=list)


class CasePreparer:
    """Resolves cases against one ontology (``ic``: the engine's information content, for warnings)."""

    def __init__(self, ontology: Ontology, ic: np.ndarray, drop_redundant: bool) -> None:
        self.ontology = ontology
        self.ic = ic
        self.drop_redundant = drop_redundant
        self._phenotype = ontology.phenotype_mask
        self._onset_branch = ontology.branch_mask(ONSET)
        self._moi_branch = ontology.branch_mask(MODE_OF_INHERITANCE)

    def prepare(self, case: Case, *, strict: bool = True) -> PreparedCase:
        """Resolve a case's terms. Unknown ids raise (strict) or are skipped with a warning (lenient)."""
        found = _Resolved(onset_bins=self.parse_onset(case.onset, "onset") if case.onset else 0)
        observed = self._resolve(case.observed, "observed", strict, found)
        excluded = self._resolve(case.excluded, "excluded", strict, found)
        if not observed:
            raise InputError(Message(
                f"case {case.id or '(unnamed)'}: no observed phenotypic abnormality terms "
                "(HPO terms under HP:0000118); give at least one observed term.",
                "engine.no_observed",
            ))
        scored = self._scored(observed, excluded, found.warnings)
        return PreparedCase(
            id=case.id, observed=tuple(scored), observed_all=tuple(observed), excluded=tuple(excluded), sex=case.sex,
            onset_bins=found.onset_bins, age_bins=self.parse_onset(case.age, "age") if case.age else 0,
            inheritance=tuple(found.inheritance),
            warnings=tuple(found.warnings) + (case.genotype.warnings if case.genotype else ()),
            source_pmids=tuple(case.source_pmids), genotype=case.genotype or None,
        )

    def _resolve(self, ids: tuple[str, ...], kind: str, strict: bool, found: _Resolved) -> list[int]:
        """Phenotype indices of ``ids``; onset and inheritance terms among observed ones go to ``found``."""
        o = self.ontology
        out: list[int] = []
        for tid in ids:
            try:
                res = o.resolve(tid, where=Message(f"{kind} terms", "where.observed" if kind == "observed" else "where.excluded"))
            except UnknownTermError:
                if strict:
                    raise
                found.warnings.append(Message(f"{tid}: not in HPO {o.version}; skipped.", "engine.unknown_skipped",
                                              term=tid, version=o.version))
                continue
            t = res.index
            if res.replaced:
                found.warnings.append(Message(
                    f"{res.replaced} is an alternative or obsolete id; used {res.term_id} ({o.labels[t]}).",
                    "engine.replaced", old=res.replaced, term=res.term_id, label=o.labels[t]))
            if self._phenotype[t]:
                if t not in out:
                    out.append(t)
            elif kind == "observed" and self._onset_branch[t]:
                found.onset_bins = found.onset_bins or hpo_onset_bins(o, t)
            elif kind == "observed" and self._moi_branch[t]:
                found.inheritance.append(o.ids[t])
            else:
                found.warnings.append(Message(
                    f"{o.ids[t]} ({o.labels[t]}) is not a phenotypic abnormality; not used as a {kind} phenotype.",
                    "engine.not_phenotype" if kind == "observed" else "engine.not_phenotype_excluded",
                    term=o.ids[t], label=o.labels[t]))
        return out

    def _scored(self, observed: list[int], excluded: list[int], warnings: list[str]) -> list[int]:
        """The observed terms that are scored (without those implied by a more specific one), with warnings
        about contradictions, redundancy and weakly determined cases."""
        o = self.ontology
        anc = {t: set(o.ancestors(t).tolist()) for t in observed}
        for e in excluded:
            for t in observed:
                if e in anc[t]:
                    text = f"contradiction: excluded {o.ids[e]} ({o.labels[e]}) is " + (
                        "the same term." if e == t else f"an ancestor of observed {o.ids[t]} ({o.labels[t]}).")
                    warnings.append(Message(text, "engine.contradiction_same" if e == t else "engine.contradiction",
                                            term=o.ids[e], label=o.labels[e], observed=o.ids[t],
                                            observed_label=o.labels[t]))
        implied = {a for t in observed for a in anc[t] if a != t}
        redundant = [t for t in observed if t in implied]
        if redundant:
            terms = ", ".join(f"{o.ids[t]} ({o.labels[t]})" for t in redundant)
            warnings.append(Message(
                f"redundant: {terms} implied by more specific observed terms"
                + ("; counted once." if self.drop_redundant else "."),
                "engine.redundant_once" if self.drop_redundant else "engine.redundant", terms=terms))
        scored = [t for t in observed if t not in implied] if self.drop_redundant else observed
        if len(scored) < MIN_TERMS:
            warnings.append(Message(f"only {len(scored)} specific observed term(s): the ranking is weakly determined; "
                                    "add more findings or excluded findings.", "engine.few_terms", n=len(scored)))
        if max(float(self.ic[t]) for t in scored) < GENERAL_IC:
            warnings.append(Message("only very general terms were given: add specific findings to narrow the differential.",
                                    "engine.general_terms"))
        return scored

    def parse_onset(self, text: str, what: str) -> int:
        """Onset bins of an ISO 8601 age (``P3Y``) or an HPO onset term; ``what`` names the field in errors."""
        o = self.ontology
        text = text.strip()
        if text.upper().startswith("HP:"):
            res = o.resolve(text, where=what)
            bins = hpo_onset_bins(o, res.index)
            if not bins:
                raise InputError(f"{what} {text} ({o.labels[res.index]}) is not an HPO onset term (under HP:0003674).")
            return bins
        years = parse_iso_age(text)
        if years is None:
            raise InputError(
                f"{what} {text!r} is neither an ISO 8601 age (e.g. P3Y, P6M, P10D) nor an HPO onset term (e.g. HP:0003577)."
            )
        return age_bin(years)
