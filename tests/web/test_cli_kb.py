"""`hotline kb import FILE` / `hotline kb export`: a city's base as JSON lines; a file with
bad lines is refused whole, each line named by number in Chinese; what is exported imports
back unchanged."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.demo import DEMO_KNOWLEDGE
from dispatch.models import KbArticle
from dispatch.units import import_units
from web.cli import main


@pytest.fixture
def run(database_url: str, sessions: sessionmaker[Session], city):  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        import_units(session, city)
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, list(args), env={"HOTLINE_DATABASE_URL": database_url}, catch_exceptions=False)

    return invoke


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count(KbArticle.id))) or 0


def test_bad_lines_are_named_by_number_and_nothing_is_stored(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                             sessions: sessionmaker[Session]) -> None:
    good = {"title": "停水怎么办", "body": "联系供水企业。", "keywords": ["停水"], "category": "城乡建设", "unit": "water",
            "public": True, "valid_until": None, "review_by": "2027-06-30"}
    lines = [json.dumps(good, ensure_ascii=False), '{"title": "缺正文", "unit": "water"}',
             json.dumps({**good, "title": "另一篇", "unit": "no-such-unit"}, ensure_ascii=False), "[1, 2]"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("kb", "import", str(bad))
    assert result.exit_code == 1
    assert "第 2 行：请填写正文。" in result.stderr
    assert "第 3 行：" in result.stderr and "no-such-unit" in result.stderr
    assert "第 4 行：这一行不是一个 JSON 对象" in result.stderr and "第 1 行" not in result.stderr
    assert "3 行有错误，未导入任何文章" in result.stderr
    assert _count(sessions) == 0


def test_the_demo_base_imports_exports_and_imports_back_unchanged(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                  sessions: sessionmaker[Session]) -> None:
    result = run("kb", "import", str(DEMO_KNOWLEDGE))
    assert result.exit_code == 0 and "新增 55 篇" in result.stdout
    exported = run("kb", "export").stdout
    assert len(exported.splitlines()) == 55 and all(json.loads(line)["unit"] for line in exported.splitlines())
    again = tmp_path / "again.jsonl"
    again.write_text(exported, encoding="utf-8")
    assert "未变 55 篇" in run("kb", "import", str(again)).stdout
    assert _count(sessions) == 55


def test_a_gbk_file_is_refused_in_chinese(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                          sessions: sessionmaker[Session]) -> None:
    article = {"title": "停水怎么办", "body": "联系供水企业。", "unit": "water"}
    gbk = tmp_path / "kb_gbk.jsonl"
    gbk.write_bytes(json.dumps(article, ensure_ascii=False).encode("gbk") + b"\n")
    result = run("kb", "import", str(gbk))
    assert result.exit_code == 1 and "文件 kb_gbk.jsonl 不是 UTF-8 编码的文本" in result.output
    assert _count(sessions) == 0
