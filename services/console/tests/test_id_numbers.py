"""The registration form's hint: the ID number checked as it is typed."""

from __future__ import annotations

from datetime import date

from heze_console.id_numbers import check, check_character
from heze_contracts.enums import Sex


def test_valid_numbers_give_birth_date_and_sex() -> None:
    assert check("11010519491231002X").valid
    result = check("440524188001010014")
    assert (result.valid, result.birth_date, result.sex) == (True, date(1880, 1, 1), Sex.MALE)
    assert result.message == "号码有效：1880年01月01日出生，男"


def test_input_method_slips_are_forgiven_as_the_service_forgives_them() -> None:
    assert check("１１０１０５ １９４９１２３１００２ｘ").valid


def test_each_kind_of_mistake_says_what_is_wrong() -> None:
    assert check("").message == "请输入 18 位身份证号码"
    assert check("1101051949").message == "已输入 10 位，还差 8 位"
    assert check("11010519491231002Y").message == "前 17 位须为数字，末位为数字或 X"
    assert check("1101051949123100211").message == "前 17 位须为数字，末位为数字或 X"
    assert check("110105194912310021").message == "校验码不正确，请核对号码"
    first_17 = "11010519490230002"  # 30 February
    assert check(first_17 + check_character(first_17)).message == "号码中的出生日期不存在"
