from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from raredx.api._errors import errors
from raredx.api.deps import TOTAL_COUNT, CurrentActor, RegistryDep, ServicesDep
from raredx.api.schemas import (
    MAX_ID,
    MAX_PAGE,
    AnalysisRecord,
    AuditRecord,
    Differential,
    PatientCreate,
    PatientFilter,
    PatientPublic,
    PatientQuery,
    PatientsPublic,
    PatientSummaries,
    PatientUpdate,
    Revision,
    SimilarPatientsOut,
)
from raredx.reanalysis import diagnose_patient as diagnose_and_keep

router = APIRouter(prefix="/api/patients", tags=["patients"], responses=errors(401, 403, 422))
PatientId = Annotated[int, Path(ge=1, le=MAX_ID, description="the patient's id (not the pseudonym)")]


@router.get("", response_model=PatientSummaries | PatientsPublic,
            summary="Search patients (filters combine with AND): list lines, or whole records with view=full")
def list_patients(registry: RegistryDep, actor: CurrentActor, q: Annotated[PatientQuery, Query()]) -> Response:
    filters = PatientFilter.model_validate(q.model_dump(exclude={"offset", "limit", "view"}))
    page: PatientSummaries | PatientsPublic
    if q.view == "full":
        page = registry.list_patients(actor, filters, offset=q.offset, limit=q.limit)
    else:
        page = registry.list_summaries(actor, filters, offset=q.offset, limit=q.limit)
    # the page is a validated response model already: serialise it once (FastAPI would dump, re-validate, then
    # serialise it; the response_model above documents it)
    return Response(page.model_dump_json(), media_type="application/json")


@router.post("", response_model=PatientPublic, status_code=201, responses=errors(409))
def create_patient(body: PatientCreate, registry: RegistryDep, actor: CurrentActor) -> PatientPublic:
    return registry.create_patient(actor, body)


@router.get("/{patient_id}", response_model=PatientPublic, responses=errors(404))
def get_patient(patient_id: PatientId, registry: RegistryDep, actor: CurrentActor) -> PatientPublic:
    return registry.get_patient(actor, patient_id)


@router.patch("/{patient_id}", response_model=PatientPublic, responses=errors(404, 409),
              summary="Change some fields; send the version you read (409 if someone saved in between)")
def update_patient(patient_id: PatientId, body: PatientUpdate, registry: RegistryDep, actor: CurrentActor) -> PatientPublic:
    return registry.update_patient(actor, patient_id, body)


@router.delete("/{patient_id}", status_code=204, summary="Soft delete (an admin can restore)", responses=errors(404, 409))
def delete_patient(patient_id: PatientId, registry: RegistryDep, actor: CurrentActor) -> Response:
    registry.delete_patient(actor, patient_id)
    return Response(status_code=204)


@router.post("/{patient_id}/restore", response_model=PatientPublic, responses=errors(404, 409))
def restore_patient(patient_id: PatientId, registry: RegistryDep, actor: CurrentActor) -> PatientPublic:
    return registry.restore_patient(actor, patient_id)


@router.get("/{patient_id}/history", response_model=list[Revision], summary="Every saved version of the record",
            responses=errors(404))
def history(patient_id: PatientId, registry: RegistryDep, actor: CurrentActor) -> list[Revision]:
    return registry.history(actor, patient_id)


@router.get("/{patient_id}/audit", response_model=list[AuditRecord],
            summary="The patient's audit entries, newest first (X-Total-Count: how many in all)", responses=TOTAL_COUNT)
def patient_audit(patient_id: PatientId, registry: RegistryDep, actor: CurrentActor, response: Response,
                  offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
                  limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> list[AuditRecord]:
    page = registry.audit_page(actor, patient_id=patient_id, offset=offset, limit=limit)
    response.headers["X-Total-Count"] = str(page.count)
    return page.data


@router.get("/{patient_id}/phenopacket", summary="The patient as a GA4GH Phenopacket v2", responses=errors(404))
def export_phenopacket(patient_id: PatientId, registry: RegistryDep, actor: CurrentActor) -> dict[str, Any]:
    return registry.export_phenopacket(actor, patient_id)


@router.post("/{patient_id}/diagnose", summary="Rank diseases for the stored phenotype (same JSON as raredx diagnose)",
             response_model=None, responses={200: {"model": Differential}, **errors(404)})
async def diagnose_patient(patient_id: PatientId, svc: ServicesDep, actor: CurrentActor,
                           top: Annotated[int, Query(ge=1, le=100)] = 10,
                           solved_cases: Annotated[bool, Query(description="add the evidence of the registry's "
                                                               "similar solved patients (never the patient's family), "
                                                               "shown apart as solved_cases")] = False) -> Response:
    if solved_cases:
        result = await svc.compute(svc.matcher.diagnose, actor, patient_id, top=top)
    else:
        result = await svc.compute(diagnose_and_keep, svc.rdx, svc.registry, actor, patient_id, top=top)
    return Response(json.dumps(result.to_dict(), ensure_ascii=False), media_type="application/json")


@router.get("/{patient_id}/analyses", response_model=list[AnalysisRecord],
            summary="The patient's analysis history: every differential kept with the knowledge base that made it, "
                    "newest first (X-Total-Count: how many in all)", responses={**TOTAL_COUNT, **errors(404)})
def analyses(patient_id: PatientId, registry: RegistryDep, actor: CurrentActor, response: Response,
             offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
             limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> list[AnalysisRecord]:
    page = registry.analyses(actor, patient_id, offset=offset, limit=limit)
    response.headers["X-Total-Count"] = str(page.count)
    return page.data


@router.get("/{patient_id}/similar", response_model=SimilarPatientsOut, responses=errors(404),
            summary="Patients like this one: the most similar other patients (pseudonyms only), with why")
async def similar_patients(patient_id: PatientId, svc: ServicesDep, actor: CurrentActor,
                           top: Annotated[int, Query(ge=1, le=100)] = 10,
                           with_genes: Annotated[bool, Query(description="count shared genes of the genetic "
                                                             "findings too")] = False) -> Response:
    found = await svc.compute(svc.matcher.similar, actor, patient_id, top=top, with_genes=with_genes)
    return Response(json.dumps(found.to_dict(), ensure_ascii=False), media_type="application/json")
