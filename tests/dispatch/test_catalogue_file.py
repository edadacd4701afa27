"""The catalogue a city file names: its taxonomy CSV as Excel saves it reads, and a wrong
file or row is named (the CSV, the line) in Chinese; a level 1 left without a unit is told."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dispatch.catalogue_file import load_catalogue_file
from dispatch.errors import InvalidInput, Reason
from web.messages import describe

ROWS = "level1,level2,level3\n城乡建设,供水,停水\n城乡建设,供水,水质\n教育,学校,收费\n"


def _catalogue(tmp_path: Path, csv_bytes: bytes, mapping: dict | None = None) -> Path:  # type: ignore[type-arg]
    (tmp_path / "tax.csv").write_bytes(csv_bytes)
    path = tmp_path / "city_cat.json"
    path.write_text(json.dumps({"taxonomy": "tax.csv", **(mapping or {})}, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_csv_saved_by_excel_as_csv_utf8_reads_as_without_its_bom(tmp_path: Path) -> None:
    plain = load_catalogue_file(_catalogue(tmp_path, ROWS.encode("utf-8")))
    excel = load_catalogue_file(_catalogue(tmp_path, ROWS.replace("\n", "\r\n").encode("utf-8-sig")))
    assert excel.entries == plain.entries and [e.path for e in excel.entries][0] == "城乡建设 / 供水 / 停水"


@pytest.mark.parametrize("csv_bytes, reason, words", [
    (ROWS.encode("gbk"), Reason.NOT_UTF8, "文件 tax.csv 不是 UTF-8 编码的文本"),
    ("一级,二级,三级\n城乡建设,供水,停水\n".encode(), Reason.TAXONOMY_HEADER, "派单目录分类表 tax.csv 的第一行应为表头"),
    ((ROWS + "教育,学校\n").encode(), Reason.TAXONOMY_COLUMNS, "派单目录分类表 tax.csv 第 5 行应有 3 列，收到 2 列"),
    ((ROWS + "教育, ,收费\n").encode(), Reason.TAXONOMY_EMPTY_CELL, "派单目录分类表 tax.csv 第 5 行的 level2 是空的"),
], ids=["gbk", "no header", "two columns", "empty level 2"])
def test_a_wrong_csv_is_named_with_its_line(tmp_path: Path, csv_bytes: bytes, reason: Reason, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        load_catalogue_file(_catalogue(tmp_path, csv_bytes))
    assert refused.value.reason is reason and describe(refused.value).startswith(words), describe(refused.value)


def test_a_level_1_without_a_unit_is_counted_for_a_warning(tmp_path: Path) -> None:
    found = load_catalogue_file(_catalogue(tmp_path, ROWS.encode(), {"level1": {"城乡建设": {"unit": "water"}}}))
    assert found.without_unit() == {"教育": 1}
    mapped = load_catalogue_file(_catalogue(tmp_path, ROWS.encode(), {"level1": {"城乡建设": {"unit": "water"}},
                                                                       "level2": {"教育/学校": {"local": True}}}))
    assert mapped.without_unit() == {}
