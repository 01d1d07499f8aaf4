"""The phenotype editor and the differential, shared by the patient page (features stored in the registry)
and the quick diagnosis (features carried in the form). An edit is an ``op`` sent by the button pressed:
``add``, ``toggle:I``, ``remove:I``, ``present:HP``/``absent:HP``/``unknown:HP`` (a next-best suggestion),
``accept`` (terms found in a text) or ``rank``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from raredx.core import RareDx
from raredx.engine import Case, Differential
from raredx.errors import InputError, Message
from raredx.ontology import Ontology
from raredx.ontology import onset as onsets
from raredx.registry.schemas import PhenotypicFeature

SUGGESTIONS = 5


@dataclass(frozen=True, slots=True)
class Edit:
    features: tuple[PhenotypicFeature, ...]
    skip: tuple[str, ...]  # suggestions answered "unknown"
    changed: bool  # the features changed (the patient must be saved)
    focus_search: bool  # put the cursor back into the term search


@dataclass(frozen=True, slots=True)
class Row:
    index: int  # the feature's place in the patient's list (what the toggle and remove buttons send)
    feature: PhenotypicFeature


@dataclass(frozen=True, slots=True)
class SystemGroup:
    """The features under one organ system (a child of Phenotypic abnormality; id None: the others)."""

    term_id: str | None
    label: str | None
    observed: tuple[Row, ...]
    excluded: tuple[Row, ...]


def by_system(onto: Ontology, features: tuple[PhenotypicFeature, ...] | list[PhenotypicFeature]) -> list[SystemGroup]:
    """The features grouped by organ system (:meth:`Ontology.organ_system`): the systems with the most observed
    terms first, the terms outside any system last; in each, the observed then the excluded terms, as recorded."""
    groups: dict[int | None, list[Row]] = {}
    for i, f in enumerate(features):
        term = onto.index(f.hpo_id)
        groups.setdefault(None if term is None else onto.organ_system(term), []).append(Row(i, f))
    out = [SystemGroup(None if s is None else onto.ids[s], None if s is None else onto.labels[s],
                       tuple(r for r in rows if not r.feature.excluded), tuple(r for r in rows if r.feature.excluded))
           for s, rows in groups.items()]
    return sorted(out, key=lambda g: (g.term_id is None, -len(g.observed), -len(g.excluded), g.label or ""))


def _feature(rdx: RareDx, term_id: str, excluded: bool, onset: str | None = None) -> PhenotypicFeature:
    onto = rdx.kb.ontology
    res = onto.resolve(term_id.strip(), "the phenotype")
    onset_json = None
    if onset:
        index = onto.index(onset)
        if onset not in onsets.CHOICES or index is None:
            raise InputError(Message(f"onset {onset!r} is not one of the HPO onset terms offered; choose one from the list.",
                                     "case.onset", onset=repr(onset)))
        onset_json = {"ontologyClass": {"id": onset, "label": onto.labels[index]}}
    return PhenotypicFeature(hpo_id=res.term_id, label=onto.labels[res.index], excluded=excluded, onset=onset_json)


def _put(features: list[PhenotypicFeature], new: PhenotypicFeature) -> None:
    """Add a feature, or change the one with the same term (no duplicates)."""
    for i, f in enumerate(features):
        if f.hpo_id == new.hpo_id:
            features[i] = f.model_copy(update={"excluded": new.excluded, "onset": new.onset or f.onset})
            return
    features.append(new)


def apply(rdx: RareDx, features: tuple[PhenotypicFeature, ...], form: Any) -> Edit:
    """The features after the edit the form asks for (raises InputError naming what to fix)."""
    op = str(form.get("op") or "rank")
    skip = [s for s in form.getlist("skip") if s]
    out = list(features)
    verb, _, arg = op.partition(":")
    if verb == "add":
        term = str(form.get("add_id") or "").strip()
        typed = str(form.get("q") or "").strip().upper()
        if not term and re.fullmatch(r"HP:\d{7}", typed):
            term = typed
        if not term:
            raise InputError(Message("no term chosen: type in the search box and pick a term from the list (or type an "
                                     "HPO id).", "case.no_term"))
        _put(out, _feature(rdx, term, form.get("add_excluded") == "on", str(form.get("add_onset") or "") or None))
    elif verb in ("toggle", "remove"):
        i = int(arg) if arg.isdigit() else -1
        if not 0 <= i < len(out):
            raise InputError(Message("that phenotype is no longer in the list; the page shows the current one.",
                                     "case.gone"))
        if verb == "toggle":
            out[i] = out[i].model_copy(update={"excluded": not out[i].excluded})
        else:
            del out[i]
    elif verb in ("present", "absent"):
        _put(out, _feature(rdx, arg, verb == "absent"))
    elif verb == "unknown":
        skip.append(arg)
    elif verb == "accept":
        for value in form.getlist("accept"):
            term, _, excluded = str(value).partition("|")
            _put(out, _feature(rdx, term, excluded == "1"))
    elif verb != "rank":
        raise InputError(Message(f"unknown action {op!r}; reload the page.", "case.action", op=repr(op)))
    return Edit(tuple(out), tuple(dict.fromkeys(skip)), out != list(features), verb in ("add", "present", "absent"))


def features_from_form(rdx: RareDx, form: Any) -> tuple[PhenotypicFeature, ...]:
    """The quick diagnosis keeps its terms as hidden ``term`` fields: ``HP:id|excluded(0/1)|onset``."""
    out: list[PhenotypicFeature] = []
    for value in form.getlist("term"):
        term, excluded, onset = ([*str(value).split("|"), "", ""])[:3]
        _put(out, _feature(rdx, term, excluded == "1", onset or None))
    return tuple(out)


def diagnose(rdx: RareDx, case: Case, skip: tuple[str, ...]) -> tuple[Differential | None, list[Any]]:
    """The differential and the suggestions not yet answered "unknown" (none without an observed term)."""
    if not case.observed:
        return None, []
    result = rdx.diagnose(case, top=10, strict=False, suggestions=SUGGESTIONS + len(skip))
    suggestions = [s for s in result.next_best_phenotypes if s.term_id not in skip][:SUGGESTIONS]
    return result, suggestions


def highlight(text: str, terms: list[Any]) -> list[tuple[str, Any]]:
    """The text cut into (piece, term or None), the terms' spans marked; overlapping spans keep the first."""
    pieces: list[tuple[str, Any]] = []
    pos = 0
    for term in sorted(terms, key=lambda t: (t.start, -t.end)):
        if term.start < pos:
            continue
        if term.start > pos:
            pieces.append((text[pos:term.start], None))
        pieces.append((text[term.start:term.end], term))
        pos = term.end
    if pos < len(text):
        pieces.append((text[pos:], None))
    return pieces
