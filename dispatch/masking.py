"""Masking of personal data on public views: phone numbers, ID-card numbers and names."""
from __future__ import annotations

import re
import unicodedata

# People write numbers in many ways: full-width digits (１３８…), dots, spaces or dashes
# anywhere (138.0013.8000, 138 0013 8000, 4108 8119 9001 0112 34), a +86 / 0086 prefix.
# So a digit may be followed by up to three separator characters ("138 - 0013") before the next.
_D = "[0-9\uff10-\uff19]"
_SEP = "[\\s\\-.·•_/()（）\uff0d\uff0e\u2010-\u2015]{0,3}"
_START, _END = f"(?<!{_D})", f"(?!{_D})"
_PLUS = "(?:[+\uff0b]|00|\uff10\uff10)"
_EIGHTY_SIX = "[8\uff18][6\uff16]"
# 18-digit resident ID (the last may be X) and the old 15-digit form.
_ID_CARD = re.compile(f"{_START}{_D}(?:{_SEP}{_D}){{16}}{_SEP}[0-9\uff10-\uff19Xx\uff38\uff58]{_END}"
                      f"|{_START}{_D}(?:{_SEP}{_D}){{14}}{_END}")
_MOBILE = re.compile(f"{_START}(?:{_PLUS}?{_EIGHTY_SIX}{_SEP})?[1\uff11]{_SEP}[3-9\uff13-\uff19]"
                     f"(?:{_SEP}{_D}){{9}}{_END}")
# Landline: 0 + a 2-3 digit area code + a 7-8 digit number, or +86 and the same without the 0.
_LANDLINE = re.compile(f"{_START}(?:[0\uff10]|{_PLUS}?{_EIGHTY_SIX}{_SEP}){_SEP}[1-9\uff11-\uff19]"
                       f"(?:{_SEP}{_D}){{8,10}}{_END}")
_ANY_DIGIT = re.compile(f"{_D}|[Xx\uff38\uff58]")


def _digits(text: str) -> str:
    """The digits of a match, as ASCII (X for an ID's check character)."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else "X" for ch in _ANY_DIGIT.findall(text))


def _masked_id(match: re.Match[str]) -> str:
    digits = _digits(match.group(0))
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def _masked_mobile(match: re.Match[str]) -> str:
    digits = _digits(match.group(0))[-11:]
    return digits[:3] + "****" + digits[-4:]


def _masked_landline(match: re.Match[str]) -> str:
    digits = _digits(match.group(0))
    national = digits if digits.startswith("0") else "0" + digits.removeprefix("0086").removeprefix("86")
    area = national[:3] if national[1] in "12" else national[:4]   # 010, 02x: 3 digits; else 4
    return area + "-****" + national[-4:]


def mask_phone(phone: str | None) -> str | None:
    """'+8613812345678' -> '138****5678'; keeps only enough to recognise one's own number."""
    if not phone:
        return phone
    digits = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
    if len(digits) <= 4:
        return "*" * len(digits)
    keep = 3 if len(digits) >= 10 else 2
    return digits[:keep] + "*" * (len(digits) - keep - 4) + digits[-4:]


def mask_name(name: str | None) -> str | None:
    """'张三丰' -> '张**'; Latin names keep their first letter."""
    if not name:
        return name
    name = name.strip()
    return name[0] + "*" * max(1, len(name) - 1)


# The shortest number masked has 10 digits (a landline: 0, area code, number); a text with
# fewer digits in all has none, and skips the three patterns, most of the cost of masking.
_FEWEST_DIGITS = 10
_DIGIT = re.compile(_D)


def mask_text(text: str, names: list[str] | None = None) -> str:
    """Mask ID numbers, phone numbers and the given names wherever they appear in free text."""
    if len(_DIGIT.findall(text)) >= _FEWEST_DIGITS:
        text = _ID_CARD.sub(_masked_id, text)
        text = _MOBILE.sub(_masked_mobile, text)
        text = _LANDLINE.sub(_masked_landline, text)
    for name in names or []:
        name = name.strip()
        if len(name) >= 2:
            text = text.replace(name, mask_name(name) or "")
    return text
