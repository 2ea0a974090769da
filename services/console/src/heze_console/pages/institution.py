"""The training institution's workspace: publish a programme (the service enforces the scope and
the required hours), the roster with each trainee's progress, one session logged, a sheet of
sessions uploaded (every row checked first, nothing sent unless all pass), and per trainee the
completion exam recorded and completion granted (the training certificate)."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from heze_common import clock
from heze_console import sheets
from heze_console.errors import Problem, describe
from heze_console.services import ServiceError
from heze_console.sessions import Identity
from heze_console.web import CsrfChecked, render, services, session_of, settings_of, signed_in
from heze_contracts.enums import HourKind, Role

router = APIRouter(prefix="/institution")
Institution = Annotated[Identity, Depends(signed_in(Role.TRAINING_INSTITUTION))]

PROGRAMME_FIELDS = (
    "occupation_code",
    "level",
    "title",
    "capacity",
    "starts_on",
    "ends_on",
    "required_hours.theory",
    "required_hours.practice",
    "completion_pass_mark",
)


@router.get("", response_class=HTMLResponse)
async def workspace(request: Request, identity: Institution) -> HTMLResponse:
    return render(request, "institution.html", await overview(request, identity, {}))


async def overview(request: Request, identity: Identity, form: dict[str, str]) -> dict[str, Any]:
    client, token = services(request), identity.token
    return {
        "institution": await client.get(
            "enrollment", f"/institutions/{identity.organisation_id}", token
        ),
        "occupations": await client.get("enrollment", "/occupations", token),
        "programmes": await client.all_items(
            "enrollment", "/programmes", token, {"institution_id": identity.organisation_id}
        ),
        "form": form,
    }


@router.post("/programmes", dependencies=[CsrfChecked])
async def publish(request: Request, identity: Institution) -> Response:
    form = await request.form()
    entered = {name: str(form.get(name) or "").strip() for name in PROGRAMME_FIELDS}
    body: dict[str, Any] = {
        name: entered[name]
        for name in ("occupation_code", "level", "title", "starts_on", "ends_on")
    }
    problems = _numbers(entered, body)
    if not problems:
        try:
            created = await services(request).send(
                "enrollment", "POST", "/programmes", identity.token, body
            )
        except ServiceError as error:
            problems = describe(error)
        else:
            _flash(request, f"培训班「{body['title']}」已发布，招生简章已对社会公开。")
            return RedirectResponse(f"/institution/programmes/{created['id']}", status_code=303)
    context = await overview(request, identity, entered)
    return render(request, "institution.html", context, problems=problems, status_code=422)


def _numbers(entered: dict[str, str], body: dict[str, Any]) -> list[Problem]:
    """The form's numbers into the request body; what is not a number is said here (the service
    judges the values)."""
    problems = []
    try:
        body["capacity"] = int(entered["capacity"])
    except ValueError:
        problems.append(Problem("capacity", "招生人数：须为整数"))
    hours = {kind: entered[f"required_hours.{kind}"] for kind in ("theory", "practice")}
    if any(hours.values()):  # none given: the city's requirement for the occupation and level
        body["required_hours"] = {}
        for kind, text in hours.items():
            try:
                body["required_hours"][kind] = float(text)
            except ValueError:
                label = HourKind(kind).label
                problems.append(Problem(f"required_hours.{kind}", f"{label}学时：须为数字"))
    if entered["completion_pass_mark"]:
        try:
            body["completion_pass_mark"] = float(entered["completion_pass_mark"])
        except ValueError:
            problems.append(Problem("completion_pass_mark", "结业合格分数：须为数字"))
    return problems


async def programme_page(
    request: Request,
    identity: Identity,
    programme_id: str,
    *,
    problems: list[Problem] | None = None,
    upload: sheets.Upload | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    client, token = services(request), identity.token
    programme = await client.get("enrollment", f"/programmes/{programme_id}", token)
    roster = await client.all_items("enrollment", f"/programmes/{programme_id}/roster", token)
    context = {
        "programme": programme,
        "roster": roster,
        "upload": upload,
        "form": form or {"date": clock.today().isoformat()},
    }
    return render(request, "programme.html", context, problems=problems, status_code=status_code)


@router.get("/programmes/{programme_id}", response_class=HTMLResponse)
async def programme(request: Request, identity: Institution, programme_id: str) -> HTMLResponse:
    return await programme_page(request, identity, programme_id)


@router.post("/programmes/{programme_id}/sessions", dependencies=[CsrfChecked])
async def log_session(
    request: Request,
    identity: Institution,
    programme_id: str,
    trainee_id: Annotated[str, Form()] = "",
    day: Annotated[str, Form(alias="date")] = "",
    hours: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    mode: Annotated[str, Form()] = "",
) -> Response:
    form = {"trainee_id": trainee_id, "date": day, "hours": hours, "kind": kind, "mode": mode}
    try:
        body = {"date": day, "hours": float(hours), "kind": kind, "mode": mode}
        await services(request).send(
            "enrollment",
            "POST",
            f"/programmes/{programme_id}/trainees/{trainee_id}/sessions",
            identity.token,
            body,
        )
    except ValueError:
        problems = [Problem("hours", "学时：须为数字")]
    except ServiceError as error:
        problems = describe(error)
    else:
        _flash(request, f"已记录 {day} {hours} 学时。")
        return RedirectResponse(f"/institution/programmes/{programme_id}", status_code=303)
    return await programme_page(
        request, identity, programme_id, problems=problems, form=form, status_code=422
    )


@router.post("/programmes/{programme_id}/trainees/{trainee_id}/exam", dependencies=[CsrfChecked])
async def record_exam(
    request: Request,
    identity: Institution,
    programme_id: str,
    trainee_id: str,
    score: Annotated[str, Form()] = "",
) -> Response:
    try:
        number = float(score)
        if not math.isfinite(number):
            raise ValueError(score)
        await services(request).send(
            "enrollment",
            "PUT",
            f"/programmes/{programme_id}/trainees/{trainee_id}/exam",
            identity.token,
            {"score": number},
        )
    except ValueError:
        problems = [Problem("score", "成绩：须为数字")]
    except ServiceError as error:
        problems = describe(error)
    else:
        _flash(request, f"已录入结业考核成绩 {score} 分。")
        return RedirectResponse(f"/institution/programmes/{programme_id}", status_code=303)
    return await programme_page(request, identity, programme_id, problems=problems, status_code=422)


@router.post(
    "/programmes/{programme_id}/trainees/{trainee_id}/completion", dependencies=[CsrfChecked]
)
async def grant_completion(
    request: Request, identity: Institution, programme_id: str, trainee_id: str
) -> Response:
    try:
        enrolment = await services(request).send(
            "enrollment",
            "POST",
            f"/programmes/{programme_id}/trainees/{trainee_id}/completion",
            identity.token,
        )
    except ServiceError as error:
        return await programme_page(
            request, identity, programme_id, problems=describe(error), status_code=422
        )
    number = enrolment["training_certificate_number"]
    _flash(request, f"已准予结业，培训合格证书编号 {number}。")
    return RedirectResponse(f"/institution/programmes/{programme_id}", status_code=303)


@router.post("/programmes/{programme_id}/sheet", dependencies=[CsrfChecked])
async def upload_sheet(
    request: Request, identity: Institution, programme_id: str, sheet: UploadFile
) -> Response:
    upload = sheets.Upload(filename=sheet.filename or "")
    limit = settings_of(request).max_upload_bytes
    content = await sheet.read(limit + 1)
    client, token = services(request), identity.token
    try:
        rows = sheets.read_upload(upload.filename, content, limit)
    except sheets.UnreadableSheet as unreadable:
        upload.unreadable = str(unreadable)
        return await programme_page(request, identity, programme_id, upload=upload, status_code=422)
    programme = await client.get("enrollment", f"/programmes/{programme_id}", token)
    roster = {
        line["trainee_id"]: sheets.RosterEntry(line["trainee_id"], line["name"], line["status"])
        for line in await client.all_items(
            "enrollment", f"/programmes/{programme_id}/roster", token
        )
    }
    window = sheets.Programme(
        programme_id,
        date.fromisoformat(programme["starts_on"]),
        date.fromisoformat(programme["ends_on"]),
    )
    sessions, upload.errors = sheets.validate(rows, window, roster)
    if upload.errors:
        return await programme_page(request, identity, programme_id, upload=upload, status_code=422)

    async def send(row: sheets.SessionRow) -> object:
        return await client.send(
            "enrollment",
            "POST",
            f"/programmes/{programme_id}/trainees/{row.trainee_id}/sessions",
            token,
            row.body(),
            idempotency_key=row.idempotency_key,
        )

    if not await sheets.send_each(sessions, send, upload):
        return await programme_page(request, identity, programme_id, upload=upload, status_code=422)
    _flash(request, f"「{upload.filename}」已导入 {len(sessions)} 条学时记录。")
    return RedirectResponse(f"/institution/programmes/{programme_id}", status_code=303)


@router.get("/programmes/{programme_id}/template.xlsx")
async def sheet_template(request: Request, identity: Institution, programme_id: str) -> Response:
    roster = await services(request).all_items(
        "enrollment", f"/programmes/{programme_id}/roster", identity.token
    )
    entries = [sheets.RosterEntry(r["trainee_id"], r["name"], r["status"]) for r in roster]
    return Response(
        sheets.template(entries),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''sessions-template.xlsx"},
    )


def _flash(request: Request, message: str) -> None:
    session = session_of(request)
    assert session is not None
    session.flash = message
