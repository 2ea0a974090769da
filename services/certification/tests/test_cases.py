"""Case stages, returns, breaches recorded once, recomputation after a calendar arrives."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from certification_builders import PROVINCE

from heze_certification.application import CertificationApplication
from heze_certification.commands import LoadCalendar
from heze_certification.domain.case import CaseStatus, CaseSubject, CertificateCase
from heze_certification.domain.holder_names import NameHasher
from heze_certification.settings import CertificationSettings
from heze_certification.views import VIEWS, CaseFinder
from heze_certification.watcher import record_overdue
from heze_common import clock
from heze_common.errors import Refusal
from heze_common.testing import service_settings
from heze_common.views import ViewUpdater
from heze_contracts.enums import CertificateStage, Field, Level

NAMES = NameHasher(b"k" * 32)


def a_case(ended: date = date(2026, 9, 1)) -> CertificateCase:
    subject = CaseSubject(
        trainee_id=uuid4(),
        application_id=uuid4(),
        evaluation_institution_id=uuid4(),
        occupation_code="2-02-07-13",
        field=Field.INTELLIGENT_MANUFACTURING,
        level=Level.JUNIOR,
    )
    return CertificateCase.open(subject, "沙和尚", ended)


def test_the_report_is_due_30_days_after_the_assessment_ended() -> None:
    case = a_case(date(2026, 9, 1))
    assert (case.stage, case.due_on) == (CertificateStage.REPORT_TO_PROVINCE, date(2026, 10, 1))


def test_a_returned_case_is_reported_again_with_fresh_deadlines() -> None:
    case = a_case()
    case.report(date(2026, 9, 24), {})
    assert case.due_on == date(2026, 10, 15)
    case.return_for_correction(["证书照片不清晰"], date(2026, 10, 9))
    assert (case.status, case.stage, case.due_on) == (
        CaseStatus.AWAITING_REPORT,
        CertificateStage.REPORT_TO_PROVINCE,
        date(2026, 11, 8),
    )
    case.report(date(2026, 10, 12), {})
    assert case.due_on == date(2026, 10, 26)
    case.confirm()
    case.approve(date(2026, 11, 2))
    assert (case.stage, case.due_on) == (CertificateStage.ISSUANCE, date(2026, 12, 2))
    case.issue("HZSZ2026-2020713-J-000001", date(2026, 11, 5), "code", NAMES)
    assert (case.status, case.returns) == (CaseStatus.ISSUED, [["证书照片不清晰"]])


def test_steps_out_of_order_are_refused() -> None:
    case = a_case()
    with pytest.raises(Refusal, match="awaiting_confirmation"):
        case.confirm()
    with pytest.raises(Refusal):
        case.issue("X", date(2026, 9, 2), "code", NAMES)


def test_a_voided_result_closes_an_open_case_and_revokes_an_issued_certificate() -> None:
    open_case = a_case()
    open_case.void_assessment("虚假承诺")
    assert open_case.status is CaseStatus.CLOSED
    issued = a_case()
    issued.report(date(2026, 9, 2), {})
    issued.confirm()
    issued.approve(date(2026, 9, 20))
    issued.issue("HZSZ2026-2020713-J-000002", date(2026, 9, 21), "code", NAMES)
    issued.void_assessment("虚假承诺")
    assert issued.status is CaseStatus.REVOKED


def test_a_breach_is_recorded_once_per_stage_and_due_date() -> None:
    case = a_case(date(2026, 9, 1))
    assert not case.record_breach(date(2026, 10, 1))  # due today: not late yet
    assert case.record_breach(date(2026, 10, 4))
    assert not case.record_breach(date(2026, 10, 9))
    breach = case.collect_events()[-1]
    assert (breach.stage, breach.due_on, breach.days_late) == (
        CertificateStage.REPORT_TO_PROVINCE,
        date(2026, 10, 1),
        3,
    )


@pytest.fixture
def settings(database_url: str) -> CertificationSettings:
    return service_settings(CertificationSettings, database_url=database_url)


def test_two_replicas_watching_many_times_record_each_breach_exactly_once(
    settings: CertificationSettings,
) -> None:
    replicas = [CertificationApplication(settings) for _ in range(2)]
    replicas[0].seed()
    ViewUpdater(replicas[0], [view() for view in VIEWS])  # the tables, as the service makes them
    cases = [a_case(date(2026, 8, 1)) for _ in range(20)]
    replicas[0].save(*cases)
    recorded = []
    with clock.frozen_at(datetime(2026, 10, 20, 4, tzinfo=UTC)):

        def watch(replica: CertificationApplication) -> None:
            finder = CaseFinder(replica)
            for _ in range(5):
                recorded.append(record_overdue(replica, finder))

        threads = [threading.Thread(target=watch, args=(replica,)) for replica in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(recorded) == 20
    stored = [
        n
        for n in replicas[0].recorder.select_notifications(1, 1000)
        if n.topic == CertificateCase.DeadlineBreached.TOPIC
    ]
    assert len(stored) == 20
    for replica in replicas:
        replica.close()


def test_loading_a_calendar_recomputes_provisional_deadlines(
    settings: CertificationSettings,
) -> None:
    app = CertificationApplication(settings)
    app.seed()
    case, settled = a_case(date(2026, 12, 1)), a_case(date(2026, 12, 1))
    case.report(date(2026, 12, 28), app.calendars())
    settled.report(date(2026, 12, 1), app.calendars())
    app.save(case, settled)
    assert (case.due_on, case.due_is_provisional) == (date(2027, 1, 11), True)
    # The cases handed in are candidates: only a provisional deadline is recomputed.
    load = LoadCalendar(
        principal=PROVINCE,
        year=2027,
        holidays=[date(2027, 1, 1), date(2027, 1, 4)],
        makeup_workdays=[date(2027, 1, 9)],
        provisional=[case.id, settled.id],
    )
    assert app.handle(load) == 1
    recomputed = app.case(case.id)
    assert (recomputed.due_on, recomputed.due_is_provisional) == (date(2027, 1, 12), False)
    assert app.handle(load) == 0
    app.close()
