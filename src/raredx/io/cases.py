"""Cases from what a user gives: HPO ids, a term TSV, a phenopacket, a directory or ZIP of phenopackets; and the
changes a user adds to them (more excluded terms, sex, onset, age, a note's findings, genotype evidence).
:meth:`raredx.RareDx.cases_from` puts them together for the command line; the API and the workbench use the
same builders (:func:`raredx.io.case_from_phenopacket`, :func:`raredx.io.case_from_features`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import cast, get_args

from raredx.engine import Case, Sex
from raredx.errors import InputError, Problem
from raredx.genomics import Genotype, genotype_from_phenopacket
from raredx.io._archive import is_zip
from raredx.io.phenopackets import case_from_phenopacket, iter_phenopackets
from raredx.io.terms import read_term_tsv, split_terms

FILE_SUFFIXES = (".json", ".tsv", ".txt", ".zip")


def read_cases(inputs: Sequence[str], *, with_interpretations: bool = False,
               problems: list[Problem] | None = None) -> list[Case]:
    """The cases ``inputs`` stand for: one file or directory (a term TSV, a phenopacket, a directory or ZIP of
    phenopackets), else HPO ids (separate and/or comma-separated). ``with_interpretations``: a phenopacket's
    genomic interpretations become the case's genotype evidence. A phenopacket that cannot be read (malformed,
    damaged in its ZIP, without a feature's id) raises :class:`InputError`; with ``problems`` it is appended there
    instead and the others are read (unless none can be)."""
    first = Path(inputs[0]) if inputs else Path()
    if not inputs or len(inputs) > 1 or not (first.exists() or first.suffix.lower() in FILE_SUFFIXES):
        return [Case(observed=tuple(split_terms(list(inputs), "arguments")))]
    if not first.exists():
        raise InputError(f"{first}: no such file; give an existing phenopacket JSON or term TSV file.")
    if first.is_file() and first.suffix.lower() in (".tsv", ".txt"):
        observed, excluded = read_term_tsv(first)
        return [Case(tuple(observed), tuple(excluded), id=first.stem)]
    cases = []
    skipped: list[Problem] = []
    for rec in iter_phenopackets(first, skipped):
        if skipped and problems is None:
            break
        try:
            case = case_from_phenopacket(rec.document, rec.source)
        except InputError as exc:
            skipped.append(Problem(rec.source, "", str(exc).removeprefix(f"{rec.source}: ")))
            continue
        genotype = genotype_from_phenopacket(rec.document) if with_interpretations else None
        cases.append(replace(case, source_pmids=(), genotype=genotype or None))
    collection = first.is_dir() or is_zip(first)
    if skipped and (problems is None or not collection):
        hint = " (--lenient skips what cannot be read and reads the others)" if collection else ""
        raise InputError(f"{skipped[0]}{hint}")
    if problems is not None:
        problems.extend(skipped)
        if not cases:
            raise InputError(f"{first}: none of its phenopackets can be read; the first: {skipped[0]}")
    return cases


def check_sex(sex: str | None) -> Sex | None:
    """``male`` or ``female`` (any case), or None; raises naming the value otherwise."""
    if sex is None:
        return None
    if sex.lower() not in get_args(Sex):
        raise InputError(f"--sex {sex!r}: use male or female (or leave it out when unknown).")
    return cast(Sex, sex.lower())


def amend(
    case: Case,
    *,
    exclude: Sequence[str] = (),
    sex: str | None = None,
    onset: str | None = None,
    age: str | None = None,
    genotype: Genotype | None = None,
) -> Case:
    """``case`` with more excluded terms (HPO ids, comma-separated allowed), and the sex, onset and age given
    instead of its own; ``genotype`` is merged with the case's."""
    return replace(
        case,
        excluded=case.excluded + tuple(split_terms(list(exclude), "--exclude")),
        sex=check_sex(sex) or case.sex,
        onset=onset or case.onset,
        age=age or case.age,
        genotype=merge_genotypes(case.genotype, genotype),
    )


def with_note(case: Case, note: Case, name: str = "") -> Case:
    """``case`` with the findings of a clinical note added (no term twice), its onset, sex and age where the
    case has none."""
    return replace(case, observed=tuple(dict.fromkeys(case.observed + note.observed)),
                   excluded=tuple(dict.fromkeys(case.excluded + note.excluded)), onset=case.onset or note.onset,
                   sex=case.sex or note.sex, age=case.age or note.age, id=case.id or name)


def merge_genotypes(a: Genotype | None, b: Genotype | None) -> Genotype | None:
    """Both genotypes' evidence (None when neither has any)."""
    return a.merged(b) if a and b else (a or b or None)
