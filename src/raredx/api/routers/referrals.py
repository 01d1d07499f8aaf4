"""Remote consultation (docs/referrals.md): referrals, their workflow, consilium, thread and attachments; and the
referring organisations (admins)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from raredx.api._errors import errors
from raredx.api.deps import CurrentActor, RegistryDep, ServicesDep
from raredx.api.schemas import (
    MAX_ID,
    MAX_PAGE,
    AttachmentPublic,
    ConclusionIn,
    ExpertsIn,
    MessageIn,
    MessagePublic,
    OpinionIn,
    OpinionPublic,
    OrganisationCreate,
    OrganisationPublic,
    OrganisationUpdate,
    ReferralCounts,
    ReferralCreate,
    ReferralPublic,
    ReferralQuery,
    ReferralsPublic,
    ReferralUpdate,
    TransitionIn,
)
from raredx.app import attach_file, attachment_file, conclusion_file, conclusion_filename, transition_referral
from raredx.app.http import private_file

router = APIRouter(prefix="/api/referrals", tags=["referrals"], responses=errors(401, 403, 422))
organisations = APIRouter(prefix="/api/organisations", tags=["organisations"], responses=errors(401, 403, 422))
ReferralId = Annotated[int, Path(ge=1, le=MAX_ID, description="the referral's id")]
UPLOAD = "/api/referrals/{referral_id}/attachments"


@router.get("", response_model=ReferralsPublic,
            summary="The referrals you may see (a referrer: their own; an expert: those assigned; a coordinator: all), "
                    "newest first; drafts only with status=draft")
def list_referrals(registry: RegistryDep, actor: CurrentActor, q: Annotated[ReferralQuery, Query()]) -> ReferralsPublic:
    return registry.list_referrals(actor, status=q.status, urgency=q.urgency, region=q.region, offset=q.offset,
                                   limit=q.limit)


@router.post("", response_model=ReferralPublic, status_code=201, summary="A new referral (a draft until submitted)")
def create_referral(body: ReferralCreate, registry: RegistryDep, actor: CurrentActor) -> ReferralPublic:
    return registry.create_referral(actor, body)


@router.get("/overdue", response_model=ReferralsPublic,
            summary="The coordinator's overdue list: open referrals past their due date, most overdue first")
def overdue(registry: RegistryDep, actor: CurrentActor, offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
            limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50) -> ReferralsPublic:
    return registry.overdue_referrals(actor, offset=offset, limit=limit)


@router.get("/counts", response_model=ReferralCounts,
            summary="The dashboard's numbers: by status, urgency, region, diagnosis; overdue; median days to conclusion "
                    "(of one region, region= for those without one; of those submitted in a period, dates in UTC)")
def counts(registry: RegistryDep, actor: CurrentActor,
           region: Annotated[str | None, Query(max_length=100)] = None,
           submitted_from: Annotated[dt.date | None, Query()] = None,
           submitted_to: Annotated[dt.date | None, Query()] = None) -> ReferralCounts:
    return registry.referral_counts(actor, region=region, submitted_from=submitted_from, submitted_to=submitted_to)


@router.get("/{referral_id}", response_model=ReferralPublic, responses=errors(404))
def get_referral(referral_id: ReferralId, registry: RegistryDep, actor: CurrentActor) -> ReferralPublic:
    return registry.get_referral(actor, referral_id)


@router.patch("/{referral_id}", response_model=ReferralPublic, responses=errors(404, 409),
              summary="Change a draft or a referral returned for information; send the version you read")
def update_referral(referral_id: ReferralId, body: ReferralUpdate, registry: RegistryDep,
                    actor: CurrentActor) -> ReferralPublic:
    return registry.update_referral(actor, referral_id, body)


@router.post("/{referral_id}/transition", response_model=ReferralPublic, responses=errors(404, 409, 503),
             summary="Change the status (409 naming the allowed ones if the workflow does not allow it); submitting "
                     "runs the differential; concluding issues the conclusion's PDF (in the conclusion's language, "
                     "default Russian; 503 and still in review if it cannot be made)")
async def transition(referral_id: ReferralId, body: TransitionIn, svc: ServicesDep, actor: CurrentActor) -> ReferralPublic:
    return await svc.compute(transition_referral, svc.rdx, svc.registry, actor, referral_id, body.to,
                             version=body.version, note=body.note, patient_id=body.patient_id,
                             create_patient=body.create_patient, attachments=svc.attachments, centre=svc.centre)


@router.post("/{referral_id}/experts", response_model=ReferralPublic, responses=errors(404, 409),
             summary="Set the consilium (the experts' user names); an accepted referral becomes 'assigned'")
def assign_experts(referral_id: ReferralId, body: ExpertsIn, registry: RegistryDep, actor: CurrentActor) -> ReferralPublic:
    return registry.assign_experts(actor, referral_id, body.experts, version=body.version)


@router.post("/{referral_id}/opinions", response_model=OpinionPublic, responses=errors(404, 409),
             summary="Your opinion as an assigned expert (writing again replaces it)")
def write_opinion(referral_id: ReferralId, body: OpinionIn, registry: RegistryDep, actor: CurrentActor) -> OpinionPublic:
    return registry.write_opinion(actor, referral_id, body.text)


@router.put("/{referral_id}/conclusion", response_model=ReferralPublic, responses=errors(404, 409),
            summary="The consilium's conclusion (an assigned expert, while in review); then transition to 'concluded'")
def save_conclusion(referral_id: ReferralId, body: ConclusionIn, registry: RegistryDep,
                    actor: CurrentActor) -> ReferralPublic:
    return registry.save_conclusion(actor, referral_id, body.conclusion, version=body.version)


@router.get("/{referral_id}/messages", response_model=list[MessagePublic], responses=errors(404),
            summary="The referral's thread, oldest first")
def messages(referral_id: ReferralId, registry: RegistryDep, actor: CurrentActor) -> list[MessagePublic]:
    return registry.messages(actor, referral_id)


@router.post("/{referral_id}/messages", response_model=MessagePublic, status_code=201, responses=errors(404, 409),
             summary="Write on the referral's thread")
def add_message(referral_id: ReferralId, body: MessageIn, registry: RegistryDep, actor: CurrentActor) -> MessagePublic:
    return registry.add_message(actor, referral_id, body.text)


@router.post("/{referral_id}/attachments", response_model=AttachmentPublic, status_code=201,
             responses=errors(404, 409, 415),
             summary="Attach a PDF, PNG/JPEG, VCF (plain or bgzipped) or lab table (CSV, TSV, XLSX); multipart field "
                     "'file'; the type is read from the bytes")
async def attach(referral_id: ReferralId, file: UploadFile, svc: ServicesDep, actor: CurrentActor) -> AttachmentPublic:
    return await run_in_threadpool(attach_file, svc.registry, svc.attachments, actor, referral_id, file.file,
                                   file.filename)


@router.get("/{referral_id}/attachments/{attachment_id}", response_class=FileResponse, responses=errors(404),
            summary="Download an attachment (only for users who may see the referral)")
def download(referral_id: ReferralId, attachment_id: Annotated[int, Path(ge=1, le=MAX_ID)], svc: ServicesDep,
             actor: CurrentActor) -> FileResponse:
    att, path = attachment_file(svc.registry, svc.attachments, actor, referral_id, attachment_id)
    return private_file(path, att.media_type, att.filename)


@router.get("/{referral_id}/conclusion.pdf", response_class=FileResponse, responses=errors(404),
            summary="Download the issued conclusion (PDF), for users who may see the referral (404 before it is "
                    "concluded)")
def conclusion_pdf(referral_id: ReferralId, svc: ServicesDep, actor: CurrentActor) -> FileResponse:
    pdf, path = conclusion_file(svc.registry, svc.attachments, actor, referral_id)
    return private_file(path, "application/pdf", conclusion_filename(referral_id, pdf))


# -- organisations -----------------------------------------------------------------------------------------------------
OrganisationId = Annotated[int, Path(ge=1, le=MAX_ID, description="the organisation's id")]


@organisations.get("", response_model=list[OrganisationPublic], summary="The referring organisations")
def list_organisations(registry: RegistryDep, actor: CurrentActor) -> list[OrganisationPublic]:
    return registry.list_organisations(actor)


@organisations.post("", response_model=OrganisationPublic, status_code=201, responses=errors(409),
                    summary="Add an organisation (admins)")
def add_organisation(body: OrganisationCreate, registry: RegistryDep, actor: CurrentActor) -> OrganisationPublic:
    return registry.add_organisation(actor, body)


@organisations.patch("/{organisation_id}", response_model=OrganisationPublic, responses=errors(404, 409),
                     summary="Rename an organisation or change its region (admins)")
def update_organisation(organisation_id: OrganisationId, body: OrganisationUpdate, registry: RegistryDep,
                        actor: CurrentActor) -> OrganisationPublic:
    return registry.update_organisation(actor, organisation_id, body)


@organisations.delete("/{organisation_id}", status_code=204, responses=errors(404),
                      summary="Remove an organisation (its users and referrals keep none)")
def delete_organisation(organisation_id: OrganisationId, registry: RegistryDep, actor: CurrentActor) -> Response:
    registry.delete_organisation(actor, organisation_id)
    return Response(status_code=204)
