"""The resident ID number checked as it is typed (GB 11643-1999), for the registration form's
hint. The enrollment service checks it again on registration and stays the authority; this
copy only saves a round trip with a whole form."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from heze_contracts.enums import Sex

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"


@dataclass(frozen=True)
class IdCheck:
    valid: bool
    message: str
    sex: Sex | None = None
    birth_date: date | None = None


def normalise(text: str) -> str:
    """As the service reads it: full-width digits and Ｘ folded, spaces dropped, x upper-cased."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def check_character(first_17_digits: str) -> str:
    total = sum(int(d) * w for d, w in zip(first_17_digits, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def check(text: str) -> IdCheck:
    number = normalise(text)
    if not number:
        return IdCheck(False, "请输入 18 位身份证号码")
    head = number[:17]
    last = number[17:]
    if (
        not (head.isascii() and head.isdigit())
        or len(number) > 18
        or last not in ("", *"0123456789X")
    ):
        return IdCheck(False, "前 17 位须为数字，末位为数字或 X")
    if len(number) < 18:
        return IdCheck(False, f"已输入 {len(number)} 位，还差 {18 - len(number)} 位")
    if number[17] != check_character(head):
        return IdCheck(False, "校验码不正确，请核对号码")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return IdCheck(False, "号码中的出生日期不存在")
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return IdCheck(True, f"号码有效：{born:%Y年%m月%d日}出生，{sex.label}", sex, born)
