"""Personal data never appears in logs: ID numbers and phone numbers are masked in every logged
string, including errors that quote them."""

from __future__ import annotations

import pytest
import structlog

from heze_common.observability import configure_logging, redact

ID_NUMBER, PHONE = "11010519491231002X", "13912345678"


def test_logged_strings_are_scrubbed_of_id_and_phone_numbers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("privacy-test")
    log = structlog.get_logger("privacy")
    log.info("registration refused", detail=f"person {ID_NUMBER} with phone {PHONE} is retired")
    try:
        raise RuntimeError(f"cannot process trainee {ID_NUMBER}")
    except RuntimeError:
        log.exception("handler failed", reason=repr(RuntimeError(ID_NUMBER)))
    output = capsys.readouterr().out
    assert ID_NUMBER not in output and PHONE not in output
    assert "110***************" in output and "139********" in output


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (
            "order 1234567890123456789012",
            "1234567890123456789012",
        ),  # longer digit runs are not ID numbers
        ("offset 12345", "12345"),
        ("2026-11-27T02:00:00", "2026-11-27T02:00:00"),
    ],
)
def test_other_numbers_are_left_alone(text: str, kept: str) -> None:
    assert kept in redact(text)
