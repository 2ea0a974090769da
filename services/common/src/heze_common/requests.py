"""What every service's request bodies and parameters share."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic import Field as Constraint
from pydantic_core import PydanticCustomError


class Body(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


Mark = Annotated[Decimal, Constraint(ge=0, le=100, decimal_places=1)]
"""A score out of 100 with at most one decimal place."""

_CONTROL_CHARACTERS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
"""Category Cc (a closed set, never added to) except tab, line feed and carriage return."""
_LINE_BREAKS = "\t\n\r"
_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""The bidirectional formatting characters (category Cf): they make text display otherwise than
it is stored (U+202E writes what follows right to left), so a name or a reason could read
differently on a screen or certificate from what was recorded. Other format characters stay:
U+200D joins emoji sequences (👨‍👩‍👧), which free text keeps."""
_SURROGATES = "\ud800-\udfff"
"""Lone surrogates (Cs, from JSON escapes such as \\ud800): no UTF-8 text can hold them."""
_REFUSED_IN_ONE_LINE = re.compile(
    f"[{_CONTROL_CHARACTERS}{_LINE_BREAKS}{_BIDI_CONTROLS}{_SURROGATES}]"
)
_REFUSED_IN_PARAGRAPHS = re.compile(f"[{_CONTROL_CHARACTERS}{_BIDI_CONTROLS}{_SURROGATES}]")


def _without(refused: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if found := refused.search(value):
            raise PydanticCustomError(
                "control_character",
                "text may not contain {what}: U+{code} at position {position}",
                {"what": what, "code": f"{ord(found.group()):04X}", "position": found.start()},
            )
        return value

    return check


_one_line = _without(
    _REFUSED_IN_ONE_LINE, "control characters (such as NUL, a tab or a line break) or bidi controls"
)
_paragraphs = _without(
    _REFUSED_IN_PARAGRAPHS, "control characters other than tab and line breaks, or bidi controls"
)

ShortText = Annotated[
    str, StringConstraints(pattern=r"\S", max_length=200), AfterValidator(_one_line)
]
"""Free text that is not blank, at most 200 characters, on one line: names, titles, places,
references. Control characters (NUL, tab, line breaks, ...) and bidi controls are refused."""
LongText = Annotated[
    str, StringConstraints(pattern=r"\S", max_length=4000), AfterValidator(_paragraphs)
]
"""Free text that is not blank, at most 4,000 characters: reasons, a signed commitment. Tab and
line breaks are kept; other control characters (NUL, ...) and bidi controls are refused."""
ReasonList = Annotated[list[LongText], Constraint(min_length=1, max_length=20)]
"""One to twenty reasons, e.g. for returning a case."""

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}.*")


def _date_text(value: object) -> object:
    # Pydantic alone would also read a number such as 0 as a Unix timestamp (1970-01-01).
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise PydanticCustomError("date_format", "Input should be a date written YYYY-MM-DD")


def _datetime_text(value: object) -> object:
    if isinstance(value, datetime) or isinstance(value, str) and _ISO_DATETIME.fullmatch(value):
        return value
    raise PydanticCustomError(
        "datetime_format", "Input should be a moment written YYYY-MM-DDTHH:MM:SS with its offset"
    )


IsoDate = Annotated[date, BeforeValidator(_date_text)]
"""A calendar date written YYYY-MM-DD; 2026-02-30 and 2026-13-01 are refused."""
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_datetime_text)]
"""An instant written in ISO 8601 with its UTC offset (a moment without one is ambiguous)."""

_NAME_CHARACTERS = "0-9A-Za-zÀ-ÖØ-öø-ɏ〇㐀-䶿一-鿿豈-﫿\U00020000-\U0003fffd"
"""Chinese ideographs of every block (planes 2 and 3 whole, so extensions newer than any Unicode
table are kept), Latin letters for foreign names, and the digits that test data gives names."""
_NAME_PATTERN = re.compile(f"[{_NAME_CHARACTERS}]+(?:[·・ '.-]+[{_NAME_CHARACTERS}]+)*")
_NAME_RULE = (
    "a name is written in Chinese characters (of any extension) or Latin letters, with"
    " · - ' . or spaces only between its parts; no emoji or other symbols"
)


def _person_name(value: str) -> str:
    if not _NAME_PATTERN.fullmatch(value):
        raise PydanticCustomError("person_name", _NAME_RULE)
    return value


PersonName = Annotated[
    str,
    StringConstraints(max_length=50),
    AfterValidator(_one_line),  # before the name rule, so the refusal says what is wrong
    AfterValidator(_person_name),
    # The rule in words: as a pattern, the ideograph ranges make request generators crawl.
    WithJsonSchema({"type": "string", "maxLength": 50, "description": _NAME_RULE.capitalize()}),
]
"""A person's name as on an identity document: rare characters such as 𠀀 or 䶮 are kept exactly."""
