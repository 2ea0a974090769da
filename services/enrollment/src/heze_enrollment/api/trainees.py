"""Trainees: registration, enrolment, the training record, completion, and the city's
registration list per county (the talent information base)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel, StrictBool, StringConstraints

from heze_common.auth import Principal, require_roles
from heze_common.dispatch import execute, query
from heze_common.errors import Forbidden, InvalidInput
from heze_common.pagination import Page, paginated
from heze_common.requests import Body, IsoDate, LongText, Mark, PersonName, ShortText
from heze_common.views import Views
from heze_contracts.enums import (
    Education,
    Field,
    HourKind,
    HourMode,
    Level,
    ParticipantCategory,
    RetirementGroup,
    Role,
    Sex,
)
from heze_enrollment.api.common import App, SessionHours, mask_id_number, mask_phone
from heze_enrollment import commands
from heze_enrollment.domain.counties import COUNTY_BY_ID
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.trainee import EnrolmentStatus, Trainee

router = APIRouter(tags=["trainees"])
Registrar = Annotated[Principal, Depends(require_roles(Role.TRAINEE, Role.TRAINING_INSTITUTION))]
Institution = Annotated[Principal, Depends(require_roles(Role.TRAINING_INSTITUTION))]
Reader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.CITY_BUREAU,
            Role.COUNTY_BUREAU,
            Role.TRAINING_INSTITUTION,
            Role.TRAINEE,
            Role.AUDITOR,
        )
    ),
]
ListReader = Annotated[
    Principal, Depends(require_roles(Role.CITY_BUREAU, Role.COUNTY_BUREAU, Role.AUDITOR))
]

SEES_PERSONAL_DATA = {Role.CITY_BUREAU, Role.TRAINEE}


class RegisterTrainee(Body):
    name: PersonName
    id_number: Annotated[str, StringConstraints(max_length=40)]
    """18 characters; full-width digits and spaces from Chinese input methods are normalised."""
    sex: Sex | None = None
    """Optional; when given it must agree with the ID number."""
    birth_date: IsoDate | None = None
    """Optional; when given it must agree with the ID number."""
    phone: str
    education: Education
    major: ShortText
    employer: ShortText | None = None
    county: ShortText
    participant_category: ParticipantCategory
    draws_pension: StrictBool = False
    retirement_group: RetirementGroup | None = None
    """Required for women (the ID number cannot tell the 50 and 55 groups apart)."""
    person_consents: StrictBool = False
    """An institution registering someone states that the person consented to it (required
    true for institutions; a trainee registering themself needs no statement)."""


class Registered(BaseModel):
    trainee_id: UUID


class Enrol(Body):
    programme_id: UUID


class Withdraw(Body):
    reason: LongText


class LogSession(Body):
    date: IsoDate
    hours: SessionHours
    kind: HourKind
    mode: HourMode


class ExamResult(Body):
    score: Mark


class EnrolmentView(BaseModel):
    programme_id: UUID
    institution_id: UUID
    occupation_code: str
    field: Field
    level: Level
    status: EnrolmentStatus
    enrolled_on: date
    required_hours: dict[HourKind, Decimal]
    hours_by_kind: dict[HourKind, Decimal]
    hours_by_mode: dict[HourMode, Decimal]
    exam_score: Decimal | None
    training_certificate_number: str | None
    completed_on: date | None


class TraineeView(BaseModel):
    trainee_id: UUID
    name: str
    id_number: str
    sex: Sex
    birth_date: date
    phone: str
    education: Education
    major: str
    employer: str | None
    county: str
    participant_category: ParticipantCategory
    registered_on: date
    enrolments: list[EnrolmentView]

    @classmethod
    def of(cls, trainee: Trainee, reader: Principal) -> TraineeView:
        full = reader.role in SEES_PERSONAL_DATA
        return cls(
            trainee_id=trainee.id,
            name=trainee.name,
            id_number=trainee.id_number if full else mask_id_number(trainee.id_number),
            sex=trainee.sex,
            birth_date=trainee.birth_date,
            phone=trainee.phone if full else mask_phone(trainee.phone),
            education=trainee.education,
            major=trainee.major,
            employer=trainee.employer,
            county=trainee.county,
            participant_category=trainee.participant_category,
            registered_on=trainee.registered_on,
            enrolments=[
                EnrolmentView(
                    programme_id=record.programme_id,
                    institution_id=record.institution_id,
                    occupation_code=record.occupation_code,
                    field=record.field,
                    level=record.level,
                    status=record.status,
                    enrolled_on=record.enrolled_on,
                    required_hours=record.required_hours,
                    hours_by_kind=record.hours_by_kind,
                    hours_by_mode=record.hours_by_mode,
                    exam_score=record.exam_score,
                    training_certificate_number=record.certificate_number,
                    completed_on=record.completed_on,
                )
                for record in trainee.enrolments.values()
            ],
        )


@router.post(
    "/trainees",
    status_code=status.HTTP_201_CREATED,
    summary="Register a trainee (self or by an institution)",
)
async def register(body: RegisterTrainee, request: Request, principal: Registrar) -> Registered:
    command = commands.RegisterTrainee(principal=principal, **body.model_dump())
    return Registered(trainee_id=await execute(request, command))


@router.get("/trainees/{trainee_id}", summary="A trainee's record")
async def trainee(trainee_id: UUID, app: App, principal: Reader) -> TraineeView:
    return TraineeView.of(await query(app.readable_trainee, principal, trainee_id), principal)


@router.post(
    "/trainees/{trainee_id}/enrolments",
    status_code=status.HTTP_201_CREATED,
    summary="Enrol in a programme",
)
async def enrol(
    trainee_id: UUID, body: Enrol, request: Request, principal: Registrar
) -> TraineeView:
    command = commands.Enrol(
        principal=principal, trainee_id=trainee_id, programme_id=body.programme_id
    )
    return TraineeView.of(await execute(request, command), principal)


@router.post(
    "/trainees/{trainee_id}/enrolments/{programme_id}/withdrawal",
    summary="Withdraw from a programme",
)
async def withdraw(
    trainee_id: UUID, programme_id: UUID, body: Withdraw, request: Request, principal: Registrar
) -> TraineeView:
    command = commands.Withdraw(
        principal=principal, trainee_id=trainee_id, programme_id=programme_id, reason=body.reason
    )
    return TraineeView.of(await execute(request, command), principal)


@router.post(
    "/programmes/{programme_id}/trainees/{trainee_id}/sessions",
    status_code=status.HTTP_201_CREATED,
    summary="Log a training session",
)
async def log_session(
    programme_id: UUID,
    trainee_id: UUID,
    body: LogSession,
    request: Request,
    principal: Institution,
) -> EnrolmentView:
    command = commands.LogSession(
        principal=principal,
        trainee_id=trainee_id,
        programme_id=programme_id,
        day=body.date,
        hours=body.hours,
        kind=body.kind,
        mode=body.mode,
    )
    return enrolment_view(await execute(request, command), principal, programme_id)


@router.put(
    "/programmes/{programme_id}/trainees/{trainee_id}/exam",
    summary="Record the completion exam result",
)
async def record_exam(
    programme_id: UUID,
    trainee_id: UUID,
    body: ExamResult,
    request: Request,
    principal: Institution,
) -> EnrolmentView:
    command = commands.RecordExam(
        principal=principal, trainee_id=trainee_id, programme_id=programme_id, score=body.score
    )
    return enrolment_view(await execute(request, command), principal, programme_id)


@router.post(
    "/programmes/{programme_id}/trainees/{trainee_id}/completion",
    summary="Grant completion and issue the training certificate",
)
async def complete(
    programme_id: UUID, trainee_id: UUID, request: Request, principal: Institution
) -> EnrolmentView:
    command = commands.Complete(
        principal=principal, trainee_id=trainee_id, programme_id=programme_id
    )
    return enrolment_view(await execute(request, command), principal, programme_id)


def enrolment_view(trainee: Trainee, principal: Principal, programme_id: UUID) -> EnrolmentView:
    view = TraineeView.of(trainee, principal)
    return next(record for record in view.enrolments if record.programme_id == programme_id)


class RegistrationLine(BaseModel):
    trainee_id: UUID
    name: str
    county: str
    registered_on: date
    participant_category: str
    education: str
    major: str
    employer: str | None


@router.get(
    "/registrations",
    summary="The city's registration list per county (talent information base),"
    " in registration order (paginated)",
)
async def registrations(
    request: Request,
    response: Response,
    views: Views,
    principal: ListReader,
    page: Page,
    county: str | None = None,
) -> list[RegistrationLine]:
    if principal.role is Role.COUNTY_BUREAU:
        own = COUNTY_BY_ID.get(principal.organisation_id)
        if own is None:  # no filter left: the listing would show every county
            raise Forbidden("not_a_county", "the token's organisation is no county of Heze")
        if county is not None and county != own:
            raise Forbidden("other_county", "a county bureau reads only its own county")
        county = own
    if county is not None and county not in {*COUNTY_BY_ID.values()}:
        raise InvalidInput(
            "unknown_county", f"{county} is not a county or district of Heze", field="county"
        )
    # The cursor must be a line of this list: a county bureau learns nothing of other counties.
    await views.ensure_cursor(
        page.after,
        "registration",
        "SELECT 1 FROM registrations WHERE trainee_id = $1 AND ($2::text IS NULL OR county = $2)",
        page.after,
        county,
    )
    rows = await views.fetch(
        "SELECT trainee_id, name, county, registered_on, participant_category, education, major,"
        " employer FROM registrations WHERE ($1::text IS NULL OR county = $1)"
        " AND ($2::uuid IS NULL OR registered_position >"
        "  (SELECT registered_position FROM registrations WHERE trainee_id = $2))"
        " ORDER BY registered_position LIMIT $3",
        county,
        page.after,
        page.fetch,
    )
    listed = [RegistrationLine(**dict(row)) for row in rows]
    return paginated(listed, page, lambda line: line.trainee_id, request, response)


Auditor = Annotated[Principal, Depends(require_roles(Role.AUDITOR, Role.CITY_BUREAU))]


@router.get(
    "/audit/lookup/id-number/{id_number}", summary="The trainee id of an ID number (auditors)"
)
async def trainee_of_id_number(
    id_number: Annotated[str, Path(pattern=r"^[0-9]{17}[0-9Xx]$")],
    app: App,
    principal: Auditor,
) -> Registered:
    identity = ResidentId.parse(id_number)
    trainee = await query(app.trainee, app.trainee_id_for(identity.number))
    return Registered(trainee_id=trainee.id)
