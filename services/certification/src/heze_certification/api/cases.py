"""Certificate cases through their stages, deadlines and overdue lists, holiday calendars."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request, status
from pydantic import BaseModel

from heze_certification.api.common import App
from heze_certification.application import CertificationApplication
from heze_certification.domain.case import CaseStatus, CertificateCase
from heze_common import clock
from heze_common.auth import Principal, require_roles
from heze_common.commands import execute
from heze_common.errors import NotFound
from heze_common.requests import Body, IsoDate, ReasonList
from heze_contracts.enums import CertificateStage, Field, Level, Role

router = APIRouter(tags=["certificate cases"])
Evaluator = Annotated[Principal, Depends(require_roles(Role.EVALUATION_INSTITUTION))]
Province = Annotated[Principal, Depends(require_roles(Role.PROVINCIAL_DEPARTMENT))]
National = Annotated[Principal, Depends(require_roles(Role.NATIONAL_OFFICE))]
Reader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.EVALUATION_INSTITUTION,
            Role.PROVINCIAL_DEPARTMENT,
            Role.NATIONAL_OFFICE,
            Role.AUDITOR,
        )
    ),
]


class Returned(Body):
    reasons: ReasonList


class CaseView(BaseModel):
    case_id: UUID
    trainee_id: UUID
    application_id: UUID
    evaluation_institution_id: UUID
    occupation_code: str
    field: Field
    level: Level
    holder_name: str
    assessment_ended_on: date
    status: CaseStatus
    stage: CertificateStage | None
    due_on: date | None
    due_is_provisional: bool
    returns: list[list[str]]
    certificate_number: str | None
    issued_on: date | None

    @classmethod
    def of(cls, case: CertificateCase) -> CaseView:
        subject = case.subject
        return cls(
            case_id=case.id,
            trainee_id=subject.trainee_id,
            application_id=subject.application_id,
            evaluation_institution_id=subject.evaluation_institution_id,
            occupation_code=subject.occupation_code,
            field=subject.field,
            level=subject.level,
            holder_name=case.holder_name,
            assessment_ended_on=case.assessment_ended_on,
            status=case.status,
            stage=case.stage,
            due_on=case.due_on,
            due_is_provisional=case.due_is_provisional,
            returns=case.returns,
            certificate_number=case.certificate_number,
            issued_on=case.issued_on,
        )


async def readable_case(
    request: Request, app: CertificationApplication, principal: Principal, case_id: UUID
) -> CertificateCase:
    case = await execute(request, principal, app.case, case_id)
    if principal.role is Role.EVALUATION_INSTITUTION:
        principal.ensure_acts_for(case.subject.evaluation_institution_id)
    return case


async def step(
    request: Request,
    app: CertificationApplication,
    principal: Principal,
    case_id: UUID,
    command,
    *args,
) -> CaseView:  # noqa: ANN001
    await readable_case(request, app, principal, case_id)
    await execute(request, principal, command, case_id, *args)
    return CaseView.of(await execute(request, principal, app.case, case_id))


@router.get("/cases/{case_id}", summary="One certificate case")
async def case(case_id: UUID, request: Request, app: App, principal: Reader) -> CaseView:
    return CaseView.of(await readable_case(request, app, principal, case_id))


@router.get("/cases", summary="Certificate cases of an evaluation institution")
async def cases(
    request: Request, app: App, principal: Reader, evaluation_institution_id: UUID | None = None
) -> list[CaseView]:
    if principal.role is Role.EVALUATION_INSTITUTION:
        principal.ensure_acts_for(evaluation_institution_id or principal.organisation_id)
        evaluation_institution_id = principal.organisation_id

    def listing() -> list[CertificateCase]:
        app.read_models.catch_up()
        groups = app.deadlines.cases_by_institution
        ids = (
            groups.get(evaluation_institution_id, [])
            if evaluation_institution_id
            else [i for g in groups.values() for i in g]
        )
        return [app.case(case_id) for case_id in ids]

    return [CaseView.of(c) for c in await execute(request, principal, listing)]


@router.post("/cases/{case_id}/report", summary="Report the certificate data to the province")
async def report(case_id: UUID, request: Request, app: App, principal: Evaluator) -> CaseView:
    return await step(request, app, principal, case_id, app.report)


@router.post(
    "/cases/{case_id}/confirmation",
    summary="The province confirms and reports to the national office",
)
async def confirm(case_id: UUID, request: Request, app: App, principal: Province) -> CaseView:
    return await step(request, app, principal, case_id, app.confirm)


@router.post("/cases/{case_id}/return", summary="The province returns the case for correction")
async def return_case(
    case_id: UUID, body: Returned, request: Request, app: App, principal: Province
) -> CaseView:
    return await step(request, app, principal, case_id, app.return_for_correction, body.reasons)


@router.post("/cases/{case_id}/approval", summary="The national office approves")
async def approve(case_id: UUID, request: Request, app: App, principal: National) -> CaseView:
    return await step(request, app, principal, case_id, app.approve)


@router.post("/cases/{case_id}/rejection", summary="The national office sends the case back")
async def reject(
    case_id: UUID, body: Returned, request: Request, app: App, principal: National
) -> CaseView:
    return await step(request, app, principal, case_id, app.reject, body.reasons)


@router.post(
    "/cases/{case_id}/issuance", summary="Issue the professional technical level certificate"
)
async def issue(case_id: UUID, request: Request, app: App, principal: Evaluator) -> CaseView:
    return await step(request, app, principal, case_id, app.issue)


class Overdue(BaseModel):
    case_id: UUID
    trainee_id: UUID
    evaluation_institution_id: UUID
    stage: CertificateStage
    due_on: date
    due_is_provisional: bool
    days_late: int


@router.get("/deadlines/overdue", summary="Overdue cases, per evaluation institution and stage")
async def overdue(
    request: Request,
    app: App,
    principal: Reader,
    evaluation_institution_id: UUID | None = None,
    stage: CertificateStage | None = None,
) -> list[Overdue]:
    if principal.role is Role.EVALUATION_INSTITUTION:
        principal.ensure_acts_for(evaluation_institution_id or principal.organisation_id)
        evaluation_institution_id = principal.organisation_id

    def listing() -> list[Overdue]:
        app.read_models.catch_up()
        today = clock.today()
        return [
            Overdue(
                case_id=d.case_id,
                trainee_id=d.trainee_id,
                evaluation_institution_id=d.evaluation_institution_id,
                stage=d.stage,
                due_on=d.due_on,
                due_is_provisional=d.provisional,
                days_late=(today - d.due_on).days,
            )
            for d in app.deadlines.open.values()
            if d.due_on < today
            and (
                evaluation_institution_id is None
                or d.evaluation_institution_id == evaluation_institution_id
            )
            and (stage is None or d.stage is stage)
        ]

    return await execute(request, principal, listing)


class YearCalendarBody(Body):
    holidays: list[IsoDate]
    makeup_workdays: list[IsoDate]


class CalendarLoaded(BaseModel):
    year: int
    deadlines_recomputed: int


@router.put(
    "/calendars/{year}", status_code=status.HTTP_200_OK, summary="Load a year's holiday calendar"
)
async def load_calendar(
    year: Annotated[int, Path(ge=2004, le=2100)],
    body: YearCalendarBody,
    request: Request,
    app: App,
    principal: Province,
) -> CalendarLoaded:
    changed = await execute(
        request, principal, app.load_calendar, year, body.holidays, body.makeup_workdays
    )
    return CalendarLoaded(year=year, deadlines_recomputed=changed)


class TraineeOfCertificate(BaseModel):
    trainee_id: UUID
    case_id: UUID


@router.get(
    "/audit/lookup/certificate/{number}",
    summary="The trainee holding a certificate number (auditors)",
)
async def trainee_of_certificate(
    number: Annotated[str, Path(min_length=1, max_length=64)],
    request: Request,
    app: App,
    principal: Annotated[Principal, Depends(require_roles(Role.AUDITOR))],
) -> TraineeOfCertificate:
    def lookup() -> TraineeOfCertificate:
        app.read_models.catch_up()
        certificate = app.certificates.by_number.get(number)
        if certificate is None:
            raise NotFound("unknown_certificate", f"no certificate numbered {number}")
        return TraineeOfCertificate(trainee_id=certificate.trainee_id, case_id=certificate.case_id)

    return await execute(request, principal, lookup)
