"""What a reply to the citizen (办结 or 直接办结) must be: the result in words, not "好" or
"已办". Real 12345 centres send a one-word reply back as not substantive; here it is refused
before it is recorded, on every path that records one (page, staff API, knowledge base)."""
from __future__ import annotations

from dispatch.errors import InvalidInput, Reason

# HOTLINE_REPLY_MIN_CHARS' default: no one-keystroke reply ("好", "."); a city that wants the
# result in words sets its own (10 is one short sentence: 已更换路灯，现已亮起). The default is
# low on purpose: a stricter one would refuse the short replies (已处理) that systems and
# staff connected before the setting existed still send.
REPLY_MIN_CHARS = 2


def check_reply(reply: str, min_chars: int = REPLY_MIN_CHARS) -> str:
    """The reply, trimmed; InvalidInput when it is shorter than `min_chars` characters after
    trimming (whitespace around it counts for nothing)."""
    text = reply.strip()
    if len(text) < min_chars:
        raise InvalidInput("reply", Reason.REPLY_TOO_SHORT, limit=min_chars, length=len(text))
    return text
