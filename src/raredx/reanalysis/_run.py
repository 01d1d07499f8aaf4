"""Re-analysis of the registry: re-rank the patients on the current knowledge base, keep the new analyses and
report the patients whose picture changed materially.

The ranking runs in this process (one worker), on a local Dask cluster of worker processes (several), or on the
Dask cluster whose scheduler is given: every worker loads the knowledge base once (from the same data and cache
directories, which must hold the same release: the workers' knowledge-base fingerprint is checked) and ranks
batches of patients; this process reads the patients, compares and writes the analyses."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raredx import config
from raredx.app import case_of
from raredx.core import RareDx
from raredx.engine import Case
from raredx.errors import InputError, KnowledgeBaseError, RaredxError
from raredx.kb import resolve_data_dir
from raredx.reanalysis._analysis import RISE, analysis_of, compare, labeller, patient_genes
from raredx.registry import Actor, Registry
from raredx.registry.schemas import AnalysisChange, AnalysisCreate

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)
TRIGGER = "reanalysis"
BATCH = 50  # patients per task: large enough that a task's overhead does not count


@dataclass(frozen=True, slots=True)
class PatientChanges:
    """A patient whose picture changed materially, with what changed and why."""

    patient_id: int
    pseudonym: str
    analysis_id: int
    previous_kb_version: str | None
    changes: tuple[AnalysisChange, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"patient_id": self.patient_id, "pseudonym": self.pseudonym, "analysis_id": self.analysis_id,
                "previous_kb_version": self.previous_kb_version,
                "changes": [c.model_dump(mode="json") for c in self.changes]}


@dataclass(frozen=True, slots=True)
class Failure:
    """A patient that could not be ranked, and why (their record needs mending first)."""

    patient_id: int
    message: str


@dataclass(frozen=True, slots=True)
class ReanalysisReport:
    """What a re-analysis did: on which knowledge base, where, how many patients, which of them changed."""

    kb_version: str
    kb_fingerprint: str
    where: str  # "this process", "a local Dask cluster of N workers", "the Dask cluster at ADDRESS"
    analysed: int
    changed: tuple[PatientChanges, ...]
    failed: tuple[Failure, ...] = field(default=())
    seconds: float = 0.0

    @property
    def patients_per_second(self) -> float:
        return self.analysed / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"kb_version": self.kb_version, "kb_fingerprint": self.kb_fingerprint, "where": self.where,
                "analysed": self.analysed, "changed": [c.to_dict() for c in self.changed],
                "failed": [{"patient_id": f.patient_id, "message": f.message} for f in self.failed],
                "seconds": round(self.seconds, 3)}


@dataclass(frozen=True, slots=True)
class _Task:
    """One patient as a worker ranks it."""

    patient_id: int
    patient_version: int
    case: Case
    genes: tuple[str, ...]


_Ranked = tuple[int, AnalysisCreate | str]  # (patient id, the analysis or why there is none)
_LOADED: dict[tuple[str, str], RareDx] = {}


def _worker_raredx(data_dir: str, cache_dir: str) -> RareDx:
    """The knowledge base and engine of this worker process, loaded at its first task."""
    key = (data_dir, cache_dir)
    if key not in _LOADED:
        _LOADED[key] = RareDx.load(data_dir, cache_dir=cache_dir)
    return _LOADED[key]


def _rank_all(rdx: RareDx, tasks: list[_Task]) -> list[_Ranked]:
    out: list[_Ranked] = []
    for t in tasks:
        try:
            result = rdx.diagnose(t.case, top=10, strict=False, suggestions=0)
        except RaredxError as exc:
            out.append((t.patient_id, str(exc)))
            continue
        out.append((t.patient_id, analysis_of(result, rdx.kb, patient_version=t.patient_version, genes=t.genes,
                                              trigger=TRIGGER)))
    return out


def rank_batch(data_dir: str, cache_dir: str, fingerprint: str, tasks: list[_Task]) -> list[_Ranked]:
    """A Dask task: rank ``tasks`` on the worker's knowledge base, which must be the one of ``fingerprint``."""
    rdx = _worker_raredx(data_dir, cache_dir)
    if rdx.kb.fingerprint != fingerprint:
        raise KnowledgeBaseError(
            f"a Dask worker's knowledge base in {data_dir} is {rdx.kb.version} (fingerprint {rdx.kb.fingerprint}), "
            f"not the one re-analysing (fingerprint {fingerprint}); install the same release on every worker "
            "(raredx data update --from DIR) and start again.")
    return _rank_all(rdx, tasks)


def _batches(registry: Registry, actor: Actor, ids: list[int], batch: int,
             pseudonyms: dict[int, str]) -> Iterator[list[_Task]]:
    """The patients of ``ids`` read ``batch`` at a time, as tasks (their pseudonyms noted in ``pseudonyms``)."""
    for start in range(0, len(ids), batch):
        patients = registry.patients_for_analysis(actor, ids[start:start + batch])
        pseudonyms.update((p.id, p.pseudonym) for p in patients)
        yield [_Task(p.id, p.version, case_of(p), patient_genes(p)) for p in patients]


def reanalyse(
    rdx: RareDx,
    registry: Registry,
    actor: Actor,
    *,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    unsolved: bool = False,
    everyone: bool = False,
    rise: float = RISE,
    workers: int = 1,
    scheduler: str | None = None,
    client: Client | None = None,
    batch: int = BATCH,
    on_patients: Callable[[int, int], None] | None = None,
) -> ReanalysisReport:
    """Re-rank the registry's patients on ``rdx``'s knowledge base (whose release is in ``data_dir``, compiled in
    ``cache_dir``, as ``rdx`` was loaded) and keep the new analyses: those whose latest analysis was made on another
    knowledge base or who have none (``everyone``: all), with an observed finding (``unsolved``: and without a
    confirmed diagnosis). Reports the patients whose picture changed materially since their latest analysis on an
    older knowledge base (see :func:`raredx.reanalysis.compare`; ``rise``: the probability rise that counts).

    Where it runs: ``client`` (a connected Dask client), else the Dask scheduler at ``scheduler``, else a local Dask
    cluster of ``workers`` processes, else (one worker) this process. ``on_patients(done, total)`` follows progress."""
    if not 0 < rise <= 1:
        raise InputError(f"--rise is a probability rise between 0 and 1 (got {rise}); 0.2 means 20 points.")
    if workers < 1 or batch < 1:
        raise InputError("--workers and the batch size must be at least 1.")
    started = time.perf_counter()
    kb = rdx.kb
    ids = registry.reanalysis_targets(actor, None if everyone else kb.fingerprint, unsolved=unsolved)
    log.info("re-analysing %d patients on %s", len(ids), kb.version)
    if client is None and scheduler is None:
        workers = min(workers, -(-len(ids) // batch) or 1)  # no more processes than batches
    with ExitStack() as stack:
        client, where = _client(stack, client, scheduler, workers)
        pseudonyms: dict[int, str] = {}
        ranked = _ranked(rdx, _batches(registry, actor, ids, batch, pseudonyms), client, data_dir, cache_dir)
        changed, failed, done = _keep(registry, actor, rdx, ranked, pseudonyms, rise, len(ids), on_patients)
    return ReanalysisReport(kb.version, kb.fingerprint, where, done, tuple(changed), tuple(failed),
                            time.perf_counter() - started)


def _client(stack: ExitStack, client: Client | None, scheduler: str | None, workers: int) -> tuple[Client | None, str]:
    if client is not None:
        return client, f"the Dask cluster of {len(client.scheduler_info().get('workers', {}))} worker(s) given"
    if scheduler is None and workers == 1:
        return None, "this process"
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - a dependency of raredx
        raise InputError("parallel re-analysis needs dask[distributed]: pip install 'dask[distributed]'.") from exc
    if scheduler is not None:
        try:
            return stack.enter_context(Client(scheduler, timeout=10)), f"the Dask cluster at {scheduler}"
        except (OSError, TimeoutError) as exc:
            raise InputError(f"no Dask scheduler answers at {scheduler} ({exc}); start one (dask scheduler) with "
                             "workers (dask worker ADDRESS), or leave --scheduler out to use this machine's cores.") from exc
    cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               dashboard_address=None))
    return stack.enter_context(Client(cluster)), f"a local Dask cluster of {workers} worker processes"


def _ranked(rdx: RareDx, batches: Iterator[list[_Task]], client: Client | None, data_dir: str | Path | None,
            cache_dir: str | Path | None) -> Iterator[list[_Ranked]]:
    """The ranked patients, batch by batch (in the order they finish)."""
    if client is None:
        for tasks in batches:
            yield _rank_all(rdx, tasks)
        return
    from distributed import as_completed

    source, cache = str(resolve_data_dir(data_dir)), str(config.cache_dir(cache_dir))
    futures = [client.submit(rank_batch, source, cache, rdx.kb.fingerprint, tasks, pure=False)
               for tasks in batches]
    for future in as_completed(futures):
        yield future.result()


def _keep(registry: Registry, actor: Actor, rdx: RareDx, ranked: Iterator[list[_Ranked]], pseudonyms: dict[int, str],
          rise: float, total: int, on_patients: Callable[[int, int], None] | None) -> tuple[list[PatientChanges], list[Failure], int]:
    """Compare each batch with the patients' baselines and write its analyses; the changed, the failed, how many."""
    label_of, name_of = labeller(rdx.kb)
    changed: list[PatientChanges] = []
    failed: list[Failure] = []
    done = 0
    for results in ranked:
        good = [(pid, a) for pid, a in results if isinstance(a, AnalysisCreate)]
        failed += [Failure(pid, a) for pid, a in results if isinstance(a, str)]
        baselines = registry.analysis_baselines(actor, [pid for pid, _ in good], rdx.kb.fingerprint)
        kept = []
        for pid, a in good:
            base = baselines.get(pid)
            kept.append((pid, a.model_copy(update={
                "changes": compare(base, a, rise=rise, label_of=label_of, name_of=name_of),
                "compared_with": base.id if base is not None else None})))
        records = registry.record_analyses(actor, kept)
        changed += [PatientChanges(r.patient_id, pseudonyms.get(r.patient_id, ""), r.id,
                                   baselines[r.patient_id].kb_version if r.patient_id in baselines else None, r.changes)
                    for r in records if r.changes]
        done += len(results)
        if on_patients is not None:
            on_patients(done, total)
    changed.sort(key=lambda c: c.patient_id)
    return changed, failed, done - len(failed)
