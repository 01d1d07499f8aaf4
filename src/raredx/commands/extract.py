"""``raredx extract`` and ``raredx extract-eval``: thin commands over :class:`raredx.extract.Extractor`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from raredx.commands._options import CacheDir, DataDir
from raredx.errors import InputError, Problem
from raredx.extract import (
    LANGUAGES,
    Demographics,
    ExtractedTerm,
    Extractor,
    demographics,
    observed_and_excluded,
    onset_of,
)
from raredx.extract._demographics import ONSET_LABELS
from raredx.extract._io import read_texts

FORMATS = ("table", "json", "jsonl", "phenopacket")

Lang = Annotated[str, typer.Option("--lang", "-l", help="en, ru, or auto (both lexicons; mixed-language notes).")]


def extract(
    paths: Annotated[list[str], typer.Argument(help="UTF-8 text files, directories or ZIPs (every .txt in them), or - for stdin.", show_default=False)],
    lang: Lang = "auto",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json, jsonl or phenopacket.")] = "table",
    include_family: Annotated[bool, typer.Option("--include-family", help="Also list terms said of relatives (flagged).")] = False,
    lenient: Annotated[bool, typer.Option("--lenient", help="Skip notes that cannot be read (not UTF-8, empty, damaged in a ZIP) with a warning instead of failing.")] = False,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Find HPO terms in clinical text (English or Russian), observed and excluded kept apart.

    Examples: raredx extract note.txt; raredx extract notes/ --format jsonl; raredx extract notes.zip --lenient;
    cat note.txt | raredx extract - --lang ru
    """
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    if lang not in LANGUAGES:
        raise InputError(f"--lang {lang!r}: choose one of {', '.join(LANGUAGES)}.")
    problems: list[Problem] | None = [] if lenient else None
    texts = read_texts(paths, problems)  # read everything first: a bad file fails before any output
    for problem in problems or []:
        typer.echo(f"warning: skipped {problem}", err=True)
    ex = Extractor.load(data_dir, cache_dir=cache_dir)
    results = []
    for name, text in texts:
        terms = ex.extract(text, lang, include_family=include_family)
        results.append((name, ex.detect_language(text) if lang == "auto" else lang, terms))
        if fmt == "jsonl":
            typer.echo(json.dumps(_document(*results[-1]), ensure_ascii=False))
        elif fmt == "table":
            _table(name, terms, Console())
    if fmt in ("json", "phenopacket"):
        docs = [_document(*r) if fmt == "json" else _phenopacket(r[0], r[2], demographics(texts[k][1]))
                for k, r in enumerate(results)]
        typer.echo(json.dumps(docs if len(docs) > 1 else docs[0], ensure_ascii=False, indent=2))


def extract_eval(
    corpus_dir: Annotated[Path, typer.Argument(help="A corpus in the GSC+ layout: corpus/<id> texts, ann/<id> annotations.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON summary (with per-document errors) here.")] = None,
    lang: Lang = "auto",
    include_excluded: Annotated[bool, typer.Option("--include-excluded", help="Count negated terms as found too.")] = False,
    include_family: Annotated[bool, typer.Option("--include-family", help="Count terms said of relatives as found too.")] = False,
    phenotype_gold_only: Annotated[bool, typer.Option(
        "--phenotype-gold-only",
        help="Ignore gold ids outside Phenotypic abnormality and onset (inheritance, modifiers): raredx does not extract them.",
    )] = False,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Score extraction on an annotated corpus: document-level micro precision, recall and F1 of HPO ids."""
    from raredx.extract._eval import evaluate, read_corpus, restrict_gold
    from raredx.kb import load_knowledge_base
    from raredx.ontology import ONSET

    ontology = load_knowledge_base(data_dir, cache=cache_dir).ontology
    docs = read_corpus(corpus_dir, lambda i: ontology.redirects.get(i, i))
    if phenotype_gold_only:
        usable = ontology.phenotype_mask | ontology.branch_mask(ONSET)
        docs = restrict_gold(docs, lambda i: (k := ontology.index(i)) is not None and bool(usable[k]))
    ex = Extractor.from_ontology(ontology, cache_dir=cache_dir)
    result = evaluate(ex, docs, lang=lang, include_excluded=include_excluded, include_family=include_family,
                      corpus=str(corpus_dir))
    summary = result.summary()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    brief = {k: v for k, v in summary.items() if k != "per_document"}
    typer.echo(json.dumps(brief, indent=2))


def register(app: typer.Typer) -> None:
    """Add the extraction commands to the ``raredx`` app."""
    app.command("extract")(extract)
    app.command("extract-eval")(extract_eval)


def _document(name: str, lang: str, terms: list[ExtractedTerm]) -> dict[str, object]:
    return {
        "file": name,
        "lang": lang,
        "terms": [
            {"id": t.id, "label": t.label, "excluded": t.excluded, "start": t.start, "end": t.end, "text": t.text,
             "uncertain": t.uncertain, "family": t.family, "onset": t.onset}
            for t in terms
        ],
    }


def _phenopacket(file: str, terms: list[ExtractedTerm], stated: Demographics | None = None) -> dict[str, object]:
    """A GA4GH Phenopacket v2 that ``raredx diagnose`` reads: observed and excluded features, onset, and the
    sex and age the note states."""
    labels = {t.id: t.label for t in terms}
    observed, excluded = observed_and_excluded(terms)
    stated = stated or Demographics()
    onset = onset_of(terms) or stated.onset
    name = Path(file).stem if file != "-" else "stdin"
    subject: dict[str, object] = {"id": name}
    if stated.sex:
        subject["sex"] = stated.sex.upper()
    if stated.age:
        subject["timeAtLastEncounter"] = {"age": {"iso8601duration": stated.age}}
    features: list[dict[str, object]] = []
    for tid, excl in [(i, False) for i in observed] + [(i, True) for i in excluded]:
        f: dict[str, object] = {"type": {"id": tid, "label": labels[tid]}}
        if excl:
            f["excluded"] = True
        elif onset and onset.startswith("HP:"):
            f["onset"] = {"ontologyClass": {"id": onset, "label": labels.get(onset, ONSET_LABELS.get(onset, onset))}}
        elif onset:
            f["onset"] = {"age": {"iso8601duration": onset}}
        features.append(f)
    return {
        "id": name,
        "subject": subject,
        "phenotypicFeatures": features,
        "metaData": {
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "createdBy": "raredx extract",
            "resources": [{"id": "hp", "name": "human phenotype ontology", "namespacePrefix": "HP",
                           "url": "http://purl.obolibrary.org/obo/hp.owl", "iriPrefix": "http://purl.obolibrary.org/obo/HP_"}],
            "phenopacketSchemaVersion": "2.0",
        },
    }


def _table(name: str, terms: list[ExtractedTerm], console: Console) -> None:
    table = Table(title=name, title_justify="left")
    for col in ("HPO id", "label", "status", "text", "offsets"):
        table.add_column(col)
    for t in terms:
        status = "excluded" if t.excluded else "onset" if t.onset else "observed"
        if t.uncertain:
            status += ", uncertain"
        if t.family:
            status += ", relative"
        table.add_row(t.id, t.label, status, t.text, f"{t.start}-{t.end}")
    console.print(table)
    if not terms:
        console.print("no HPO terms found")
