"""Every event builds, serialises and parses back to an equal event, byte for byte."""

from heze_contracts import derive_event_id, events_topic, parse_event
from heze_contracts.enrollment import InstitutionSuspended, TraineeRegisteredV1, TrainingCompleted


def test_round_trip_is_byte_exact(sample):
    raw = sample.to_bytes()
    parsed = parse_event(raw)
    assert type(parsed) is type(sample)
    assert parsed == sample
    assert parsed.to_bytes() == raw
    assert b"\\u" not in raw, "non-ASCII text must be written as UTF-8, not escaped"


def test_build_fills_the_envelope(sample, origin):
    assert sample.event_type == sample.EVENT_TYPE
    assert sample.schema_version == sample.SCHEMA_VERSION
    assert sample.producer is sample.PRODUCER and sample.TOPIC == events_topic(sample.PRODUCER)
    assert sample.subject_id == getattr(sample.payload, sample.KEY)
    assert sample.key_bytes() == str(sample.subject_id).encode("ascii")
    assert sample.event_id == derive_event_id(sample.PRODUCER, *origin, sample.EVENT_TYPE)


def test_chinese_text_survives_byte_exact(build):
    registered, suspended = build(TraineeRegisteredV1), build(InstitutionSuspended)
    assert '"name":"𠀀王小明"'.encode() in registered.to_bytes()
    assert '"reason":"材料不全"'.encode() in suspended.to_bytes()
    assert parse_event(registered.to_bytes()).payload.name == "𠀀王小明"
    assert parse_event(suspended.to_bytes()).payload.reason == "材料不全"


def test_instants_are_utc_with_z_and_decimals_are_canonical_strings(build):
    raw = build(TrainingCompleted).to_bytes()
    assert b'"occurred_at":"2025-03-01T08:30:00Z"' in raw
    assert b'"hours_by_kind":{"theory":"64.0","practice":"32.5"}' in raw
    assert b'"total_hours":"96.5","exam_score":"88.0"' in raw
