"""Packages import only what docs/DESIGN.md allows: classifier <- dispatch <- callcenter, sms_gateway <- web."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"classifier", "dispatch", "callcenter", "sms_gateway", "web"}
ALLOWED = {
    "classifier": set(),
    "dispatch": {"classifier"},
    "callcenter": {"dispatch", "classifier"},
    "sms_gateway": {"dispatch", "classifier"},
    "web": {"dispatch", "classifier", "callcenter", "sms_gateway"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        wrong = imported_packages(path) - ALLOWED[package] - {package}
        if wrong:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(wrong)}")
    assert offenders == []
