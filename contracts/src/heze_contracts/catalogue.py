"""Every published event class by (event_type, schema_version), and parsing of raw messages."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from heze_contracts import assessment, certification, enrollment, subsidy
from heze_contracts.envelope import IntegrationEvent

CATALOGUE: Mapping[tuple[str, int], type[IntegrationEvent]] = MappingProxyType(
    {
        (event.EVENT_TYPE, event.SCHEMA_VERSION): event
        for module in (enrollment, assessment, certification, subsidy)
        for event in module.EVENTS
    }
)

ErrorCode = Literal[
    "invalid_json",
    "not_an_envelope",
    "unknown_event_type",
    "unsupported_schema_version",
    "schema_violation",
]


class ContractError(ValueError):
    """A message that breaks the contract. `detail` names fields and rules, never payload values:
    they may be personal data, and the detail goes to logs and the DLQ."""

    def __init__(self, code: ErrorCode, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class _Header(BaseModel):
    """Just enough of the envelope to choose the event class."""

    model_config = ConfigDict(strict=True)

    event_type: str
    schema_version: int


def events_of_topic(topic: str) -> list[type[IntegrationEvent]]:
    return [event for event in CATALOGUE.values() if event.TOPIC == topic]


def parse_event(raw: bytes) -> IntegrationEvent:
    """Validate a message strictly against its event class, or raise ContractError."""
    try:
        header = _Header.model_validate_json(raw)
    except ValidationError as error:
        code: ErrorCode = "invalid_json" if _is_json_error(error) else "not_an_envelope"
        raise ContractError(code, _describe(error)) from error
    versions = sorted(
        version for event_type, version in CATALOGUE if event_type == header.event_type
    )
    if not versions:
        raise ContractError(
            "unknown_event_type", f"event_type {header.event_type!r} is not in the catalogue"
        )
    if header.schema_version not in versions:
        raise ContractError(
            "unsupported_schema_version",
            f"{header.event_type} v{header.schema_version} is not supported; known {versions}",
        )
    try:
        return CATALOGUE[header.event_type, header.schema_version].model_validate_json(raw)
    except ValidationError as error:
        raise ContractError("schema_violation", _describe(error)) from error


def _is_json_error(error: ValidationError) -> bool:
    return any(item["type"] == "json_invalid" for item in error.errors())


def _describe(error: ValidationError) -> str:
    # Location and rule only: input values may be personal data and must not reach logs.
    return "; ".join(
        f"{'.'.join(map(str, item['loc'])) or '<message>'}: {item['msg']}"
        for item in error.errors()
    )
