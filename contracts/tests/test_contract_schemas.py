"""The committed JSON Schemas are the models' schemas: one file per catalogued event version."""

import inspect
import json
import re

from heze_contracts import (
    CATALOGUE,
    ENROLLMENT_EVENTS,
    IntegrationEvent,
    assessment,
    certification,
    dlq_topic,
    enrollment,
    enums,
    events_of_topic,
    events_topic,
    subsidy,
)
from heze_contracts.enums import Producer
from heze_contracts.schemas import SCHEMA_DIR, check, main, render, schema_of, schema_path


def test_committed_schemas_equal_the_models():
    assert check() == []


def test_every_catalogued_event_has_a_file_and_no_file_is_orphaned():
    files = set(SCHEMA_DIR.glob("*/*.json"))
    assert files == {schema_path(event) for event in CATALOGUE.values()}


def test_files_are_pretty_sorted_and_keep_non_ascii():
    path = schema_path(enrollment.ProgrammePublished)
    text = path.read_text(encoding="utf-8")
    assert text == render(json.loads(text)) and text.endswith("}\n")
    assert "招生简章" in text


def test_event_type_and_schema_version_are_constants_in_the_schema():
    properties = schema_of(enrollment.TraineeRegistered)["properties"]
    assert properties["event_type"]["const"] == "TraineeRegistered"
    assert properties["schema_version"]["const"] == 2


def test_catalogue_holds_every_declared_event_class_once():
    modules = (enrollment, assessment, certification, subsidy)
    declared = {
        cls
        for module in modules
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, IntegrationEvent) and hasattr(cls, "EVENT_TYPE")
    }
    assert set(CATALOGUE.values()) == declared
    assert len(CATALOGUE) == sum(len(module.EVENTS) for module in modules)


def test_topics():
    assert events_topic(Producer.ENROLLMENT) == ENROLLMENT_EVENTS == "enrollment.events.v1"
    assert dlq_topic("subsidy") == "subsidy.dlq"
    for producer in Producer:
        events = events_of_topic(events_topic(producer))
        assert events and all(event.PRODUCER is producer for event in events)


def test_cli_check_succeeds(capsys):
    assert main(["check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_enum_values_are_snake_case_english_with_chinese_labels():
    vocabularies = [getattr(enums, name) for name in enums.__all__]
    for vocabulary in vocabularies:
        for member in vocabulary:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", member.value)
            assert re.search(r"[\u4e00-\u9fff]", member.label)
    assert len(enums.Field) == 10 and enums.Field.BIG_DATA.label == "大数据"
    assert enums.Education("college").label == "大专"
