"""Words the pages use for stored values."""
from __future__ import annotations

from web.pages.labels import actor_label


def test_the_audit_log_names_the_systems_own_actors_in_chinese() -> None:
    assert actor_label("system:chasing") == "系统（超期督办）"
    assert actor_label("system:follow-up") == "系统（回访到期关闭）"
    assert actor_label("cli:root") == "系统（命令行，root）"
    assert actor_label("citizen:web") == "市民（网站）"
    assert actor_label("wangfang") == "wangfang"   # a staff account: its own name
