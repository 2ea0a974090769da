"""Read models of the assessment service, as tables (heze_common.views): the evaluation
institutions, every application with its current state, and every session with the number of
applicants assigned to it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg.types.json import Jsonb

from heze_assessment.domain.application import Application, Status
from heze_assessment.domain.evaluation_institution import EvaluationInstitution
from heze_assessment.domain.session import AssessmentSession
from heze_common.views import Handler, Rows, View


class EvaluationInstitutions(View):
    table_names = ("evaluation_institutions",)
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.evaluation_institutions ("
        " evaluation_institution_id UUID PRIMARY KEY, name TEXT NOT NULL,"
        " occupations JSONB NOT NULL, suspended BOOLEAN NOT NULL,"
        " registered_position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS evaluation_institutions_in_order"
        " ON {schema}.evaluation_institutions (registered_position)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        return {
            EvaluationInstitution.Registered: self._registered,
            EvaluationInstitution.Suspended: lambda rows, event: self._suspended(rows, event, True),
            EvaluationInstitution.Reinstated: lambda rows, event: self._suspended(
                rows, event, False
            ),
        }

    @staticmethod
    def _registered(rows: Rows, event: Any) -> None:
        rows.execute(
            "INSERT INTO {schema}.evaluation_institutions VALUES (%s, %s, %s, FALSE, %s)",
            (
                event.originator_id,
                event.name,
                Jsonb({code: field.value for code, field in event.occupations.items()}),
                rows.position,
            ),
            tables=["evaluation_institutions"],
        )

    @staticmethod
    def _suspended(rows: Rows, event: Any, suspended: bool) -> None:
        rows.execute(
            "UPDATE {schema}.evaluation_institutions SET suspended = %s"
            " WHERE evaluation_institution_id = %s",
            (suspended, event.originator_id),
            tables=["evaluation_institutions"],
        )


class Applications(View):
    """Applications per evaluation institution, trainee and status, in filing order."""

    table_names = ("applications",)
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.applications ("
        " application_id UUID PRIMARY KEY, trainee_id UUID NOT NULL,"
        " evaluation_institution_id UUID NOT NULL, occupation_code TEXT NOT NULL,"
        " field TEXT NOT NULL, level TEXT NOT NULL, status TEXT NOT NULL, route TEXT NOT NULL,"
        " declaration JSONB NOT NULL, commitment_text TEXT NOT NULL,"
        " commitment_signed_at TIMESTAMPTZ NOT NULL, session_id UUID, assessed_on DATE,"
        " theory_score NUMERIC, practical_score NUMERIC, voided BOOLEAN NOT NULL,"
        " reason TEXT, filed_position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS applications_in_filing_order"
        " ON {schema}.applications (filed_position)",
        "CREATE INDEX IF NOT EXISTS applications_of_institution"
        " ON {schema}.applications (evaluation_institution_id, filed_position)",
        "CREATE INDEX IF NOT EXISTS applications_of_trainee"
        " ON {schema}.applications (trainee_id, filed_position)",
        "CREATE INDEX IF NOT EXISTS applications_by_status"
        " ON {schema}.applications (status, filed_position)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        def status_and_reason(status: Status) -> Handler:
            return lambda rows, event: self._set(
                rows, event, status=status.value, reason=getattr(event, "reason", None)
            )

        return {
            Application.Filed: self._filed,
            Application.Accepted: lambda rows, event: self._set(
                rows, event, status=Status.AWAITING_REVIEW.value
            ),
            Application.Refused: status_and_reason(Status.REFUSED),
            Application.QualificationConfirmed: lambda rows, event: self._set(
                rows, event, status=Status.CONFIRMED.value
            ),
            Application.QualificationRejected: status_and_reason(Status.REJECTED),
            Application.Assigned: lambda rows, event: self._set(
                rows,
                event,
                status=Status.ASSIGNED.value,
                session_id=event.session_id,
                assessed_on=event.assessed_on,
            ),
            Application.Scored: self._scored,
            Application.ScoreCorrected: self._scored,
            Application.ResultVoided: lambda rows, event: self._set(
                rows, event, voided=True, reason=event.reason
            ),
        }

    @staticmethod
    def _filed(rows: Rows, event: Any) -> None:
        rows.insert(
            "applications",
            {
                "application_id": event.originator_id,
                "trainee_id": event.trainee_id,
                "evaluation_institution_id": event.evaluation_institution_id,
                "occupation_code": event.occupation_code,
                "field": event.field.value,
                "level": event.level.value,
                "status": Status.AWAITING_TRAINING.value,
                "route": event.route,
                "declaration": Jsonb(event.declaration.model_dump(mode="json")),
                "commitment_text": event.commitment_text,
                "commitment_signed_at": event.commitment_signed_at,
                "voided": False,
                "filed_position": rows.position,
            },
        )

    def _scored(self, rows: Rows, event: Any) -> None:
        self._set(
            rows,
            event,
            status=(Status.PASSED if event.passed else Status.FAILED).value,
            theory_score=event.theory_score,
            practical_score=event.practical_score,
        )

    @staticmethod
    def _set(rows: Rows, event: Any, **columns: object) -> None:
        rows.set("applications", {"application_id": event.originator_id}, columns)


class Sessions(View):
    """Assessment sessions per evaluation institution, occupation and level, in scheduling
    order, with the number of applicants assigned (a session none was assigned to included)."""

    table_names = ("sessions",)
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.sessions ("
        " session_id UUID PRIMARY KEY, evaluation_institution_id UUID NOT NULL,"
        " occupation_code TEXT NOT NULL, level TEXT NOT NULL, held_on DATE NOT NULL,"
        " place TEXT NOT NULL, applicants INT NOT NULL, scheduled_position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS sessions_in_scheduling_order"
        " ON {schema}.sessions (scheduled_position)",
        "CREATE INDEX IF NOT EXISTS sessions_of_institution"
        " ON {schema}.sessions (evaluation_institution_id, scheduled_position)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        return {
            AssessmentSession.Scheduled: self._scheduled,
            AssessmentSession.ApplicantAssigned: lambda rows, event: rows.add(
                "sessions", {"session_id": event.originator_id}, {"applicants": 1}
            ),
        }

    @staticmethod
    def _scheduled(rows: Rows, event: Any) -> None:
        rows.insert(
            "sessions",
            {
                "session_id": event.originator_id,
                "evaluation_institution_id": event.evaluation_institution_id,
                "occupation_code": event.occupation_code,
                "level": event.level.value,
                "held_on": event.held_on,
                "place": event.place,
                "applicants": 0,
                "scheduled_position": rows.position,
            },
        )


VIEWS = (EvaluationInstitutions, Applications, Sessions)
