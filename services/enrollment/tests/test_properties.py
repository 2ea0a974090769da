"""Random command sequences never leave an aggregate in a state the rules forbid, and
rebuilding from the (serialised) event log gives the same state."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import reduce
from typing import Any

from enrollment_builders import TODAY, a_programme, a_trainee
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from heze_common.errors import Refusal
from heze_common.person_keys import PersonalData
from heze_common.persistence import JsonTranscoder, PydanticMapper
from heze_contracts.enums import HourKind, HourMode
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.trainee import EnrolmentStatus, Trainee

MAPPER = PydanticMapper(transcoder=JsonTranscoder(), personal_data=PersonalData.in_memory())
TRAINEES = 5
DAYS = st.integers(min_value=-3, max_value=95).map(
    lambda offset: date(2026, 11, 1) + timedelta(days=offset)
)
HOURS = st.decimals(min_value=Decimal("-1"), max_value=Decimal("26"), places=1)


def rebuilt(events: list[Any]) -> Any:
    stored = [MAPPER.to_domain_event(MAPPER.to_stored_event(event)) for event in events]
    return reduce(lambda aggregate, event: event.mutate(aggregate), stored, None)


class EnrolmentMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.programme = a_programme(capacity=3)
        self.trainees = [
            a_trainee(ResidentId.compose("371702", date(1990, 1, 1) + timedelta(days=n), 11))
            for n in range(TRAINEES)
        ]
        self.log: dict[Any, list[Any]] = {}
        self._commit(self.programme, *self.trainees)

    def _commit(self, *aggregates: Any) -> None:
        for aggregate in aggregates:
            self.log.setdefault(aggregate.id, []).extend(aggregate.collect_events())

    def _attempt(self, command: Any, *aggregates: Any) -> None:
        """Run a command as the application does: all of its events are saved, or none."""
        try:
            command()
        except Refusal:
            self.programme = rebuilt(self.log[self.programme.id])
            self.trainees = [rebuilt(self.log[trainee.id]) for trainee in self.trainees]
            return
        self._commit(*aggregates)

    @rule(who=st.integers(0, TRAINEES - 1))
    def enrol(self, who: int) -> None:
        trainee = self.trainees[who]

        def command() -> None:
            trainee.enrol(self.programme, TODAY)
            self.programme.take_seat(trainee.id, TODAY)

        self._attempt(command, trainee, self.programme)

    @rule(who=st.integers(0, TRAINEES - 1))
    def withdraw(self, who: int) -> None:
        trainee = self.trainees[who]

        def command() -> None:
            trainee.withdraw(self.programme.id, "个人原因", TODAY)
            self.programme.release_seat(trainee.id)

        self._attempt(command, trainee, self.programme)

    @rule(
        who=st.integers(0, TRAINEES - 1),
        day=DAYS,
        hours=HOURS,
        kind=st.sampled_from(HourKind),
        mode=st.sampled_from(HourMode),
    )
    def log_session(
        self, who: int, day: date, hours: Decimal, kind: HourKind, mode: HourMode
    ) -> None:
        trainee = self.trainees[who]
        self._attempt(lambda: trainee.log_session(self.programme, day, hours, kind, mode), trainee)

    @rule(
        who=st.integers(0, TRAINEES - 1), score=st.decimals(min_value=-5, max_value=105, places=1)
    )
    def record_exam(self, who: int, score: Decimal) -> None:
        trainee = self.trainees[who]
        self._attempt(lambda: trainee.record_exam(self.programme.id, score), trainee)

    @rule(who=st.integers(0, TRAINEES - 1))
    def complete(self, who: int) -> None:
        trainee = self.trainees[who]
        self._attempt(
            lambda: trainee.complete(self.programme.id, f"HZPX2026-2021011-{who:06d}", TODAY),
            trainee,
        )

    @invariant()
    def never_over_capacity(self) -> None:
        assert len(self.programme.seats) <= self.programme.capacity

    @invariant()
    def seats_are_held_by_exactly_the_active_trainees(self) -> None:
        active = {
            trainee.id
            for trainee in self.trainees
            if (record := trainee.enrolments.get(self.programme.id))
            and record.status is not EnrolmentStatus.WITHDRAWN
        }
        assert self.programme.seats == active

    @invariant()
    def completed_only_with_hours_and_a_pass(self) -> None:
        for trainee in self.trainees:
            record = trainee.enrolments.get(self.programme.id)
            if record and record.status is EnrolmentStatus.COMPLETED:
                assert not record.missing_hours()
                assert (
                    record.exam_score is not None
                    and record.exam_score >= record.completion_pass_mark
                )
                assert record.certificate_number

    @invariant()
    def never_more_than_24_hours_a_day(self) -> None:
        for trainee in self.trainees:
            for record in trainee.enrolments.values():
                assert all(hours <= 24 for hours in record.hours_by_day.values())

    @invariant()
    def rebuilding_from_the_log_gives_the_same_state(self) -> None:
        programme = rebuilt(self.log[self.programme.id])
        assert (programme.seats, programme.version) == (
            self.programme.seats,
            self.programme.version,
        )
        for trainee in self.trainees:
            copy: Trainee = rebuilt(self.log[trainee.id])
            assert (copy.enrolments, copy.version) == (trainee.enrolments, trainee.version)


TestEnrolmentRules = EnrolmentMachine.TestCase
TestEnrolmentRules.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
