"""The windows the second opinion reads, worked out by hand."""
from __future__ import annotations

from classifier.features import message_text
from classifier.text_windows import later_windows, title_part, windows

TITLE = "噪音扰民。噪音扰民。噪音扰民。"   # 15 characters: the first window holds 241 of the body


def test_the_title_part_is_found_at_the_start_of_the_text() -> None:
    assert title_part(message_text("噪音扰民", "楼下施工")) == TITLE
    assert title_part(message_text("施工。噪音", "楼下")) == "施工。噪音。" * 3   # a title with 。 in it
    assert title_part(message_text("", "楼下施工。楼上也吵。")) == ""
    assert title_part("") == ""


def test_a_short_text_has_one_window() -> None:
    text = message_text("噪音扰民", "楼下饭店油烟和噪音每天到半夜。" * 10)   # 165 characters
    assert windows(text) == [text]


def test_later_windows_repeat_the_title_and_go_on_where_the_last_stopped() -> None:
    body = "甲" * 300 + "乙" * 300 + "丙" * 20
    text = message_text("噪音扰民", body)
    assert len(text) == 635
    first, second, third = windows(text)
    assert first == text[:256] == TITLE + "甲" * 241
    assert second == TITLE + "甲" * 59 + "乙" * 182           # body[241:482]
    assert third == TITLE + "乙" * 118 + "丙" * 20            # body[482:620], 138 characters
    assert later_windows(text, titled=False) == ["甲" * 59 + "乙" * 197, "乙" * 103 + "丙" * 20]   # text[256:512], text[512:]


def test_a_last_piece_under_32_characters_is_left_out_and_at_most_four_windows_are_read() -> None:
    text = message_text("", "甲" * 256 + "乙" * 31)
    assert windows(text) == [text[:256]]
    text = message_text("", "甲" * 256 + "乙" * 32)
    assert windows(text) == [text[:256], "乙" * 32]
    text = message_text("", "字" * 5000)
    assert [len(w) for w in windows(text)] == [256, 256, 256, 256]
