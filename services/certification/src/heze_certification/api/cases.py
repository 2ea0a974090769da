"""Certificate cases through their stages, deadlines, overdue lists and the deadline report,
holiday calendars."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel

from heze_certification import commands
from heze_certification.api.common import App
from heze_certification.domain.case import CaseStatus, CertificateCase
from heze_certification.domain.deadlines import STAGE_RULES
from heze_common import clock
from heze_common.auth import Principal, require_roles
from heze_common.dispatch import execute, query
from heze_common.errors import InvalidInput, NotFound
from heze_common.pagination import Page, PageRequest, paginated
from heze_common.requests import Body, IsoDate, ReasonList
from heze_common.views import ViewReader, Views
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
CaseReader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.EVALUATION_INSTITUTION,
            Role.PROVINCIAL_DEPARTMENT,
            Role.NATIONAL_OFFICE,
            Role.AUDITOR,
            Role.TRAINEE,
        )
    ),
]
"""Who reads cases: a trainee only their own, an evaluation institution only its own."""
ReportReader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.CITY_BUREAU, Role.PROVINCIAL_DEPARTMENT, Role.NATIONAL_OFFICE, Role.AUDITOR
        )
    ),
]
"""Who reads the deadline report: counts only, no case or person named."""


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
    holder_name: str | None
    """None once the holder's data is erased."""
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


@router.get("/cases/{case_id}", summary="One certificate case")
async def case(case_id: UUID, app: App, principal: CaseReader) -> CaseView:
    return CaseView.of(await query(app.case_for, principal, case_id))


CASE_COLUMNS = (
    "case_id, trainee_id, application_id, evaluation_institution_id, occupation_code, field,"
    " level, NULLIF(holder_name, '') AS holder_name, assessment_ended_on, status, stage, due_on, due_is_provisional,"
    " returns, certificate_number, issued_on"
)


async def ensure_known_case(views: ViewReader, page: PageRequest) -> None:
    await views.ensure_cursor(
        page.after, "case", "SELECT 1 FROM cases WHERE case_id = $1", page.after
    )


CASE_ORDERS = {"opened": ("ASC", ">"), "newest": ("DESC", "<")}
"""Each order of `GET /cases`: its direction by opening position, and the keyset comparison
that takes the rows after the cursor in that direction."""


@router.get(
    "/cases",
    summary="Certificate cases (of an evaluation institution; a trainee's own; in one status),"
    " in opening order or newest first (paginated)",
)
async def cases(
    request: Request,
    response: Response,
    views: Views,
    principal: CaseReader,
    page: Page,
    evaluation_institution_id: UUID | None = None,
    status: Annotated[CaseStatus | None, Query(description="Only the cases in this status")] = None,
    order: Annotated[
        Literal["opened", "newest"],
        Query(description="`opened`: in opening order; `newest`: the latest opened first"),
    ] = "opened",
) -> list[CaseView]:
    evaluation_institution_id = principal.listing_scope(evaluation_institution_id)
    # Without it no filter is left for a trainee: the listing would show everyone's cases.
    trainee_id = principal.own_trainee_id() if principal.role is Role.TRAINEE else None
    await ensure_known_case(views, page)
    direction, beyond = CASE_ORDERS[order]
    rows = await views.fetch(
        f"SELECT {CASE_COLUMNS} FROM cases"
        " WHERE ($1::uuid IS NULL OR evaluation_institution_id = $1)"
        " AND ($2::uuid IS NULL OR trainee_id = $2)"
        " AND ($3::text IS NULL OR status = $3)"
        f" AND ($4::uuid IS NULL OR opened_position {beyond}"
        "  (SELECT opened_position FROM cases WHERE case_id = $4))"
        f" ORDER BY opened_position {direction} LIMIT $5",
        evaluation_institution_id,
        trainee_id,
        status.value if status else None,
        page.after,
        page.fetch,
    )
    listed = [CaseView(**dict(row)) for row in rows]
    return paginated(listed, page, lambda view: view.case_id, request, response)


@router.post("/cases/{case_id}/report", summary="Report the certificate data to the province")
async def report(case_id: UUID, request: Request, principal: Evaluator) -> CaseView:
    command = commands.ReportCase(principal=principal, case_id=case_id)
    return CaseView.of(await execute(request, command))


@router.post(
    "/cases/{case_id}/confirmation",
    summary="The province confirms and reports to the national office",
)
async def confirm(case_id: UUID, request: Request, principal: Province) -> CaseView:
    command = commands.ConfirmCase(principal=principal, case_id=case_id)
    return CaseView.of(await execute(request, command))


@router.post("/cases/{case_id}/return", summary="The province returns the case for correction")
async def return_case(
    case_id: UUID, body: Returned, request: Request, principal: Province
) -> CaseView:
    command = commands.ReturnForCorrection(
        principal=principal, case_id=case_id, reasons=body.reasons
    )
    return CaseView.of(await execute(request, command))


@router.post("/cases/{case_id}/approval", summary="The national office approves")
async def approve(case_id: UUID, request: Request, principal: National) -> CaseView:
    command = commands.ApproveCase(principal=principal, case_id=case_id)
    return CaseView.of(await execute(request, command))


@router.post("/cases/{case_id}/rejection", summary="The national office sends the case back")
async def reject(case_id: UUID, body: Returned, request: Request, principal: National) -> CaseView:
    command = commands.RejectCase(principal=principal, case_id=case_id, reasons=body.reasons)
    return CaseView.of(await execute(request, command))


@router.post(
    "/cases/{case_id}/issuance", summary="Issue the professional technical level certificate"
)
async def issue(case_id: UUID, request: Request, principal: Evaluator) -> CaseView:
    command = commands.IssueCertificate(principal=principal, case_id=case_id)
    return CaseView.of(await execute(request, command))


class Overdue(BaseModel):
    case_id: UUID
    trainee_id: UUID
    evaluation_institution_id: UUID
    stage: CertificateStage
    due_on: date
    due_is_provisional: bool
    days_late: int


@router.get(
    "/deadlines/overdue",
    summary="Overdue cases, per evaluation institution and stage, in opening order (paginated)",
)
async def overdue(
    request: Request,
    response: Response,
    views: Views,
    principal: Reader,
    page: Page,
    evaluation_institution_id: UUID | None = None,
    stage: CertificateStage | None = None,
) -> list[Overdue]:
    evaluation_institution_id = principal.listing_scope(evaluation_institution_id)
    await ensure_known_case(views, page)
    today = clock.today()
    rows = await views.fetch(
        "SELECT case_id, trainee_id, evaluation_institution_id, stage, due_on, due_is_provisional"
        " FROM cases WHERE due_on < $1"
        " AND ($2::uuid IS NULL OR evaluation_institution_id = $2)"
        " AND ($3::text IS NULL OR stage = $3)"
        " AND ($4::uuid IS NULL OR opened_position >"
        "  (SELECT opened_position FROM cases WHERE case_id = $4))"
        " ORDER BY opened_position LIMIT $5",
        today,
        evaluation_institution_id,
        stage.value if stage else None,
        page.after,
        page.fetch,
    )
    listed = [Overdue(**dict(row), days_late=(today - row["due_on"]).days) for row in rows]
    return paginated(listed, page, lambda late: late.case_id, request, response)


class StageDeadlines(BaseModel):
    """The deadlines of one stage: how many were met, missed, and are still open."""

    stage: CertificateStage
    met: int
    """Ended on or before the due date (a province's return is its answer in time)."""
    overdue: int
    """Ended after the due date, or with its breach recorded."""
    open_within: int
    """Still open, the due date not passed."""
    open_overdue: int
    """Still open past the due date (its breach recorded or about to be)."""
    withdrawn: int
    """Ended in time by the case's closing (the assessment voided): neither met nor missed."""


DEADLINE_COUNTS = (
    "count(*) FILTER (WHERE ended_on IS NOT NULL AND ended_by <> 'closed'"
    " AND ended_on <= due_on AND NOT breached) AS met,"
    " count(*) FILTER (WHERE ended_on IS NOT NULL AND (ended_on > due_on OR breached)) AS overdue,"
    " count(*) FILTER (WHERE ended_on IS NULL AND due_on >= $1 AND NOT breached) AS open_within,"
    " count(*) FILTER (WHERE ended_on IS NULL AND (due_on < $1 OR breached)) AS open_overdue,"
    " count(*) FILTER (WHERE ended_by = 'closed' AND ended_on <= due_on AND NOT breached)"
    " AS withdrawn"
)
"""Each deadline in exactly one count: a day counts as overdue from the day after its due date,
as the watcher and the overdue list count it (`clock.today`, China Standard Time)."""


@router.get(
    "/reports/deadlines",
    summary="Deadlines met, overdue and open per stage, of those due in a period",
)
async def deadline_report(
    views: Views,
    _: ReportReader,
    from_: Annotated[
        IsoDate | None, Query(alias="from", description="Only deadlines due on or after this day")
    ] = None,
    to: Annotated[
        IsoDate | None, Query(description="Only deadlines due on or before this day")
    ] = None,
) -> list[StageDeadlines]:
    if from_ is not None and to is not None and to < from_:
        raise InvalidInput("invalid_range", "`to` must not be earlier than `from`", field="to")
    rows = await views.fetch(
        f"SELECT stage, {DEADLINE_COUNTS} FROM deadlines"
        " WHERE ($2::date IS NULL OR due_on >= $2) AND ($3::date IS NULL OR due_on <= $3)"
        " GROUP BY stage",
        clock.today(),
        from_,
        to,
    )
    counted = {row["stage"]: dict(row) for row in rows}
    empty = dict.fromkeys(("met", "overdue", "open_within", "open_overdue", "withdrawn"), 0)
    return [
        StageDeadlines(**{**empty, **counted.get(stage.value, {}), "stage": stage})
        for stage in STAGE_RULES  # every stage with a deadline, in the order a case meets them
    ]


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
    views: Views,
    principal: Province,
) -> CalendarLoaded:
    provisional = [
        row["case_id"]
        for row in await views.fetch(
            "SELECT case_id FROM cases WHERE due_is_provisional ORDER BY opened_position"
        )
    ]
    command = commands.LoadCalendar(
        principal=principal,
        year=year,
        holidays=body.holidays,
        makeup_workdays=body.makeup_workdays,
        provisional=provisional,
    )
    return CalendarLoaded(year=year, deadlines_recomputed=await execute(request, command))


class TraineeOfCertificate(BaseModel):
    trainee_id: UUID
    case_id: UUID


@router.get(
    "/audit/lookup/certificate/{number}",
    summary="The trainee holding a certificate number (auditors)",
)
async def trainee_of_certificate(
    number: Annotated[str, Path(min_length=1, max_length=64)],
    views: Views,
    principal: Annotated[Principal, Depends(require_roles(Role.AUDITOR))],
) -> TraineeOfCertificate:
    found = await views.fetchrow(
        "SELECT trainee_id, case_id FROM cases WHERE certificate_number = $1", number
    )
    if found is None:
        raise NotFound("unknown_certificate", f"no certificate numbered {number}")
    return TraineeOfCertificate(**dict(found))
