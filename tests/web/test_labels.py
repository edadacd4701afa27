"""Words the pages use for stored values, and the rule that web/ writes its Chinese words in
its label modules only."""
from __future__ import annotations

from pathlib import Path

from dispatch.vocabulary import PART_ROLES_ZH
from tests.inline_words import chinese_constants
from web.pages.labels import ACTIONS_ZH, NOTICE_KINDS_ZH, actor_label

WEB = Path(__file__).resolve().parents[2] / "web"
# Where the Chinese words of the interface live.
LABEL_MODULES = {"messages.py", "pages/labels.py"}
# Modules whose Chinese is no interface word, and why.
GLOSSED = {
    "config.py": "settings' help: English, with the Chinese term it is about",
    "openapi.py": "the API's documentation, its status descriptions beside its English summaries",
    "metrics.py": "Prometheus HELP lines: English, with the Chinese term",
    "cli_follow_up.py": "command help: English, with the Chinese term",
    "cli_holidays.py": "command help: an example line of a holiday file",
    "cli_kb.py": "command help: English, with the Chinese term",
}


def _chinese_strings(path: Path) -> list[str]:
    return [f"{path.relative_to(WEB)}:{line}: {text[:40]!r}" for line, text in chinese_constants(path)]


def test_the_web_package_writes_its_chinese_words_in_the_label_modules_only() -> None:
    found = [line for path in sorted(WEB.rglob("*.py"))
             if (name := path.relative_to(WEB).as_posix()) not in LABEL_MODULES and name not in GLOSSED
             for line in _chinese_strings(path)]
    assert found == []


def test_the_audit_log_names_the_systems_own_actors_in_chinese() -> None:
    assert actor_label("system:chasing") == "系统（超期督办）"
    assert actor_label("system:follow-up") == "系统（回访到期关闭）"
    assert actor_label("cli:root") == "系统（命令行，root）"
    assert actor_label("citizen:web") == "市民（网站）"
    assert actor_label("wangfang") == "wangfang"   # a staff account: its own name


def test_a_forward_to_a_sub_unit_is_named_as_design_md_names_it_everywhere_in_the_interface() -> None:
    """DESIGN.md's word for a unit passing a ticket to its own sub-unit is 二次派单: the pages,
    messages and notices said 转派 too, one action under two names."""
    vocabulary = WEB.parent / "dispatch" / "vocabulary.py"
    texts = [(str(path.relative_to(WEB.parent)), text) for path in [*sorted(WEB.rglob("*.py")), vocabulary]
             for _, text in chinese_constants(path)]
    texts += [(str(path.relative_to(WEB.parent)), path.read_text(encoding="utf-8"))
              for folder in ("templates", "static") for path in sorted((WEB / folder).rglob("*"))
              if path.suffix in (".html", ".js")]
    assert [where for where, text in texts if "转派" in text] == []
    assert PART_ROLES_ZH["forward"] == NOTICE_KINDS_ZH["forwarded"] == ACTIONS_ZH["forward"] == "二次派单"
