"""Constrained value types used across payloads, so each rule is stated once."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, GetCoreSchemaHandler, StringConstraints, WithJsonSchema
from pydantic import Field as Constraint
from pydantic_core import CoreSchema, core_schema

from heze_contracts import enums


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must be timezone-aware UTC; naive datetimes are rejected")
    if value.utcoffset():
        raise ValueError("must be UTC (offset Z or +00:00); convert before publishing")
    return value.astimezone(UTC)


UtcDatetime = Annotated[
    datetime,
    AfterValidator(_require_utc),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": "(Z|[+-]00:00)$"}),
]
"""An instant, always in UTC; serialised as ISO 8601 with a `Z` offset."""

_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class _DecimalText:
    """Carries a Decimal as a JSON string such as "12.5", never a JSON number, so no consumer
    reads it through a binary float; normalises to one decimal place ("12" -> "12.0") so the
    serialised form is canonical."""

    pattern: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        canonical = core_schema.no_info_after_validator_function(
            lambda value: value.quantize(_TENTH), handler(source)
        )
        return core_schema.no_info_before_validator_function(self._parse, canonical)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: Any) -> dict[str, Any]:
        return {"type": "string", "pattern": self.pattern}

    def _parse(self, value: object) -> object:
        # Parsed here because strict mode accepts a before-validator's result only as a Decimal.
        if isinstance(value, int | float):
            raise ValueError('must be a decimal string such as "12.5", not a JSON number')
        if isinstance(value, str):
            if not re.fullmatch(self.pattern, value):
                raise ValueError(f"must be a decimal string matching {self.pattern}")
            return Decimal(value)
        return value


Hours = Annotated[
    Decimal, Constraint(ge=0, decimal_places=1), _DecimalText(r"^(0|[1-9][0-9]*)(\.[0-9])?$")
]
"""Training hours, at most one decimal place."""
Score = Annotated[
    Decimal,
    Constraint(ge=0, le=100, decimal_places=1),
    _DecimalText(r"^(100(\.0)?|[1-9]?[0-9](\.[0-9])?)$"),
]
"""A mark out of 100 with at most one decimal place."""

Text = Annotated[str, StringConstraints(pattern=r"\S")]
"""Free text that is not blank; Chinese and other non-ASCII text is kept as is."""
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
"""A machine-readable reason code in lower snake-case, e.g. `missing_training_hours`."""
# [0-9] rather than \d: the regex engine's \d also matches full-width and other Unicode digits.
OccupationCode = Annotated[str, StringConstraints(pattern=r"^[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{2}$")]
"""National occupation code, e.g. 2-02-10-09."""
IdNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{17}[0-9X]$")]
"""18-character resident ID number (GB 11643-1999); the check character is verified upstream."""
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{4,19}$")]
"""Mobile or landline number, e.g. 13800000000 or 0532-86980900."""

Count = Annotated[int, Constraint(ge=1)]
AmountFen = Annotated[int, Constraint(gt=0)]
"""Money in fen (0.01 yuan): integers, so no rounding ever happens on the wire."""
Year = Annotated[int, Constraint(ge=2000, le=2100)]
Fields = Annotated[list[enums.Field], Constraint(min_length=1)]
Reasons = Annotated[list[Text], Constraint(min_length=1)]
