"""Resident identity numbers (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit
sequence (odd = male), and a check character "10X98765432"[sum(digit_i * weight_i) mod 11]."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from heze_common.errors import InvalidInput
from heze_contracts.enums import Sex

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"


def check_character(first_17_digits: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first_17_digits, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def normalise(text: str) -> str:
    """The number as typed, without the slips of Chinese input methods: full-width digits and
    Ｘ (NFKC folds them to ASCII), spaces anywhere (also the ideographic one), a lower-case x."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: Sex

    @classmethod
    def parse(cls, text: str, field: str = "id_number") -> ResidentId:
        number = normalise(text)
        if len(number) != 18 or not number[:17].isascii() or not number[:17].isdigit():
            raise InvalidInput(
                "invalid_id_number", "an ID number has 17 digits and a check character", field=field
            )
        if number[17] != check_character(number[:17]):
            raise InvalidInput(
                "invalid_id_number", "the ID number's check character does not match", field=field
            )
        try:
            birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            raise InvalidInput(
                "invalid_id_number", "the ID number's birth date is not a date", field=field
            ) from None
        sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
        return cls(number=number, birth_date=birth_date, sex=sex)

    @staticmethod
    def compose(region: str, birth_date: date, sequence: int) -> str:
        """A valid number for a region code, birth date and 3-digit sequence (odd = male)."""
        first_17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
        return first_17 + check_character(first_17)
