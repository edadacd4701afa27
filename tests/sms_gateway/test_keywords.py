"""Reading what a text asks for."""
from __future__ import annotations

import pytest

from dispatch.vocabulary import Rating
from sms_gateway.keywords import Empty, OptIn, OptOut, RatingHelp, RatingReply, Request, StatusQuery, parse


@pytest.mark.parametrize("body, expected", [
    ("查询 20261123-0042", StatusQuery("20261123-0042", None)),
    ("查询20261123-0042 123456", StatusQuery("20261123-0042", "123456")),
    ("cx 202611230042", StatusQuery("20261123-0042", None)),
    ("ＣＸ　20261123-0042，查询码654321", StatusQuery("20261123-0042", "654321")),
    ("查询", StatusQuery(None, None)),
    ("1", RatingReply(Rating.SATISFIED)),
    ("２。", RatingReply(Rating.PARTLY)),
    (" 3 ", RatingReply(Rating.UNSATISFIED)),
    ("不满意", RatingReply(Rating.UNSATISFIED)),
    ("TD", OptOut("TD")),
    ("stop", OptOut("STOP")),
    ("退订", OptOut("退订")),
    ("START", OptIn("START")),
    ("", Empty()),
    ("   ", Empty()),
    ("补充：门牌号是12号", Request("门牌号是12号", addition=True)),
    ("新诉求 楼道灯不亮", Request("楼道灯不亮", force_new=True)),
    ("查询一下公积金怎么提取", Request("查询一下公积金怎么提取")),
    ("30路公交车绕行", Request("30路公交车绕行")),
    ("路灯坏了，晚上很黑。", Request("路灯坏了，晚上很黑。")),
    ("评价", RatingHelp()),
    (" 评价。", RatingHelp()),
    ("评价 1", RatingReply(Rating.SATISFIED)),
    ("评价：不满意", RatingReply(Rating.UNSATISFIED)),
    ("评价一下城管的执法态度，很粗暴", Request("评价一下城管的执法态度，很粗暴")),
])
def test_a_text_is_read_as(body: str, expected: object) -> None:
    assert parse(body) == expected


# Every keyword with a character whose traditional form differs, as phones set to
# traditional characters send it.
@pytest.mark.parametrize("body, expected", [
    ("查詢 20261207-0075", StatusQuery("20261207-0075", None)),
    ("查詢20261207-0075 123456", StatusQuery("20261207-0075", "123456")),
    ("查詢", StatusQuery(None, None)),
    ("滿意", RatingReply(Rating.SATISFIED)),
    ("基本滿意", RatingReply(Rating.PARTLY)),
    ("不滿意。", RatingReply(Rating.UNSATISFIED)),
    ("退訂", OptOut("退订")),
    ("訂閱", OptIn("订阅")),
    ("開通", OptIn("开通")),
    # The keyword is read folded; the citizen's words after it are kept as they wrote them.
    ("補充：燒烤店叫老王燒烤，晚上11點以後最吵", Request("燒烤店叫老王燒烤，晚上11點以後最吵", addition=True)),
    ("新訴求 樓道燈不亮", Request("樓道燈不亮", force_new=True)),
    ("查詢一下公積金怎麼提取", Request("查詢一下公積金怎麼提取")),
    ("滿意度調查太多了", Request("滿意度調查太多了")),
    ("評價", RatingHelp()),
    ("評價：滿意", RatingReply(Rating.SATISFIED)),
])
def test_a_keyword_in_traditional_characters_is_read_as_its_simplified_form(body: str, expected: object) -> None:
    assert parse(body) == expected
