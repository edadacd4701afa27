"""Reading what a text asks for."""
from __future__ import annotations

import pytest

from dispatch.vocabulary import Rating
from sms_gateway.keywords import Empty, OptIn, OptOut, RatingReply, Request, StatusQuery, parse


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
])
def test_a_text_is_read_as(body: str, expected: object) -> None:
    assert parse(body) == expected
