"""Contact phone numbers: Chinese numbers by default, stored in E.164 form (+86...)."""
from __future__ import annotations

import re

from dispatch.errors import InvalidInput, Reason

_SEPARATORS = re.compile(r"[\s\-()（）]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
# Landline: area code 0 + 2-3 digits, then a 7-8 digit local number.
_LANDLINE = re.compile(r"0[1-9]\d{1,2}\d{7,8}")
_INTERNATIONAL = re.compile(r"\+[1-9]\d{7,14}")


def normalise_phone(raw: str) -> str:
    """'138 1234 5678', '+86 138-1234-5678', '0391-6612345' -> '+8613812345678', '+863916612345'.

    Raises InvalidInput for anything that is not a plausible number.
    """
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("0086"):
        text = "+86" + text[4:]
    if text.startswith("+86"):
        national = text[3:]
        if _MOBILE.fullmatch(national):
            return text
        if _LANDLINE.fullmatch("0" + national):
            return text
        raise InvalidInput("phone", Reason.INVALID_PHONE, value=raw, kind="chinese")
    if text.startswith("+"):
        if _INTERNATIONAL.fullmatch(text):
            return text
        raise InvalidInput("phone", Reason.INVALID_PHONE, value=raw, kind="international")
    if _MOBILE.fullmatch(text):
        return "+86" + text
    if _LANDLINE.fullmatch(text):
        return "+86" + text[1:]
    raise InvalidInput("phone", Reason.INVALID_PHONE, value=raw)


def national_form(e164: str) -> str:
    """How people write the number at home: '+8613812345678' -> '13812345678'."""
    if e164.startswith("+86"):
        rest = e164[3:]
        return rest if rest.startswith("1") else "0" + rest
    return e164
