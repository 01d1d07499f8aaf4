"""Stateless and cohort-level endpoints: diagnosis, statistics, term search, audit log, health."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from raredx import __version__
from raredx.api._errors import errors
from raredx.api.deps import TOTAL_COUNT, CurrentActor, RdxDep, RegistryDep, ServicesDep, SettingsDep, requires
from raredx.api.schemas import MAX_ID, MAX_PAGE, AuditRecord, DiagnoseRequest, Differential, HealthOut, TermHitOut
from raredx.io import case_from_phenopacket
from raredx.registry import Permission

router = APIRouter(prefix="/api", tags=["service"])


@router.post("/diagnose", dependencies=[requires(Permission.DIAGNOSE)],
             responses={200: {"model": Differential}, **errors(401, 403, 422)},
             summary="Rank diseases for a phenopacket-shaped phenotype (the JSON of raredx diagnose --format json)")
async def diagnose(body: DiagnoseRequest, svc: ServicesDep, top: Annotated[int, Query(ge=1, le=100)] = 10,
                   lenient: Annotated[bool, Query(description="skip unknown HPO ids instead of answering 422")] = False
                   ) -> Response:
    case = case_from_phenopacket(body.model_dump(exclude_unset=True), "the request body")
    return Response(await svc.diagnose_json(case, top=top, strict=not lenient), media_type="application/json")


@router.get("/statistics", dependencies=[requires(Permission.STATISTICS)], summary="Cohort statistics",
            responses=errors(401, 403))
def statistics(registry: RegistryDep, actor: CurrentActor) -> dict[str, Any]:
    return registry.statistics(actor)


@router.get("/terms", response_model=list[TermHitOut], summary="HPO term search for autocomplete (prefix, typo-tolerant)",
            responses=errors(401, 422))
def terms(svc: ServicesDep, _actor: CurrentActor, q: Annotated[str, Query(min_length=1, max_length=200)],
          limit: Annotated[int, Query(ge=1, le=100)] = 10,
          lang: Annotated[Literal["en", "ru"], Query(description=(
              "the language of each hit's label: ru gives the Russian lexicon's label where it has one (else the "
              "English one). The query's script decides what is searched: Cyrillic searches the Russian labels and "
              "synonyms (any inflected form), Latin the English ones, and HP:0000000 an id"))] = "en"
          ) -> list[TermHitOut]:
    return [TermHitOut(id=h.id, label=h.label, english_label=h.english_label, matched=h.matched, score=h.score)
            for h in svc.terms.search(q, lang, limit)]


@router.get("/audit", response_model=list[AuditRecord], summary="The audit log, newest first (X-Total-Count: how many in all)",
            responses={**errors(401, 403, 422), **TOTAL_COUNT})
def audit(registry: RegistryDep, actor: CurrentActor, response: Response,
          patient_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
          offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
          limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> list[AuditRecord]:
    page = registry.audit_page(actor, patient_id=patient_id, offset=offset, limit=limit)
    response.headers["X-Total-Count"] = str(page.count)
    return page.data


@router.get("/health", response_model=HealthOut, summary="Liveness, version, demo mode (no authentication)",
            responses=errors())
def health(registry: RegistryDep, rdx: RdxDep, settings: SettingsDep) -> HealthOut:
    return HealthOut(status="ok", version=__version__, demo=settings.demo, database=registry.engine.dialect.name,
                     kb_version=rdx.kb.version)
