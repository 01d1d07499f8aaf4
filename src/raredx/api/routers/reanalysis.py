"""The re-analysis list: the patients whose latest analysis changed materially from their latest one on an older
knowledge base (``raredx registry reanalyse`` makes them; so does any diagnosis of a stored patient)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from raredx.api._errors import errors
from raredx.api.deps import CurrentActor, RegistryDep
from raredx.api.schemas import MAX_ID, MAX_PAGE, ChangedPatients

router = APIRouter(prefix="/api/reanalysis", tags=["reanalysis"], responses=errors(401, 403, 422))


@router.get("", response_model=ChangedPatients,
            summary="Patients whose picture changed on a newer knowledge base: what changed and why, newest first")
def changed_patients(registry: RegistryDep, actor: CurrentActor, offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
                     limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50) -> ChangedPatients:
    return registry.changed_patients(actor, offset=offset, limit=limit)
