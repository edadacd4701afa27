"""Contact phone numbers: Chinese numbers by default, stored in E.164 form (+86...)."""
from __future__ import annotations

import re
import unicodedata

from dispatch.errors import InvalidInput, Reason

# Spaces, dashes of every width, brackets and dots people write between the digits.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212()（）.．·]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
# Landline: area code 0 + 2-3 digits, then a 7-8 digit local number.
_LANDLINE = re.compile(r"0[1-9]\d{1,2}\d{7,8}")
_INTERNATIONAL = re.compile(r"\+[1-9]\d{7,14}")


def _plain(raw: str) -> str:
    """Full-width (１３８) and any other script's digits as ASCII digits, full-width signs
    (＋ （ ） －) as their ASCII forms: a phone's keyboard or input method may give either."""
    return "".join(str(unicodedata.decimal(ch)) if unicodedata.decimal(ch, None) is not None
                   else unicodedata.normalize("NFKC", ch) for ch in raw)


def normalise_phone(raw: str) -> str:
    """'138 1234 5678', '+86 138-1234-5678', '86 13812345678', '１３８１２３４５６７８',
    '0391-6612345', '(0391)6612345' -> '+8613812345678', '+863916612345'.

    Raises InvalidInput for anything that is not a plausible number.
    """
    text = _SEPARATORS.sub("", _plain(raw.strip()))
    if text.startswith("0086"):
        text = "+86" + text[4:]
    elif text.startswith("86") and _MOBILE.fullmatch(text[2:]):  # the country code without its +
        text = "+" + text
    if text.startswith("+86"):
        national = text[3:]
        if _MOBILE.fullmatch(national):
            return text
        if _LANDLINE.fullmatch("0" + national):
            return text
        if _LANDLINE.fullmatch(national):  # +86 0391 6612345: the trunk 0 written too
            return "+86" + national[1:]
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


def as_ascii(raw: str) -> str:
    """`raw` with its digits and signs read as normalise_phone reads them ('１３８' -> '138',
    '（0391）' -> '(0391)'), the separators left where they were."""
    return _plain(raw)


def bare_digits(raw: str) -> str:
    """`raw` as ASCII without the separators people write between the digits and without a
    plus sign: '+86 138-1234-5678' -> '8613812345678' (a search's reading of what was typed)."""
    return _SEPARATORS.sub("", _plain(raw)).replace("+", "")


def national_form(e164: str) -> str:
    """How people write the number at home: '+8613812345678' -> '13812345678'."""
    if e164.startswith("+86"):
        rest = e164[3:]
        # Beijing's area code 10 starts with a 1 too: +861012345678 is 010-12345678.
        return rest if _MOBILE.fullmatch(rest) else "0" + rest
    return e164
