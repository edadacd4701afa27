"""The Chinese texts: what each change says, and that it fits an SMS."""
from __future__ import annotations

import datetime as dt

import pytest

from dispatch import notifications as texts
from dispatch.clock import CHINA, utcnow
from dispatch.models import Ticket, TicketEvent
from dispatch.notifications import Kind, notification_text, segments, wants_notification


def ticket(**fields: object) -> Ticket:
    values = dict(number="20261123-0042", query_code="123456", channel="web", phone="+8613812345678",
                  state="received", name="张三丰", reply=None, title="t", body="b",
                  deadline=dt.datetime(2026, 12, 7, 9, tzinfo=dt.timezone.utc))
    return Ticket(**(values | fields))


def test_segments_count_ucs2_for_chinese_and_gsm_for_latin() -> None:
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("字" * 70) == 1 and segments("字" * 71) == 2 and segments("字" * 134) == 2
    assert segments("字" * 135) == 3


def test_every_notification_fits_two_segments_even_with_long_names_and_replies() -> None:
    long_unit = "济源产城融合示范区城市管理综合执法局第三执法大队" * 4
    t = ticket(reply="经现场核查，" * 100 + "张三丰的问题已处理。")
    for kind in Kind:
        text = notification_text(kind, t, long_unit)
        assert text.startswith(texts.SIGNATURE) and segments(text) <= texts.MAX_SEGMENTS, (kind, text)
        assert "回复TD退订" in text


def test_the_resolved_text_asks_for_the_rating_and_masks_names() -> None:
    text = notification_text(Kind.RESOLVED, ticket(reply="张三丰反映的路灯已修复。"), "住建局")
    assert "张**反映的路灯已修复" in text and "1满意 2基本满意 3不满意" in text
    assert "。。" not in text and "已修复。请回复数字评价" in text   # the reply's own 。 is not doubled


def test_the_transferred_text_names_the_unit_and_the_deadline_in_china_time() -> None:
    assert "已转交住建局办理，办理时限12月7日" in notification_text(Kind.TRANSFERRED, ticket(), "住建局")


def test_the_extended_text_gives_the_new_deadline_in_china_time() -> None:
    text = notification_text(Kind.EXTENDED, ticket(), None)
    assert "办理时限延长至12月7日" in text and segments(text) <= 2


def test_which_events_notify() -> None:
    def kind(action: str, **fields: object) -> Kind | None:
        return wants_notification(ticket(**fields), TicketEvent(action=action))

    assert kind("receive") is Kind.RECEIVED
    assert kind("receive", channel="sms") is None  # the TwiML reply said it already
    assert kind("transfer") is Kind.TRANSFERRED and kind("resolve") is Kind.RESOLVED
    assert kind("reopen") is Kind.REOPENED
    assert kind("approve_extension") is Kind.EXTENDED and kind("refuse_extension") is None
    assert kind("accept") is None and kind("escalate") is None and kind("return") is None
    assert kind("transfer", phone=None) is None and kind("transfer", phone="+863916612345") is None
    assert kind("transfer", phone="+14155550100") is Kind.TRANSFERRED


def test_an_opt_out_is_told_the_chinese_word_to_opt_back_in() -> None:
    assert "回复“订阅”或START可重新订阅" in texts.REPLY_OPTED_OUT


def test_replies_fit_one_or_two_segments() -> None:
    for text in (texts.REPLY_NOT_FOUND, texts.REPLY_OPTED_OUT, texts.REPLY_OPTED_IN,
                 texts.reply_throttled(dt.timedelta(minutes=10)), texts.reply_rated(ticket(state="reopened"), "unsatisfied", "城" * 80),
                 texts.REPLY_EMPTY, texts.REPLY_INVALID, texts.reply_received(ticket()),
                 texts.reply_attached(ticket()), texts.reply_repeat(ticket())):
        assert segments(text) <= 2, text


# About 190 characters, its end (a window's address and a phone number) the part a cut loses.
LONG_REPLY = ("经我局执法人员现场核查，您反映的沁园路与济水大街交叉口东南角烧烤摊占道经营、油烟扰民问题属实。"
              "我局已当场责令摊主收起占道桌椅，并对其下达《责令限期改正通知书》，要求三日内加装油烟净化设备，"
              "逾期未改正将依法予以处罚。后续我局将安排夜间巡查，每周不少于三次，防止问题反弹。"
              "如需办理相关手续，请到市民之家二楼12号窗口，咨询电话0391-6633110。")


@pytest.mark.parametrize("kind", [Kind.RESOLVED, Kind.MAIN_RESOLVED])
def test_a_reply_cut_to_fit_says_where_to_read_the_rest_and_still_asks_for_the_rating(kind: Kind) -> None:
    assert len(LONG_REPLY) > 170
    text = notification_text(kind, ticket(reply=LONG_REPLY), "城市管理局")
    assert segments(text) <= texts.MAX_SEGMENTS, text
    assert "…（完整答复请凭工单号和查询码在网站查询）。请回复数字评价：1满意 2基本满意 3不满意。" in text, text
    assert text.index("经我局执法人员现场核查") < text.index("…（完整答复")


def test_a_cut_reply_names_the_status_page_when_the_deployment_knows_its_address() -> None:
    url = "https://12345.jiyuan.gov.cn/status"
    text = notification_text(Kind.RESOLVED, ticket(reply=LONG_REPLY), "城市管理局", status_url=url)
    assert segments(text) <= texts.MAX_SEGMENTS and "3不满意" in text, text
    assert f"…（完整答复请凭查询码到 {url} 查看）。请回复数字评价" in text, text
    # An address too long to leave room for any of the reply falls back to the words alone.
    text = notification_text(Kind.RESOLVED, ticket(reply=LONG_REPLY), "城市管理局", status_url=url + "/" + "x" * 150)
    assert segments(text) <= texts.MAX_SEGMENTS and "…（完整答复请凭工单号和查询码在网站查询）" in text, text


def test_a_reply_that_fits_is_sent_whole_without_a_pointer() -> None:
    text = notification_text(Kind.RESOLVED, ticket(reply="路灯已修复。"), "住建局", status_url="https://x.cn/status")
    assert "已办结：路灯已修复。请回复数字评价" in text and "完整答复" not in text


def test_the_citizens_sentences_are_in_the_vocabulary_not_written_inline() -> None:
    """Reviewed with the other sentences (dispatch/vocabulary.py): notifications.py fills
    them and writes no Chinese of its own (comments aside)."""
    from pathlib import Path

    from tests.inline_words import chinese_constants

    assert chinese_constants(Path(texts.__file__)) == []
    assert texts.REPLY_EMPTY == "【12345】请直接发送您要反映的问题，我们将为您登记受理。"


def test_a_deadline_in_another_year_is_texted_with_its_year() -> None:
    next_year = utcnow().astimezone(CHINA).year + 1
    deadline = dt.datetime(next_year, 3, 3, 9, tzinfo=dt.timezone.utc)
    assert f"办理时限延长至{next_year}年3月3日" in notification_text(Kind.EXTENDED, ticket(deadline=deadline), None)
    this_year = utcnow().replace(hour=4)   # noon in China: the same day and year there
    assert "延长至" + f"{this_year.month}月{this_year.day}日" in notification_text(
        Kind.EXTENDED, ticket(deadline=this_year), None)
