"""Files people bring are read as UTF-8 with or without a byte order mark; any other
encoding is refused in words naming the file."""
from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.errors import InvalidInput, Reason
from dispatch.text_files import decode_text, read_text_file
from web.messages import describe


def test_a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    path.write_text("2027-01-01 holiday 元旦\n", encoding="utf-8-sig")
    assert read_text_file(path) == "2027-01-01 holiday 元旦\n"


def test_a_gbk_file_is_refused_by_name_in_chinese() -> None:
    with pytest.raises(InvalidInput) as refused:
        decode_text("元旦".encode("gbk"), "h_gbk.txt")
    assert refused.value.reason is Reason.NOT_UTF8
    assert describe(refused.value).startswith("文件 h_gbk.txt 不是 UTF-8 编码的文本")
