"""Parsing is strict: anything outside the contract is a ContractError with the right code."""

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from heze_contracts import ContractError, parse_event
from heze_contracts.assessment import AssessmentApplied
from heze_contracts.enrollment import (
    ProgrammePublished,
    TraineeEnrolled,
    TraineeRegisteredV1,
    TrainingCompleted,
)
from heze_contracts.envelope import IntegrationEvent
from pydantic import ValidationError


def altered(event: IntegrationEvent, change: Callable[[dict], object]) -> bytes:
    message = json.loads(event.to_bytes())
    change(message)
    return json.dumps(message, ensure_ascii=False).encode()


def violation(raw: bytes, code: str = "schema_violation") -> str:
    with pytest.raises(ContractError) as caught:
        parse_event(raw)
    assert caught.value.code == code
    return caught.value.detail


def test_unknown_top_level_field_is_rejected(sample):
    detail = violation(altered(sample, lambda m: m.update(extra=1)))
    assert detail == "extra: Extra inputs are not permitted"


def test_unknown_payload_field_is_rejected(sample):
    detail = violation(altered(sample, lambda m: m["payload"].update(nickname="小明")))
    assert detail == "payload.nickname: Extra inputs are not permitted"


@pytest.mark.parametrize(
    ("instant", "rule"),
    [
        ("2025-03-01T08:30:00", "naive datetimes are rejected"),
        ("2025-03-01T16:30:00+08:00", "must be UTC"),
    ],
)
def test_naive_and_non_utc_instants_are_rejected(build, instant, rule):
    applied = build(AssessmentApplied)
    assert rule in violation(altered(applied, lambda m: m.update(occurred_at=instant)))
    detail = violation(
        altered(applied, lambda m: m["payload"].update(commitment_signed_at=instant))
    )
    assert detail.startswith("payload.commitment_signed_at:") and rule in detail


@pytest.mark.parametrize(
    "occurred_at",
    [datetime(2025, 3, 1, 8, 30), datetime(2025, 3, 1, tzinfo=timezone(timedelta(hours=8)))],
)
def test_build_rejects_naive_and_non_utc_instants(build, occurred_at):
    registered = build(TraineeRegisteredV1)
    with pytest.raises(ValidationError, match="occurred_at"):
        TraineeRegisteredV1.build(
            registered.payload,
            position=1,
            occurred_at=occurred_at,
            origin_id=registered.subject_id,
            origin_version=1,
            correlation_id=registered.correlation_id,
            causation_id=None,
        )


# \uff11, \uff12: full-width digits, which a Unicode-aware \d would wrongly accept.
@pytest.mark.parametrize(
    "code", ["2-2-10-09", "2-02-10-9", "\uff12-02-10-09", "2-02-10-09\n", "20210-09"]
)
def test_bad_occupation_code_is_rejected(build, code):
    detail = violation(
        altered(build(TraineeEnrolled), lambda m: m["payload"].update(occupation_code=code))
    )
    assert detail.startswith("payload.occupation_code: String should match pattern")


@pytest.mark.parametrize(
    "id_number",
    ["11010519491231002x", "11010519491231002", "11010519491231002XX", "\uff111010519491231002X"],
)
def test_bad_id_number_is_rejected_without_echoing_it(build, id_number):
    detail = violation(
        altered(build(TraineeRegisteredV1), lambda m: m["payload"].update(id_number=id_number))
    )
    assert detail.startswith("payload.id_number: String should match pattern")
    assert id_number not in detail


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (96.5, "not a JSON number"),
        ("96.55", "decimal string matching"),
        ("1e2", "decimal string matching"),
    ],
)
def test_decimals_travel_as_strings_with_one_decimal_place(build, value, rule):
    detail = violation(
        altered(build(TrainingCompleted), lambda m: m["payload"].update(total_hours=value))
    )
    assert detail.startswith("payload.total_hours:") and rule in detail


def test_score_above_100_is_rejected(build):
    detail = violation(
        altered(
            build(ProgrammePublished), lambda m: m["payload"].update(completion_pass_mark="100.5")
        )
    )
    assert detail.startswith("payload.completion_pass_mark:")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("position", "42"),
        ("position", 0),
        ("schema_version", "1"),
        ("subject_id", 7),
        ("causation_id", "not-a-uuid"),
    ],
)
def test_envelope_types_are_not_coerced(sample, field, value):
    code = "not_an_envelope" if field == "schema_version" else "schema_violation"
    assert violation(altered(sample, lambda m: m.update({field: value})), code).startswith(field)


def test_subject_id_must_be_the_payload_key(build):
    other = "00000000-0000-4000-8000-0000000000ff"
    detail = violation(altered(build(TraineeEnrolled), lambda m: m.update(subject_id=other)))
    assert "subject_id must equal payload.trainee_id" in detail


def test_producer_must_match_the_event(build):
    detail = violation(altered(build(TraineeEnrolled), lambda m: m.update(producer="subsidy")))
    assert "producer must be enrollment" in detail


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda p: p.update(name=" "), "payload.name: String should match pattern"),
        (lambda p: p.update(sex="male"), "retirement_group applies to women only"),
        (lambda p: p.update(education="大专"), "payload.education: Input should be"),
    ],
)
def test_payload_rules(build, change, rule):
    assert rule in violation(altered(build(TraineeRegisteredV1), lambda m: change(m["payload"])))


def test_hours_must_add_up(build):
    raw = altered(build(TrainingCompleted), lambda m: m["payload"].update(total_hours="90.0"))
    assert "hours_by_kind must add up to total_hours" in violation(raw)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda m: m.update(event_type="TraineeTeleported"), "unknown_event_type"),
        (lambda m: m.update(schema_version=3), "unsupported_schema_version"),
        (lambda m: m.pop("schema_version"), "not_an_envelope"),
    ],
)
def test_dispatch_errors(build, change, code):
    violation(altered(build(TraineeRegisteredV1), change), code)


@pytest.mark.parametrize(
    ("raw", "code"), [(b"{", "invalid_json"), (b"\xff", "invalid_json"), (b"[]", "not_an_envelope")]
)
def test_not_even_an_envelope(raw, code):
    violation(raw, code)
