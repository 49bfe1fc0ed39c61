import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from lms.accounts.masking import mask_id_card, mask_name, mask_phone
from lms.accounts.validation import (check_id_card, check_new_password, check_phone, id_card_check_digit,
                                     normalise_phone, parse_date)


def test_gb11643_example_number_is_valid():
    # The worked example of GB 11643-1999 ends in X.
    assert check_id_card("11010519491231002X") is None


def test_wrong_check_digit_names_the_expected_one():
    assert "应为 X" in check_id_card("110105194912310021")


def test_impossible_birth_date_is_refused():
    first17 = "11010519490231002"
    assert "出生日期" in check_id_card(first17 + id_card_check_digit(first17))


def test_short_or_letters_refused():
    assert "18 位" in check_id_card("11010519491231")
    assert "18 位" in check_id_card("1101051949123100AX")


@given(st.dates(min_value=dt.date(1940, 1, 1), max_value=dt.date(2008, 12, 31)),
       st.integers(min_value=0, max_value=999))
def test_any_generated_number_passes_and_any_changed_digit_fails(birth, serial):
    first17 = f"360121{birth:%Y%m%d}{serial:03d}"
    number = first17 + id_card_check_digit(first17)
    assert check_id_card(number) is None
    changed = str((int(number[16]) + 1) % 10)
    assert check_id_card(number[:16] + changed + number[17]) is not None


def test_phone_rules():
    assert check_phone("13812345678") is None
    assert check_phone(normalise_phone("+86 138-1234-5678")) is None
    assert check_phone("12812345678") is not None
    assert check_phone("1381234567") is not None


def test_dates_as_rosters_write_them():
    assert parse_date("2026-06-03") == dt.date(2026, 6, 3)
    assert parse_date("2026/6/3") == dt.date(2026, 6, 3)
    assert parse_date("2026年6月3日") == dt.date(2026, 6, 3)
    assert parse_date("2026-02-30") is None
    assert parse_date("明年") is None


def test_password_policy_refuses_the_obvious():
    assert check_new_password("short") is not None
    assert check_new_password("12345678") is not None
    assert check_new_password("aaaaaaaaaa") is not None
    assert check_new_password("w001-secret-pass", username="w001") is not None
    assert check_new_password("x-31002X-strong", id_card="11010519491231002X") is not None
    assert check_new_password("桃源村-2026-春") is None


def test_masks_follow_the_api_contract():
    assert mask_name("张三") == "张*"
    assert mask_name("张小明") == "张*明"
    assert mask_name("欧阳小华") == "欧**华"
    assert mask_id_card("11010519491231002X") == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
