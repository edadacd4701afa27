"""The hotline command as an administrator starts it, in a process of its own: short help,
quick start, quiet when there is nothing to migrate, one line for a bad database setting."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from web.config import SETTINGS

HEAVY = ("sklearn", "numpy", "scipy", "jieba", "rjieba", "starlette", "sqlalchemy", "alembic", "panoramisk",
         "twilio", "uvicorn", "jinja2")


def hotline(*args: str, database_url: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    environ.update({"HOTLINE_DATABASE_URL": database_url, "HOTLINE_NEW_PASSWORD": "correct horse", **env})
    return subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=120, check=False)


def test_help_lists_the_commands_briefly_and_leaves_the_settings_to_their_own_command(tmp_path: Path) -> None:
    result = hotline("--help", database_url="sqlite:///x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    commands = [line.split()[0] for line in lines[lines.index("Commands:") + 1:] if line.strip()]
    for name in ("serve", "db", "users", "units", "report", "settings", "sms-sim", "pbx-sim", "tokens"):
        assert name in commands
    assert lines.index("Commands:") < 12 and len(lines) < 35
    assert "HOTLINE_TWILIO" not in result.stdout and "HOTLINE_SECRET_KEY" not in result.stdout
    assert "hotline settings" in result.stdout


def test_settings_lists_every_setting_with_its_default(tmp_path: Path) -> None:
    result = hotline("settings", database_url="not a url", cwd=tmp_path, HOTLINE_SECRET_KEY="x")
    assert result.returncode == 0, result.stderr
    for spec in SETTINGS:
        assert spec.name in result.stdout
    assert "* HOTLINE_SECRET_KEY" in result.stdout and "x\n" not in result.stdout  # marked set, value unsaid


def test_help_loads_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    code = ("import sys\nfrom web.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.stderr.strip().splitlines()[-1] == "[]"


def test_a_schema_upgrade_is_announced_once_with_its_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    first = hotline("users", "add", "wang", "--role", "operator", database_url=url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "schema upgraded empty -> 00" in first.stderr
    second = hotline("users", "add", "zhao", "--role", "operator", database_url=url, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "schema upgraded" not in second.stderr + second.stdout
    assert "added zhao" in second.stdout


@pytest.mark.parametrize(("url", "says"), [
    ("foo", "不是数据库地址"),
    ("mysql://root:hunter2@db/hotline", "不支持的数据库 mysql"),
    ("sqlite:////nonexistent-folder/sub/hotline.db", "无法连接数据库"),
    ("postgresql://hotline:hunter2@127.0.0.1:9/hotline", "无法连接数据库"),
])
def test_a_bad_database_url_is_one_line_naming_the_setting(tmp_path: Path, url: str, says: str) -> None:
    result = hotline("report", database_url=url, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "HOTLINE_DATABASE_URL" in lines[0] and says in lines[0]
    assert "hunter2" not in lines[0] and "Traceback" not in result.stderr


def test_the_postgres_spelling_is_accepted(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    url = "postgres://" + database_url.split("://", 1)[1]
    result = hotline("db", "upgrade", database_url=url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "postgresql+psycopg://" in result.stdout
