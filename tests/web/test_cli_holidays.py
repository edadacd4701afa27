"""`hotline holidays`: the State Council's notice imported from a file, listed by year; a
file with a wrong line is refused whole, in Chinese."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.models import CalendarDay
from web.cli import main


@pytest.fixture
def run(database_url: str, sessions: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, list(args), env={"HOTLINE_DATABASE_URL": database_url}, catch_exceptions=False)

    return invoke


def test_a_notice_imported_from_a_file_is_listed_by_year(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                         sessions: sessionmaker[Session]) -> None:
    notice = tmp_path / "2027.txt"
    notice.write_text("# 2027 年节假日安排\n2027-01-01 holiday 元旦\n2027-02-06..2027-02-13 节假日 春节\n"
                      "2027-02-14 调休上班 春节\n", encoding="utf-8")
    dry = run("holidays", "import", str(notice), "--dry-run")
    assert dry.exit_code == 0 and "将新增 2027-02-14 调休上班 春节" in dry.stdout
    with sessions() as session:
        assert session.scalar(select(CalendarDay)) is None
    done = run("holidays", "import", str(notice))
    assert done.exit_code == 0 and done.stdout.count("新增") == 10
    listed = run("holidays", "list", "--year", "2027")
    assert listed.exit_code == 0 and "2027 年：已录入" in listed.stdout and "2027-02-14  周日  调休上班  春节" in listed.stdout
    as_json = json.loads(run("holidays", "list", "--year", "2027", "--json").stdout)
    assert as_json["basis"] == "entered" and len(as_json["days"]) == 10
    assert "已录入，跳过 10 天" in run("holidays", "import", str(notice)).stdout
    with sessions() as session:
        assert len(session.scalars(select(CalendarDay)).all()) == 10
        assert session.scalars(select(CalendarDay.set_by)).first().startswith("cli:")


def test_a_file_with_a_wrong_line_is_refused_whole_in_chinese(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                              sessions: sessionmaker[Session]) -> None:
    notice = tmp_path / "bad.txt"
    notice.write_text("2027-01-01 holiday 元旦\n2027-02-10 调休上班 春节\n", encoding="utf-8")
    refused = run("holidays", "import", str(notice))
    assert refused.exit_code == 1 and "第 2 行：2027-02-10 不是周六或周日" in refused.stderr
    with sessions() as session:
        assert session.scalar(select(CalendarDay)) is None
    weekends = run("holidays", "list", "--year", "2028")
    assert "2028 年的节假日尚未录入，期限按周末计算" in weekends.stdout


def test_a_notice_saved_with_a_bom_imports_and_a_gbk_one_is_refused_in_chinese(  # type: ignore[no-untyped-def]
        run, tmp_path: Path, sessions: sessionmaker[Session]) -> None:
    gbk = tmp_path / "h_gbk.txt"
    gbk.write_bytes("2027-01-01 holiday 元旦\n".encode("gbk"))
    refused = run("holidays", "import", str(gbk))
    assert refused.exit_code == 1 and "文件 h_gbk.txt 不是 UTF-8 编码的文本" in refused.output
    bom = tmp_path / "notepad.txt"
    bom.write_text("2027-01-01 holiday 元旦\n", encoding="utf-8-sig")
    done = run("holidays", "import", str(bom))
    assert done.exit_code == 0 and "新增 2027-01-01 节假日 元旦" in done.stdout
