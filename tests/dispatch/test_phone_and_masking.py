"""Contact numbers are normalised at intake and masked on public views."""
from __future__ import annotations

import pytest

from dispatch.errors import InvalidInput
from dispatch.masking import mask_name, mask_phone, mask_text
from dispatch.phone import national_form, normalise_phone


@pytest.mark.parametrize("raw, expected", [
    ("13812345678", "+8613812345678"),
    ("138 1234 5678", "+8613812345678"),
    ("+86 138-1234-5678", "+8613812345678"),
    ("008613812345678", "+8613812345678"),
    ("0391-6612345", "+863916612345"),
    ("(010) 12345678", "+861012345678"),
    ("+14155550100", "+14155550100"),
])
def test_numbers_are_normalised(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "1381234567", "23812345678", "abc", "+86 999", "138123456789"])
def test_malformed_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_phone(raw)
    assert caught.value.field == "phone"


def test_national_form_is_what_people_dial() -> None:
    assert national_form("+8613812345678") == "13812345678"
    assert national_form("+863916612345") == "03916612345"


def test_masks_keep_just_enough_to_recognise_ones_own() -> None:
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_name("张三丰") == "张**"
    assert mask_name("李四") == "李*"


def test_free_text_loses_phone_numbers_id_numbers_and_the_callers_name() -> None:
    text = "我是张三丰，电话13812345678，身份证410881199001011234，座机0391-6612345，请联系我。"
    masked = mask_text(text, names=["张三丰"])
    for secret in ("13812345678", "410881199001011234", "6612345", "张三丰"):
        assert secret not in masked
    assert "138****5678" in masked and "张**" in masked
