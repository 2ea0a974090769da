"""Constrained value types used across payloads, so each rule is stated once."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Ge, Gt, Le, MinLen
from pydantic import AfterValidator, BeforeValidator, StringConstraints, WithJsonSchema
from pydantic import Field as Constraint

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


def _tenths(pattern: str, *bounds: Any) -> Any:
    """A Decimal with at most one decimal place, carried as a JSON string such as "12.5".

    A string, never a JSON number, so no consumer reads it through a binary float; values are
    normalised to exactly one decimal place ("12" -> "12.0") so serialisation is canonical.
    """
    wire = re.compile(pattern)

    def wire_form(value: object) -> object:
        # Parsed here: after a before-validator pydantic treats the value as Python input,
        # which strict mode accepts only as a Decimal.
        if isinstance(value, int | float):
            raise ValueError('must be a decimal string such as "12.5", not a JSON number')
        if isinstance(value, str):
            if not wire.fullmatch(value):
                raise ValueError(f"must be a decimal string matching {pattern}")
            return Decimal(value)
        return value

    return Annotated[
        Decimal,
        Constraint(decimal_places=1),
        *bounds,
        BeforeValidator(wire_form),
        AfterValidator(lambda value: value.quantize(_TENTH)),
        WithJsonSchema({"type": "string", "pattern": pattern}),
    ]


Hours = _tenths(r"^(0|[1-9][0-9]*)(\.[0-9])?$", Ge(0))
Score = _tenths(r"^(100(\.0)?|[1-9]?[0-9](\.[0-9])?)$", Ge(0), Le(100))
"""A mark out of 100 with at most one decimal place."""

# [0-9] rather than \d: the regex engine's \d also matches full-width and other Unicode digits.
Text = Annotated[str, StringConstraints(pattern=r"\S")]
"""Free text that is not blank; Chinese and other non-ASCII text is kept as is."""
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
"""A machine-readable reason code in lower snake-case, e.g. `missing_training_hours`."""
OccupationCode = Annotated[str, StringConstraints(pattern=r"^[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{2}$")]
"""National occupation code, e.g. 2-02-10-09."""
IdNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{17}[0-9X]$")]
"""18-character resident ID number (GB 11643-1999); the check character is verified upstream."""
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{4,19}$")]
"""Mobile or landline number, e.g. 13800000000 or 0532-86980900."""

Count = Annotated[int, Ge(1)]
AmountFen = Annotated[int, Gt(0)]
"""Money in fen (0.01 yuan): integers, so no rounding ever happens on the wire."""
Year = Annotated[int, Ge(2000), Le(2100)]
Fields = Annotated[list[enums.Field], MinLen(1)]
Reasons = Annotated[list[Text], MinLen(1)]
