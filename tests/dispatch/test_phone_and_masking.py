"""Contact numbers are normalised at intake and masked on public views."""
from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import assume, given, settings, strategies as st

from dispatch.errors import InvalidInput
from dispatch.masking import mask_location, mask_name, mask_phone, mask_text
from dispatch.phone import national_form, normalise_phone


@pytest.mark.parametrize("raw, expected", [
    ("13812345678", "+8613812345678"),
    ("138 1234 5678", "+8613812345678"),
    ("+86 138-1234-5678", "+8613812345678"),
    ("008613812345678", "+8613812345678"),
    ("0391-6612345", "+863916612345"),
    ("(010) 12345678", "+861012345678"),
    ("+14155550100", "+14155550100"),
    ("１３８１２３４５６７８", "+8613812345678"),
    ("86 13812345678", "+8613812345678"),
    ("＋８６ １３８－１２３４－５６７８", "+8613812345678"),
    ("138.1234.5678", "+8613812345678"),
    ("(0391)6612346", "+863916612346"),
    ("（０３９１）６６１２３４６", "+863916612346"),
    ("+86 0391 6612346", "+863916612346"),
    ("٠٣٩١-٦٦١٢٣٤٦", "+863916612346"),
])
def test_numbers_are_normalised(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "1381234567", "23812345678", "abc", "+86 999", "138123456789",
                                 "861234", "8603916612346", "13803910114（微信同号）"])
def test_malformed_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_phone(raw)
    assert caught.value.field == "phone"


def test_national_form_is_what_people_dial() -> None:
    assert national_form("+8613812345678") == "13812345678"
    assert national_form("+863916612345") == "03916612345"
    assert national_form("+861012345678") == "01012345678"   # Beijing's area code starts with a 1 too


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


# ---- every common spelling of a number is masked (property-based) ----------------------

FULL_WIDTH = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")
# Zero-width space, soft hyphen, word joiner and BOM take no room on screen, however many.
SEPARATORS = ["", " ", "-", ".", "  ", " - ", "\u3000", "－", "．", "·", "\u200b", "\u00ad", "\u2060", "\ufeff",
              "\u200b" * 5, "，", "、", ",", "~", "～", "*", "＊", "\u200b，"]
# Where each script's zero is: ASCII, Arabic-Indic, Devanagari, mathematical bold and monospace.
ZEROS = [0x30, 0x660, 0x966, 0x1D7CE, 0x1D7F6]
AROUND = st.text(alphabet="我家住在济水大街路灯坏了请尽快处理谢谢，。！", max_size=12)


def _spell(groups: list[str], separator: str, full_width: bool, zero: int = 0x30) -> str:
    text = separator.join(groups)
    if full_width:
        return text.translate(FULL_WIDTH)
    return text.translate({ord(d): zero + int(d) for d in "0123456789"})


def _digit_runs_survive(original: str, masked: str, run: int = 5) -> bool:
    """Whether `run` consecutive digits of the original are still readable in the output
    (separators dropped; a masking star breaks a run)."""
    kept = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ("*" if ch == "*" else "")
                   for ch in unicodedata.normalize("NFKC", masked))
    return any(original[i:i + run] in kept for i in range(len(original) - run + 1))


mobiles = st.builds(lambda second, rest: "1" + second + rest, st.sampled_from("3456789"),
                    st.text(alphabet="0123456789", min_size=9, max_size=9))
groupings = st.sampled_from([(3, 4, 4), (3, 8), (4, 4, 3), (3, 3, 5), (11,), (1, 10), (2, 3, 3, 3)])


def _grouped(digits: str, grouping: tuple[int, ...]) -> list[str]:
    groups, at = [], 0
    for size in grouping:
        groups.append(digits[at:at + size])
        at += size
    return groups


@settings(max_examples=300, deadline=None)
@given(mobile=mobiles, grouping=groupings, separator=st.sampled_from(SEPARATORS), full_width=st.booleans(),
       zero=st.sampled_from(ZEROS), prefix=st.sampled_from(["", "+86", "+86 ", "0086", "86-", "＋86 "]),
       before=AROUND, after=AROUND)
def test_no_spelling_of_a_mobile_survives(mobile: str, grouping: tuple[int, ...], separator: str,
                                          full_width: bool, zero: int, prefix: str, before: str, after: str) -> None:
    spelled = prefix + _spell(_grouped(mobile, grouping), separator, full_width, zero)
    masked = mask_text(before + spelled + after)
    assert not _digit_runs_survive(mobile, masked), (spelled, masked)
    assert masked.startswith(before) and masked.endswith(after)


ids = st.builds(lambda area, birth, seq, check: area + birth + seq + check,
                # An area code (its first two digits a province's, 11 to 82): none starts with 0.
                st.integers(110000, 829999).map(str),
                st.dates().map(lambda d: d.strftime("%Y%m%d").zfill(8)),
                st.text(alphabet="0123456789", min_size=3, max_size=3), st.sampled_from("0123456789Xx"))


@settings(max_examples=300, deadline=None)
@given(number=ids, grouping=st.sampled_from([(6, 8, 4), (6, 4, 4, 4), (4, 4, 4, 4, 2), (18,), (3, 3, 4, 4, 4)]),
       separator=st.sampled_from(SEPARATORS), full_width=st.booleans(), zero=st.sampled_from(ZEROS),
       before=AROUND, after=AROUND)
def test_no_spelling_of_an_id_number_survives(number: str, grouping: tuple[int, ...], separator: str,
                                              full_width: bool, zero: int, before: str, after: str) -> None:
    spelled = _spell(_grouped(number, grouping), separator, full_width, zero)
    masked = mask_text(before + spelled + after)
    assert not _digit_runs_survive(number[:17], masked), (spelled, masked)


landlines = st.builds(lambda area, local: (area, local),
                      st.sampled_from(["010", "021", "0391", "0371", "0755"]),
                      st.builds(lambda first, rest: first + rest, st.sampled_from("23456789"),
                                st.text(alphabet="0123456789", min_size=6, max_size=7)))
cards = st.builds(lambda first, rest: first + rest, st.sampled_from("345669"),
                  st.sampled_from([15, 16, 18]).flatmap(
                      lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)))


@settings(max_examples=300, deadline=None)
@given(number=landlines, split_local=st.booleans(), separator=st.sampled_from(SEPARATORS),
       full_width=st.booleans(), zero=st.sampled_from(ZEROS), international=st.booleans(), before=AROUND,
       after=AROUND)
def test_no_spelling_of_a_landline_survives(number: tuple[str, str], split_local: bool, separator: str,
                                            full_width: bool, zero: int, international: bool, before: str,
                                            after: str) -> None:
    area, local = number
    groups = [area, local[:4], local[4:]] if split_local else [area, local]
    if international:
        groups = ["+86", area[1:], *groups[1:]]
    spelled = _spell(groups, separator, full_width, zero)
    masked = mask_text(before + spelled + after)
    assert not _digit_runs_survive(local, masked), (spelled, masked)


# Landlines as people space them, the country code written every way: +86 21 1234567 is
# 021-1234567 (Shanghai's two-digit area code), and so are +86 021 ..., +86 (0)21 ..., 0086 ...
@pytest.mark.parametrize("written, masked", [
    ("电话+86 21 1234567", "电话021-****4567"), ("+86 21 6123 4567", "021-****4567"),
    ("+86 021 1234567", "021-****4567"), ("+86 (0)21 1234 5678", "021-****5678"), ("0086 21 1234567", "021-****4567"),
    ("86 21 1234567", "021-****4567"), ("+86 10 8765 4321", "010-****4321"), ("+86 391 661 2345", "0391-****2345"),
    ("0086 391 6612345", "0391-****2345"), ("021 123 4567", "021-****4567"),
    ("0086-010-12345678", "010-****5678"), ("0086 371 12345678", "0371-****5678"), ("0086 0371 1234567", "0371-****4567"),
    ("008601012345678", "010-****5678"), ("0086 0371 12345678", "0371-****5678"),
    ("+86\u300021\u30001234567，3号楼", "021-****4567，3号楼"),
])
def test_a_spaced_landline_is_masked_to_its_area_code_and_last_four(written: str, masked: str) -> None:
    assert mask_text(written) == masked
    assert mask_text(f"sms.sent sid=SM9f3c13800138000ab17e2d4c5f60a1b2 to={written}", keep_identifiers=True) == (
        f"sms.sent sid=SM9f3c13800138000ab17e2d4c5f60a1b2 to={masked}")


@settings(max_examples=300, deadline=None)
@given(area=st.sampled_from(["10", "20", "21", "22", "23", "24", "25", "27", "28", "29", "391", "371", "755", "571"]),
       local=st.builds(lambda first, rest: first + rest, st.sampled_from("23456789"),
                       st.text(alphabet="0123456789", min_size=6, max_size=7)),
       prefix=st.sampled_from(["0", "+86 ", "+86", "0086 ", "86 ", "+86 0", "+86 (0)", "＋86 ", "+86-"]),
       separator=st.sampled_from([" ", "  ", "\u3000", "\u00a0", " - ", "-", ".", ""]), split=st.integers(2, 5),
       keep_identifiers=st.booleans(), before=AROUND, after=AROUND)
def test_no_spacing_of_a_landline_with_its_country_code_survives(area: str, local: str, prefix: str, separator: str,
                                                                 split: int, keep_identifiers: bool, before: str,
                                                                 after: str) -> None:
    spelled = prefix + area + separator + local[:split] + separator + local[split:]
    masked = mask_text(before + spelled + after, keep_identifiers=keep_identifiers)
    assert not _digit_runs_survive(local, masked), (spelled, masked)
    # 0086 and 11 digits are an old ID's 15, but no ID starts with 00: a landline still.
    assert masked == before + f"0{area}-****{local[-4:]}" + after, (spelled, masked)


def test_the_board_and_the_public_view_mask_a_dotted_mobile(session) -> None:  # type: ignore[no-untyped-def]
    from dispatch.public import public_view
    from tests.dispatch.helpers import new_ticket

    ticket = new_ticket(session, body="路灯坏了，联系我１３８.００１３.８０００或0391 1234 5678，身份证410881 19900101 123X")
    view = public_view(session, ticket)
    assert "138****8000" in view["body"] and "0391-****5678" in view["body"]
    assert not _digit_runs_survive("13800138000", view["body"]) and "19900101" not in view["body"]


def test_the_shortest_landline_is_masked_and_short_numbers_are_left_alone() -> None:
    """Texts with fewer than ten digits skip the patterns: the shortest number masked, a
    3-digit area code and a 7-digit number, has exactly ten."""
    assert mask_text("电话010-1234567，3号楼") == "电话010-****4567，3号楼"
    assert mask_text("电话０１０１２３４５６７") == "电话010-****4567"
    assert mask_text("门牌 12 号 3 单元 401 室，张三") == "门牌 12 号 3 单元 401 室，张三"
    assert mask_text("门牌 12 号，张三", ["张三"]) == "门牌 12 号，张*"


@pytest.mark.parametrize("text, masked", [
    ("座机(0391)6612346，白天打", "座机(0391)****2346，白天打"),
    ("座机（0391）6612346。", "座机（0391）****2346。"),
    ("座机(010) 12345678", "座机(010)****5678"),
    ("座机(0391-6612346)", "座机(0391-****2346)"),   # the bracket around the whole number stays too
    ("座机0391-6612346", "座机0391-****2346"),
])
def test_a_bracketed_area_code_keeps_its_brackets(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize("separator", ["\u200b", "\u00ad", "\u2060", "\ufeff", "\u200b" * 4, "，", "、", "~", "*"])
def test_a_mobile_split_by_invisible_characters_or_chinese_commas_is_masked(separator: str) -> None:
    assert mask_text(f"电话139{separator}1234{separator}5678。") == "电话139****5678。"


@pytest.mark.parametrize("digits", ["１３９１２３４５６７８", "١٣٩١٢٣٤٥٦٧٨", "۱۳۹۱۲۳۴۵۶۷۸", "𝟏𝟑𝟗𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖",
                                    "1\ufe0f\u20e33\ufe0f\u20e39\ufe0f\u20e312345678"])
def test_a_mobile_in_other_digits_is_masked(digits: str) -> None:
    assert mask_text(f"电话{digits}") == "电话139****5678"


def test_numbers_in_a_row_are_masked_each_as_itself() -> None:
    masked = mask_text("139\u200b1234\u200b5678 139，1234，5678 139、1234、5678 410881\u200b19900101\u200b1234")
    assert masked == "139****5678 139****5678 139****5678 410***********1234"
    assert mask_text("13912345678 139 1234 5678") == "139****5678 139****5678"
    # Two landlines joined by a Chinese comma are two landlines, not an old ID across the comma.
    assert mask_text("请拨0391-6612345、0391-6612346") == "请拨0391-****2345、0391-****2346"
    assert mask_text("回电0391-6612345，13812345678") == "回电0391-****2345，138****5678"
    # Or by a single space: no ID starts with 0, so the second is not left in sight.
    assert mask_text("请拨0391-6612345 0391-6612346") == "请拨0391-****2345 0391-****2346"
    assert mask_text("座机03916612345 03916612346") == "座机0391-****2345 0391-****2346"


@pytest.mark.parametrize("text", ["工单20261101-0001，20261101-0002、20261101-0003", "2026-11-01至2026-11-30",
                                  "工单20261207-0152、20261207-0153已合并", "20261207-0152，20261207-0153",
                                  "2026-11-01~2026-11-30", "2026.11.01 2026.11.02 2026.11.03", "2026/1/5，2026/12/31",
                                  "金额 1,380,000,000.00 元", "第1、2、3、4、5、6、7、8、9、10期", "3~5号楼，13~15号楼",
                                  "订单86-20261207 于 2026-12-07 08:30", "共86 021 件，金额 86 0.50 元"])
def test_dates_amounts_and_ticket_numbers_stay_as_written(text: str) -> None:
    assert mask_text(text) == text


# ---- amounts of money stay as written -------------------------------------------------------

@pytest.mark.parametrize("text", ["金额6,222,021,234,567.00元", "6,222,021,234,567.00", "共1,234,567.00元", "12,345元",
                                  "100,000,000,000,000块", "12345678901234.5万元", "退款622202123456789元",
                                  "6222021234567890元", "合计123,456,789,012,345,678.90", "１，２３４，５６７，８９０，１２３．４５元",
                                  "1,234.00、2,345,678,901,234.00元", "金额 6,222,021,234,567.00 元，另 8,765,432,109,876.50 元",
                                  "6222021234567890.00"])
def test_an_amount_is_no_id_or_card_number(text: str) -> None:
    assert mask_text(text) == text
    assert mask_text(text, keep_identifiers=True) == text


@pytest.mark.parametrize("text, masked", [
    ("身份证410881199001011234，金额6,222,021,234,567.00元", "身份证410***********1234，金额6,222,021,234,567.00元"),
    ("410881199001011234 1,234.00元", "410***********1234 1,234.00元"),
    ("卡号6222021234567890123，退款1,234,567.00元", "卡号6222***********0123，退款1,234,567.00元"),
    ("电话13812345678，欠费12,345元", "电话138****5678，欠费12,345元"),
    ("座机0391-6612345，1,234.50元", "座机0391-****2345，1,234.50元"),
    # Digits that read as a phone number are one, whatever follows them.
    ("13,812,345,678", "138****5678"), ("13812345678元", "138****5678元"), ("139，1234，5678.00", "139****5678.00"),
    ("13812345678 1,234.00元", "138****5678 1,234.00元"), ("4100．0020．0001．1000．00", "410***********0000"),
])
def test_numbers_beside_an_amount_are_still_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def _thousands(whole: int) -> str:
    return f"{whole:,}"


amounts = st.builds(lambda whole, grouped, fraction, unit: (_thousands(whole) if grouped else str(whole)) + fraction + unit,
                    st.one_of(st.integers(0, 10**6), st.integers(10**12, 10**19)), st.booleans(),
                    st.sampled_from(["", ".5", ".00", ".12"]), st.sampled_from(["", "元", " 元", "万元", "块", "亿元"]))


def _reads_as_a_phone(amount: str) -> bool:
    """Whether the amount's digits, or its whole number's, are a mobile or a landline (with 86
    before it or not), which are masked however written."""
    whole, _, fraction = amount.rstrip(" 万亿元块").replace(",", "").partition(".")
    return any(re.fullmatch("1[3-9][0-9]{9}|(?:860?|0)[1-9][0-9]{8,10}", digits) for digits in (whole, whole + fraction))


@settings(max_examples=300, deadline=None)
@given(amount=amounts, full_width=st.booleans(), keep_identifiers=st.booleans(), before=AROUND, after=AROUND)
def test_no_amount_with_separators_decimals_or_a_currency_word_is_masked(amount: str, full_width: bool,
                                                                        keep_identifiers: bool, before: str,
                                                                        after: str) -> None:
    assume(("," in amount or "." in amount or amount[-1] in "元块") and not _reads_as_a_phone(amount))
    if full_width:
        amount = amount.translate(str.maketrans("0123456789,.", "０１２３４５６７８９，．"))
    assert mask_text(before + amount + after, keep_identifiers=keep_identifiers) == before + amount + after


@settings(max_examples=300, deadline=None)
@given(amount=amounts, number=st.one_of(ids, mobiles, cards), separator=st.sampled_from(["，", "、", "，金额", " 合计 "]),
       first=st.booleans())
def test_a_number_beside_an_amount_is_masked_and_the_amount_kept(amount: str, number: str, separator: str,
                                                                 first: bool) -> None:
    assume(("," in amount or "." in amount or amount[-1] in "元块") and not _reads_as_a_phone(amount))
    # 1,000，13000000000 may be an old ID of 15 digits split by commas: masked whole.
    assume(first or "." in amount or amount[-1] in "元块" or separator not in ("，", "、"))
    text = f"{number}{separator}{amount}" if first else f"{amount}{separator}{number}"
    masked = mask_text(text)
    assert amount in masked and not _digit_runs_survive(number[:17], masked.replace(amount, "")), (text, masked)


def test_a_long_row_of_amounts_is_kept_quickly_and_a_number_after_it_masked() -> None:
    import time

    started = time.process_time()
    masked = mask_text("1,234.00 " * 2000 + "138.00 1380 00")
    assert time.process_time() - started < 2
    assert masked == "1,234.00 " * 2000 + "138****8000"


# ---- a run of separators reads as one --------------------------------------------------------

@pytest.mark.parametrize("text, masked", [
    ("座机0391 -  - 6612345", "座机0391-****2345"), ("座机0391 - - - 6612345", "座机0391-****2345"),
    ("座机010 -  -  - 12345678", "座机010-****5678"), ("0391\u3000－\u3000－\u3000－\u30006612345", "0391-****2345"),
    ("0391 ---------- 6612345。", "0391-****2345。"), ("电话138 - - - 1234 - - - 5678", "电话138****5678"),
    ("卡号6222 - - - 0212 - - - 3456 - - - 7890 123", "卡号6222***********0123"),
    # Numbers listed with 、 ， or words, however spaced, are masked each as itself.
    ("0391 - - - 6612345 、 0391 - - - 6612346", "0391-****2345 、 0391-****2346"),
    ("0391 - - - 6612345和0391 - - - 6612346", "0391-****2345和0391-****2346"),
    ("0391-6612345     0391-6612346", "0391-****2345     0391-****2346"),
    ("0391-6612345    ，    13812345678", "0391-****2345    ，    138****5678"),
    ("0391 -  - 6612345、0391 -  - 6612346", "0391-****2345、0391-****2346"),
    ("0391 - - - 6612345     0391 - - - 6612346", "0391-****2345     0391-****2346"),
])
def test_a_run_of_separators_between_groups_reads_as_one(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@settings(max_examples=300, deadline=None)
@given(number=landlines, run=st.lists(st.sampled_from([" ", "-", "\u3000", "－", " - ", "．", "—"]), min_size=1, max_size=5),
       international=st.booleans(), before=AROUND, after=AROUND)
def test_no_run_of_separators_after_the_area_code_keeps_a_landline_in_sight(number: tuple[str, str], run: list[str],
                                                                           international: bool, before: str,
                                                                           after: str) -> None:
    area, local = number
    gap = "".join(run)
    assume(len(gap) <= 16)
    spelled = ("+86 " + area[1:] if international else area) + gap + local
    masked = mask_text(before + spelled + after)
    assert masked == before + f"{area}-****{local[-4:]}" + after, (spelled, masked)


def test_a_number_beside_a_date_is_masked_and_the_date_kept() -> None:
    assert mask_text("2026-11-01来电13812345678") == "2026-11-01来电138****5678"


@pytest.mark.parametrize("written", ["身份证410881 1990-01-01 1234", "410881-1990-01-01-1234", "410881 1990.01.01 1234",
                                     "410881 1990 01 01 1234", "4108811990-01-011234"])
def test_an_id_written_with_its_birth_date_apart_is_masked_whole(written: str) -> None:
    """Dates are kept as written, but not the birth date inside an ID number."""
    masked = mask_text(written)
    assert "410***********1234" in masked and "1990" not in masked


# ---- log lines keep machines' identifiers whole --------------------------------------------

# Real-looking ids whose digits read like a mobile, an ID number or a landline: Twilio message
# SIDs (SM + 32 hex), Alibaba Cloud's BizId (digits^digits), uuids (Alibaba's RequestId is an
# upper-case one), a 32-hex request id, Asterisk's Uniqueid (epoch seconds . sequence: the
# demo's PBX logs read call_id=179****4601 for 1796178460.1).
IDENTIFIERS = ["1796178460.1", "1796178460.12", "SM9f3c13800138000ab17e2d4c5f60a1b2", "SMa1b2c3d4e5fa13912345678bcdef0123",
               "MMab410881199001011234cdef0a1b2c3d", "900619746936498440^0", "134523013800138000^4351232",
               "123e4567-e89b-12d3-a456-013800138000", "5f1c3b20-4108-8119-9001-011234567890",
               "F655A8D5-B967-440B-8683-013912345678", "0af7e5b9a13912345678eb211c80319c"]


@pytest.mark.parametrize("identifier", IDENTIFIERS)
def test_a_log_line_keeps_an_identifier_whose_digits_look_like_a_number(identifier: str) -> None:
    for line in (identifier, f"sms.sent sid={identifier} status=queued", f'{{"sid": "{identifier}"}}',
                 f"短信已发送，回执{identifier}，状态正常", f"GET /Messages/{identifier}.json"):
        assert mask_text(line, keep_identifiers=True) == line


hex_ids = st.lists(st.sampled_from("0123456789" * 4 + "abcdef"), min_size=32, max_size=32).map("".join)
log_contexts = st.sampled_from([("", ""), ("来电", "，已受理"), ("tel:", ""), ("tel:+86", ";"), ("phone=", " "),
                                ('{"phone": "', '"}'), ("caller=", ","), ("市民电话：", "。")])


@settings(max_examples=300, deadline=None)
@given(sid=hex_ids, uuid=st.uuids(), biz=st.tuples(st.integers(10**5, 10**20), st.integers(0, 10**7)))
def test_no_twilio_sid_uuid_or_bizid_is_rewritten_in_a_log_line(sid: str, uuid: object, biz: tuple[int, int]) -> None:
    line = f"sms.receipt sid=SM{sid} request_id={uuid} upper={str(uuid).upper()} biz_id={biz[0]}^{biz[1]}"
    assert mask_text(line, keep_identifiers=True) == line


@settings(max_examples=300, deadline=None)
@given(mobile=mobiles, grouping=groupings, separator=st.sampled_from(["", " ", "-", " - "]), context=log_contexts,
       sid=hex_ids)
def test_a_mobile_in_a_log_line_is_masked_beside_an_identifier(mobile: str, grouping: tuple[int, ...], separator: str,
                                                               context: tuple[str, str], sid: str) -> None:
    before, after = context
    line = f"sms.sent sid=SM{sid} {before}{separator.join(_grouped(mobile, grouping))}{after}"
    masked = mask_text(line, keep_identifiers=True)
    assert f"sid=SM{sid} " in masked and not _digit_runs_survive(mobile, masked.replace(sid, "")), (line, masked)


@settings(max_examples=200, deadline=None)
@given(number=ids, grouping=st.sampled_from([(6, 8, 4), (18,), (6, 4, 4, 4)]), separator=st.sampled_from(["", " ", "-"]),
       context=st.sampled_from([("", ""), ("身份证", "，"), ("id=", " "), ('{"id_card": "', '"}'), ("证件号码：", "。")]))
def test_an_id_number_in_a_log_line_is_masked(number: str, grouping: tuple[int, ...], separator: str,
                                              context: tuple[str, str]) -> None:
    before, after = context
    masked = mask_text(f"{before}{separator.join(_grouped(number, grouping))}{after}", keep_identifiers=True)
    assert not _digit_runs_survive(number[:17], masked), masked


def test_a_number_right_after_a_chinese_word_is_masked_in_a_log_line_with_identifiers() -> None:
    line = "短信回执 SM9f3c13800138000ab17e2d4c5f60a1b2 BizId 900619746936498440^0：市民来电13912345678，身份证41088119900101123X"
    assert mask_text(line, keep_identifiers=True) == (
        "短信回执 SM9f3c13800138000ab17e2d4c5f60a1b2 BizId 900619746936498440^0：市民来电139****5678，身份证410***********123X")


def test_public_text_masks_a_number_even_when_letters_are_glued_to_it() -> None:
    """What a citizen writes is no machine's identifier: their number glued to a word is theirs."""
    assert mask_text("加微信wx13812345678或QQ号") == "加微信wx138****5678或QQ号"


@pytest.mark.parametrize("own, written", [("+86211234567", "021-1234567"), ("+863916612345", "(0391)6612345"),
                                          ("+8613812345678", "138 1234 5678"), ("+8613812345678", "+86 138-1234-5678"),
                                          ("+86211234567", "+86 21 1234567"), ("+86211234567", "0086 21 1234567"),
                                          ("+862161234567", "+86 (0)21 6123 4567"), ("+863916612345", "+86 391 661 2345"),
                                          ("+86211234567", "86 21 1234567"), ("+861012345678", "0086-010-12345678"),
                                          ("+861012345678", "+86 10 1234 5678"), ("+8637112345678", "0086 371 12345678"),
                                          ("+863711234567", "0086 0371 1234567"), ("+861012345678", "010 - - - 12345678")])
def test_a_reply_to_the_citizen_masks_their_own_number_however_the_unit_wrote_it(own: str, written: str) -> None:
    from dispatch.masking import mask_reply_for_citizen

    shown = mask_reply_for_citizen(f"已联系您（{written}），如有疑问请拨打0391-6633110。", own_phone=own)
    assert "0391-6633110" in shown and "****" in shown and written not in shown, shown


# ---- names however the text spaces or cases them ------------------------------------------

@pytest.mark.parametrize("name, text, masked", [
    ("李四", "我是李 四，路灯坏了", "我是李*，路灯坏了"),
    ("李四", "我是李\u3000四", "我是李*"),
    ("李四", "我是李\u200b四", "我是李*"),
    ("司马光", "司马 光反映", "司**反映"),
    ("欧阳 修", "欧阳修来电", "欧**来电"),
    ("张三先生", "我是张三，张三先生的电话", "我是张*，张***的电话"),
    ("王芳女士", "王 芳来电", "王*来电"),
    ("刘师傅", "刘 师傅说", "刘**说"),   # the name field as written is still masked
    ("Li Lei", "LI LEI here, li lei too", "L***** here, l***** too"),
    ("Mr. Li Lei", "我是Li Lei", "我是L*****"),
])
def test_a_name_is_masked_however_the_text_spaces_or_cases_it(name: str, text: str, masked: str) -> None:
    assert mask_text(text, [name]) == masked


@pytest.mark.parametrize("name, text, masked", [
    ("张先生", "张 先生在张家口找张大爷", "张**在张家口找张大爷"),   # a lone surname is no name to mask
    ("王师傅", "王 师傅住王府井", "王**住王府井"),
    ("Li Lei", "LI LEI, not Li Leiming or Lily Lei", "L*****, not Li Leiming or Lily Lei"),   # a whole word only
])
def test_words_that_only_share_a_surname_or_a_start_stay(name: str, text: str, masked: str) -> None:
    assert mask_text(text, [name]) == masked


# ---- bank cards, e-mail addresses, mobiles in Chinese numerals -----------------------------

@pytest.mark.parametrize("text, masked", [
    ("卡号6222021234567890123，谢谢", "卡号6222***********0123，谢谢"),
    ("卡号6222 0212 3456 7890 123。", "卡号6222***********0123。"),
    ("卡号6222-0212-3456-7890", "卡号6222********7890"),
    ("卡号 6222\u30000212\u30003456\u30007890 1", "卡号 6222*********8901"),
    ("卡号６２２２０２１２３４５６７８９０", "卡号6222********7890"),
    ("卡号6\u200b222\u200b0212\u200b3456\u200b7890", "卡号6222********7890"),
    ("工行9558801234567890123", "工行9558***********0123"),
])
def test_a_bank_card_number_keeps_its_first_and_last_four_digits(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize("text", ["工单20261207-0152", "2026-11-01至2026-11-30", "2021 2022 2023 2024 2025",
                                  "金额 6,222,021,234.56 元", "订单号2026120715200001", "第1、2、3、4、5、6、7、8、9、10期"])
def test_ticket_numbers_dates_years_and_amounts_are_no_bank_card(text: str) -> None:
    assert mask_text(f"{text}，卡号6222021234567890123") == f"{text}，卡号6222***********0123"


def test_an_id_number_in_groups_of_four_is_still_masked_as_an_id() -> None:
    """18 digits are an ID number, 19 a card, however grouped."""
    assert mask_text("身份证4108 8119 9001 0112 34，卡号4108 8119 9001 0112 345") == (
        "身份证410***********1234，卡号4108***********2345")


@pytest.mark.parametrize("text, masked", [
    ("邮箱zhangwei@example.com，谢谢", "邮箱z***@example.com，谢谢"),
    ("发到 13812345678@qq.com 或 li.lei+hotline@mail.example.com.cn。", "发到 1***@qq.com 或 l***@mail.example.com.cn。"),
    ("邮箱zhangwei＠example.com", "邮箱z***＠example.com"),
])
def test_an_email_address_keeps_the_first_letter_of_its_local_part(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize("text, masked", [
    ("电话一三九零三九一零零零八，谢谢", "电话139****0008，谢谢"),
    ("电话幺三八〇〇一三八〇〇〇", "电话138****8000"),
    ("电话一三九 ○三九一 ○○○八", "电话139****0008"),
    ("电话139零三九一零零零八", "电话139****0008"),
])
def test_a_mobile_in_chinese_numerals_is_masked_like_one_in_digits(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize("text", ["一二三四五六七八九十", "三五成群，一五一十，七上八下，一三五七九", "一二三四五六七八九零一二"])
def test_counting_in_chinese_numerals_is_no_mobile(text: str) -> None:
    assert mask_text(f"{text}，电话一三九零三九一零零零八") == f"{text}，电话139****0008"


def test_a_log_line_keeps_identifiers_beside_a_card_number() -> None:
    line = "sms.sent sid=SM9f3c13800138000ab17e2d4c5f60a1b2 biz_id=900619746936498440^0 card=6222021234567890123"
    assert mask_text(line, keep_identifiers=True) == line.replace("6222021234567890123", "6222***********0123")


# ---- nothing masked comes back, and masking twice changes nothing (property-based) ----------

NAME_CHARACTERS = "张李王赵欧阳司马光明伟芳秀英"
GAPS = ["", " ", "\u3000", "  ", "\u200b", "\u00ad"]
NUMERALS = {"0": "零〇○", "1": "一幺", "2": "二两", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七", "8": "八", "9": "九"}
names = st.text(alphabet=NAME_CHARACTERS, min_size=2, max_size=4)


def _read_numerals(text: str) -> str:
    return text.translate({ord(numeral): digit for digit, numerals in NUMERALS.items() for numeral in numerals})


@settings(max_examples=300, deadline=None)
@given(name=names, honorific=st.sampled_from(["", "先生", "女士", "师傅", "阿姨"]),
       gaps=st.lists(st.sampled_from(GAPS), min_size=3, max_size=3), before=AROUND, after=AROUND)
def test_no_spacing_of_the_callers_name_survives_and_masking_twice_changes_nothing(
        name: str, honorific: str, gaps: list[str], before: str, after: str) -> None:
    written = "".join(ch + gap for ch, gap in zip(name, gaps + [""]))
    masked = mask_text(before + written + after, [name + honorific])
    assert name not in "".join(ch for ch in masked if ch not in "".join(GAPS)), (written, masked)
    assert mask_text(masked, [name + honorific]) == masked


@settings(max_examples=300, deadline=None)
@given(card=cards, grouped=st.booleans(), separator=st.sampled_from(["", " ", "-", "  ", " - ", "\u3000", "\u200b"]),
       full_width=st.booleans(), before=AROUND, after=AROUND)
def test_no_spelling_of_a_bank_card_survives_and_masking_twice_changes_nothing(
        card: str, grouped: bool, separator: str, full_width: bool, before: str, after: str) -> None:
    groups = [card[at:at + 4] for at in range(0, len(card), 4)] if grouped else [card]
    masked = mask_text(before + _spell(groups, separator, full_width) + after)
    assert not _digit_runs_survive(card, masked), (card, masked)
    assert masked.startswith(before) and masked.endswith(after)
    assert mask_text(masked) == masked


@settings(max_examples=300, deadline=None)
@given(mobile=mobiles, choices=st.lists(st.integers(0, 2), min_size=11, max_size=11),
       separator=st.sampled_from(["", " ", "\u3000"]), before=AROUND, after=AROUND)
def test_no_mobile_in_chinese_numerals_survives_and_masking_twice_changes_nothing(
        mobile: str, choices: list[int], separator: str, before: str, after: str) -> None:
    spoken = "".join(NUMERALS[d][i % len(NUMERALS[d])] for d, i in zip(mobile, choices))
    spelled = separator.join([spoken[:3], spoken[3:7], spoken[7:]])
    masked = mask_text(before + spelled + after)
    assert not _digit_runs_survive(mobile, _read_numerals(masked)), (spelled, masked)
    assert mask_text(masked) == masked


@settings(max_examples=200, deadline=None)
@given(local=st.from_regex(r"[a-z0-9][a-z0-9._+-]{1,15}", fullmatch=True),
       domain=st.sampled_from(["qq.com", "example.com.cn", "163.com"]), before=AROUND, after=AROUND)
def test_no_email_address_survives_and_masking_twice_changes_nothing(local: str, domain: str, before: str,
                                                                     after: str) -> None:
    masked = mask_text(f"{before}{local}@{domain}{after}")
    assert masked == f"{before}{local[0]}***@{domain}{after}"
    assert mask_text(masked) == masked


def test_a_reply_to_the_citizen_masks_a_card_number_and_keeps_the_number_to_call() -> None:
    from dispatch.masking import mask_reply_for_citizen

    shown = mask_reply_for_citizen("款项已退至6222 0212 3456 7890 123，如有疑问请拨打0391-6633110。",
                                   own_phone="+8613812345678")
    assert shown == "款项已退至6222***********0123，如有疑问请拨打0391-6633110。"


@pytest.mark.parametrize("location, shown", [
    ("济源市天坛街道天坛路（35.090400,112.602400）", "济源市天坛街道天坛路（35.090400,112.602400）"),
    ("35.090400,112.602400", "35.090400,112.602400"),
    ("-33.868800,-151.209300", "-33.868800,-151.209300"),
    ("电话13812345678，张三丰家门口（35.090400,112.602400）", "电话138****5678，张**家门口（35.090400,112.602400）"),
])
def test_the_point_the_system_writes_after_an_address_is_no_number(location: str, shown: str) -> None:
    assert mask_location(location, ["张三丰"]) == shown


@pytest.mark.parametrize("location, written, shown", [
    ("金水路12号院3（34.123456,113.123456）", "34.123456,113.123456", "金水路12号院3（34.123456,113.123456）"),
    ("3号楼2单元1801（34.746600,113.625300）", "34.746600,113.625300", "3号楼2单元1801（34.746600,113.625300）"),
    ("电话13812345678（35.090400,112.602400）", "35.090400,112.602400", "电话138****5678（35.090400,112.602400）"),
    ("35.090400,112.602400", "35.090400,112.602400", "35.090400,112.602400"),
    # Not the point the system wrote: read as the text says, as without `written`.
    ("金水路12号院3（34.123456,113.123456）", "34.123457,113.123456", mask_text("金水路12号院3（34.123456,113.123456）")),
    ("金水路12号院3（34.123456,113.123456）旁", "34.123456,113.123456", mask_text("金水路12号院3（34.123456,113.123456）旁")),
])
def test_the_point_the_system_wrote_stays_whole_after_a_digit(location: str, written: str, shown: str) -> None:
    assert mask_location(location, ["张三丰"], written=written) == shown


@pytest.mark.parametrize("location", [
    "天坛路1381234（5.678000,112.602400）",            # a mobile that runs on into the point
    "电话13812345678（35.090400,112.602400）",        # a number just before: masked as any text
    "天坛路1381234\u200b（5.678000,112.602400）",
    "（95.090400,112.602400）",                         # no latitude
    "天坛路（35.090400,112.602400",                     # not as the system writes it
    "天坛路（35.0904,112.6024）",
])
def test_a_number_that_only_looks_like_a_point_is_masked_as_any(location: str) -> None:
    assert mask_location(location) == mask_text(location) != location


# ---- numbers split by other punctuation, radio numerals, letters read as digits ------------

@pytest.mark.parametrize("separator", ["。", "：", "；", "|", "／", "'", "=", "→", "丨", "─", "｜", "＝", "｡"])
def test_a_mobile_split_by_a_full_stop_or_other_punctuation_is_masked(separator: str) -> None:
    assert mask_text(f"电话138{separator}0391{separator}0012，谢谢") == "电话138****0012，谢谢"
    assert mask_text(f"电话1{separator}3803910012。") == "电话138****0012。"


@pytest.mark.parametrize("text, masked", [
    ("身份证410881。19900101。1234，谢谢", "身份证410***********1234，谢谢"),
    ("身份证4108。8119。9001。0112。34", "身份证410***********1234"),
    ("卡号6222。0212。3456。7890。123", "卡号6222***********0123"),
    ("卡号6222。0212。3456。7890", "卡号6222********7890"),
])
def test_an_id_or_card_number_split_by_full_stops_is_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize("text, masked", [
    ("卡号6222021234567890123。2号楼", "卡号6222***********0123。2号楼"),
    ("电话0391-6612345。3号楼2单元", "电话0391-****2345。3号楼2单元"),
    ("座机0391-6612345；12号楼", "座机0391-****2345；12号楼"),
    ("电话13812345678。3号楼", "电话138****5678。3号楼"),
    ("身份证410881199001011234。5号", "身份证410***********1234。5号"),
])
def test_a_full_stop_ends_a_number_before_the_next_sentence(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize("text, masked", [
    ("卡号6222021234567890123 2号楼", "卡号6222***********0123 2号楼"),
    ("卡号6222 0212 3456 7890 123 5单元", "卡号6222***********0123 5单元"),
])
def test_a_card_number_before_a_lone_digit_is_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize("text", ["工单20261207-0152。20261207-0153已合并", "2026-11-01。2026-11-30", "金额1,234.00元。另2,345.00元",
                                  "第1。2。3。4。5。6。7。8。9。10期", "时间：2026-12-07 08：30：15", "评分：5；满意度：100",
                                  "济源市天坛路3号楼2单元401室。电话已留"])
def test_full_stops_and_colons_leave_dates_amounts_and_ticket_numbers_alone(text: str) -> None:
    assert mask_text(text) == text


@pytest.mark.parametrize("text, masked", [
    ("电话幺三八洞三九幺洞洞幺四", "电话138****0014"),
    ("电话幺三八零三九幺〇○幺四，谢谢", "电话138****0014，谢谢"),
    ("电话幺三八 洞三九幺 洞洞幺四", "电话138****0014"),
    ("电话幺三八洞三九拐洞洞勾四", "电话138****0094"),   # 拐 for 7, 勾 for 9, as radio operators say them
    ("电话1３8洞391洞0幺4", "电话138****0014"),
])
def test_a_mobile_spelled_as_radio_operators_say_it_is_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize("text", ["山洞里有水，洞口塌了", "前面路口拐弯，勾选同意", "幺洞洞拐：第一〇〇七号"])
def test_words_with_radio_numerals_are_no_mobile(text: str) -> None:
    assert mask_text(text) == text


@pytest.mark.parametrize("text, masked", [
    ("电话13８0391OO16，谢谢", "电话138****0016，谢谢"),
    ("电话138 0391 OO16", "电话138****0016"),
    ("电话138-O391-0016", "电话138****0016"),
    ("call me at 1380391OOI6 please", "call me at 138****0016 please"),
    ("hello1380391OO16", "hello138****0016"),
])
def test_a_mobile_with_letters_for_zeros_and_ones_is_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize("text", ["Hello World, OOO lll III oil pool", "型号 SOLO-1000 共 IOO 台", "房间 lOl、lO2、lO3",
                                  "COOL 2026 OIL 1380", "OOlIOOlI0000", "Room 1O1 to 1l2, floor 3", "iPhone 13 Pro 256GB",
                                  "电话l38O39lOOl6"])   # five digits in eleven: too few to read the letters as digits
def test_words_with_letters_o_l_and_i_are_no_mobile(text: str) -> None:
    assert mask_text(text) == text


def test_a_log_line_keeps_an_identifier_with_letters_o_and_l() -> None:
    line = "sms.sent sid=SMOl38O39lOOl6ab request=1380391OO16x"
    assert mask_text(line, keep_identifiers=True) == line


@settings(max_examples=300, deadline=None)
@given(mobile=mobiles, letters=st.lists(st.integers(0, 10), min_size=1, max_size=3, unique=True),
       separator=st.sampled_from(["", " ", "-", "。", "："]), before=AROUND, after=AROUND)
def test_no_mobile_with_a_few_letters_for_digits_survives(mobile: str, letters: list[int], separator: str,
                                                          before: str, after: str) -> None:
    spelled = "".join({"0": "O", "1": "l"}.get(d, d) if at in letters else d for at, d in enumerate(mobile))
    spelled = separator.join([spelled[:3], spelled[3:7], spelled[7:]])
    masked = mask_text(before + spelled + after)
    assert masked == before + mobile[:3] + "****" + mobile[-4:] + after, (spelled, masked)
    assert mask_text(masked) == masked


# ---- names in traditional characters, split, with a word of address, or reversed ----------

@pytest.mark.parametrize("name, text, masked", [
    ("欧阳娜娜", "我是歐陽娜娜，路灯坏了", "我是歐***，路灯坏了"),
    ("欧阳娜娜", "我是欧陽娜娜", "我是欧***"),                      # mixed
    ("歐陽娜娜", "我是欧阳娜娜", "我是欧***"),                      # the name field in traditional characters
    ("张发", "张髮来电，張發也来电", "张*来电，張*也来电"),
    ("欧阳娜娜", "我是欧阳-娜娜", "我是欧***"),
    ("欧阳娜娜", "我是欧阳·娜娜，欧阳‧娜娜，欧阳－娜娜，欧阳—娜娜", "我是欧***，欧***，欧***，欧***"),
    ("Li-Lei", "this is Li Lei", "this is L*****"),
])
def test_a_name_is_masked_in_traditional_characters_or_split_by_a_hyphen_or_a_dot(name: str, text: str,
                                                                                masked: str) -> None:
    assert mask_text(text, [name]) == masked
    assert mask_text(masked, [name]) == masked


@pytest.mark.parametrize("name, text, masked", [
    ("欧阳娜娜", "欧阳女士来电，请回复欧阳 女士", "欧***来电，请回复欧***"),
    ("欧阳娜娜女士", "联系欧阳女士", "联系欧***"),
    ("欧阳娜娜", "歐陽女士來電", "歐***來電"),
    ("张三", "张先生说张三的灯坏了，张老师知道", "张**说张*的灯坏了，张**知道"),
    ("司马光", "司马先生", "司***"),
    ("王芳", "王 师傅来修", "王**来修"),
])
def test_the_surname_with_a_word_of_address_is_masked(name: str, text: str, masked: str) -> None:
    assert mask_text(text, [name]) == masked
    assert mask_text(masked, [name]) == masked


@pytest.mark.parametrize("name, text", [
    ("张先生", "张家口的张大爷"),   # the name field is a surname alone: no name to go with it
    ("张三", "张家口，张大路"),     # a surname without a word of address is no one's name
])
def test_a_surname_alone_stays(name: str, text: str) -> None:
    assert mask_text(text, [name]) == text


@pytest.mark.parametrize("name, text, masked", [
    ("Zhang San", "This is San Zhang calling", "This is S******** calling"),
    ("Zhang San", "SAN ZHANG and san zhang", "S******** and s********"),
    ("Mr Zhang Sanfeng", "Sanfeng Zhang here", "S************ here"),
])
def test_a_latin_name_in_reversed_order_is_masked(name: str, text: str, masked: str) -> None:
    assert mask_text(text, [name]) == masked


@pytest.mark.parametrize("name, text", [("Zhang San", "Sandy Zhang, San Zhangjiakou, Zhang Sandra")])
def test_a_reversed_latin_name_is_masked_only_as_a_whole_word(name: str, text: str) -> None:
    assert mask_text(text, [name]) == text


def test_the_public_view_masks_the_leaks_found_in_the_walk_through(session) -> None:  # type: ignore[no-untyped-def]
    from dispatch.public import public_view
    from tests.dispatch.helpers import new_ticket

    ticket = new_ticket(session, name="欧阳娜娜", body="我是歐陽娜娜（欧阳女士），电话138。0391。0012，备用幺三八洞三九幺洞洞幺四，"
                        "或13８0391OO16，身份证410881。19900101。1234")
    body = public_view(session, ticket)["body"]
    for secret in ("歐陽娜娜", "欧阳女士", "0391。0012", "洞三九幺", "0391OO", "19900101"):
        assert secret not in body, body


def test_a_log_line_masks_a_mobile_in_numerals_glued_to_a_word() -> None:
    assert mask_text("sms.in text139零三九一零零零八", keep_identifiers=True) == "sms.in text139****0008"
