"""What a text message asks for, read from its first word. Pure: no database, no I/O.

  查询 / CX [工单号] [查询码]     status query
  1 / 2 / 3 (满意 / 基本满意 / 不满意)   rating after the follow-up question (评价 1 too)
  评价                            how to rate (no complaint: the word alone asks nothing)
  TD / STOP / 退订 ...            opt out of notifications; START / KT / 订阅 opts back in
  补充 <text>                     add to the open ticket
  新诉求 <text>                   a new request even while one is open
  anything else                  a request (or an addition within the attach window)

The Chinese keywords are read in traditional characters too (查詢, 滿意, 退訂, 補充, 評價 ...).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from dispatch.vocabulary import Rating

OPT_OUT_WORDS = frozenset({"TD", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "T"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES", "KT", "订阅", "开通"})
QUERY_WORDS = ("查询", "CX")
RATINGS = {"1": Rating.SATISFIED, "2": Rating.PARTLY, "3": Rating.UNSATISFIED,
           "满意": Rating.SATISFIED, "基本满意": Rating.PARTLY, "不满意": Rating.UNSATISFIED}
ADD_WORD, NEW_WORD = "补充", "新诉求"
RATE_WORD = "评价"

# Traditional characters of the keywords above, read as their simplified forms (查詢, 滿意,
# 不滿意, 退訂, 訂閱, 開通, 補充, 新訴求, 評價): phones in Hong Kong and Taiwan, and some set to
# traditional input, send them. One character for one, so positions in the text stay put;
# only the keywords are read through it, the citizen's words are kept as written.
_SIMPLIFIED = str.maketrans("詢滿訂閱開補訴評價", "询满订阅开补诉评价")
_NUMBER = re.compile(r"(\d{8})-?(\d{4})")
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_TRIM = " \t\r\n,.;:!?，。；：！？、"


@dataclass(frozen=True)
class Request:
    """Free text for the intake."""

    text: str
    addition: bool = False
    force_new: bool = False


@dataclass(frozen=True)
class StatusQuery:
    number: str | None
    code: str | None


@dataclass(frozen=True)
class RatingReply:
    rating: Rating


@dataclass(frozen=True)
class RatingHelp:
    """评价 alone: the citizen wants to rate and does not know how."""


@dataclass(frozen=True)
class OptOut:
    word: str


@dataclass(frozen=True)
class OptIn:
    word: str


@dataclass(frozen=True)
class Empty:
    pass


Command = Request | StatusQuery | RatingReply | RatingHelp | OptOut | OptIn | Empty


def parse(body: str) -> Command:
    # NFKC folds full-width letters and digits (ＴＤ, １) that Chinese keyboards produce.
    text = unicodedata.normalize("NFKC", body or "").strip().translate(_SIMPLIFIED)
    if not text:
        return Empty()
    bare = text.strip(_TRIM)
    word = bare.upper()
    if word in OPT_OUT_WORDS:
        return OptOut(word)
    if word in OPT_IN_WORDS:
        return OptIn(word)
    if bare in RATINGS:
        return RatingReply(RATINGS[bare])
    if bare.startswith(RATE_WORD):
        rated = bare[len(RATE_WORD):].strip(_TRIM)
        if not rated:
            return RatingHelp()
        if rated in RATINGS:   # 评价 1, 评价：满意
            return RatingReply(RATINGS[rated])
    for prefix in QUERY_WORDS:
        if word.startswith(prefix):
            rest = bare[len(prefix):]
            if not rest or rest[0] in _TRIM or rest[0].isdigit():
                return _query(rest)
    # The request keeps the citizen's own characters: folding was only for reading commands.
    original = (body or "").strip().strip(_TRIM)
    for word, flag in ((ADD_WORD, "addition"), (NEW_WORD, "force_new")):
        rest = original[len(word):].strip(_TRIM) if original.translate(_SIMPLIFIED).startswith(word) else ""
        if rest:
            return Request(rest, **{flag: True})
    return Request((body or "").strip())


def _query(rest: str) -> StatusQuery:
    found = _NUMBER.search(rest)
    if found is None:
        return StatusQuery(number=None, code=None)
    number = f"{found.group(1)}-{found.group(2)}"
    code = _CODE.search(rest[found.end():])
    return StatusQuery(number=number, code=code.group(1) if code else None)
