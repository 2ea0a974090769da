"""The checker catches changes that would reject messages valid under a published schema."""

from typing import Any, Literal

from heze_contracts import ContractModel
from heze_contracts.assessment import AssessmentPassedV1 as AssessmentPassed
from heze_contracts.assessment import AssessmentPassedV1Payload as AssessmentPassedPayload
from heze_contracts.assessment import Holder
from heze_contracts.schemas import check, incompatibilities, schema_of, schema_path, write
from heze_contracts.values import Text
from pydantic import create_model


def variant(drop: str | None = None, **fields: Any) -> type[AssessmentPassed]:
    """AssessmentPassed with its payload changed: `drop` removed, `fields` added or retyped."""
    kept = {
        name: (info.annotation, info)
        for name, info in AssessmentPassedPayload.model_fields.items()
        if name != drop and name not in fields
    }
    payload_model = create_model(
        "AssessmentPassedPayload", __base__=ContractModel, **kept, **fields
    )

    class Changed(AssessmentPassed):
        payload: payload_model  # type: ignore[valid-type]

    return Changed


def problems_of(event: type[AssessmentPassed]) -> list[str]:
    return incompatibilities(schema_of(AssessmentPassed), schema_of(event))


class RetypedHolder(Holder):
    birth_date: int  # type: ignore[assignment]


def test_unchanged_model_is_compatible():
    assert problems_of(variant()) == []


def test_new_optional_field_is_compatible():
    assert problems_of(variant(remark=(Text | None, None))) == []


def test_removed_field_is_caught():
    assert problems_of(variant(drop="session_id")) == ["$.payload.session_id: property removed"]


def test_retyped_field_is_caught():
    assert problems_of(variant(theory_score=(int, ...))) == [
        "$.payload.theory_score: type string changed to integer"
    ]


def test_new_required_field_is_caught():
    assert problems_of(variant(room=(str, ...))) == ["$.payload.room: property became required"]


def test_retyped_field_of_nested_payload_model_is_caught():
    assert problems_of(variant(holder=(RetypedHolder, ...))) == [
        "$.payload.holder.birth_date: type string changed to integer"
    ]


def test_enum_narrowing_is_caught():
    [problem] = problems_of(variant(level=(Literal["junior"], ...)))
    assert problem.startswith(
        "$.payload.level: const/enum no longer accepts ['intermediate', 'senior']"
    )


def test_write_refuses_an_incompatible_change_and_accepts_a_compatible_one(tmp_path):
    path = schema_path(AssessmentPassed, tmp_path)
    assert write(tmp_path, [AssessmentPassed]) == ([path], [])
    published = path.read_text(encoding="utf-8")
    compatible = variant(remark=(Text | None, None))
    assert check(tmp_path, [compatible]) == [f"{path}: out of date"]

    written, [refusal] = write(tmp_path, [variant(drop="session_id")])
    assert written == []
    assert "$.payload.session_id: property removed" in refusal and "schema_version 2" in refusal
    assert path.read_text(encoding="utf-8") == published

    assert write(tmp_path, [compatible]) == ([path], [])
    assert check(tmp_path, [compatible]) == []
    # Unknown fields are rejected, so dropping the new optional field again is incompatible.
    assert "$.payload.remark: property removed" in check(tmp_path, [AssessmentPassed])[0]
