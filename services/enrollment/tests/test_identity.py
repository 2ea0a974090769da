from datetime import date

import pytest

from heze_common.errors import InvalidInput
from heze_contracts.enums import Sex
from heze_enrollment.domain.identity import ResidentId


@pytest.mark.parametrize(
    ("number", "birth_date", "sex"),
    [
        ("11010519491231002X", date(1949, 12, 31), Sex.FEMALE),
        ("440524188001010014", date(1880, 1, 1), Sex.MALE),
    ],
)
def test_the_valid_examples_parse_with_birth_date_and_sex(
    number: str, birth_date: date, sex: Sex
) -> None:
    identity = ResidentId.parse(number)
    assert (identity.number, identity.birth_date, identity.sex) == (number, birth_date, sex)


def test_a_lower_case_check_character_is_accepted() -> None:
    assert ResidentId.parse("11010519491231002x").number == "11010519491231002X"


@pytest.mark.parametrize(
    "typed",
    [
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and X
        "１１０１０５１９４９１２３１００２ｘ",
        "110105１９４９１２３１002X",  # half the number typed in full-width mode
        " 110105 19491231 002X\u3000",  # spaces, the ideographic one too
    ],
)
def test_full_width_digits_and_spaces_from_chinese_input_methods_are_normalised(typed: str) -> None:
    assert ResidentId.parse(typed).number == "11010519491231002X"


@pytest.mark.parametrize(
    "typed", ["١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "11010519491231002Y", "1101051949123100２"]
)
def test_other_digit_systems_and_other_characters_are_still_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        ResidentId.parse(typed)


@pytest.mark.parametrize("position", range(18))
def test_any_single_changed_character_is_refused(position: int) -> None:
    valid = "11010519491231002X"
    replacement = "0" if valid[position] != "0" else "1"
    mutated = valid[:position] + replacement + valid[position + 1 :]
    with pytest.raises(InvalidInput) as refusal:
        ResidentId.parse(mutated)
    assert (refusal.value.code, refusal.value.field) == ("invalid_id_number", "id_number")


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("1101051949123100", "17 digits"),
        ("11010519491231002XX", "17 digits"),
        ("11010519491331002X", "check character"),
        ("110105194902300019", "check character"),
    ],
)
def test_malformed_numbers_are_refused_naming_the_rule(number: str, rule: str) -> None:
    with pytest.raises(InvalidInput, match=rule):
        ResidentId.parse(number)


def test_an_impossible_birth_date_with_a_valid_check_character_is_refused() -> None:
    number = ResidentId.compose("110105", date(1949, 12, 31), 2)[:10] + "0230" + "001"
    from heze_enrollment.domain.identity import check_character

    with pytest.raises(InvalidInput, match="not a date"):
        ResidentId.parse(number + check_character(number))


def test_composed_numbers_parse_back() -> None:
    number = ResidentId.compose("371702", date(1995, 6, 15), 123)
    identity = ResidentId.parse(number)
    assert (identity.birth_date, identity.sex) == (date(1995, 6, 15), Sex.MALE)
