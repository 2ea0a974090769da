"""Read models of the certification service, as tables (heze_common.views): every case with its
current stage, deadline and certificate (the case queues, the overdue list, verification), every
deadline a case was given and how it ended (the deadline report), the talent pool, and the
continuing-education credits with the names the CE platform needs.

Personal data: a table holds only what a query returns (holder names, ID numbers, counties,
contributions); nothing else of the person is copied here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from heze_certification.domain.case import CHINA_STANDARD_TIME, CaseStatus, CertificateCase
from heze_certification.domain.talent import TalentRecord
from heze_common.eventstore import ServiceApplication
from heze_common.views import CaughtUpViews, Handler, Rows, View
from heze_contracts.enums import CertificateStage


class Cases(View):
    """Cases per evaluation institution, trainee and status in opening order, their open
    deadlines, and the certificates issued (by number, for verification)."""

    table_names = ("cases", "holder_name_hashes")
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.cases ("
        " case_id UUID PRIMARY KEY, trainee_id UUID NOT NULL, application_id UUID NOT NULL,"
        " evaluation_institution_id UUID NOT NULL, occupation_code TEXT NOT NULL,"
        " field TEXT NOT NULL, level TEXT NOT NULL, holder_name TEXT NOT NULL,"
        " assessment_ended_on DATE NOT NULL, status TEXT NOT NULL, stage TEXT, due_on DATE,"
        " due_is_provisional BOOLEAN NOT NULL, breached BOOLEAN NOT NULL, returns JSONB NOT NULL,"
        " certificate_number TEXT, issued_on DATE, opened_position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS cases_in_opening_order ON {schema}.cases (opened_position)",
        "CREATE INDEX IF NOT EXISTS cases_of_institution"
        " ON {schema}.cases (evaluation_institution_id, opened_position)",
        "CREATE INDEX IF NOT EXISTS cases_of_trainee ON {schema}.cases (trainee_id, opened_position)",
        # The province's and the national office's queues: the cases in one status.
        "CREATE INDEX IF NOT EXISTS cases_in_status ON {schema}.cases (status, opened_position)",
        "CREATE UNIQUE INDEX IF NOT EXISTS cases_by_certificate"
        " ON {schema}.cases (certificate_number) WHERE certificate_number IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS cases_by_due_date ON {schema}.cases (due_on)"
        " WHERE due_on IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS cases_due_provisionally"
        " ON {schema}.cases (opened_position) WHERE due_is_provisional",
        # Kept when the holder is erased (and `cases.holder_name` emptied): verification by
        # number and name compares against it.
        "CREATE TABLE IF NOT EXISTS {schema}.holder_name_hashes ("
        " certificate_number TEXT PRIMARY KEY, name_hash TEXT NOT NULL)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        case = CertificateCase

        def moves_to(
            status: CaseStatus, stage: CertificateStage | None, *, returned: bool = False
        ) -> Handler:
            """The case moves to `status`; `stage` (when it has a deadline) is due on the
            event's `due_on`; a return or a rejection adds its reasons to the returns."""
            return lambda rows, event: self._stage(
                rows,
                event,
                status,
                stage,
                getattr(event, "due_on", None),
                getattr(event, "due_is_provisional", False),
                event.reasons if returned else None,
            )

        return {
            case.Opened: self._opened,
            case.Reported: moves_to(
                CaseStatus.AWAITING_CONFIRMATION, CertificateStage.PROVINCE_CONFIRMATION
            ),
            case.ProvinceConfirmed: moves_to(
                CaseStatus.AWAITING_APPROVAL, CertificateStage.NATIONAL_REVIEW
            ),
            case.ProvinceReturned: moves_to(
                CaseStatus.AWAITING_REPORT, CertificateStage.REPORT_TO_PROVINCE, returned=True
            ),
            case.NationalApproved: moves_to(
                CaseStatus.AWAITING_ISSUANCE, CertificateStage.ISSUANCE
            ),
            case.NationalRejected: moves_to(
                CaseStatus.AWAITING_REPORT, CertificateStage.REPORT_TO_PROVINCE, returned=True
            ),
            case.Issued: self._issued,
            case.HolderErased: self._holder_erased,
            case.Revoked: lambda rows, event: self._set(
                rows, event, status=CaseStatus.REVOKED.value
            ),
            case.Closed: moves_to(CaseStatus.CLOSED, None),
            case.DeadlineChanged: lambda rows, event: self._set(
                rows,
                event,
                due_on=event.due_on,
                due_is_provisional=event.due_is_provisional,
                breached=False,
            ),
            case.DeadlineBreached: self._breached,
        }

    @staticmethod
    def _issued(rows: Rows, event: Any) -> None:
        Cases._set(
            rows,
            event,
            status=CaseStatus.ISSUED.value,
            stage=None,
            due_on=None,
            due_is_provisional=False,
            breached=False,
            certificate_number=event.certificate_number,
            issued_on=event.issued_on,
        )
        if event.holder_name_hash is not None:
            rows.insert(
                "holder_name_hashes",
                {
                    "certificate_number": event.certificate_number,
                    "name_hash": event.holder_name_hash,
                },
            )

    @staticmethod
    def _holder_erased(rows: Rows, event: Any) -> None:
        Cases._set(rows, event, holder_name="")  # "": erased
        if event.holder_name_hash is not None:  # a certificate issued before hashes were kept
            rows.execute(
                "INSERT INTO {schema}.holder_name_hashes (certificate_number, name_hash)"
                " SELECT certificate_number, %s FROM {schema}.cases WHERE case_id = %s"
                " ON CONFLICT DO NOTHING",
                (event.holder_name_hash, event.originator_id),
                tables=["cases", "holder_name_hashes"],
            )

    @staticmethod
    def _opened(rows: Rows, event: Any) -> None:
        subject = event.subject
        rows.insert(
            "cases",
            {
                "case_id": event.originator_id,
                "trainee_id": subject.trainee_id,
                "application_id": subject.application_id,
                "evaluation_institution_id": subject.evaluation_institution_id,
                "occupation_code": subject.occupation_code,
                "field": subject.field.value,
                "level": subject.level.value,
                "holder_name": event.holder_name or "",  # "": erased
                "assessment_ended_on": event.assessment_ended_on,
                "status": CaseStatus.AWAITING_REPORT.value,
                "stage": CertificateStage.REPORT_TO_PROVINCE.value,
                "due_on": event.due_on,
                "due_is_provisional": False,
                "breached": False,
                "returns": Jsonb([]),
                "opened_position": rows.position,
            },
        )

    @staticmethod
    def _stage(
        rows: Rows,
        event: Any,
        status: CaseStatus,
        stage: CertificateStage | None,
        due_on: date | None,
        provisional: bool,
        reasons: list[str] | None,
    ) -> None:
        """A new stage: its deadline (none for the national review or a closed case) replaces
        the last one, not yet breached; a return or a rejection adds its reasons."""
        key = {"case_id": event.originator_id}
        if reasons is not None:
            rows.execute(
                "UPDATE {schema}.cases SET returns = returns || %s WHERE case_id = %s",
                (Jsonb([list(reasons)]), event.originator_id),
                tables=["cases"],
            )
        rows.set(
            "cases",
            key,
            {
                "status": status.value,
                "stage": stage.value if stage else None,
                "due_on": due_on,
                "due_is_provisional": provisional,
                "breached": False,
            },
        )

    @staticmethod
    def _breached(rows: Rows, event: Any) -> None:
        """Only a breach of the current deadline marks it (a later one starts unbreached)."""
        rows.execute(
            "UPDATE {schema}.cases SET breached = TRUE"
            " WHERE case_id = %s AND stage = %s AND due_on = %s",
            (event.originator_id, event.stage.value, event.due_on),
            tables=["cases"],
        )

    @staticmethod
    def _set(rows: Rows, event: Any, **columns: object) -> None:
        rows.set("cases", {"case_id": event.originator_id}, columns)


class Deadlines(View):
    """Every deadline a case was given, one row per stage it opened with a due date (reporting
    to the province, the province's confirmation, issuance; the national review has none), and
    how that stage ended: the day (`ended_on`, the China Standard Time date of the event that
    moved the case on, as the watcher's `clock.today`) and by what (`ended_by`: reported,
    confirmed, returned, issued or closed), and whether its breach was recorded.

    A return by the province or a national rejection ends the stage it ends (a return is the
    province's answer within its confirmation deadline) and opens a new report stage with a new
    deadline: a new row, keyed by the log position of the event that opened it, so each round of
    a case that went back and forth keeps its own outcome."""

    table_names = ("deadlines",)
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.deadlines ("
        " case_id UUID NOT NULL, opened_position BIGINT NOT NULL,"
        " evaluation_institution_id UUID NOT NULL, stage TEXT NOT NULL, due_on DATE NOT NULL,"
        " due_is_provisional BOOLEAN NOT NULL, ended_on DATE, ended_by TEXT,"
        " breached BOOLEAN NOT NULL, PRIMARY KEY (case_id, opened_position))",
        # The report: the deadlines due in a period, per stage.
        "CREATE INDEX IF NOT EXISTS deadlines_by_due_date ON {schema}.deadlines (due_on, stage)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        case = CertificateCase
        report, confirmation, issuance = (
            CertificateStage.REPORT_TO_PROVINCE,
            CertificateStage.PROVINCE_CONFIRMATION,
            CertificateStage.ISSUANCE,
        )

        def moves_on(ended_by: str | None, opens: CertificateStage | None) -> Handler:
            """The event ends the open deadline (if the case has one) and opens `opens`'s."""

            def handle(rows: Rows, event: Any) -> None:
                if ended_by is not None:
                    self._end(rows, event, ended_by)
                if opens is not None:
                    self._open(rows, event, opens)

            return handle

        return {
            case.Opened: moves_on(None, report),
            case.Reported: moves_on("reported", confirmation),
            case.ProvinceConfirmed: moves_on("confirmed", None),  # to the national review
            case.ProvinceReturned: moves_on("returned", report),
            case.NationalApproved: moves_on(None, issuance),  # the review had no deadline
            case.NationalRejected: moves_on(None, report),
            case.Issued: moves_on("issued", None),
            case.Closed: moves_on("closed", None),
            case.DeadlineChanged: self._changed,
            case.DeadlineBreached: self._breached,
        }

    @staticmethod
    def _open(rows: Rows, event: Any, stage: CertificateStage) -> None:
        rows.insert(
            "deadlines",
            {
                "case_id": event.originator_id,
                "opened_position": rows.position,
                "evaluation_institution_id": event.subject.evaluation_institution_id,
                "stage": stage.value,
                "due_on": event.due_on,
                "due_is_provisional": getattr(event, "due_is_provisional", False),
                "ended_on": None,
                "ended_by": None,
                "breached": False,
            },
        )

    @staticmethod
    def _end(rows: Rows, event: Any, ended_by: str) -> None:
        """The day the stage ended: the date the event names (a report's, an issuance's), else
        the China Standard Time date of its timestamp (a decision's, as `Decision.of`)."""
        ended_on = getattr(event, "reported_on", None) or getattr(event, "issued_on", None)
        if ended_on is None:
            ended_on = (event.timestamp + CHINA_STANDARD_TIME).date()
        rows.execute(
            "UPDATE {schema}.deadlines SET ended_on = %s, ended_by = %s"
            " WHERE case_id = %s AND ended_on IS NULL",
            (ended_on, ended_by, event.originator_id),
            tables=["deadlines"],
        )

    @staticmethod
    def _changed(rows: Rows, event: Any) -> None:
        """A recomputed due date replaces the open one, not breached (as in `cases`: a breach
        names the due date it passed)."""
        rows.execute(
            "UPDATE {schema}.deadlines SET due_on = %s, due_is_provisional = %s, breached = FALSE"
            " WHERE case_id = %s AND stage = %s AND ended_on IS NULL",
            (event.due_on, event.due_is_provisional, event.originator_id, event.stage.value),
            tables=["deadlines"],
        )

    @staticmethod
    def _breached(rows: Rows, event: Any) -> None:
        rows.execute(
            "UPDATE {schema}.deadlines SET breached = TRUE WHERE case_id = %s AND stage = %s"
            " AND due_on = %s AND ended_on IS NULL",
            (event.originator_id, event.stage.value, event.due_on),
            tables=["deadlines"],
        )


IN_POOL = (
    "EXISTS (SELECT FROM {schema}.pool_certificates held"
    " WHERE held.record_id = talent_pool.record_id)"
)
"""Whether the talent record of the `talent_pool` row at hand holds an admitted certificate."""


class TalentBase(View):
    """The talent pool in order of entry (searchable by field, level and county), and the
    continuing-education credits per year in the order credited, with each person's name and
    ID number for the CE platform. Rows are keyed by talent record (`TalentRecord.id_for`): not
    every event of a record names its trainee."""

    table_names = ("people", "talent_pool", "pool_certificates", "ce_credits")
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.people ("
        " record_id UUID PRIMARY KEY, name TEXT NOT NULL, id_number TEXT NOT NULL)",
        # A member's row stays when their last certificate is revoked (it is then no longer
        # listed), so a page cursor naming them still finds its place.
        "CREATE TABLE IF NOT EXISTS {schema}.talent_pool ("
        " record_id UUID PRIMARY KEY, trainee_id UUID, county TEXT,"
        " outstanding_contribution TEXT, entered_position BIGINT)",
        "CREATE INDEX IF NOT EXISTS talent_pool_in_order"
        " ON {schema}.talent_pool (entered_position) WHERE entered_position IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS talent_pool_of_county"
        " ON {schema}.talent_pool (county, entered_position)",
        "CREATE TABLE IF NOT EXISTS {schema}.pool_certificates ("
        " certificate_number TEXT PRIMARY KEY, record_id UUID NOT NULL, field TEXT NOT NULL,"
        " level TEXT NOT NULL, admitted_position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS pool_certificates_of_member"
        " ON {schema}.pool_certificates (record_id, admitted_position)",
        # The pool searched by field or level: a value few hold is found from its certificates.
        "CREATE INDEX IF NOT EXISTS pool_certificates_of_field"
        " ON {schema}.pool_certificates (field, record_id)",
        "CREATE INDEX IF NOT EXISTS pool_certificates_of_level"
        " ON {schema}.pool_certificates (level, record_id)",
        "CREATE TABLE IF NOT EXISTS {schema}.ce_credits ("
        " record_id UUID NOT NULL, programme_id UUID NOT NULL, trainee_id UUID NOT NULL,"
        " year INT NOT NULL, hours NUMERIC NOT NULL, credited_on DATE NOT NULL,"
        " credited_position BIGINT NOT NULL, PRIMARY KEY (record_id, programme_id))",
        "CREATE INDEX IF NOT EXISTS ce_credits_of_year"
        " ON {schema}.ce_credits (year, credited_position)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        record = TalentRecord
        return {
            record.PersonLearnt: self._person,
            record.Erased: lambda rows, event: rows.execute(
                "DELETE FROM {schema}.people WHERE record_id = %s",
                (event.originator_id,),
                tables=["people"],
            ),
            record.AdmittedToPool: self._admitted,
            record.CertificateRevocationNoted: self._revoked,
            record.OutstandingFlagged: self._flagged,
            record.HoursCredited: self._credited,
        }

    @staticmethod
    def _person(rows: Rows, event: Any) -> None:
        if event.name is None:  # erased since (a rebuild)
            return
        rows.upsert(
            "people",
            {"record_id": event.originator_id},
            {"name": event.name, "id_number": event.id_number},
        )

    @staticmethod
    def _admitted(rows: Rows, event: Any) -> None:
        """One who held no admitted certificate (yet, or any more) enters the pool now, in this
        county; a member keeps their place and county."""
        key = {"record_id": event.originator_id}
        if event.enters_pool is None:  # recorded before the record said: the tables tell
            TalentBase._admitted_as_the_tables_tell(rows, event)
            return
        if event.enters_pool:
            entry = {"county": event.county, "entered_position": rows.position}
            rows.upsert("talent_pool", key, {"trainee_id": event.trainee_id, **entry})
        else:
            rows.set("talent_pool", key, {"trainee_id": event.trainee_id})
        rows.insert(
            "pool_certificates",
            {
                "certificate_number": event.certificate_number,
                "record_id": event.originator_id,
                "field": event.field.value,
                "level": event.level.value,
                "admitted_position": rows.position,
            },
        )

    @staticmethod
    def _admitted_as_the_tables_tell(rows: Rows, event: Any) -> None:
        # One statement: the certificate's insert (a data-modifying WITH) is not yet visible to
        # the pool's test of what the record held before it.
        rows.execute(
            "WITH certificate AS (INSERT INTO {schema}.pool_certificates"
            " (certificate_number, record_id, field, level, admitted_position)"
            " VALUES (%s, %s, %s, %s, %s))"
            " INSERT INTO {schema}.talent_pool (record_id, trainee_id, county, entered_position)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (record_id) DO UPDATE SET"
            " trainee_id = EXCLUDED.trainee_id,"
            f" county = CASE WHEN {IN_POOL} THEN talent_pool.county ELSE EXCLUDED.county END,"
            f" entered_position = CASE WHEN {IN_POOL} THEN talent_pool.entered_position"
            " ELSE EXCLUDED.entered_position END",
            (
                event.certificate_number,
                event.originator_id,
                event.field.value,
                event.level.value,
                rows.position,
                event.originator_id,
                event.trainee_id,
                event.county,
                rows.position,
            ),
            tables=["pool_certificates", "talent_pool"],
        )

    @staticmethod
    def _revoked(rows: Rows, event: Any) -> None:
        rows.execute(
            "DELETE FROM {schema}.pool_certificates WHERE certificate_number = %s",
            (event.number,),
            tables=["pool_certificates"],
        )

    @staticmethod
    def _flagged(rows: Rows, event: Any) -> None:
        """A flag may come before the admission (the county not yet known): it waits in the
        record's row, which the admission then completes."""
        rows.upsert(
            "talent_pool",
            {"record_id": event.originator_id},
            {"outstanding_contribution": event.contribution},
        )

    @staticmethod
    def _credited(rows: Rows, event: Any) -> None:
        rows.insert(
            "ce_credits",
            {
                "record_id": event.originator_id,
                "programme_id": event.source_programme_id,
                "trainee_id": event.trainee_id,
                "year": event.year,
                "hours": event.hours,
                "credited_on": event.credited_on,
                "credited_position": rows.position,
            },
        )


VIEWS = (Cases, Deadlines, TalentBase)


class CaseFinder:
    """The case views read from synchronous code outside a request: the deadline watcher, the
    erasure of a holder and the auditors' trail (heze_common.views.CaughtUpViews)."""

    def __init__(self, app: ServiceApplication) -> None:
        self.views = CaughtUpViews(app, VIEWS)

    def _case_ids(self, query: str, params: tuple[object, ...]) -> list[UUID]:
        return self.views.ids(query, params)

    def overdue_unrecorded(self, today: date) -> list[UUID]:
        """Cases whose current deadline passed before `today` and whose breach is not recorded."""
        return self._case_ids(
            "SELECT case_id FROM {schema}.cases WHERE due_on < %s AND NOT breached"
            " ORDER BY opened_position",
            (today,),
        )

    def cases_of(self, trainee_id: UUID) -> list[UUID]:
        return self._case_ids(
            "SELECT case_id FROM {schema}.cases WHERE trainee_id = %s ORDER BY opened_position",
            (trainee_id,),
        )
