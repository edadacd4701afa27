from __future__ import annotations

from pathlib import Path

import pytest

from classifier.dataset import Example, data_hash, read_examples
from classifier.errors import DatasetError


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_city_export_with_only_title_body_label_columns_is_read(tmp_path):
    path = _write(tmp_path / "city.csv", "title,body,label\n路灯不亮,小区门口路灯坏了一周,城乡建设\n,只有正文,环境保护\n")

    assert read_examples(path) == [
        Example("路灯不亮", "小区门口路灯坏了一周", "城乡建设"),
        Example("", "只有正文", "环境保护"),
    ]


def test_excel_export_with_bom_and_extra_columns_is_read(tmp_path):
    path = _write(tmp_path / "excel.csv", "编号,label,title,时间\n1,交通运输,公交站牌缺失,2024-01-01\n", "utf-8-sig")

    assert read_examples(path) == [Example("公交站牌缺失", "", "交通运输")]


def test_rows_without_text_or_label_are_skipped(tmp_path):
    path = _write(tmp_path / "gaps.csv", "title,body,label\n,,城乡建设\n有标题,,\n好,,卫生计生\n")

    assert [e.label for e in read_examples(path)] == ["卫生计生"]


def test_missing_label_column_gives_a_clear_error(tmp_path):
    path = _write(tmp_path / "nolabel.csv", "title,body,category\n路灯不亮,坏了,城乡建设\n")

    with pytest.raises(DatasetError) as caught:
        read_examples(path)

    assert caught.value.path == path
    assert caught.value.columns == ("title", "body", "category")
    assert "no 'label' column" in str(caught.value)


def test_an_empty_file_says_it_is_empty(tmp_path):
    for content in ("", "\n"):
        with pytest.raises(DatasetError, match="empty file"):
            read_examples(_write(tmp_path / "empty.csv", content))


def test_file_without_any_text_column_gives_a_clear_error(tmp_path):
    path = _write(tmp_path / "notext.csv", "id,label\n1,城乡建设\n")

    with pytest.raises(DatasetError, match="no text column"):
        read_examples(path)


def test_data_hash_follows_the_content(tmp_path):
    examples = [Example("a", "b", "x")]
    assert data_hash(examples) == data_hash([Example("a", "b", "x")])
    assert data_hash(examples) != data_hash([Example("ab", "", "x")])
    path = _write(tmp_path / "d.csv", "title,label\na,x\n")
    assert len(data_hash(path)) == 64
