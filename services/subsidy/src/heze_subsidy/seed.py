"""Example subsidy standards for the embedded and demo mode. These are EXAMPLE FIGURES, not the
city's: the city bureau sets the real amounts through the API."""

from __future__ import annotations

from datetime import date

from heze_contracts.enums import Level

EXAMPLE_OCCUPATIONS = (
    "2-02-10-09",
    "2-02-10-10",
    "2-02-10-11",
    "2-02-10-12",
    "2-02-07-13",
    "2-02-10-13",
    "2-02-10-14",
    "2-02-10-15",
)
EXAMPLE_AMOUNTS_FEN = {Level.JUNIOR: 150_000, Level.INTERMEDIATE: 200_000, Level.SENIOR: 300_000}
EXAMPLE_EFFECTIVE_FROM = date(2023, 4, 27)
