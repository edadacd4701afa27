"""Whole numbers from forms and queries: ASCII digits that the database's integer can hold."""
from __future__ import annotations

import pytest

from dispatch.actions import optional_int
from dispatch.errors import InvalidInput, Reason
from dispatch.numbers import MAX_INT, MIN_INT, signed_number, whole_number


@pytest.mark.parametrize("raw, number", [("0", 0), ("7", 7), (" 12 ", 12), ("2147483647", MAX_INT)])
def test_ascii_digits_are_a_number(raw: str, number: int) -> None:
    assert whole_number(raw) == number


@pytest.mark.parametrize("raw", ["", " ", "-1", "+1", "1.0", "²", "①", "١٢", "１２", "1e3", "2147483648",
                                 "99999999999999999999", "9" * 5000])
def test_other_digits_or_a_number_past_the_ceiling_are_none(raw: str) -> None:
    assert whole_number(raw) is None


def test_a_lower_ceiling_is_kept() -> None:
    assert whole_number("999999", high=999_999) == 999_999
    assert whole_number("1000000", high=999_999) is None


@pytest.mark.parametrize("value, reason", [("²", Reason.NOT_INTEGER), ("١", Reason.NOT_INTEGER), ("--1", Reason.NOT_INTEGER),
                                           ("-", Reason.NOT_INTEGER), ("-１", Reason.NOT_INTEGER),
                                           (1.5, Reason.NOT_INTEGER), (True, Reason.NOT_INTEGER),
                                           ("2147483648", Reason.OUT_OF_RANGE), ("9" * 5000, Reason.OUT_OF_RANGE),
                                           ("-2147483649", Reason.OUT_OF_RANGE), ("-" + "9" * 5000, Reason.OUT_OF_RANGE),
                                           (2**31, Reason.OUT_OF_RANGE), (-(2**31) - 1, Reason.OUT_OF_RANGE),
                                           (10**30, Reason.OUT_OF_RANGE)])
def test_an_action_number_past_the_database_integer_is_refused(value: object, reason: Reason) -> None:
    with pytest.raises(InvalidInput) as refused:
        optional_int({"article_id": value}, "article_id")
    assert refused.value.field == "article_id" and refused.value.reason is reason


def test_an_action_number_outside_the_callers_range_says_that_range() -> None:
    with pytest.raises(InvalidInput) as refused:
        optional_int({"days": "99999999999"}, "days", low=1, high=60)
    assert refused.value.reason is Reason.OUT_OF_RANGE and refused.value.params == {"low": 1, "high": 60}


def test_an_action_number_that_fits_is_read() -> None:
    assert optional_int({"days": " 5 "}, "days") == 5
    assert optional_int({"days": MAX_INT}, "days") == MAX_INT
    assert optional_int({"days": ""}, "days") is None


@pytest.mark.parametrize("raw, number", [("-3", -3), ("+3", 3), (" -0 ", 0), ("-2147483648", MIN_INT),
                                         ("2147483648", MAX_INT + 1), ("-2147483649", MIN_INT - 1),
                                         ("-" + "9" * 5000, MIN_INT - 1), ("--3", None), ("-", None), ("- 3", None),
                                         ("-１", None), ("3-", None)])
def test_a_signed_number_is_read_with_its_sign_and_past_the_database_just_past_it(raw: str, number: int | None) -> None:
    assert signed_number(raw) == number


def test_a_negative_count_is_out_of_the_callers_range_not_a_non_integer() -> None:
    with pytest.raises(InvalidInput) as refused:
        optional_int({"days": "-3"}, "days", low=1, high=60)
    assert refused.value.reason is Reason.OUT_OF_RANGE and refused.value.params == {"low": 1, "high": 60}
