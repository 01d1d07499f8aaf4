"""The `raredx` command line: a thin layer over :class:`raredx.RareDx`."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from raredx import __version__
from raredx.commands._options import CacheDir, DatabaseUrl, DataDir, RegistryDir
from raredx.errors import InputError, Problem, RaredxError

if TYPE_CHECKING:
    from raredx.core import RareDx
    from raredx.genomics import Genotype

app = typer.Typer(
    name="raredx",
    help="Rare-disease differential diagnosis from HPO phenotypes over the official HPO, Orphanet and Mondo releases.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="The knowledge-base releases: versions, updates.", no_args_is_help=True)
app.add_typer(data_app, name="data")

err = Console(stderr=True)
out = Console()



def _version(value: bool) -> None:
    if value:
        out.print(f"raredx {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress and details to stderr.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _load(data_dir: Path | None, cache_dir: Path | None) -> RareDx:
    from raredx.core import RareDx

    return RareDx.load(data_dir, cache_dir=cache_dir)


@app.command()
def diagnose(
    inputs: Annotated[list[str] | None, typer.Argument(help="HPO ids of observed terms, or one phenopacket JSON / term TSV file, or a directory / ZIP of phenopackets.", show_default=False)] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", "-x", help="An excluded HPO term (repeat, or comma-separate).")] = None,
    sex: Annotated[str | None, typer.Option(help="male or female.")] = None,
    onset: Annotated[str | None, typer.Option(help="Age of onset: ISO 8601 (P3Y, P6M) or an HPO onset term.")] = None,
    age: Annotated[str | None, typer.Option(help="Age at last encounter (ISO 8601).")] = None,
    top: Annotated[int, typer.Option(min=1, help="How many diseases to show.")] = 10,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or tsv.")] = "table",
    lenient: Annotated[bool, typer.Option("--lenient", help="Skip unknown HPO ids and --genes, and phenopackets of a directory or ZIP that cannot be read, with a warning instead of failing.")] = False,
    vcf: Annotated[Path | None, typer.Option(help="A VCF (plain or bgzipped), VEP- or SnpEff-annotated or not.")] = None,
    build: Annotated[str, typer.Option(help="Genome build of the VCF: GRCh38 or GRCh37.")] = "GRCh38",
    sample: Annotated[str | None, typer.Option(help="The proband's sample in the VCF (default: the affected one in --ped, else the first).")] = None,
    ped: Annotated[Path | None, typer.Option(help="PED file of the family samples in the VCF (trio: de novo; segregation).")] = None,
    variants: Annotated[Path | None, typer.Option(help="A lab variant table (TSV/CSV: gene, hgvs, zygosity, acmg).")] = None,
    genes: Annotated[str | None, typer.Option(help="Candidate genes, comma-separated (e.g. FBN1,TGFBR2).")] = None,
    with_interpretations: Annotated[bool, typer.Option("--with-interpretations", help="Use a phenopacket's genomicInterpretations as genotype evidence.")] = False,
    text: Annotated[str | None, typer.Option("--text", help="A clinical note (UTF-8 file, or - for stdin): its findings are extracted and added.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of --text: en, ru or auto.")] = "auto",
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Rank rare diseases for a patient's phenotype (and genotype, with --vcf / --variants / --genes).

    Examples: raredx diagnose HP:0001166 HP:0004322 --exclude HP:0000365 --sex female --onset P3Y;
    raredx diagnose case.json --format json; raredx diagnose terms.tsv
    """
    from raredx.io.output import FORMATS, render_table, to_json, to_tsv

    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    genotype = _genotype(vcf, build, sample, ped, variants, genes)
    rdx = _load(data_dir, cache_dir)
    if genotype is not None and genotype.genes:
        genotype = _known_genes(rdx, genotype, lenient)
    problems: list[Problem] | None = [] if lenient else None
    cases = rdx.cases_from(inputs or [], exclude=exclude or [], sex=sex, onset=onset, age=age, text=text, lang=lang,
                           genotype=genotype, with_interpretations=with_interpretations, problems=problems)
    for problem in problems or []:
        _warn(f"skipped {problem}")
    results = [rdx.diagnose(c, top=top, strict=not lenient) for c in cases]
    if fmt == "json":
        typer.echo(to_json(results if len(results) > 1 else results[0]))
    elif fmt == "tsv":
        typer.echo(to_tsv(results), nl=False)
    else:
        for r in results:
            render_table(r, out)


def _genotype(vcf: Path | None, build: str, sample: str | None, ped: Path | None, variants: Path | None,
              genes: str | None) -> Genotype | None:
    """The genotype evidence given on the command line (None if none)."""
    from raredx.genomics import Genotype, read_ped, read_variant_table, read_vcf

    g = Genotype()
    if ped is not None and vcf is None:
        raise InputError("--ped describes the samples of a VCF; give --vcf too.")
    if vcf is not None:
        g = g.merged(read_vcf(vcf, build=build, sample=sample, ped=read_ped(ped) if ped else None))
    if variants is not None:
        g = g.merged(read_variant_table(variants))
    if genes:
        symbols = tuple(x.strip() for x in genes.split(",") if x.strip())
        if not symbols:
            raise InputError("--genes: give gene symbols separated by commas (FBN1,TGFBR2).")
        g = g.merged(Genotype(genes=symbols))
    return g or None


def _known_genes(rdx: RareDx, genotype: Genotype, lenient: bool) -> Genotype | None:
    """``genotype`` without the --genes symbols the knowledge base does not know (with --lenient: a warning each;
    else an error naming the first, with close symbols if there are)."""
    from dataclasses import replace

    unknown = rdx.unknown_genes(genotype.genes)
    for symbol, close in unknown.items():
        hint = f"did you mean {' or '.join(close)}?" if close else "check the symbol (HGNC, such as FBN1)."
        message = f"--genes: {symbol!r} is not a gene of any disease in the knowledge base; {hint}"
        if not lenient:
            raise InputError(f"{message} (--lenient leaves unknown genes out)")
        _warn(f"{message} It is left out.")
    kept = replace(genotype, genes=tuple(g for g in genotype.genes if g not in unknown))
    return kept or None


def _warn(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)


@app.command()
def benchmark(
    phenopackets: Annotated[Path, typer.Argument(help="A ZIP or directory of phenopacket JSON files (nested folders allowed).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for summary.json, ranks.tsv, skipped.tsv and calibration.png.")],
    mask_source_publication: Annotated[bool, typer.Option("--mask-source-publication", help="Leave out annotations whose only reference is the case's own publication.")] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after this many phenopackets.")] = None,
    candidate_genes: Annotated[int | None, typer.Option("--candidate-genes", min=0, help="Give each case its causal gene(s) plus N decoy genes; adds gene_top1/gene_top10.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for the decoy genes.")] = 0,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Rank every case of a phenopacket collection; report top-k accuracy, MRR, calibration and speed, for all
    cases and for the cited and unseen subsets (summary.json, ranks.tsv, calibration.png)."""
    import json
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from raredx.benchmark import BenchmarkOptions

    t0 = time.perf_counter()
    rdx = _load(data_dir, cache_dir)
    rdx.engine  # noqa: B018 - the load is part of the measured wall time
    show = err.is_terminal and not os.environ.get("CI")
    options = BenchmarkOptions(mask_source_publication, limit, candidate_genes, seed)
    with Progress(TextColumn("ranking cases"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, disable=not show, transient=True) as progress:
        task = progress.add_task("cases", total=limit)
        summary = rdx.benchmark(phenopackets, out_dir, options, started=t0,
                                on_case=lambda n: progress.update(task, completed=n + 1))
    typer.echo(json.dumps(summary, indent=2))


@app.command("benchmark-match")
def benchmark_match(
    phenopackets: Annotated[Path, typer.Argument(help="A ZIP or directory of phenopacket JSON files (nested folders allowed).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for summary.json, matches.tsv and skipped.tsv.")],
    cross_publication: Annotated[bool, typer.Option("--cross-publication", help="Never match a case with a case of its own publication.")] = False,
    with_genes: Annotated[bool, typer.Option("--with-genes", help="Match on the cases' genes too (from their genomic interpretations).")] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="Read only this many phenopackets.")] = None,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Patients like this one on a phenopacket collection: for each case with another case of its disease, rank
    all other cases (never itself or its family); p_at_1, hit_at_5, MRR, and the masked differential with and
    without the other cases' diagnoses as evidence (summary.json, matches.tsv)."""
    import json

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from raredx.benchmark import MatchBenchmarkOptions, run_match_benchmark

    rdx = _load(data_dir, cache_dir)
    show = err.is_terminal and not os.environ.get("CI")
    options = MatchBenchmarkOptions(cross_publication=cross_publication, with_genes=with_genes, limit=limit)
    with Progress(TextColumn("reading cases"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, disable=not show, transient=True) as progress:
        task = progress.add_task("cases", total=limit)
        summary = run_match_benchmark(rdx.engine, phenopackets, out_dir, options,
                                      on_case=lambda n: progress.update(task, completed=n))
    typer.echo(json.dumps(summary, indent=2))


@data_app.command("info")
def data_info(data_dir: DataDir = None, cache_dir: CacheDir = None) -> None:
    """Print every knowledge-base source with its version and checksum."""
    from rich.table import Table

    from raredx.kb import resolve_data_dir

    rdx = _load(data_dir, cache_dir)
    kb = rdx.kb
    table = Table(title=f"Knowledge base in {resolve_data_dir(data_dir)}", title_justify="left")
    for col in ("source", "file", "version", "sha256", "official URL"):
        table.add_column(col)
    for s in kb.sources:
        table.add_row(s.key, s.file, s.version, s.sha256[:12], s.url)
    out.print(table)
    named, defined = int(kb.annotations.from_name.sum()), int(kb.annotations.from_definition.sum())
    out.print(f"{len(kb.concepts)} disease concepts, {len(kb.annotations) - named - defined} phenotype annotations "
              f"(+{named} read from disease names, +{defined} from Orphanet's definitions), {len(kb.ontology)} HPO "
              f"terms; fingerprint {kb.fingerprint}")


@data_app.command("update")
def data_update(
    from_dir: Annotated[Path | None, typer.Option("--from", help="Install releases from this directory instead of downloading.")] = None,
    cache_dir: CacheDir = None,
    registry_dir: RegistryDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Fetch the newest official releases, derive the terms of Orphanet's definitions, check that they build,
    and install them; then say how many registry patients a re-analysis on them would touch."""
    from raredx.extract import write_definition_terms
    from raredx.kb import update_releases

    kb = update_releases(from_dir, cache=cache_dir, derive=write_definition_terms)
    out.print(f"installed: {kb.version} ({len(kb.concepts)} disease concepts)")
    note = _registry.reanalysis_note(kb.fingerprint, registry_dir, database_url)
    if note is not None:
        out.print(note, highlight=False, soft_wrap=True)


from raredx.commands import extract as _extract  # noqa: E402 - raredx extract, raredx extract-eval
from raredx.commands import mme as _mme  # noqa: E402 - raredx mme match, raredx mme peers
from raredx.commands import registry as _registry  # noqa: E402 - serve, demo, user, registry

_extract.register(app)
_registry.register(app)
_mme.register(app)


def run() -> None:
    """Console-script entry point: user errors become one clear line and an exit code, never a traceback.
    (Usage errors are reported by click itself, with exit code 2.)"""
    try:
        app()
    except RaredxError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("aborted")
        sys.exit(130)
