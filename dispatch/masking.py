"""Masking of personal data on public views: phone numbers, ID-card numbers and names."""
from __future__ import annotations

import re

# 18-digit resident ID (last may be X) and the old 15-digit form.
_ID_CARD = re.compile(r"(?<!\d)(\d{6})(\d{8}|\d{6})(\d{3}[\dXx]|\d{1})(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?(\d{3,4})(\d{4})(?!\d)")


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


def mask_text(text: str, names: list[str] | None = None) -> str:
    """Mask ID numbers, phone numbers and the given names wherever they appear in free text."""
    text = _ID_CARD.sub(lambda m: m.group(1)[:3] + "*" * (len(m.group(0)) - 7) + m.group(0)[-4:], text)
    text = _MOBILE.sub(lambda m: m.group(2) + "****" + m.group(4), text)
    text = _LANDLINE.sub(lambda m: m.group(1) + "-****" + m.group(3), text)
    for name in names or []:
        name = name.strip()
        if len(name) >= 2:
            text = text.replace(name, mask_name(name) or "")
    return text
