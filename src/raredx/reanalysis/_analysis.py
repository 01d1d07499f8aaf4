"""A differential of a stored patient as the registry keeps it (:class:`AnalysisCreate`), and what changed
materially between two of them (:class:`AnalysisChange`)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence

from raredx import __version__
from raredx.app import case_of
from raredx.core import RareDx
from raredx.engine import Differential, RankedDisease
from raredx.kb import KnowledgeBase
from raredx.registry import Actor, PatientPublic, Registry
from raredx.registry.schemas import AnalysisChange, AnalysisCreate, AnalysisRecord, AnalysisResult

KEPT = 10  # diseases kept per analysis: the top that later ones are compared with
TOP = 5  # a disease entering this top is a material change
RISE = 0.2  # a rise of a candidate's probability by this much (absolute) is a material change
LINKS_KEPT = 20  # disease ids kept per linked gene
_FOR = frozenset({"exact", "disease term more specific", "patient term more specific"})


def patient_genes(patient: PatientPublic) -> tuple[str, ...]:
    """The gene symbols of the patient's genetic findings (upper case, sorted, once each)."""
    return tuple(sorted({g.gene_symbol.strip().upper() for g in patient.genetic_findings if g.gene_symbol}))


@functools.lru_cache(maxsize=4)
def _diseases_of_genes(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """Gene symbol -> the (first) ids of the diseases the knowledge base links it to."""
    out: dict[str, list[str]] = {}
    for c in kb.concepts:
        for g in c.genes:
            out.setdefault(g, []).append(c.ids[0])
    return {g: tuple(ids) for g, ids in out.items()}


def linked_genes(kb: KnowledgeBase, genes: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Each of ``genes`` that the knowledge base links to a disease, with those diseases' ids."""
    links = _diseases_of_genes(kb)
    return {g: links[g][:LINKS_KEPT] for g in genes if g in links}


def _result(d: RankedDisease) -> AnalysisResult:
    matched = tuple(dict.fromkeys(e.term_id for e in d.evidence if not e.excluded and e.match in _FOR and e.contribution > 0))
    return AnalysisResult(rank=d.rank, disease_ids=d.ids, name=d.name, probability=round(d.probability, 6),
                          genes=d.genes[:10], matched_terms=matched)


def analysis_of(result: Differential, kb: KnowledgeBase, *, patient_version: int, genes: Sequence[str],
                trigger: str) -> AnalysisCreate:
    """The compact form of ``result`` (its first :data:`KEPT` diseases) for the analysis history."""
    return AnalysisCreate(patient_version=patient_version, trigger=trigger, kb_version=kb.version[:300],
                          kb_fingerprint=kb.fingerprint, raredx_version=__version__,
                          results=tuple(_result(d) for d in result.diseases[:KEPT]), linked_genes=linked_genes(kb, genes))


def _same_disease(results: Sequence[AnalysisResult], ids: Sequence[str]) -> AnalysisResult | None:
    wanted = set(ids)
    return next((r for r in results if wanted.intersection(r.disease_ids)), None)


def compare(baseline: AnalysisRecord | None, current: AnalysisCreate, *, rise: float = RISE,
            label_of: Callable[[str], str] = str, name_of: Callable[[str], str] = str) -> tuple[AnalysisChange, ...]:
    """What changed materially from ``baseline`` to ``current`` (nothing without a baseline): a disease in the top
    :data:`TOP` that was not there, a candidate whose probability rose by ``rise`` or more, a gene among the
    patient's variants that is now linked to a disease. ``label_of`` names a term, ``name_of`` a disease id."""
    if baseline is None:
        return ()
    record_changed = baseline.patient_version != current.patient_version
    out: list[AnalysisChange] = []
    for r in current.results:
        before = _same_disease(baseline.results, r.disease_ids)
        p_before = before.probability if before is not None else None
        entered = r.rank <= TOP and (before is None or before.rank > TOP)
        rose = r.probability - (p_before or 0.0) >= rise
        if not (entered or rose):
            continue
        newly = tuple(t for t in r.matched_terms if before is None or t not in before.matched_terms)
        where = f"rank {before.rank}" if before is not None else f"not in the top {len(baseline.results)}"
        was = f"{p_before:.0%}" if p_before is not None else f"below the {len(baseline.results)} kept"
        what = (f"{r.name} entered the top {TOP} ({where} -> rank {r.rank})" if entered else
                f"{r.name}: probability {was} -> {r.probability:.0%}")
        out.append(AnalysisChange(
            kind="new_in_top" if entered else "probability_rise", disease_id=r.disease_ids[0], disease_name=r.name,
            rank_before=before.rank if before is not None else None, rank_after=r.rank, probability_before=p_before,
            probability_after=r.probability, newly_matched=newly, record_changed=record_changed,
            reason=f"{what}: {_why(newly, record_changed, baseline, current, label_of)}."))
    for gene, diseases in sorted(current.linked_genes.items()):
        known = set(baseline.linked_genes.get(gene, ()))
        for disease_id in (d for d in diseases if d not in known):
            name = name_of(disease_id)
            out.append(AnalysisChange(
                kind="new_gene_link", disease_id=disease_id, disease_name=name, gene=gene, record_changed=record_changed,
                reason=f"the knowledge base now links {gene}, a gene among the patient's variants, to {name} "
                       f"({disease_id})" + (" (the record changed too)" if record_changed and gene not in
                                            baseline.linked_genes else "") + "."))
    return tuple(out)


def _why(newly: tuple[str, ...], record_changed: bool, baseline: AnalysisRecord, current: AnalysisCreate,
         label_of: Callable[[str], str]) -> str:
    reasons = []
    if newly:
        reasons.append("it now explains " + ", ".join(f"{label_of(t)} ({t})" for t in newly))
    if record_changed:
        reasons.append(f"the record changed (version {baseline.patient_version} -> {current.patient_version})")
    if baseline.kb_fingerprint != current.kb_fingerprint and not newly:
        reasons.append("the other candidates' standing changed on the new knowledge base")
    return "; ".join(reasons) or "the ranking changed"


def labeller(kb: KnowledgeBase) -> tuple[Callable[[str], str], Callable[[str], str]]:
    """(a term's label, a disease's name) in ``kb``, each falling back to the id."""
    onto = kb.ontology

    def label_of(term_id: str) -> str:
        i = onto.index(term_id)
        return onto.label(i) if i is not None else term_id

    def name_of(disease_id: str) -> str:
        c = kb.concept(disease_id)
        return c.name if c is not None else disease_id

    return label_of, name_of


def record_diagnosis(registry: Registry, actor: Actor, patient: PatientPublic, result: Differential,
                     kb: KnowledgeBase, *, trigger: str = "diagnose", rise: float = RISE) -> AnalysisRecord | None:
    """Keep ``result`` (a differential of ``patient``) in the patient's analysis history, with what changed since
    their latest analysis on an older knowledge base; nothing when their latest analysis was made on this knowledge
    base and this version of the record (it would be the same ranking again: a page shown twice)."""
    latest = registry.latest_analyses(actor, [patient.id]).get(patient.id)
    if latest is not None and latest.kb_fingerprint == kb.fingerprint and latest.patient_version == patient.version:
        return None
    analysis = analysis_of(result, kb, patient_version=patient.version, genes=patient_genes(patient), trigger=trigger)
    baseline = registry.analysis_baselines(actor, [patient.id], kb.fingerprint).get(patient.id)
    label_of, name_of = labeller(kb)
    analysis = analysis.model_copy(update={
        "changes": compare(baseline, analysis, rise=rise, label_of=label_of, name_of=name_of),
        "compared_with": baseline.id if baseline is not None else None})
    return registry.record_analyses(actor, [(patient.id, analysis)])[0]


def diagnose_patient(rdx: RareDx, registry: Registry, actor: Actor, patient_id: int, *, top: int = 10,
                     suggestions: int = 5) -> Differential:
    """The differential of a stored patient (read as a diagnosis: permission-checked and audited), kept in their
    analysis history (see :func:`record_diagnosis`); its first ``top`` diseases."""
    patient = registry.patient_for_diagnosis(actor, patient_id)
    result = rdx.diagnose(case_of(patient), top=max(top, KEPT), strict=False, suggestions=suggestions)
    record_diagnosis(registry, actor, patient, result, rdx.kb)
    return result if top >= len(result.diseases) else dataclasses.replace(result, diseases=result.diseases[:top])
