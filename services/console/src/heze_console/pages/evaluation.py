"""The evaluation institution's workspace: the qualification queue (confirm, or refuse with a
reason), assessment sessions (scheduled with the confirmed applicants of one occupation and
level; every session listed from assessment's `GET /sessions`, an empty one too, and given more
confirmed applicants of its occupation and level), scores entered once, one applicant at a time
or a session's by a sheet uploaded (every row checked first, nothing sent unless all pass;
`score_sheet`), and corrected with a reason, and its certificate cases: reported to the
province, and issued once nationally approved, each with its due date."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from heze_common import clock
from heze_console import pipeline, score_sheet, sheets
from heze_console.errors import Problem
from heze_console.sessions import Identity
from heze_console.web import (
    CsrfChecked,
    attempt,
    redirect,
    render,
    services,
    settings_of,
    signed_in,
)
from heze_contracts.enums import Role

router = APIRouter(prefix="/evaluation")
Evaluator = Annotated[Identity, Depends(signed_in(Role.EVALUATION_INSTITUTION))]


async def workspace_context(request: Request, identity: Identity) -> dict[str, Any]:
    client, token = services(request), identity.token
    institutions, applications, sessions, cases = await asyncio.gather(
        client.all_items("assessment", "/evaluation-institutions", token),
        client.all_items("assessment", "/applications", token),
        client.all_items("assessment", "/sessions", token),
        client.all_items("certification", "/cases", token),
    )
    today = clock.today()
    institution = next(
        (
            i
            for i in institutions
            if i["evaluation_institution_id"] == str(identity.organisation_id)
        ),
        None,
    )
    by_status: dict[str, list[dict[str, Any]]] = {}
    for application in applications:
        by_status.setdefault(application["status"], []).append(application)
    to_schedule: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for application in by_status.get("confirmed", []):
        key = (application["occupation_code"], application["level"])
        to_schedule.setdefault(key, []).append(application)
    awaiting_scores: dict[str, list[dict[str, Any]]] = {}
    for application in by_status.get("assigned", []):
        awaiting_scores.setdefault(application["session_id"], []).append(application)
    return {
        "institution": institution,
        "applications": applications,
        "by_status": by_status,
        "to_schedule": to_schedule,
        # Every session, an empty one too (scheduled, then its assignment refused), by date.
        "sessions": sorted(sessions, key=lambda session: session["held_on"]),
        # By session, the applicants still awaiting their scores: a score sheet for each.
        "awaiting_scores": awaiting_scores,
        "cases": [
            {**case, "deadline": pipeline.deadline(case, today)}
            for case in pipeline.by_urgency(cases, today)
        ],
        "today": today.isoformat(),
    }


async def workspace_page(
    request: Request,
    identity: Identity,
    problems: list[Problem] | None = None,
    status_code: int = 200,
    *,
    upload: sheets.Upload | None = None,
) -> HTMLResponse:
    context = {**await workspace_context(request, identity), "upload": upload}
    return render(request, "evaluation.html", context, problems=problems, status_code=status_code)


@router.get("", response_class=HTMLResponse)
async def workspace(request: Request, identity: Evaluator) -> HTMLResponse:
    return await workspace_page(request, identity)


def _again(request: Request, identity: Identity) -> Callable[[list[Problem]], Awaitable[Response]]:
    """The workspace again with the refusal, for `attempt`."""

    async def failed(problems: list[Problem]) -> Response:
        return await workspace_page(request, identity, problems, 422)

    return failed


@router.post("/applications/{application_id}/qualification", dependencies=[CsrfChecked])
async def qualification(
    request: Request,
    identity: Evaluator,
    application_id: str,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    confirm = decision == "confirm"
    body: dict[str, Any] = {"confirm": confirm}
    if not confirm:
        if not reason.strip():
            return await workspace_page(
                request, identity, [Problem("reason", "原因：不通过资格审核须填写原因")], 422
            )
        body["reason"] = reason
    call = services(request).send(
        "assessment",
        "POST",
        f"/applications/{application_id}/qualification",
        identity.token,
        body,
    )
    done = "资格审核通过。" if confirm else "已作出资格审核不通过的决定，原因已告知申请人。"
    return await attempt(
        call,
        lambda _: redirect(request, "/evaluation#review-title", done),
        _again(request, identity),
    )


@router.post("/sessions", dependencies=[CsrfChecked])
async def schedule(request: Request, identity: Evaluator) -> Response:
    """A session for one occupation and level, with the confirmed applicants chosen."""
    form = await request.form()
    chosen = [str(value) for value in form.getlist("application_ids")]
    body = {
        "occupation_code": str(form.get("occupation_code") or ""),
        "level": str(form.get("level") or ""),
        "held_on": str(form.get("held_on") or ""),
        "place": str(form.get("place") or "").strip(),
    }
    if not chosen:
        problem = Problem("application_ids", "考生：请至少选择一名资格审核通过的申请人")
        return await workspace_page(request, identity, [problem], 422)
    client, token = services(request), identity.token
    failed = _again(request, identity)

    async def scheduled_and_assigned() -> Any:
        created = await client.send("assessment", "POST", "/sessions", token, body)
        return await client.send(
            "assessment",
            "POST",
            f"/sessions/{created['session_id']}/assignments",
            token,
            {"application_ids": chosen},
        )

    return await attempt(
        scheduled_and_assigned(),
        lambda session: redirect(
            request,
            "/evaluation#scores-title",
            f"已安排 {session['held_on']} 在{session['place']}的考核，考生 {len(chosen)} 人。",
        ),
        failed,
    )


@router.post("/sessions/{session_id}/assignments", dependencies=[CsrfChecked])
async def assign(request: Request, identity: Evaluator, session_id: str) -> Response:
    """More confirmed applicants (of the session's occupation and level) for a session."""
    form = await request.form()
    chosen = [str(value) for value in form.getlist("application_ids")]
    if not chosen:
        problem = Problem("application_ids", "考生：请至少选择一名资格审核通过的申请人")
        return await workspace_page(request, identity, [problem], 422)
    call = services(request).send(
        "assessment",
        "POST",
        f"/sessions/{session_id}/assignments",
        identity.token,
        {"application_ids": chosen},
    )
    return await attempt(
        call,
        lambda session: redirect(
            request,
            "/evaluation#scores-title",
            f"已将考生 {len(chosen)} 人加入 {session['held_on']} 在{session['place']}的考核，"
            f"该场共 {len(session['application_ids'])} 人。",
        ),
        _again(request, identity),
    )


def _scores(theory: str, practical: str) -> tuple[dict[str, Any], list[Problem]]:
    """The two scores as numbers (the service judges their range)."""
    body: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, label, text in (
        ("theory_score", "理论考试成绩", theory),
        ("practical_score", "实操考核成绩", practical),
    ):
        try:
            number = Decimal(text.strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if number.is_finite():
            body[name] = float(number)
        else:
            problems.append(Problem(name, f"{label}：须为数字"))
    return body, problems


@router.post(
    "/sessions/{session_id}/applications/{application_id}/scores", dependencies=[CsrfChecked]
)
async def record_scores(
    request: Request,
    identity: Evaluator,
    session_id: str,
    application_id: str,
    theory_score: Annotated[str, Form()] = "",
    practical_score: Annotated[str, Form()] = "",
) -> Response:
    body, problems = _scores(theory_score, practical_score)
    if problems:
        return await workspace_page(request, identity, problems, 422)
    call = services(request).send(
        "assessment",
        "PUT",
        f"/sessions/{session_id}/applications/{application_id}/scores",
        identity.token,
        body,
    )
    return await attempt(
        call,
        lambda result: redirect(
            request,
            "/evaluation#scores-title",
            f"成绩已录入：{pipeline.APPLICATION_STATUS.get(result['status'], result['status'])}。",
        ),
        _again(request, identity),
    )


@router.post(
    "/sessions/{session_id}/applications/{application_id}/corrections",
    dependencies=[CsrfChecked],
)
async def correct_scores(
    request: Request,
    identity: Evaluator,
    session_id: str,
    application_id: str,
    theory_score: Annotated[str, Form()] = "",
    practical_score: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    body, problems = _scores(theory_score, practical_score)
    if not reason.strip():
        problems.append(Problem("reason", "原因：更正成绩须填写原因"))
    if problems:
        return await workspace_page(request, identity, problems, 422)
    body["reason"] = reason
    call = services(request).send(
        "assessment",
        "POST",
        f"/sessions/{session_id}/applications/{application_id}/score-corrections",
        identity.token,
        body,
    )
    return await attempt(
        call,
        lambda _: redirect(request, "/evaluation#scores-title", "成绩已更正，更正原因已记录。"),
        _again(request, identity),
    )


@router.post("/sessions/{session_id}/score-sheet", dependencies=[CsrfChecked])
async def upload_scores(
    request: Request, identity: Evaluator, session_id: str, sheet: UploadFile
) -> Response:
    """A session's scores by sheet: every row checked, nothing sent unless all pass; then the
    rows sent one by one, a refusal midway naming what was recorded and what was not sent."""
    client, token = services(request), identity.token
    session = await client.get("assessment", f"/sessions/{session_id}", token)
    upload = sheets.Upload(
        filename=sheet.filename or "", about=f"{session['held_on']} 在{session['place']}的考核"
    )
    limit = settings_of(request).max_upload_bytes
    content = await sheet.read(limit + 1)
    try:
        rows = sheets.read_upload(upload.filename, content, limit, score_sheet.COLUMNS)
    except sheets.UnreadableSheet as unreadable:
        upload.unreadable = str(unreadable)
        return await workspace_page(request, identity, status_code=422, upload=upload)
    applicants = score_sheet.of_session(
        session, await client.all_items("assessment", "/applications", token)
    )
    to_send, recorded, upload.errors = score_sheet.validate(rows, session["session_id"], applicants)
    if upload.errors:
        return await workspace_page(request, identity, status_code=422, upload=upload)
    upload.recorded = [row.row for row in recorded]
    outcomes: list[str] = []

    async def send(row: score_sheet.ScoreRow) -> None:
        answer = await client.send(
            "assessment",
            "PUT",
            f"/sessions/{session['session_id']}/applications/{row.application_id}/scores",
            token,
            row.body(),
            idempotency_key=row.idempotency_key,
        )
        outcomes.append(answer["status"])

    if not await sheets.send_each(to_send, send, upload):
        return await workspace_page(request, identity, status_code=422, upload=upload)
    return redirect(request, "/evaluation#scores-title", _imported(upload, outcomes))


def _imported(upload: sheets.Upload, outcomes: list[str]) -> str:
    """What a score sheet recorded, for the page after it."""
    before = len(upload.recorded) - len(outcomes)
    again = f"{before} 名考生此前已录入相同成绩，未重复发送。" if before else ""
    if not outcomes:
        return f"「{upload.filename}」中的{again}"
    passed, failed = outcomes.count("passed"), outcomes.count("failed")
    return (
        f"「{upload.filename}」已导入 {len(outcomes)} 名考生的成绩："
        f"考核合格 {passed} 人，考核不合格 {failed} 人。" + (f"另有 {again}" if again else "")
    )


@router.get("/sessions/{session_id}/score-template.xlsx")
async def score_template(request: Request, identity: Evaluator, session_id: str) -> Response:
    """The session's score sheet to fill in: one line per applicant awaiting scores."""
    client, token = services(request), identity.token
    session, applications = await asyncio.gather(
        client.get("assessment", f"/sessions/{session_id}", token),
        client.all_items("assessment", "/applications", token),
    )
    content = score_sheet.template(session, score_sheet.of_session(session, applications).values())
    name = f"scores-template-{session['held_on']}.xlsx"
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.post("/cases/{case_id}/report", dependencies=[CsrfChecked])
async def report(request: Request, identity: Evaluator, case_id: str) -> Response:
    call = services(request).send(
        "certification", "POST", f"/cases/{case_id}/report", identity.token
    )
    return await attempt(
        call,
        lambda _: redirect(request, "/evaluation#cases-title", "证书数据已上报省人社厅。"),
        _again(request, identity),
    )


@router.post("/cases/{case_id}/issuance", dependencies=[CsrfChecked])
async def issue(request: Request, identity: Evaluator, case_id: str) -> Response:
    call = services(request).send(
        "certification", "POST", f"/cases/{case_id}/issuance", identity.token
    )
    return await attempt(
        call,
        lambda case: redirect(
            request,
            "/evaluation#cases-title",
            f"证书已颁发，编号 {case['certificate_number']}。",
        ),
        _again(request, identity),
    )
